// Two projects: fast unit tests (pure logic, run in parallel) and integration tests that boot real
// things (API server, QEMU) and therefore run in band. ESM-only dependencies (@kubernetes/client-node 1.x
// and its openid-client/oauth4webapi/jose chain) are transformed by ts-jest (allowJs) so jest's CommonJS
// runtime can load them.
const esmDeps = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];
const transform = {
  '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
};
const transformIgnorePatterns = [`/node_modules/(?!(${esmDeps.join('|')})/)`];
const common = {
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns,
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/lib/', '<rootDir>/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/scripts/jest-global-setup.js',
  globalTeardown: '<rootDir>/scripts/jest-global-teardown.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$', '/lib/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.int.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/lib/'],
    },
  ],
};

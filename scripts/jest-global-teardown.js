// Jest globalTeardown: removes the run's TMPDIR made by jest-global-setup.js (same process).
const { rmSync } = require('node:fs');

module.exports = () => {
  const dir = process.env.NEONVM_JEST_TMPDIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
};

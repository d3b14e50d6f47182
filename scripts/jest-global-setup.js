// Jest globalSetup: every test run gets its own TMPDIR, removed by jest-global-teardown.js, so temp
// files that libraries create and never remove (cdk8s's Testing.app() outdir, for one) do not pile up
// in /tmp. Workers start after globalSetup and inherit the variable. Kept short: unix socket paths
// under it must fit in 108 bytes.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = () => {
  const dir = mkdtempSync(join(tmpdir(), 'neonvm-jest-'));
  process.env.NEONVM_JEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};

#!/usr/bin/env node
// Adds up jest --json result files and prints one closing line CI can read:
//   tests: <passed> passed, <failed> failed, <skipped> skipped
// Exits non-zero when any test or suite failed (or a result file is missing: that run crashed).
'use strict';
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
let suiteFailures = 0;
for (const file of process.argv.slice(2)) {
  if (!fs.existsSync(file)) {
    console.error(`missing jest result file ${file} (the run crashed before writing it)`);
    suiteFailures += 1;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  suiteFailures += r.numRuntimeErrorTestSuites;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || suiteFailures > 0 ? 1 : 0);

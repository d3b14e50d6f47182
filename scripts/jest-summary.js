#!/usr/bin/env node
// Adds up jest --json result files and prints one closing line CI can read:
//   tests: <passed> passed, <failed> failed, <skipped> skipped[ (<n> in <file>: <reason>; ...)]
// A skipped test or suite says why: host/testing/skip.ts (describeIf/itIf) puts the reason into its
// title after "SKIPPED: ", which is what is printed here; a skip without one shows "no reason given".
// Exits non-zero when any test or suite failed (or a result file is missing: that run crashed).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const SKIP_MARK = 'SKIPPED: ';
const root = path.resolve(__dirname, '..');

let passed = 0;
let failed = 0;
let skipped = 0;
let suiteFailures = 0;
/** "<file>: <reason>" → number of skipped tests */
const skips = new Map();

function reasonOf(assertion) {
  for (const title of [...assertion.ancestorTitles, assertion.title]) {
    const at = title.indexOf(SKIP_MARK);
    if (at >= 0) return title.slice(at + SKIP_MARK.length);
  }
  return 'no reason given';
}

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
  for (const suite of r.testResults ?? []) {
    for (const a of suite.assertionResults ?? []) {
      if (a.status !== 'pending' && a.status !== 'todo') continue;
      const key = `${path.relative(root, suite.name)}: ${a.status === 'todo' ? 'todo' : reasonOf(a)}`;
      skips.set(key, (skips.get(key) ?? 0) + 1);
    }
  }
}
const why = [...skips].map(([key, n]) => `${n} in ${key}`).join('; ');
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped${why ? ` (${why})` : ''}`);
process.exit(failed > 0 || suiteFailures > 0 ? 1 : 0);

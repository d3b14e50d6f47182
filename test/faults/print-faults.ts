/**
 * `npm run faults`: prints the table the fault suite recorded (scenario, outcome, figure) from the
 * JSON-lines file given as the argument (scripts/faults.sh passes its FAULTS_REPORT).
 */
import { faultTable, readFaults } from './fault-report';

const file = process.argv[2];
if (!file) {
  console.error('usage: print-faults <FAULTS_REPORT file>');
  process.exit(2);
}
const results = readFaults(file);
if (results.length === 0) {
  console.log('no fault scenario recorded a result (see the jest output above)');
  process.exit(1);
}
console.log(faultTable(results));
const failed = results.filter((r) => !r.passed).length;
console.log(`\n${results.length - failed}/${results.length} scenarios kept their promise`);

/**
 * The cdk8s app: `cdk8s synth` (with cdk8s-cli) or `npx tsx examples/cdk8s/main.ts [outdir]`.
 * cdk8s-cli passes the output directory in CDK8S_OUTDIR.
 */
import { App } from 'cdk8s';
import { addExampleCharts } from './charts';

const app = new App({ outdir: process.env.CDK8S_OUTDIR ?? process.argv[2] ?? 'dist' });
addExampleCharts(app);
app.synth();

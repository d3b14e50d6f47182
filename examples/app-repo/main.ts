/**
 * An application repository's whole NeonVM definition: import the package, declare the VMs, synth.
 * `npx tsx main.ts dist` writes dist/my-vms.k8s.yaml for ArgoCD (see ../argocd/application.yaml).
 */
import { App, Chart, Size } from 'cdk8s';
import { SyncWave, VirtualMachine } from 'neonvm/constructs';

const app = new App({ outdir: process.argv[2] ?? 'dist' });
const chart = new Chart(app, 'my-vms', { namespace: 'apps' });

for (const name of ['pg-1', 'pg-2']) {
  new VirtualMachine(chart, name, {
    metadata: { name },
    cpus: { min: 0.25, max: 2, use: 0.5 },
    memory: { slotSize: Size.gibibytes(1), min: 1, max: 4, use: 1 },
    rootDisk: { image: 'vm-postgres:15-bullseye' },
    ports: [{ name: 'postgres', port: 5432 }],
    syncWave: SyncWave.VIRTUAL_MACHINES,
  }).exposePort(5432, { name });
}

app.synth();

/**
 * An application repository's whole NeonVM definition: import the package, declare the VMs, synth.
 * `npm run synth` (cdk8s synth) writes dist/my-vms.k8s.yaml for Argo CD (see ../argocd/application.yaml).
 * The neonvm dependency is the locally built package (`npm run build:package` in the repository);
 * an app repo would depend on a published version instead.
 */
import { App, Chart, Size } from 'cdk8s';
import { ServiceType } from 'cdk8s-plus-28';
import { SyncWave, VirtualMachine } from 'neonvm/constructs';

const app = new App();
const chart = new Chart(app, 'my-vms', { namespace: 'apps' });

for (const name of ['pg-1', 'pg-2']) {
  new VirtualMachine(chart, name, {
    metadata: { name },
    cpus: { min: 0.25, max: 2, use: 0.5 },
    memory: { slotSize: Size.gibibytes(1), min: 1, max: 4, use: 1 },
    rootDisk: { image: 'vm-postgres:15-bullseye' },
    ports: [{ name: 'postgres', port: 5432 }],
    syncWave: SyncWave.VIRTUAL_MACHINES,
  }).exposeViaService({ name, serviceType: ServiceType.CLUSTER_IP });
}

app.synth();

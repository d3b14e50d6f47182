import { ApiextensionsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCrds, ensureK8sBinaries, listOwnedNetworkObjects, startLocalCluster } from '.';
import { pollUntil } from '../host';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.neonvm.io
spec:
  group: example.neonvm.io
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  anyOf: [{ type: integer }, { type: string }]
                  x-kubernetes-int-or-string: true
`;

describe('startLocalCluster', () => {
  jest.setTimeout(30 * 60_000);

  it('comes up with 3 Ready nodes, applies CRDs, and leaves no process, namespace, link or directory behind', async () => {
    const binaries = await ensureK8sBinaries();
    const hostDir = mkdtempSync(join(tmpdir(), 'neonvm-updown-'));
    const crdDir = mkdtempSync(join(tmpdir(), 'neonvm-crds-'));
    writeFileSync(join(crdDir, 'widgets.yaml'), CRD);
    const cluster = await startLocalCluster({ binaries });
    let stopped = false;
    try {
      const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
      const nodes = (await core.listNode()).items;
      expect(nodes.map((n) => n.metadata!.name).sort()).toEqual([
        'neonvm-node-1',
        'neonvm-node-2',
        'neonvm-node-3',
      ]);
      for (const node of nodes) {
        expect(node.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
        expect(node.metadata!.labels).toMatchObject({
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
        });
      }

      expect(await applyCrds(cluster, join(crdDir, 'absent'))).toEqual([]);
      expect(await applyCrds(cluster, crdDir)).toEqual(['widgets.example.neonvm.io']);
      // The schema arrives as written (a typed client would drop `x-kubernetes-*` keys on the way).
      const crd = await cluster.kubeConfig
        .makeApiClient(ApiextensionsV1Api)
        .readCustomResourceDefinition({ name: 'widgets.example.neonvm.io' });
      const size = crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.spec.properties!.size;
      expect(size.x_kubernetes_int_or_string).toBe(true);
      const badDir = mkdtempSync(join(tmpdir(), 'neonvm-bad-crds-'));
      writeFileSync(
        join(badDir, 'bad.yaml'),
        CRD.replace('x-kubernetes-int-or-string: true', 'description: untyped'),
      );
      await expect(applyCrds(cluster, badDir)).rejects.toThrow(/rejected manifests[\s\S]*Required value/);
      rmSync(badDir, { recursive: true, force: true });

      // A pod whose process must not survive the cluster.
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name: 'survivor' },
          spec: {
            volumes: [{ name: 'out', hostPath: { path: hostDir } }],
            containers: [
              {
                name: 'main',
                image: 'neonvm-test/shell',
                // `$$$$`: Kubernetes turns `$$` in commands into `$` (the escape of `$(VAR)`).
                command: [
                  'sh',
                  '-c',
                  'echo $$$$ > "$NEONVM_POD_ROOT/out/pid"; trap "" TERM; while :; do sleep 1; done',
                ],
                volumeMounts: [{ name: 'out', mountPath: '/out' }],
              },
            ],
          },
        },
      });
      const podPid = await pollUntil(
        async () => {
          // The shell may have created the file but not written it yet.
          const pid = existsSync(join(hostDir, 'pid'))
            ? Number.parseInt(readFileSync(join(hostDir, 'pid'), 'utf8'), 10)
            : NaN;
          return Number.isNaN(pid) ? undefined : pid;
        },
        { timeoutMs: 20_000, description: 'the pod to record its pid' },
      );
      const pids = [podPid, ...Object.values(cluster.processes).map((p) => p.pid)];
      expect(pids.filter((p) => !alive(p))).toEqual([]);
      const slot = cluster.network.addressing.slot;
      expect(listOwnedNetworkObjects(slot).length).toBeGreaterThan(1);

      await cluster.stop();
      stopped = true;
      expect(pids.filter(alive)).toEqual([]);
      expect(listOwnedNetworkObjects(slot)).toEqual([]);
      expect(existsSync(cluster.dir)).toBe(false);
    } finally {
      if (!stopped) await cluster.stop();
      rmSync(hostDir, { recursive: true, force: true });
      rmSync(crdDir, { recursive: true, force: true });
    }
  });
});

import { ApiextensionsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCrds, ensureK8sBinaries, listOwnedNetworkObjects, startLocalCluster } from '.';
import { pollUntil } from '../host';

/**
 * Running, not a zombie: a pod's first process dies together with its `unshare` parent and is reaped by
 * the host's init, which may take a while: CI's failures of 2026-12-04 (PIDs 1219, 29989) were such
 * zombies, reparented to PID 1, still listed after the cluster had stopped.
 */
const alive = (pid: number): boolean => {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

const describeProcess = (pid: number): string => {
  try {
    const state = /^State:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const ppid = /^PPid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return `${pid} ${state} ppid ${ppid}: ${cmdline}`;
  } catch {
    return `${pid} (gone)`;
  }
};

/** The host PID of the process whose command line contains `marker` (not a shell's wrapper). */
function hostPidOf(marker: string): number | undefined {
  const isPodShell = (pid: string): boolean => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.startsWith('sh\0-c\0') && cmdline.includes(marker);
    } catch {
      return false; // exited meanwhile
    }
  };
  const parentOf = (pid: string): string | undefined => {
    try {
      return /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  };
  // The shell forks for every `sleep`: until the exec, that child has the shell's command line too.
  // The pod's process is the shell whose parent is not such a shell (PIDs wrap, so not the lowest).
  const shells = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && isPodShell(e));
  const main = shells.find((pid) => {
    const parent = parentOf(pid);
    return parent !== undefined && !isPodShell(parent);
  });
  return main === undefined ? undefined : Number(main);
}

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
    const marker = `neonvm-survivor-${process.pid}-${Date.now()}`;
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
                // The marker finds the process from the host: in the pod it is PID 1 of its own namespace.
                command: [
                  'sh',
                  '-c',
                  `touch "$NEONVM_POD_ROOT/out/started"; trap "" TERM; while :; do sleep 1; done # ${marker}`,
                ],
                volumeMounts: [{ name: 'out', mountPath: '/out' }],
              },
            ],
          },
        },
      });
      // Confirmed 1.5 s later (longer than one turn of the sleep loop): a forked copy of the shell seen
      // just before its exec is gone by then (the cold CI run of 2026-12-04 picked one, PID 1219).
      const podPid = await pollUntil(
        async () => {
          const pid = existsSync(join(hostDir, 'started')) ? hostPidOf(marker) : undefined;
          if (pid === undefined) return undefined;
          await new Promise((r) => setTimeout(r, 1_500));
          return hostPidOf(marker) === pid && alive(pid) ? pid : undefined;
        },
        { timeoutMs: 30_000, description: 'the pod to start' },
      );
      const pids = [podPid, ...Object.values(cluster.processes).map((p) => p.pid)];
      expect(alive(podPid)).toBe(true);
      // A control-plane process that exited is named with its exit status and log tail.
      const exited = Object.values(cluster.processes)
        .filter((p) => p.hasExited || !alive(p.pid))
        .map((p) => `${p.name} (pid ${p.pid}) exited ${JSON.stringify(p.exitStatus)}:\n${p.logTail()}`);
      expect(exited).toEqual([]);
      const slot = cluster.network.addressing.slot;
      expect(listOwnedNetworkObjects(slot).length).toBeGreaterThan(1);

      await cluster.stop();
      stopped = true;
      expect(pids.filter(alive).map(describeProcess)).toEqual([]);
      expect(listOwnedNetworkObjects(slot)).toEqual([]);
      expect(existsSync(cluster.dir)).toBe(false);
    } finally {
      if (!stopped) await cluster.stop();
      rmSync(hostDir, { recursive: true, force: true });
      rmSync(crdDir, { recursive: true, force: true });
    }
  });
});

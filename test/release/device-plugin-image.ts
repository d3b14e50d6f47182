/**
 * The device plugin image run as the install manifest's DaemonSet runs it: the image's entrypoint
 * with the DaemonSet's args, its hostPath volumes bound where the container mounts them, read-only
 * root. The kubelet's device plugin directory is a temp dir served by the kubelet's side of the
 * protocol (device-plugin/testing); the host's real /dev is the device source, so /dev/kvm is this
 * machine's. The real kubelet registers the same image in test/e2e/real-node.int.test.ts.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KUBELET_DEVICE_PLUGIN_DIR } from '../../constructs';
import { RegistrationRecorder } from '../../device-plugin/testing';
import { freePort, pollUntil } from '../../host';
import { readBundleProcess, startBundle } from './oci-bundle';

interface PluginContainer {
  args: string[];
  securityContext?: { readOnlyRootFilesystem?: boolean; runAsUser?: number };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

function readDaemonSet(installManifest: string): {
  container: PluginContainer;
  hostPaths: Map<string, string>;
} {
  const docs = parseAllDocuments(readFileSync(installManifest, 'utf8')).map(
    (d) => d.toJS() as Record<string, unknown>,
  );
  const ds = docs.find(
    (d) => d.kind === 'DaemonSet' && (d.metadata as { name: string }).name === 'neonvm-device-plugin',
  ) as
    | {
        spec: {
          template: {
            spec: { containers: PluginContainer[]; volumes: { name: string; hostPath?: { path: string } }[] };
          };
        };
      }
    | undefined;
  if (!ds) throw new Error(`${installManifest}: no neonvm-device-plugin DaemonSet`);
  const pod = ds.spec.template.spec;
  const hostPaths = new Map(
    pod.volumes.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path] as [string, string]),
  );
  return { container: pod.containers[0], hostPaths };
}

export async function devicePluginImageServes(bundle: string, installManifest: string): Promise<void> {
  const { container, hostPaths } = readDaemonSet(installManifest);
  expect(container.securityContext).toMatchObject({ runAsUser: 0, readOnlyRootFilesystem: true });
  // The kubelet's directory here is a short temp dir (unix socket paths must fit 108 bytes).
  const pluginDir = mkdtempSync(join(tmpdir(), 'kdp-'));
  const kubelet = new RegistrationRecorder(pluginDir);
  await kubelet.start();
  const healthPort = await freePort();
  const binds = container.volumeMounts.map((m) => {
    const hostPath = hostPaths.get(m.name);
    if (!hostPath) throw new Error(`volume ${m.name} is not a hostPath`);
    const source = hostPath === KUBELET_DEVICE_PLUGIN_DIR ? pluginDir : hostPath;
    return { source, target: m.mountPath, readOnly: m.readOnly };
  });
  expect(binds.map((b) => [b.target, b.source === pluginDir ? '<kubelet dir>' : b.source])).toEqual([
    [KUBELET_DEVICE_PLUGIN_DIR, '<kubelet dir>'],
    ['/host/dev', '/dev'],
  ]);
  const plugin = startBundle(bundle, {
    // later flags win: the probe port is free on this host, 8081 need not be
    args: [...readBundleProcess(bundle).args, ...container.args, `--health-port=${healthPort}`],
    readOnlyRootfs: container.securityContext?.readOnlyRootFilesystem === true,
    binds,
  });
  try {
    await pollUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        description: 'the device plugin image to register both resources',
        abortIf: () => plugin.exitError('device plugin'),
      },
    );
    expect(kubelet.registrations.map((r) => r.request.resourceName).sort()).toEqual([
      'neonvm/kvm',
      'neonvm/vhost-net',
    ]);
    await pollUntil(async () => kubelet.devices('neonvm/vhost-net'), {
      timeoutMs: 10_000,
      description: 'device lists',
    });
    const kvm = kubelet.devices('neonvm/kvm')!;
    expect(kvm).toHaveLength(1000);
    // This machine has /dev/kvm (unusable for QEMU, but present) and no /dev/vhost-net (optional).
    expect(new Set(kvm.map((d) => d.health))).toEqual(new Set(['Healthy']));
    expect(new Set(kubelet.devices('neonvm/vhost-net')!.map((d) => d.health))).toEqual(new Set(['Healthy']));
    const allocated = await kubelet.allocate('neonvm/kvm', [['kvm-0']]);
    expect(allocated.containerResponses[0].devices).toEqual([
      { containerPath: '/dev/kvm', hostPath: '/dev/kvm', permissions: 'rw' },
    ]);
    expect(
      (await kubelet.allocate('neonvm/vhost-net', [['vhost-net-0']])).containerResponses[0].devices,
    ).toEqual([]);
    plugin.signal('SIGTERM');
    expect(await plugin.exited).toBe(0);
    expect(readdirSync(pluginDir).filter((n) => n.startsWith('neonvm-'))).toEqual([]);
  } finally {
    if (plugin.child.exitCode === null) {
      plugin.child.kill('SIGKILL');
      await plugin.exited;
    }
    kubelet.stop();
    rmSync(pluginDir, { recursive: true, force: true });
  }
}

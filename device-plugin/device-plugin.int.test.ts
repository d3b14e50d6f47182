/**
 * The device plugin process (main.ts, as the DaemonSet runs it) against the kubelet's side of the
 * protocol over real gRPC and real unix sockets: registration, ListAndWatch, Allocate, device nodes
 * appearing and vanishing, kubelet restarts, a removed socket, stale sockets, SIGTERM.
 * Device nodes are real character devices made with mknod under a host root, as /host/dev is in the
 * DaemonSet. The real kubelet registers it in test/e2e/real-node.int.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, pollUntil } from '../host';
import { describeIf } from '../host/testing';
import type { DaemonStatus } from './daemon';
import { RegistrationRecorder } from './testing';

const MAIN = resolve(__dirname, 'main.ts');
// mknod needs CAP_MKNOD.
const suite = describeIf(process.getuid?.() === 0, 'needs root (mknod of test device nodes)');

function mknod(path: string): void {
  const r = spawnSync('mknod', [path, 'c', '1', '3']);
  if (r.status !== 0) throw new Error(`mknod ${path}: ${r.stderr.toString()}`);
}

const wait = <T>(
  what: string,
  attempt: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> => pollUntil(async () => attempt(), { timeoutMs, intervalMs: 50, description: what });

suite('device plugin process', () => {
  let root: string;
  let pluginDir: string;
  let hostDev: string;
  let kubelet: RegistrationRecorder;
  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<number | null>;
  let healthPort: number;

  const health = async (path: string): Promise<{ status: number; body: DaemonStatus }> => {
    const res = await fetch(`http://127.0.0.1:${healthPort}${path}`);
    return { status: res.status, body: (await res.json()) as DaemonStatus };
  };
  const logged = (text: string) =>
    wait(`log line '${text}'`, () => (output.includes(text) ? true : undefined));
  const ourSockets = () =>
    readdirSync(pluginDir)
      .filter((n) => n.startsWith('neonvm-'))
      .sort();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'dp-'));
    pluginDir = join(root, 'plugins');
    hostDev = join(root, 'host', 'dev');
    mkdirSync(pluginDir);
    mkdirSync(hostDev, { recursive: true });
    mknod(join(hostDev, 'kvm'));
    // A stale socket of an earlier run killed without cleanup: nothing listens on it.
    const stale = join(pluginDir, 'neonvm-kvm-00000000.sock');
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    expect(existsSync(stale)).toBe(true);
    kubelet = new RegistrationRecorder(pluginDir);
    await kubelet.start();
    healthPort = await freePort();
    child = spawn(
      process.execPath,
      [
        '--require',
        require.resolve('tsx/cjs'),
        MAIN,
        `--device-plugin-dir=${pluginDir}`,
        `--host-root=${join(root, 'host')}`,
        '--devices-per-resource=5',
        '--poll-interval=0.2',
        `--health-port=${healthPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exited = new Promise((r) => child!.once('exit', (code) => r(code)));
  }, 30_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    kubelet?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  afterEach(() => {
    if (expect.getState().assertionCalls !== expect.getState().numPassingAsserts) console.log(output);
  });

  test('registers each resource with its own socket; lists 5 Healthy devices each', async () => {
    await wait('both registrations', () => (kubelet.registrations.length >= 2 ? true : undefined));
    expect(kubelet.registrations.map((r) => [r.request.version, r.request.resourceName])).toEqual([
      ['v1beta1', 'neonvm/kvm'],
      ['v1beta1', 'neonvm/vhost-net'],
    ]);
    expect(kubelet.latest('neonvm/kvm')!.options).toEqual({
      preStartRequired: false,
      getPreferredAllocationAvailable: false,
    });
    await wait('lists', () => kubelet.devices('neonvm/vhost-net'));
    expect(kubelet.devices('neonvm/kvm')).toEqual(
      ['kvm-0', 'kvm-1', 'kvm-2', 'kvm-3', 'kvm-4'].map((ID) => ({ ID, health: 'Healthy', topology: null })),
    );
    // /dev/vhost-net is missing here, and optional: still Healthy.
    expect(kubelet.devices('neonvm/vhost-net')!.map((d) => d.health)).toEqual(Array(5).fill('Healthy'));
    expect(ourSockets().map((n) => n.replace(/-[0-9a-f]{8}\.sock$/, ''))).toEqual([
      'neonvm-kvm',
      'neonvm-vhost-net',
    ]);
    expect(ourSockets()).not.toContain('neonvm-kvm-00000000.sock');
    await logged('removed a stale socket of an earlier run');
    const ready = await health('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      ready: true,
      resources: [
        { resourceName: 'neonvm/kvm', devicePresent: true, health: 'Healthy', registered: true, watchers: 1 },
        {
          resourceName: 'neonvm/vhost-net',
          devicePresent: false,
          health: 'Healthy',
          registered: true,
          watchers: 1,
        },
      ],
    });
  });

  test('Allocate: /dev/kvm rw per container; nothing for the missing optional vhost-net; unknown IDs refused', async () => {
    const kvm = await kubelet.allocate('neonvm/kvm', [['kvm-0'], ['kvm-1', 'kvm-2']]);
    expect(kvm.containerResponses.map((c) => c.devices)).toEqual([
      [{ containerPath: '/dev/kvm', hostPath: '/dev/kvm', permissions: 'rw' }],
      [{ containerPath: '/dev/kvm', hostPath: '/dev/kvm', permissions: 'rw' }],
    ]);
    const vhost = await kubelet.allocate('neonvm/vhost-net', [['vhost-net-0']]);
    expect(vhost.containerResponses[0].devices).toEqual([]);
    await expect(kubelet.allocate('neonvm/kvm', [['kvm-7']])).rejects.toMatchObject({
      code: 3, // INVALID_ARGUMENT
      details: 'neonvm/kvm: unknown device IDs kvm-7',
    });
  });

  test('device nodes appearing and vanishing are streamed; Allocate follows', async () => {
    const kvm = kubelet.latest('neonvm/kvm')!;
    const before = kvm.lists.length;
    rmSync(join(hostDev, 'kvm'));
    await wait('kvm Unhealthy', () =>
      kvm.lists.length > before && kvm.lists.at(-1)!.every((d) => d.health === 'Unhealthy')
        ? true
        : undefined,
    );
    await expect(kubelet.allocate('neonvm/kvm', [['kvm-0']])).rejects.toMatchObject({
      code: 9, // FAILED_PRECONDITION
      details: 'neonvm/kvm: the host has no /dev/kvm',
    });
    expect((await health('/readyz')).body).toMatchObject({ ready: true });
    mknod(join(hostDev, 'kvm'));
    await wait('kvm Healthy', () =>
      kvm.lists.at(-1)!.every((d) => d.health === 'Healthy') ? true : undefined,
    );
    mknod(join(hostDev, 'vhost-net'));
    const res = await wait('vhost-net mounted', async () => {
      const r = await kubelet.allocate('neonvm/vhost-net', [['vhost-net-1']]);
      return r.containerResponses[0].devices.length > 0 ? r : undefined;
    });
    expect(res.containerResponses[0].devices).toEqual([
      { containerPath: '/dev/vhost-net', hostPath: '/dev/vhost-net', permissions: 'rw' },
    ]);
  });

  test('a kubelet restart (new kubelet.sock, sockets removed): both register again on fresh sockets', async () => {
    const before = kubelet.registrations.length;
    const oldSockets = ourSockets();
    await kubelet.restart();
    await wait('re-registration', () => (kubelet.registrations.length >= before + 2 ? true : undefined));
    const again = kubelet.registrations.slice(before);
    expect(again.map((r) => r.request.resourceName).sort()).toEqual(['neonvm/kvm', 'neonvm/vhost-net']);
    expect(again.map((r) => r.request.endpoint).some((e) => oldSockets.includes(e))).toBe(false);
    await wait('lists after restart', () => kubelet.devices('neonvm/kvm'));
    expect(ourSockets()).toEqual(again.map((r) => r.request.endpoint).sort());
    await logged('kubelet restarted: registering again');
  });

  test('its socket removed while the kubelet runs: that resource registers again', async () => {
    const before = kubelet.registrations.length;
    const kvmSocket = kubelet.latest('neonvm/kvm')!.request.endpoint;
    rmSync(join(pluginDir, kvmSocket));
    await wait('kvm re-registration', () =>
      kubelet.registrations.length > before && kubelet.latest('neonvm/kvm')!.request.endpoint !== kvmSocket
        ? true
        : undefined,
    );
    expect(kubelet.registrations.slice(before).map((r) => r.request.resourceName)).toEqual(['neonvm/kvm']);
    await logged('plugin socket removed: registering again');
  });

  test('while the kubelet refuses, registration is retried and /readyz says not ready', async () => {
    kubelet.refuseWith = 'resource name already taken';
    const before = kubelet.registrations.length;
    await kubelet.restart();
    const refused = await wait('a refused attempt', async () => {
      const r = await health('/readyz');
      return r.body.resources.some((x) => x.lastError?.includes('already taken')) ? r : undefined;
    });
    expect(refused.status).toBe(503);
    expect(refused.body.ready).toBe(false);
    expect((await health('/healthz')).status).toBe(200);
    expect(kubelet.registrations.length).toBe(before);
    kubelet.refuseWith = undefined;
    await wait('registered after refusals', async () =>
      (await health('/readyz')).status === 200 ? true : undefined,
    );
    await logged('resource name already taken');
  });

  test('SIGTERM: exits 0, removes its sockets, the kubelet sees the streams end', async () => {
    const kvm = kubelet.latest('neonvm/kvm')!;
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(ourSockets()).toEqual([]);
    await wait('stream end', () => (kvm.ended ? true : undefined));
  });
});

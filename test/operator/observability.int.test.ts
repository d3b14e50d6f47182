/**
 * The operator's observability as upstream's users rely on it, scraped from a running operator process
 * (operator/main.ts with upstream's flags, simulated runners on the local cluster): the latency
 * histograms, `reconcile_failing_objects` with `--failure-pending-period`, the "Currently failing"
 * log lines every `--failing-refresh-interval`, the dump-state answers, the profile endpoints, and the
 * client QPS/burst settings in effect.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, PollAborted, pollUntil } from '../../host';
import { createNamespace } from '../../cluster/testing';
import {
  FAKE_RUNNER_IMAGE,
  OPERATOR_NAMESPACE,
  useOperatorCluster,
  vmApi,
  vmBody,
  waitForVm,
} from './operator-fixture';
import { REPO_ROOT, TSX_LOADER } from './operator-env';

jest.setTimeout(240_000);
const env = useOperatorCluster();

interface Ports {
  metrics: number;
  pprof: number;
  dumpState: number;
}

let operator: ManagedProcess | undefined;
let ports: Ports;
let logDir: string;

function get(
  port: number,
  path: string,
  method = 'GET',
  host = '127.0.0.1',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample of the /metrics text, e.g. `name{a="b"}`; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const scrape = async () => (await get(ports.metrics, '/metrics')).body;

function logLines(): Array<Record<string, unknown>> {
  return readFileSync(join(logDir, 'operator.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'neonvm-observability-'));
  operator = ManagedProcess.start({
    name: 'operator',
    command: process.execPath,
    args: [
      '--import',
      TSX_LOADER,
      join(REPO_ROOT, 'operator/main.ts'),
      `--kubeconfig=${env.cluster().kubeconfigPath}`,
      `--namespace=${OPERATOR_NAMESPACE}`,
      `--runner-image=${FAKE_RUNNER_IMAGE}`,
      '--webhook-url-host=127.0.0.1',
      '--webhook-port=0',
      '--no-device-plugin-resources',
      '--disable-runner-cgroup',
      '--concurrency-limit=4',
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=0',
      '--pprof-bind-address=127.0.0.1:0',
      '--dump-state-bind-address=127.0.0.1:0',
      '--failure-pending-period=3s',
      '--failing-refresh-interval=1s',
      '--k8s-client-qps=200',
      '--k8s-client-burst=400',
    ],
    logFile: join(logDir, 'operator.log'),
    cwd: REPO_ROOT,
  });
  const started = await pollUntil(
    async () => {
      if (operator?.hasExited) throw new PollAborted(`operator exited:\n${operator.logTail()}`);
      return logLines().find((l) => l.msg === 'operator started');
    },
    { timeoutMs: 120_000, intervalMs: 200, description: 'operator started' },
  );
  ports = started.ports as Ports;
}, 180_000);

afterAll(async () => {
  await operator?.stop(10_000);
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

describe('metrics on /metrics (upstream names)', () => {
  it('measures creation → runner created → Running for a VM', async () => {
    const ns = await createNamespace(env.core(), 'latency');
    await vmApi(env.custom(), ns).create(vmBody('vm-ok'));
    await waitForVm(env.custom(), ns, 'vm-ok', (vm) => vm.status?.phase === 'Running');
    const m = await pollUntil(
      async () => {
        const text = await scrape();
        return sample(text, 'vm_creation_to_vm_running_duration_seconds_count') === 1 ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'latency histograms' },
    );
    expect(sample(m, 'vm_creation_to_runner_creation_duration_seconds_count')).toBe(1);
    expect(sample(m, 'vm_runner_creation_to_vm_running_duration_seconds_count')).toBe(1);
    // API timestamps have whole seconds: the parts add up to the whole within a second each.
    const toRunner = sample(m, 'vm_creation_to_runner_creation_duration_seconds_sum') ?? NaN;
    const runnerToRunning = sample(m, 'vm_runner_creation_to_vm_running_duration_seconds_sum') ?? NaN;
    const whole = sample(m, 'vm_creation_to_vm_running_duration_seconds_sum') ?? NaN;
    expect(toRunner).toBeGreaterThanOrEqual(0);
    expect(Math.abs(toRunner + runnerToRunning - whole)).toBeLessThanOrEqual(2);
    // Upstream's buckets for "until Running" (1, 5, 10, 12, …, 300).
    expect(m).toContain('vm_creation_to_vm_running_duration_seconds_bucket{le="12"}');
    expect(
      sample(m, 'reconcile_duration_seconds_count{controller="virtualmachine",outcome="success"}'),
    ).toBeGreaterThan(0);
  });

  it('counts, logs and lists an object failing longer than --failure-pending-period, until it is gone', async () => {
    const ns = await createNamespace(env.core(), 'failing');
    const vms = vmApi(env.custom(), ns);
    // A quota of zero pods: the API server refuses the runner pod, so every reconcile fails. (A
    // missing IPAM configuration no longer does: it only degrades the VMs that ask for extraNetwork.)
    await env.core().createNamespacedResourceQuota({
      namespace: ns,
      body: { metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } },
    });
    await vms.create(vmBody('vm-bad'));
    const key = `${ns}/vm-bad`;
    const failing = (m: string) =>
      (sample(
        m,
        'reconcile_failing_objects{controller="virtualmachine",outcome="failure",actively_retried="true"}',
      ) ?? 0) +
      (sample(
        m,
        'reconcile_failing_objects{controller="virtualmachine",outcome="failure",actively_retried="false"}',
      ) ?? 0);

    const first = await scrape();
    expect(failing(first)).toBe(0); // not yet: failing for less than the pending period
    await pollUntil(async () => failing(await scrape()) === 1 || undefined, {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: 'reconcile_failing_objects = 1',
    });

    // Upstream's dump-state answer.
    const upstream = JSON.parse((await get(ports.dumpState, '/')).body) as Array<Record<string, unknown>>;
    expect(upstream).toEqual(
      expect.arrayContaining([
        { controllerName: 'virtualmachine', failing: [key], conflicting: [] },
        { controllerName: 'virtualmachinemigration', failing: [], conflicting: [] },
      ]),
    );
    expect((await get(ports.dumpState, '/', 'POST')).status).toBe(405);

    // The full state: queues, caches (by key), the client limit in effect.
    const state = JSON.parse((await get(ports.dumpState, '/dump-state')).body) as {
      leader: boolean;
      controllers: Array<{
        controllerName: string;
        queue: { backingOff: Array<{ key: string; failures: number }> };
      }>;
      informers: Array<{ name: string; synced: boolean; objects: Array<{ key: string }> }>;
      apiClient: { qps: number; burst: number; waiting: number };
    };
    expect(state.leader).toBe(true);
    expect(state.apiClient).toMatchObject({ qps: 200, burst: 400 });
    const vmQueue = state.controllers.find((c) => c.controllerName === 'virtualmachine')?.queue;
    expect(vmQueue?.backingOff.find((b) => b.key === key)?.failures).toBeGreaterThan(1);
    const vmCache = state.informers.find((i) => i.name === 'vms');
    expect(vmCache?.synced).toBe(true);
    expect(vmCache?.objects.map((o) => o.key)).toContain(key);

    // One log line per failing object, every --failing-refresh-interval.
    await pollUntil(
      async () =>
        logLines().filter(
          (l) => l.msg === 'Currently failing to reconcile virtualmachine object' && l.object === key,
        ).length >= 2 || undefined,
      { timeoutMs: 10_000, intervalMs: 250, description: 'failing log lines' },
    );

    // Gone: a reconcile succeeds (nothing to do) and the object leaves every list.
    await vms.delete('vm-bad');
    await pollUntil(async () => failing(await scrape()) === 0 || undefined, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'reconcile_failing_objects = 0',
    });
    const after = JSON.parse((await get(ports.dumpState, '/')).body) as Array<{ failing: string[] }>;
    expect(after.flatMap((c) => c.failing)).not.toContain(key);
  });
});

describe('profiles on demand (loopback only)', () => {
  it('serves a CPU profile, refuses a second one at the same time, and checks its argument', async () => {
    const first = get(ports.pprof, '/debug/pprof/profile?seconds=2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await get(ports.pprof, '/debug/pprof/profile?seconds=1');
    expect(second.status).toBe(409);
    const res = await first;
    expect(res.status).toBe(200);
    const profile = JSON.parse(res.body) as { nodes: unknown[]; startTime: number; endTime: number };
    expect(profile.nodes.length).toBeGreaterThan(1);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(1.5e6); // microseconds
    const bad = await get(ports.pprof, '/debug/pprof/profile?seconds=forever');
    expect(bad).toMatchObject({ status: 400 });
    expect(bad.body).toContain("seconds: 'forever'");
  });

  it('serves a heap snapshot and the live handles', async () => {
    const heap = await get(ports.pprof, '/debug/pprof/heap');
    expect(heap.status).toBe(200);
    const snapshot = JSON.parse(heap.body) as { snapshot: { node_count: number } };
    expect(snapshot.snapshot.node_count).toBeGreaterThan(10_000);
    const resources = JSON.parse((await get(ports.pprof, '/debug/pprof/resources')).body) as Record<
      string,
      number
    >;
    expect(resources.TCPServerWrap).toBeGreaterThanOrEqual(3); // metrics, pprof, dump-state, webhooks
    expect((await get(ports.pprof, '/debug/pprof/')).body).toContain('/debug/pprof/heap');
  });

  it('is not reachable on the machine’s other addresses', async () => {
    const other = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!other) return; // no non-loopback address here: nothing else to check
    for (const port of [ports.pprof, ports.dumpState])
      await expect(get(port, '/', 'GET', other)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

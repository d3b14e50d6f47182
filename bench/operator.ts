/**
 * The operator against the local cluster with simulated runners (test/operator/static-runner.c in each
 * runner pod: the runner API's /ready and /status, nothing else):
 *
 * - VM apply → Running, one at a time, against the same runner pod created bare (without a VM) →
 *   Ready: the ratio is what the operator adds (finalizer, defaults, podName persisted, secrets, pod,
 *   status); the same for VMs with spec.tls (cert-manager's CA issuer) against VMs without;
 * - the scaling table, for each of 100, 300 and 1,000 VMs (`NEONVM_BENCH_OPERATOR_SCALES`): N bare
 *   runner pods created 10 at a time until all are Ready (the baseline), then N VMs created the same
 *   way until all are Running; reconcile p50/p99 from the operator's own histogram over that interval,
 *   against the operator's API request p50/p99 over the same interval (a reconcile that writes waits
 *   for its request: the floor of the reconcile rows);
 *   API requests per VM to get there and per minute once everything runs (the operator's request
 *   counter over a minute of idling); operator RSS against its idle RSS;
 * - the steady fleet workload at each scale, once all N VMs run: `spec.guest.cpus.use` patched (1 ↔ 2)
 *   on one VM after another at a fixed rate (`NEONVM_BENCH_OPERATOR_STEADY_RATE` per second, 60 s),
 *   the static runner applying each `POST /cpu_change` at once: patch → status shows the new CPUs and
 *   `Running` p50/p99, VM reconcile p50/p99 against the operator's API request p50/p99 over that
 *   interval, and the operator's event-loop delay (prom-client's monitorEventLoopDelay gauges, which
 *   cover the time since the previous scrape) — apart from the creation burst, where the API server
 *   is saturated by pod starts;
 * - beside each pair of reconcile rows (burst and steady), what the VM controller's reconcile no longer
 *   contains since it hands its writes to a write queue: reconcile + its handed-off writes p50/p99 (the
 *   old meaning of the reconcile duration, with the same API baseline) and the writes' wait in the
 *   queue p50/p99.
 *
 * `NEONVM_BENCH_OPERATOR_LATENCY=0` skips the one-at-a-time rows (a 1,000-VM run then fits one hold of
 * the machine lock).
 *
 * The operator runs as its own process from the compiled lib/ (`node lib/operator/main.js` with the
 * image's Node flags, constructs/install/operator-node-flags.ts), exactly as deployed.
 * `NEONVM_BENCH_PROFILE=<dir>` runs it with `--cpu-prof` and writes a heap snapshot after the largest
 * scale's RSS and steady phase were read (open them in Chrome DevTools): a snapshot leaves V8's heap
 * grown, so one taken earlier would inflate every later row.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { get as httpsGet, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import {
  createCaClusterIssuer,
  ensureK8sBinaries,
  startCertManager,
  startLocalCluster,
  type LocalCluster,
} from '../cluster';
import { percentile } from './percentile';
import { freePort, pollUntil } from '../host';
import { OPERATOR_NODE_FLAGS } from '../constructs/install/operator-node-flags';
import { GROUP, VERSION, defaultVirtualMachine, type VirtualMachine } from '../crds';
import { Informer, MERGE_PATCH } from '../kube';
import { decodeAs } from '../kube/client-node';
import { DEFAULT_RUNNER_POD_CONFIG, buildRunnerPod } from '../operator/pod';
import {
  FAKE_DISK_IMAGE,
  FAKE_RUNNER_IMAGE,
  REPO_ROOT,
  installCrds,
  installRunnerShim,
  registerFakeImages,
} from '../test/operator/operator-env';
import type { BenchRow } from './table';

const LATENCY_SAMPLES = 10;
const SCALES = (process.env.NEONVM_BENCH_OPERATOR_SCALES ?? '100,300,1000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
const CREATE_CONCURRENCY = 10;
/** Node agents' pod capacity (a node's /24 holds 253 pods). */
const PODS_PER_NODE = 250;
/** How long the operator idles with every VM Running while its API requests are counted. */
const IDLE_WINDOW_MS = 60_000;
/** The steady phase: `cpus.use` patches per second, for how long. */
const STEADY_RATE = Number(process.env.NEONVM_BENCH_OPERATOR_STEADY_RATE ?? 15);
const STEADY_WINDOW_MS = 60_000;
const LATENCY_ROWS = process.env.NEONVM_BENCH_OPERATOR_LATENCY !== '0';
const NS = 'bench';
/** The operator's default namespace (`--namespace`/POD_NAMESPACE unset). */
const OPERATOR_NS = 'neonvm-system';
const BENCH_ISSUER = 'bench-ca';
const BARE_TOKEN_SECRET = 'bare-runner-token';

const vmBody = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'VirtualMachine',
  metadata: { name },
  spec: {
    ...extra,
    enableSSH: false,
    guest: {
      cpus: { min: 1, max: 4, use: 1 },
      memorySlots: { min: 1, max: 4, use: 1 },
      rootDisk: { image: FAKE_DISK_IMAGE },
    },
  },
});

const RUNNER_POD_CONFIG = {
  ...DEFAULT_RUNNER_POD_CONFIG,
  runnerImage: FAKE_RUNNER_IMAGE,
  devicePluginResources: false,
  disableRunnerCgroup: true,
};

/**
 * The pod the operator would make for a VM (init container, volumes, readiness probe, runner argv),
 * without the VM: no owner and no `vm.neon.tech/name` label, so the operator never sees it.
 */
function barePod(name: string): V1Pod {
  const vm = defaultVirtualMachine(
    structuredClone({ ...vmBody(name), metadata: { name, namespace: NS, uid: `bare-${name}` } }),
  ) as VirtualMachine;
  vm.spec.cpuScalingMode = 'QmpScaling';
  const pod = buildRunnerPod({ vm, podName: name, tokenSecretName: BARE_TOKEN_SECRET }, RUNNER_POD_CONFIG);
  return { ...pod, metadata: { ...pod.metadata, ownerReferences: undefined, labels: { bench: 'bare' } } };
}

/** Builds lib/ if a source is newer (as `npx neonvm` does), so the operator runs compiled code. */
function ensureCompiled(): void {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/neonvm.js'), '--help'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error('could not compile lib/ (bin/neonvm.js)');
}

function startOperatorProcess(cluster: LocalCluster, metricsPort: number, profileDir?: string): ChildProcess {
  const profile = profileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profileDir}`,
        '--heapsnapshot-signal=SIGUSR2',
        `--diagnostic-dir=${profileDir}`,
      ]
    : [];
  return spawn(
    process.execPath,
    [
      ...OPERATOR_NODE_FLAGS, ...profile, join(REPO_ROOT, 'lib/operator/main.js'),
      '--kubeconfig', cluster.kubeconfigPath, '--runner-image', FAKE_RUNNER_IMAGE, '--no-device-plugin-resources',
      '--disable-runner-cgroup', '--webhook-port', '-1', '--metrics-bind-address', `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address', '0', '--concurrency-limit', '8', '--log-level', 'warn',
    ], // prettier-ignore
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}

/** One scrape of the operator's /metrics, parsed into what the rows need. */
interface Scrape {
  readonly rssMiB: number;
  /** Cumulative `reconcile_duration_seconds` bucket counts of the VM controller, by upper bound. */
  readonly buckets: Map<number, number>;
  /**
   * The VM controller's `neonvm_reconcile_with_writes_duration_seconds` (reconcile start until the
   * writes it handed off landed) and `neonvm_write_queue_wait_seconds` (a handed-off write's wait for a
   * slot); empty from operators without a write queue.
   */
  readonly withWritesBuckets: Map<number, number>;
  readonly writeWaitBuckets: Map<number, number>;
  /** The same of `neonvm_kube_request_duration_seconds`, all verbs and resources (empty if absent). */
  readonly apiBuckets: Map<number, number>;
  /** The same by `verb resource`. */
  readonly apiBucketsBy: Map<string, Map<number, number>>;
  readonly requests: number;
  readonly requestsBy: Map<string, number>;
  /** Calls to runner APIs (`neonvm_runner_requests_total`; NaN from operators without it). */
  readonly runnerRequests: number;
  /** prom-client's event-loop delay gauges (`nodejs_eventloop_lag_*_seconds`), since the previous scrape. */
  readonly loopDelay: { p50: number; p99: number; max: number };
  /** `nodejs_gc_duration_seconds` sum and count, all kinds. */
  readonly gcSeconds: number;
  readonly gcCount: number;
  /** `process_cpu_seconds_total`. */
  readonly cpuSeconds: number;
}

async function scrape(port: number): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const buckets = new Map<number, number>();
  const withWritesBuckets = new Map<number, number>();
  const writeWaitBuckets = new Map<number, number>();
  const apiBuckets = new Map<number, number>();
  const apiBucketsBy = new Map<string, Map<number, number>>();
  const requestsBy = new Map<string, number>();
  let rss = NaN;
  let requests = 0;
  let runnerRequests = NaN;
  const loopDelay = { p50: NaN, p99: NaN, max: NaN };
  let gcSeconds = 0;
  let gcCount = 0;
  let cpuSeconds = NaN;
  for (const line of text.split('\n')) {
    if (line.startsWith('process_resident_memory_bytes ')) rss = Number(line.split(' ')[1]) / 2 ** 20;
    if (line.startsWith('process_cpu_seconds_total ')) cpuSeconds = Number(line.split(' ')[1]);
    const lag = /^nodejs_eventloop_lag_(p50|p99|max)_seconds (\S+)$/.exec(line);
    if (lag) loopDelay[lag[1] as 'p50' | 'p99' | 'max'] = Number(lag[2]);
    const gc = /^nodejs_gc_duration_seconds_(sum|count)\{.*\} (\S+)$/.exec(line);
    if (gc && gc[1] === 'sum') gcSeconds += Number(gc[2]);
    if (gc && gc[1] === 'count') gcCount += Number(gc[2]);
    const b = /^reconcile_duration_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (b && b[1].includes('controller="virtualmachine"')) {
      const le = /le="([^"]+)"/.exec(b[1])?.[1] ?? '+Inf';
      const bound = le === '+Inf' ? Infinity : Number(le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + Number(b[2]));
    }
    const vmHistogram =
      /^(neonvm_reconcile_with_writes_duration_seconds|neonvm_write_queue_wait_seconds)_bucket\{(.*)\} (\S+)$/.exec(
        line,
      );
    if (vmHistogram && vmHistogram[2].includes('controller="virtualmachine"')) {
      const into =
        vmHistogram[1] === 'neonvm_write_queue_wait_seconds' ? writeWaitBuckets : withWritesBuckets;
      const le = /le="([^"]+)"/.exec(vmHistogram[2])?.[1] ?? '+Inf';
      const bound = le === '+Inf' ? Infinity : Number(le);
      into.set(bound, (into.get(bound) ?? 0) + Number(vmHistogram[3]));
    }
    const api = /^neonvm_kube_request_duration_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (api) {
      const le = /le="([^"]+)"/.exec(api[1])?.[1] ?? '+Inf';
      const bound = le === '+Inf' ? Infinity : Number(le);
      apiBuckets.set(bound, (apiBuckets.get(bound) ?? 0) + Number(api[2]));
      const key = `${/verb="([^"]+)"/.exec(api[1])?.[1] ?? ''} ${/resource="([^"]+)"/.exec(api[1])?.[1] ?? ''}`;
      const by = apiBucketsBy.get(key) ?? new Map<number, number>();
      by.set(bound, (by.get(bound) ?? 0) + Number(api[2]));
      apiBucketsBy.set(key, by);
    }
    const runner = /^neonvm_runner_requests_total\{.*\} (\S+)$/.exec(line);
    if (runner) runnerRequests = (Number.isNaN(runnerRequests) ? 0 : runnerRequests) + Number(runner[1]);
    const r = /^neonvm_kube_requests_total\{(.*)\} (\S+)$/.exec(line);
    if (r) {
      const verb = /verb="([^"]+)"/.exec(r[1])?.[1] ?? '';
      const resource = /resource="([^"]+)"/.exec(r[1])?.[1] ?? '';
      const key = `${verb} ${resource}`;
      requestsBy.set(key, (requestsBy.get(key) ?? 0) + Number(r[2]));
      requests += Number(r[2]);
    }
  }
  if (Number.isNaN(runnerRequests) && text.includes('# TYPE neonvm_runner_requests_total'))
    runnerRequests = 0;
  return {
    rssMiB: rss,
    buckets,
    withWritesBuckets,
    writeWaitBuckets,
    apiBuckets,
    apiBucketsBy,
    requests,
    requestsBy,
    runnerRequests,
    loopDelay,
    gcSeconds,
    gcCount,
    cpuSeconds,
  };
}

/**
 * histogram_quantile over the difference of two scrapes' buckets (reconciles, or API requests with
 * `of: 'apiBuckets'`, between them).
 */
function reconcileQuantile(
  before: Scrape,
  after: Scrape,
  q: number,
  of: 'buckets' | 'apiBuckets' | 'withWritesBuckets' | 'writeWaitBuckets' = 'buckets',
): number {
  return bucketQuantile(before[of], after[of], q);
}

function bucketQuantile(
  before: ReadonlyMap<number, number> | undefined,
  after: ReadonlyMap<number, number>,
  q: number,
): number {
  const sorted = [...after.entries()]
    .map(([bound, count]) => [bound, count - (before?.get(bound) ?? 0)] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevBound = bound;
    prevCount = count;
  }
  return NaN;
}

/** Each request kind's count, p50 and p99 (ms) between two scrapes, for the progress log. */
function apiLatencyBreakdown(before: Scrape, after: Scrape): string {
  return [...after.apiBucketsBy.entries()]
    .map(([key, buckets]) => {
      const prev = before.apiBucketsBy.get(key);
      const count = (buckets.get(Infinity) ?? 0) - (prev?.get(Infinity) ?? 0);
      const ms = (q: number) => (bucketQuantile(prev, buckets, q) * 1000).toFixed(1);
      return [count, `${key}: ${count}× p50 ${ms(0.5)} p99 ${ms(0.99)} ms`] as const;
    })
    .filter(([count]) => count > 0)
    .sort((a, b) => b[0] - a[0])
    .map(([, line]) => line)
    .join('; ');
}

/**
 * The API server's own `apiserver_request_duration_seconds` buckets (server-side handling, without the
 * client's wait for a core or the connection), by `VERB resource[/subresource]`.
 */
async function scrapeApiServer(kubeConfig: KubeConfig): Promise<Map<string, Map<number, number>>> {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const options: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(options);
  const text = await new Promise<string>((resolve, reject) => {
    httpsGet(`${server}/metrics`, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`API server /metrics: ${res.statusCode}`)),
      );
    }).on('error', reject);
  });
  const byKind = new Map<string, Map<number, number>>();
  for (const line of text.split('\n')) {
    const m = /^apiserver_request_duration_seconds_bucket\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const label = (name: string) => new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(m[1])?.[1] ?? '';
    const sub = label('subresource');
    const key = `${label('verb')} ${label('resource')}${sub ? `/${sub}` : ''}`;
    const le = label('le');
    const bound = le === '+Inf' ? Infinity : Number(le);
    const buckets = byKind.get(key) ?? new Map<number, number>();
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(m[2]));
    byKind.set(key, buckets);
  }
  return byKind;
}

/** The operator's requests from VM create to Running, as the API server's metrics name them. */
const BURST_REQUESTS = [
  'PATCH virtualmachines',
  'PATCH virtualmachines/status',
  'POST secrets',
  'POST pods',
  'POST events',
];

/** A failed API server scrape costs its log line only. */
function noApiServerMetrics(err: unknown): Map<string, Map<number, number>> {
  progress(`API server metrics not read: ${err instanceof Error ? err.message : String(err)}`);
  return new Map();
}

/** p50/p99 (ms) of the given request kinds between two API server scrapes, for the progress log. */
function apiServerBreakdown(
  before: Map<string, Map<number, number>>,
  after: Map<string, Map<number, number>>,
  kinds: readonly string[],
): string {
  return kinds
    .map((k) => {
      const b = after.get(k);
      if (!b) return `${k}: none`;
      const ms = (q: number) => (bucketQuantile(before.get(k), b, q) * 1000).toFixed(1);
      return `${k}: p50 ${ms(0.5)} p99 ${ms(0.99)} ms`;
    })
    .join('; ');
}

/** Observations of a histogram between two scrapes. */
function countIn(before: Scrape, after: Scrape, of: 'buckets' | 'apiBuckets'): number {
  return (after[of].get(Infinity) ?? 0) - (before[of].get(Infinity) ?? 0);
}

function requestBreakdown(before: Scrape, after: Scrape): string {
  return [...after.requestsBy.entries()]
    .map(([k, v]) => [k, v - (before.requestsBy.get(k) ?? 0)] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/**
 * Times from a start mark until an object satisfies `done`, as seen through a watch (no polling
 * reads, which at a thousand objects would load the API server more than the operator does).
 */
class Arrivals<T extends { metadata?: { name?: string } }> {
  private readonly started = new Map<string, number>();
  private readonly arrived = new Map<string, number>();
  private waiter: { missing: Set<string>; resolve: () => void } | undefined;

  constructor(
    readonly informer: Informer<T>,
    private readonly done: (obj: T) => boolean,
  ) {
    informer.on((obj, event) => {
      if (event !== 'delete') this.check(obj);
    });
  }

  mark(name: string): void {
    this.started.set(name, performance.now());
    const obj = this.informer.get(NS, name);
    if (obj) this.check(obj);
  }

  /** Latencies of `names` once every one of them arrived. */
  async wait(names: readonly string[], timeoutMs: number): Promise<number[]> {
    const missing = new Set(names.filter((n) => !this.arrived.has(n)));
    if (missing.size > 0) {
      const arrivedAll = new Promise<void>((resolve) => (this.waiter = { missing, resolve }));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`only ${names.length - missing.size}/${names.length} arrived in ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      });
      try {
        await Promise.race([arrivedAll, timeout]);
      } finally {
        clearTimeout(timer);
        this.waiter = undefined;
      }
    }
    return names.map((n) => (this.arrived.get(n) ?? NaN) - (this.started.get(n) ?? NaN));
  }

  private check(obj: T): void {
    const name = obj.metadata?.name ?? '';
    if (!this.started.has(name) || this.arrived.has(name) || !this.done(obj)) return;
    this.arrived.set(name, performance.now());
    if (this.waiter?.missing.delete(name) && this.waiter.missing.size === 0) this.waiter.resolve();
  }

  forget(names: readonly string[]): void {
    for (const n of names) {
      this.started.delete(n);
      this.arrived.delete(n);
    }
  }
}

/**
 * The steady phase's changes: `spec.guest.cpus.use` patched on a VM, timed until the VM's status shows
 * that many CPUs and `Running` again (seen through the bench's watch, as `Arrivals`).
 */
class CpuChanges {
  /** Per VM: the CPUs asked for and when, while its status does not show them yet. */
  private readonly pending = new Map<string, { cpus: number; at: number }>();
  readonly latencies: number[] = [];
  private drained: (() => void) | undefined;

  constructor(informer: Informer<VirtualMachine>) {
    informer.on((vm, event) => {
      const name = vm.metadata?.name ?? '';
      const want = this.pending.get(name);
      if (event === 'delete' || !want || vm.status?.phase !== 'Running') return;
      if (String(vm.status.cpus) !== String(want.cpus)) return;
      this.latencies.push(performance.now() - want.at);
      this.pending.delete(name);
      if (this.pending.size === 0) this.drained?.();
    });
  }

  busy(name: string): boolean {
    return this.pending.has(name);
  }

  mark(name: string, cpus: number): void {
    this.pending.set(name, { cpus, at: performance.now() });
  }

  /** A patch that failed is not waited for. */
  drop(name: string): void {
    this.pending.delete(name);
  }

  /** Resolves once every change showed, or after `timeoutMs` (the rest counted as not shown). */
  async drain(timeoutMs: number): Promise<number> {
    if (this.pending.size > 0)
      await Promise.race([new Promise<void>((r) => (this.drained = r)), sleep(timeoutMs)]);
    this.drained = undefined;
    const left = this.pending.size;
    this.pending.clear();
    return left;
  }
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Progress on stderr: a full run takes most of an hour on a loaded 2-core machine. */
const progress = (line: string) =>
  console.error(`[bench operator ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export default async function benchOperator(): Promise<BenchRow[]> {
  ensureCompiled();
  const profileDir = process.env.NEONVM_BENCH_PROFILE;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const shimDir = installRunnerShim('static');
  const binaries = await ensureK8sBinaries();
  const most = Math.max(...SCALES, 0) + 2 * LATENCY_SAMPLES;
  // A private image store: the shared one maps the fake images to another run's files when tests of
  // other engineers register them meanwhile (and delete them when they end).
  const imageStoreDir = mkdtempSync(join(tmpdir(), 'neonvm-bench-images-'));
  const cluster = await startLocalCluster({
    nodes: Math.max(3, Math.ceil(most / (PODS_PER_NODE - 10))),
    binaries,
    imageStoreDir,
    nodeCapacity: { cpu: '256', memory: '1Ti', pods: String(PODS_PER_NODE) },
  });
  let operator: ChildProcess | undefined;
  let stopCertManager: (() => Promise<void>) | undefined;
  const informers: Array<Informer<V1Pod> | Informer<VirtualMachine>> = [];
  try {
    await installCrds(cluster);
    registerFakeImages(cluster, shimDir);
    const core = cluster.clients(CoreV1Api);
    const custom = cluster.clients(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    // The operator's own namespace (its migration CA Secret lives there), as the install makes it.
    await core.createNamespace({ body: { metadata: { name: OPERATOR_NS } } });
    await pollUntil(() => core.readNamespacedServiceAccount({ name: 'default', namespace: NS }), {
      timeoutMs: 30_000,
      description: 'default SA',
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: BARE_TOKEN_SECRET }, stringData: { token: 'bare' } },
    });
    const vmPath = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/virtualmachines`;
    const vmInformer = new Informer<VirtualMachine>({
      name: 'bench-vms',
      kubeConfig: cluster.kubeConfig,
      path: vmPath,
      list: async () =>
        (await custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'virtualmachines',
          namespace: NS,
        })) as { items: VirtualMachine[] },
    });
    const podInformer = new Informer<V1Pod>({
      name: 'bench-pods',
      kubeConfig: cluster.kubeConfig,
      path: `/api/v1/namespaces/${NS}/pods`,
      list: () => core.listNamespacedPod({ namespace: NS }),
      decode: decodeAs<V1Pod>('V1Pod'),
    });
    informers.push(vmInformer, podInformer);
    const running = new Arrivals(vmInformer, (vm) => vm.status?.phase === 'Running');
    const ready = new Arrivals(podInformer, isReady);
    const cpuChanges = new CpuChanges(vmInformer);
    await Promise.all([vmInformer.start(), podInformer.start()]);

    const createBare = async (name: string) => {
      ready.mark(name);
      await core.createNamespacedPod({ namespace: NS, body: barePod(name) });
    };
    const createVm = async (name: string, extra?: Record<string, unknown>) => {
      running.mark(name);
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'virtualmachines',
        namespace: NS,
        body: vmBody(name, extra),
      });
    };
    const untilGone = (what: string, left: () => number) =>
      pollUntil(() => Promise.resolve(left() === 0 ? true : undefined), {
        timeoutMs: 20 * 60_000,
        intervalMs: 500,
        description: what,
      });
    const deleteBare = async (names: readonly string[]) => {
      await inBatches(names, 20, (name) => core.deleteNamespacedPod({ name, namespace: NS }));
      ready.forget(names);
      await untilGone('bare pods deleted', () => podInformer.list(NS).length);
    };
    const deleteVms = async (names: readonly string[]) => {
      await inBatches(names, 20, (name) =>
        custom.deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: 'virtualmachines',
          namespace: NS,
          name,
        }),
      );
      running.forget(names);
      await untilGone(
        'VMs and their pods deleted',
        () => vmInformer.list(NS).length + podInformer.list(NS).length,
      );
    };

    progress(`cluster of ${cluster.nodes.length} nodes up`);
    // Baseline of the latency rows: the bare runner pod, one at a time.
    const barePodLatencies: number[] = [];
    for (let i = 0; LATENCY_ROWS && i < LATENCY_SAMPLES; i++) {
      await createBare(`bare-${i}`);
      barePodLatencies.push(...(await ready.wait([`bare-${i}`], 120_000)));
    }
    if (LATENCY_ROWS) await deleteBare(Array.from({ length: LATENCY_SAMPLES }, (_, i) => `bare-${i}`));

    const metricsPort = await freePort();
    operator = startOperatorProcess(cluster, metricsPort, profileDir);
    const metrics = () => scrape(metricsPort);
    await pollUntil(() => metrics().then(() => true), { timeoutMs: 60_000, description: 'operator metrics' });
    await sleep(5_000);
    const idle = await metrics();
    const snapshot = (): void => {
      if (profileDir) operator?.kill('SIGUSR2');
    };

    progress(`operator idle RSS ${idle.rssMiB.toFixed(0)} MiB`);
    const rows: BenchRow[] = LATENCY_ROWS ? await oneAtATime() : [];
    async function oneAtATime(): Promise<BenchRow[]> {
      const vmLatencies: number[] = [];
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        await createVm(`lat-${i}`);
        vmLatencies.push(...(await running.wait([`lat-${i}`], 120_000)));
      }

      // spec.tls: the same, with a certificate from cert-manager's CA issuer before the pod is made.
      const certManager = await startCertManager(cluster);
      stopCertManager = () => certManager.stop();
      await createCaClusterIssuer(cluster, certManager, BENCH_ISSUER);
      const tlsLatencies: number[] = [];
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        await createVm(`tls-${i}`, {
          tls: { certificateIssuer: BENCH_ISSUER, serverName: `tls-${i}.bench` },
        });
        tlsLatencies.push(...(await running.wait([`tls-${i}`], 120_000)));
      }
      await stopCertManager();
      stopCertManager = undefined;
      await deleteVms([
        ...Array.from({ length: LATENCY_SAMPLES }, (_, i) => `lat-${i}`),
        ...Array.from({ length: LATENCY_SAMPLES }, (_, i) => `tls-${i}`),
      ]);

      const latencyRow = (name: string, values: number[], p: number): BenchRow => {
        const value = percentile(values, p);
        const baseline = percentile(barePodLatencies, p);
        return { name, value, unit: 'ms', baseline, baselineName: `bare runner pod create→Ready p${p}`, ratio: value / baseline };
      }; // prettier-ignore
      return [
        latencyRow('VM apply → Running p50 (simulated runner, one at a time)', vmLatencies, 50),
        latencyRow('VM apply → Running p99 (simulated runner, one at a time)', vmLatencies, 99),
        {
          name: 'VM with spec.tls apply → Running p50 (cert-manager CA issuer)',
          value: percentile(tlsLatencies, 50),
          unit: 'ms',
          baseline: percentile(vmLatencies, 50),
          baselineName: 'VM without spec.tls p50',
          ratio: percentile(tlsLatencies, 50) / percentile(vmLatencies, 50),
        },
      ];
    }

    for (const n of SCALES) {
      const timeoutMs = 20 * 60_000;
      progress(`${n} bare runner pods`);
      const bareNames = Array.from({ length: n }, (_, i) => `bare-${n}-${i}`);
      let t0 = performance.now();
      await inBatches(bareNames, CREATE_CONCURRENCY, createBare);
      await ready.wait(bareNames, timeoutMs);
      const bareAllReadyS = (performance.now() - t0) / 1000;
      await deleteBare(bareNames);

      progress(`${n} bare pods Ready in ${bareAllReadyS.toFixed(1)} s; ${n} VMs`);
      const names = Array.from({ length: n }, (_, i) => `vm-${n}-${i}`);
      const before = await metrics();
      const serverBefore = await scrapeApiServer(cluster.kubeConfig).catch(noApiServerMetrics);
      t0 = performance.now();
      await inBatches(names, CREATE_CONCURRENCY, (name) => createVm(name));
      const perVm = await running.wait(names, timeoutMs);
      const allRunningS = (performance.now() - t0) / 1000;
      const created = await metrics();
      const serverCreated = await scrapeApiServer(cluster.kubeConfig).catch(noApiServerMetrics);
      await sleep(10_000); // the last status writes' echoes
      const idleFrom = await metrics();
      await sleep(IDLE_WINDOW_MS);
      const idleTo = await metrics();
      progress(
        `${n} VMs: requests while creating: ${requestBreakdown(before, created)}; ` +
          `idle minute: ${requestBreakdown(idleFrom, idleTo) || 'none'}; API latency by request while ` +
          `creating: ${apiLatencyBreakdown(before, created)}; the API server's own handling of them: ` +
          apiServerBreakdown(serverBefore, serverCreated, BURST_REQUESTS),
      );
      progress(`${n} VMs Running in ${allRunningS.toFixed(1)} s; RSS ${idleTo.rssMiB.toFixed(0)} MiB`);

      // Steady fleet workload: cpus.use toggled 1 ↔ 2 on one VM after another at a fixed rate.
      progress(`${n} VMs: steady phase, ${STEADY_RATE} cpus.use patches/s for ${STEADY_WINDOW_MS / 1000} s`);
      const steadyFrom = await metrics();
      const serverFrom = await scrapeApiServer(cluster.kubeConfig).catch(noApiServerMetrics);
      const steadyT0 = performance.now();
      const cpus = new Map<string, number>();
      const sent: Array<Promise<unknown>> = [];
      let patches = 0;
      let failed = 0;
      let skipped = 0;
      let next = 0;
      for (let k = 0; k < (STEADY_RATE * STEADY_WINDOW_MS) / 1000; k++) {
        const due = steadyT0 + (k * 1000) / STEADY_RATE;
        if (due > performance.now()) await sleep(due - performance.now());
        // The next VM whose previous change has shown (at 100 VMs each one comes round every ~7 s).
        let name = names[next++ % n];
        for (let tries = 0; cpuChanges.busy(name) && tries < n; tries++) name = names[next++ % n];
        if (cpuChanges.busy(name)) {
          skipped++;
          continue;
        }
        const want = (cpus.get(name) ?? 1) === 1 ? 2 : 1;
        cpus.set(name, want);
        cpuChanges.mark(name, want);
        patches++;
        sent.push(
          custom
            .patchNamespacedCustomObject(
              {
                group: GROUP,
                version: VERSION,
                plural: 'virtualmachines',
                namespace: NS,
                name,
                body: { spec: { guest: { cpus: { use: want } } } },
              },
              MERGE_PATCH,
            )
            .catch((err: unknown) => {
              failed++;
              cpuChanges.drop(name);
              progress(`  patch ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
            }),
        );
      }
      await Promise.all(sent);
      const notShown = await cpuChanges.drain(60_000);
      const steadyS = (performance.now() - steadyT0) / 1000;
      await sleep(2_000); // the last status writes' echoes
      const steadyTo = await metrics();
      const serverTo = await scrapeApiServer(cluster.kubeConfig).catch(noApiServerMetrics);
      const shown = cpuChanges.latencies.splice(0);
      progress(
        `${n} VMs steady: ${patches} patches in ${steadyS.toFixed(1)} s (${failed} failed, ${skipped} skipped, ` +
          `${notShown} not shown in time); reconciles ${countIn(steadyFrom, steadyTo, 'buckets')}; ` +
          `requests: ${requestBreakdown(steadyFrom, steadyTo)}; API latency by request: ` +
          `${apiLatencyBreakdown(steadyFrom, steadyTo)}; the API server's own handling of them: ` +
          `${apiServerBreakdown(serverFrom, serverTo, ['PATCH virtualmachines/status', 'PATCH pods'])}; operator CPU ` +
          `${(((steadyTo.cpuSeconds - steadyFrom.cpuSeconds) / steadyS) * 100).toFixed(1)} %, GC ` +
          `${((steadyTo.gcSeconds - steadyFrom.gcSeconds) * 1000).toFixed(0)} ms in ` +
          `${steadyTo.gcCount - steadyFrom.gcCount} pauses`,
      );
      if (n === SCALES.at(-1)) snapshot();
      const creatingMin = allRunningS / 60;
      const reconcileRow = (
        vms: number,
        q: number,
        target: string,
        [from, to, during]: readonly [Scrape, Scrape, string] = [before, created, ''],
      ): BenchRow => {
        const value = reconcileQuantile(from, to, q) * 1000;
        const baseline = reconcileQuantile(from, to, q, 'apiBuckets') * 1000;
        const p = `p${Math.round(q * 100)}`;
        return {
          name: `${vms} VMs: VM reconcile ${p}${during}`,
          value,
          unit: 'ms',
          ...(Number.isNaN(baseline)
            ? {}
            : {
                baseline,
                baselineName: `operator's API request ${p}, same interval`,
                ratio: value / baseline,
              }),
          target,
        };
      };
      // What the reconcile rows no longer contain: the writes a reconcile hands off (its status write)
      // are made after it returned, while its VM waits for them. Reported beside it, with the same
      // baseline: a reconcile plus its writes against one API round trip.
      const writeRows = (vms: number, [from, to, during]: readonly [Scrape, Scrape, string]): BenchRow[] => {
        if (to.withWritesBuckets.size === 0) return [];
        return [0.5, 0.99].flatMap((q): BenchRow[] => {
          const p = `p${Math.round(q * 100)}`;
          const baseline = reconcileQuantile(from, to, q, 'apiBuckets') * 1000;
          const withWrites = reconcileQuantile(from, to, q, 'withWritesBuckets') * 1000;
          return [
            {
              name: `${vms} VMs: VM reconcile + its handed-off writes ${p}${during}`,
              value: withWrites,
              unit: 'ms',
              baseline,
              baselineName: `operator's API request ${p}, same interval`,
              ratio: withWrites / baseline,
            },
            {
              name: `${vms} VMs: handed-off write's wait in the write queue ${p}${during}`,
              value: reconcileQuantile(from, to, q, 'writeWaitBuckets') * 1000,
              unit: 'ms',
            },
          ];
        });
      };
      const scaleRowsFrom = rows.length;
      const idlePerMin = ((idleTo.requests - idleFrom.requests) * 60_000) / IDLE_WINDOW_MS;
      rows.push(
        {
          name: `${n} VMs: all Running (created ${CREATE_CONCURRENCY} at a time)`,
          value: allRunningS,
          unit: 's',
          baseline: bareAllReadyS,
          baselineName: `${n} bare runner pods all Ready`,
          ratio: allRunningS / bareAllReadyS,
        },
        { name: `${n} VMs: apply → Running p50 in the burst`, value: percentile(perVm, 50), unit: 'ms' },
        // A reconcile that writes awaits its API request: the operator's API round trips over the same
        // interval are the floor of the reconcile rows, so they are their baseline.
        reconcileRow(n, 0.5, '< 5 ms'),
        reconcileRow(n, 0.99, '< 50 ms'),
        ...writeRows(n, [before, created, '']),
        {
          name: `${n} VMs: operator RSS (all Running, after 1 min idle)`,
          value: idleTo.rssMiB,
          unit: 'MiB',
          baseline: idle.rssMiB,
          baselineName: 'operator RSS idle (no VMs)',
          ratio: idleTo.rssMiB / idle.rssMiB,
          target: n >= 1000 ? '< 150 MiB (idle ≪ 100)' : undefined,
        },
        {
          name: `${n} VMs: API requests per VM, create → Running`,
          value: (created.requests - before.requests) / n,
          unit: 'req',
        },
        {
          name: `${n} VMs: API requests/min while creating`,
          value: (created.requests - before.requests) / creatingMin,
          unit: 'req/min',
        },
        {
          name: `${n} VMs: runner API calls per VM, create → Running`,
          value: (created.runnerRequests - before.runnerRequests) / n,
          unit: 'req',
        },
        {
          name: `${n} VMs: runner API calls/min, all Running and idle`,
          value: ((idleTo.runnerRequests - idleFrom.runnerRequests) * 60_000) / IDLE_WINDOW_MS,
          unit: 'req/min',
          target: '0',
        },
        {
          name: `${n} VMs: API requests/min, all Running and idle (per VM: ${(idlePerMin / n).toFixed(3)})`,
          value: idlePerMin,
          unit: 'req/min',
          target: '≈ 0 per VM',
        },
      );
      const steady = [steadyFrom, steadyTo, `, steady ${STEADY_RATE} cpus.use patches/s`] as const;
      const loop = steadyTo.loopDelay;
      rows.push(
        {
          name: `${n} VMs: cpus.use patch → status shows it p50 (steady, ${STEADY_RATE}/s)`,
          value: percentile(shown, 50),
          unit: 'ms',
        },
        {
          name: `${n} VMs: cpus.use patch → status shows it p99 (steady, ${STEADY_RATE}/s)`,
          value: percentile(shown, 99),
          unit: 'ms',
        },
        reconcileRow(n, 0.5, '< 5 ms', steady),
        reconcileRow(n, 0.99, '< 50 ms', steady),
        ...writeRows(n, steady),
        {
          name: `${n} VMs: operator event-loop delay p99 (steady; p50 ${(loop.p50 * 1000).toFixed(1)} ms)`,
          value: loop.p99 * 1000,
          unit: 'ms',
        },
        {
          name: `${n} VMs: operator event-loop delay max (steady)`,
          value: loop.max * 1000,
          unit: 'ms',
        },
      );
      // Each scale's rows as soon as they are measured: a run that dies at 1,000 keeps the smaller ones.
      for (const r of rows.slice(scaleRowsFrom))
        progress(
          `  ${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.baseline === undefined ? '' : ` (baseline ${r.baseline.toFixed(2)})`}`,
        );
      await deleteVms(names);
    }
    return rows;
  } finally {
    await Promise.all(informers.map((i) => i.stop()));
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator?.once('exit', r));
      operator.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
    }
    await stopCertManager?.();
    await cluster.stop();
    rmSync(shimDir, { recursive: true, force: true });
    rmSync(imageStoreDir, { recursive: true, force: true });
  }
}

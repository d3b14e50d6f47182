/**
 * Command line and environment of the operator, parsed into one typed configuration (pure, tested).
 * Flag names follow upstream's neonvm-controller where they exist.
 */
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ADMISSION_POLICY_FLAGS,
  CPU_SCALING_MODES,
  EXTRA_INIT_CONTAINER_MODES,
  type AdmissionPolicy,
  type CpuScalingMode,
  type ExtraInitContainerMode,
  quantityBytes,
} from '../crds';
import {
  MAX_DOWNTIME_LIMIT_MS,
  MIGRATION_COMPRESSIONS,
  type MigrationCompression,
  type RunnerMigrationTuning,
} from '../runner/api';
import { parseBindAddress } from './controller-kit';
import type { RunnerPodConfig } from './pod';
import { parseSkipList } from './webhooks';

export interface OperatorConfig {
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly identity: string;
  readonly metricsBind?: { host: string; port: number };
  readonly probeBind?: { host: string; port: number };
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly concurrency: number;
  readonly webhook?: {
    readonly port: number;
    readonly urlHost?: string;
    readonly certDir?: string;
    readonly secretName: string;
    readonly serviceName: string;
    readonly skipUpdateValidationFor: ReadonlySet<string>;
  };
  readonly runnerPod: RunnerPodConfig;
  /** Which privileged VM fields the validating webhook accepts (crds/validation/admission-policy.ts). */
  readonly admission: AdmissionPolicy;
  readonly ipamNad?: { namespace: string; name: string };
  readonly logLevel: string;
  /** Failure tracking (upstream's flags of the same names). */
  readonly failurePendingPeriodMs: number;
  readonly failingRefreshIntervalMs: number;
  readonly forceRetryNotRetried: boolean;
  /** Client-side API request limit (`--k8s-client-qps` / `--k8s-client-burst`). */
  readonly requestLimit: { qps: number; burst: number };
  /** Debugging surface, loopback only (undefined = off). */
  readonly pprofBind?: { host: string; port: number };
  readonly dumpStateBind?: { host: string; port: number };
}

/** `15s`, `1m`, `500ms`, `2h` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`'${text}' is not a duration (e.g. 15s, 1m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** A Kubernetes quantity of at least 4 KiB (the smallest xbzrle cache QEMU takes). */
function cacheSize(text: string): string {
  let bytes: bigint;
  try {
    bytes = quantityBytes(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  if (bytes < 4096n) throw new InvalidArgumentError('must be at least 4Ki');
  return text;
}

function channelCount(text: string): number {
  const n = positiveInt(text);
  if (n > 255) throw new InvalidArgumentError('must be at most 255');
  return n;
}

/** QEMU 7.2's `downtime-limit` range (ms). */
function downtimeLimit(text: string): number {
  const n = positiveInt(text);
  if (n > MAX_DOWNTIME_LIMIT_MS)
    throw new InvalidArgumentError(`must be at most ${MAX_DOWNTIME_LIMIT_MS} (ms)`);
  return n;
}

function positiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The debug listeners serve heap snapshots (Secrets are in memory) and object names without
 * authentication, so they bind to loopback only; `kubectl port-forward` reaches them in a pod.
 */
function loopbackBind(text: string): { host: string; port: number } | undefined {
  const b = bind(text);
  if (b && !isLoopbackHost(b.host))
    throw new InvalidArgumentError(
      `'${text}' is not a loopback address: debug endpoints serve heap snapshots without authentication; bind them to 127.0.0.1 and use kubectl port-forward`,
    );
  return b;
}

function bind(text: string): { host: string; port: number } | undefined {
  if (text === '0' || text === '') return undefined;
  try {
    return parseBindAddress(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function nadRef(
  env: NodeJS.ProcessEnv,
  prefix: 'NAD_IPAM' | 'NAD_RUNNER',
): { namespace: string; name: string } | undefined {
  const name = env[`${prefix}_NAME`];
  const namespace = env[`${prefix}_NAMESPACE`];
  return name && namespace ? { namespace, name } : undefined;
}

/** Where controller-runtime operators (and our install manifest) mount a cert-manager certificate. */
export const CERT_MANAGER_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';

export function operatorCommand(): Command {
  const cmd = new Command('neonvm-operator')
    .description(
      'NeonVM operator: VirtualMachine and VirtualMachineMigration controllers, admission webhooks, overlay IPAM',
    )
    .option(
      '--kubeconfig <path>',
      'kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)',
    )
    .option(
      '--namespace <ns>',
      'namespace for the leader Lease and the webhook certificate Secret (env POD_NAMESPACE)',
    )
    .option('--metrics-bind-address <addr>', 'Prometheus /metrics listen address ("0" disables)', ':8080')
    .option(
      '--health-probe-bind-address <addr>',
      '/healthz and /readyz listen address ("0" disables)',
      ':8081',
    )
    .option('--leader-elect', 'run controllers only while holding the Lease', false)
    .option('--leader-election-id <name>', 'Lease name', 'a3b22509.neon.tech')
    .option('--leader-election-lease-duration <d>', 'lease duration', parseDuration, 15_000)
    .option(
      '--leader-election-renew-deadline <d>',
      'leader gives up after failing to renew this long',
      parseDuration,
      10_000,
    )
    .option('--leader-election-retry-period <d>', 'acquire/renew period', parseDuration, 2_000)
    .option('--concurrency-limit <n>', 'concurrent reconciles per controller', positiveInt, 1)
    .option(
      '--webhook-port <port>',
      'HTTPS port of the admission webhooks (0 = any; -1 disables)',
      (v) => Number(v),
      9443,
    )
    .option(
      '--webhook-url-host <host>',
      'local runs: register webhook configurations with https://<host>:<port> URLs',
    )
    .addOption(
      new Option(
        '--webhook-cert-mode <mode>',
        `self-managed: issue the certificate into --webhook-secret-name and patch the caBundle; cert-manager: read it from --webhook-cert-dir (default ${CERT_MANAGER_CERT_DIR}) (env WEBHOOK_CERT_MODE)`,
      )
        .choices(['self-managed', 'cert-manager'])
        .default('self-managed'),
    )
    .option(
      '--webhook-cert-dir <dir>',
      'use tls.crt/tls.key/ca.crt from this directory (cert-manager) instead of self-managed certificates (env WEBHOOK_CERT_DIR)',
    )
    .option(
      '--webhook-secret-name <name>',
      'Secret of the self-managed webhook certificate (env WEBHOOK_CERT_SECRET)',
      'neonvm-webhook-server-cert',
    )
    .option(
      '--webhook-service-name <name>',
      'Service in front of the webhooks, for the DNS names of the certificate (env WEBHOOK_SERVICE_NAME)',
      'neonvm-webhook-service',
    )
    .option(
      '--skip-update-validation-for <list>',
      'comma-separated name or namespace/name whose update validation is skipped',
      '',
    )
    .option('--runner-image <image>', 'runner image (env VM_RUNNER_IMAGE)')
    .addOption(
      new Option('--default-cpu-scaling-mode <mode>', 'cpuScalingMode written into VMs without one')
        .choices([...CPU_SCALING_MODES])
        .default('QmpScaling'),
    )
    .option(
      '--disable-runner-cgroup',
      'do not let the runner manage its cgroup (-skip-cgroup-management)',
      false,
    )
    .option('--use-virtio-console', 'guest console on virtio-console', false)
    .option('--qemu-disk-cache-settings <s>', 'QEMU disk cache settings', 'cache=none')
    .option('--memhp-auto-movable-ratio <r>', 'guest memory_hotplug.auto_movable_ratio default', '301')
    .option(
      '--no-device-plugin-resources',
      'do not request neonvm/kvm and neonvm/vhost-net (clusters without the device plugin)',
    )
    .option(
      '--failure-pending-period <d>',
      'an object failing to reconcile this long without a success counts in reconcile_failing_objects and the failing logs',
      parseDuration,
      60_000,
    )
    .option(
      '--failing-refresh-interval <d>',
      'how often each failing object is logged (and, with --force-retry-not-retried, re-queued)',
      parseDuration,
      60_000,
    )
    .option(
      '--force-retry-not-retried',
      'queue again failing objects that were not retried for a whole failure-pending-period',
      false,
    )
    .option('--k8s-client-qps <n>', 'API requests per second (sustained)', positiveNumber, 1000)
    .option('--k8s-client-burst <n>', 'API requests allowed at once after a quiet period', positiveInt, 2000)
    .option(
      '--pprof-bind-address <addr>',
      'CPU profiles, heap snapshots and live handles under /debug/pprof/ (loopback only; "0" disables)',
      '127.0.0.1:7777',
    )
    .option(
      '--dump-state-bind-address <addr>',
      'GET / (failing objects per controller, as upstream) and GET /dump-state (queues, caches) as JSON (loopback only; "0" disables)',
      '127.0.0.1:7778',
    )
    .addOption(
      new Option(
        '--migration-tls <bool>',
        "encrypt and authenticate migration streams with per-VM certificates from the operator's CA (new runner pods; a migration target follows its source)",
      )
        .choices(['true', 'false'])
        .default('true'),
    )
    // Live-migration tuning of every runner pod (source and target must agree, hence operator-wide);
    // unset: the runner's default (none). Upstream always uses xbzrle + compress + zero-blocks:
    // --migration-xbzrle=true --migration-compression=compress --migration-zero-blocks=true.
    .addOption(
      new Option(
        '--migration-xbzrle <bool>',
        'runner pods send re-dirtied pages as XOR deltas (xbzrle)',
      ).choices(['true', 'false']),
    )
    .option(
      '--migration-xbzrle-cache-size <quantity>',
      "runner pods' xbzrle cache (upstream: 256Mi; taken from the guest's memory budget of the pod)",
      cacheSize,
    )
    .addOption(
      new Option(
        '--migration-compression <mode>',
        'runner pods compress migrations: compress (zlib threads, reported in status.info.compression) or multifd[-zlib|-zstd] channels (no post-copy)',
      ).choices(MIGRATION_COMPRESSIONS),
    )
    .option(
      '--migration-threads <n>',
      'compression threads or multifd channels per runner (runner default 2)',
      channelCount,
    )
    .addOption(
      new Option('--migration-zero-blocks <bool>', 'block migration skips all-zero disk blocks').choices([
        'true',
        'false',
      ]),
    )
    .option(
      '--migration-downtime-limit <ms>',
      "runner pods' QEMU downtime-limit: the longest pause pre-copy aims for (runner default 300)",
      downtimeLimit,
    )
    .option('--log-level <level>', 'pino log level', 'info');
  return addAdmissionPolicyOptions(cmd);
}

/** The `--migration-*` tuning flags given, as runner pod config (none given: no field). */
function migrationTuning(o: {
  migrationXbzrle?: 'true' | 'false';
  migrationXbzrleCacheSize?: string;
  migrationCompression?: MigrationCompression;
  migrationThreads?: number;
  migrationZeroBlocks?: 'true' | 'false';
  migrationDowntimeLimit?: number;
}): { migrationTuning?: RunnerMigrationTuning } {
  const t: { -readonly [K in keyof RunnerMigrationTuning]: RunnerMigrationTuning[K] } = {};
  if (o.migrationXbzrle !== undefined) t.xbzrle = o.migrationXbzrle === 'true';
  if (o.migrationXbzrleCacheSize !== undefined) t.xbzrleCacheSize = o.migrationXbzrleCacheSize;
  if (o.migrationCompression !== undefined) t.compression = o.migrationCompression;
  if (o.migrationThreads !== undefined) t.threads = o.migrationThreads;
  if (o.migrationZeroBlocks !== undefined) t.zeroBlocks = o.migrationZeroBlocks === 'true';
  if (o.migrationDowntimeLimit !== undefined) t.downtimeLimitMs = o.migrationDowntimeLimit;
  return Object.keys(t).length > 0 ? { migrationTuning: t } : {};
}

/** A comma-separated pattern list; an empty value is the empty list (nothing allowed). */
function patternList(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** The admission policy's flags (names from crds/, where the policy type lives). */
function addAdmissionPolicyOptions(cmd: Command): Command {
  const f = ADMISSION_POLICY_FLAGS;
  return cmd
    .option(
      `${f.runnerImages} <patterns>`,
      'images spec.runnerImage may name besides --runner-image (comma-separated, * = any characters)',
      patternList,
    )
    .option(`${f.kernelImages} <patterns>`, 'images spec.guest.kernelImage may name', patternList)
    .addOption(
      new Option(`${f.extraInitContainers} <mode>`, 'what spec.extraInitContainers may hold')
        .choices([...EXTRA_INIT_CONTAINER_MODES])
        .default('forbidden'),
    )
    .option(f.initScript, 'accept spec.initScript (runs in the runner container)', false)
    .option(
      `${f.podResources} <patterns>`,
      'resource names spec.podResources may request besides cpu, memory, ephemeral-storage, neonvm/*',
      patternList,
    )
    .option(f.podResourceClaims, 'accept spec.podResources.claims', false)
    .option(
      `${f.multusNetworks} <patterns>`,
      'namespace/name of NetworkAttachmentDefinitions outside the VM namespace spec.extraNetwork may name',
      patternList,
    )
    .option(
      `${f.certificateIssuers} <patterns>`,
      'ClusterIssuers spec.tls.certificateIssuer may name (default: any)',
      patternList,
    );
}

function admissionPolicy(o: {
  allowedRunnerImages?: string[];
  allowedKernelImages?: string[];
  extraInitContainers: ExtraInitContainerMode;
  allowInitScript: boolean;
  allowedPodResources?: string[];
  allowPodResourceClaims: boolean;
  allowedMultusNetworks?: string[];
  allowedCertificateIssuers?: string[];
}): AdmissionPolicy {
  return {
    ...(o.allowedRunnerImages ? { runnerImages: o.allowedRunnerImages } : {}),
    ...(o.allowedKernelImages ? { kernelImages: o.allowedKernelImages } : {}),
    extraInitContainers: o.extraInitContainers,
    initScript: o.allowInitScript,
    ...(o.allowedPodResources ? { podResources: o.allowedPodResources } : {}),
    podResourceClaims: o.allowPodResourceClaims,
    ...(o.allowedMultusNetworks ? { multusNetworks: o.allowedMultusNetworks } : {}),
    ...(o.allowedCertificateIssuers ? { certificateIssuers: o.allowedCertificateIssuers } : {}),
  };
}

function debugBind(flag: string, value: string): { host: string; port: number } | undefined {
  try {
    return loopbackBind(value);
  } catch (err) {
    throw new InvalidArgumentError(`${flag}: ${(err as Error).message}`);
  }
}

export function parseOperatorConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): OperatorConfig {
  const cmd = operatorCommand().exitOverride();
  cmd.parse([...argv], { from: 'user' });
  const o = cmd.opts<{
    kubeconfig?: string;
    namespace?: string;
    metricsBindAddress: string;
    healthProbeBindAddress: string;
    leaderElect: boolean;
    leaderElectionId: string;
    leaderElectionLeaseDuration: number;
    leaderElectionRenewDeadline: number;
    leaderElectionRetryPeriod: number;
    concurrencyLimit: number;
    webhookPort: number;
    webhookUrlHost?: string;
    webhookCertMode: 'self-managed' | 'cert-manager';
    webhookCertDir?: string;
    webhookSecretName: string;
    webhookServiceName: string;
    skipUpdateValidationFor: string;
    runnerImage?: string;
    defaultCpuScalingMode: CpuScalingMode;
    disableRunnerCgroup: boolean;
    useVirtioConsole: boolean;
    qemuDiskCacheSettings: string;
    memhpAutoMovableRatio: string;
    devicePluginResources: boolean;
    migrationTls: 'true' | 'false';
    migrationXbzrle?: 'true' | 'false';
    migrationXbzrleCacheSize?: string;
    migrationCompression?: MigrationCompression;
    migrationThreads?: number;
    migrationZeroBlocks?: 'true' | 'false';
    migrationDowntimeLimit?: number;
    logLevel: string;
    failurePendingPeriod: number;
    failingRefreshInterval: number;
    forceRetryNotRetried: boolean;
    k8sClientQps: number;
    k8sClientBurst: number;
    pprofBindAddress: string;
    dumpStateBindAddress: string;
  }>();
  const policyOptions = cmd.opts<Parameters<typeof admissionPolicy>[0]>();
  // Flags win; the install manifest's Deployment sets the webhook wiring through the environment.
  const fromEnv = (key: keyof typeof o, name: string): string | undefined =>
    cmd.getOptionValueSource(key) === 'cli' ? undefined : env[name];
  const certMode = fromEnv('webhookCertMode', 'WEBHOOK_CERT_MODE') ?? o.webhookCertMode;
  if (certMode !== 'self-managed' && certMode !== 'cert-manager')
    throw new InvalidArgumentError(
      `WEBHOOK_CERT_MODE: '${certMode}' is not one of self-managed, cert-manager`,
    );
  const certDir =
    o.webhookCertDir ??
    env.WEBHOOK_CERT_DIR ??
    (certMode === 'cert-manager' ? CERT_MANAGER_CERT_DIR : undefined);
  const runnerImage = o.runnerImage ?? env.VM_RUNNER_IMAGE;
  if (!runnerImage)
    throw new InvalidArgumentError('the runner image is required: --runner-image or env VM_RUNNER_IMAGE');
  const namespace = o.namespace ?? env.POD_NAMESPACE ?? 'neonvm-system';
  const runnerNad = nadRef(env, 'NAD_RUNNER');
  return {
    kubeconfig: o.kubeconfig,
    namespace,
    identity: env.POD_NAME ?? `${hostname()}_${process.pid}`,
    metricsBind: bind(o.metricsBindAddress),
    probeBind: bind(o.healthProbeBindAddress),
    leaderElect: o.leaderElect,
    leaseName: o.leaderElectionId,
    leaseDurationMs: o.leaderElectionLeaseDuration,
    renewDeadlineMs: o.leaderElectionRenewDeadline,
    retryPeriodMs: o.leaderElectionRetryPeriod,
    concurrency: o.concurrencyLimit,
    webhook:
      o.webhookPort < 0
        ? undefined
        : {
            port: o.webhookPort,
            urlHost: o.webhookUrlHost,
            certDir,
            secretName: fromEnv('webhookSecretName', 'WEBHOOK_CERT_SECRET') ?? o.webhookSecretName,
            serviceName: fromEnv('webhookServiceName', 'WEBHOOK_SERVICE_NAME') ?? o.webhookServiceName,
            skipUpdateValidationFor: parseSkipList(o.skipUpdateValidationFor),
          },
    runnerPod: {
      runnerImage,
      disableRunnerCgroup: o.disableRunnerCgroup,
      useVirtioConsole: o.useVirtioConsole,
      qemuDiskCacheSettings: o.qemuDiskCacheSettings,
      memhpAutoMovableRatio: o.memhpAutoMovableRatio,
      defaultCpuScalingMode: o.defaultCpuScalingMode,
      defaultMultusNetwork: runnerNad ? `${runnerNad.namespace}/${runnerNad.name}` : undefined,
      devicePluginResources: o.devicePluginResources,
      migrationTls: o.migrationTls === 'true',
      ...migrationTuning(o),
    },
    admission: admissionPolicy(policyOptions),
    ipamNad: nadRef(env, 'NAD_IPAM'),
    logLevel: o.logLevel,
    failurePendingPeriodMs: o.failurePendingPeriod,
    failingRefreshIntervalMs: o.failingRefreshInterval,
    forceRetryNotRetried: o.forceRetryNotRetried,
    requestLimit: { qps: o.k8sClientQps, burst: o.k8sClientBurst },
    pprofBind: debugBind('--pprof-bind-address', o.pprofBindAddress),
    dumpStateBind: debugBind('--dump-state-bind-address', o.dumpStateBindAddress),
  };
}

import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BackoffPolicy, ensureK8sBinaries, LocalCluster, LocalClusterOptions, startLocalCluster } from '..';
import { pollUntil } from '../../host';

const run = promisify(execFile);

/** Restart back-off short enough for tests to watch several restarts (the kubelet's starts at 10 s). */
export const TEST_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 4000, resetAfterMs: 60_000 };

/** Per test in files that use the fixture. */
export const TEST_TIMEOUT_MS = 120_000;

/** Covers a cold build of the binaries (waits for a build already started by CI, or runs one). */
const START_TIMEOUT_MS = 30 * 60_000;

/**
 * One local cluster per test file: started in beforeAll, stopped in afterAll. Returns an accessor,
 * since the cluster exists only once beforeAll has run.
 *
 *   const cluster = useLocalCluster();
 *   it('...', async () => { const core = cluster().kubeConfig.makeApiClient(CoreV1Api); ... });
 */
export function useLocalCluster(options: LocalClusterOptions = {}): () => LocalCluster {
  // Tests against real processes on a shared 2-core machine take seconds, not jest's default 5 s.
  jest.setTimeout(TEST_TIMEOUT_MS);
  let cluster: LocalCluster | undefined;
  beforeAll(async () => {
    const binaries = await ensureK8sBinaries();
    cluster = await startLocalCluster({ backoff: TEST_BACKOFF, binaries, ...options });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  return () => {
    if (!cluster) throw new Error('the local cluster is not running (did beforeAll fail?)');
    return cluster;
  };
}

/**
 * Runs the built kubectl against the cluster. Asynchronous on purpose: the node agent serves the kubelet
 * API from this very process, so a blocking call would deadlock `kubectl logs`.
 */
export async function kubectl(cluster: LocalCluster, ...args: string[]): Promise<string> {
  const { stdout } = await run(cluster.binaries.kubectl, ['--kubeconfig', cluster.kubeconfigPath, ...args]);
  return stdout;
}

/** Polls a pod until `predicate` holds; returns the pod. */
export function waitForPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  predicate: (pod: V1Pod) => boolean,
  timeoutMs = 30_000,
): Promise<V1Pod> {
  return pollUntil(
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      return predicate(pod) ? pod : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `pod ${namespace}/${name}` },
  );
}

/** Polls until the object read by `read` is gone (404). */
export function waitForGone(
  read: () => Promise<unknown>,
  description: string,
  timeoutMs = 30_000,
): Promise<true> {
  return pollUntil(
    async () => {
      try {
        await read();
        return undefined;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return true;
        throw err;
      }
    },
    { timeoutMs, intervalMs: 100, description: `${description} to be deleted` },
  );
}

export const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A fresh namespace per test keeps tests in one file independent. */
export async function createNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const ns = await core.createNamespace({ body: { metadata: { generateName: `${prefix}-` } } });
  const name = ns.metadata!.name!;
  // Pods cannot be created until the namespace's default ServiceAccount exists.
  await pollUntil(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }), {
    timeoutMs: 20_000,
    description: `ServiceAccount ${name}/default`,
  });
  return name;
}

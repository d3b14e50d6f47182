#!/usr/bin/env node
/** Entry point of the operator process: flags → Operator; SIGTERM/SIGINT stop it gracefully. */
import { loadKubeConnection, type KubeConnection } from '../kube';
import { parseOperatorConfig, type OperatorConfig } from './config';
import { createLogger } from './controller-kit';
import { Operator } from './operator';

/**
 * `--kubeconfig`, else in a pod the ServiceAccount token and CA at the usual path, below the container's
 * root on the local cluster's node-agent nodes (NEONVM_POD_ROOT, as the runner resolves its paths), else
 * KUBECONFIG or ~/.kube/config. Not client-node's KubeConfig unless the kubeconfig needs its plugins
 * (its module loads every generated API: ~65 MiB RSS; kube/kube-connection.ts).
 */
export function loadOperatorConnection(path: string | undefined): Promise<KubeConnection> {
  return loadKubeConnection(path, process.env.NEONVM_POD_ROOT ?? '');
}

export function operatorFromConfig(
  config: OperatorConfig,
  connection: KubeConnection,
  log = createLogger({ level: config.logLevel }),
): Operator {
  const webhook = config.webhook;
  return new Operator({
    kubeConfig: connection,
    namespace: config.namespace,
    identity: config.identity,
    runnerPod: config.runnerPod,
    concurrency: config.concurrency,
    leaderElection: config.leaderElect
      ? {
          leaseName: config.leaseName,
          leaseDurationMs: config.leaseDurationMs,
          renewDeadlineMs: config.renewDeadlineMs,
          retryPeriodMs: config.retryPeriodMs,
        }
      : undefined,
    metricsBind: config.metricsBind,
    probeBind: config.probeBind,
    pprofBind: config.pprofBind,
    dumpStateBind: config.dumpStateBind,
    requestLimit: config.requestLimit,
    failurePendingPeriodMs: config.failurePendingPeriodMs,
    failingRefreshIntervalMs: config.failingRefreshIntervalMs,
    forceRetryNotRetried: config.forceRetryNotRetried,
    webhook: webhook && {
      port: webhook.port,
      certDir: webhook.certDir,
      secretName: webhook.secretName,
      urlHost: webhook.urlHost,
      skipUpdateValidationFor: webhook.skipUpdateValidationFor,
      policy: {
        policy: config.admission,
        runnerImage: config.runnerPod.runnerImage,
        operatorNamespace: config.namespace,
      },
      dnsNames: [
        webhook.serviceName,
        `${webhook.serviceName}.${config.namespace}`,
        `${webhook.serviceName}.${config.namespace}.svc`,
        `${webhook.serviceName}.${config.namespace}.svc.cluster.local`,
      ],
      ips:
        webhook.urlHost && /^\d+\.\d+\.\d+\.\d+$/.test(webhook.urlHost) ? [webhook.urlHost] : ['127.0.0.1'],
    },
    ipamNad: config.ipamNad,
    log,
    onFatal: () => process.exit(1),
  });
}

async function main(): Promise<void> {
  let config: OperatorConfig;
  try {
    config = parseOperatorConfig(process.argv.slice(2));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    console.error(e.message ?? String(err));
    process.exit(2);
  }
  const log = createLogger({ level: config.logLevel });
  const operator = operatorFromConfig(config, await loadOperatorConnection(config.kubeconfig), log);
  // The process lives until it is stopped: a standby with every server disabled has only the leader
  // election's timers, which do not hold the event loop (Clock timers are unref'd), and exited with 0.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const shutdown = (signal: string): void => {
    clearInterval(keepAlive);
    log.info({ signal }, 'stopping');
    operator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await operator.start();
  log.info(
    { identity: config.identity, namespace: config.namespace, ports: operator.ports },
    'operator started',
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

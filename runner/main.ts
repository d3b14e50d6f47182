#!/usr/bin/env node
/**
 * neonvm-runner: the container entry point of a VM pod. Flags are upstream's (see
 * config/flags.ts); env K8S_POD_NAME, RECEIVE_MIGRATION=true, NEONVM_POD_ROOT, POD_IP,
 * NEONVM_RUNNER_TOKEN_FILE. Guest console → stdout; runner log (pino JSON) → stderr.
 * Exit code: 0 after a clean guest poweroff (or a completed migration), non-zero when QEMU fails.
 */
import pino from 'pino';
import { parseRunnerFlags } from './config/flags';
import { resolveRunnerConfig } from './config/runner-config';
import { startRunner, type RunningVm } from './lifecycle/start-runner';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const logger = pino({ name: 'neonvm-runner' }, pino.destination({ fd: 2, sync: true }));
  const log = (msg: string, extra?: Record<string, unknown>) => logger.info(extra ?? {}, msg);
  let config;
  try {
    config = resolveRunnerConfig(parseRunnerFlags(argv), env);
  } catch (e) {
    logger.error((e as Error).message);
    return 2;
  }
  // SIGTERM/SIGINT while starting aborts the start (everything set up so far is undone); once
  // running it powers the guest off. Kubernetes SIGKILLs after the grace period: power off within
  // it, keep a margin to exit.
  const grace = Math.max(5, Number(config.spec.terminationGracePeriodSeconds ?? 5)) * 1000;
  const starting = new AbortController();
  let running: RunningVm | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`received ${signal}`);
    if (running) void running.shutdown(Math.max(2000, grace - 1000));
    else starting.abort(new Error(`received ${signal} while starting`));
  };
  // A crash still unwinds (QEMU, dnsmasq, the cgroup) before the process exits.
  const onCrash = (e: unknown) => {
    logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'runner crashed');
    const reason = new Error(`runner crashed: ${e instanceof Error ? e.message : String(e)}`);
    if (running) void running.abort(reason).finally(() => process.exit(1));
    else starting.abort(reason);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    running = await startRunner(
      config,
      {
        log,
        console: (chunk) => process.stdout.write(chunk),
        qemuStderr: (chunk) => process.stderr.write(chunk),
      },
      { signal: starting.signal },
    );
  } catch (e) {
    logger.error({ err: (e as Error).message }, 'cannot start the VM');
    return 1;
  }
  return running.exited;
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

#!/usr/bin/env node
/**
 * neonvm-device-plugin: the container entry point of the device plugin DaemonSet (and of a host
 * process next to a kubelet). Flags: config.ts. Log: pino JSON on stdout. SIGTERM/SIGINT: the
 * sockets are removed and the process exits 0; exit 2 on bad flags.
 */
import pino from 'pino';
import { parseDevicePluginConfig, type DevicePluginConfig } from './config';
import { DevicePluginDaemon } from './daemon';
import { startHealthServer } from './health-server';

export async function main(argv: readonly string[]): Promise<number> {
  let config: DevicePluginConfig;
  try {
    config = parseDevicePluginConfig(argv);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    console.error(e.message ?? String(err));
    return 2;
  }
  const log = pino({
    name: 'neonvm-device-plugin',
    level: config.logLevel,
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  const daemon = new DevicePluginDaemon(config, log);
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // The health endpoints before the first registration, as probes expect: /readyz answers 503 until
  // every resource is registered, instead of a refused connection while the daemon starts.
  const health =
    config.healthPort === undefined
      ? undefined
      : await startHealthServer(config.healthPort, () => daemon.status());
  if (health) log.info({ port: health.port }, 'health endpoints /healthz and /readyz');
  try {
    await daemon.start();
  } catch (err) {
    await health?.close();
    throw err;
  }
  const signal = await stopped;
  log.info({ signal }, 'stopping');
  await health?.close();
  await daemon.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

/**
 * The serve-API stage: the runner HTTP API (runner/api's contract) over the VM, with its metrics, on
 * `<pod IP>:<api port>`.
 */
import type { Server } from 'node:http';
import type { RunnerConfig } from '../config/runner-config';
import { NetworkCounterSampler } from '../pod-resources/network-counters';
import { startRunnerApiServer } from '../server/http-server';
import { RunnerMetrics } from '../server/metrics';
import { FileTokenSource } from '../server/token-source';
import type { QemuVm } from '../vm-control/qemu-vm';
import type { Log, StageContext } from './lifecycle';

export async function serveApi(c: RunnerConfig, vm: QemuVm, log: Log, ctx: StageContext): Promise<Server> {
  const metrics = new RunnerMetrics();
  if (c.spec.enableNetworkMonitoring) metrics.monitorNetwork(new NetworkCounterSampler());
  const server = await startRunnerApiServer(
    { vm, tokens: new FileTokenSource(c.tokenFile), metrics, log },
    c.podIp,
    c.apiPort,
  );
  ctx.onUndo('close the API server', () => {
    server.closeAllConnections(); // keep-alive clients must not hold server.close() open
    return new Promise<void>((r) => server.close(() => r()));
  });
  return server;
}

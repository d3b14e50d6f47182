/**
 * How the operator reaches runners: only through the runner HTTP API client of `runner/api` (never
 * QMP). The connector is injectable so controllers can be tested against fakes.
 */
import { Agent, request } from 'node:http';
import { RunnerClient, type RunnerClientOptions, type RunnerFetch } from '../runner/api';

/** The subset of the runner API the controllers use. */
export type RunnerApi = Pick<
  RunnerClient,
  'status' | 'setCpu' | 'setMemory' | 'startMigration' | 'migration' | 'cancelMigration' | 'qemuState'
>;

export type RunnerConnector = (address: { host: string; port: number; token: string }) => RunnerApi;

export function httpRunnerConnector(
  options: Pick<RunnerClientOptions, 'timeoutMs' | 'fetch'> = {},
): RunnerConnector {
  return ({ host, port, token }) =>
    new RunnerClient({ baseUrl: `http://${host}:${port}`, token, ...options });
}

const runnerAgent = new Agent({ keepAlive: false });

/**
 * Runner calls on node:http rather than the global fetch: fetch (and `Response`) load undici, which
 * took a node process from 42 to 59 MiB RSS, for about one call per VM. No keep-alive: each runner is
 * another host, called rarely, so pooled sockets would only hold memory.
 */
export const nodeHttpFetch: RunnerFetch = (url, init) =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method, headers: init.headers, agent: runnerAgent, signal: init.signal },
      (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({
            ok: status >= 200 && status < 300,
            status,
            statusText: res.statusMessage ?? '',
            text: () => Promise.resolve(text),
          });
        });
        res.on('error', reject);
      },
    );
    // A timed-out call rejects with the signal's reason (a TimeoutError), as fetch does.
    req.on('error', (err) => reject(init.signal.aborted ? (init.signal.reason as unknown) : err));
    req.end(init.body);
  });

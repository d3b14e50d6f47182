/**
 * How the operator reaches runners: only through the runner HTTP API client of `runner/api` (never
 * QMP). The connector is injectable so controllers can be tested against fakes.
 */
import { RunnerClient, type RunnerClientOptions } from '../runner/api';

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

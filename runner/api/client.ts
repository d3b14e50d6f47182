/**
 * Typed client of the runner HTTP API (see README.md). One instance per runner; stateless apart from
 * its configuration, so it is safe to share between reconciles.
 */
import { formatMilliCpu, parseMilliCpu } from '../../crds';
import { guestCustody } from './guest-custody';
import { RunnerApiError, RunnerConnectionError, RunnerProtocolError, RunnerTimeoutError } from './errors';
import {
  RUNNER_PATHS,
  type MemorySetRequest,
  type MemoryState,
  type MigrationInfoBody,
  type MigrationStartRequest,
  type QemuState,
  type RunnerStatus,
  type SwapSetRequest,
  type SwapState,
  type VCpusBody,
} from './wire';

/**
 * What the client needs of `fetch`: the global one fits, and so does a smaller transport (the operator's
 * on node:http, because the global fetch loads undici: ~17 MiB RSS).
 */
export type RunnerFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
) => Promise<RunnerFetchResponse>;

/** The parts of a fetch `Response` the client reads. */
export interface RunnerFetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  text(): Promise<string>;
}

export interface RunnerClientOptions {
  /** e.g. `http://10.244.0.5:25183` (no trailing slash needed). */
  baseUrl: string;
  /** Bearer token (the content of the runner's token file). */
  token: string;
  /** Per-call timeout; upstream's controller uses 5 s. */
  timeoutMs?: number;
  /** Injected for tests and the operator; defaults to the global fetch. */
  fetch?: RunnerFetch;
}

interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Overrides the client timeout (memory shrink can take seconds). */
  timeoutMs?: number;
  auth?: boolean;
}

export const DEFAULT_RUNNER_TIMEOUT_MS = 5000;
/** `GET /qemu` answers from two QMP queries the runner bounds at 1 s each. */
export const QEMU_STATE_TIMEOUT_MS = 3000;

export class RunnerClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: RunnerFetch;

  constructor(private readonly options: RunnerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RUNNER_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** `GET /ready`: true on 200, false on 503; other statuses and transport errors throw. */
  async ready(): Promise<boolean> {
    try {
      await this.call(RUNNER_PATHS.ready, { auth: false });
      return true;
    } catch (err) {
      if (err instanceof RunnerApiError && err.status === 503) return false;
      throw err;
    }
  }

  /** `POST /cpu_change`: sets the guest CPUs (milli-CPUs); resolves once applied. */
  async setCpu(milliCpu: number): Promise<void> {
    const body: VCpusBody = { VCPUs: formatMilliCpu(milliCpu) };
    await this.call(RUNNER_PATHS.cpuChange, { method: 'POST', body });
  }

  /** `GET /cpu_current`: the CPUs in use, in milli-CPUs. */
  async getCpu(): Promise<number> {
    const body = await this.json<VCpusBody>(RUNNER_PATHS.cpuCurrent);
    try {
      return parseMilliCpu(body.VCPUs);
    } catch {
      throw new RunnerProtocolError(RUNNER_PATHS.cpuCurrent, `bad VCPUs value ${JSON.stringify(body.VCPUs)}`);
    }
  }

  /** `PUT /memory`: resolves with the settled state once the guest has the memory. */
  setMemory(slots: number, timeoutMs = Math.max(this.timeoutMs, 30_000)): Promise<MemoryState> {
    const body: MemorySetRequest = { slots };
    return this.json<MemoryState>(RUNNER_PATHS.memory, { method: 'PUT', body, timeoutMs });
  }

  getMemory(): Promise<MemoryState> {
    return this.json<MemoryState>(RUNNER_PATHS.memory);
  }

  /** `PUT /swap`: resizes the guest's swap (within the swap disk) in the running guest. */
  setSwap(sizeBytes: number, timeoutMs = Math.max(this.timeoutMs, 60_000)): Promise<SwapState> {
    const body: SwapSetRequest = { sizeBytes };
    return this.json<SwapState>(RUNNER_PATHS.swap, { method: 'PUT', body, timeoutMs });
  }

  getSwap(): Promise<SwapState> {
    return this.json<SwapState>(RUNNER_PATHS.swap);
  }

  status(): Promise<RunnerStatus> {
    return this.json<RunnerStatus>(RUNNER_PATHS.status);
  }

  /** `POST /migration` on the source: starts streaming to the target; answers once QEMU accepted `migrate`. */
  startMigration(request: MigrationStartRequest): Promise<MigrationInfoBody> {
    return this.json<MigrationInfoBody>(RUNNER_PATHS.migration, { method: 'POST', body: request });
  }

  /** `GET /migration`: progress in VirtualMachineMigration `status.info` shape. */
  migration(): Promise<MigrationInfoBody> {
    return this.json<MigrationInfoBody>(RUNNER_PATHS.migration);
  }

  /** `DELETE /migration`: cancels a running migration; the source keeps running. */
  cancelMigration(): Promise<MigrationInfoBody> {
    return this.json<MigrationInfoBody>(RUNNER_PATHS.migration, { method: 'DELETE' });
  }

  /**
   * `GET /qemu`: what the QEMU is doing and whether it holds the guest. Short timeout by default: it is
   * asked before decisions, and no answer must not stall them (the caller treats it as "may hold").
   * Runners from before the endpoint (404) are read through `/status` and `/migration` instead.
   */
  async qemuState(timeoutMs = QEMU_STATE_TIMEOUT_MS): Promise<QemuState> {
    try {
      return await this.json<QemuState>(RUNNER_PATHS.qemu, { timeoutMs });
    } catch (err) {
      if (!(err instanceof RunnerApiError && err.status === 404)) throw err;
    }
    const [status, migration] = await Promise.all([
      this.json<RunnerStatus>(RUNNER_PATHS.status, { timeoutMs }),
      this.json<MigrationInfoBody>(RUNNER_PATHS.migration, { timeoutMs }),
    ]);
    const facts = { qemuStatus: status.qemuStatus, migrationStatus: migration.status ?? 'none' };
    return {
      qemuStatus: status.qemuStatus,
      running: status.qemuStatus === 'running',
      migrationRole: status.migrationRole,
      migration,
      guest: guestCustody(facts),
    };
  }

  /** `GET /metrics`: Prometheus text exposition. */
  async metrics(): Promise<string> {
    const res = await this.call(RUNNER_PATHS.metrics, { auth: false });
    return res.text();
  }

  private async json<T>(path: string, opts: CallOptions = {}): Promise<T> {
    const res = await this.call(path, opts);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RunnerProtocolError(path, `response is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private async call(path: string, opts: CallOptions): Promise<RunnerFetchResponse> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = {};
    if (opts.auth !== false) headers.authorization = `Bearer ${this.options.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: RunnerFetchResponse;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method: opts.method ?? 'GET',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // DOMException is not always an `instanceof Error` (realms differ under test runners): use the name.
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new RunnerTimeoutError(path, timeoutMs);
      throw new RunnerConnectionError(path, err instanceof Error && err.cause ? err.cause : err);
    }
    if (!res.ok) throw new RunnerApiError(res.status, path, await errorMessage(res));
    return res;
  }
}

/** The `error` field of an ErrorBody, or the raw text when the body is not one. */
async function errorMessage(res: RunnerFetchResponse): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim() || res.statusText;
}

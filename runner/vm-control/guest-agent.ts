/**
 * Client of the guest agent (neonvmd, guest port 25183): upstream neonvm-daemon's `/cpu` and
 * `/files` plus our `/ready`, `/status` and `/swap`. Failures become VmErrors with upstream's statuses:
 * 502 when the agent is unreachable, 504 on timeout.
 */
import { VmError } from './vm-error';

export interface GuestAgentStatus {
  cpuScalingMode: string;
  onlineCpus: number[];
  presentCpus: number[];
  memTotalBytes: number;
  /** Swap the guest kernel has enabled (agents older than swap resize leave it out). */
  swapTotalBytes?: number;
}

/** `PUT /files/<path>` payload: file name → base64 content (upstream's wire format). */
export type FilesPayload = Record<string, { data: string }>;

export class GuestAgent {
  constructor(
    /** e.g. `http://169.254.254.254:25183` (tap) or `http://127.0.0.1:<forward>` (user mode). */
    readonly baseUrl: string,
    /** The agent's bearer token (runner/plan/agent-access.ts), sent with every request. */
    private readonly token: string,
    private readonly defaultTimeoutMs = 1000,
  ) {}

  /** True when the agent answers at all (the guest has booted). Never throws. */
  async ready(timeoutMs = 500): Promise<boolean> {
    try {
      await this.request('GET', '/ready', undefined, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  async status(timeoutMs?: number): Promise<GuestAgentStatus> {
    return JSON.parse(await this.request('GET', '/status', undefined, timeoutMs)) as GuestAgentStatus;
  }

  /** Online CPUs × 1000 (upstream wire format: a decimal integer). */
  async getCpuMilli(timeoutMs?: number): Promise<number> {
    const text = await this.request('GET', '/cpu', undefined, timeoutMs);
    const milli = Number(text.trim());
    if (!Number.isInteger(milli)) throw new VmError(502, `guest agent: bad /cpu answer "${text}"`);
    return milli;
  }

  /** Onlines/offlines guest CPUs to ceil(milli/1000). */
  async setCpuMilli(milli: number, timeoutMs?: number): Promise<void> {
    await this.request('PUT', '/cpu', String(milli), timeoutMs);
  }

  /** Re-initialises the guest's swap at this size (the guest's resize-swap helper); 0 turns it off. */
  async resizeSwap(bytes: number, timeoutMs = 30_000): Promise<void> {
    await this.request('PUT', '/swap', String(bytes), timeoutMs);
  }

  async filesChecksum(guestDir: string, timeoutMs?: number): Promise<string> {
    return (await this.request('GET', `/files${guestDir}`, undefined, timeoutMs)).trim();
  }

  async putFiles(guestDir: string, payload: FilesPayload, timeoutMs?: number): Promise<void> {
    await this.request('PUT', `/files${guestDir}`, JSON.stringify(payload), timeoutMs);
  }

  private async request(
    method: string,
    path: string,
    body: string | undefined,
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<string> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        body,
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new VmError(504, `guest agent ${method} ${path}: timeout after ${timeoutMs} ms`);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new VmError(502, `guest agent ${method} ${path}: unreachable: ${cause}`);
    }
    const text = await res.text();
    if (!res.ok)
      throw new VmError(
        res.status >= 500 ? 500 : 502,
        `guest agent ${method} ${path}: HTTP ${res.status}: ${text.trim()}`,
      );
    return text;
  }
}

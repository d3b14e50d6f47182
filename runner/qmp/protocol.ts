/**
 * QMP wire format (pure): newline-delimited JSON objects. QEMU sends a greeting, then replies
 * (`return` or `error`, carrying the request's `id`) interleaved with asynchronous `event`s.
 */

export interface QmpGreeting {
  readonly QMP: {
    readonly version: {
      readonly qemu: { readonly major: number; readonly minor: number; readonly micro: number };
      readonly package: string;
    };
    readonly capabilities: readonly string[];
  };
}

export interface QmpEvent {
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

export interface QmpErrorBody {
  /** e.g. "GenericError", "CommandNotFound", "DeviceNotFound". */
  readonly class: string;
  readonly desc: string;
}

export type QmpMessage =
  | { readonly kind: 'greeting'; readonly greeting: QmpGreeting }
  | { readonly kind: 'return'; readonly id: unknown; readonly value: unknown }
  | { readonly kind: 'error'; readonly id: unknown; readonly error: QmpErrorBody }
  | { readonly kind: 'event'; readonly event: QmpEvent };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Classifies one decoded JSON line; throws on anything that is not QMP. */
export function classifyMessage(msg: unknown): QmpMessage {
  if (!isObject(msg)) throw new Error(`QMP: expected a JSON object, got ${JSON.stringify(msg)}`);
  if ('QMP' in msg) return { kind: 'greeting', greeting: msg as unknown as QmpGreeting };
  if ('return' in msg) return { kind: 'return', id: msg.id, value: msg.return };
  if ('error' in msg && isObject(msg.error)) {
    const e = msg.error;
    return {
      kind: 'error',
      id: msg.id,
      error: { class: String(e.class ?? 'GenericError'), desc: String(e.desc ?? '') },
    };
  }
  if (typeof msg.event === 'string') {
    const ts = isObject(msg.timestamp) ? msg.timestamp : {};
    return {
      kind: 'event',
      event: {
        event: msg.event,
        data: isObject(msg.data) ? msg.data : {},
        timestamp: { seconds: Number(ts.seconds ?? 0), microseconds: Number(ts.microseconds ?? 0) },
      },
    };
  }
  throw new Error(`QMP: unrecognised message ${JSON.stringify(msg).slice(0, 200)}`);
}

/** Encodes a command. `arguments` is omitted when empty (some commands reject `{}` in old QEMUs). */
export function encodeCommand(execute: string, args: object | undefined, id: string): string {
  const cmd: Record<string, unknown> = { execute, id };
  if (args && Object.keys(args).length > 0) cmd.arguments = args;
  return JSON.stringify(cmd) + '\n';
}

/** Splits a byte stream into lines; keeps the incomplete tail for the next chunk. */
export class LineSplitter {
  private tail = '';

  push(chunk: string): string[] {
    const parts = (this.tail + chunk).split('\n');
    this.tail = parts.pop() ?? '';
    return parts.map((l) => l.trim()).filter((l) => l !== '');
  }
}

/** Reconnect delay: exponential from minMs, capped at maxMs, with ±20% jitter (rand in [0,1)). */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  rand: number = Math.random(),
): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * rand));
}

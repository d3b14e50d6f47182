/** Structured JSON logs (pino). Components take a Logger; children carry controller and object key. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'neonvm-operator',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { err: { type: err.name, message: err.message } } : { err: String(err) };
}

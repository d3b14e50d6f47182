/** Classifying Kubernetes API failures (client-node's ApiException carries the HTTP code). */

export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409 && !isAlreadyExists(err);
export const isAlreadyExists = (err: unknown): boolean =>
  statusCode(err) === 409 && /AlreadyExists|already exists/.test(apiErrorMessage(err));
export const isGone = (err: unknown): boolean => statusCode(err) === 410;

/** The call's result, or undefined when the API answers 404 (a read of something optional, a delete). */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The API server's `Status.message` when the error carries one, else the error message. */
export function apiErrorMessage(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const body = (err as { body?: unknown }).body;
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  if (parsed && typeof parsed === 'object') {
    const status = parsed as { message?: unknown; reason?: unknown };
    if (typeof status.message === 'string') {
      return typeof status.reason === 'string' ? `${status.reason}: ${status.message}` : status.message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

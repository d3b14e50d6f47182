/**
 * Bearer-token rules shared by the runner (server) and whoever provisions the token. The token lives
 * in a file mounted from a Secret, never in the pod spec, so it does not leak through `kubectl get pod`.
 */
import { timingSafeEqual } from 'node:crypto';

/** Runner flag and environment variable naming the token file. */
export const TOKEN_FILE_FLAG = 'api-token-file';
export const TOKEN_FILE_ENV = 'NEONVM_RUNNER_TOKEN_FILE';
/** Where the operator mounts the Secret key in the runner container, by convention. */
export const DEFAULT_TOKEN_FILE = '/vm/secrets/runner-token';

/** The token from a file's content: surrounding whitespace (a trailing newline) is not part of it. */
export function tokenFromFileContent(content: string): string {
  return content.trim();
}

/** Checks an `Authorization` header against the expected token in constant time. */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  if (!header || expected.length === 0) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The process an image runs (Entrypoint, Cmd, Env, WorkingDir, User), with the defaults container
 * runtimes apply. Pure.
 */
import type { ImageConfig } from './documents';

export interface RunConfig {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** In image order; later duplicates win, as in `docker run`. */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute; `/` when the image does not set one. */
  readonly workingDir: string;
  /** `name`, `uid`, `name:group` or `uid:gid`; `root` when the image does not set one. */
  readonly user: string;
}

/** `KEY=value` → [KEY, value]; an entry without `=` is an empty variable. */
export function parseEnvEntry(entry: string): [string, string] {
  const i = entry.indexOf('=');
  return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
}

export function runConfigOf(config: ImageConfig): RunConfig {
  const c = config.config;
  const env: Record<string, string> = {};
  for (const entry of c?.Env ?? []) {
    const [k, v] = parseEnvEntry(entry);
    if (k !== '') env[k] = v;
  }
  return {
    entrypoint: c?.Entrypoint ?? [],
    cmd: c?.Cmd ?? [],
    env,
    workingDir: c?.WorkingDir || '/',
    user: c?.User || 'root',
  };
}

/**
 * Runs ArgoCD health scripts in a real Lua 5.1 interpreter (Debian `lua5.1`; ArgoCD's gopher-lua has
 * Lua 5.1 semantics). The object is handed over as a Lua table literal assigned to the global `obj`,
 * as ArgoCD does; the script body runs unchanged inside a function so its top-level `return` works.
 */
import { spawnSync } from 'node:child_process';

export const LUA = process.env.LUA ?? 'lua5.1';

export function luaAvailable(): boolean {
  return spawnSync(LUA, ['-v'], { encoding: 'utf8' }).status === 0;
}

function luaString(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\0/g, '\\0')}"`;
}

/** JSON → Lua table constructor. `null` members are dropped (ArgoCD's conversion yields nil for them). */
export function toLuaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not representable in Lua: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLuaLiteral).join(', ')}}`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([, v]) => v !== null && v !== undefined,
    );
    return `{${entries.map(([k, v]) => `[${luaString(k)}] = ${toLuaLiteral(v)}`).join(', ')}}`;
  }
  throw new Error(`not JSON: ${typeof value}`);
}

export interface HealthStatus {
  readonly status: string;
  readonly message?: string;
}

/** Runs `script` with `obj` and returns what it returned. */
export function runHealthScript(script: string, obj: unknown): HealthStatus {
  const program = [
    // Argo CD's sandbox (util/lua in Argo CD): base, table, package and a safe os (time, date) only.
    'local write = io.write',
    'os = { time = os.time, date = os.date }',
    'string, math, io, debug, coroutine = nil, nil, nil, nil, nil',
    `obj = ${toLuaLiteral(obj)}`,
    'local function health()',
    script,
    'end',
    'local hs = health()',
    'write(hs.status or "", "\\0", hs.message or "")',
  ].join('\n');
  const r = spawnSync(LUA, ['-'], { input: program, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${LUA} failed (${r.status}): ${r.stderr}`);
  const [status, message] = r.stdout.split('\0');
  return message ? { status, message } : { status };
}

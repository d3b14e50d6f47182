/**
 * scripts/lib/cached-build.sh with a toy build (no Go compile): the first caller builds and publishes
 * atomically, a concurrent caller waits on the lock and reuses the result, a failed build leaves
 * neither output nor temp dir, and an incomplete output (no `.complete`) is rebuilt.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const LIB = resolve(__dirname, 'lib', 'cached-build.sh');

// The toy build: counts its runs in a file, sleeps while holding the lock, can be told to fail.
const SCRIPT = `
set -euo pipefail
log() { printf '[toy] %s\\n' "$*" >&2; }
source "${LIB}"
has_tool() { [[ -x "$1/tool" ]]; }
cached_build_begin toy-v1 has_tool
declare -A TIMES=()
echo run >>"$RUNS"
sleep "\${SLEEP:-0}"
[[ -z "\${FAIL:-}" ]] || exit 3
printf '#!/bin/sh\\necho toy\\n' >"$WORK/bin/tool" && chmod +x "$WORK/bin/tool"
TIMES[tool]=1
cached_build_publish '"toyVersion":"v1"'
`;

function runToy(
  cache: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', SCRIPT], {
      env: { ...process.env, NEONVM_CACHE: cache, RUNS: join(cache, 'runs'), ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => done({ code, out, err }));
  });
}

describe('cached-build.sh', () => {
  let cache: string;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), 'neonvm-cached-build-'));
  });
  afterEach(() => rmSync(cache, { recursive: true, force: true }));
  const runs = () =>
    existsSync(join(cache, 'runs'))
      ? readFileSync(join(cache, 'runs'), 'utf8').split('\n').filter(Boolean).length
      : 0;
  const leftovers = () => readdirSync(cache).filter((n) => n.includes('.tmp.'));

  it('builds once; a concurrent caller waits for the lock and reuses the output', async () => {
    const [a, b] = await Promise.all([runToy(cache, { SLEEP: '1' }), runToy(cache, { SLEEP: '1' })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const bin = join(cache, 'toy-v1', 'bin');
    expect(a.out.trim().split('\n').pop()).toBe(bin);
    expect(b.out.trim().split('\n').pop()).toBe(bin);
    expect(runs()).toBe(1);
    expect(a.err + b.err).toMatch(/another build of toy-v1 is running; waiting for it/);
    expect(a.err + b.err).toMatch(/cached: /);
    const timing = JSON.parse(readFileSync(join(cache, 'toy-v1', 'build-timing.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(timing).toMatchObject({ toyVersion: 'v1', steps: { tool: 1 } });
    expect(existsSync(join(cache, 'toy-v1', '.complete'))).toBe(true);
    expect(leftovers()).toEqual([]);
  }, 30_000);

  it('publishes nothing when the build fails, and rebuilds an output without .complete', async () => {
    expect((await runToy(cache, { FAIL: '1' })).code).toBe(3);
    expect(existsSync(join(cache, 'toy-v1'))).toBe(false);
    expect(leftovers()).toEqual([]);
    expect((await runToy(cache)).code).toBe(0);
    rmSync(join(cache, 'toy-v1', '.complete'));
    writeFileSync(join(cache, 'toy-v1', 'bin', 'stale'), '');
    expect((await runToy(cache)).code).toBe(0);
    expect(runs()).toBe(3);
    expect(existsSync(join(cache, 'toy-v1', 'bin', 'stale'))).toBe(false);
  }, 30_000);
});

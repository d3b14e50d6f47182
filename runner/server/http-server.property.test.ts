/**
 * Malformed requests to the runner API (property-based, fast-check), over real HTTP: random methods,
 * paths, tokens and bodies (random bytes, random JSON, near-miss shapes of the real bodies). Whatever
 * arrives, the server answers with a client error or success — never a 500, never a hung request —
 * errors are JSON with a message, a request without the right token never reaches the VM, and the VM
 * is only ever asked for values of the right type and range.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { MigrationInfo } from '../../crds';
import { RUNNER_PATHS, type MemoryState, type QemuState, type RunnerStatus, type SwapState } from '../api';
import type { ValidMigrationRequest } from '../vm-control/migration';
import type { Readiness, VmController } from '../vm-control/vm-controller';
import { startRunnerApiServer } from './http-server';
import { RunnerMetrics } from './metrics';
import { staticToken } from './token-source';

/** A VM controller that records what the server asked of it (the server's contract, nothing else). */
class RecordingVm implements VmController {
  readonly calls: Array<{ op: string; arg?: unknown }> = [];
  readiness(): Readiness {
    return { ready: true, reason: 'recording' };
  }
  async setCpu(milli: number): Promise<void> {
    this.calls.push({ op: 'setCpu', arg: milli });
  }
  async getCpu(): Promise<number> {
    return 1000;
  }
  private mem(): MemoryState {
    return {
      slots: 1,
      requestedSlots: 1,
      minSlots: 1,
      maxSlots: 4,
      slotSizeBytes: 1,
      sizeBytes: 1,
      baseBytes: 1,
      pluggedBytes: 0,
    };
  }
  async setMemory(slots: number): Promise<MemoryState> {
    this.calls.push({ op: 'setMemory', arg: slots });
    return this.mem();
  }
  async getMemory(): Promise<MemoryState> {
    return this.mem();
  }
  async setSwap(sizeBytes: number): Promise<SwapState> {
    this.calls.push({ op: 'setSwap', arg: sizeBytes });
    return { diskBytes: 1 << 30, requestedBytes: sizeBytes };
  }
  async getSwap(): Promise<SwapState> {
    return { diskBytes: 1 << 30, requestedBytes: 1 << 30 };
  }
  async status(): Promise<RunnerStatus> {
    return { guestReady: true } as RunnerStatus;
  }
  async startMigration(req: ValidMigrationRequest): Promise<MigrationInfo> {
    this.calls.push({ op: 'startMigration', arg: req });
    return { status: 'setup' };
  }
  async migration(): Promise<MigrationInfo> {
    return { status: 'none' };
  }
  async cancelMigration(): Promise<MigrationInfo> {
    this.calls.push({ op: 'cancelMigration' });
    return { status: 'cancelling' };
  }
  async qemuState(): Promise<QemuState> {
    return {
      qemuStatus: 'running',
      running: true,
      migrationRole: 'none',
      migration: { status: 'none' },
      guest: 'running',
    };
  }
}

const TOKEN = 'secret-token';
const paths = fc.oneof(
  fc.constantFrom(...Object.values(RUNNER_PATHS)),
  fc.constantFrom(
    '/',
    '/cpu_change/',
    '/../status',
    '/status?x=1',
    '//status',
    '/%2e%2e/status',
    '/migration#x',
  ),
  fc.webPath(),
);
const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');
const auth = fc.oneof(
  { weight: 3, arbitrary: fc.constant(`Bearer ${TOKEN}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'Bearer',
      `Bearer ${TOKEN}x`,
      `bearer ${TOKEN}`,
      TOKEN,
      'Basic Zm9vOmJhcg==',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii' }) },
);
const jsonish = fc.jsonValue({ maxDepth: 3 });
const bodies = fc.oneof(
  jsonish.map((v) => JSON.stringify(v)),
  fc
    .record(
      { VCPUs: fc.oneof(jsonish, fc.constantFrom('250m', '1e999999999', -1, 2 ** 53, '0x10')) },
      { noNullPrototype: true },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      { slots: fc.oneof(jsonish, fc.double(), fc.constantFrom(-1, 1.5, 2 ** 53)) },
      { noNullPrototype: true },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      { sizeBytes: fc.oneof(jsonish, fc.double(), fc.constantFrom(-1, 1.5, 2 ** 53, '1Gi')) },
      { noNullPrototype: true },
    )
    .map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        targetHost: jsonish,
        targetPort: fc.oneof(jsonish, fc.integer()),
        maxBandwidth: jsonish,
        allowPostCopy: jsonish,
      },
      { requiredKeys: [], noNullPrototype: true },
    )
    .map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constantFrom('', '{', 'null', '[]', '"', '{"VCPUs":', 'x'.repeat(70 * 1024)),
);

describe('runner API with malformed requests (property-based)', () => {
  let server: Server;
  let base: string;
  let vm: RecordingVm;

  beforeAll(async () => {
    vm = new RecordingVm();
    server = await startRunnerApiServer(
      { vm, tokens: staticToken(TOKEN), metrics: new RunnerMetrics() },
      '127.0.0.1',
      0,
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers every request with a client error or success, JSON errors, and only sound calls to the VM', async () => {
    await fc.assert(
      fc.asyncProperty(methods, paths, auth, bodies, async (method, path, authorization, body) => {
        const before = vm.calls.length;
        const res = await fetch(`${base}${path.startsWith('/') ? path : `/${path}`}`, {
          method,
          headers: authorization === undefined ? {} : { authorization },
          body: method === 'GET' || method === 'HEAD' ? undefined : body,
          signal: AbortSignal.timeout(5_000),
        });
        const text = await res.text();
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400 && method !== 'HEAD') {
          const parsed = JSON.parse(text) as { error?: unknown };
          expect(typeof parsed.error).toBe('string');
        }
        const calls = vm.calls.slice(before);
        if (authorization !== `Bearer ${TOKEN}`) expect(calls).toEqual([]);
        for (const c of calls) {
          if (c.op === 'setCpu') {
            expect(Number.isInteger(c.arg)).toBe(true);
            expect(c.arg as number).toBeGreaterThanOrEqual(0);
            expect(c.arg as number).toBeLessThanOrEqual(0xffff_ffff);
          }
          if (c.op === 'setMemory') expect(Number.isSafeInteger(c.arg)).toBe(true);
          if (c.op === 'setSwap') {
            expect(Number.isSafeInteger(c.arg)).toBe(true);
            expect(c.arg as number).toBeGreaterThanOrEqual(0);
          }
          if (c.op === 'startMigration') {
            const r = c.arg as ValidMigrationRequest;
            expect(typeof r.targetHost).toBe('string');
            expect(Number.isInteger(r.targetPort)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MigrationInfo } from '../../crds';
import {
  RunnerApiError,
  RunnerClient,
  type MemoryState,
  type QemuState,
  type RunnerStatus,
  type SwapState,
} from '../api';
import type { ValidMigrationRequest } from '../vm-control/migration';
import type { Readiness, VmController } from '../vm-control/vm-controller';
import { badRequest, conflict } from '../vm-control/vm-error';
import { SwapScaler } from '../vm-control/swap-scaler';
import { startRunnerApiServer } from './http-server';
import { RunnerMetrics } from './metrics';
import { staticToken } from './token-source';

class FakeVm implements VmController {
  ready = false;
  milli = 1000;
  slots = 1;
  migrating = false;
  lastMigration?: ValidMigrationRequest;
  guestSwap = 0;
  readonly swap = new SwapScaler(
    {
      resizeSwap: async (n: number) => {
        this.guestSwap = n;
      },
      status: async () => ({
        cpuScalingMode: 'QmpScaling',
        onlineCpus: [0],
        presentCpus: [0],
        memTotalBytes: 1,
        swapTotalBytes: this.guestSwap,
      }),
    },
    1 << 30,
  );
  readiness(): Readiness {
    return { ready: this.ready, reason: 'fake' };
  }
  async setCpu(milli: number): Promise<void> {
    if (milli > 4000) throw badRequest('too many');
    if (this.migrating) throw conflict('a migration is in progress');
    this.milli = milli;
  }
  async getCpu(): Promise<number> {
    return this.milli;
  }
  private mem(): MemoryState {
    return {
      slots: this.slots,
      requestedSlots: this.slots,
      minSlots: 1,
      maxSlots: 4,
      slotSizeBytes: 1,
      sizeBytes: this.slots,
      baseBytes: 1,
      pluggedBytes: this.slots - 1,
    };
  }
  async setMemory(slots: number): Promise<MemoryState> {
    if (slots > 4) throw badRequest('slots 5 is outside [1, 4]');
    this.slots = slots;
    return this.mem();
  }
  async getMemory(): Promise<MemoryState> {
    return this.mem();
  }
  async setSwap(sizeBytes: unknown): Promise<SwapState> {
    return this.swap.set(this.swap.check(sizeBytes));
  }
  async getSwap(): Promise<SwapState> {
    return this.swap.state();
  }
  async status(): Promise<RunnerStatus> {
    return { guestReady: this.ready } as RunnerStatus;
  }
  async startMigration(req: ValidMigrationRequest): Promise<MigrationInfo> {
    this.lastMigration = req;
    this.migrating = true;
    return { status: 'setup' };
  }
  async migration(): Promise<MigrationInfo> {
    return { status: this.migrating ? 'active' : 'none' };
  }
  async cancelMigration(): Promise<MigrationInfo> {
    if (!this.migrating) throw conflict('no migration in progress');
    this.migrating = false;
    return { status: 'cancelling' };
  }
  async qemuState(): Promise<QemuState> {
    const status = this.migrating ? 'active' : 'none';
    return {
      qemuStatus: 'running',
      running: true,
      migrationRole: this.migrating ? 'source' : 'none',
      migration: { status },
      guest: 'running',
    };
  }
}

describe('runner API server', () => {
  let server: Server;
  let vm: FakeVm;
  let client: RunnerClient;
  let base: string;

  beforeEach(async () => {
    vm = new FakeVm();
    server = await startRunnerApiServer(
      { vm, tokens: staticToken('secret'), metrics: new RunnerMetrics() },
      '127.0.0.1',
      0,
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new RunnerClient({ baseUrl: base, token: 'secret' });
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('reports readiness without a token', async () => {
    expect(await new RunnerClient({ baseUrl: base, token: '' }).ready()).toBe(false);
    vm.ready = true;
    expect(await client.ready()).toBe(true);
  });

  it('rejects unauthenticated and wrongly authenticated calls with 401', async () => {
    const res = await fetch(`${base}/cpu_current`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const err = await new RunnerClient({ baseUrl: base, token: 'nope' }).getCpu().catch((e: unknown) => e);
    expect((err as RunnerApiError).status).toBe(401);
  });

  it('applies CPU changes in the upstream wire format', async () => {
    await client.setCpu(2500);
    expect(vm.milli).toBe(2500);
    expect(
      await (await fetch(`${base}/cpu_current`, { headers: { authorization: 'Bearer secret' } })).json(),
    ).toEqual({ VCPUs: '2500m' });
    const raw = await fetch(`${base}/cpu_change`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret' },
      body: '{"VCPUs": 3}',
    });
    expect(raw.status).toBe(200);
    expect(vm.milli).toBe(3000);
  });

  it('maps bad requests to 400 and state conflicts to 409 with a message', async () => {
    const bad = await fetch(`${base}/cpu_change`, {
      method: 'POST',
      headers: { authorization: 'Bearer secret' },
      body: '{"VCPUs": "lots"}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/VCPUs/);
    await expect(client.setMemory(5)).rejects.toMatchObject({ status: 400 });
    await expect(client.cancelMigration()).rejects.toMatchObject({ status: 409 });
    const wrongMethod = await fetch(`${base}/cpu_current`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer secret' },
    });
    expect(wrongMethod.status).toBe(405);
  });

  it('validates and defaults migration requests', async () => {
    await expect(client.startMigration({ targetHost: '' })).rejects.toMatchObject({ status: 400 });
    await expect(
      client.startMigration({ targetHost: '10.0.0.2', maxBandwidth: 'fast' }),
    ).rejects.toMatchObject({ status: 400 });
    expect(vm.lastMigration).toBeUndefined();
    expect(await client.startMigration({ targetHost: '10.0.0.2' })).toEqual({ status: 'setup' });
    expect(vm.lastMigration).toEqual({
      targetHost: '10.0.0.2',
      targetPort: 20187,
      maxBandwidthBytes: 1073741824,
      allowPostCopy: false,
      autoConverge: true,
      incremental: true,
      targetVcpus: undefined,
    });
    await expect(client.setCpu(2000)).rejects.toMatchObject({ status: 409 });
    expect(await client.migration()).toEqual({ status: 'active' });
    expect(await client.cancelMigration()).toEqual({ status: 'cancelling' });
  });

  it('answers GET /qemu with the run state and who holds the guest', async () => {
    expect(await client.qemuState()).toEqual({
      qemuStatus: 'running',
      running: true,
      migrationRole: 'none',
      migration: { status: 'none' },
      guest: 'running',
    });
    const res = await fetch(`${base}/qemu`);
    expect(res.status).toBe(401);
  });

  it('resizes swap within the swap disk, refusing more with the field named', async () => {
    expect(await client.setSwap(256 << 20)).toEqual({
      diskBytes: 1 << 30,
      requestedBytes: 256 << 20,
      guestBytes: 256 << 20,
    });
    await expect(client.setSwap(2 * 2 ** 30)).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(
        /exceeds the swap disk \(spec\.guest\.settings\.swap = 1073741824 bytes\)/,
      ),
    });
    await expect(client.setSwap(-1)).rejects.toMatchObject({ status: 400 });
    expect(vm.guestSwap).toBe(256 << 20);
    expect((await client.getSwap()).requestedBytes).toBe(256 << 20);
    const noDisk = new SwapScaler(
      { resizeSwap: async () => undefined, status: async () => ({}) as never },
      undefined,
    );
    expect(() => noDisk.check(1)).toThrow(/spec\.guest\.settings\.swap is not set/);
  });

  it('serves memory state and Prometheus metrics', async () => {
    expect((await client.setMemory(3)).slots).toBe(3);
    expect((await client.getMemory()).pluggedBytes).toBe(2);
    const text = await client.metrics();
    expect(text).toContain('neonvm_runner_api_requests_total');
    expect(text).toContain('neonvm_runner_scaling_duration_seconds');
  });
});

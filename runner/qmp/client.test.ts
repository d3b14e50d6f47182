import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../host';
import { QmpClient } from './client';
import { QmpCommandError, QmpConnectionError, QmpTimeoutError } from './errors';
import { FakeQmpServer } from './testing/fake-qmp-server';

describe('QmpClient (against a fake QMP server)', () => {
  let dir: string;
  let server: FakeQmpServer;
  let client: QmpClient | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-qmp-test-'));
    server = new FakeQmpServer(join(dir, 'qmp.sock'));
    await server.listen();
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async (opts: { reconnectMinMs?: number; commandTimeoutMs?: number } = {}) =>
    (client = await QmpClient.connect({ socketPath: server.socketPath, connectTimeoutMs: 2000, ...opts }));

  it('negotiates capabilities and returns typed results matched by id', async () => {
    server.handle('query-status', () => ({ return: { running: true, status: 'running' } }));
    server.handle('slow', () => new Promise((r) => setTimeout(() => r({ return: 'slow' }), 50)));
    server.handle('fast', () => ({ return: 'fast' }));
    const c = await connect();
    expect(c.greeting?.QMP.version.qemu.major).toBe(7);
    expect(server.received[0]!.execute).toBe('qmp_capabilities');
    // Replies arrive out of order; each promise gets its own.
    const [slow, fast] = await Promise.all([c.execute<string>('slow'), c.execute<string>('fast')]);
    expect([slow, fast]).toEqual(['slow', 'fast']);
    expect(await c.execute<{ status: string }>('query-status')).toEqual({ running: true, status: 'running' });
  });

  it('passes arguments and surfaces QMP errors with class and description', async () => {
    server.handle('device_del', (args) => ({
      error: { class: 'DeviceNotFound', desc: `Device '${String(args.id)}' not found` },
    }));
    const c = await connect();
    const err = await c.execute('device_del', { id: 'cpu9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(err).toMatchObject({
      command: 'device_del',
      errorClass: 'DeviceNotFound',
      desc: "Device 'cpu9' not found",
    });
    expect(server.received.at(-1)).toEqual({ execute: 'device_del', arguments: { id: 'cpu9' } });
  });

  it('times out a command without a reply and ignores the late reply', async () => {
    server.handle('hang', () => 'no-reply');
    server.handle('ping', () => ({ return: {} }));
    const c = await connect();
    await expect(c.execute('hang', undefined, { timeoutMs: 50 })).rejects.toBeInstanceOf(QmpTimeoutError);
    await expect(c.execute('ping')).resolves.toEqual({});
  });

  it('times commands and event waits on its clock, not the wall clock', async () => {
    server.handle('hang', () => 'no-reply');
    const clock = new FakeClock();
    const c = (client = await QmpClient.connect({ socketPath: server.socketPath, clock }));
    const settled: string[] = [];
    const command = c.execute('hang', undefined, { timeoutMs: 10_000 }).catch((e: Error) => {
      settled.push(`command: ${e.name}`);
    });
    const event = c.waitForEvent('SHUTDOWN', undefined, 60_000).catch((e: Error) => {
      settled.push(`event: ${e.name}`);
    });
    await new Promise((r) => setTimeout(r, 20)); // the command reached the server; real time passes
    clock.advance(9_999);
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]);
    clock.advance(1);
    await command;
    expect(settled).toEqual(['command: QmpTimeoutError']);
    clock.advance(50_000);
    await event;
    expect(settled).toEqual(['command: QmpTimeoutError', 'event: QmpTimeoutError']);
  });

  it('delivers events and waitForEvent filters by predicate', async () => {
    const c = await connect();
    const seen: string[] = [];
    c.onEvent('DEVICE_DELETED', (e) => seen.push(String(e.data.device)));
    const waited = c.waitForEvent('DEVICE_DELETED', (e) => e.data.device === 'cpu2', 1000);
    server.emitEvent('DEVICE_DELETED', { device: 'cpu1' });
    server.emitEvent('RESUME');
    server.emitEvent('DEVICE_DELETED', { device: 'cpu2' });
    expect((await waited).data).toEqual({ device: 'cpu2' });
    expect(seen).toEqual(['cpu1', 'cpu2']);
    await expect(c.waitForEvent('SHUTDOWN', undefined, 30)).rejects.toBeInstanceOf(QmpTimeoutError);
  });

  it('rejects pending commands when the connection drops, then reconnects', async () => {
    server.handle('hang', () => 'no-reply');
    server.handle('ping', () => ({ return: 'pong' }));
    const c = await connect({ reconnectMinMs: 10 });
    const pending = c.execute('hang');
    const reconnected = new Promise((r) => c.once('connected', r));
    server.dropConnections();
    await expect(pending).rejects.toBeInstanceOf(QmpConnectionError);
    await reconnected;
    expect(server.connections).toBe(2);
    await expect(c.execute('ping')).resolves.toBe('pong');
  });

  it('queues commands issued while reconnecting', async () => {
    server.handle('ping', () => ({ return: 'pong' }));
    const c = await connect({ reconnectMinMs: 30 });
    const disconnected = new Promise((r) => c.once('disconnected', r));
    server.dropConnections();
    await disconnected;
    await expect(c.execute('ping', undefined, { timeoutMs: 2000 })).resolves.toBe('pong');
  });

  it('close() stops reconnecting and rejects waiters', async () => {
    const c = await connect({ reconnectMinMs: 10 });
    const waiter = c.waitForEvent('SHUTDOWN', undefined, 5000);
    await c.close();
    client = undefined;
    await expect(waiter).rejects.toBeInstanceOf(QmpConnectionError);
    await expect(c.execute('ping')).rejects.toBeInstanceOf(QmpConnectionError);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.connections).toBe(1);
  });

  it('close() during a reconnect attempt leaves no connection behind', async () => {
    const c = await connect({ reconnectMinMs: 10 });
    server.handle('qmp_capabilities', () => 'no-reply'); // the reconnect hangs in negotiation
    const reconnecting = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (server.connections === 2 && server.openConnections === 1) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    server.dropConnections();
    await reconnecting;
    await c.close();
    client = undefined;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.openConnections).toBe(0);
  });

  it('keeps trying until the socket appears, then gives up after the timeout', async () => {
    const late = new FakeQmpServer(join(dir, 'late.sock'));
    const connecting = QmpClient.connect({ socketPath: late.socketPath, connectTimeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    await late.listen();
    const c = await connecting;
    await c.close();
    await late.close();
    await expect(
      QmpClient.connect({ socketPath: join(dir, 'never.sock'), connectTimeoutMs: 100 }),
    ).rejects.toBeInstanceOf(QmpConnectionError);
  });
});

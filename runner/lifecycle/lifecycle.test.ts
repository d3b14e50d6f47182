/**
 * The stage runner with real resources (a directory, a listening socket): whatever a failing or
 * aborted start created is gone afterwards, in reverse order, and errors name their stage.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, sleep } from '../../host';
import { Lifecycle, StageError } from './lifecycle';

function listen(): Promise<Server> {
  const server = createServer((s) => s.end());
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function port(server: Server): number {
  return (server.address() as { port: number }).port;
}

function accepts(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(p, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

describe('Lifecycle', () => {
  let base: string;
  const logs: Array<{ msg: string; extra?: Record<string, unknown> }> = [];
  const log = (msg: string, extra?: Record<string, unknown>) => logs.push({ msg, extra });
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'lifecycle-'));
    logs.length = 0;
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('unwinds the earlier stages when a stage fails, and runs no later stage', async () => {
    const life = new Lifecycle({ log });
    const dir = join(base, 'sockets');
    let server: Server | undefined;
    let laterRan = false;
    const started = life.start(async () => {
      await life.stage('directories', async (ctx) => {
        await mkdir(dir);
        ctx.onUndo('remove the socket directory', () => rm(dir, { recursive: true }));
        writeFileSync(join(dir, 'qmp.sock'), '');
      });
      server = await life.stage('serve', async (ctx) => {
        const s = await listen();
        ctx.onUndo('close the server', () => close(s));
        return s;
      });
      await life.stage('disks', () => {
        throw new Error('qemu-img: No space left on device');
      });
      laterRan = true;
    });
    await expect(started).rejects.toThrow(
      new StageError('disks', new Error('qemu-img: No space left on device')),
    );
    await expect(started).rejects.toMatchObject({ stage: 'disks' });
    expect(laterRan).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(server?.listening).toBe(false);
    expect(logs.filter((l) => l.msg === 'stage done').map((l) => l.extra?.stage)).toEqual([
      'directories',
      'serve',
    ]);
  });

  it('reports a failing undo and still undoes everything before it', async () => {
    const life = new Lifecycle({ log });
    const dir = join(base, 'state');
    const started = life.start(async () => {
      await life.stage('directories', async (ctx) => {
        await mkdir(dir);
        ctx.onUndo('remove the state directory', () => rm(dir, { recursive: true }));
      });
      await life.stage('network', (ctx) =>
        ctx.onUndo('stop dnsmasq', () => {
          throw new Error('EPERM');
        }),
      );
      await life.stage('QEMU', () => Promise.reject(new Error('QEMU exited (1)')));
    });
    await expect(started).rejects.toThrow('QEMU: QEMU exited (1)');
    expect(existsSync(dir)).toBe(false);
    expect(logs).toContainEqual({
      msg: 'cleanup step failed',
      extra: { step: 'network: stop dnsmasq', error: 'EPERM' },
    });
  });

  it('abort stops a start at once and undoes what the interrupted stage creates later', async () => {
    const life = new Lifecycle({ log });
    let finishSlowStage: () => void = () => undefined;
    const slowStageDone = new Promise<void>((r) => (finishSlowStage = r));
    let late: Server | undefined;
    const dir = join(base, 'images');
    const started = life.start(async () => {
      await life.stage('directories', async (ctx) => {
        await mkdir(dir);
        ctx.onUndo('remove the images directory', () => rm(dir, { recursive: true }));
      });
      await life.stage('inspect host', async (ctx) => {
        await new Promise<void>((r) => setImmediate(r));
        late = await listen();
        const s = late;
        await slowStageDone; // e.g. building the guest: minutes
        ctx.onUndo('close the late server', () => close(s));
      });
    });
    await new Promise<void>((r) => setTimeout(r, 20));
    const failures = await life.abort(new Error('received SIGTERM while starting'));
    expect(failures).toEqual([]);
    await expect(started).rejects.toThrow('inspect host: received SIGTERM while starting');
    expect(existsSync(dir)).toBe(false);
    const latePort = port(late!);
    expect(await accepts(latePort)).toBe(true); // still owned by the stage that has not finished
    finishSlowStage();
    await life.cleanup.unwind();
    expect(await accepts(latePort)).toBe(false);
    await expect(life.stage('serve API', () => 'never')).rejects.toThrow('serve API: received SIGTERM');
  });

  it('times stages and their waits on its clock', async () => {
    const clock = new FakeClock();
    const life = new Lifecycle({ log, clock });
    const waited = life.stage('start QEMU', ({ clock: c }) => sleep(1000, c));
    while (clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    await waited;
    expect(logs).toContainEqual({ msg: 'stage done', extra: { stage: 'start QEMU', ms: 1000 } });
  });

  it('once started, the same stack is unwound once by whoever comes first', async () => {
    const life = new Lifecycle({ log });
    const undone: string[] = [];
    const value = await life.start(async () => {
      await life.stage('a', (ctx) => ctx.onUndo('a', () => undone.push('a')));
      await life.stage('b', (ctx) => ctx.onUndo('b', () => undone.push('b')));
      return 42;
    });
    expect(value).toBe(42);
    expect(undone).toEqual([]);
    await Promise.all([life.cleanup.unwind(), life.abort(new Error('crash')), life.cleanup.unwind()]);
    expect(undone).toEqual(['b', 'a']);
  });
});

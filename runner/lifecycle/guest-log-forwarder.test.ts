import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../host';
import { GuestLogForwarder } from './guest-log-forwarder';

describe('GuestLogForwarder', () => {
  let dir: string;
  let server: Server;
  const clients: Socket[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'log-fwd-'));
    server = createServer((s) => clients.push(s));
    await new Promise<void>((r) => server.listen(join(dir, 'log.sock'), r));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes whole lines, reconnects after a drop, and flushes the last partial line at stop', async () => {
    const out: string[] = [];
    const fwd = new GuestLogForwarder(join(dir, 'log.sock'), (t) => out.push(t));
    fwd.start(0);
    await pollUntil(async () => (clients.length === 1 ? true : undefined), {
      timeoutMs: 5_000,
      description: 'connect',
    });
    clients[0]!.write('first li');
    clients[0]!.write('ne\nsecond line\nthir');
    await pollUntil(async () => (out.length > 0 ? true : undefined), {
      timeoutMs: 5_000,
      description: 'lines',
    });
    expect(out.join('')).toBe('first line\nsecond line\n');
    clients[0]!.destroy(); // QEMU's side goes away: the forwarder comes back
    await pollUntil(async () => (clients.length === 2 ? true : undefined), {
      timeoutMs: 5_000,
      description: 'reconnect',
    });
    clients[1]!.write('d line\nlast');
    await pollUntil(async () => (out.join('').includes('third line') ? true : undefined), {
      timeoutMs: 5_000,
      description: 'the line across the reconnect',
    });
    fwd.stop();
    expect(out.join('')).toBe('first line\nsecond line\nthird line\nlast\n');
  });
});

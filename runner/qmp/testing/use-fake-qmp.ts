import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../client';
import { FakeQmpServer } from './fake-qmp-server';

/** What a test gets from {@link useFakeQmp}: a fresh server and a client connected to it. */
export interface FakeQmp {
  readonly server: FakeQmpServer;
  readonly qmp: QmpClient;
}

/**
 * A fake QMP server and a connected client per test: a temp dir and server are made in beforeEach,
 * `configure` installs the test file's handlers before the server listens, and afterEach closes the
 * client and server and removes the dir. The returned object's getters throw outside a test, since
 * both exist only once beforeEach has run.
 *
 *   const fake = useFakeQmp((server) => server.handle('qom-set', () => ({ return: {} })));
 *   it('...', async () => { const scaler = new MemoryScaler(fake.qmp, ...); ... });
 *
 * The client runs on real time: a test's fake clock belongs to the code under test, not to QMP.
 */
export function useFakeQmp(configure: (server: FakeQmpServer) => void = () => {}): FakeQmp {
  let dir: string | undefined;
  let current: FakeQmp | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neonvm-fake-qmp-'));
    const server = new FakeQmpServer(join(dir, 'qmp.sock'));
    configure(server);
    await server.listen();
    current = { server, qmp: await QmpClient.connect({ socketPath: server.socketPath }) };
  });
  afterEach(async () => {
    await current?.qmp.close();
    await current?.server.close();
    current = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const running = (): FakeQmp => {
    if (!current) throw new Error('the fake QMP server is not running (did beforeEach fail?)');
    return current;
  };
  return {
    get server() {
      return running().server;
    },
    get qmp() {
      return running().qmp;
    },
  };
}

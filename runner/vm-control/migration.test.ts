import { FakeClock } from '../../host';
import { defaultedSpec } from '../../crds/testing';
import { vmShape } from '../plan/vm-shape';
import { DEFAULT_MIGRATION_TUNING } from '../plan/migration-tuning';
import { useFakeQmp } from '../qmp/testing/use-fake-qmp';
import { CpuScaler } from './cpu-scaler';
import { GuestAgent } from './guest-agent';
import {
  Migrator,
  resumesIncomingGuest,
  resumesSourceAfter,
  stopsGuestForStream,
  validateMigrationRequest,
} from './migration';

describe('stop-and-copy under TCG (pure)', () => {
  it('stops the guest for the stream under TCG only', () => {
    expect(stopsGuestForStream('tcg')).toBe(true);
    expect(stopsGuestForStream('kvm')).toBe(false);
    // The QEMU of Debian 12 (7.2) is affected; 9.0 has the upstream fix; unknown counts as affected.
    expect(stopsGuestForStream('tcg', { major: 7, minor: 2 })).toBe(true);
    expect(stopsGuestForStream('tcg', { major: 9, minor: 0 })).toBe(false);
    expect(stopsGuestForStream('kvm', { major: 7, minor: 2 })).toBe(false);
  });

  // [final status, source run state, post-copy allowed, resumed]
  const source: Array<[string, string, boolean, boolean]> = [
    ['completed', 'postmigrate', false, false], // handed off: the target runs it
    ['completed', 'finish-migrate', false, false],
    ['failed', 'paused', false, true], // before the switch-over
    ['cancelled', 'paused', false, true],
    ['failed', 'paused', true, true], // post-copy never began
    ['failed', 'postmigrate', false, true], // a failed final phase: QEMU would restart a running guest
    ['failed', 'finish-migrate', false, true],
    ['failed', 'postmigrate', true, false], // after a post-copy switch-over: split between both ends
    ['failed', 'finish-migrate', true, false],
    ['failed', 'running', false, false], // someone resumed it already
    ['failed', 'shutdown', false, false],
  ];
  it.each(source)('source: migration %s, QEMU %s, post-copy %s → resume %s', (st, run, pc, resume) => {
    expect(resumesSourceAfter(st, run, pc)).toBe(resume);
  });

  // [QEMU status, incoming status, role, initialised, resumed]
  const target: Array<[string, string, 'none' | 'source' | 'target', boolean, boolean]> = [
    ['paused', 'completed', 'target', false, true], // arrived paused from a stop-and-copy source
    ['inmigrate', 'active', 'target', false, false], // still loading
    ['running', 'completed', 'target', false, false], // arrived running (a live source)
    ['paused', 'failed', 'target', false, false],
    ['paused', 'completed', 'target', true, false], // ours already: paused later, not by the stream
    ['paused', 'completed', 'none', false, false],
  ];
  it.each(target)(
    'target: QEMU %s, incoming %s, role %s, initialised %s → resume %s',
    (q, m, role, init, r) => {
      expect(resumesIncomingGuest({ qemuStatus: q, incomingStatus: m, role, initialised: init })).toBe(r);
    },
  );
});

describe('Migrator (against a fake QMP server)', () => {
  let runState: string;
  let migrateStatus: string;

  const fake = useFakeQmp((server) => {
    runState = 'running';
    migrateStatus = 'none';
    const ok = () => ({ return: {} });
    server
      .handle('query-hotpluggable-cpus', () => ({
        return: [
          {
            type: 'max-x86_64-cpu',
            'vcpus-count': 1,
            props: { 'core-id': 0 },
            'qom-path': '/machine/unattached/device[0]',
          },
        ],
      }))
      .handle('query-status', () => ({ return: { running: runState === 'running', status: runState } }))
      .handle('query-migrate', () => ({ return: { status: migrateStatus } }))
      .handle('migrate-set-capabilities', ok)
      .handle('migrate-set-parameters', ok)
      .handle('stop', () => ((runState = 'paused'), ok()))
      .handle('cont', () => ((runState = 'running'), ok()))
      .handle('migrate', () => ((migrateStatus = 'active'), ok()));
  });

  let clock: FakeClock;
  const migrator = (stopGuest: boolean, blockMigration = true) => {
    clock = new FakeClock();
    const cpu = new CpuScaler(
      fake.qmp,
      new GuestAgent('http://127.0.0.1:9', 'token'),
      vmShape(defaultedSpec()),
      clock,
    );
    return new Migrator(
      fake.qmp,
      cpu,
      () => undefined,
      clock,
      undefined,
      undefined,
      stopGuest,
      blockMigration,
      blockMigration ? { major: 7, minor: 2, micro: 22 } : { major: 10, minor: 0, micro: 2 },
    );
  };
  const commands = () =>
    fake.server.received.map((r) => r.execute).filter((c) => ['stop', 'migrate', 'cont'].includes(c));
  const request = validateMigrationRequest({ targetHost: '10.0.0.2' });

  it('stops the guest right before `migrate` and leaves it stopped once the target has it', async () => {
    const m = migrator(true);
    await m.start(request);
    expect(commands()).toEqual(['stop', 'migrate']);
    migrateStatus = 'completed';
    runState = 'postmigrate';
    fake.server.handle('query-migrate', () => ({
      return: { status: 'completed', 'total-time': 420, downtime: 25 },
    }));
    // The guest was paused for the whole stream, not only QEMU's own switch-over.
    expect(await m.info()).toMatchObject({ status: 'completed', totalTimeMs: 420, downtimeMs: 420 });
    expect(commands()).toEqual(['stop', 'migrate']);
    // GET /qemu (what the operator copies into status.info) reports the same figures.
    expect(m.reported({ status: 'completed', totalTimeMs: 420, downtimeMs: 25 })).toMatchObject({
      downtimeMs: 420,
    });
    m.stop();
  });

  it('refuses to migrate with -migration-compression=compress on QEMU >= 9.1, naming the flag and the version', async () => {
    const compress = { ...DEFAULT_MIGRATION_TUNING, compression: 'compress' as const };
    const cpu = new CpuScaler(
      fake.qmp,
      new GuestAgent('http://127.0.0.1:9', 'token'),
      vmShape(defaultedSpec()),
    );
    const on = (qemu: { major: number; minor: number }) =>
      new Migrator(fake.qmp, cpu, () => undefined, new FakeClock(), undefined, compress, false, false, qemu);
    const q10 = on({ major: 10, minor: 0 });
    await expect(q10.start(request)).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining('-migration-compression=compress needs QEMU before 9.1') as unknown,
    });
    await expect(q10.listen('127.0.0.1')).rejects.toThrow(/cannot receive a migration: .*this QEMU is 10\.0/);
    // Nothing reached QEMU: it would only have answered "does not accept value 'compress'".
    expect(fake.server.received.map((r) => r.execute)).not.toContain('migrate-set-capabilities');
    // 7.2 still has the capability.
    const q72 = new Migrator(
      fake.qmp,
      cpu,
      () => undefined,
      new FakeClock(),
      undefined,
      compress,
      false,
      true,
      {
        major: 7,
        minor: 2,
      },
    );
    await q72.start(request);
    expect(
      fake.server.received.find((r) => r.execute === 'migrate-set-capabilities')?.arguments,
    ).toMatchObject({
      capabilities: expect.arrayContaining([{ capability: 'compress', state: true }]) as unknown,
    });
    q72.stop();
  });

  it("reports QEMU's own downtime for a live stream", async () => {
    const m = migrator(false);
    await m.start(request);
    expect(commands()).toEqual(['migrate']);
    expect(m.reported({ status: 'completed', totalTimeMs: 420, downtimeMs: 25 })).toMatchObject({
      downtimeMs: 25,
    });
    m.stop();
  });

  it('resumes the guest on the source when the stream fails before the switch-over', async () => {
    const m = migrator(true);
    const finished: string[] = [];
    m.onFinished((i) => finished.push(i.status ?? ''));
    await m.start(request);
    migrateStatus = 'failed';
    await m.info();
    expect(commands()).toEqual(['stop', 'migrate', 'cont']);
    expect(runState).toBe('running');
    expect(finished).toEqual(['failed']);
    await m.info(); // a later query does not resume again
    expect(commands()).toEqual(['stop', 'migrate', 'cont']);
    m.stop();
  });

  it('resumes the guest when QEMU refuses `migrate`', async () => {
    fake.server.handle('migrate', () => ({ error: { class: 'GenericError', desc: 'no route' } }));
    const m = migrator(true);
    await expect(m.start(request)).rejects.toThrow(
      'QEMU refused the migration: QMP migrate: GenericError: no route',
    );
    expect(commands()).toEqual(['stop', 'migrate', 'cont']);
    expect(runState).toBe('running');
  });

  describe('post-copy that fails after the switch-over', () => {
    const postCopy = validateMigrationRequest({ targetHost: '10.0.0.2', allowPostCopy: true });
    beforeEach(() => {
      fake.server.handle('migrate-start-postcopy', () => ({ return: {} }));
    });
    const capabilitiesSet = () =>
      fake.server.received
        .filter((r) => r.execute === 'migrate-set-capabilities')
        .flatMap((r) => (r.arguments?.capabilities ?? []) as Array<{ capability: string; state: boolean }>);
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    };

    it('stops the guest QEMU restarted and reports it stale (a failed completion, QEMU 10)', async () => {
      const m = migrator(false);
      await m.start(postCopy);
      // The MIGRATION events say when post-copy began and when it failed.
      expect(capabilitiesSet()).toContainEqual({ capability: 'events', state: true });
      fake.server.emitEvent('MIGRATION', { status: 'postcopy-active' });
      expect(m.staleAfterPostcopy).toBe(false);
      // QEMU fails the completion and restarts the guest it had before the switch-over.
      migrateStatus = 'failed';
      runState = 'running';
      fake.server.emitEvent('MIGRATION', { status: 'failed' });
      await until(() => runState === 'paused');
      expect(runState).toBe('paused');
      expect(commands()).toEqual(['migrate', 'stop']);
      expect(m.staleAfterPostcopy).toBe(true);
      // A query afterwards (the poll) changes nothing, and no new migration starts from a stale guest.
      await m.info();
      expect(commands()).toEqual(['migrate', 'stop']);
      await expect(m.start(postCopy)).rejects.toMatchObject({
        status: 409,
        message: expect.stringContaining('stale') as unknown,
      });
      m.stop();
    });

    it('is seen in the poll too when the events were missed', async () => {
      const m = migrator(false);
      await m.start(postCopy);
      migrateStatus = 'postcopy-active';
      await m.info();
      migrateStatus = 'failed';
      runState = 'running';
      await m.info();
      await until(() => runState === 'paused');
      expect(m.staleAfterPostcopy).toBe(true);
      expect(commands()).toEqual(['migrate', 'stop']);
    });

    it('never resumes a stale guest that the stream had stopped (stop-and-copy with post-copy)', async () => {
      const m = migrator(true);
      await m.start(postCopy);
      expect(commands()).toEqual(['stop', 'migrate']);
      fake.server.emitEvent('MIGRATION', { status: 'postcopy-active' });
      // QEMU restarts it and says so; the runner's `stop` comes before its poll sees the end.
      migrateStatus = 'failed';
      runState = 'running';
      fake.server.emitEvent('MIGRATION', { status: 'failed' });
      await until(() => runState === 'paused');
      // `paused` now, as during the stream: the poll's end of the migration must not read it as such.
      await m.info();
      expect(commands()).toEqual(['stop', 'migrate', 'stop']);
      expect(runState).toBe('paused');
      expect(m.staleAfterPostcopy).toBe(true);
    });

    it('leaves a guest alone whose migration failed before post-copy began', async () => {
      const m = migrator(false);
      await m.start(postCopy);
      migrateStatus = 'failed';
      await m.info();
      expect(m.staleAfterPostcopy).toBe(false);
      expect(commands()).toEqual(['migrate']);
      expect(runState).toBe('running');
      // The guest is whole here: it may migrate again.
      migrateStatus = 'none';
      await m.start(postCopy);
      m.stop();
    });
  });

  describe('QEMU >= 9.1 (no block migration): the disks over NBD', () => {
    const disk = { device: 'rootdisk', inserted: { ro: false, 'node-name': '#block1' } };
    const iso = { device: 'runtime', inserted: { ro: true, 'node-name': '#block2' } };
    let jobs: Array<{ device: string; ready: boolean }>;
    beforeEach(() => {
      jobs = [];
      const ok = () => ({ return: {} });
      fake.server
        .handle('query-block', () => ({ return: [disk, iso] }))
        .handle('blockdev-add', ok)
        .handle('blockdev-del', ok)
        .handle('blockdev-mirror', (a) => {
          jobs.push({ device: String(a?.['job-id']), ready: true });
          return ok();
        })
        .handle('query-block-jobs', () => ({ return: jobs }))
        .handle('block-job-cancel', (a) => {
          jobs = [];
          // As QEMU: a ready mirror's cancel ends in BLOCK_JOB_COMPLETED.
          setImmediate(() =>
            fake.server.emitEvent('BLOCK_JOB_COMPLETED', { device: a['job-id'] ?? a.device }),
          );
          return ok();
        })
        .handle('migrate-continue', ok)
        .handle('migrate-incoming', ok)
        .handle('nbd-server-start', ok)
        .handle('nbd-server-stop', ok)
        .handle('block-export-add', ok);
    });
    const sent = (name: string) =>
      fake.server.received.filter((r) => r.execute === name).map((r) => r.arguments);
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
      expect(what()).toBe(true);
    };

    it('source: mirrors the writable disks to the target port + 1, then `migrate` without blk/inc; ends the mirrors at the switch-over pause', async () => {
      const m = migrator(false, false);
      await m.start(request);
      await until(() => sent('migrate').length === 1);
      expect(sent('blockdev-add')).toEqual([
        {
          driver: 'nbd',
          'node-name': 'migration-nbd-rootdisk',
          server: { type: 'inet', host: '10.0.0.2', port: '20188' },
          export: 'rootdisk',
        },
      ]);
      expect(sent('blockdev-mirror')).toEqual([
        {
          'job-id': 'migration-mirror-rootdisk',
          device: '#block1',
          target: 'migration-nbd-rootdisk',
          sync: 'top',
          'copy-mode': 'write-blocking',
          speed: 1024 ** 3,
        },
      ]);
      expect(sent('migrate')).toEqual([{ uri: 'tcp:10.0.0.2:20187' }]);
      expect(sent('migrate-set-capabilities')[0]).toMatchObject({
        capabilities: expect.arrayContaining([
          { capability: 'pause-before-switchover', state: true },
          { capability: 'events', state: true },
        ]) as unknown,
      });
      fake.server.emitEvent('MIGRATION', { status: 'pre-switchover' });
      await until(() => sent('blockdev-del').length === 1);
      expect(sent('block-job-cancel')).toEqual([{ device: 'migration-mirror-rootdisk' }]);
      expect(sent('migrate-continue')).toEqual([{ state: 'pre-switchover' }]);
      // The guest is paused until `migrate-continue`: the NBD disconnect comes after it.
      const order = fake.server.received.map((r) => r.execute);
      expect(order.indexOf('blockdev-del')).toBeGreaterThan(order.indexOf('migrate-continue'));
      expect(sent('blockdev-del')).toEqual([{ 'node-name': 'migration-nbd-rootdisk' }]);
      m.stop();
    });

    it('target: holds the guest (stop, late block activation), exports the writable disks, and on `completed` closes them and resumes', async () => {
      const m = migrator(false, false);
      await m.listen('10.0.0.3');
      const order = fake.server.received.map((r) => r.execute);
      expect(order.indexOf('stop')).toBeLessThan(order.indexOf('migrate-incoming'));
      expect(sent('nbd-server-start')).toEqual([
        { addr: { type: 'inet', data: { host: '10.0.0.3', port: '20188' } } },
      ]);
      expect(sent('block-export-add')).toEqual([
        { type: 'nbd', id: 'migration-rootdisk', 'node-name': '#block1', name: 'rootdisk', writable: true },
      ]);
      expect(sent('migrate-set-capabilities')).toContainEqual({
        capabilities: [
          { capability: 'late-block-activate', state: true },
          { capability: 'events', state: true },
        ],
      });
      fake.server.emitEvent('MIGRATION', { status: 'completed' });
      await until(() => sent('cont').length === 1);
      const after = fake.server.received.map((r) => r.execute);
      expect(after.lastIndexOf('nbd-server-stop')).toBeLessThan(after.lastIndexOf('cont'));
      await m.incomingDone(true); // once only
      expect(sent('cont')).toHaveLength(1);
      m.stop();
    });

    it('`POST /migration` returns once the mirrors started; the stream follows when they are ready, progress reported as `setup`', async () => {
      fake.server.handle('blockdev-mirror', (a) => {
        jobs.push({ device: String(a?.['job-id']), ready: false, offset: 100, len: 400 } as (typeof jobs)[0]);
        return { return: {} };
      });
      const m = migrator(false, false);
      const finished: string[] = [];
      m.onFinished((i) => finished.push(i.status ?? ''));
      migrateStatus = 'failed'; // a previous migration's final status: not this one's
      expect(await m.start(request)).toMatchObject({ status: 'setup' });
      await until(() => sent('query-block-jobs').length > 0);
      expect(sent('migrate')).toEqual([]);
      clock.advance(1500);
      expect(m.report({ status: 'failed' })).toEqual({
        info: { status: 'setup', setupTimeMs: 1500, disk: { transferred: 100, remaining: 300, total: 400 } },
      });
      expect(await m.info()).toMatchObject({ status: 'setup' });
      expect(m.active).toBe(true);
      expect(finished).toEqual([]);
      jobs = jobs.map((j) => ({ ...j, ready: true }));
      migrateStatus = 'none';
      for (let i = 0; i < 50 && sent('migrate').length === 0; i++) {
        clock.advance(20);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(sent('migrate')).toEqual([{ uri: 'tcp:10.0.0.2:20187' }]);
      migrateStatus = 'active';
      expect(await m.info()).toMatchObject({ status: 'active' });
      m.stop();
    });

    it('a mirror that fails after `POST /migration` returned ends the migration `failed`, saying why, and frees the target', async () => {
      fake.server.handle('blockdev-mirror', (a) => {
        jobs.push({ device: String(a?.['job-id']), ready: false });
        return { return: {} };
      });
      const m = migrator(false, false);
      const finished: string[] = [];
      m.onFinished((i) => finished.push(i.status ?? ''));
      await m.start(request);
      await until(() => jobs.length === 1);
      jobs = []; // the job ended (e.g. the NBD connection broke)
      for (let i = 0; i < 50 && finished.length === 0; i++) {
        clock.advance(20);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(finished).toEqual(['failed']);
      expect(m.active).toBe(false);
      expect(m.report({ status: 'none' })).toEqual({
        info: { status: 'failed' },
        error: 'disk mirror to the target failed: disk mirror of rootdisk ended early',
      });
      expect(await m.info()).toEqual({ status: 'failed' });
      expect(sent('migrate')).toEqual([]);
      expect(sent('blockdev-del')).toEqual([{ 'node-name': 'migration-nbd-rootdisk' }]);
      // A new migration starts afresh.
      fake.server.handle('blockdev-mirror', (a) => {
        jobs.push({ device: String(a?.['job-id']), ready: true });
        return { return: {} };
      });
      await m.start(request);
      await until(() => sent('migrate').length === 1);
      m.stop();
    });

    it("a target that cannot be reached fails the migration after the answer, with QEMU's reason (as a refused block-migration stream does)", async () => {
      fake.server.handle('blockdev-add', () => ({
        error: { class: 'GenericError', desc: "Failed to connect to '10.0.0.2:20188': Connection refused" },
      }));
      const m = migrator(false, false);
      const finished: string[] = [];
      m.onFinished((i) => finished.push(i.status ?? ''));
      expect(await m.start(request)).toMatchObject({ status: 'setup' });
      await until(() => finished.length === 1);
      expect(m.report({ status: 'none' })).toEqual({
        info: { status: 'failed' },
        error:
          "disk mirror to the target failed: QMP blockdev-add: GenericError: Failed to connect to '10.0.0.2:20188': Connection refused",
      });
      expect(sent('migrate')).toEqual([]);
    });

    it('a cancel while the disks are mirrored ends the mirrors and reports `cancelled`, without a stream', async () => {
      fake.server.handle('blockdev-mirror', (a) => {
        jobs.push({ device: String(a?.['job-id']), ready: false });
        return { return: {} };
      });
      const m = migrator(false, false);
      await m.start(request);
      await m.cancel();
      for (let i = 0; i < 50 && m.active; i++) {
        clock.advance(20);
        await new Promise((r) => setTimeout(r, 2));
      }
      expect(m.active).toBe(false);
      expect(m.report({ status: 'none' })).toEqual({
        info: { status: 'cancelled' },
        error: 'cancelled while the disks were being mirrored',
      });
      expect(sent('block-job-cancel')).toEqual([{ device: 'migration-mirror-rootdisk' }]);
      expect(sent('migrate')).toEqual([]);
      expect(sent('migrate_cancel')).toEqual([]);
    });

    it('a QEMU 7.2 source sends the disks the way a QEMU 10 target takes them (NBD), not by block migration', async () => {
      const m = migrator(false, true);
      await m.start(
        validateMigrationRequest({ targetHost: '10.0.0.2', targetDisks: 'nbd', targetQemu: '10.0.2' }),
      );
      await until(() => sent('migrate').length === 1);
      expect(sent('migrate')).toEqual([{ uri: 'tcp:10.0.0.2:20187' }]);
      expect(sent('blockdev-mirror')).toHaveLength(1);
      m.stop();
    });

    it('a QEMU 10 source refuses a target that wants block migration (QEMU 7.2), naming both versions', async () => {
      const m = migrator(false, false);
      await expect(
        m.start(
          validateMigrationRequest({ targetHost: '10.0.0.2', targetDisks: 'block', targetQemu: '7.2.22' }),
        ),
      ).rejects.toMatchObject({
        status: 409,
        message:
          "cannot migrate the writable disks: the target's QEMU 7.2.22 receives writable disks only by block migration, which this source's QEMU 10.0.2 no longer has (removed in QEMU 9.1): migrate to a runner whose QEMU is 9.1 or later (the disks then travel over NBD)",
      });
      expect(m.active).toBe(false);
      expect(sent('migrate-set-capabilities')).toEqual([]);
      // Without a writable disk there is nothing block migration would carry: the stream alone.
      fake.server.handle('query-block', () => ({ return: [iso] }));
      await m.start(
        validateMigrationRequest({ targetHost: '10.0.0.2', targetDisks: 'block', targetQemu: '7.2.22' }),
      );
      expect(sent('migrate')).toEqual([{ uri: 'tcp:10.0.0.2:20187' }]);
      m.stop();
    });

    it('QEMU before 9.1 keeps block migration (no NBD)', async () => {
      const m = migrator(false, true);
      await m.start(request);
      expect(sent('migrate')).toEqual([{ uri: 'tcp:10.0.0.2:20187', blk: false, inc: true }]);
      expect(sent('blockdev-mirror')).toEqual([]);
      m.stop();
    });
  });

  it('keeps a live pre-copy under KVM', async () => {
    const m = migrator(false);
    await m.start(request);
    fake.server.handle('query-migrate', () => ({
      return: { status: 'failed', 'total-time': 420, downtime: 25 },
    }));
    expect(await m.info()).toMatchObject({ status: 'failed', downtimeMs: 25 });
    expect(commands()).toEqual(['migrate']);
    m.stop();
  });
});

import { useFakeQmp } from '../qmp/testing/use-fake-qmp';
import {
  diskMigrationPort,
  disconnectMirrors,
  endMirrors,
  hasBlockMigration,
  writableDisks,
} from './migration-disks';

describe('disks of a migration without block migration (pure)', () => {
  it('QEMU 9.1 removed block migration; an unknown QEMU is taken as the 7.2 this runner has shipped', () => {
    expect(hasBlockMigration({ major: 7, minor: 2 })).toBe(true);
    expect(hasBlockMigration({ major: 9, minor: 0 })).toBe(true);
    expect(hasBlockMigration({ major: 9, minor: 1 })).toBe(false);
    expect(hasBlockMigration({ major: 10, minor: 0 })).toBe(false);
    expect(hasBlockMigration(undefined)).toBe(true);
  });

  it('carries every drive with a medium the guest can write, not the read-only ISOs or empty drives', () => {
    expect(
      writableDisks([
        { device: 'rootdisk', inserted: { ro: false, 'node-name': '#block1' } },
        { device: 'runtime', inserted: { ro: true, 'node-name': '#block2' } },
        { device: 'cdrom0' },
        { device: 'swapdisk', inserted: { ro: false, 'node-name': '#block3' } },
      ]),
    ).toEqual([
      { device: 'rootdisk', nodeName: '#block1' },
      { device: 'swapdisk', nodeName: '#block3' },
    ]);
  });

  it('puts NBD next to the migration port', () => {
    expect(diskMigrationPort(20187)).toBe(20188);
  });
});

describe('endMirrors at the switch-over (against a fake QMP server)', () => {
  let jobs: string[];
  const fake = useFakeQmp((server) => {
    jobs = ['migration-mirror-rootdisk', 'migration-mirror-swapdisk'];
    server
      .handle('query-block-jobs', () => ({ return: jobs.map((device) => ({ device, ready: true })) }))
      .handle('blockdev-del', () => ({ return: {} }));
  });
  const server = () => fake.server;
  const qmp = () => fake.qmp;

  const disks = [
    { device: 'rootdisk', nodeName: '#block1' },
    { device: 'swapdisk', nodeName: '#block3' },
  ];
  const executed = () => server().received.map((r) => r.execute);
  // The fallback poll never fires: a sleep that never ends shows the end came from the events.
  const never = () => new Promise<void>(() => undefined);

  it('cancels each job by id and returns on their end events, without querying or disconnecting', async () => {
    server().handle('block-job-cancel', (args) => {
      const device = String(args.device);
      jobs = jobs.filter((j) => j !== device);
      setImmediate(() => server().emitEvent('BLOCK_JOB_COMPLETED', { device, type: 'mirror' }));
      return { return: {} };
    });
    await endMirrors(qmp(), disks, never);
    expect(
      server()
        .received.filter((r) => r.execute === 'block-job-cancel')
        .map((r) => r.arguments),
    ).toEqual([{ device: 'migration-mirror-rootdisk' }, { device: 'migration-mirror-swapdisk' }]);
    expect(executed()).not.toContain('query-block-jobs');
    expect(executed()).not.toContain('blockdev-del');
    await disconnectMirrors(qmp(), disks);
    expect(
      server()
        .received.filter((r) => r.execute === 'blockdev-del')
        .map((r) => r.arguments),
    ).toEqual([{ 'node-name': 'migration-nbd-rootdisk' }, { 'node-name': 'migration-nbd-swapdisk' }]);
  });

  it('a refused cancel: waits while the job still runs, ends once it is gone', async () => {
    jobs = ['migration-mirror-rootdisk'];
    server().handle('block-job-cancel', (args) => ({
      error: { class: 'GenericError', desc: `job '${String(args.device)}' cannot be cancelled now` },
    }));
    let polls = 0;
    await endMirrors(qmp(), disks, async () => {
      if (++polls === 3) jobs = [];
      await new Promise((r) => setImmediate(r));
    });
    expect(executed().filter((c) => c === 'block-job-cancel')).toHaveLength(2);
    expect(executed().filter((c) => c === 'query-block-jobs')).toHaveLength(3);
  });

  it('falls back to query-block-jobs when no end event comes', async () => {
    server().handle('block-job-cancel', (args) => {
      jobs = jobs.filter((j) => j !== String(args.device));
      return { return: {} };
    });
    await endMirrors(qmp(), disks, () => Promise.resolve());
    expect(executed()).toContain('query-block-jobs');
  });
});

/**
 * The target dies in post-copy: the guest is split between both ends (the target ran it and dirtied
 * pages the source never saw), so the source must keep reporting it as split — custody `postcopy`,
 * which the operator turns into PostCopyFailed and a restart — and must not run its stale copy. A
 * source that reported `running` or `paused` instead would be judged to hold the whole guest: the
 * operator would fail the migration as TargetPodFailed and keep the VM on the source, a guest from
 * the past.
 *
 * Measured (2026-12-04): QEMU 7.2 goes to postcopy-paused (`early`) or stays postcopy-active (`late`).
 * QEMU 10.0 does the same early, but late it ends the migration `failed` and restarts the source's
 * guest (it was running before the switch-over); the runner stops it again at once and reports it
 * split (Migrator.staleAfterPostcopy).
 *
 * NEONVM_POSTCOPY_LOSS_ROUNDS repeats the scenarios (default 1).
 */
import { pollUntil } from '../host';
import { builtinGuest } from '../crds/testing';
import type { QemuState } from './api';
import { RunnerHarness } from './testing/runner-harness';

jest.setTimeout(600_000);
const h = new RunnerHarness();
const ROUNDS = Number(process.env.NEONVM_POSTCOPY_LOSS_ROUNDS ?? 1);

beforeAll(() => h.init());
afterEach(() => h.stopAll());

/** What the source said about its QEMU, sample by sample. */
interface Sample {
  readonly ms: number;
  readonly qemuStatus: string;
  readonly migration: string;
  readonly guest: string;
}

const sample = (q: QemuState, t0: number): Sample => ({
  ms: Date.now() - t0,
  qemuStatus: q.qemuStatus,
  migration: q.migration.status ?? '',
  guest: q.guest,
});

/**
 * When in post-copy the target dies: `early`, as soon as the source reports postcopy-active; `late`,
 * once the source has sent all of the RAM and only waits for the target to confirm the end (QEMU then
 * ends the migration `failed`, not `postcopy-paused`): the target's QEMU is stopped (SIGSTOP) near the
 * end of the stream, so the source sends the rest into the socket and waits, and then killed.
 */
type Moment = 'early' | 'late';

const cases: Array<[number, Moment]> = Array.from({ length: ROUNDS }, (_, i) => i + 1).flatMap((r) => [
  [r, 'early'],
  [r, 'late'],
]);

it.each(cases)(
  'round %i, %s: the target runner SIGKILLed in post-copy: the source reports the guest split and does not run its copy',
  async (round, moment) => {
    const spec = { guest: builtinGuest() };
    const a = h.start({ name: `vml-a${round}${moment[0]}`, ip: '127.0.0.6', spec });
    await h.waitReady(a);
    const b = h.start({
      name: `vml-b${round}${moment[0]}`,
      ip: '127.0.0.7',
      spec,
      status: { cpus: (await a.client.status()).cpus.plugged },
      receiveMigration: true,
    });
    await h.waitIncoming(b);
    // A low bandwidth (post-copy's too) keeps the guest split long enough to kill the target in it.
    await a.client.startMigration({
      targetHost: '127.0.0.7',
      targetVcpus: 1,
      allowPostCopy: true,
      maxBandwidth: moment === 'early' ? '4Mi' : '16Mi',
    });
    const remaining = async () => {
      const q = await a.client.qemuState();
      return q.migration.status === 'postcopy-active' ? (q.migration.ram?.remaining ?? Infinity) : Infinity;
    };
    const nearEnd = moment === 'early' ? Infinity : 4 * 2 ** 20;
    await pollUntil(async () => (await remaining()) < nearEnd || undefined, {
      timeoutMs: 120_000,
      intervalMs: 5,
      description: `the source in postcopy-active (${moment})`,
    });
    if (moment === 'late') {
      process.kill(b.info().qemuPid, 'SIGSTOP');
      await pollUntil(async () => (await remaining()) === 0 || undefined, {
        timeoutMs: 30_000,
        intervalMs: 20,
        description: 'the source to have sent all of the RAM',
      });
    }
    const t0 = Date.now();
    const targetQemu = b.info().qemuPid;
    b.child.kill('SIGKILL');
    await b.exited;
    // The runner's QEMU follows it (see runner.int.test.ts), except a stopped one: kill it as well.
    if (moment === 'late') process.kill(targetQemu, 'SIGKILL');
    // QEMU notices the broken connection in its migration thread or its return-path thread, whichever
    // is first; watch the source long enough for both and for the runner's reaction to the end.
    const samples: Sample[] = [];
    while (Date.now() - t0 < 8_000) {
      samples.push(sample(await a.client.qemuState(), t0));
      await new Promise((r) => setTimeout(r, 100));
    }
    const distinct = [...new Set(samples.map((s) => `${s.qemuStatus}/${s.migration}/${s.guest}`))];
    // The guest is split from the kill on: the source never reports a whole guest.
    const wrong = samples.find((s) => s.guest !== 'postcopy');
    // QEMU 10 restarts a source whose post-copy failed at its completion; its runner stops it again,
    // and nothing resumes it after that.
    const stopped = samples.findIndex((s) => s.migration === 'failed' && s.qemuStatus !== 'running');
    const resumedAfterStop = stopped >= 0 && samples.slice(stopped).some((s) => s.qemuStatus === 'running');
    const last = samples[samples.length - 1];
    const failed = samples.some((s) => s.migration === 'failed');
    if (wrong || resumedAfterStop || last.qemuStatus === 'running')
      console.error(
        `round ${round} ${moment}: source after the kill: ${distinct.join(', ')}\n${a.output().slice(-4000)}`,
      );
    expect({ firstWrong: wrong, resumedAfterStop, lastStatus: last.qemuStatus }).toEqual({
      firstWrong: undefined,
      resumedAfterStop: false,
      lastStatus: expect.not.stringMatching(/^running$/) as unknown,
    });
    if (failed) expect(a.output()).toContain('its copy here is stale and stays stopped');
  },
);

import { FakeClock } from '../../host';
import type { MemoryState, RunnerStatus } from '../../runner/api';
import type { RunnerApi } from '../runner-client';
import { podFixture } from '../testing/fixtures';
import { RunnerStates, runnerRun } from './runner-states';

const KEY = 'default/vm1';
const GiB = 2 ** 30;

/** A runner whose calls resolve when the test says so, recording what was asked. */
function fakeRunner() {
  const calls: string[] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const state = { milli: 1000, slots: 1 };
  const wait = () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  const api = {
    status: async () => {
      calls.push('status');
      await wait();
      return {
        cpus: { use: state.milli / 1000 },
        memory: { slots: state.slots, sizeBytes: state.slots * GiB },
        degraded: [],
      } as unknown as RunnerStatus;
    },
    setCpu: async (milli: number) => {
      calls.push(`cpu ${milli}`);
      await wait();
      state.milli = milli;
    },
    setMemory: async (slots: number) => {
      calls.push(`memory ${slots}`);
      await wait();
      state.slots = slots;
      return { slots, sizeBytes: slots * GiB } as MemoryState;
    },
  } as unknown as RunnerApi;
  return {
    api,
    calls,
    connect: () => Promise.resolve(api),
    /** Settles the oldest call in flight. */
    answer: async (err?: Error) => {
      await flush();
      const p = pending.shift();
      if (!p) throw new Error('no call in flight');
      if (err) p.reject(err);
      else p.resolve();
      await flush();
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

function setup() {
  const clock = new FakeClock();
  const enqueued: string[] = [];
  const states = new RunnerStates({ enqueue: (k) => enqueued.push(k), clock, retryMs: 5_000 });
  return { clock, enqueued, states, runner: fakeRunner(), pod: podFixture('p', 'ready') };
}

describe('RunnerStates', () => {
  it('asks a runner once per container run and then answers from memory', async () => {
    const { states, runner, pod, enqueued } = setup();
    expect(states.view(KEY, pod, runner.connect)).toBeUndefined();
    expect(states.view(KEY, pod, runner.connect)).toBeUndefined(); // one request in flight, not two
    await runner.answer();
    expect(enqueued).toEqual([KEY]);
    for (let i = 0; i < 5; i++)
      expect(states.view(KEY, pod, runner.connect)).toEqual({
        milliCpu: 1000,
        memorySlots: 1,
        memoryBytes: BigInt(GiB),
        degraded: [],
      });
    expect(runner.calls).toEqual(['status']);
  });

  it('asks again when the container restarts or its readiness flips', async () => {
    const { states, runner, pod } = setup();
    states.view(KEY, pod, runner.connect);
    await runner.answer();
    const restarted = structuredClone(pod);
    restarted.status!.containerStatuses![0].restartCount = 1;
    expect(runnerRun(restarted)).not.toBe(runnerRun(pod));
    expect(states.view(KEY, restarted, runner.connect)).toBeUndefined();
    await flush();
    expect(runner.calls).toEqual(['status', 'status']);
  });

  it('takes a pod with startedAt as text (watch) and as a Date (decoded) for the same run', async () => {
    const { states, runner, enqueued } = setup();
    const asText = podFixture('p', 'ready');
    const status = asText.status!.containerStatuses![0];
    status.state = { running: { startedAt: '2026-12-04T16:38:01Z' as unknown as Date } };
    const decoded = structuredClone(asText);
    decoded.status!.containerStatuses![0].state = {
      running: { startedAt: new Date('2026-12-04T16:38:01Z') },
    };
    expect(runnerRun(decoded)).toBe(runnerRun(asText));
    states.view(KEY, asText, runner.connect);
    await runner.answer();
    states.setCpu(KEY, asText, 2000, runner.connect);
    // The round after our pod patch sees the pod as the patch returned it: no second GET /status, and
    // the CPU change's answer still reaches the VM.
    expect(states.view(KEY, decoded, runner.connect)).toMatchObject({ milliCpu: 1000 });
    await runner.answer();
    expect(runner.calls).toEqual(['status', 'cpu 2000']);
    expect(enqueued).toEqual([KEY, KEY]);
    expect(states.view(KEY, asText, runner.connect)).toMatchObject({ milliCpu: 2000 });
  });

  it('runs a CPU change in the background, once, and knows its result when it ends', async () => {
    const { states, runner, pod, enqueued } = setup();
    states.view(KEY, pod, runner.connect);
    await runner.answer();
    states.setCpu(KEY, pod, 2000, runner.connect);
    states.setCpu(KEY, pod, 2000, runner.connect); // the next round while it runs: no second call
    await flush();
    expect(runner.calls).toEqual(['status', 'cpu 2000']);
    expect(states.view(KEY, pod, runner.connect)).toMatchObject({ milliCpu: 1000 });
    await runner.answer();
    expect(enqueued).toEqual([KEY, KEY]);
    expect(states.view(KEY, pod, runner.connect)).toMatchObject({ milliCpu: 2000 });
  });

  it('runs a memory change after a CPU change of the same runner, not beside it', async () => {
    const { states, runner, pod } = setup();
    states.view(KEY, pod, runner.connect);
    await runner.answer();
    states.setCpu(KEY, pod, 2000, runner.connect);
    states.setMemory(KEY, pod, 3, runner.connect);
    await flush();
    expect(runner.calls).toEqual(['status', 'cpu 2000']);
    await runner.answer();
    expect(runner.calls).toEqual(['status', 'cpu 2000', 'memory 3']);
    await runner.answer();
    expect(states.view(KEY, pod, runner.connect)).toMatchObject({
      milliCpu: 2000,
      memorySlots: 3,
      memoryBytes: BigInt(3 * GiB),
    });
  });

  it('reports a failed call until the retry time has passed, then asks the runner again', async () => {
    const { states, runner, pod, clock } = setup();
    states.view(KEY, pod, runner.connect);
    await runner.answer();
    states.setCpu(KEY, pod, 2000, runner.connect);
    await runner.answer(new Error('guest agent timeout'));
    expect(states.view(KEY, pod, runner.connect)).toEqual({ error: 'guest agent timeout' });
    clock.advance(4_999);
    expect(states.view(KEY, pod, runner.connect)).toEqual({ error: 'guest agent timeout' });
    clock.advance(1);
    expect(states.view(KEY, pod, runner.connect)).toBeUndefined();
    await flush();
    expect(runner.calls).toEqual(['status', 'cpu 2000', 'status']);
  });

  it('ignores the end of a call made to an earlier container run', async () => {
    const { states, runner, pod, enqueued } = setup();
    states.view(KEY, pod, runner.connect);
    const restarted = structuredClone(pod);
    restarted.status!.containerStatuses![0].restartCount = 1;
    states.view(KEY, restarted, runner.connect);
    await runner.answer(); // the first run's status
    expect(enqueued).toEqual([]);
    await runner.answer();
    expect(enqueued).toEqual([KEY]);
  });
});

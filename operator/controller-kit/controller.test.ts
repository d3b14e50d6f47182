import pino from 'pino';
import { FakeClock } from './clock';
import { Controller, type Reconciler } from './controller';
import { FailingReporter } from './failing-reporter';
import { OperatorMetrics } from './metrics';
import { RetryLaterError } from './retry-later';
import { silentLogger } from './logger';
import { WorkQueue } from './work-queue';
import { WritesAbandonedError } from './write-queue';

function controllerWith(reconcile: Reconciler['reconcile']) {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, backoff: { baseMs: 100, maxMs: 1000 } });
  const controller = new Controller({
    name: 'test',
    reconciler: { reconcile },
    queue,
    clock,
    log: silentLogger(),
  });
  return { clock, queue, controller };
}

describe('Controller.processKey', () => {
  it('passes the parsed key and forgets failures after a success', async () => {
    const seen: string[] = [];
    const { controller, queue } = controllerWith(async (ref) => {
      seen.push(`${ref.namespace}|${ref.name}`);
    });
    queue.addRateLimited('ns/a');
    await controller.processKey('ns/a');
    expect(seen).toEqual(['ns/a'.replace('/', '|')]);
    expect(queue.failures('ns/a')).toBe(0);
  });

  it('requeues after requeueAfterMs on a real timer', async () => {
    const { controller, queue, clock } = controllerWith(async () => ({ requeueAfterMs: 1000 }));
    await controller.processKey('ns/a');
    expect(queue.length).toBe(0);
    clock.advance(1000);
    expect(queue.length).toBe(1);
  });

  it('backs off per key on errors, and RetryLaterError waits its own delay without counting a failure', async () => {
    let fail: Error = new Error('boom');
    const { controller, queue, clock } = controllerWith(async () => {
      throw fail;
    });
    await controller.processKey('ns/a');
    await controller.processKey('ns/a');
    expect(queue.failures('ns/a')).toBe(2);
    // Two failures armed timers at 100 and 200 ms; the earlier one wins.
    clock.advance(99);
    expect(queue.length).toBe(0);
    clock.advance(1);
    expect(queue.length).toBe(1);
    fail = new RetryLaterError('busy', 5000);
    await controller.processKey('ns/b');
    expect(queue.failures('ns/b')).toBe(0);
  });

  it('runs workers that never process one key twice at the same time', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const clock = new FakeClock();
    const controller = new Controller({
      name: 'test',
      workers: 4,
      clock,
      log: silentLogger(),
      reconciler: {
        async reconcile() {
          calls++;
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setImmediate(r));
          active--;
        },
      },
    });
    controller.start();
    for (let i = 0; i < 5; i++) controller.enqueue('ns/same');
    await new Promise((r) => setImmediate(r));
    controller.enqueue('ns/same');
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    await controller.stop();
    expect(maxActive).toBe(1);
    expect(calls).toBe(2);
  });
});

describe('Controller: writes handed off by a reconcile (ReconcileResult.writes)', () => {
  const tick = () => new Promise((r) => setImmediate(r));

  function withWrites() {
    const clock = new FakeClock();
    const metrics = new OperatorMetrics();
    const queue = new WorkQueue({ clock, backoff: { baseMs: 100, maxMs: 1000 } });
    const reconciles: string[] = [];
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const controller = new Controller({
      name: 'vm',
      workers: 2,
      queue,
      metrics,
      clock,
      log: silentLogger(),
      reconciler: {
        async reconcile(ref) {
          reconciles.push(ref.name);
          if (ref.name !== 'a') return {};
          const writes = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
          return { writes };
        },
      },
    });
    return { clock, metrics, queue, controller, reconciles, settle: () => settle };
  }

  it('frees the worker but holds the key until the writes landed, then reconciles it again if it was added', async () => {
    const { controller, queue, reconciles, settle } = withWrites();
    controller.start();
    controller.enqueue('ns/a');
    await tick();
    expect(controller.heldKeys()).toEqual(['ns/a']);
    controller.enqueue('ns/a'); // an event while its write is out
    controller.enqueue('ns/b'); // another object is not blocked by it
    await tick();
    expect(reconciles).toEqual(['a', 'b']);
    expect(queue.inFlight).toBe(1); // only the held key
    settle().resolve();
    await tick();
    await tick();
    expect(reconciles).toEqual(['a', 'b', 'a']);
    settle().resolve();
    await controller.stop();
    expect(controller.heldKeys()).toEqual([]);
  });

  it("counts a write conflict as the key's conflict and re-queues it with back-off; success resets the back-off", async () => {
    const { controller, queue, clock, metrics, reconciles, settle } = withWrites();
    controller.start();
    controller.enqueue('ns/a');
    await tick();
    settle().reject(Object.assign(new Error('conflict'), { code: 409 }));
    await tick();
    await tick();
    expect(controller.heldKeys()).toEqual([]);
    expect(queue.failures('ns/a')).toBe(1);
    expect(reconciles).toEqual(['a']);
    clock.advance(100); // the back-off
    await tick();
    expect(reconciles).toEqual(['a', 'a']);
    settle().resolve();
    await tick();
    await tick();
    expect(queue.failures('ns/a')).toBe(0);
    const text = await metrics.registry.metrics();
    expect(text).toContain('neonvm_write_failures_total{controller="vm",outcome="conflict"} 1');
    expect(text).toContain('neonvm_reconcile_with_writes_duration_seconds_count{controller="vm"} 2');
    await controller.stop();
  });

  it('a write abandoned on leadership loss is no failure of the key and is not retried', async () => {
    const { controller, queue, reconciles, settle } = withWrites();
    controller.start();
    controller.enqueue('ns/a');
    await tick();
    settle().reject(new WritesAbandonedError('ns/a'));
    await tick();
    await tick();
    expect(queue.failures('ns/a')).toBe(0);
    expect(controller.failingSnapshot().conflicting).toEqual({ retried: [], notRetried: [] });
    expect(reconciles).toEqual(['a']);
    await controller.stop();
  });

  it('stop waits for the handed-off writes', async () => {
    const { controller, settle } = withWrites();
    controller.start();
    controller.enqueue('ns/a');
    await tick();
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    settle().resolve();
    await stopping;
    expect(stopped).toBe(true);
  });
});

describe('Controller failure tracking (reconcile_failing_objects, dump-state)', () => {
  const conflict = Object.assign(new Error('conflict'), { code: 409 });

  function failing(period = 1000) {
    let fail: Error | undefined = new Error('boom');
    const clock = new FakeClock();
    const metrics = new OperatorMetrics();
    const controller = new Controller({
      name: 'vm',
      reconciler: {
        async reconcile() {
          if (fail) throw fail;
        },
      },
      metrics,
      failurePendingPeriodMs: period,
      clock,
      log: silentLogger(),
    });
    metrics.failingSource = () => controller.failingCounts();
    return { clock, controller, metrics, setFail: (e: Error | undefined) => (fail = e) };
  }

  it('lists a key failing for the pending period, in the gauge with upstream labels, until a success', async () => {
    const { clock, controller, metrics, setFail } = failing();
    await controller.processKey('ns/a');
    clock.advance(999);
    await controller.processKey('ns/a');
    expect(controller.failingSnapshot().failing).toEqual({ retried: [], notRetried: [] });
    clock.advance(1);
    expect(controller.failingSnapshot().failing).toEqual({ retried: ['ns/a'], notRetried: [] });
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'reconcile_failing_objects{controller="vm",outcome="failure",actively_retried="true"} 1',
    );
    expect(text).toContain('reconcile_duration_seconds_count{controller="vm",outcome="failure"} 2');
    setFail(undefined);
    await controller.processKey('ns/a');
    expect(controller.failingSnapshot().failing).toEqual({ retried: [], notRetried: [] });
  });

  it('tracks conflicts apart; a non-conflict failure ends a conflict streak, not the other way round', async () => {
    const { clock, controller, setFail } = failing();
    setFail(conflict);
    await controller.processKey('ns/a');
    clock.advance(1000);
    expect(controller.failingSnapshot()).toMatchObject({
      failing: { retried: [], notRetried: [] },
      conflicting: { notRetried: ['ns/a'] },
    });
    setFail(new Error('boom'));
    await controller.processKey('ns/a');
    expect(controller.failingSnapshot().conflicting).toEqual({ retried: [], notRetried: [] });
    clock.advance(1000);
    setFail(conflict);
    await controller.processKey('ns/a');
    expect(controller.failingSnapshot()).toMatchObject({
      failing: { retried: [], notRetried: ['ns/a'] },
      conflicting: { retried: [], notRetried: [] },
    });
  });

  it('counts an expected wait (RetryLaterError) as no failure', async () => {
    const { clock, controller, setFail } = failing();
    await controller.processKey('ns/a');
    setFail(new RetryLaterError('busy', 10));
    await controller.processKey('ns/a');
    clock.advance(5000);
    expect(controller.failingSnapshot().failing.retried).toEqual([]);
    expect(controller.failingSnapshot().failing.notRetried).toEqual([]);
  });
});

describe('FailingReporter', () => {
  it('logs one line per degraded object every interval and re-queues the not-retried ones when asked', async () => {
    const clock = new FakeClock();
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const controller = new Controller({
      name: 'virtualmachinemigration',
      reconciler: {
        async reconcile() {
          throw new Error('boom');
        },
      },
      failurePendingPeriodMs: 1000,
      clock,
      log: silentLogger(),
    });
    await controller.processKey('ns/m1');
    await controller.processKey('ns/m2');
    const reporter = new FailingReporter({
      controllers: [controller],
      intervalMs: 500,
      forceRetryNotRetried: true,
      clock,
      log,
    });
    const enqueued = jest.spyOn(controller, 'enqueue');
    reporter.start();
    clock.advance(500);
    expect(lines).toHaveLength(0);
    clock.advance(1000);
    // Ticks at 1000 and 1500 ms (degraded from 1000 ms on): both objects, each on its own line, each tick.
    const failingLines = lines.filter(
      (l) => l.msg === 'Currently failing to reconcile virtualmachinemigration object',
    );
    expect(failingLines.map((l) => l.object)).toEqual(['ns/m1', 'ns/m2', 'ns/m1', 'ns/m2']);
    expect(failingLines[0]).toMatchObject({ outcome: 'failure', activelyRetried: false });
    expect(enqueued.mock.calls.map(([key]) => key)).toEqual(['ns/m1', 'ns/m2', 'ns/m1', 'ns/m2']);
    reporter.stop();
    clock.advance(5000);
    expect(lines.filter((l) => l.object === 'ns/m1')).toHaveLength(2);
  });
});

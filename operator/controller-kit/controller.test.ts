import { FakeClock } from './clock';
import { Controller, type Reconciler } from './controller';
import { RetryLaterError } from './retry-later';
import { silentLogger } from './logger';
import { WorkQueue } from './work-queue';

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

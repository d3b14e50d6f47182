import { podFixture, type PodState } from '../testing/fixtures';
import { runnerContainerRunning, runnerPodPhase } from './runner-pod-status';

describe('runner pod status', () => {
  // [pod state, runnerPodPhase, runner container running]
  const table: Array<[PodState, string, boolean]> = [
    ['pending', 'pending', false],
    ['running-unready', 'pending', true], // e.g. a source whose QEMU handed its guest over
    ['ready', 'running', true],
    ['succeeded', 'succeeded', false],
    ['failed', 'failed', false],
  ];
  it.each(table)('a %s pod: phase %s, runner container running %s', (state, phase, running) => {
    const pod = podFixture('p', state);
    expect(runnerPodPhase(pod)).toBe(phase);
    expect(runnerContainerRunning(pod)).toBe(running);
  });
});

/**
 * The runner's life cycle: `startRunner` composes named stages (inspect host → plan → network →
 * disks → CPU cgroup → QEMU → VM → API → access files) over one cleanup stack; the files tools read
 * afterwards (runner.json, ssh_config); the accelerator verdict.
 */
export { accelVerdict } from './accel';
export { readRunnerInfo, sshConfigText, type RunnerInfo } from './access-files';
export { CleanupStack, type CleanupFailure } from './cleanup-stack';
export { Lifecycle, StageError, type Log, type StageContext } from './lifecycle';
export { planRunner, type InspectedHost, type RunnerPlan } from './runner-plan';
export { startRunner, type RunnerIo, type RunningVm, type StartRunnerOptions } from './start-runner';

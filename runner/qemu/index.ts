export { accelArgs, decideAccel, probeAccel, KERNEL_BANNER } from './kvm-probe';
export type { Accel, AccelVerdict, ProbeObservation, ProbeOptions } from './kvm-probe';
export { killAllQemu, liveQemuPids, spawnQemu } from './qemu-process';
export type { QemuProcess, SpawnQemuOptions } from './qemu-process';

/**
 * The running VM as the runner API controls it: QEMU over the runner's QMP connection (CPU and memory
 * scalers, migration) and the guest over its agent (online CPUs, file sync), behind `VmController`.
 */
export * from './cpu-plan';
export * from './cpu-scaler';
export * from './file-sync';
export * from './guest-agent';
export * from './memory-scaler';
export * from './migration';
export * from './migration-disks';
export * from './migration-info';
export * from './qemu-vm';
export * from './vm-controller';
export * from './vm-error';

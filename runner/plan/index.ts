/** Pure planners of the runner: from a VM spec and host facts to disks, QEMU argv, kernel cmdline, network. */
export * from './vm-shape';
export * from './pod-paths';
export * from './runtime-files';
export * from './disks';
export * from './kernel-cmdline';
export * from './network-plan';
export * from './qemu-args';
export * from './guest-arch';
export * from './root-disk-check';

/**
 * neonvm/provider: Pulumi components for NeonVM (VirtualMachine, VirtualMachineMigration, Network,
 * NeonVmInstall), thin over `crds/` and the construct library's pure builders.
 */
export * from './inputs';
export * from './resource-options';
export * from './virtual-machine-object';
export * from './change-warnings';
export * from './live-object-reader';
export * from './virtual-machine';
export * from './virtual-machine-migration';
export * from './network';
export * from './neon-vm-install';

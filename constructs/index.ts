/**
 * neonvm/constructs: cdk8s constructs for NeonVM — VirtualMachine, VirtualMachineMigration, Network and
 * NeonVmInstall — thin over `crds/` (types, defaults, validation) and the pure builders of objects.ts.
 */
export * from './objects';
export * from './api-object';
export * from './disk-source';
export * from './network';
export * from './virtual-machine';
export * from './virtual-machine-migration';
export * from './neon-vm-install';

/**
 * neonvm/constructs: cdk8s constructs for NeonVM — VirtualMachine, VirtualMachineMigration, Network and
 * NeonVmInstall — thin over `crds/` (types, defaults, validation) and the pure builders next to them.
 */
export * from './amounts';
export * from './argocd-sync-wave';
export * from './disk-source';
export * from './kube-object';
export * from './network-objects';
export * from './network';
export * from './virtual-machine-spec';
export * from './virtual-machine';
export * from './virtual-machine-migration';
export * from './install';
export * from './neon-vm-install';
export * from './autoscaler-owned-fields';
export * from './argocd';

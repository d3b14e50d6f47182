export * from './common';
export * from './virtual-machine';
export * from './virtual-machine-migration';
export * from './ip-pool';
export * from './third-party';

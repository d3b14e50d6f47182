export * from './platform-repo';
export * from './vms';

export * from './allocate';
export * from './ipam';
export * from './ipam-config';

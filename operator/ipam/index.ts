export * from './allocate';
export * from './ipam';
export * from './ipam-config';
export * from './load-ipam';
export * from './ipam-loader';

export * from './build';
export * from './control-plane';
export * from './image-store';
export * from './local-cluster';
export * from './network';
export * from './node-agent';
export * from './pki';
export * from './process';

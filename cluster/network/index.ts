export * from './addressing';
export * from './cluster-network';
export * from './cluster-slot';
export * from './ip-command';
export * from './neighbour-table';

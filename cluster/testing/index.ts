export * from './local-cluster-fixture';
export * from './real-node-suite';

export * from './local-cluster-fixture';

export * from './k8s-binaries';

export * from './k8s-binaries';
export * from './cert-manager';
export * from './argocd';
export * from './node-toolchain';

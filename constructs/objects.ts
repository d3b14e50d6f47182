/**
 * The framework-free half of the construct library: plain Kubernetes objects and VM specs from
 * readable props (the VM spec builder, the overlay network, the install bundle, ArgoCD objects). It
 * loads neither cdk8s nor constructs, so the Pulumi components (provider/) build on it and a
 * Pulumi-only app needs no cdk8s. The cdk8s constructs in index.ts wrap the same builders.
 */
export * from './amounts';
export * from './argocd-sync-wave';
export * from './kube-object';
export * from './network-objects';
export * from './virtual-machine-spec';
export * from './install';
export * from './autoscaler-owned-fields';
export * from './argocd';

export * from './control-plane';
export * from './crds';
export * from './flags';
export * from './kubeconfig';

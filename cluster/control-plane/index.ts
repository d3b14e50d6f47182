export * from './control-plane';
export * from './crds';
export * from './flags';
export * from './free-port';
export * from './kubeconfig';

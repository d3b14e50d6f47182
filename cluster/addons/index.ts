export * from './cert-manager';
export * from './argocd-objects';
export * from './argocd';
export * from './git-server';

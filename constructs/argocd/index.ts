export * from './health-checks';
export * from './application-health';
export * from './ignore-differences';
export * from './argocd-cm';
export * from './application';

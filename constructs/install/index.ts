export * from './install-options';
export * from './install-bundle';
export * from './operator-rbac';
export * from './operator-deployment';
export * from './device-plugin-daemonset';
export * from './webhooks';
export * from './third-party';
export * from './release-images';

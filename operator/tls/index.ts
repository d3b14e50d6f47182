export * from './certificate-condition';
export * from './certificate-request';
export * from './decide-tls-action';
export * from './tls-provisioner';
export * from './tls-reconciler';

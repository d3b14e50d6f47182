export * from './admission-review';
export * from './certificate-manager';
export * from './certificates';
export * from './handlers';
export * from './json-patch';
export * from './webhook-configurations';
export * from './webhook-paths';
export * from './webhook-server';

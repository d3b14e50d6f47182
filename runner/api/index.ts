/** neonvm/runner/api: the runner HTTP API contract — wire types, paths and a typed client. */
export * from './wire';
export * from './errors';
export * from './client';
export * from './auth';
export * from './command';
export * from './guest-custody';
export * from './migration-tls';

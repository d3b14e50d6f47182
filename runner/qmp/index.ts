export { QmpClient } from './client';
export type { ExecuteOptions, QmpClientEvents, QmpClientOptions } from './client';
export { QmpCommandError, QmpConnectionError, QmpTimeoutError } from './errors';
export type { QmpErrorBody, QmpEvent, QmpGreeting } from './protocol';
export * from './types';

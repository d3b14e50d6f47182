export * from './emergency-cleanup';
export * from './managed-process';
export * from './run';
export * from './process-launcher';
export * from './process-exists';

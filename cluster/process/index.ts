export * from './emergency-cleanup';
export * from './managed-process';

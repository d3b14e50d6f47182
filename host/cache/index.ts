export * from './cache-dir';
export * from './file-lock';

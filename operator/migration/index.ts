export * from './decide-migration-action';

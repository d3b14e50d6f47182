export * from './list-watch';

export * from './poll';

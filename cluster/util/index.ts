export * from './poll';
export * from './percentile';

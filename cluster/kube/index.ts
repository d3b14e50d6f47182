export * from './list-watch';
export * from './serializer';

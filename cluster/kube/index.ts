export * from './list-watch';
export * from './serializer';
export * from './keep-alive-clients';

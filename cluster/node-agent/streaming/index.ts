export * from './spdy-streaming';
export * from './stream-protocol';
export * from './pty';
export * from './process-tree';

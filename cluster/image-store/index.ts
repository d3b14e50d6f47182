export * from './builtin-images';
export * from './image-manifest';
export * from './image-ref';
export * from './image-store';

/**
 * OCI image layouts and `docker save` archives, read and written without Docker: digests verified,
 * layers applied with whiteouts into a plain directory (unprivileged), deterministic writes.
 */
export * from './errors';
export * from './digest';
export * from './media-types';
export * from './documents';
export * from './platform';
export * from './limits';
export * from './layer-paths';
export * from './layer-apply';
export * from './archive';
export * from './image-reader';
export * from './run-config';
export * from './layer-entries';
export * from './layer-writer';
export * from './layout-writer';
export * from './docker-archive';

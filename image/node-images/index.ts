export * from './node-images';

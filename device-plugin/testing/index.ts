export * from './registration-recorder';

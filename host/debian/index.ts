export * from './apt-depends';
export * from './packages';

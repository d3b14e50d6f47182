export * from './apt-depends';
export * from './packages';
export * from './prerequisites';

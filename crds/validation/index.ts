export * from './virtual-machine';
export * from './migration';
export * from './admission-policy';
export { validateAgainstSchema } from './schema-validator';
export * from './util';
export { isDeletionOnlyUpdate, ratchetUpdateErrors, valueAtPath } from './ratchet';

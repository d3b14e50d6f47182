export * from './decide-vm-action';
export * from './migration-state';
export * from './names';
export * from './ssh-keys';
export * from './vm-spec';

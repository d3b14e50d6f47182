/** The operator's debugging surface: pprof-like profiles and the dump-state JSON, loopback only. */
export * from './debug-servers';
export * from './dump-state';
export * from './profiles';

/**
 * The host layer: what any part of the project needs from the machine it runs on (processes, cache
 * directories and locks, Debian packages, time, shell quoting, files shipped with the package).
 * It imports nothing of the project, so every component can build on it.
 */
export * from './cache';
export * from './cpu-info';
export * from './debian';
export * from './net';
export * from './package-path';
export * from './process';
export * from './shell-quote';
export * from './time';

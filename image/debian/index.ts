/** The Debian 12 guest image (`neondatabase/vm-debian:11`, `neonvm/vm-debian:12`). */
export * from './apt-mirror';
export * from './debian-image';

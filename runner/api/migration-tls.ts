/**
 * Migration TLS: what the operator mounts and passes so both runners of a VM encrypt and authenticate
 * the migration stream. One certificate per VM (CN and DNS name = `migrationTlsHostname`), signed by
 * the operator's migration CA, serves as both QEMU's server and client certificate; QEMU reads its
 * credentials from one directory with fixed file names.
 */

/** Runner flags: the credentials directory (pod path) and the name the certificate carries. */
export const MIGRATION_TLS_DIR_FLAG = 'migration-tls-dir';
export const MIGRATION_TLS_HOSTNAME_FLAG = 'migration-tls-hostname';
/** Where the operator mounts the VM's migration TLS Secret in the runner container. */
export const DEFAULT_MIGRATION_TLS_DIR = '/vm/migration-tls';

/** Keys of the per-VM Secret (a `kubernetes.io/tls` Secret plus the CA). */
export const MIGRATION_TLS_SECRET_KEYS = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

/** QEMU's `tls-creds-x509` file names, each with the Secret key it comes from. */
export const QEMU_TLS_FILES: ReadonlyArray<{
  readonly file: string;
  readonly key: (typeof MIGRATION_TLS_SECRET_KEYS)[keyof typeof MIGRATION_TLS_SECRET_KEYS];
}> = [
  { file: 'ca-cert.pem', key: 'ca.crt' },
  { file: 'server-cert.pem', key: 'tls.crt' },
  { file: 'server-key.pem', key: 'tls.key' },
  { file: 'client-cert.pem', key: 'tls.crt' },
  { file: 'client-key.pem', key: 'tls.key' },
];

/**
 * The name in a VM's migration certificate: from the VM's uid, so it is unique, fits a CN (≤ 64
 * characters) and a DNS label whatever the VM and namespace names are, and a recreated VM of the same
 * name gets a new one.
 */
export function migrationTlsHostname(vmUid: string): string {
  return `${vmUid}.migration.neonvm`;
}

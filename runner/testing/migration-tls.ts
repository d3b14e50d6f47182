/**
 * Migration TLS material for runner processes under test, made the way the operator makes it (its CA,
 * a per-VM certificate) and laid out as the runner pod mounts it.
 */
import { QEMU_TLS_FILES, migrationTlsHostname } from '../api';
import { createMigrationCa, issueMigrationCertificate } from '../../operator/migration-tls';

export type MigrationCa = Awaited<ReturnType<typeof createMigrationCa>>;

export interface TestMigrationTls {
  /** Pod files (RunnerHarness podFiles) of the credentials. */
  files: Record<string, string>;
  /** The runner flags pointing at them. */
  flags: string[];
}

export { createMigrationCa };

/** The credentials of the VM with this UID, issued by `ca`. */
export async function testMigrationTls(ca: MigrationCa, vmUid: string): Promise<TestMigrationTls> {
  const hostname = migrationTlsHostname(vmUid);
  const leaf = await issueMigrationCertificate(ca, hostname);
  const byKey = { 'ca.crt': ca.cert, 'tls.crt': leaf.cert, 'tls.key': leaf.key };
  const files = Object.fromEntries(
    QEMU_TLS_FILES.map(({ file, key }) => [`vm/migration-tls/${file}`, byKey[key]]),
  );
  return { files, flags: ['-migration-tls-dir=/vm/migration-tls', `-migration-tls-hostname=${hostname}`] };
}

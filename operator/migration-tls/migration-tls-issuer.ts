/**
 * The operator's migration CA and each VM's migration TLS Secret. The CA (key included) is a Secret
 * in the operator's namespace, made on first use and then only read; per VM, the Secret
 * `migration-tls-neonvm-<vm>` (owned by the VM, so garbage-collected with it) holds the CA
 * certificate and the VM's certificate and key, which both runner pods of a migration mount. Secrets
 * are read by name only (the operator lists no Secrets); a certificate that is missing, for another
 * CA or VM, or past two thirds of its life is replaced when the next runner pod is made.
 *
 * No read on the usual path: a new VM has no Secret yet, so it is created first (a 409 — the Secret
 * exists, e.g. after an operator restart — is the only case that reads it), and a Secret this process
 * created or checked is remembered by VM uid until its certificate is due. A read per runner pod was
 * one more API round trip, serial with the pod's creation, in the reconcile that creates it.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { VirtualMachine } from '../../crds';
import type { Clock } from '../../host';
import { isAlreadyExists, unlessNotFound } from '../../kube';
import { MIGRATION_TLS_SECRET_KEYS as KEYS, migrationTlsHostname } from '../../runner/api';
import { vmOwnerReference } from '../pod';
import { migrationTlsSecretName } from '../vm/names';
import {
  certificateRenewalDue,
  certificateUsable,
  createMigrationCa,
  issueMigrationCertificate,
  type KeyPair,
} from './migration-pki';

/** Secret (type kubernetes.io/tls) of the migration CA in the operator's namespace. */
export const MIGRATION_CA_SECRET = 'neonvm-migration-ca';

/** The Secret calls the issuer makes. */
export type SecretsApi = Pick<
  CoreV1Api,
  'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret'
>;

const text = (s: V1Secret | undefined, key: string): string =>
  Buffer.from(s?.data?.[key] ?? '', 'base64').toString('utf8');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

export class MigrationTlsIssuer {
  private ca: Promise<KeyPair> | undefined;
  /** VM uid → when the certificate in its Secret (created or checked by us) is due for renewal. */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly core: SecretsApi,
    /** The operator's namespace (where the CA Secret lives). */
    private readonly namespace: string,
    private readonly clock: Clock,
  ) {}

  /** The CA, read or made once per process (a failed attempt is retried on the next call). */
  caKeyPair(): Promise<KeyPair> {
    this.ca ??= this.loadOrCreateCa().catch((err: unknown) => {
      this.ca = undefined;
      throw err;
    });
    return this.ca;
  }

  private async loadOrCreateCa(): Promise<KeyPair> {
    const name = MIGRATION_CA_SECRET;
    const namespace = this.namespace;
    const read = async () => unlessNotFound(this.core.readNamespacedSecret({ name, namespace }));
    const existing = await read();
    if (existing) return { cert: text(existing, 'tls.crt'), key: text(existing, 'tls.key') };
    const ca = await createMigrationCa();
    try {
      await this.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'neonvm' } },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': b64(ca.cert), 'tls.key': b64(ca.key) },
        },
      });
      return ca;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const other = await read(); // another replica made it first: use theirs
      if (!other) throw err;
      return { cert: text(other, 'tls.crt'), key: text(other, 'tls.key') };
    }
  }

  /** Makes sure the VM's migration TLS Secret holds a usable certificate; returns its name. */
  async ensureForVm(vm: VirtualMachine): Promise<string> {
    const vmName = vm.metadata?.name ?? '';
    const namespace = vm.metadata?.namespace ?? 'default';
    const uid = vm.metadata?.uid ?? '';
    const name = migrationTlsSecretName(vmName);
    if (this.clock.now() < (this.known.get(uid) ?? -Infinity)) return name;
    const hostname = migrationTlsHostname(uid);
    const ca = await this.caKeyPair();
    const leaf = await issueMigrationCertificate(ca, hostname);
    const body = (resourceVersion?: string): V1Secret => ({
      metadata: {
        name,
        namespace,
        labels: { 'app.kubernetes.io/part-of': 'neonvm' },
        ownerReferences: [vmOwnerReference(vm, true)],
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type: 'kubernetes.io/tls',
      data: { [KEYS.ca]: b64(ca.cert), [KEYS.cert]: b64(leaf.cert), [KEYS.key]: b64(leaf.key) },
    });
    try {
      await this.core.createNamespacedSecret({ namespace, body: body() });
      this.known.set(uid, certificateRenewalDue(leaf.cert));
      return name;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const existing = await this.core.readNamespacedSecret({ name, namespace });
    const stored = { cert: text(existing, KEYS.cert), caCert: text(existing, KEYS.ca) };
    if (certificateUsable(stored, ca, hostname, this.clock.now())) {
      this.known.set(uid, certificateRenewalDue(stored.cert));
      return name;
    }
    await this.core.replaceNamespacedSecret({
      name,
      namespace,
      body: body(existing.metadata?.resourceVersion),
    });
    this.known.set(uid, certificateRenewalDue(leaf.cert));
    return name;
  }

  /** The VM is gone (or its Secret must be checked again). */
  forget(vmUid: string): void {
    this.known.delete(vmUid);
  }
}

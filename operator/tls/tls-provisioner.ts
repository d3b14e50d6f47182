/**
 * The objects of `decideTlsAction` for one VM: reads the TLS Secret and the temporary key Secret by
 * name (GET: the operator may not list or watch Secrets — RBAC cannot scope a list to a label, so a
 * Secret watch would mean reading every Secret of the cluster), the CertificateRequest from the
 * operator's label-filtered informer cache, and creates/replaces/deletes them. Every object is owned
 * by the VM, so garbage collection removes them with it; CertificateRequest writes are recorded in
 * the cache, so the next round sees them before the watch does.
 *
 * Without a Secret watch, a TLS Secret deleted or changed by someone else is noticed at the VM's next
 * reconcile (any VM event, the renewal timer, or the informers' periodic resync).
 *
 * A CertificateRequest from an operator version that did not label it is not in the cache: creating
 * one then fails with AlreadyExists, and it is replaced and the round retried.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { LABEL_TLS_FOR_VM, type VirtualMachine } from '../../crds';
import {
  isAlreadyExists,
  isNotFound,
  unlessNotFound,
  type CoreApi,
  type CustomResourceClient,
  type MutableObjectCache,
} from '../../kube';
import { RetryLaterError } from '../controller-kit';
import { vmOwnerReference } from '../pod';
import {
  CERT_MANAGER_GROUP,
  certificateFacts,
  createCsr,
  generateEcPrivateKey,
  requestState,
  type CertificateRequest,
} from './certificate-request';
import { tlsSpecDigest, type TlsAction, type TlsObservation } from './decide-tls-action';

/** Records which spec a Secret's certificate or a CertificateRequest was made for. */
export const TLS_SPEC_ANNOTATION = 'vm.neon.tech/tls-spec-digest';

export const tlsKeySecretName = (tlsSecretName: string): string => `${tlsSecretName}-tmp`;

/** The error `decideTlsAction` reports when cert-manager's API is not there. */
export const CERT_MANAGER_MISSING =
  'spec.tls needs cert-manager: the API server has no certificaterequests.cert-manager.io (install cert-manager)';

const decode = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');

export interface TlsProvisionerDeps {
  readonly core: CoreApi;
  readonly requests: CustomResourceClient<CertificateRequest>;
  /** CertificateRequests labelled LABEL_TLS_FOR_VM. */
  readonly requestCache: MutableObjectCache<CertificateRequest>;
}

/** What one round read from the caches: the decision's input and the objects behind it. */
export interface TlsObjects {
  readonly observation: TlsObservation;
  readonly secret?: V1Secret;
  readonly keySecret?: V1Secret;
  readonly request?: CertificateRequest;
}

export class TlsProvisioner {
  constructor(private readonly deps: TlsProvisionerDeps) {}

  /** The VM's TLS objects (the Secret is named `secretName`, i.e. status.tlsSecretName). */
  async observe(vm: VirtualMachine, secretName: string, now: number): Promise<TlsObjects> {
    const tls = vm.spec.tls;
    if (!tls) throw new Error('TlsProvisioner.observe called for a VM without spec.tls');
    const namespace = vm.metadata?.namespace ?? 'default';
    const read = (name: string) => unlessNotFound(this.deps.core.readNamespacedSecret({ name, namespace }));
    const [secret, keySecret] = await Promise.all([read(secretName), read(tlsKeySecretName(secretName))]);
    const request = this.deps.requestCache.get(namespace, vm.metadata?.name ?? '');
    const certificate = secret ? certificateFacts(decode(secret.data?.['tls.crt'])) : undefined;
    return {
      observation: {
        tls,
        secret: secret && {
          ...(certificate ? { certificate } : {}),
          specDigest: secret.metadata?.annotations?.[TLS_SPEC_ANNOTATION],
        },
        keySecretExists: keySecret !== undefined,
        request: request && requestState(request, request.metadata?.annotations?.[TLS_SPEC_ANNOTATION]),
        now,
      },
      ...(secret ? { secret } : {}),
      ...(keySecret ? { keySecret } : {}),
      ...(request ? { request } : {}),
    };
  }

  /** Carries out the decision's actions in order; the first failure stops the round. */
  async execute(
    vm: VirtualMachine,
    secretName: string,
    objects: TlsObjects,
    actions: readonly TlsAction[],
  ): Promise<void> {
    const namespace = vm.metadata?.namespace ?? 'default';
    const keyName = tlsKeySecretName(secretName);
    let key = objects.keySecret ? decode(objects.keySecret.data?.['tls.key']) : undefined;
    for (const action of actions) {
      switch (action.kind) {
        case 'create-key':
          key = await this.createKeySecret(vm, keyName);
          break;
        case 'create-request':
          if (!key) throw new Error(`Secret ${keyName} has no tls.key`);
          await this.createRequest(vm, key);
          break;
        case 'delete-request':
          if (objects.request) {
            await unlessNotFound(this.deps.requests.delete(namespace, vm.metadata?.name ?? ''));
            this.deps.requestCache.recordDelete(objects.request);
          }
          break;
        case 'delete-key':
          if (objects.keySecret)
            await unlessNotFound(this.deps.core.deleteNamespacedSecret({ namespace, name: keyName }));
          break;
        case 'write-secret':
          if (key && objects.request?.status?.certificate)
            await this.writeTlsSecret(vm, secretName, objects.secret, key, objects.request);
          break;
      }
    }
  }

  private metadata(vm: VirtualMachine, name: string, annotations?: Record<string, string>) {
    const namespace = vm.metadata?.namespace ?? 'default';
    return {
      name,
      namespace,
      labels: { [LABEL_TLS_FOR_VM]: vm.metadata?.name ?? '' },
      ...(annotations ? { annotations } : {}),
      ownerReferences: [vmOwnerReference(vm, true)],
    };
  }

  private async createKeySecret(vm: VirtualMachine, name: string): Promise<string> {
    const namespace = vm.metadata?.namespace ?? 'default';
    const key = generateEcPrivateKey();
    try {
      await this.deps.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: this.metadata(vm, name),
          type: 'Opaque',
          data: { 'tls.key': Buffer.from(key).toString('base64') },
        },
      });
      return key;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Made meanwhile (another round): decide again with it in view, and its key.
      throw new RetryLaterError(`Secret ${name} appeared meanwhile`, 0);
    }
  }

  private async createRequest(vm: VirtualMachine, key: string): Promise<void> {
    const tls = vm.spec.tls!;
    const namespace = vm.metadata?.namespace ?? 'default';
    const name = vm.metadata?.name ?? '';
    const csr = await createCsr(key, tls.serverName ?? '');
    const body: CertificateRequest = {
      apiVersion: `${CERT_MANAGER_GROUP}/v1`,
      kind: 'CertificateRequest',
      metadata: this.metadata(vm, name, { [TLS_SPEC_ANNOTATION]: tlsSpecDigest(tls) }),
      spec: {
        request: Buffer.from(csr).toString('base64'),
        issuerRef: { name: tls.certificateIssuer ?? '', kind: 'ClusterIssuer', group: CERT_MANAGER_GROUP },
        ...(tls.expireAfter ? { duration: tls.expireAfter } : {}),
        isCA: false,
        usages: ['digital signature', 'key encipherment'],
      },
    };
    try {
      this.deps.requestCache.recordWrite(await this.deps.requests.create(namespace, body));
    } catch (err) {
      if (isAlreadyExists(err)) {
        // Not in the cache, so not labelled (an older operator's): replace it with a labelled one.
        await unlessNotFound(this.deps.requests.delete(namespace, name));
        throw new RetryLaterError(`replacing CertificateRequest ${name} made without label`, 0);
      }
      if (isNotFound(err)) throw new Error(CERT_MANAGER_MISSING);
      throw err;
    }
  }

  private async writeTlsSecret(
    vm: VirtualMachine,
    name: string,
    existing: V1Secret | undefined,
    key: string,
    request: CertificateRequest,
  ): Promise<void> {
    const namespace = vm.metadata?.namespace ?? 'default';
    if (existing && existing.type !== 'kubernetes.io/tls')
      throw new Error(
        `Secret ${name} exists with type ${existing.type ?? 'Opaque'}; the TLS secret must be kubernetes.io/tls (delete it to let the operator recreate it)`,
      );
    const body: V1Secret = {
      metadata: {
        ...this.metadata(vm, name, {
          [TLS_SPEC_ANNOTATION]: request.metadata?.annotations?.[TLS_SPEC_ANNOTATION] ?? '',
        }),
        ...(existing?.metadata?.resourceVersion
          ? { resourceVersion: existing.metadata.resourceVersion }
          : {}),
      },
      type: 'kubernetes.io/tls',
      data: {
        'tls.key': Buffer.from(key).toString('base64'),
        'tls.crt': request.status?.certificate ?? '',
        ...(request.status?.ca ? { 'ca.crt': request.status.ca } : {}),
      },
    };
    if (existing) {
      await this.deps.core.replaceNamespacedSecret({ namespace, name, body });
      return;
    }
    try {
      await this.deps.core.createNamespacedSecret({ namespace, body });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      throw new RetryLaterError(`Secret ${name} appeared meanwhile`, 0);
    }
  }
}

/**
 * Carries out `decideTlsAction` for one VM: reads the TLS Secret, the temporary key Secret and the
 * CertificateRequest, decides, then creates/deletes them. Every object is owned by the VM, so garbage
 * collection removes them with it.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { VirtualMachine } from '../../crds';
import { CustomResourceClient, isAlreadyExists, isNotFound, unlessNotFound } from '../controller-kit';
import { vmOwnerReference } from '../pod';
import {
  CERT_MANAGER_GROUP,
  certificateFacts,
  createCsr,
  generateEcPrivateKey,
  requestState,
  type CertificateRequest,
} from './certificate-request';
import { decideTlsAction, tlsSpecDigest, type TlsAction, type TlsDecision } from './decide-tls-action';

/** Records which spec a Secret's certificate or a CertificateRequest was made for. */
export const TLS_SPEC_ANNOTATION = 'vm.neon.tech/tls-spec-digest';

export const tlsKeySecretName = (tlsSecretName: string): string => `${tlsSecretName}-tmp`;

const decode = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');

export class TlsProvisioner {
  constructor(
    private readonly core: CoreV1Api,
    private readonly requests: CustomResourceClient<CertificateRequest>,
  ) {}

  /** One round for a VM with `spec.tls`; the Secret is named `secretName` (status.tlsSecretName). */
  async reconcile(vm: VirtualMachine, secretName: string, now: number): Promise<TlsDecision> {
    const tls = vm.spec.tls;
    if (!tls) throw new Error('TlsProvisioner.reconcile called for a VM without spec.tls');
    const namespace = vm.metadata?.namespace ?? 'default';
    const requestName = vm.metadata?.name ?? '';
    const [secret, keySecret, request] = await Promise.all([
      unlessNotFound(this.core.readNamespacedSecret({ namespace, name: secretName })),
      unlessNotFound(this.core.readNamespacedSecret({ namespace, name: tlsKeySecretName(secretName) })),
      unlessNotFound(this.requests.get(namespace, requestName)),
    ]);
    const certificate = secret ? certificateFacts(decode(secret.data?.['tls.crt'])) : undefined;
    const decision = decideTlsAction({
      tls,
      secret: secret && {
        ...(certificate ? { certificate } : {}),
        specDigest: secret.metadata?.annotations?.[TLS_SPEC_ANNOTATION],
      },
      keySecretExists: keySecret !== undefined,
      request: request && requestState(request, request.metadata?.annotations?.[TLS_SPEC_ANNOTATION]),
      now,
    });
    let key = keySecret ? decode(keySecret.data?.['tls.key']) : undefined;
    const step = async (action: TlsAction): Promise<void> => {
      switch (action.kind) {
        case 'create-key':
          key = await this.createKeySecret(vm, tlsKeySecretName(secretName));
          return;
        case 'create-request':
          if (!key) throw new Error(`Secret ${tlsKeySecretName(secretName)} has no tls.key`);
          await this.createRequest(vm, requestName, key);
          return;
        case 'delete-request':
          await unlessNotFound(this.requests.delete(namespace, requestName));
          return;
        case 'delete-key':
          await unlessNotFound(
            this.core.deleteNamespacedSecret({ namespace, name: tlsKeySecretName(secretName) }),
          );
          return;
        case 'write-secret':
          if (!key || !request?.status?.certificate) return;
          await this.writeTlsSecret(vm, secretName, secret, key, request);
          return;
      }
    };
    for (const action of decision.actions) await step(action);
    return decision;
  }

  private async createKeySecret(vm: VirtualMachine, name: string): Promise<string> {
    const namespace = vm.metadata?.namespace ?? 'default';
    const key = generateEcPrivateKey();
    try {
      await this.core.createNamespacedSecret({
        namespace,
        body: {
          metadata: { name, namespace, ownerReferences: [vmOwnerReference(vm, true)] },
          type: 'Opaque',
          data: { 'tls.key': Buffer.from(key).toString('base64') },
        },
      });
      return key;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Another round made it first: use that key, the one a request may already be signed for.
      return decode((await this.core.readNamespacedSecret({ namespace, name })).data?.['tls.key']);
    }
  }

  private async createRequest(vm: VirtualMachine, name: string, key: string): Promise<void> {
    const tls = vm.spec.tls!;
    const namespace = vm.metadata?.namespace ?? 'default';
    const csr = await createCsr(key, tls.serverName ?? '');
    const body: CertificateRequest = {
      apiVersion: `${CERT_MANAGER_GROUP}/v1`,
      kind: 'CertificateRequest',
      metadata: {
        name,
        namespace,
        annotations: { [TLS_SPEC_ANNOTATION]: tlsSpecDigest(tls) },
        ownerReferences: [vmOwnerReference(vm, true)],
      },
      spec: {
        request: Buffer.from(csr).toString('base64'),
        issuerRef: { name: tls.certificateIssuer ?? '', kind: 'ClusterIssuer', group: CERT_MANAGER_GROUP },
        ...(tls.expireAfter ? { duration: tls.expireAfter } : {}),
        isCA: false,
        usages: ['digital signature', 'key encipherment'],
      },
    };
    try {
      await this.requests.create(namespace, body);
    } catch (err) {
      if (isAlreadyExists(err)) return;
      if (isNotFound(err))
        throw new Error(
          'spec.tls needs cert-manager: the API server has no certificaterequests.cert-manager.io (install cert-manager)',
        );
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
        name,
        namespace,
        annotations: { [TLS_SPEC_ANNOTATION]: request.metadata?.annotations?.[TLS_SPEC_ANNOTATION] ?? '' },
        ownerReferences: [vmOwnerReference(vm, true)],
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
    if (existing) await this.core.replaceNamespacedSecret({ namespace, name, body });
    else await this.core.createNamespacedSecret({ namespace, body });
  }
}

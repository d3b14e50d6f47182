/**
 * Per-VM secrets: the runner API bearer token (`runner-token-neonvm-<vm>`), the SSH key pair
 * (`ssh-neonvm-<vm>`, type kubernetes.io/ssh-auth, immutable) and the migration TLS credentials
 * (`migration-tls-neonvm-<vm>`, from the operator's migration CA). All are owned by the VM, so garbage
 * collection removes them with it. Tokens are cached in memory by VM uid after the first read.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { VirtualMachine } from '../../crds';
import { isAlreadyExists, unlessNotFound } from '../../kube';
import { RUNNER_TOKEN_SECRET_KEY, vmOwnerReference } from '../pod';
import { runnerTokenSecretName, sshSecretName } from '../vm/names';
import { generateSshKeyPair } from '../vm/ssh-keys';
import type { MigrationTlsIssuer } from '../migration-tls';

export class RunnerSecrets {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly migrationTls: MigrationTlsIssuer,
  ) {}

  /**
   * The VM's migration TLS Secret, (re)issued when missing or due; undefined when not `wanted`
   * (`--migration-tls=false` for a VM's pod; a migration target follows its source pod, whatever
   * the flag says now, so that both ends agree).
   */
  async ensureMigrationTls(vm: VirtualMachine, wanted: boolean): Promise<string | undefined> {
    return wanted ? this.migrationTls.ensureForVm(vm) : undefined;
  }

  /** The VM's runner token, creating its Secret when missing. */
  async ensureToken(vm: VirtualMachine): Promise<string> {
    const uid = vm.metadata?.uid ?? '';
    const cached = this.tokens.get(uid);
    if (cached) return cached;
    const name = runnerTokenSecretName(vm.metadata?.name ?? '');
    // Cheap to make, and missing for every new VM: created first, read only when it exists (409).
    const secret = await this.getOrCreate(
      vm,
      name,
      () => ({
        type: 'Opaque',
        immutable: true,
        stringData: { [RUNNER_TOKEN_SECRET_KEY]: randomBytes(32).toString('hex') },
      }),
      { createFirst: true },
    );
    const token =
      Buffer.from(secret.data?.[RUNNER_TOKEN_SECRET_KEY] ?? '', 'base64').toString('utf8') ||
      secret.stringData?.[RUNNER_TOKEN_SECRET_KEY] ||
      '';
    if (!token) throw new Error(`Secret ${name} has no ${RUNNER_TOKEN_SECRET_KEY}`);
    this.tokens.set(uid, token);
    return token;
  }

  /** The SSH key Secret, generated once and never changed. */
  async ensureSshSecret(vm: VirtualMachine): Promise<void> {
    await this.getOrCreate(vm, sshSecretName(vm.metadata?.name ?? ''), () => {
      const pair = generateSshKeyPair(`${vm.metadata?.name}@neonvm`);
      return {
        type: 'kubernetes.io/ssh-auth',
        immutable: true,
        stringData: { 'ssh-publickey': pair.publicKey, 'ssh-privatekey': pair.privateKey },
      };
    });
  }

  forget(vmUid: string): void {
    this.tokens.delete(vmUid);
  }

  private async getOrCreate(
    vm: VirtualMachine,
    name: string,
    make: () => Partial<V1Secret>,
    { createFirst = false }: { createFirst?: boolean } = {},
  ): Promise<V1Secret> {
    const namespace = vm.metadata?.namespace ?? 'default';
    if (!createFirst) {
      const existing = await unlessNotFound(this.core.readNamespacedSecret({ name, namespace }));
      if (existing) return existing;
    }
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, ownerReferences: [vmOwnerReference(vm, true)] },
      ...make(),
    };
    try {
      return await this.core.createNamespacedSecret({ namespace, body });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      return this.core.readNamespacedSecret({ name, namespace });
    }
  }
}

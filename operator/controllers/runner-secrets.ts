/**
 * Per-VM secrets: the runner API bearer token (`runner-token-neonvm-<vm>`), the SSH key pair
 * (`ssh-neonvm-<vm>`, type kubernetes.io/ssh-auth, immutable) and the migration TLS credentials
 * (`migration-tls-neonvm-<vm>`, from the operator's migration CA). All are owned by the VM, so garbage
 * collection removes them with it. Tokens are cached in memory by VM uid after the first read, and
 * which VMs' SSH and migration TLS Secrets exist is remembered: a runner pod's Secrets cost no read.
 */
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { VirtualMachine } from '../../crds';
import { isAlreadyExists, type CoreApi } from '../../kube';
import { RUNNER_TOKEN_SECRET_KEY, vmOwnerReference } from '../pod';
import { runnerTokenSecretName, sshSecretName } from '../vm/names';
import { generateSshKeyPair } from '../vm/ssh-keys';
import type { MigrationTlsIssuer } from '../migration-tls';

/** What a runner pod of the VM needs made before it is created. */
export interface PodSecretsWanted {
  /** The migration TLS Secret (`--migration-tls`; a migration target follows its source pod). */
  readonly migrationTls: boolean;
  readonly ssh: boolean;
}

export class RunnerSecrets {
  private readonly tokens = new Map<string, string>();
  /** VM uids whose SSH Secret exists. */
  private readonly sshMade = new Set<string>();
  /** By VM uid and what is wanted: the Secrets of its next runner pod being made (see `prepare`). */
  private readonly preparing = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly core: CoreApi,
    private readonly migrationTls: MigrationTlsIssuer,
  ) {}

  /**
   * Makes the Secrets a runner pod of the VM mounts — token, migration TLS, SSH keys, independent of
   * each other, so at once — and resolves with the migration TLS Secret's name (undefined when not
   * wanted). A call while the same VM's Secrets are being made (started by `prepare`) joins it.
   */
  forPod(vm: VirtualMachine, wanted: PodSecretsWanted): Promise<string | undefined> {
    // Keyed by what is wanted too: a spec change in between (enableSSH) must not join a set without it.
    const uid = `${vm.metadata?.uid ?? ''}/${wanted.migrationTls}/${wanted.ssh}`;
    const inFlight = this.preparing.get(uid);
    if (inFlight) return inFlight;
    const made = Promise.all([
      this.ensureMigrationTls(vm, wanted.migrationTls),
      this.ensureToken(vm),
      wanted.ssh ? this.ensureSshSecret(vm) : undefined,
    ]).then(([migrationTlsSecretName]) => migrationTlsSecretName);
    this.preparing.set(uid, made);
    const clear = () => {
      if (this.preparing.get(uid) === made) this.preparing.delete(uid);
    };
    made.then(clear, clear);
    return made;
  }

  /**
   * Starts `forPod` without waiting (the round that persists the pod's name): the round that creates
   * the pod then finds them made or joins them. A failure here is not reported: that round makes
   * them again and reports its own.
   */
  prepare(vm: VirtualMachine, wanted: PodSecretsWanted): void {
    this.forPod(vm, wanted).catch(() => undefined);
  }

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
    const secret = await this.getOrCreate(vm, name, () => ({
      type: 'Opaque',
      immutable: true,
      stringData: { [RUNNER_TOKEN_SECRET_KEY]: randomBytes(32).toString('hex') },
    }));
    const token =
      Buffer.from(secret.data?.[RUNNER_TOKEN_SECRET_KEY] ?? '', 'base64').toString('utf8') ||
      secret.stringData?.[RUNNER_TOKEN_SECRET_KEY] ||
      '';
    if (!token) throw new Error(`Secret ${name} has no ${RUNNER_TOKEN_SECRET_KEY}`);
    this.tokens.set(uid, token);
    return token;
  }

  /**
   * The SSH key Secret, generated once and never changed. Created first (a new VM has none; an
   * ed25519 pair is cheap), and remembered by VM uid, so later pods of the VM make no call for it.
   */
  async ensureSshSecret(vm: VirtualMachine): Promise<void> {
    const uid = vm.metadata?.uid ?? '';
    if (this.sshMade.has(uid)) return;
    await this.getOrCreate(vm, sshSecretName(vm.metadata?.name ?? ''), () => {
      const pair = generateSshKeyPair(`${vm.metadata?.name}@neonvm`);
      return {
        type: 'kubernetes.io/ssh-auth',
        immutable: true,
        stringData: { 'ssh-publickey': pair.publicKey, 'ssh-privatekey': pair.privateKey },
      };
    });
    this.sshMade.add(uid);
  }

  forget(vmUid: string): void {
    this.tokens.delete(vmUid);
    this.sshMade.delete(vmUid);
    this.migrationTls.forget(vmUid);
  }

  /** Creates the Secret; when it exists already (409), reads it. */
  private async getOrCreate(
    vm: VirtualMachine,
    name: string,
    make: () => Partial<V1Secret>,
  ): Promise<V1Secret> {
    const namespace = vm.metadata?.namespace ?? 'default';
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

import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { VirtualMachine } from '../../crds';
import type { MigrationTlsIssuer } from '../migration-tls';
import { RunnerSecrets } from './runner-secrets';

const vm = {
  apiVersion: 'vm.neon.tech/v1',
  kind: 'VirtualMachine',
  metadata: { name: 'vm1', namespace: 'ns', uid: 'u1' },
  spec: {},
} as unknown as VirtualMachine;

/** Secret creates that wait for `release`, counted; the migration TLS issuer is a counter too. */
function fakes(fail = false) {
  const calls: string[] = [];
  const pending: Array<() => void> = [];
  const core = {
    createNamespacedSecret: ({ body }: { body: V1Secret }) => {
      calls.push(`POST ${body.metadata?.name}`);
      return new Promise<V1Secret>((resolve, reject) =>
        pending.push(() => (fail ? reject(new Error('HTTP-Code: 500')) : resolve(body))),
      );
    },
  } as unknown as CoreV1Api;
  const issuer = {
    ensureForVm: () => {
      calls.push('migration-tls');
      return Promise.resolve('migration-tls-neonvm-vm1');
    },
    forget: () => undefined,
  } as unknown as MigrationTlsIssuer;
  const release = () => pending.splice(0).forEach((f) => f());
  return { secrets: new RunnerSecrets(core, issuer), calls, release };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('RunnerSecrets.prepare / forPod', () => {
  it('joins the Secrets started a round earlier instead of making them again', async () => {
    const { secrets, calls, release } = fakes();
    secrets.prepare(vm, { migrationTls: true, ssh: false });
    const joined = secrets.forPod(vm, { migrationTls: true, ssh: false });
    await flush();
    expect(calls).toEqual(['migration-tls', 'POST runner-token-neonvm-vm1']);
    release();
    await expect(joined).resolves.toBe('migration-tls-neonvm-vm1');
    // Made: the token is known, so a later pod of the VM makes no token call.
    calls.length = 0;
    await secrets.forPod(vm, { migrationTls: false, ssh: false });
    expect(calls).toEqual([]);
  });

  it('does not join a set made without what is wanted now (enableSSH turned on in between)', async () => {
    const { secrets, calls, release } = fakes();
    secrets.prepare(vm, { migrationTls: false, ssh: false });
    const withSsh = secrets.forPod(vm, { migrationTls: false, ssh: true });
    await flush();
    release();
    await flush();
    release();
    await withSsh;
    expect(calls.filter((c) => c.startsWith('POST ssh-'))).toEqual(['POST ssh-neonvm-vm1']);
  });

  it('forgets a failed preparation, so the next round makes the Secrets again and sees the error', async () => {
    const { secrets, calls, release } = fakes(true);
    secrets.prepare(vm, { migrationTls: false, ssh: false });
    await flush();
    release();
    await flush();
    const again = secrets.forPod(vm, { migrationTls: false, ssh: false });
    await flush();
    release();
    await expect(again).rejects.toThrow('500');
    expect(calls).toEqual(['POST runner-token-neonvm-vm1', 'POST runner-token-neonvm-vm1']);
  });
});

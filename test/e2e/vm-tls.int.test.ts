/**
 * spec.tls end to end: cert-manager's own controllers (built from its Go module) sign the VM's
 * CertificateRequest with a CA ClusterIssuer, the operator copies the certificate into the VM's
 * kubernetes.io/tls Secret, the runner pod mounts it and the runner syncs it into the guest (Debian
 * under QEMU), where `ssh guest-vm cat /var/tls/tls.crt` shows it. A serverName change re-issues it.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { SeedFlow, NeonVmStack, startNeonVmStack } from '../../local-stack';
import { createCaClusterIssuer } from '../../cluster';
import { pollUntil } from '../../host';
import { vmApi } from '../operator/operator-fixture';

jest.setTimeout(15 * 60_000);

const ISSUER = 'neonvm-test-ca';
const NS = 'default';
const SECRET = 'tls-neonvm-tls-vm';

describe('VM TLS certificates from cert-manager', () => {
  let stack: NeonVmStack | undefined;
  const kubectl = (...args: string[]) => stack!.kubectl(...args);
  const getJson = async <T>(...args: string[]): Promise<T> =>
    JSON.parse(await kubectl('get', ...args, '-o', 'json')) as T;
  let flow: SeedFlow;
  const vm = () => flow.vm('tls-vm');
  const secretData = async (): Promise<Record<string, string>> => {
    const s = await getJson<{ data?: Record<string, string> }>('secret', SECRET, '-n', NS);
    const decoded = Object.entries(s.data ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v, 'base64').toString('utf8'),
    ]);
    return Object.fromEntries(decoded) as Record<string, string>;
  };
  /** Through the runner pod's `ssh guest-vm` (retried while sshd starts). */
  const inGuest = (command: string): Promise<string> => flow.inGuest('tls-vm', command);

  beforeAll(async () => {
    stack = await startNeonVmStack({ nodes: 1, certManager: 'start', progress: () => undefined });
    flow = new SeedFlow(stack, () => undefined, NS);
  }, 20 * 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it('waits for the issuer, boots the VM with the certificate in the guest, and re-issues on a serverName change', async () => {
    await vmApi(stack!.cluster.kubeConfig.makeApiClient(CustomObjectsApi), NS).create({
      apiVersion: 'vm.neon.tech/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'tls-vm', namespace: NS },
      spec: {
        guest: {
          cpus: { min: 1, max: 1, use: 1 },
          memorySlots: { min: 1, max: 1, use: 1 },
          rootDisk: { image: 'neondatabase/vm-debian:11' },
        },
        tls: { certificateIssuer: ISSUER, serverName: 'db.neonvm.test', expireAfter: '24h' },
      },
    });
    // No ClusterIssuer yet: the VM waits, says why, and has no runner pod.
    const waiting = await pollUntil(
      async () => {
        const v = await vm();
        const available = v.status?.conditions?.find((c) => c.type === 'Available');
        return available?.reason === 'WaitingForCertificate' && /issuer/i.test(available.message)
          ? v
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'the VM to wait for its certificate' },
    );
    expect(waiting.status?.phase).toBe('Pending');
    expect(await kubectl('get', 'pods', '-n', NS, '-o', 'name')).toBe('');

    // The issuer appears: the request is signed and the VM starts.
    const { caPem } = await createCaClusterIssuer(stack!.cluster, stack!.certManager!, ISSUER, {
      waitReady: false,
    });
    const running = await pollUntil(
      async () => {
        const v = await vm();
        return v.status?.phase === 'Running' ? v : undefined;
      },
      { timeoutMs: 8 * 60_000, intervalMs: 2000, description: 'the VM to be Running' },
    );
    expect(running.status?.tlsSecretName).toBe(SECRET);
    const podName = running.status?.podName ?? '';

    const first = await secretData();
    const cert = new X509Certificate(first['tls.crt'] ?? '');
    expect(cert.verify(new X509Certificate(caPem).publicKey)).toBe(true);
    expect(cert.checkHost('db.neonvm.test')).toBe('db.neonvm.test');
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(24 * 3_600_000);
    expect(cert.checkPrivateKey(createPrivateKey(first['tls.key'] ?? ''))).toBe(true);
    expect(first['ca.crt']).toBe(caPem);
    // The key Secret and the CertificateRequest were only needed until the certificate was issued.
    await pollUntil(
      async () =>
        (await kubectl('get', 'secrets,certificaterequests', '-n', NS, '-o', 'name'))
          .split('\n')
          .some((l) => l.includes(`${SECRET}-tmp`) || l.includes('certificaterequest'))
          ? undefined
          : true,
      { timeoutMs: 30_000, description: 'the key Secret and CertificateRequest to be removed' },
    );

    // In the guest at spec.tls.mountPath (default /var/tls); sshd may come up just after Running.
    expect(await inGuest('cat /var/tls/tls.crt')).toBe(first['tls.crt']);
    // The private key is root's alone in the guest (the agent writes spec.tls's root 0600).
    expect((await inGuest('stat -L -c "%a %U" /var/tls/tls.key')).trim()).toBe('600 root');

    // Another name: a new certificate (and key), synced into the running guest without a restart.
    await kubectl(
      'patch', 'virtualmachines', 'tls-vm', '-n', NS, '--type=merge',
      '-p', JSON.stringify({ spec: { tls: { serverName: 'db2.neonvm.test' } } }),
    ); // prettier-ignore
    const second = await pollUntil(
      async () => {
        const data = await secretData();
        return new X509Certificate(data['tls.crt'] ?? '').checkHost('db2.neonvm.test') ? data : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, description: 'a certificate for db2.neonvm.test' },
    );
    expect(second['tls.key']).not.toBe(first['tls.key']);
    await pollUntil(
      async () => ((await inGuest('cat /var/tls/tls.crt')) === second['tls.crt'] ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 2000, description: 'the new certificate in the guest' },
    );
    const after = await vm();
    expect(after.status?.podName).toBe(podName);
    expect(after.status?.restartCount ?? 0).toBe(0);
  });
});

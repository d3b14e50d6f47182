/**
 * Guest data with known checksums: files of random bytes written inside the guest (over the runner
 * pod's `ssh guest-vm`, as a user would) before a fault, and their SHA-256 sums read back after it from
 * whichever pod then runs the guest. Equal sums mean the guest's disk and page cache survived.
 */
import { pollUntil } from '../../host';
import type { NeonVmStack } from '../../local-stack';

const FILES = ['/root/fault-1', '/root/fault-2', '/root/fault-3'];

/** `ssh guest-vm <command>` in the runner pod, retried while sshd starts or the pod is being set up. */
export async function inGuest(stack: NeonVmStack, pod: string, command: string, namespace = 'default') {
  return pollUntil(
    async () => {
      const out = await stack
        .kubectl('exec', pod, '-n', namespace, '--', 'ssh', 'guest-vm', command)
        .catch(() => undefined);
      return out || undefined;
    },
    { timeoutMs: 300_000, intervalMs: 1_000, description: `ssh into the guest of ${pod}` },
  );
}

/** Writes the files (4 MiB of random bytes each) and returns `sha256sum` of them. */
export async function writeGuestData(stack: NeonVmStack, pod: string): Promise<string> {
  const write = FILES.map((f) => `head -c 4194304 /dev/urandom > ${f}`).join(' && ');
  return (await inGuest(stack, pod, `${write} && sync && sha256sum ${FILES.join(' ')}`)).trim();
}

/** `sha256sum` of the files as the guest now reads them. */
export async function readGuestData(stack: NeonVmStack, pod: string): Promise<string> {
  return (await inGuest(stack, pod, `sha256sum ${FILES.join(' ')}`)).trim();
}

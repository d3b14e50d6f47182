/** Names of the objects the operator creates for a VM. */
import { randomInt } from 'node:crypto';

/** Kubernetes' SimpleNameGenerator alphabet (no vowels, no confusable characters). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export const sshSecretName = (vmName: string): string => `ssh-neonvm-${vmName}`;
export const tlsSecretName = (vmName: string): string => `tls-neonvm-${vmName}`;
export const runnerTokenSecretName = (vmName: string): string => `runner-token-neonvm-${vmName}`;
export const migrationTlsSecretName = (vmName: string): string => `migration-tls-neonvm-${vmName}`;

/** `<vmName>-<5 random characters>`, as upstream names runner pods. */
export function generatePodName(vmName: string, random: (n: number) => number = randomInt): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += ALPHABET[random(ALPHABET.length)];
  return `${vmName}-${suffix}`;
}

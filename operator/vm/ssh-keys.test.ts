import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itIf } from '../../host/testing';
import { generateSshKeyPair } from './ssh-keys';

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as { status?: number }).status !== undefined && (err as { code?: string }).code !== 'ENOENT';
  }
}

describe('generateSshKeyPair', () => {
  it('produces an authorized_keys line and an OpenSSH PEM', () => {
    const pair = generateSshKeyPair('vm@neonvm');
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/=]+ vm@neonvm$/);
    expect(pair.privateKey.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----\n')).toBe(true);
    expect(pair.privateKey.trimEnd().endsWith('-----END OPENSSH PRIVATE KEY-----')).toBe(true);
    expect(generateSshKeyPair().publicKey).not.toBe(pair.publicKey);
  });

  itIf(hasSshKeygen(), 'ssh-keygen (openssh-client) is not installed')(
    'is accepted by ssh-keygen, which derives the same public key',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'neonvm-ssh-'));
      try {
        const pair = generateSshKeyPair('c');
        const file = join(dir, 'id_ed25519');
        writeFileSync(file, pair.privateKey, { mode: 0o600 });
        const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
        expect(derived.split(' ').slice(0, 2)).toEqual(pair.publicKey.split(' ').slice(0, 2));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

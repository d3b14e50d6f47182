import { execMountScript, planExecMounts, podSshConfig } from './pod-mount-namespace';

describe('exec mount namespace', () => {
  const hostHas = (paths: string[]) => (p: string) => paths.includes(p);

  it('covers existing paths directly and creates missing ones inside a tmpfs over their top directory', () => {
    const plan = planExecMounts(
      '/pod/root',
      ['/vm', '/mnt/ssh', '/etc/neon/config', '/data/'],
      hostHas(['/mnt', '/etc', '/etc/hosts', '/data']),
      [
        { source: '/pod/root/etc/hosts', target: '/etc/hosts' },
        { source: '/pod/root/.neonvm-exec/ssh_config', target: '/etc/ssh/ssh_config' },
      ],
    );
    // /etc is never hidden behind a tmpfs, so /etc/neon/config is left out; ssh_config is absent on this host.
    expect(plan.tmpfs).toEqual(['/mnt']);
    expect(plan.binds).toEqual([
      { source: '/pod/root/vm', target: '/vm' },
      { source: '/pod/root/data', target: '/data' },
      { source: '/pod/root/mnt/ssh', target: '/mnt/ssh' },
      { source: '/pod/root/etc/hosts', target: '/etc/hosts' },
    ]);
  });

  it('writes a script that mounts, then execs the command', () => {
    const script = execMountScript({
      tmpfs: ['/mnt'],
      binds: [{ source: "/pod/it's", target: '/mnt/ssh' }],
    });
    expect(script.split('\n')[0]).toBe('set -e');
    expect(script).toContain(`mount -t tmpfs -o mode=755 neonvm-pod '/mnt'`);
    expect(script).toContain(`mount --bind '/pod/it'\\''s' '/mnt/ssh'`);
    expect(script.endsWith('exec "$@"')).toBe(true);
  });

  it('points ssh at the pod key and a per-pod known_hosts', () => {
    expect(podSshConfig('/p/known_hosts')).toContain('IdentityFile /mnt/ssh/id_ed25519');
    expect(podSshConfig('/p/known_hosts')).toContain('UserKnownHostsFile /p/known_hosts');
  });
});

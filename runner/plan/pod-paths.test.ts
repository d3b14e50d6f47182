import { MAX_SOCKET_PATH, podPaths, socketDirFor } from './pod-paths';

describe('podPaths', () => {
  it('keeps the QMP sockets in the state directory when the path fits a unix socket', () => {
    const p = podPaths('/');
    expect(p.state).toBe('/vm/runner');
    expect(p.socketDir).toBe('/vm/runner');
    expect(p.qmpSocket).toBe('/vm/runner/qmp.sock');
  });

  it('moves the sockets to a short, stable directory under a deep pod root (sun_path is 108 bytes)', () => {
    const root =
      '/tmp/neonvm-cluster-bjT0Z0/nodes/neonvm-node-1/pods/default_vm-debian-ps4v4_a759955e-61d7-48aa-9c3c-95cef4af9cdd/rootfs/neonvm-runner';
    const p = podPaths(root);
    expect(p.state.startsWith(root)).toBe(true);
    expect(p.qmpManualSocket.length).toBeLessThanOrEqual(MAX_SOCKET_PATH);
    expect(p.socketDir).toBe(socketDirFor(p.state));
    expect(podPaths(root).socketDir).toBe(p.socketDir);
    expect(podPaths(`${root}x`).socketDir).not.toBe(p.socketDir);
  });

  it('puts that directory in the temp directory (a pod-private TMPDIR), else in /tmp if too long', () => {
    const state = `/pods/${'x'.repeat(100)}/vm/runner`;
    expect(socketDirFor(state, '/tmp/neonvm-pod-0123456789abcdef')).toMatch(
      /^\/tmp\/neonvm-pod-0123456789abcdef\/neonvm-qmp-[0-9a-f]{16}$/,
    );
    expect(socketDirFor(state, `/${'t'.repeat(90)}`)).toMatch(/^\/tmp\/neonvm-qmp-[0-9a-f]{16}$/);
  });
});

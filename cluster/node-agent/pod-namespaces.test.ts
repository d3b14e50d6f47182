import {
  containerArgv,
  execArgvPrefix,
  holderArgv,
  parseNsPid,
  podHostname,
  podIsolation,
} from './pod-namespaces';

describe('pod namespaces', () => {
  const netns = ['ip', 'netns', 'exec', 'nvm0-abcd1234'];

  it('isolates UTS, IPC and PID unless the pod asks for the host ones', () => {
    expect(podIsolation({ spec: { containers: [] } })).toEqual({ uts: true, ipc: true, pid: true });
    expect(
      podIsolation({ spec: { containers: [], hostNetwork: true, hostIPC: true, hostPID: true } }),
    ).toEqual({ uts: false, ipc: false, pid: false });
  });

  it('names the host after spec.hostname or the pod, at most 63 characters', () => {
    expect(podHostname({ metadata: { name: 'web-1' } })).toBe('web-1');
    expect(podHostname({ metadata: { name: 'web-1' }, spec: { containers: [], hostname: 'db' } })).toBe('db');
    expect(podHostname({ metadata: { name: `${'a'.repeat(62)}-b` } })).toBe('a'.repeat(62));
  });

  it('holds UTS and IPC in the pod network namespace, with the hostname set before it sleeps', () => {
    expect(holderArgv(netns, { uts: true, ipc: true, pid: true }, 'web-1')).toEqual([
      ...netns,
      'unshare',
      '--ipc',
      '--uts',
      '--',
      'sh',
      '-c',
      'echo "$1" > /proc/sys/kernel/hostname && exec sleep infinity',
      'neonvm-pod',
      'web-1',
    ]);
    expect(
      holderArgv(netns, { uts: true, ipc: true, pid: true }, 'web-1', [
        'addr add 10.0.0.2/16 dev eth0',
        'link set lo up',
      ]),
    ).toEqual([
      ...netns,
      'unshare',
      '--ipc',
      '--uts',
      '--',
      'sh',
      '-c',
      'ip -batch - <<\'NEONVM_NETWORK_END\' && echo "$1" > /proc/sys/kernel/hostname && exec sleep infinity\n' +
        'addr add 10.0.0.2/16 dev eth0\nlink set lo up\nNEONVM_NETWORK_END',
      'neonvm-pod',
      'web-1',
    ]);
    expect(() => holderArgv(netns, { uts: true, ipc: true, pid: true }, 'x', ['a\nb'])).toThrow(/one line/);
    expect(holderArgv([], { uts: false, ipc: true, pid: true }, 'x')).toEqual([
      'unshare',
      '--ipc',
      '--',
      'sh',
      '-c',
      'exec sleep infinity',
      'neonvm-pod',
      'x',
    ]);
  });

  it('starts a container in the holder network/mount/UTS/IPC namespaces and a PID namespace of its own', () => {
    expect(
      containerArgv(42, { uts: true, ipc: true, pid: true }, '/pods/x/rootfs/main', ['sh', '-c', 'x']),
    ).toEqual([
      'nsenter',
      '--target=42',
      '--net',
      '--mount',
      '--uts',
      '--ipc',
      '--wd=/pods/x/rootfs/main',
      '--',
      'unshare',
      '--pid',
      '--fork',
      '--mount-proc',
      '--',
      'sh',
      '-c',
      'x',
    ]);
    expect(containerArgv(42, { uts: false, ipc: true, pid: false }, '/w', ['top'])).toEqual([
      'nsenter',
      '--target=42',
      '--net',
      '--mount',
      '--uts',
      '--ipc',
      '--wd=/w',
      '--',
      'top',
    ]);
  });

  it('execs into every namespace of the container process, in its working directory', () => {
    expect(execArgvPrefix(77, '/pods/x/rootfs/main')).toEqual([
      'nsenter',
      '--target=77',
      '--pid',
      '--mount',
      '--uts',
      '--ipc',
      '--net',
      '--wd=/pods/x/rootfs/main',
      '--',
    ]);
  });

  it('reads NSpid (outermost namespace first)', () => {
    expect(parseNsPid('Name:\tsh\nNSpid:\t4711\t1\nNSsid:\t1\n')).toEqual([4711, 1]);
    expect(parseNsPid('NSpid:\t99\n')).toEqual([99]);
    expect(parseNsPid('Name:\tx\n')).toEqual([]);
  });
});

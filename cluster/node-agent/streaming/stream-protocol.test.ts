import {
  EXEC_PROTOCOLS,
  expectedStreams,
  exitStatus,
  negotiateProtocol,
  parseExecQuery,
  parseStreamingPath,
} from './stream-protocol';

describe('streaming protocol', () => {
  it('negotiates the best common remotecommand version from a joined header', () => {
    expect(negotiateProtocol('v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io', EXEC_PROTOCOLS)).toBe(
      'v4.channel.k8s.io',
    );
    expect(negotiateProtocol(['channel.k8s.io'], EXEC_PROTOCOLS)).toBe('channel.k8s.io');
    expect(negotiateProtocol(undefined, EXEC_PROTOCOLS)).toBeUndefined();
  });

  it('reads the exec query the API server forwards', () => {
    const req = parseExecQuery(new URLSearchParams('command=sh&command=-c&command=echo+hi&error=1&output=1'));
    expect(req).toEqual({
      command: ['sh', '-c', 'echo hi'],
      stdin: false,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(expectedStreams(req)).toEqual(['error', 'stdout', 'stderr']);
    const tty = parseExecQuery(new URLSearchParams('command=sh&input=1&output=1&tty=1'));
    expect(expectedStreams(tty)).toEqual(['error', 'stdin', 'stdout', 'resize']);
  });

  it('reports a non-zero exit code the way kubectl reads it', () => {
    expect(JSON.parse(exitStatus(0))).toEqual({ metadata: {}, status: 'Success' });
    expect(JSON.parse(exitStatus(3))).toMatchObject({
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('parses exec and portForward paths', () => {
    expect(parseStreamingPath('/exec/ns/p/c')).toEqual({
      kind: 'exec',
      namespace: 'ns',
      pod: 'p',
      container: 'c',
    });
    expect(parseStreamingPath('/portForward/ns/p')).toEqual({
      kind: 'portForward',
      namespace: 'ns',
      pod: 'p',
    });
    expect(parseStreamingPath('/containerLogs/ns/p/c')).toBeUndefined();
  });
});

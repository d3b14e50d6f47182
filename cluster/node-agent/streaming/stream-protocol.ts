/** Pure parts of the kubelet streaming protocols (remotecommand over SPDY, port-forward). */

/** remotecommand versions we speak, preferred first. v4 reports the exit status as a JSON v1 Status. */
export const EXEC_PROTOCOLS = [
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/**
 * Picks the protocol from X-Stream-Protocol-Version. The header may be repeated; Node joins repeats
 * with ", ". Our preference order wins, as in the kubelet's negotiation.
 */
export function negotiateProtocol(
  header: string | string[] | undefined,
  supported: readonly string[],
): string | undefined {
  const offered = new Set(
    (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  return supported.find((p) => offered.has(p));
}

export interface ExecRequest {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The query of POST /exec/<ns>/<pod>/<container> as the API server forwards it. */
export function parseExecQuery(params: URLSearchParams): ExecRequest {
  const flag = (...names: string[]) => names.some((n) => ['1', 'true'].includes(params.get(n) ?? ''));
  const tty = flag('tty');
  return {
    command: params.getAll('command'),
    stdin: flag('input', 'stdin'),
    stdout: flag('output', 'stdout'),
    // With a TTY, stderr is merged into stdout and no stderr stream is opened.
    stderr: flag('error', 'stderr') && !tty,
    tty,
  };
}

/** Stream types the client will open for this request; the command starts once all exist. */
export function expectedStreams(req: ExecRequest): string[] {
  return [
    'error',
    ...(req.stdin ? ['stdin'] : []),
    ...(req.stdout ? ['stdout'] : []),
    ...(req.stderr ? ['stderr'] : []),
    ...(req.tty ? ['resize'] : []),
  ];
}

/** The v1 Status written on the error stream when the command ends (v4 protocol). */
export function exitStatus(exitCode: number): string {
  if (exitCode === 0) return JSON.stringify({ metadata: {}, status: 'Success' });
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  });
}

/** `/exec/<ns>/<pod>/<container>` or `/portForward/<ns>/<pod>`. */
export function parseStreamingPath(
  pathname: string,
):
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string }
  | undefined {
  const exec = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (exec) {
    return {
      kind: exec[1] as 'exec' | 'attach',
      namespace: decodeURIComponent(exec[2]),
      pod: decodeURIComponent(exec[3]),
      container: decodeURIComponent(exec[4]),
    };
  }
  const pf = /^\/portForward\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (pf)
    return { kind: 'portForward', namespace: decodeURIComponent(pf[1]), pod: decodeURIComponent(pf[2]) };
  return undefined;
}

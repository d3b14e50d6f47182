/** The query of the kubelet's containerLogs endpoint, as kubectl logs sends it. */
export interface LogQuery {
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  limitBytes?: number;
}

export function parseLogQuery(params: URLSearchParams): LogQuery {
  const int = (name: string): number | undefined => {
    const v = params.get(name);
    if (v === null || !/^\d+$/.test(v)) return undefined;
    return Number(v);
  };
  return {
    follow: params.get('follow') === 'true',
    previous: params.get('previous') === 'true',
    tailLines: int('tailLines'),
    limitBytes: int('limitBytes'),
  };
}

/** The last `n` lines of `text` (a trailing newline does not count as an extra empty line). */
export function tailLines(text: Buffer, n: number | undefined): Buffer {
  if (n === undefined) return text;
  if (n === 0) return Buffer.alloc(0);
  let end = text.length;
  if (end > 0 && text[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (text[i] === 0x0a && ++count === n) return text.subarray(i + 1);
  }
  return text;
}

/** `/containerLogs/<namespace>/<pod>/<container>` → its parts, or undefined. */
export function parseLogPath(
  pathname: string,
): { namespace: string; pod: string; container: string } | undefined {
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (!m) return undefined;
  return {
    namespace: decodeURIComponent(m[1]),
    pod: decodeURIComponent(m[2]),
    container: decodeURIComponent(m[3]),
  };
}

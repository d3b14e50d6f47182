/**
 * What the API server did during a measured interval, from two scrapes of its Prometheus `/metrics`:
 * requests by verb and resource (`apiserver_request_total`) and the time it spent answering them
 * (`apiserver_request_duration_seconds_sum`). Which requests a pod start costs is what the node agent
 * can change (issue #21: a burst of pod starts is bound by the API server's CPU). Pure.
 */

/** verb + resource[/subresource] → value, summed over every other label (code, scope, version...). */
export type RequestMetric = Map<string, number>;

export interface ApiServerRequests {
  count: RequestMetric;
  seconds: RequestMetric;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(LABEL)) labels[m[1]] = m[2];
  return labels;
}

/** Parses the request counters and duration sums out of a `/metrics` text. */
export function parseApiServerRequests(metrics: string): ApiServerRequests {
  const count: RequestMetric = new Map();
  const seconds: RequestMetric = new Map();
  for (const line of metrics.split('\n')) {
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const target =
      m[1] === 'apiserver_request_total'
        ? count
        : m[1] === 'apiserver_request_duration_seconds_sum'
          ? seconds
          : undefined;
    if (!target) continue;
    const l = labelsOf(m[2]);
    const key = `${l.verb ?? '?'} ${l.resource ?? '?'}${l.subresource ? `/${l.subresource}` : ''}`;
    target.set(key, (target.get(key) ?? 0) + Number(m[3]));
  }
  return { count, seconds };
}

/** One line per request kind that changed: count and server seconds between two scrapes. */
export interface RequestDelta {
  kind: string;
  count: number;
  seconds: number;
}

/** `after - before`, kinds with no new requests left out, most server time first. */
export function requestDelta(before: ApiServerRequests, after: ApiServerRequests): RequestDelta[] {
  const rows: RequestDelta[] = [];
  for (const [kind, n] of after.count) {
    const count = n - (before.count.get(kind) ?? 0);
    if (count <= 0) continue;
    const seconds = (after.seconds.get(kind) ?? 0) - (before.seconds.get(kind) ?? 0);
    rows.push({ kind, count, seconds });
  }
  return rows.sort((a, b) => b.seconds - a.seconds || b.count - a.count);
}

/** Requests that change state (what etcd writes): create, update, patch, delete. */
export function isWrite(kind: string): boolean {
  return /^(POST|PUT|PATCH|DELETE|APPLY) /.test(kind);
}

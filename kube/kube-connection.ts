/**
 * Where the API server is and how to authenticate to it, without @kubernetes/client-node: its
 * `KubeConfig` module imports every generated API and model (`./gen/index.js`), which alone took a
 * node process from 42 to 106 MiB RSS (Node 24, measured 2026-12-04), more than the operator's whole
 * idle budget. This loader reads what the operator is deployed with — a ServiceAccount in a pod, or a
 * kubeconfig with client certificates, a bearer token or a token file — and hands anything else (exec
 * and auth-provider plugins, merged KUBECONFIG lists) to client-node's KubeConfig, loaded on demand.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isIPv6 } from 'node:net';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

/** TLS material of the connection (PEM). */
export interface KubeTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** false: `insecure-skip-tls-verify`. */
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** An API server and the credentials of one user, as every request needs them. */
export interface KubeConnection {
  /** Base URL, e.g. `https://10.0.0.1:6443` (no trailing slash). */
  readonly server: string;
  /** TLS material, read once (by the client's first request). */
  tls(): Promise<KubeTls>;
  /**
   * Headers that carry credentials, computed per request (a rotated token file is re-read, a plugin
   * refreshes its token): `Authorization`, `Impersonate-User`.
   */
  headers(): Promise<Record<string, string>>;
}

/** In a pod: the ServiceAccount's token and the cluster's CA (client-go's rest.InClusterConfig). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A token file is re-read when the last read is this old: the kubelet rotates projected
 * ServiceAccount tokens well before they expire, and client-go re-reads them every minute too.
 */
export const TOKEN_FILE_REFRESH_MS = 60_000;

/** The `Authorization` header from a token file, re-read every {@link TOKEN_FILE_REFRESH_MS}. */
export function tokenFileHeaders(
  file: string,
  now: () => number = Date.now,
): () => Promise<Record<string, string>> {
  let cached: { token: string; readAt: number } | undefined;
  return async () => {
    const at = now();
    if (!cached || at - cached.readAt >= TOKEN_FILE_REFRESH_MS) {
      cached = { token: (await readFile(file, 'utf8')).trim(), readAt: at };
    }
    return { Authorization: `Bearer ${cached.token}` };
  };
}

/** In-cluster configuration (KUBERNETES_SERVICE_HOST/PORT); `root` prefixes the ServiceAccount dir. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, root = ''): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  // As client-node's loadFromCluster: these ports are plain HTTP (kubectl proxy, insecure port).
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const dir = `${root}${SERVICE_ACCOUNT_DIR}`;
  return {
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: () => Promise.resolve({ ca: readFileSync(join(dir, 'ca.crt')) }),
    headers: tokenFileHeaders(join(dir, 'token')),
  };
}

/** The parts of a kubeconfig this loader reads (kubectl's names). */
interface KubeconfigFile {
  readonly 'current-context'?: string;
  readonly contexts?: ReadonlyArray<{ name?: string; context?: { cluster?: string; user?: string } }>;
  readonly clusters?: ReadonlyArray<{ name?: string; cluster?: Record<string, unknown> }>;
  readonly users?: ReadonlyArray<{ name?: string; user?: Record<string, unknown> }>;
}

/** Cluster and user fields this loader implements; any other field makes it defer to client-node. */
const CLUSTER_FIELDS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);
const USER_FIELDS = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'username',
  'password',
  'as',
  'extensions',
]);

/**
 * The current context of a kubeconfig's text as a connection, or `undefined` when it needs what only
 * client-node implements (exec or auth-provider plugins, proxies, …). `dir` resolves relative paths.
 * Throws on a kubeconfig that is malformed, naming the field.
 */
export function connectionFromKubeconfigText(text: string, dir: string): KubeConnection | undefined {
  const doc = parseYaml(text) as KubeconfigFile | null;
  if (!doc || typeof doc !== 'object') throw new Error('kubeconfig: not a YAML mapping');
  const contextName = doc['current-context'];
  if (!contextName) throw new Error('kubeconfig: current-context is not set');
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig: contexts has no context named "${contextName}"`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig: clusters has no cluster named "${context.cluster ?? ''}"`);
  const user = (context.user ? doc.users?.find((u) => u.name === context.user)?.user : undefined) ?? {};
  if (Object.keys(cluster).some((k) => !CLUSTER_FIELDS.has(k))) return undefined;
  if (Object.keys(user).some((k) => !USER_FIELDS.has(k))) return undefined;
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server))
    throw new Error(`kubeconfig: clusters["${context.cluster ?? ''}"].server must be an http(s) URL`);
  const str = (v: unknown, field: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new Error(`kubeconfig: ${field} must be a string`);
    return v;
  };
  const pem = (fileField: string, dataField: string, from: Record<string, unknown>): Buffer | undefined => {
    const data = str(from[dataField], dataField);
    if (data) return Buffer.from(data, 'base64');
    const file = str(from[fileField], fileField);
    return file ? readFileSync(isAbsolute(file) ? file : join(dir, file)) : undefined;
  };
  const tls: KubeTls = {
    ca: pem('certificate-authority', 'certificate-authority-data', cluster),
    cert: pem('client-certificate', 'client-certificate-data', user),
    key: pem('client-key', 'client-key-data', user),
    ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
    ...(str(cluster['tls-server-name'], 'tls-server-name')
      ? { servername: str(cluster['tls-server-name'], 'tls-server-name') }
      : {}),
  };
  const token = str(user.token, 'token');
  const tokenFile = str(user.tokenFile, 'tokenFile');
  const username = str(user.username, 'username');
  const impersonate = str(user.as, 'as');
  const fixed: Record<string, string> = {};
  if (impersonate) fixed['Impersonate-User'] = impersonate;
  if (token) fixed.Authorization = `Bearer ${token}`;
  else if (username !== undefined) {
    const password = str(user.password, 'password') ?? '';
    fixed.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  const fromFile =
    !token && tokenFile
      ? tokenFileHeaders(isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile))
      : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    tls: () => Promise.resolve(tls),
    headers: fromFile ? async () => ({ ...fixed, ...(await fromFile()) }) : () => Promise.resolve(fixed),
  };
}

/**
 * A connection from client-node's KubeConfig (in-process callers that already hold one, and the
 * kubeconfigs this module does not read itself). TLS material is read once; credential headers are
 * asked of the KubeConfig per request only when the user has any (token, plugin, basic auth), as it
 * refreshes them itself.
 */
export function connectionFromKubeConfig(kubeConfig: KubeConfig): KubeConnection {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const user = kubeConfig.getCurrentUser();
  const headerAuth = !!user && !!(user.token || user.authProvider || user.exec || user.username);
  interface HttpsOptions {
    ca?: Buffer | string;
    cert?: Buffer | string;
    key?: Buffer | string;
    rejectUnauthorized?: boolean;
    servername?: string;
    headers?: Record<string, string | number | string[]>;
    auth?: string;
  }
  const buf = (v: Buffer | string | undefined) => (v === undefined ? undefined : Buffer.from(v));
  const headersOf = (o: HttpsOptions): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {}))
      out[k] = Array.isArray(v) ? v.join(', ') : String(v);
    if (o.auth) out.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
    return out;
  };
  const options = async (): Promise<HttpsOptions> => {
    const opts: HttpsOptions = {};
    await kubeConfig.applyToHTTPSOptions(opts);
    return opts;
  };
  const first = options();
  // Unhandled until asked for: a failure surfaces on the first request.
  first.catch(() => undefined);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls: async () => {
      const opts = await first;
      return {
        ca: buf(opts.ca),
        cert: buf(opts.cert),
        key: buf(opts.key),
        ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
        ...(opts.servername ? { servername: opts.servername } : {}),
      };
    },
    headers: headerAuth ? async () => headersOf(await options()) : async () => headersOf(await first),
  };
}

/** client-node's KubeConfig, imported only when needed (it loads every generated API; see above). */
async function clientNodeConnection(load: (kc: KubeConfig) => void): Promise<KubeConnection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  load(kc);
  return connectionFromKubeConfig(kc);
}

/**
 * The operator's connection, as client-node's `loadFromFile` / `loadFromCluster` / `loadFromDefault`
 * would choose it: `path` when given; in a pod (KUBERNETES_SERVICE_HOST) the ServiceAccount below
 * `podRoot`; else KUBECONFIG or ~/.kube/config.
 */
export async function loadKubeConnection(
  path: string | undefined,
  podRoot = '',
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeConnection> {
  if (path) {
    return (
      connectionFromKubeconfigText(await readFile(path, 'utf8'), dirname(path)) ??
      clientNodeConnection((kc) => kc.loadFromFile(path))
    );
  }
  if (env.KUBERNETES_SERVICE_HOST) return inClusterConnection(env, podRoot);
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const file = files.length === 0 ? join(homedir(), '.kube', 'config') : files.length === 1 ? files[0] : '';
  if (file && exists(file)) {
    const lean = connectionFromKubeconfigText(await readFile(file, 'utf8'), dirname(file));
    if (lean) return lean;
  }
  // Several files to merge, none at all (client-node falls back to localhost:8080), or plugins.
  return clientNodeConnection((kc) => kc.loadFromDefault());
}

function exists(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SERVICE_ACCOUNT_DIR,
  TOKEN_FILE_REFRESH_MS,
  connectionFromKubeconfigText,
  inClusterConnection,
  loadKubeConnection,
  tokenFileHeaders,
} from './kube-connection';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'x',
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
  });
}

describe('connectionFromKubeconfigText', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kube-connection-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads client certificates (data) and a CA file relative to the kubeconfig', async () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    const c = connectionFromKubeconfigText(
      kubeconfig(
        { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
        { 'certificate-authority': 'ca.pem', 'tls-server-name': 'api' },
      ),
      dir,
    );
    expect(c?.server).toBe('https://10.0.0.1:6443');
    const tls = await c?.tls();
    expect(tls?.ca?.toString()).toBe('CA PEM');
    expect(tls?.cert?.toString()).toBe('CERT');
    expect(tls?.key?.toString()).toBe('KEY');
    expect(tls?.servername).toBe('api');
    expect(await c?.headers()).toEqual({});
  });

  it('sends a token, basic auth and impersonation as headers; skips TLS verification when asked', async () => {
    const token = connectionFromKubeconfigText(
      kubeconfig({ token: 'abc', as: 'admin' }, { 'insecure-skip-tls-verify': true }),
      dir,
    );
    expect(await token?.headers()).toEqual({ Authorization: 'Bearer abc', 'Impersonate-User': 'admin' });
    expect((await token?.tls())?.rejectUnauthorized).toBe(false);
    const basic = connectionFromKubeconfigText(kubeconfig({ username: 'u', password: 'p' }), dir);
    expect(await basic?.headers()).toEqual({ Authorization: `Basic ${b64('u:p')}` });
  });

  it('defers to client-node for exec and auth-provider plugins (undefined)', () => {
    expect(connectionFromKubeconfigText(kubeconfig({ exec: { command: 'x' } }), dir)).toBeUndefined();
    expect(
      connectionFromKubeconfigText(kubeconfig({ 'auth-provider': { name: 'oidc' } }), dir),
    ).toBeUndefined();
    expect(connectionFromKubeconfigText(kubeconfig({}, { 'proxy-url': 'http://p' }), dir)).toBeUndefined();
  });

  it('names what is wrong with a malformed kubeconfig', () => {
    expect(() => connectionFromKubeconfigText('kind: Config\n', dir)).toThrow(/current-context is not set/);
    const noContext = kubeconfig({}).replace('"current-context":"x"', '"current-context":"y"');
    expect(() => connectionFromKubeconfigText(noContext, dir)).toThrow(/no context named "y"/);
    expect(() => connectionFromKubeconfigText(kubeconfig({ token: 5 }), dir)).toThrow(
      /token must be a string/,
    );
    expect(() => connectionFromKubeconfigText(kubeconfig({}, { server: 'ftp://x' }), dir)).toThrow(
      /clusters\["c"\]\.server must be an http\(s\) URL/,
    );
  });

  it('loads a kubeconfig file by path (YAML)', async () => {
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'current-context: x',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]',
        'users: [{name: u, user: {token: t}}]',
      ].join('\n'),
    );
    const c = await loadKubeConnection(file, '', {});
    expect(c.server).toBe('http://127.0.0.1:8080');
    expect(await c.headers()).toEqual({ Authorization: 'Bearer t' });
  });
});

describe('in-cluster connection', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kube-incluster-'));
    mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'CLUSTER CA');
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), 'token-1\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('uses the ServiceAccount below the pod root (IPv6 hosts bracketed)', async () => {
    const env = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    const c = inClusterConnection(env, root);
    expect(c.server).toBe('https://[fd00::1]:443');
    expect((await c.tls()).ca?.toString()).toBe('CLUSTER CA');
    expect(await c.headers()).toEqual({ Authorization: 'Bearer token-1' });
    expect((await loadKubeConnection(undefined, root, env)).server).toBe('https://[fd00::1]:443');
    expect(() => inClusterConnection({}, root)).toThrow(
      /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/,
    );
  });

  it('re-reads a rotated token file once the last read is a minute old', async () => {
    let now = 0;
    const headers = tokenFileHeaders(join(root, SERVICE_ACCOUNT_DIR, 'token'), () => now);
    expect(await headers()).toEqual({ Authorization: 'Bearer token-1' });
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), 'token-2');
    now = TOKEN_FILE_REFRESH_MS - 1;
    expect(await headers()).toEqual({ Authorization: 'Bearer token-1' });
    now = TOKEN_FILE_REFRESH_MS;
    expect(await headers()).toEqual({ Authorization: 'Bearer token-2' });
  });
});

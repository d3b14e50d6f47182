import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ConfigSource, ContainerConfigError, expandVars, resolveEnv } from './env';

const pod: V1Pod = {
  metadata: { name: 'web-1', namespace: 'apps', uid: 'u1', labels: { app: 'web' } },
  spec: { nodeName: 'neonvm-node-2', containers: [] },
};
const config: ConfigSource = {
  configMap: (ns, name) => (ns === 'apps' && name === 'settings' ? { MODE: 'fast', LEVEL: '3' } : undefined),
  secret: (ns, name) => (ns === 'apps' && name === 'creds' ? { password: 's3cret' } : undefined),
};
const facts = { podIP: '10.244.2.7', hostIP: '10.244.2.1' };
const envOf = (container: Partial<V1Container>) =>
  resolveEnv(pod, { name: 'c', ...container }, { PATH: '/usr/bin', MODE: 'image' }, config, facts);

describe('expandVars', () => {
  it('replaces defined references, keeps undefined ones, unescapes $$', () => {
    expect(expandVars('$(A)-$(B)-$$(A)', { A: 'x' })).toBe('x-$(B)-$(A)');
  });
});

describe('resolveEnv', () => {
  it('resolves downward API field references', () => {
    const env = envOf({
      env: [
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      ],
    });
    expect(env).toMatchObject({
      POD: 'web-1',
      NS: 'apps',
      IP: '10.244.2.7',
      NODE: 'neonvm-node-2',
      APP: 'web',
    });
  });

  it('applies image env, then envFrom, then env, and expands $(VAR)', () => {
    const env = envOf({
      envFrom: [
        { configMapRef: { name: 'settings' }, prefix: 'CFG_' },
        { configMapRef: { name: 'settings' } },
      ],
      env: [
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'GREETING', value: 'mode=$(MODE) path=$(PATH)' },
      ],
    });
    expect(env).toMatchObject({
      CFG_MODE: 'fast',
      MODE: 'fast',
      PASS: 's3cret',
      GREETING: 'mode=fast path=/usr/bin',
    });
  });

  it('fails with a config error for a missing required key and skips an optional one', () => {
    expect(() =>
      envOf({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }] }),
    ).toThrow(ContainerConfigError);
    expect(
      envOf({
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } }],
      }).X,
    ).toBeUndefined();
  });
});

import type { V1Pod } from '@kubernetes/client-node';
import type { VolumePayload } from './atomic-writer';
import { ConfigSource } from './env';
import { volumePayload, VolumeNotReadyError } from './volume-payload';

const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', labels: { b: '2', a: '1' } },
  spec: { containers: [{ name: 'c', resources: { limits: { cpu: '2' } } }] },
};
const config: ConfigSource = {
  configMap: (_ns, name) => (name === 'cm' ? { 'app.conf': 'x=1', other: 'y' } : undefined),
  secret: (_ns, name) => (name === 's' ? { password: 'pw' } : undefined),
};
const facts = { podIP: '10.244.1.5', hostIP: '10.244.1.1' };
const token = (audience: string | undefined) => `token-for-${audience ?? 'api'}`;
const text = (payload: VolumePayload) =>
  Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, v.data.toString()]));

describe('volumePayload', () => {
  it('projects all keys of a configMap, or the selected items to their paths', () => {
    expect(text(volumePayload({ name: 'v', configMap: { name: 'cm' } }, pod, config, facts, token))).toEqual({
      'app.conf': 'x=1',
      other: 'y',
    });
    const items = volumePayload(
      { name: 'v', configMap: { name: 'cm', items: [{ key: 'other', path: 'dir/o.txt', mode: 0o600 }] } },
      pod,
      config,
      facts,
      token,
    );
    expect(text(items)).toEqual({ 'dir/o.txt': 'y' });
    expect(items['dir/o.txt'].mode).toBe(0o600);
  });

  it('waits (VolumeNotReadyError) for a missing secret unless optional', () => {
    expect(() =>
      volumePayload({ name: 'v', secret: { secretName: 'absent' } }, pod, config, facts, token),
    ).toThrow(VolumeNotReadyError);
    expect(
      volumePayload(
        { name: 'v', secret: { secretName: 'absent', optional: true } },
        pod,
        config,
        facts,
        token,
      ),
    ).toEqual({});
  });

  it('renders downward API labels sorted and quoted, and resource limits', () => {
    const payload = volumePayload(
      {
        name: 'v',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'cpu', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
          ],
        },
      },
      pod,
      config,
      facts,
      token,
    );
    expect(text(payload)).toEqual({ labels: 'a="1"\nb="2"', cpu: '2' });
  });

  it('combines projected sources, including a service account token', () => {
    const payload = volumePayload(
      {
        name: 'kube-api-access',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'cm', items: [{ key: 'app.conf', path: 'ca.crt' }] } },
            {
              downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] },
            },
          ],
        },
      },
      pod,
      config,
      facts,
      token,
    );
    expect(text(payload)).toEqual({ token: 'token-for-api', 'ca.crt': 'x=1', namespace: 'ns' });
  });
});

/**
 * The informer against a real API server (etcd + kube-apiserver of cluster/): list, then watch with a
 * label selector (add/update/delete events, the cache); a relist after 410 Gone; and a missing CRD
 * reported as 404 and recovered from with back-off once the CRD exists.
 *
 * For 410, the API server runs without its watch cache, ends watches after 2-4 s
 * (`--min-request-timeout=2`) and compacts etcd every second: resuming a watch from a resourceVersion
 * older than the compaction then gets 410, as it does on a busy production cluster after minutes.
 */
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type V1ConfigMap } from '@kubernetes/client-node';
import { ensureK8sBinaries, startControlPlane, type ControlPlane } from '../cluster';
import { pollUntil } from '../host';
import { decodeAs } from './serializer';
import { Informer, type InformerEvent } from './informer';
import { MERGE_PATCH } from './merge-patch';
import type { KubeObject } from './object-key';

jest.setTimeout(120_000);

let cp: ControlPlane | undefined;
const plane = (): ControlPlane => {
  if (!cp) throw new Error('the control plane did not start (see beforeAll)');
  return cp;
};

beforeAll(async () => {
  cp = await startControlPlane({
    binaries: await ensureK8sBinaries(),
    extraArgs: {
      'kube-apiserver': ['--watch-cache=false', '--min-request-timeout=2', '--etcd-compaction-interval=1s'],
    },
  });
}, 30 * 60_000);
afterAll(async () => {
  await cp?.stop();
}, 60_000);

const LABEL = 'informer-test';

/** An informer on the labelled ConfigMaps of `namespace`, recording events, list calls and errors. */
function configMapInformer(namespace: string) {
  const core = plane().kubeConfig.makeApiClient(CoreV1Api);
  const events: Array<[InformerEvent, string]> = [];
  const errors: unknown[] = [];
  let lists = 0;
  const informer = new Informer<V1ConfigMap>({
    name: 'configmaps',
    kubeConfig: plane().kubeConfig,
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    labelSelector: LABEL,
    list: () => {
      lists += 1;
      return core.listNamespacedConfigMap({ namespace, labelSelector: LABEL });
    },
    decode: decodeAs<V1ConfigMap>('V1ConfigMap'),
    backoff: { baseMs: 100, maxMs: 1_000 },
    onError: (err) => errors.push(err),
  });
  informer.on((cm, event) => events.push([event, cm.metadata?.name ?? '']));
  return { core, informer, events, errors, lists: () => lists };
}

const cm = (name: string, labelled = true, data: Record<string, string> = {}): V1ConfigMap => ({
  metadata: { name, ...(labelled ? { labels: { [LABEL]: 'yes' } } : {}) },
  data,
});

async function namespace(core: CoreV1Api, name: string): Promise<string> {
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

describe('Informer against a real API server', () => {
  it('lists, then watches: add, update, delete, only objects matching the selector', async () => {
    const t = configMapInformer('watch');
    const ns = await namespace(t.core, 'watch');
    await t.core.createNamespacedConfigMap({ namespace: ns, body: cm('before') });
    await t.core.createNamespacedConfigMap({ namespace: ns, body: cm('unlabelled', false) });
    await t.informer.start();
    try {
      expect(t.informer.hasSynced()).toBe(true);
      expect(t.events).toEqual([['add', 'before']]);
      await t.core.createNamespacedConfigMap({ namespace: ns, body: cm('later') });
      await t.core.patchNamespacedConfigMap(
        { namespace: ns, name: 'before', body: { data: { k: 'v' } } },
        MERGE_PATCH,
      );
      await t.core.deleteNamespacedConfigMap({ namespace: ns, name: 'later' });
      await pollUntil(async () => (t.events.length >= 4 ? true : undefined), {
        timeoutMs: 20_000,
        description: 'the watch events',
      });
      expect(t.events).toEqual([
        ['add', 'before'],
        ['add', 'later'],
        ['update', 'before'],
        ['delete', 'later'],
      ]);
      expect(t.informer.get(ns, 'before')?.data).toEqual({ k: 'v' });
      expect(t.informer.get(ns, 'before')?.metadata?.creationTimestamp).toBeInstanceOf(Date); // decoded
      expect(t.informer.list(ns).map((o) => o.metadata?.name)).toEqual(['before']);
      expect(t.informer.get(ns, 'unlabelled')).toBeUndefined();
    } finally {
      await t.informer.stop();
    }
  });

  it('relists after 410 Gone and reports what changed, then watches on', async () => {
    const t = configMapInformer('relist');
    const ns = await namespace(t.core, 'relist');
    await t.core.createNamespacedConfigMap({ namespace: ns, body: cm('kept') });
    await t.informer.start();
    try {
      expect(t.lists()).toBe(1);
      // Other writes move etcd's revision on; compaction passes the informer's last version, and its
      // next watch (the server ends each after 2-4 s) is answered with 410.
      let churn = 0;
      await pollUntil(
        async () => {
          await t.core.createNamespacedConfigMap({ namespace: ns, body: cm(`churn-${churn++}`, false) });
          return t.lists() > 1 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, description: 'a relist after 410 Gone' },
      );
      expect(t.errors).toEqual([]); // 410 is routine: no error, no back-off
      expect(t.events).toEqual([['add', 'kept']]); // nothing changed: the relist reports nothing
      await t.core.createNamespacedConfigMap({ namespace: ns, body: cm('after') });
      await pollUntil(async () => (t.informer.get(ns, 'after') ? true : undefined), {
        timeoutMs: 20_000,
        description: 'the watch after the relist',
      });
      expect(t.events).toEqual([
        ['add', 'kept'],
        ['add', 'after'],
      ]);
    } finally {
      await t.informer.stop();
    }
  });

  it('reports a missing CRD (404) and syncs with back-off once it exists', async () => {
    const custom = plane().kubeConfig.makeApiClient(CustomObjectsApi);
    const id = { group: 'informer.neonvm.test', version: 'v1', plural: 'widgets' };
    const errors: unknown[] = [];
    const added: string[] = [];
    let synced = 0;
    const widgets = new Informer<KubeObject>({
      name: 'widgets',
      kubeConfig: plane().kubeConfig,
      path: `/apis/${id.group}/${id.version}/${id.plural}`,
      list: () => custom.listClusterCustomObject(id) as Promise<{ items: KubeObject[] }>,
      backoff: { baseMs: 100, maxMs: 500 },
      onError: (err) => errors.push(err),
    });
    widgets.on((w, event) => event === 'add' && added.push(w.metadata?.name ?? ''));
    widgets.onSynced(() => (synced += 1));
    const started = widgets.start();
    try {
      await pollUntil(async () => (errors.length >= 3 ? true : undefined), {
        timeoutMs: 20_000,
        description: 'list failures retried with back-off',
      });
      expect(widgets.hasSynced()).toBe(false);
      expect((widgets.lastError() as { code?: number }).code).toBe(404);

      await plane()
        .kubeConfig.makeApiClient(ApiextensionsV1Api)
        .createCustomResourceDefinition({ body: widgetCrd(id.group) });
      await started; // resolves once the first list succeeded
      expect(synced).toBe(1);
      expect(widgets.lastError()).toBeUndefined();
      await pollUntil(
        () =>
          custom
            .createNamespacedCustomObject({
              ...id,
              namespace: 'default',
              body: { apiVersion: `${id.group}/v1`, kind: 'Widget', metadata: { name: 'w1' } },
            })
            .then(() => true),
        { timeoutMs: 20_000, description: 'a widget (the CRD is being established)' },
      );
      await pollUntil(async () => (added.includes('w1') ? true : undefined), {
        timeoutMs: 20_000,
        description: 'the widget watch event',
      });
    } finally {
      await widgets.stop();
    }
  });
});

function widgetCrd(group: string) {
  return {
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

import { CoreV1Api, KubeConfig, V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { Informer } from '../../kube';
import { decodeAs, type ApiClientFactory } from '../../kube/client-node';
import type { ConfigSource } from './env';

type Kind = 'configMap' | 'secret';
export interface ConfigRef {
  kind: Kind;
  namespace: string;
  name: string;
}

const decodeSecret = (s: V1Secret): Record<string, string> =>
  Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );

/** Every ConfigMap and Secret a pod refers to (env, envFrom, volumes, projected sources). */
export function configRefsOf(pod: V1Pod): ConfigRef[] {
  const namespace = pod.metadata?.namespace ?? 'default';
  const refs: ConfigRef[] = [];
  const add = (kind: Kind, name: string | undefined) => name && refs.push({ kind, namespace, name });
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      add('configMap', e.valueFrom?.configMapKeyRef?.name);
      add('secret', e.valueFrom?.secretKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      add('configMap', e.configMapRef?.name);
      add('secret', e.secretRef?.name);
    }
  }
  for (const v of pod.spec?.volumes ?? []) {
    add('configMap', v.configMap?.name);
    add('secret', v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      add('configMap', s.configMap?.name);
      add('secret', s.secret?.name);
    }
  }
  return refs;
}

/**
 * ConfigMaps and Secrets of the whole cluster, kept current by two watches, so that env resolution is
 * synchronous and configMap/secret volumes can be rewritten as soon as their source changes.
 * `onChange` fires with the changed object's reference.
 */
export class ConfigCache implements ConfigSource {
  private readonly configMaps: Informer<V1ConfigMap>;
  private readonly secrets: Informer<V1Secret>;
  /** Objects fetched directly because the watch had not delivered them yet. */
  private readonly fetched = new Map<string, Record<string, string>>();
  private readonly listeners = new Set<(ref: ConfigRef) => void>();

  constructor(
    kubeConfig: KubeConfig,
    clients: ApiClientFactory,
    onError: (err: Error) => void = () => undefined,
  ) {
    const core = clients(CoreV1Api);
    const report = (err: unknown) => onError(err instanceof Error ? err : new Error(String(err)));
    this.configMaps = new Informer<V1ConfigMap>({
      name: 'configmaps',
      kubeConfig,
      path: '/api/v1/configmaps',
      list: () => core.listConfigMapForAllNamespaces(),
      decode: decodeAs<V1ConfigMap>('V1ConfigMap'),
      onError: report,
    });
    this.secrets = new Informer<V1Secret>({
      name: 'secrets',
      kubeConfig,
      path: '/api/v1/secrets',
      list: () => core.listSecretForAllNamespaces(),
      decode: decodeAs<V1Secret>('V1Secret'),
      onError: report,
    });
    // Every change (added, updated, deleted) rewrites what refers to the object.
    this.configMaps.on((o) => this.changed('configMap', o));
    this.secrets.on((o) => this.changed('secret', o));
    this.core = core;
  }

  private readonly core: CoreV1Api;

  async start(): Promise<void> {
    await Promise.all([this.configMaps.start(), this.secrets.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.configMaps.stop(), this.secrets.stop()]);
  }

  onChange(listener: (ref: ConfigRef) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  configMap(namespace: string, name: string): Record<string, string> | undefined {
    const cm = this.configMaps.get(namespace, name);
    return cm ? { ...cm.data } : this.fetched.get(`configMap/${namespace}/${name}`);
  }

  secret(namespace: string, name: string): Record<string, string> | undefined {
    const s = this.secrets.get(namespace, name);
    return s ? decodeSecret(s) : this.fetched.get(`secret/${namespace}/${name}`);
  }

  /**
   * Makes sure the referenced objects are known: a pod may arrive before the watch event of a ConfigMap
   * created just before it. Missing objects are read directly; absent ones stay absent.
   */
  async prefetch(refs: readonly ConfigRef[]): Promise<void> {
    for (const ref of refs) {
      if (this[ref.kind](ref.namespace, ref.name)) continue;
      try {
        const data =
          ref.kind === 'configMap'
            ? {
                ...(await this.core.readNamespacedConfigMap({ name: ref.name, namespace: ref.namespace }))
                  .data,
              }
            : decodeSecret(
                await this.core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace }),
              );
        this.fetched.set(`${ref.kind}/${ref.namespace}/${ref.name}`, data);
      } catch {
        // Not found (or not readable): the caller reports it like the kubelet would.
      }
    }
  }

  private changed(kind: Kind, o: V1ConfigMap | V1Secret): void {
    const ref = { kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' };
    this.fetched.delete(`${kind}/${ref.namespace}/${ref.name}`);
    for (const l of this.listeners) l(ref);
  }
}

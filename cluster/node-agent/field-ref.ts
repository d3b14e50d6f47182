import type { V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';

/** Runtime facts about a pod that are not in its spec/metadata (the kubelet knows them, the API doesn't yet). */
export interface PodRuntimeFacts {
  podIP?: string;
  hostIP: string;
}

function formatMap(map: Record<string, string> | undefined): string {
  // The downward API's file format for labels/annotations: key="value" lines, sorted, values quoted.
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

/** The value of a downward-API `fieldRef`, or undefined for an unsupported path. */
export function resolveFieldRef(
  ref: V1ObjectFieldSelector,
  pod: V1Pod,
  facts: PodRuntimeFacts,
): string | undefined {
  const path = ref.fieldPath;
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (mapKey) return pod.metadata?.[mapKey[1] as 'labels' | 'annotations']?.[mapKey[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
    default:
      return undefined;
  }
}

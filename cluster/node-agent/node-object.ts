import type { V1Node, V1NodeCondition, V1NodeStatus } from '@kubernetes/client-node';
import { release } from 'node:os';
import { K8S_VERSION } from '../build';

export interface NodeCapacity {
  cpu: string;
  memory: string;
  pods: string;
}

export const DEFAULT_NODE_CAPACITY: NodeCapacity = { cpu: '8', memory: '16Gi', pods: '110' };

export interface NodeDescription {
  name: string;
  internalIP: string;
  kubeletPort: number;
  capacity: NodeCapacity;
  labels?: Record<string, string>;
}

export const AGENT_VERSION = 'neonvm-node-agent://0.1.0';

export function nodeConditions(now: Date, transition: Date): V1NodeCondition[] {
  const cond = (type: string, status: string, reason: string, message: string): V1NodeCondition => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: transition,
  });
  return [
    cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    cond('Ready', 'True', 'KubeletReady', 'neonvm node agent is posting ready status'),
  ];
}

export function nodeStatus(d: NodeDescription, now: Date, transition: Date): V1NodeStatus {
  const resources = { cpu: d.capacity.cpu, memory: d.capacity.memory, pods: d.capacity.pods };
  return {
    capacity: resources,
    allocatable: resources,
    conditions: nodeConditions(now, transition),
    addresses: [
      { type: 'InternalIP', address: d.internalIP },
      { type: 'Hostname', address: d.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: d.kubeletPort } },
    nodeInfo: {
      machineID: d.name,
      systemUUID: d.name,
      bootID: d.name,
      kernelVersion: release(),
      osImage: 'neonvm local node',
      containerRuntimeVersion: AGENT_VERSION,
      kubeletVersion: K8S_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/**
 * The Node object an agent registers. Status is included on create: the API server keeps a Node's
 * status on creation (the kubelet registers the same way).
 */
export function nodeObject(d: NodeDescription, now: Date): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: d.name,
      labels: {
        'kubernetes.io/hostname': d.name,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        ...d.labels,
      },
    },
    spec: {},
    status: nodeStatus(d, now, now),
  };
}

/** The one call a plugin makes to the kubelet: Register on kubelet.sock. */
import { basename } from 'node:path';
import { API_VERSION, callUnary, registrationClient } from './api';

/** The kubelet dials the plugin back within Register, with its own 10 s limit. */
export const REGISTER_TIMEOUT_MS = 15_000;

export async function registerWithKubelet(
  kubeletSocket: string,
  resourceName: string,
  pluginSocket: string,
  timeoutMs = REGISTER_TIMEOUT_MS,
): Promise<void> {
  const client = registrationClient(kubeletSocket);
  try {
    await callUnary(
      client.Register,
      client,
      {
        version: API_VERSION,
        endpoint: basename(pluginSocket),
        resourceName,
        options: { preStartRequired: false, getPreferredAllocationAvailable: false },
      },
      timeoutMs,
    );
  } finally {
    client.close();
  }
}

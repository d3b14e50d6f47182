import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  /** Used for the cluster, user and context names. */
  name?: string;
}

/** A self-contained kubeconfig (certificates inlined as *-data), as YAML. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const name = input.name ?? 'neonvm-local';
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: input.server, 'certificate-authority-data': b64(input.caCert) } }],
    users: [
      {
        name,
        user: { 'client-certificate-data': b64(input.clientCert), 'client-key-data': b64(input.clientKey) },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  });
}

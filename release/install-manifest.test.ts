import { parseAllDocuments } from 'yaml';
import { releaseImages } from '../constructs/install/release-images';
import { renderInstallManifest } from './install-manifest';

describe('renderInstallManifest', () => {
  it('renders the bundle with the pinned operator, runner and device plugin images, CRDs first', () => {
    const refs = releaseImages({
      registry: 'ghcr.io/acme',
      digests: {
        operator: `sha256:${'a'.repeat(64)}`,
        runner: `sha256:${'b'.repeat(64)}`,
        devicePlugin: `sha256:${'c'.repeat(64)}`,
      },
    });
    const text = renderInstallManifest(refs);
    expect(text).not.toMatch(/[&*]a\d+\b/);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs[0].kind).toBe('CustomResourceDefinition');
    const deployment = docs.find((d) => d.kind === 'Deployment') as {
      spec: {
        template: { spec: { containers: { image: string; env?: { name: string; value?: string }[] }[] } };
      };
    };
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(refs.image);
    expect(JSON.stringify(deployment)).toContain(refs.runnerImage);
    const daemonSet = docs.find((d) => d.kind === 'DaemonSet') as {
      metadata: { name: string };
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(daemonSet.metadata.name).toBe('neonvm-device-plugin');
    expect(daemonSet.spec.template.spec.containers[0].image).toBe(
      `ghcr.io/acme/neonvm-device-plugin@sha256:${'c'.repeat(64)}`,
    );
  });
});

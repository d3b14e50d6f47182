/**
 * Image references of a NeonVM release pinned by digest, for `NeonVmInstallOptions.image` and
 * `runnerImage`: `{ ...releaseImages({ registry, digests }), namespace }` works for the cdk8s
 * construct, the bundle builder and the Pulumi component alike.
 */

export interface ReleaseImageDigests {
  /** `sha256:…` of the operator image (index or manifest). */
  readonly operator: string;
  /** `sha256:…` of the runner image (index or manifest). */
  readonly runner: string;
}

export interface ReleaseImagesOptions {
  /** Registry and path prefix the images were pushed under, e.g. `ghcr.io/acme` or `registry.local:5000/neonvm`. */
  readonly registry: string;
  readonly digests: ReleaseImageDigests;
  /**
   * Repository names under the prefix.
   * @default { operator: 'neonvm-operator', runner: 'neonvm-runner' }
   */
  readonly names?: Partial<Readonly<Record<keyof ReleaseImageDigests, string>>>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `<registry>/<name>@<digest>` for both images; a malformed digest or empty registry throws. */
export function releaseImages(o: ReleaseImagesOptions): {
  readonly image: string;
  readonly runnerImage: string;
} {
  const registry = o.registry.replace(/\/+$/, '');
  if (registry === '') throw new Error('releaseImages: registry is empty');
  const ref = (key: keyof ReleaseImageDigests, fallback: string): string => {
    const digest = o.digests[key];
    if (!DIGEST.test(digest))
      throw new Error(`releaseImages: ${key} digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
    return `${registry}/${o.names?.[key] ?? fallback}@${digest}`;
  };
  return { image: ref('operator', 'neonvm-operator'), runnerImage: ref('runner', 'neonvm-runner') };
}

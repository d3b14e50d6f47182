/**
 * Image references of a NeonVM release pinned by digest, for `NeonVmInstallOptions.image`,
 * `runnerImage` and `devicePluginImage`: `{ ...releaseImages({ registry, digests }), namespace }` works
 * for the cdk8s construct, the bundle builder and the Pulumi component alike.
 */

export interface ReleaseImageDigests {
  /** `sha256:…` of the operator image (index or manifest). */
  readonly operator: string;
  /** `sha256:…` of the runner image (index or manifest). */
  readonly runner: string;
  /** `sha256:…` of the device plugin image (index or manifest); without it, no `devicePluginImage`. */
  readonly devicePlugin?: string;
}

export interface ReleaseImagesOptions {
  /** Registry and path prefix the images were pushed under, e.g. `ghcr.io/acme` or `registry.local:5000/neonvm`. */
  readonly registry: string;
  readonly digests: ReleaseImageDigests;
  /**
   * Repository names under the prefix.
   * @default { operator: 'neonvm-operator', runner: 'neonvm-runner', devicePlugin: 'neonvm-device-plugin' }
   */
  readonly names?: Partial<Readonly<Record<keyof ReleaseImageDigests, string>>>;
}

export interface ReleaseImageRefs {
  readonly image: string;
  readonly runnerImage: string;
  readonly devicePluginImage?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const REPOSITORIES: Readonly<Record<keyof ReleaseImageDigests, string>> = {
  operator: 'neonvm-operator',
  runner: 'neonvm-runner',
  devicePlugin: 'neonvm-device-plugin',
};

/** `<registry>/<name>@<digest>` for each image; a malformed digest or empty registry throws. */
export function releaseImages(o: ReleaseImagesOptions): ReleaseImageRefs {
  const registry = o.registry.replace(/\/+$/, '');
  if (registry === '') throw new Error('releaseImages: registry is empty');
  const ref = (key: keyof ReleaseImageDigests, digest: string): string => {
    if (!DIGEST.test(digest))
      throw new Error(`releaseImages: ${key} digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
    return `${registry}/${o.names?.[key] ?? REPOSITORIES[key]}@${digest}`;
  };
  return {
    image: ref('operator', o.digests.operator),
    runnerImage: ref('runner', o.digests.runner),
    ...(o.digests.devicePlugin !== undefined
      ? { devicePluginImage: ref('devicePlugin', o.digests.devicePlugin) }
      : {}),
  };
}

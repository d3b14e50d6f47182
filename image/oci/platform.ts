/**
 * Platform matching and manifest selection in an image index. Pure.
 *
 * Architecture names follow Go's GOARCH as the OCI spec does (`amd64`, `arm64`); the kernel's names
 * (`x86_64`, `aarch64`) are accepted as aliases because users type them.
 */
import type { Descriptor, Platform } from './documents';
import { ANNOTATIONS, INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from './media-types';
import { OciError } from './errors';

const ARCH_ALIASES: Readonly<Record<string, string>> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  i386: '386',
};

export function normalizeArchitecture(arch: string): string {
  const a = arch.toLowerCase();
  return ARCH_ALIASES[a] ?? a;
}

/** The platform of the machine this runs on (Node's process.arch mapped to GOARCH names). */
export function hostPlatform(nodeArch: string = process.arch): Platform {
  return { os: 'linux', architecture: normalizeArchitecture(nodeArch === 'x64' ? 'amd64' : nodeArch) };
}

/** `linux/arm64`, `linux/arm64/v8`, `arm64` (os defaults to linux). */
export function parsePlatformString(s: string): Platform {
  const parts = s.split('/');
  if (parts.length === 1 && parts[0]) return { os: 'linux', architecture: normalizeArchitecture(parts[0]) };
  if ((parts.length === 2 || parts.length === 3) && parts.every((p) => p !== '')) {
    const [os, arch, variant] = parts;
    return { os, architecture: normalizeArchitecture(arch), ...(variant ? { variant } : {}) };
  }
  throw new OciError(
    'invalid-document',
    `invalid platform ${JSON.stringify(s)} (expected os/arch[/variant])`,
  );
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** arm64's only variant is v8; images often omit it. */
function sameVariant(arch: string, a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (arch === 'arm64') return (a || 'v8') === (b || 'v8');
  return a === b;
}

export function platformMatches(candidate: Platform, wanted: Platform): boolean {
  const arch = normalizeArchitecture(candidate.architecture);
  return (
    candidate.os === wanted.os &&
    arch === normalizeArchitecture(wanted.architecture) &&
    sameVariant(arch, candidate.variant, wanted.variant)
  );
}

/** BuildKit stores provenance/SBOM manifests in the index with platform unknown/unknown. */
function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    d.platform?.architecture === 'unknown'
  );
}

function refNameMatches(d: Descriptor, refName: string): boolean {
  const name = d.annotations?.[ANNOTATIONS.refName];
  const full = d.annotations?.[ANNOTATIONS.containerdImageName];
  // ref.name is a tag ("latest") in OCI layouts, a full reference in some tools' output.
  return name === refName || full === refName || (full !== undefined && full.endsWith(`:${refName}`));
}

/**
 * Picks the descriptor to follow from an index's `manifests`: the one with the requested reference
 * name (when given), of the wanted platform (descriptors without a platform always qualify: a
 * single-image layout or a nested index).
 */
export function selectManifest(
  manifests: readonly Descriptor[],
  wanted: Platform,
  refName?: string,
  /** A default (host) platform: a lone image is taken whatever its platform, for the caller to judge. */
  wantedIsDefault = false,
): Descriptor {
  let candidates = manifests.filter(
    (d) => (INDEX_MEDIA_TYPES.has(d.mediaType) || MANIFEST_MEDIA_TYPES.has(d.mediaType)) && !isAttestation(d),
  );
  if (refName !== undefined) {
    const named = candidates.filter((d) => refNameMatches(d, refName));
    if (named.length === 0) {
      const names = candidates.map((d) => d.annotations?.[ANNOTATIONS.refName]).filter(Boolean);
      throw new OciError(
        'image-not-found',
        `no image named ${JSON.stringify(refName)} in the layout (names: ${names.join(', ') || 'none'})`,
      );
    }
    candidates = named;
  }
  if (wantedIsDefault && new Set(candidates.map((d) => d.digest)).size === 1) return candidates[0];
  const matching = candidates.filter((d) => d.platform === undefined || platformMatches(d.platform, wanted));
  if (matching.length === 0) {
    const offered = candidates.flatMap((d) => (d.platform ? [formatPlatform(d.platform)] : []));
    throw new OciError(
      'unsupported-architecture',
      `no image for ${formatPlatform(wanted)} (the image provides ${offered.join(', ') || 'nothing usable'})`,
    );
  }
  const distinct = new Set(matching.map((d) => d.digest));
  if (distinct.size > 1) {
    const exact = matching.filter((d) => d.platform !== undefined);
    if (exact.length === 1) return exact[0];
    throw new OciError(
      'ambiguous-image',
      `${distinct.size} images match ${formatPlatform(wanted)}; name one (org.opencontainers.image.ref.name)`,
    );
  }
  return matching[0];
}

/**
 * Image references, normalised the way container runtimes do, so that `busybox`, `busybox:latest` and
 * `docker.io/library/busybox:latest` name the same store entry.
 */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_REGISTRY = 'docker.io';

export function parseImageRef(ref: string): ImageRef {
  const trimmed = ref.trim();
  if (!trimmed) throw new Error('empty image reference');
  let rest = trimmed;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  // The first component is a registry only if it looks like a host (has a dot or port, or is localhost).
  const first = parts[0];
  const hasRegistry =
    parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : DEFAULT_REGISTRY;
  let repository = (hasRegistry ? parts.slice(1) : parts).join('/');
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository: repository.toLowerCase(), tag, digest };
}

/** Canonical text of a reference: registry/repository:tag (tag defaults to latest), plus @digest if given. */
export function canonicalImageRef(ref: string): string {
  const r = parseImageRef(ref);
  const tag = r.tag ?? (r.digest ? undefined : 'latest');
  return `${r.registry}/${r.repository}${tag ? `:${tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** A file name for a canonical reference: reversible and free of path separators. */
export function imageFileName(ref: string): string {
  return `${encodeURIComponent(canonicalImageRef(ref))}.json`;
}

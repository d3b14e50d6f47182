/**
 * Errors of the OCI reader/writer. Each carries a stable `code` so callers (the image builder, the
 * CLI, tests) can tell a corrupt input from a missing one without matching message text.
 */
export type OciErrorCode =
  /** The path is neither an OCI layout, a docker-save archive nor a tar of either. */
  | 'missing-layout'
  /** A blob named by a descriptor is not in the layout. */
  | 'missing-blob'
  /** A blob's content does not hash to its digest (or a layer to its diff_id). */
  | 'digest-mismatch'
  /** A layer is not a readable (optionally gzip-compressed) tar stream. */
  | 'corrupt-layer'
  /** A JSON document (index, manifest, config) is malformed or misses required fields. */
  | 'invalid-document'
  /** No manifest for the requested platform, or an architecture this project cannot run. */
  | 'unsupported-architecture'
  /** The layout has no image with the requested reference name. */
  | 'image-not-found'
  /** More than one image in the layout and nothing says which one. */
  | 'ambiguous-image'
  /** A tar entry or link that would escape the target directory, or another unsafe path. */
  | 'unsafe-path'
  /** A configured size limit was exceeded. */
  | 'size-limit'
  /** A media type or feature this reader does not implement. */
  | 'unsupported';

export class OciError extends Error {
  constructor(
    readonly code: OciErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OciError';
  }
}

export function isOciError(e: unknown, code?: OciErrorCode): e is OciError {
  return e instanceof OciError && (code === undefined || e.code === code);
}

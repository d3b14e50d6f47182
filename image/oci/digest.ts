/**
 * Content digests (`sha256:<hex>`): parsing, computing, and the blob path they address in a layout.
 */
import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { OciError } from './errors';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
}

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

/** Parses and validates a digest string; the hex part must be lower case (OCI image-spec). */
export function parseDigest(digest: string): ParsedDigest {
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  const algorithm = m?.[1];
  if (!m || (algorithm !== 'sha256' && algorithm !== 'sha512')) {
    throw new OciError('invalid-document', `invalid or unsupported digest ${JSON.stringify(digest)}`);
  }
  if (m[2].length !== HEX_LENGTH[algorithm]) {
    throw new OciError('invalid-document', `digest ${digest} has the wrong length for ${algorithm}`);
  }
  return { algorithm, hex: m[2] };
}

/** `blobs/<alg>/<hex>`, relative to the layout root. Safe to join: the digest was validated. */
export function blobRelPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function newHash(digest: string): Hash {
  return createHash(parseDigest(digest).algorithm);
}

/** Hashes a file with the algorithm of `expected` and throws digest-mismatch if they differ. */
export async function verifyFileDigest(path: string, expected: string, what: string): Promise<void> {
  const hash = newHash(expected);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const actual = `${parseDigest(expected).algorithm}:${hash.digest('hex')}`;
  if (actual !== expected) {
    throw new OciError('digest-mismatch', `${what}: content hashes to ${actual}, expected ${expected}`);
  }
}

/**
 * The runner's `-vmspec`/`-vmstatus` flag encoding (upstream: gzip, then standard base64 with padding,
 * of the JSON of the spec/status).
 */
import { gunzipSync, gzipSync } from 'node:zlib';

export function encodeGzipBase64(value: unknown): string {
  return gzipSync(Buffer.from(JSON.stringify(value), 'utf8')).toString('base64');
}

export function decodeGzipBase64<T>(encoded: string): T {
  return JSON.parse(gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8')) as T;
}

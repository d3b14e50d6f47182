/**
 * The API bearer token, read from a file mounted from a Secret and re-read when the file changes
 * (Secret rotation). A missing or empty file yields no token: every authenticated call is refused.
 */
import { readFileSync, statSync } from 'node:fs';
import { tokenFromFileContent } from '../api';

export interface TokenSource {
  current(): string | undefined;
}

export class FileTokenSource implements TokenSource {
  private cached: { mtimeMs: number; size: number; token: string | undefined } | undefined;

  constructor(readonly path: string) {}

  current(): string | undefined {
    let st;
    try {
      st = statSync(this.path);
    } catch {
      this.cached = undefined;
      return undefined;
    }
    if (!this.cached || this.cached.mtimeMs !== st.mtimeMs || this.cached.size !== st.size) {
      let token: string | undefined;
      try {
        token = tokenFromFileContent(readFileSync(this.path, 'utf8')) || undefined;
      } catch {
        token = undefined;
      }
      this.cached = { mtimeMs: st.mtimeMs, size: st.size, token };
    }
    return this.cached.token;
  }
}

export const staticToken = (token: string): TokenSource => ({ current: () => token });

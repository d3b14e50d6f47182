// The small part of spdy-transport 3.0.0 (untyped JavaScript) that the node agent uses.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  import type { EventEmitter } from 'node:events';

  export interface SpdyStream extends Duplex {
    readonly id: number;
    readonly headers: Record<string, string>;
    respond(status: number, headers: Record<string, string>, callback?: (err?: Error) => void): void;
    abort(callback?: () => void): void;
  }

  export interface SpdyConnection extends EventEmitter {
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    end(callback?: () => void): void;
    destroyStreams(err?: Error): void;
    _spdyState: {
      parser: {
        parseKVs(
          buffer: unknown,
          callback: (err: Error | null, headers?: Record<string, string>) => void,
        ): void;
      };
    };
  }

  export const connection: {
    create(socket: Duplex, options: { protocol: 'spdy' | 'http2'; isServer: boolean }): SpdyConnection;
  };
}

/** Errors of the QMP client; all carry the command they belong to. */

/** QEMU answered the command with an error. */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    /** QMP error class, e.g. "GenericError", "DeviceNotFound". */
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** No reply within the timeout (the command may still take effect in QEMU). */
export class QmpTimeoutError extends Error {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`QMP ${command}: no reply within ${timeoutMs} ms`);
    this.name = 'QmpTimeoutError';
  }
}

/** The connection closed (QEMU exited, or close() was called) before the reply arrived. */
export class QmpConnectionError extends Error {
  constructor(
    readonly command: string | undefined,
    message: string,
  ) {
    super(command ? `QMP ${command}: ${message}` : `QMP: ${message}`);
    this.name = 'QmpConnectionError';
  }
}

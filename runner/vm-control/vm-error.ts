/**
 * The one error type VM operations throw towards the API: it carries the HTTP status the runner
 * answers with, so handlers never guess (400 bad input, 409 wrong state, 502/504 guest agent).
 */
export type VmErrorStatus = 400 | 409 | 500 | 502 | 504;

export class VmError extends Error {
  constructor(
    readonly status: VmErrorStatus,
    message: string,
  ) {
    super(message);
    this.name = 'VmError';
  }
}

export const badRequest = (m: string) => new VmError(400, m);
export const conflict = (m: string) => new VmError(409, m);

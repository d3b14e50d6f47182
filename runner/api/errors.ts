/** Typed failures of RunnerClient calls, so callers can branch on the cause without parsing text. */

/** The runner answered with a non-success HTTP status. */
export class RunnerApiError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    message: string,
  ) {
    super(`runner ${path}: HTTP ${status}: ${message}`);
    this.name = 'RunnerApiError';
  }

  /** 401: missing or wrong bearer token. */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** No answer within the per-call timeout. */
export class RunnerTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`runner ${path}: no answer within ${timeoutMs} ms`);
    this.name = 'RunnerTimeoutError';
  }
}

/** The connection failed (refused, reset, DNS): the runner is not reachable. */
export class RunnerConnectionError extends Error {
  constructor(
    readonly path: string,
    reason: unknown,
  ) {
    super(`runner ${path}: ${reason instanceof Error ? reason.message : String(reason)}`, { cause: reason });
    this.name = 'RunnerConnectionError';
  }
}

/** The runner answered 2xx but the body is not what the contract says. */
export class RunnerProtocolError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`runner ${path}: ${message}`);
    this.name = 'RunnerProtocolError';
  }
}

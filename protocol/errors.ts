/**
 * Error codes shared by the daemon API, the CLI and the extension. A thrown MlopsError
 * crosses the HTTP boundary as `{ error: { code, message } }` with the HTTP status below,
 * and the CLI maps it to an exit status (see `exitCodeFor`).
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_MANIFEST: 422,
  GATE_FAILED: 412,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Expected failures with a stable code. Broken invariants throw plain Errors instead. */
export class MlopsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'MlopsError';
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** CLI exit statuses: 0 ok, 1 a check failed, 2 usage or configuration error, 3 infrastructure error. */
export const EXIT = { OK: 0, CHECK_FAILED: 1, USAGE: 2, INFRA: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof MlopsError) {
    switch (err.code) {
      case 'BAD_REQUEST':
      case 'INVALID_MANIFEST':
      case 'NOT_FOUND':
      // A wrong or revoked MLOPS_TOKEN is configuration (CI's secret), not a broken service.
      case 'UNAUTHORIZED':
      case 'PAYLOAD_TOO_LARGE':
        return EXIT.USAGE;
      case 'GATE_FAILED':
      case 'CONFLICT':
      case 'FORBIDDEN':
        return EXIT.CHECK_FAILED;
      default:
        return EXIT.INFRA;
    }
  }
  return EXIT.INFRA;
}

export function isErrorBody(x: unknown): x is { error: { code: ErrorCode; message: string; details?: unknown } } {
  return typeof x === 'object' && x !== null && 'error' in x && typeof (x as { error: unknown }).error === 'object';
}

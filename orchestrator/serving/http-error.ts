/**
 * The one error type the serving hot path throws on purpose: it carries the HTTP status the
 * client gets. 4xx means the request was wrong (it never counts against a version's health);
 * 5xx means the version failed to answer (it counts as an error and makes a canary retry).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A 400 naming what is wrong with the input. */
export const badInput = (message: string): HttpError => new HttpError(400, message);

/** The status a failure maps to: its own for HttpError, 500 for anything else (a backend bug or crash). */
export function statusOf(err: unknown): number {
  return err instanceof HttpError ? err.status : 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

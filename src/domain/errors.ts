/**
 * The error catalog. Domain, store and controller code throw these; only the HTTP layer turns
 * them into responses. `code` is stable and matches the names Dokploy's clients already handle.
 */

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL_SERVER_ERROR';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL_SERVER_ERROR: 500,
};

/** An error whose message is safe to show to the API client as it is. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  /** The input field the error is about, when it is about one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
    this.field = options?.field;
  }
}

export function notFound(what: string): DomainError {
  return new DomainError('NOT_FOUND', `${what} not found`);
}

export function conflict(message: string): DomainError {
  return new DomainError('CONFLICT', message);
}

/** A 400; with `field`, the answer's `issues` name it, as a validation failure's do. */
export function badRequest(message: string, field?: string): DomainError {
  return new DomainError('BAD_REQUEST', message, { field });
}

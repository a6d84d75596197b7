import type { ErrorBody, ErrorCode } from '@civicloop/model';

/** Every error the SDK throws. `code` is a stable CL_ERR_* code (see docs/errors.md). */
export class CivicLoopApiError extends Error {
  readonly code: ErrorCode | (string & {});
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: unknown;
  readonly requestId?: string;

  constructor(
    body: { code: string; message: string; status: number; retryable?: boolean; details?: unknown; requestId?: string },
    options?: { cause?: unknown },
  ) {
    super(body.message, options);
    this.name = new.target.name;
    this.code = body.code;
    this.status = body.status;
    this.retryable = body.retryable ?? false;
    if (body.details !== undefined) this.details = body.details;
    if (body.requestId !== undefined) this.requestId = body.requestId;
  }
}

/** 400, 413, 415, 422, 431 and any other 4xx not below: the request must change before it can succeed. */
export class InvalidRequestError extends CivicLoopApiError {}
/** 401: no key or token, or one that is unknown, forged or expired. */
export class AuthenticationError extends CivicLoopApiError {}
/** 403: authenticated, but the role may not do this. */
export class PermissionDeniedError extends CivicLoopApiError {}
/** 404 */
export class NotFoundError extends CivicLoopApiError {}
/** 409: wrong state for the command, or someone else's command won the race. */
export class ConflictError extends CivicLoopApiError {}
/** 429 */
export class RateLimitError extends CivicLoopApiError {}
/** 5xx */
export class ServerError extends CivicLoopApiError {}
/** No response: DNS, refused connection, reset. */
export class ConnectionError extends CivicLoopApiError {}
/** No response within timeoutMs. */
export class TimeoutError extends CivicLoopApiError {}
/** The caller's AbortSignal fired. */
export class AbortError extends CivicLoopApiError {}

export function errorFromResponse(status: number, body: Partial<ErrorBody> | undefined, requestId: string | undefined): CivicLoopApiError {
  const payload = {
    code: body?.code ?? (status >= 500 ? 'CL_ERR_INTERNAL' : 'CL_ERR_VALIDATION'),
    message: body?.message ?? `HTTP ${status} without a CivicLoop error body`,
    status,
    retryable: body?.retryable ?? false,
    details: body?.details,
    ...((body?.requestId ?? requestId) ? { requestId: body?.requestId ?? requestId } : {}),
  };
  if (status === 401) return new AuthenticationError(payload);
  if (status === 403) return new PermissionDeniedError(payload);
  if (status === 404) return new NotFoundError(payload);
  if (status === 409) return new ConflictError(payload);
  if (status === 429) return new RateLimitError(payload);
  if (status >= 500) return new ServerError(payload);
  return new InvalidRequestError(payload);
}

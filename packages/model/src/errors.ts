import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './schemas/string-enum.js';

/**
 * The one catalogue of CivicLoop error codes. Every error the gateway returns and the SDK raises
 * carries one of these codes; the HTTP status and the default message live here so that the
 * gateway, the SDK and the docs cannot drift apart (a test checks docs/errors.md lists each code).
 */
export interface ErrorDefinition {
  readonly status: number;
  /** Default message. It says what to change, not just what went wrong. */
  readonly message: string;
  /** Whether the same request may succeed if simply sent again later. */
  readonly retryable: boolean;
}

const define = (status: number, message: string, retryable = false): ErrorDefinition => ({
  status,
  message,
  retryable,
});

export const ERRORS = {
  CL_ERR_VALIDATION: define(400, 'The request does not match its schema; see details for each field to fix.'),
  CL_ERR_BAD_JSON: define(400, 'The request body is not valid JSON; send a JSON object with Content-Type: application/json.'),
  CL_ERR_UNSUPPORTED_MEDIA_TYPE: define(415, 'Send the body as application/json.'),
  CL_ERR_PAYLOAD_TOO_LARGE: define(
    413,
    'The request body is larger than the gateway accepts (BODY_LIMIT_BYTES); shorten the text or upload photos separately.',
  ),
  CL_ERR_HEADERS_TOO_LARGE: define(
    431,
    'The request line and headers are larger than the gateway accepts; send a shorter URL and fewer or shorter headers (cookies).',
  ),
  CL_ERR_UNKNOWN_CATEGORY: define(422, 'The category code is not in the catalogue; list valid codes with GET /v1/categories.'),
  CL_ERR_ANSWER_INVALID: define(
    422,
    "An answer to the category's extra questions is missing, not asked, or not of the kind its " +
      "question takes; see details.question and the category's questions in GET /v1/categories.",
  ),
  CL_ERR_CATEGORY_CHANGED: define(
    409,
    'The category changed while this change was made; read it again (GET /v1/categories?all=true) and decide whether the change still applies.',
  ),
  CL_ERR_UNKNOWN_UNIT: define(422, 'The unit does not exist in this tenant; create it with POST /v1/units or pick one from GET /v1/units.'),
  CL_ERR_UNKNOWN_STAFF: define(422, 'The staff member does not exist or is inactive in this tenant; check GET /v1/staff.'),
  CL_ERR_STAFF_NOT_IN_UNIT: define(422, 'The assignee does not belong to the unit the ticket is dispatched to; pick a member of that unit.'),
  CL_ERR_NO_WORKER_NEARBY: define(422, 'No checked-in worker with the needed skills is within the radius; widen radiusMeters or dispatch to a unit by hand.'),
  CL_ERR_PHOTO_REF: define(
    422,
    'A photo reference is neither a photo this gateway stored for this tenant (the ref ' +
      'POST /v1/media returned) nor an https URL; upload the photo first and send its ref.',
  ),
  CL_ERR_MEDIA_TYPE: define(415, 'The file is not a JPEG, PNG, WebP or HEIC image (judged by its bytes, not its name); send a photo.'),
  CL_ERR_MEDIA_CORRUPT: define(422, 'The image could not be decoded (truncated or damaged); take or export the photo again.'),
  CL_ERR_MEDIA_MISSING: define(400, 'Send the photo as multipart/form-data in a field named file.'),
  CL_ERR_PHOTO_REQUIRED: define(422, 'This command needs at least one photo reference (photos: [{ ref }]); upload the after-photo first.'),
  CL_ERR_REASON_REQUIRED: define(422, 'This command needs a reason; send reason (and a note explaining it).'),
  CL_ERR_INVALID_TRANSITION: define(409, 'The ticket is not in a state that allows this command; read the ticket and its allowed commands first.'),
  CL_ERR_EXTENSION_PENDING: define(409, 'An extension request for this ticket is already waiting for a decision; review it before asking again.'),
  CL_ERR_NO_EXTENSION_PENDING: define(409, 'There is no extension request waiting on this ticket; nothing to approve or refuse.'),
  CL_ERR_NOT_OVERDUE: define(409, 'The report is not past its resolve deadline; it can be chased (urge) only once it is overdue.'),
  CL_ERR_URGED_RECENTLY: define(409, 'The report was chased less than 12 hours ago; the responsible unit has been told, try again later.'),
  CL_ERR_ALREADY_RATED: define(409, 'Feedback was already recorded for this ticket; a ticket is rated once per closing.'),
  CL_ERR_VERSION_CONFLICT: define(409, 'The ticket changed while this command was applied; read it again and decide whether the command still applies.'),
  CL_ERR_DUPLICATE_TARGET: define(
    422,
    'A ticket cannot be merged into itself or into a ticket that is itself closed out as a duplicate, rejected or cancelled.',
  ),
  CL_ERR_IDEMPOTENCY_KEY_REUSED: define(422, 'This Idempotency-Key was already used for a different request; use a new key for a new request.'),
  CL_ERR_IDEMPOTENCY_IN_PROGRESS: define(
    409,
    'A request with this Idempotency-Key is still being processed; wait a moment and send it again to get its result.',
    true,
  ),
  CL_ERR_IDEMPOTENCY_KEY_INVALID: define(400, 'Idempotency-Key must be 8 to 128 characters of letters, digits, "-", "_", ":" or ".".'),
  CL_ERR_NOT_FOUND: define(404, 'No such resource in this tenant; check the id.'),
  CL_ERR_ROUTE_NOT_FOUND: define(404, 'No such route; see GET /v1/openapi.json for the routes.'),
  CL_ERR_UNAUTHENTICATED: define(401, 'Send a key or token: Authorization: Bearer <secret key or token>, or X-CivicLoop-Key: <publishable key>.'),
  CL_ERR_INVALID_KEY: define(401, 'The API key is unknown or revoked; use a current key of the tenant.'),
  CL_ERR_TOKEN_INVALID: define(401, 'The token is malformed or its signature does not verify; sign it with the tenant secret key (SDK: signToken).'),
  CL_ERR_TOKEN_EXPIRED: define(401, 'The token has expired; sign a new one (tokens are short-lived by design).'),
  CL_ERR_TOKEN_TOO_LONG_LIVED: define(401, 'The token lives longer than the gateway allows (TOKEN_MAX_TTL_SECONDS); sign it with a shorter ttl.'),
  CL_ERR_FORBIDDEN: define(403, "The caller's role may not do this; use a principal with the required role."),
  CL_ERR_PUBLISHABLE_KEY_SCOPE: define(
    403,
    'A publishable key can only create reports and read the catalogue; use the secret key on the server, or add a resident token.',
  ),
  CL_ERR_PARTNER_SCOPE: define(
    403,
    "A partner's keys reach only its own residents' tickets, events, webhooks and estates; " +
      'to act for a resident, sign their token (role citizen) with the partner secret key.',
  ),
  CL_ERR_ORIGIN_NOT_ALLOWED: define(403, "This web page's origin may not call the API for this tenant; add it to the tenant's allowedOrigins."),
  CL_ERR_OPERATOR_DISABLED: define(403, 'Tenant administration is disabled; set CIVICLOOP_OPERATOR_TOKEN on the gateway to enable it.'),
  CL_ERR_BROKER_HOOKS_DISABLED: define(
    403,
    'The broker hooks are disabled; set BROKER_HOOK_TOKEN on the gateway and send it as a Bearer token from the broker.',
  ),
  CL_ERR_ALREADY_EXISTS: define(409, 'A record with this id already exists; pick another id, or change the existing one with PATCH.'),
  CL_ERR_TENANT_CODE_TAKEN: define(409, 'A tenant with this code already exists; pick another code.'),
  CL_ERR_DEVICE_UNREACHABLE: define(
    409,
    'The device cannot be reached that way right now (not connected to this gateway, or its protocol cannot carry this); the message says which.',
  ),
  CL_ERR_GEOCODER_OFF: define(404, 'No geocoder is configured on this gateway (GEOCODER is none): addresses are not looked up; type the address instead.'),
  CL_ERR_GEOCODER_UNAVAILABLE: define(
    502,
    'The geocoder (GEOCODER, GEOCODER_URL) did not answer in time or refused the request; the message says which. Try again later, or type the address.',
    true,
  ),
  CL_ERR_DEVICE_TIMEOUT: define(504, 'The device did not answer in time; it may be out of coverage. Try again later.', true),
  CL_ERR_TERMINAL_TAKEN: define(
    409,
    'This JT/T 808 terminal number is already registered to a device (a number names one device across all tenants); check the number.',
  ),
  CL_ERR_QUALIFICATION_TAKEN: define(
    409,
    "This driver's qualification certificate number is already another staff member's (a card names one driver); check the number.",
  ),
  CL_ERR_RATE_LIMITED: define(429, 'Too many requests; wait for Retry-After seconds and send again.', true),
  CL_ERR_UNAVAILABLE: define(503, 'The gateway cannot reach its store right now; retry after a short wait.', true),
  CL_ERR_NOT_REPLICATED: define(
    503,
    'The write was made on the Redis primary, but fewer replicas than REDIS_WAIT_REPLICAS confirmed it within REDIS_WAIT_TIMEOUT_MS, ' +
      'so a failover now could lose it; retry with the same Idempotency-Key, which answers once it is replicated.',
    true,
  ),
  CL_ERR_BROKER_UNAVAILABLE: define(
    503,
    "The external MQTT broker (MQTT_BROKER_URL) did not confirm the change to the device's account there; the gateway's " +
      'registry was left as it was: retry after a short wait, and the retry brings the broker and the registry back in step.',
    true,
  ),
  CL_ERR_SHUTTING_DOWN: define(503, 'The gateway is shutting down; retry against another instance or after restart.', true),
  CL_ERR_INTERNAL: define(500, 'Unexpected gateway error; retry, and report it with the request id if it persists.', true),
  CL_ERR_CONFIG: define(500, 'The gateway configuration is invalid; the message names the variable to change.'),
  CL_ERR_PORT_IN_USE: define(500, 'A port the gateway needs is taken; the message names the variable that changes it.'),
  CL_ERR_REDIS_SERVER_MISSING: define(
    500,
    'redis-server is not installed; install it (apt-get install -y redis-server) or set REDIS_URL to an existing Redis.',
  ),
  CL_ERR_TOKEN_UNAVAILABLE: define(
    0,
    "No token could be had from getToken (or the token URL): the user's session has ended or the sign-in service refused; sign the user in again.",
  ),
  CL_ERR_NETWORK: define(0, 'The gateway could not be reached; check baseUrl and the network.', true),
  CL_ERR_TIMEOUT: define(0, 'The request took longer than timeoutMs; raise timeoutMs or retry.', true),
  CL_ERR_ABORTED: define(0, 'The request was aborted by its AbortSignal.'),
  CL_ERR_RUNTIME_UNSUPPORTED: define(
    0,
    "This runtime cannot send the request (a WeChat mini-program's wx.request has no PATCH); make the change from a server or the console.",
  ),
  CL_ERR_WEBHOOK_SIGNATURE: define(
    0,
    'A webhook delivery failed verification (verifyWebhook): wrong secret, altered body or an old timestamp; answer it with 400 and do not act on it.',
  ),
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is missing from the older WebViews mini-programs run in
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, value);
}

/** Shape of an error in every HTTP response body: `{ "error": { ... } }`. */
export const ErrorBody = Type.Object({
  code: StringEnum(ERROR_CODES),
  message: Type.String({ description: 'What went wrong and what to change' }),
  status: Type.Integer(),
  retryable: Type.Boolean({ description: 'Whether the same request may succeed if sent again later' }),
  details: Type.Optional(Type.Unknown()),
  requestId: Type.Optional(Type.String()),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const ErrorResponse = Type.Object({ error: ErrorBody }, { description: 'Every error: a stable CL_ERR_* code and a message saying what to change' });
export type ErrorResponse = Static<typeof ErrorResponse>;

/**
 * Thrown by model functions (the state machine, validators) and by the gateway. The gateway turns
 * it into an HTTP response; the SDK rebuilds it from one.
 */
export class CivicLoopError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    const definition = ERRORS[code];
    super(message ?? definition.message);
    this.name = 'CivicLoopError';
    this.code = code;
    this.status = definition.status;
    this.retryable = definition.retryable;
    if (details !== undefined) this.details = details;
  }

  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = {
      code: this.code,
      message: this.message,
      status: this.status,
      retryable: this.retryable,
    };
    if (this.details !== undefined) body.details = this.details;
    if (requestId) body.requestId = requestId;
    return body;
  }
}

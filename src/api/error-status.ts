// The one table between TriremeError codes and the wire: HTTP status and Kubernetes `Status`
// reason. The API server encodes errors with it (src/apiserver/status.ts) and the client decodes
// answers with it (src/client/api-client.ts), so the two cannot drift apart.
// Guarantees: every ErrorCode has exactly one (http, reason); decoding a code's own (http,
// reason) gives the code back, except for the codes listed in WIRE_ALIASES, which the wire
// cannot tell apart from another code and decode as that one. Does not build Status bodies.
import type { ErrorCode } from '../errors.js';

export interface WireStatus {
  http: number;
  /** A Kubernetes metav1.StatusReason. */
  reason: string;
}

export const ERROR_STATUS: { readonly [C in ErrorCode]: WireStatus } = {
  NotFound: { http: 404, reason: 'NotFound' },
  AlreadyExists: { http: 409, reason: 'AlreadyExists' },
  Conflict: { http: 409, reason: 'Conflict' },
  Invalid: { http: 422, reason: 'Invalid' },
  BadRequest: { http: 400, reason: 'BadRequest' },
  Gone: { http: 410, reason: 'Expired' },
  Unauthorized: { http: 401, reason: 'Unauthorized' },
  Forbidden: { http: 403, reason: 'Forbidden' },
  MethodNotAllowed: { http: 405, reason: 'MethodNotAllowed' },
  UnsupportedMediaType: { http: 415, reason: 'UnsupportedMediaType' },
  NotAcceptable: { http: 406, reason: 'NotAcceptable' },
  RequestEntityTooLarge: { http: 413, reason: 'RequestEntityTooLarge' },
  Timeout: { http: 504, reason: 'Timeout' },
  TooManyRequests: { http: 429, reason: 'TooManyRequests' },
  ServiceUnavailable: { http: 503, reason: 'ServiceUnavailable' },
  InsufficientStorage: { http: 507, reason: 'InsufficientStorage' },
  Internal: { http: 500, reason: 'InternalError' },
  StoreClosed: { http: 503, reason: 'ServiceUnavailable' },
  MemberRemoved: { http: 503, reason: 'ServiceUnavailable' },
  NoQuorum: { http: 503, reason: 'ServiceUnavailable' },
};

/** Server-side codes that share another code's wire form; a client reads them as that code. */
export const WIRE_ALIASES: { readonly [C in ErrorCode]?: ErrorCode } = {
  StoreClosed: 'ServiceUnavailable',
  MemberRemoved: 'ServiceUnavailable',
  NoQuorum: 'ServiceUnavailable',
};

/**
 * Reasons Kubernetes servers send that no code of ours encodes, and what they mean here:
 * `Gone` (metav1.StatusReasonGone) and `ServerTimeout` (a 500 or 504 "the server could not
 * finish in time").
 */
const EXTRA_REASONS: Readonly<Record<string, ErrorCode>> = {
  Gone: 'Gone',
  ServerTimeout: 'Timeout',
};

/** A bare status code that two codes share decodes as this one (client-go reads 409 so too). */
const HTTP_PREFERRED: Readonly<Record<number, ErrorCode>> = {
  409: 'Conflict',
};

const canonical = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((c) => WIRE_ALIASES[c] === undefined);

const BY_REASON: ReadonlyMap<string, ErrorCode> = new Map<string, ErrorCode>([
  ...canonical.map((c) => [ERROR_STATUS[c].reason, c] as const),
  ...Object.entries(EXTRA_REASONS),
]);

const BY_HTTP: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  ...canonical.filter((c) => canonical.every((o) => o === c || ERROR_STATUS[o].http !== ERROR_STATUS[c].http)).map((c) => [ERROR_STATUS[c].http, c] as const),
  ...Object.entries(HTTP_PREFERRED).map(([h, c]) => [Number(h), c] as const),
]);

/** The wire form of a code. */
export function wireStatusOf(code: ErrorCode): WireStatus {
  return ERROR_STATUS[code];
}

/**
 * The code an answer stands for: by its Status reason when that is known, else by its HTTP
 * status, else Internal.
 */
export function errorCodeOf(http: number, reason?: string): ErrorCode {
  return (reason !== undefined ? BY_REASON.get(reason) : undefined) ?? BY_HTTP.get(http) ?? 'Internal';
}

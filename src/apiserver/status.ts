// The one place where errors become Kubernetes `Status` responses. Guarantees: every
// TriremeError code maps to a fixed HTTP code and `reason`; any other error is a 500
// InternalError whose message does not leak a stack.
import { TriremeError, type ErrorCode } from '../errors.js';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: { reason: string; message: string; field: string }[]; retryAfterSeconds?: number };
  code: number;
}

const CODES: Record<ErrorCode, { http: number; reason: string }> = {
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
};

export function httpCodeOf(code: ErrorCode): number {
  return CODES[code].http;
}

/** Builds the failure Status for an error; `details` come from the error's context (name, group, kind). */
export function statusFromError(err: unknown): StatusBody {
  if (!(err instanceof TriremeError)) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, reason: 'InternalError', code: 500 };
  }
  const { http, reason } = CODES[err.code];
  const ctx = err.context;
  const details: NonNullable<StatusBody['details']> = {};
  if (typeof ctx.name === 'string') details.name = ctx.name;
  if (typeof ctx.group === 'string') details.group = ctx.group;
  if (typeof ctx.kind === 'string') details.kind = ctx.kind;
  if (typeof ctx.uid === 'string') details.uid = ctx.uid;
  if (err.causes.length > 0) details.causes = err.causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field }));
  if (typeof ctx.retryAfterSeconds === 'number') details.retryAfterSeconds = ctx.retryAfterSeconds;
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason, code: http };
  if (Object.keys(details).length > 0) body.details = details;
  return body;
}

export function statusSuccess(details?: StatusBody['details']): StatusBody {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) body.details = details;
  return body;
}

/** `deployments.apps "web"` as Kubernetes names a resource in messages. */
export function qualifiedName(group: string, resource: string, name?: string): string {
  const gr = group === '' ? resource : `${resource}.${group}`;
  return name === undefined ? gr : `${gr} "${name}"`;
}

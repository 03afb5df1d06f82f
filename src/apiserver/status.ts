// The one place where errors become Kubernetes `Status` responses. Guarantees: every
// TriremeError code maps to the HTTP code and `reason` of src/api/error-status.ts (the table the
// client decodes with); any other error is a 500 InternalError whose message does not leak a stack.
import { wireStatusOf } from '../api/error-status.js';
import { TriremeError } from '../errors.js';

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

/** Builds the failure Status for an error; `details` come from the error's context (name, group, kind). */
export function statusFromError(err: unknown): StatusBody {
  if (!(err instanceof TriremeError)) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`, reason: 'InternalError', code: 500 };
  }
  const { http, reason } = wireStatusOf(err.code);
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

/** `deployments.apps "web"` as Kubernetes names a resource in messages. */
export function qualifiedName(group: string, resource: string, name?: string): string {
  const gr = group === '' ? resource : `${resource}.${group}`;
  return name === undefined ? gr : `${gr} "${name}"`;
}

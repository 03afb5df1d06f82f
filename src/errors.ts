// One error base for the whole project: every error we raise carries a stable string
// `code` and the context needed to act on it. The mapping of codes to HTTP status and
// Kubernetes `Status` reason lives in one table (src/api/error-status.ts), not here.

export type ErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Gone'
  | 'Unauthorized'
  | 'Forbidden'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'Timeout'
  | 'TooManyRequests'
  | 'ServiceUnavailable'
  /** The store cannot reach a quorum: nothing was written (503, docs/storage.md "Quorum loss"). */
  | 'NoQuorum'
  | 'InsufficientStorage'
  | 'Internal'
  | 'StoreClosed'
  /** This server's etcd member was removed from the cluster; it must rejoin with an empty etcd data dir. */
  | 'MemberRemoved';

/** A field-level problem, as Kubernetes reports it in `Status.details.causes`. */
export interface FieldCause {
  /** e.g. `FieldValueInvalid`, `FieldValueRequired`, `FieldValueDuplicate`, `FieldValueNotSupported`, `FieldValueForbidden`. */
  reason: string;
  message: string;
  /** JSON path such as `spec.template.spec.containers[0].name`. */
  field: string;
}

export class TriremeError extends Error {
  readonly code: ErrorCode;
  readonly causes: FieldCause[];
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { causes?: FieldCause[]; context?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TriremeError';
    this.code = code;
    this.causes = opts.causes ?? [];
    this.context = opts.context ?? {};
  }
}

export function isTriremeError(e: unknown, code?: ErrorCode): e is TriremeError {
  return e instanceof TriremeError && (code === undefined || e.code === code);
}

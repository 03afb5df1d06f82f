// One audit event in Kubernetes' audit.k8s.io/v1 Event shape (pure): what the request was, who
// made it, how it ended, and — at level Request and above — the bodies the caller hands in.
// Guarantees: `level` None makes no event; bodies appear only at Request (requestObject) and
// RequestResponse (both), and only when given (the caller decides what may be recorded:
// policy.ts caps credentials at Metadata); the latency is the annotation `trireme.dev/latency-ms`
// (milliseconds, 3 decimals); timestamps are RFC 3339 with milliseconds, in UTC.
// Does not: serialize (the writer does), or record more than one stage per request: a request
// gets ResponseComplete when its answer is sent, a watch ResponseStarted once its stream is open.
import type { AuditLevel } from './policy.js';

export interface AuditObjectRef {
  resource: string;
  namespace?: string;
  name?: string;
  apiGroup: string;
  apiVersion: string;
  subresource?: string;
}

export interface AuditInput {
  auditID: string;
  level: AuditLevel;
  stage: 'ResponseComplete' | 'ResponseStarted';
  requestURI: string;
  verb: string;
  user: { name: string; groups: string[] };
  /** The user an impersonating request acted as. */
  impersonatedUser?: { name: string; groups: string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  code: number;
  /** The Status message of a failed request. */
  message?: string;
  receivedMs: number;
  stageMs: number;
  latencyMs: number;
  requestObject?: unknown;
  responseObject?: unknown;
}

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: AuditLevel;
  auditID: string;
  stage: AuditInput['stage'];
  requestURI: string;
  verb: string;
  user: { username: string; groups: string[] };
  impersonatedUser?: { username: string; groups: string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus: { metadata: Record<string, never>; code: number; status?: 'Failure'; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations: Record<string, string>;
}

export function auditEvent(i: AuditInput): AuditEvent | undefined {
  if (i.level === 'None') return undefined;
  const e: AuditEvent = {
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: i.level, auditID: i.auditID, stage: i.stage, requestURI: i.requestURI, verb: i.verb,
    user: { username: i.user.name, groups: i.user.groups },
    ...(i.impersonatedUser ? { impersonatedUser: { username: i.impersonatedUser.name, groups: i.impersonatedUser.groups } } : {}),
    sourceIPs: i.sourceIPs,
    ...(i.userAgent !== undefined ? { userAgent: i.userAgent } : {}),
    ...(i.objectRef ? { objectRef: i.objectRef } : {}),
    responseStatus: { metadata: {}, code: i.code, ...(i.code >= 400 ? { status: 'Failure' as const, ...(i.message !== undefined ? { message: i.message } : {}) } : {}) },
    requestReceivedTimestamp: new Date(i.receivedMs).toISOString(),
    stageTimestamp: new Date(i.stageMs).toISOString(),
    annotations: { 'trireme.dev/latency-ms': i.latencyMs.toFixed(3) },
  };
  if ((i.level === 'Request' || i.level === 'RequestResponse') && i.requestObject !== undefined) e.requestObject = i.requestObject;
  if (i.level === 'RequestResponse' && i.responseObject !== undefined) e.responseObject = i.responseObject;
  return e;
}


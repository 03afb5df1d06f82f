// The API server's side of the audit log: for each request, the policy level decided from what
// the handler learned (who, which resource), the bodies that level may record, and one event
// handed to the writer (log.ts) once the answer is sent (a watch: once its stream is open).
// Guarantees: nothing here throws into the request path (a failure to build an event is logged,
// the request is unaffected);
// response bodies are kept only when some rule asks for RequestResponse, only for non-watch
// requests, and only up to RESPONSE_LIMIT bytes (a longer one is recorded without its body);
// request bodies come from what the handler read (http-util.ts bodyRead), never re-read, decoded
// as the handler decodes them (JSON, YAML, protobuf); a body that does not decode is left out.
// A websocket upgrade (pods/exec, verb create) has no response object: its event is recorded
// once the stream to the node is set up (code 101, stage ResponseStarted, as a watch), or when
// it is refused (the refusal's code, ResponseComplete).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../util/log.js';
import { effectiveUser, type UserInfo } from '../auth.js';
import { bodyRead } from '../http-util.js';
import type { RequestInfo } from '../request-info.js';
import { decodeBody } from '../decode-body.js';
import { auditEvent } from './event.js';
import type { AuditLog } from './log.js';
import { bodiesForbidden, levelFor, wantsResponses, type AuditAttributes, type AuditPolicy } from './policy.js';

export const RESPONSE_LIMIT = 1024 * 1024;

export interface Auditing {
  policy: AuditPolicy;
  log: AuditLog;
  logger: Logger;
  now(): number;
}

/** Who a request came from, as the handler found out (impersonated: who it acted as). */
export interface RequestWho {
  user?: UserInfo;
  impersonated?: UserInfo;
  message?: string;
}

export interface AuditedRequest {
  who: RequestWho;
  /**
   * Records the event; `info` is what the handler parsed; `longRunning` (a watch, an exec stream)
   * makes the stage ResponseStarted; `code` for an upgrade (no response object).
   */
  done(info: RequestInfo, longRunning: boolean, code?: number): void;
}

export function beginAudit(a: Auditing, req: IncomingMessage, res?: ServerResponse): AuditedRequest {
  const receivedMs = a.now();
  const started = process.hrtime.bigint();
  const auditID = randomUUID();
  res?.setHeader('Audit-Id', auditID);
  const chunks = res && wantsResponses(a.policy) ? captureResponse(res) : undefined;
  const who: RequestWho = {};
  return {
    who,
    done(info, longRunning, code) {
      try {
        // As in Kubernetes, the policy sees who authenticated, not whom they impersonate.
        const acting = effectiveUser(who.user);
        const verb = info.kind === 'resource' ? info.verb : req.method === 'HEAD' ? 'get' : (req.method ?? 'GET').toLowerCase();
        const attrs: AuditAttributes = {
          user: acting.name, groups: acting.groups, verb,
          ...(info.kind === 'resource'
            ? { resource: { group: info.group, resource: info.resource, ...(info.subresource ? { subresource: info.subresource } : {}), ...(info.namespace ? { namespace: info.namespace } : {}), ...(info.name ? { name: info.name } : {}) } }
            : { path: info.path }),
        };
        const level = levelFor(a.policy, attrs);
        if (level === 'None') return;
        const recordBodies = level === 'Request' || level === 'RequestResponse';
        // A create names its object in the body, as Kubernetes' objectRef does (the name only).
        const name = info.kind === 'resource' ? info.name ?? (info.verb === 'create' && info.subresource === undefined ? bodyName(bodyRead(req), req.headers['content-type']) : undefined) : undefined;
        const response = res && level === 'RequestResponse' && !longRunning && chunks && !chunks.over ? decoded(Buffer.concat(chunks.parts), String(res.getHeader('content-type') ?? '')) : undefined;
        const event = auditEvent({
          auditID, level, stage: longRunning ? 'ResponseStarted' : 'ResponseComplete', requestURI: req.url ?? '/', verb,
          user: effectiveUser(who.user), ...(who.impersonated ? { impersonatedUser: who.impersonated } : {}),
          sourceIPs: sourceIPs(req), ...(req.headers['user-agent'] !== undefined ? { userAgent: req.headers['user-agent'] } : {}),
          ...(info.kind === 'resource' ? {
            objectRef: {
              resource: info.resource, apiGroup: info.group, apiVersion: info.version,
              ...(info.namespace ? { namespace: info.namespace } : {}), ...(name ? { name } : {}), ...(info.subresource ? { subresource: info.subresource } : {}),
            },
          } : {}),
          // A refusal's message can quote a field of the body: none for credentials.
          code: code ?? res?.statusCode ?? 0, ...(who.message !== undefined && !(attrs.resource && bodiesForbidden(attrs)) ? { message: who.message } : {}),
          receivedMs, stageMs: a.now(), latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
          ...(recordBodies ? { requestObject: decoded(bodyRead(req), req.headers['content-type']) } : {}),
          ...(response !== undefined ? { responseObject: response } : {}),
        });
        if (event) a.log.record(event);
      } catch (err) {
        a.logger.error({ err, path: req.url }, 'building an audit event failed');
      }
    },
  };
}

/** A body as the event records it: decoded as the handler decodes it (JSON, YAML, protobuf), or undefined. */
function decoded(body: Buffer | undefined, contentType: string | undefined): unknown {
  if (!body || body.length === 0) return undefined;
  try {
    return decodeBody(contentType, body);
  } catch {
    return undefined; // a body the handler refused too: the event's code says so
  }
}

function bodyName(body: Buffer | undefined, contentType: string | undefined): string | undefined {
  const name = (decoded(body, contentType) as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  return typeof name === 'string' ? name : undefined;
}

function sourceIPs(req: IncomingMessage): string[] {
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return remote === '' ? [] : [remote];
}

/** Keeps what the response writes, up to RESPONSE_LIMIT bytes (`over` past it). */
function captureResponse(res: ServerResponse): { parts: Buffer[]; over: boolean } {
  const kept = { parts: [] as Buffer[], over: false };
  let size = 0;
  const keep = (chunk: unknown): void => {
    if (kept.over || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const b = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk) : chunk instanceof Uint8Array ? Buffer.from(chunk) : undefined;
    if (!b) return;
    size += b.length;
    if (size > RESPONSE_LIMIT) { kept.over = true; kept.parts = []; return; }
    kept.parts.push(b);
  };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((...args: unknown[]) => { keep(args[0]); return write(...args); }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => { keep(args[0]); return end(...args); }) as ServerResponse['end'];
  return kept;
}

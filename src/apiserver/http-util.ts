// Small HTTP helpers for the API server: bounded body reading, JSON responses, Accept parsing.
// Guarantees: a body over the limit is rejected with a 413 TriremeError without buffering it all.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TriremeError } from '../errors.js';
import { statusFromError, type StatusBody } from './status.js';
import type { Duplex } from 'node:stream';
import { MAX_NESTING_DEPTH, nestingDepth } from '../api/nesting.js';
import { isKubeProtobuf } from './protobuf/decode.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The body readBody read from each request (the audit log records it at level Request and above). */
const bodies = new WeakMap<IncomingMessage, Buffer>();

/** The request body a handler read (readBody), if any. */
export function bodyRead(req: IncomingMessage): Buffer | undefined {
  return bodies.get(req);
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const body = Buffer.concat(chunks);
      if (!isKubeProtobuf(req.headers['content-type']) && nestingDepth(body.toString('utf8')) > MAX_NESTING_DEPTH) {
        reject(new TriremeError('BadRequest', `the request body nests deeper than ${MAX_NESTING_DEPTH} levels`));
        return;
      }
      bodies.set(req, body);
      resolve(body);
    });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
  });
}

function tooLarge(limit: number): TriremeError {
  return new TriremeError('RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`);
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': data.length, 'Cache-Control': 'no-cache, private' });
  res.end(data);
}

export function sendStatus(res: ServerResponse, status: StatusBody): void {
  // A 429 or 503 that says when to come back says it in the header clients read too.
  if (status.details?.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(status.details.retryAfterSeconds));
  sendJson(res, status.code, status);
}

export function sendError(res: ServerResponse, err: unknown): StatusBody {
  const status = statusFromError(err);
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  sendStatus(res, status);
  return status;
}

export interface MediaRange {
  type: string; // e.g. application/json
  params: Record<string, string>;
}

/** Parses an Accept header into its media ranges, in the order given (quality is not used by kubectl). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type = '', ...rawParams] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  }).filter((m) => m.type !== '');
}

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * What the HTTP parser refuses before any handler runs (an unknown method, malformed or
 * oversized headers, a request that took too long) still gets a Kubernetes `Status`, then the
 * connection is closed; a socket already gone is just destroyed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [code, reason, message] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'RequestHeaderFieldsTooLarge', 'request headers too large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Timeout', 'the request did not arrive in time']
    : [400, 'BadRequest', `malformed HTTP request: ${err.code ?? err.message}`];
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}


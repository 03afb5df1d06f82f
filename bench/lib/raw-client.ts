// A lean HTTP/1.1-over-TLS client for load generation: one keep-alive connection, one request
// at a time, requests written as one buffer and responses parsed by hand. It exists because
// `node:https` costs ~130 µs of client CPU per request, which on a 2-core machine is taken
// straight from the server being measured; this costs about half (and keeps µs latencies).
//
// Guarantees: the server's CA is pinned and its name checked (Node's default identity check);
// a response is complete when its Content-Length bytes or its last chunk arrived; every request
// has a timeout after which the connection is destroyed; a connection the server closed is
// reopened on the next request; an unexpected byte after a response fails the connection.
// Does not: pipeline, follow redirects, decompress, support informational (1xx) responses, or
// handle responses without Content-Length or chunked encoding (rejected as unsupported).
import { connect, type TLSSocket } from 'node:tls';
import type { Credentials } from './https-client.js';

export interface RawResponse {
  status: number;
  body: Buffer;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Incremental parser of one HTTP/1.1 response; pure, so it is tested without sockets. */
export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  private status = 0;
  private length: number | undefined;
  private chunked = false;
  private headerDone = false;
  private readonly body: Buffer[] = [];
  private bodyLen = 0;

  /** Feeds bytes; returns the response once complete. Throws on malformed or trailing input. */
  push(chunk: Buffer): RawResponse | undefined {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.headerDone) {
      const end = this.buf.indexOf(CRLFCRLF);
      if (end < 0) return undefined;
      this.parseHead(this.buf.subarray(0, end).toString('latin1'));
      this.buf = this.buf.subarray(end + 4);
      this.headerDone = true;
    }
    return this.chunked ? this.pushChunked() : this.pushSized();
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`malformed status line: ${(lines[0] ?? '').slice(0, 80)}`);
    this.status = Number(m[1]);
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') this.length = Number(value);
      else if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) this.chunked = true;
    }
    if (this.status === 204 || this.status === 304) this.length = 0;
    if (!this.chunked && (this.length === undefined || !Number.isInteger(this.length) || this.length < 0)) {
      throw new Error(`unsupported response framing (status ${this.status}, no Content-Length or chunked encoding)`);
    }
  }

  private pushSized(): RawResponse | undefined {
    const want = this.length as number;
    if (this.buf.length < want) return undefined;
    if (this.buf.length > want) throw new Error(`${this.buf.length - want} unexpected bytes after the response`);
    return { status: this.status, body: this.buf };
  }

  private pushChunked(): RawResponse | undefined {
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return undefined;
      const size = parseInt(this.buf.subarray(0, eol).toString('latin1'), 16);
      if (!Number.isFinite(size) || size < 0) throw new Error('malformed chunk size');
      if (size === 0) {
        // Last chunk: no trailers expected, just the final CRLF.
        if (this.buf.length < eol + 4) return undefined;
        if (this.buf.length > eol + 4) throw new Error('unexpected bytes after the last chunk');
        return { status: this.status, body: Buffer.concat(this.body, this.bodyLen) };
      }
      if (this.buf.length < eol + 2 + size + 2) return undefined;
      this.body.push(this.buf.subarray(eol + 2, eol + 2 + size));
      this.bodyLen += size;
      this.buf = this.buf.subarray(eol + 2 + size + 2);
    }
  }
}

/** The bytes of one request (Host, Accept and, with a body, Content-Type/Length headers). */
export function encodeRequest(method: string, path: string, host: string, body?: string): Buffer {
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n` +
    (body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`) + '\r\n';
  return Buffer.from(body === undefined ? head : head + body);
}

export class RawConnection {
  private socket: TLSSocket | undefined;
  private readonly url: URL;
  private busy = false;

  constructor(private readonly creds: Credentials, private readonly timeoutMs = 10_000) {
    this.url = new URL(creds.server);
  }

  private open(): Promise<TLSSocket> {
    const s = this.socket;
    if (s !== undefined && !s.destroyed) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const sock = connect({ host: this.url.hostname, port: Number(this.url.port || 443), ca: this.creds.ca, cert: this.creds.cert, key: this.creds.key });
      sock.setNoDelay(true);
      const onError = (e: Error): void => reject(e);
      sock.once('error', onError);
      sock.once('secureConnect', () => {
        sock.off('error', onError);
        sock.on('error', () => undefined); // per-request handlers report errors from here on
        this.socket = sock;
        resolve(sock);
      });
    });
  }

  async request(method: string, path: string, body?: string): Promise<RawResponse> {
    if (this.busy) throw new Error('RawConnection: one request at a time');
    this.busy = true;
    try {
      const sock = await this.open();
      return await new Promise<RawResponse>((resolve, reject) => {
        const parser = new ResponseParser();
        const done = (err: Error | undefined, res?: RawResponse): void => {
          clearTimeout(timer);
          sock.off('data', onData);
          sock.off('close', onClose);
          sock.off('error', onErr);
          if (err !== undefined) {
            sock.destroy();
            reject(err);
          } else resolve(res as RawResponse);
        };
        const onData = (chunk: Buffer): void => {
          let res: RawResponse | undefined;
          try {
            res = parser.push(chunk);
          } catch (e) {
            done(e as Error);
            return;
          }
          if (res !== undefined) done(undefined, res);
        };
        const onClose = (): void => done(new Error(`${method} ${path}: connection closed before the response`));
        const onErr = (e: Error): void => done(e);
        const timer = setTimeout(() => done(new Error(`${method} ${path} timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        sock.on('data', onData);
        sock.once('close', onClose);
        sock.once('error', onErr);
        sock.write(encodeRequest(method, path, this.url.host, body));
      });
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}

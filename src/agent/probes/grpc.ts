// grpc probes: the standard health service (grpc.health.v1.Health/Check) over plaintext HTTP/2,
// as the kubelet calls it. Guarantees: success only for status SERVING (1); any transport error,
// non-zero grpc-status or timeout is failure. Does not: use TLS (the kubelet does not either).
import http2 from 'node:http2';
import type { ProbeOutcome } from './types.js';

const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** Encodes HealthCheckRequest{service} (field 1, string) in a gRPC length-prefixed frame. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  const msg = s.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(s.length), s]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** Decodes the status (field 1, varint) of a framed HealthCheckResponse; 0 (UNKNOWN) if absent. */
export function decodeHealthCheckStatus(frame: Buffer): number | undefined {
  if (frame.length < 5) return undefined;
  const len = frame.readUInt32BE(1);
  const msg = frame.subarray(5, 5 + len);
  let i = 0;
  while (i < msg.length) {
    const key = msg[i++]!;
    if (key === 0x08) {
      let v = 0;
      let shift = 0;
      while (i < msg.length) {
        const b = msg[i++]!;
        v |= (b & 0x7f) << shift;
        if ((b & 0x80) === 0) return v;
        shift += 7;
      }
      return undefined;
    }
    return undefined; // unknown field: the message has only `status`
  }
  return 0;
}

export function grpcProbe(host: string, port: number, service: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    let done = false;
    const session = http2.connect(`http://${addr}`);
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ success: false, message: `timeout: health rpc did not complete within ${timeoutMs}ms` }), timeoutMs);
    const onAbort = (): void => finish({ success: false, message: 'probe cancelled' });
    signal?.addEventListener('abort', onAbort);
    session.on('error', (e) => finish({ success: false, message: `failed to connect service "${addr}" within ${timeoutMs / 1000}s: ${e.message}` }));
    const req = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('trailers', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e) => finish({ success: false, message: `health rpc failed: ${e.message}` }));
    req.on('end', () => {
      if (grpcStatus !== undefined && grpcStatus !== '0') {
        finish({ success: false, message: `health rpc failed with grpc-status ${grpcStatus}` });
        return;
      }
      const st = decodeHealthCheckStatus(Buffer.concat(chunks));
      if (st === 1) finish({ success: true, message: '' });
      else finish({ success: false, message: `service unhealthy (responded with "${STATUS_NAMES[st ?? 0] ?? st}")` });
    });
    req.end(encodeHealthCheckRequest(service));
  });
}

// Plain-HTTP load over keep-alive TCP connections, for Service benchmarks: an open loop at a
// fixed rate (what a steady client population does) or a closed loop (the most a set of
// connections gets through). Requests are `GET /` written as one buffer; responses are parsed by
// bench/lib/raw-client.ts's ResponseParser (Content-Length or chunked).
// Guarantees: every request ends in exactly one record (ok, or failed: HTTP status ≠ 200, a reset
// or close mid-response, a refused connect, or no answer within `timeoutMs`, after which its
// connection is destroyed); a failed connection is reopened by the next request on its slot;
// open loop: requests are due at even intervals, a request that finds every connection busy
// waits for one and its latency counts from when it was due (no coordinated omission; one sent
// at once is timed from its send, so the pacing timer's lag is not counted); both
// loops stop on their own after `durationMs`, after `maxRequests`, or when `stop()` is called,
// and resolve once the requests in flight ended.
// Does not: pipeline, retry, or keep anything but the per-request records.
import net from 'node:net';
import { ResponseParser } from './raw-client.js';

export interface HttpTarget {
  host: string;
  port: number;
}

export interface RequestLog {
  /** Epoch ms the request was due (open loop) or sent (closed loop). */
  dueMs: number[];
  /** Due (or sent) → response complete, ms; NaN for failures. */
  latencyMs: number[];
  ok: boolean[];
  /** The first few failure messages. */
  errors: string[];
}

export interface LoadOptions {
  /** Connections are spread over these in turn (connection i → targets[i % n]). */
  targets: HttpTarget[];
  connections: number;
  durationMs: number;
  timeoutMs: number;
  maxRequests: number;
  /**
   * A connection is closed after this many requests and the next one opens a new one (as HTTP
   * clients and servers cap keep-alive), so new backends get connections too (default: never).
   */
  requestsPerConnection?: number;
}

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');

/** One keep-alive connection, one request at a time. */
class Conn {
  private socket: net.Socket | undefined;
  private served = 0;
  busy = false;

  constructor(private readonly target: HttpTarget, private readonly maxServed = Infinity) {}

  /** Resolves with an error message, or undefined for a 200. Never rejects. */
  request(timeoutMs: number): Promise<string | undefined> {
    this.busy = true;
    return new Promise((resolve) => {
      let s = this.socket;
      if (s === undefined || s.destroyed) {
        s = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
        this.served = 0;
        s.setKeepAlive(true);
        // An idle connection may fail between requests (its backend died): nothing waits on it
        // then, and the next request opens a new one.
        s.on('error', () => undefined);
        this.socket = s;
      }
      const sock = s;
      const parser = new ResponseParser();
      let settled = false;
      const done = (err: string | undefined, keep: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.off('data', onData);
        sock.off('error', onError);
        sock.off('close', onClose);
        if (!keep) sock.destroy();
        this.busy = false;
        resolve(err);
      };
      const onData = (chunk: Buffer): void => {
        try {
          const res = parser.push(chunk);
          if (res !== undefined) done(res.status === 200 ? undefined : `HTTP ${res.status}`, ++this.served < this.maxServed);
        } catch (e) {
          done((e as Error).message, false);
        }
      };
      const onError = (e: NodeJS.ErrnoException): void => done(e.code ?? e.message, false);
      const onClose = (): void => done('connection closed', false);
      const timer = setTimeout(() => done(`no answer in ${timeoutMs} ms`, false), timeoutMs);
      sock.on('data', onData);
      sock.on('error', onError);
      sock.on('close', onClose);
      sock.write(REQUEST);
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

export interface RunningLoad {
  /** Ends the loop early; resolves like `done`. */
  stop(): Promise<RequestLog>;
  done: Promise<RequestLog>;
}

function newLog(): RequestLog {
  return { dueMs: [], latencyMs: [], ok: [], errors: [] };
}

function record(log: RequestLog, due: number, startNs: bigint, err: string | undefined): void {
  log.dueMs.push(due);
  log.ok.push(err === undefined);
  log.latencyMs.push(err === undefined ? Number(process.hrtime.bigint() - startNs) / 1e6 : Number.NaN);
  if (err !== undefined && log.errors.length < 20) log.errors.push(`${new Date().toISOString()} ${err}`);
}

/** Open loop: `ratePerSec` requests per second, due at even intervals. */
export function runPaced(o: LoadOptions & { ratePerSec: number }): RunningLoad {
  const log = newLog();
  const conns = Array.from({ length: o.connections }, (_, i) => new Conn(o.targets[i % o.targets.length] as HttpTarget, o.requestsPerConnection));
  const queue: { due: number; startNs: bigint }[] = [];
  const inFlight = new Set<Promise<void>>();
  const t0 = Date.now();
  const t0Ns = process.hrtime.bigint();
  let issued = 0;
  let stopped = false;
  let finish: (l: RequestLog) => void = () => undefined;
  const done = new Promise<RequestLog>((r) => (finish = r));

  const send = (c: Conn, q: { due: number; startNs: bigint }): void => {
    const p = c.request(o.timeoutMs).then((err) => {
      record(log, q.due, q.startNs, err);
      inFlight.delete(p);
      const next = queue.shift();
      if (next !== undefined) send(c, next);
    });
    inFlight.add(p);
  };
  const tick = (): void => {
    const elapsedMs = Number(process.hrtime.bigint() - t0Ns) / 1e6;
    const due = Math.min(o.maxRequests, Math.floor((elapsedMs * o.ratePerSec) / 1000));
    for (; issued < due; issued++) {
      // Sent at once: timed from now (the tick's own lag is not the server's); queued: from when due.
      const idle = conns.find((c) => !c.busy);
      if (idle !== undefined) {
        send(idle, { due: Date.now(), startNs: process.hrtime.bigint() });
      } else {
        const offsetMs = (issued * 1000) / o.ratePerSec;
        queue.push({ due: t0 + offsetMs, startNs: t0Ns + BigInt(Math.round(offsetMs * 1e6)) });
      }
    }
    if (!stopped && elapsedMs < o.durationMs && issued < o.maxRequests) setTimeout(tick, 1);
    else void end();
  };
  const end = async (): Promise<void> => {
    stopped = true;
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    // Queued requests never sent: due, not served.
    for (const q of queue.splice(0)) record(log, q.due, q.startNs, 'not sent before the end');
    for (const c of conns) c.close();
    finish(log);
  };
  setTimeout(tick, 0);
  return {
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

/** Closed loop: each connection sends its next request as soon as the previous one ended. */
export function runClosed(o: LoadOptions): RunningLoad {
  const log = newLog();
  const deadline = Date.now() + o.durationMs;
  let issued = 0;
  let stopped = false;
  const loops = Array.from({ length: o.connections }, async (_, i) => {
    const c = new Conn(o.targets[i % o.targets.length] as HttpTarget, o.requestsPerConnection);
    while (!stopped && Date.now() < deadline && issued < o.maxRequests) {
      issued++;
      const due = Date.now();
      const startNs = process.hrtime.bigint();
      record(log, due, startNs, await c.request(o.timeoutMs));
    }
    c.close();
  });
  const done = Promise.all(loops).then(() => log);
  return {
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}

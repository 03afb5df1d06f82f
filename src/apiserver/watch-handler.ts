// Serves a watch: a chunked 200 response with one JSON event per line
// ({"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}), Table rows when asked for.
// Guarantees: headers are flushed at once (kubectl's `wait`/`rollout status` need them); a start
// revision older than the kept history gets one ERROR event with a 410 Expired Status; the
// stream ends at timeoutSeconds, on client disconnect, or when its own server stops (each
// stream is registered in its server's OpenWatches, nowhere else). With allowWatchBookmarks, a
// BOOKMARK goes out every WATCH_BOOKMARK_INTERVAL_MS (the heartbeat clients judge liveness by,
// src/api/watch-heartbeat.ts), never at a revision below the one the watch started from, so a
// client resuming from it on a server whose cache lags misses nothing. Timers run on the
// registry's clock.
import type { KubeObject } from '../api/object.js';
import { groupVersion } from '../api/resources.js';
import { buildTable } from '../api/tables/index.js';
import { TriremeError } from '../errors.js';
import { WATCH_BOOKMARK_INTERVAL_MS } from '../api/watch-heartbeat.js';
import type { Timer } from '../util/clock.js';
import { boolParam, intParam, objectFilter, watchRevision } from './list-query.js';
import { negotiate } from './negotiate.js';
import { partial, type RequestContext } from './request-context.js';
import { statusFromError } from './status.js';

/** Upper bound of a watch without timeoutSeconds, so that streams rebalance across servers. */
const MAX_WATCH_SECONDS = 1800;

export async function serveWatch(ctx: RequestContext): Promise<void> {
  const { res, query, registry, info, ri } = ctx;
  const rep = negotiate(ctx.req.headers.accept);
  const clock = registry.clock;
  const filter = objectFilter(info, query);
  const from = watchRevision(query);
  const timeout = Math.min(intParam(query, 'timeoutSeconds') ?? MAX_WATCH_SECONDS, MAX_WATCH_SECONDS);
  const bookmarks = boolParam(query, 'allowWatchBookmarks');
  const sendInitialEvents = boolParam(query, 'sendInitialEvents');
  const nameFilter = ri.name; // GET …/pods/NAME?watch=true
  const combined = (o: KubeObject) => (!nameFilter || o.metadata?.name === nameFilter) && (!filter || filter(o));

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  let first = true;
  const write = (type: string, object: unknown) => {
    res.write(JSON.stringify({ type, object }) + '\n');
  };
  const encode = (obj: KubeObject): unknown => {
    if (rep.as === 'table') {
      const table = buildTable(info.kind, groupVersion(info), [obj], { now: clock.now(), includeObject: 'Metadata', resourceVersion: obj.metadata?.resourceVersion }) as unknown as Record<string, unknown>;
      // Column definitions go with the first event only, as Kubernetes does.
      if (!first) table.columnDefinitions = [];
      first = false;
      return table;
    }
    if (rep.as === 'metadata') return partial(obj, rep.version);
    return obj;
  };
  const bookmark = (rv: number, annotations?: Record<string, string>) =>
    write('BOOKMARK', { kind: info.kind, apiVersion: groupVersion(info), metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) } });

  let watch: { cancel(): void } | undefined;
  let ended = false;
  let ticker: Timer | undefined;
  const timer = clock.setTimeout(() => end(), timeout * 1000);
  const end = () => {
    ended = true;
    watch?.cancel();
    clock.clearTimeout(timer);
    if (ticker) clock.clearTimeout(ticker);
    ctx.watches.delete(end);
    if (!res.writableEnded) res.end();
  };
  // A server that is stopping ends the stream here at once.
  ctx.watches.add(end);
  res.on('close', end);
  if (ended) return;
  try {
    watch = registry.watch(info, ri.namespace, { resourceVersion: from, sendInitialEvents, filter: combined }, (type, obj) => write(type, encode(obj)),
      sendInitialEvents && bookmarks ? (rv) => bookmark(rv, { 'k8s.io/initial-events-end': 'true' }) : undefined);
  } catch (e) {
    if (e instanceof TriremeError && e.code === 'Gone') {
      write('ERROR', statusFromError(new TriremeError('Gone', `too old resource version: ${from} (${registry.cacheRevision(info)})`)));
      end();
      return;
    }
    end();
    throw e;
  }
  if (bookmarks) {
    const tick = () => {
      ticker = clock.setTimeout(() => {
        if (ended) return;
        bookmark(Math.max(from ?? 0, registry.cacheRevision(info)));
        tick();
      }, WATCH_BOOKMARK_INTERVAL_MS);
    };
    tick();
  }
}

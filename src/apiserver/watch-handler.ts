// Serves a watch: a chunked 200 response with one JSON event per line
// ({"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}), Table rows when asked for.
// Guarantees: headers are flushed at once (kubectl's `wait`/`rollout status` need them); a start
// revision older than the kept history gets one ERROR event with a 410 Expired Status; the
// stream ends at timeoutSeconds, on client disconnect, or on server shutdown.
import type { KubeObject } from '../api/object.js';
import { groupVersion } from '../api/resources.js';
import { buildTable } from '../api/tables/index.js';
import { TriremeError } from '../errors.js';
import { boolParam, intParam, objectFilter, watchRevision } from './list-query.js';
import type { Representation } from './negotiate.js';
import type { RequestContext } from './resource-handler.js';
import { statusFromError } from './status.js';

/** Upper bound of a watch without timeoutSeconds, so that streams rebalance across servers. */
const MAX_WATCH_SECONDS = 1800;
const BOOKMARK_EVERY_MS = 15_000;

/** Open watch streams, so that shutdown can end them promptly. */
export const openWatches = new Set<() => void>();

export async function serveWatch(ctx: RequestContext, rep: Representation): Promise<void> {
  const { res, query, registry, info, ri } = ctx;
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
      const table = buildTable(info.kind, groupVersion(info), [obj], { now: registry.clock.now(), includeObject: 'Metadata', resourceVersion: obj.metadata?.resourceVersion }) as unknown as Record<string, unknown>;
      // Column definitions go with the first event only, as Kubernetes does.
      if (!first) table.columnDefinitions = [];
      first = false;
      return table;
    }
    if (rep.as === 'metadata') return { apiVersion: `meta.k8s.io/${rep.version}`, kind: 'PartialObjectMetadata', metadata: obj.metadata };
    return obj;
  };
  const bookmark = (rv: number, annotations?: Record<string, string>) =>
    write('BOOKMARK', { kind: info.kind, apiVersion: groupVersion(info), metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) } });

  let watch: { cancel(): void } | undefined;
  const timer = setTimeout(() => end(), timeout * 1000);
  let ticker: NodeJS.Timeout | undefined;
  const end = () => {
    watch?.cancel();
    clearTimeout(timer);
    clearInterval(ticker);
    openWatches.delete(end);
    if (!res.writableEnded) res.end();
  };
  openWatches.add(end);
  res.on('close', end);
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
  if (bookmarks) ticker = setInterval(() => bookmark(registry.cacheRevision(info)), BOOKMARK_EVERY_MS);
}

// A Store that records Prometheus metrics about the store it wraps, and otherwise is that store:
// `trireme_store_operation_duration_seconds{backend,operation}` (a histogram of every call, failed
// ones included), `trireme_store_operation_errors_total{backend,operation}`, and, read when
// scraped, `trireme_store_revision`, `trireme_store_compact_revision` and `trireme_store_size_bytes`
// (when the backend can tell its size). Guarantees: every call is forwarded unchanged, with its
// result or error; a scrape that cannot read the revision or size leaves that gauge out (it does
// not fail the scrape). Does not: time watches (long-lived by nature), or
// register twice: one wrapper per registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Store } from './store.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function instrumentStore(store: Store, registry: Registry, backend: string): Store {
  const registers = [registry];
  const duration = new Histogram({ name: 'trireme_store_operation_duration_seconds', help: 'Store call latency by operation (failed calls included)', labelNames: ['backend', 'operation'], buckets: BUCKETS, registers });
  const errors = new Counter({ name: 'trireme_store_operation_errors_total', help: 'Store calls that failed, by operation', labelNames: ['backend', 'operation'], registers });
  new Gauge({
    name: 'trireme_store_revision', help: 'The store\'s current revision', labelNames: ['backend'], registers,
    async collect() {
      this.reset();
      try {
        this.set({ backend }, await store.currentRevision());
      } catch {
        // A store that cannot answer now: the series is absent from this scrape.
      }
    },
  });
  new Gauge({
    name: 'trireme_store_compact_revision', help: 'Revision at or below which the store\'s history is compacted', labelNames: ['backend'], registers,
    async collect() {
      this.reset();
      try {
        this.set({ backend }, await store.compactRevision());
      } catch {
        // As above.
      }
    },
  });
  if (store.sizeBytes) {
    const size = store.sizeBytes.bind(store);
    new Gauge({
      name: 'trireme_store_size_bytes', help: 'The store\'s size on disk', labelNames: ['backend'], registers,
      async collect() {
        this.reset();
        try {
          this.set({ backend }, await size());
        } catch {
          // As above.
        }
      },
    });
  }

  const timed = <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const end = duration.startTimer({ backend, operation });
    try {
      return await fn(...args);
    } catch (e) {
      errors.inc({ backend, operation });
      throw e;
    } finally {
      end();
    }
  };
  const wrapped: Store = {
    get: timed('get', (k: string) => store.get(k)),
    list: timed('list', (p: string) => store.list(p)),
    create: timed('create', (k: string, v: string, o?: Parameters<Store['create']>[2]) => store.create(k, v, o)),
    update: timed('update', (k: string, v: string, r?: number, o?: Parameters<Store['update']>[3]) => store.update(k, v, r, o)),
    delete: timed('delete', (k: string, r?: number, o?: Parameters<Store['delete']>[2]) => store.delete(k, r, o)),
    watch: (prefix, after, handler) => store.watch(prefix, after, handler),
    currentRevision: timed('current_revision', () => store.currentRevision()),
    compact: timed('compact', (r: number) => store.compact(r)),
    compactRevision: () => store.compactRevision(),
    readiness: () => store.readiness(),
    close: () => store.close(),
  };
  if (store.shared !== undefined) Object.defineProperty(wrapped, 'shared', { value: store.shared, enumerable: true });
  if (store.changesSince) {
    const since = store.changesSince.bind(store);
    wrapped.changesSince = timed('changes_since', (p: string, a: number) => since(p, a));
  }
  if (store.sizeBytes) wrapped.sizeBytes = store.sizeBytes.bind(store);
  return wrapped;
}

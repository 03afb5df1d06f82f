// The raw-store side of the benchmark: the same operations as the API server side, straight
// against a Store (no HTTP, no TLS, no JSON handling of the API server).
// Guarantees: list checks the item count; get fails if the key is absent; the fan-out watchers
// are real store watches (one per watcher) and are cancelled by the returned closer.
// Does not: decode values: the store treats them as opaque strings, and so does this.
import type { Store } from '../../src/storage/store.js';
import { configMapKey, configMapPrefix, storedConfigMap } from './configmap.js';
import { nowMs, type FanoutTarget } from './fanout-driver.js';

export async function storeCreate(store: Store, ns: string, name: string): Promise<void> {
  await store.create(configMapKey(ns, name), storedConfigMap(ns, name));
}

export async function storeGet(store: Store, ns: string, name: string): Promise<void> {
  if ((await store.get(configMapKey(ns, name))) === undefined) throw new Error(`store get ${ns}/${name}: absent`);
}

export async function storeList(store: Store, ns: string, expectItems: number): Promise<void> {
  const res = await store.list(configMapPrefix(ns));
  if (res.items.length !== expectItems) throw new Error(`store list ${ns}: ${res.items.length} items, want ${expectItems}`);
}

export function storeFanoutTarget(store: Store, ns: string): FanoutTarget {
  const prefix = configMapPrefix(ns);
  return {
    async openWatchers(n, onEvent) {
      const from = await store.currentRevision();
      const watches = Array.from({ length: n }, (_, i) =>
        store.watch(prefix, from, {
          onEvent(ev) {
            if (ev.type === 'put' && ev.prev === undefined) onEvent(i, ev.kv.key.slice(prefix.length), nowMs());
          },
          onError() {
            // A failed watch just stops seeing events: the run reports them as missing.
          },
        }),
      );
      return () => {
        for (const w of watches) w.cancel();
      };
    },
    write: (name) => storeCreate(store, ns, name),
  };
}

// What the proxy must do to go from the listeners it has to the table it wants (pure).
// Guarantees: a desired listener it does not have is opened; one it has that is no longer desired
// is closed; one whose backends, affinity or Service changed is updated in place (its socket and
// connections stay); ClusterIP addresses are added to the address host before the first listener
// on them opens and removed after the last one closes (node-scope listeners are on the node IP,
// which the proxy does not manage). "Have" counts listeners waiting for their bind too (another
// agent on this machine holds the address:port): the proxy keeps retrying those itself.
// Does not: bind anything, or decide retry timing.
import type { Backend, ListenerSpec } from './table.js';

export interface ListenerPlan {
  /** ClusterIPs to add to the address host (before `open`). */
  addAddresses: string[];
  open: ListenerSpec[];
  update: ListenerSpec[];
  close: string[];
  /** ClusterIPs no listener uses any more (after `close`). */
  removeAddresses: string[];
}

function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.key !== b[i]!.key || a[i]!.nodeName !== b[i]!.nodeName) return false;
  return true;
}

export function sameListener(a: ListenerSpec, b: ListenerSpec): boolean {
  return a.service === b.service && a.portName === b.portName && a.scope === b.scope
    && a.affinity?.timeoutMs === b.affinity?.timeoutMs && sameBackends(a.backends, b.backends);
}

function clusterAddresses(specs: Iterable<ListenerSpec>): Set<string> {
  const out = new Set<string>();
  for (const s of specs) if (s.scope === 'cluster') out.add(s.ip);
  return out;
}

export function planListeners(desired: readonly ListenerSpec[], have: ReadonlyMap<string, ListenerSpec>): ListenerPlan {
  const want = new Map(desired.map((s) => [s.key, s] as const));
  const plan: ListenerPlan = { addAddresses: [], open: [], update: [], close: [], removeAddresses: [] };
  for (const [key, spec] of want) {
    const cur = have.get(key);
    if (!cur) plan.open.push(spec);
    else if (!sameListener(cur, spec)) plan.update.push(spec);
  }
  for (const key of have.keys()) if (!want.has(key)) plan.close.push(key);
  const before = clusterAddresses(have.values());
  const after = clusterAddresses(want.values());
  plan.addAddresses = [...after].filter((ip) => !before.has(ip)).sort();
  plan.removeAddresses = [...before].filter((ip) => !after.has(ip)).sort();
  plan.close.sort();
  return plan;
}

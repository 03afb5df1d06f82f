// Namespace lifecycle inside the API server: empties a Terminating namespace and then removes
// its `kubernetes` finalizer (so the namespace goes), and gives every active namespace its
// `default` ServiceAccount. Level-triggered: each pass looks at the current state, so a pass
// that fails or is interrupted is simply repeated.
// Guarantees: a namespace disappears only after every namespaced object in it is gone. A pod
// bound to a node that does not exist is removed at once (no agent will ever confirm it).
// Does not: wait for the garbage collector's dependents; it deletes in the background order.
import { NAMESPACE_FINALIZER } from '../api/finalizers.js';
import type { KubeObject } from '../api/object.js';
import { RESOURCES, type ResourceInfo } from '../api/resources.js';
import { isTriremeError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { Registry } from './registry.js';

const NAMESPACES = RESOURCES.find((r) => r.kind === 'Namespace')!;
const NODES = RESOURCES.find((r) => r.kind === 'Node')!;
const SERVICE_ACCOUNTS = RESOURCES.find((r) => r.kind === 'ServiceAccount')!;

export class NamespaceLifecycle {
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private running = false;
  private stopped = false;
  private watch: { cancel(): void } | undefined;

  constructor(private readonly registry: Registry, private readonly clock: Clock, private readonly log: Logger, private readonly periodMs = 1000) {}

  start(): void {
    this.watch = this.registry.watch(NAMESPACES, undefined, {}, () => this.kick());
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    if (this.timer) this.clock.clearTimeout(this.timer);
  }

  /** Runs a pass soon; passes never overlap. */
  private kick(): void {
    if (this.stopped || this.running || this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, 0);
  }

  private async pass(): Promise<void> {
    this.running = true;
    let again = false;
    try {
      const { items } = await this.registry.list(NAMESPACES, undefined);
      for (const ns of items) {
        if (ns.metadata?.deletionTimestamp) again = (await this.drain(ns)) || again;
        else await this.ensureDefaultServiceAccount(ns.metadata!.name!);
      }
    } catch (err) {
      this.log.warn({ err }, 'namespace lifecycle pass failed; retrying');
      again = true;
    } finally {
      this.running = false;
    }
    if (again && !this.stopped) this.timer = this.clock.setTimeout(() => { this.timer = undefined; void this.pass(); }, this.periodMs);
  }

  /** Deletes what is left in a terminating namespace; returns true while anything remains. */
  private async drain(ns: KubeObject): Promise<boolean> {
    const name = ns.metadata!.name!;
    let remaining = 0;
    for (const info of RESOURCES.filter((r) => r.namespaced)) {
      const { items } = await this.registry.list(info, name);
      for (const obj of items) {
        remaining++;
        await this.deleteQuietly(info, name, obj);
      }
    }
    if (remaining > 0) return true;
    const finalizers = ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers) ?? [];
    if (finalizers.includes(NAMESPACE_FINALIZER)) {
      await this.registry.readModifyWrite(NAMESPACES, undefined, name, { subresource: 'finalize' }, (cur) => ({
        ...cur, spec: { ...(cur.spec as object), finalizers: finalizers.filter((f) => f !== NAMESPACE_FINALIZER) },
      }));
      this.log.info({ namespace: name }, 'namespace emptied and finalized');
    }
    return false;
  }

  private async deleteQuietly(info: ResourceInfo, namespace: string, obj: KubeObject): Promise<void> {
    const name = obj.metadata!.name!;
    try {
      let grace: number | undefined;
      if (info.kind === 'Pod') {
        const node = (obj.spec as { nodeName?: string } | undefined)?.nodeName;
        if (node && !(await this.nodeExists(node))) grace = 0;
      }
      if (obj.metadata?.deletionTimestamp && grace === undefined) return; // already on its way out
      await this.registry.delete(info, namespace, name, { gracePeriodSeconds: grace, propagationPolicy: 'Background' });
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) throw e;
    }
  }

  private async nodeExists(name: string): Promise<boolean> {
    try {
      await this.registry.get(NODES, undefined, name);
      return true;
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return false;
      throw e;
    }
  }

  private async ensureDefaultServiceAccount(namespace: string): Promise<void> {
    const { items } = await this.registry.list(SERVICE_ACCOUNTS, namespace, { filter: (o) => o.metadata?.name === 'default' });
    if (items.length > 0) return;
    try {
      await this.registry.create(SERVICE_ACCOUNTS, namespace, { metadata: { name: 'default' } });
    } catch (e) {
      // Another server made it first, or the namespace began terminating: both are fine.
      if (!isTriremeError(e, 'AlreadyExists') && !isTriremeError(e, 'Forbidden') && !isTriremeError(e, 'NotFound')) throw e;
    }
  }
}

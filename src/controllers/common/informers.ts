// One informer per resource, shared by every controller of a manager, so each kind is
// listed and watched once. Guarantees: `for(res)` returns the same informer for the same
// resource; `start()` starts every informer requested so far and resolves when all have
// their first list cached. Does not: add informers after start (ask for them up front).
import type { KubeObject } from '../../api/object.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { ApiClient } from '../../client/api-client.js';
import { Informer } from '../../client/informer.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';

export class SharedInformers {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(private readonly client: ApiClient, private readonly opts: { logger: Logger; clock?: Clock }) {}

  for<T extends KubeObject>(res: ResourceInfo): Informer<T> {
    const key = `${res.group}/${res.resource}`;
    let inf = this.informers.get(key);
    if (!inf) {
      if (this.started) throw new Error(`informer for ${key} requested after start`);
      inf = new Informer<KubeObject>(this.client, res, { logger: this.opts.logger, clock: this.opts.clock });
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** The informer of a resource if one was requested. */
  find(res: ResourceInfo): Informer<KubeObject> | undefined {
    return this.informers.get(`${res.group}/${res.resource}`);
  }

  async start(): Promise<void> {
    this.started = true;
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}

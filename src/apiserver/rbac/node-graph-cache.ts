// The node authorizer's informer of one API server: watches pods through the registry's watch
// cache (as rbac/cache.ts watches the RBAC kinds; no store read per request) and keeps the
// NodeGraph (node-graph.ts) current, one pod event at a time. Guarantees: after `start()` the
// graph holds every pod of the watch cache at that moment; later changes are applied as the
// watch delivers them (the same lag as any watch of this server). Does not: wait for other
// servers' writes.
import { findResource, type ResourceInfo } from '../../api/resources.js';
import type { Registry } from '../registry.js';
import { NodeGraph, type NodeGraphView } from './node-graph.js';

export class NodeGraphCache {
  private readonly graph = new NodeGraph();
  private cancel: (() => void) | undefined;

  constructor(private readonly registry: Registry) {}

  start(): void {
    const info = findResource('', 'v1', 'pods') as ResourceInfo;
    const w = this.registry.watch(info, undefined, {}, (type, pod) => {
      if (type === 'DELETED') this.graph.remove(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
      else this.graph.upsert(pod);
    });
    this.cancel = () => w.cancel();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  current(): NodeGraphView {
    return this.graph;
  }
}

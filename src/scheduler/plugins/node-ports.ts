// Filter: no host port the pod asks for is already taken on the node. Two uses of the same
// protocol and port conflict when either binds 0.0.0.0 or both bind the same hostIP.
// Guarantees: pure; O(ports of the pod).
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';

export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export function filterNodePorts(pod: PodInfo, node: NodeInfo): string | null {
  for (const hp of pod.hostPorts) {
    const ips = node.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips) continue;
    if (hp.hostIP === '0.0.0.0' || ips.has('0.0.0.0') || ips.has(hp.hostIP)) return REASON_NODE_PORTS;
  }
  return null;
}

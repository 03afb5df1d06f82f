// Node rows as `kubectl get nodes` shows them (Kubernetes 1.32). Guarantees: STATUS from the
// Ready condition only (`Ready`, `NotReady`, `Unknown` without one), plus `SchedulingDisabled`
// when cordoned; ROLES from `node-role.kubernetes.io/<role>` labels and the legacy
// `kubernetes.io/role` label, sorted, `<none>` if none; wide columns show the first
// InternalIP/ExternalIP and `<unknown>` for missing system info.
import type { Node } from 'kubernetes-types/core/v1.js';
import { since } from './age.js';
import { AGE, NAME, col, wide } from './columns.js';
import type { Printer } from './types.js';

const ROLE_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

export function nodeStatus(node: Node): string {
  const status: string[] = [];
  const ready = (node.status?.conditions ?? []).filter((c) => c.type === 'Ready').at(-1);
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(ROLE_PREFIX)) {
      const role = k.slice(ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === LEGACY_ROLE_LABEL && v) {
      roles.add(v);
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

function address(node: Node, type: string): string {
  return (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';
}

export const nodePrinter: Printer = {
  columns: [
    NAME,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE,
    col('Version', 'string', 'Kubelet version reported by the node.'),
    wide('Internal-IP', 'string', 'The first InternalIP address of the node.'),
    wide('External-IP', 'string', 'The first ExternalIP address of the node.'),
    wide('OS-Image', 'string', 'OS image reported by the node.'),
    wide('Kernel-Version', 'string', 'Kernel version reported by the node.'),
    wide('Container-Runtime', 'string', 'Container runtime version reported by the node.'),
  ],
  row(obj, ctx) {
    const node = obj as Node;
    const info = node.status?.nodeInfo;
    return {
      cells: [
        node.metadata?.name ?? '', nodeStatus(node), nodeRoles(node), since(node.metadata?.creationTimestamp, ctx.now),
        info?.kubeletVersion ?? '', address(node, 'InternalIP'), address(node, 'ExternalIP'),
        info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
};

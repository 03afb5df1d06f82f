// Pod rows as `kubectl get pods` shows them (Kubernetes 1.32 printer semantics): READY as
// ready/total (sidecar init containers count), STATUS summarised from phase, status reason,
// scheduling gates, init containers (`Init:1/2`, `Init:CrashLoopBackOff`, `Init:ExitCode:1`),
// container states (waiting reason, terminated reason, `Signal:N`, `ExitCode:N`), and deletion
// (`Terminating`, or `Unknown` for pods on a lost node); RESTARTS with the time since the last
// restart (`3 (25s ago)`). Guarantees: a pure function of the object and `now`; tolerates
// missing status. Does not look at other objects (e.g. the node's state).
import type { Container, ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { humanDuration, since } from './age.js';
import { parseKubeTime } from '../time.js';
import { AGE, NAME, col, wide } from './columns.js';
import type { Cell, Printer, PrintContext, TableRowCondition } from './types.js';
import type { KubeObject } from '../object.js';

/** Reason the node lifecycle controller sets on pods of an unreachable node. */
const NODE_LOST_REASON = 'NodeLost';

const columns = [
  NAME,
  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
  col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE,
  wide('IP', 'string', 'The IP address allocated to the pod.'),
  wide('Node', 'string', 'The node the pod is bound to.'),
  wide('Nominated Node', 'string', 'The node the scheduler nominated for this pod after preemption.'),
  wide('Readiness Gates', 'string', 'Readiness gates whose condition is True, out of all gates.'),
] as const;

const succeededConditions: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const failedConditions: TableRowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

/** A sidecar: an init container that keeps running alongside the main containers. */
function isRestartable(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function hasCondition(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** Tracks a restart count and the latest `lastState.terminated.finishedAt` seen with it. */
class RestartTally {
  count = 0;
  last: number | undefined;

  add(cs: ContainerStatus): void {
    this.count += cs.restartCount ?? 0;
    const finished = parseKubeTime(cs.lastState?.terminated?.finishedAt);
    if (finished !== undefined && (this.last === undefined || finished > this.last)) this.last = finished;
  }

  format(now: number): string {
    if (this.count === 0 || this.last === undefined) return String(this.count);
    return `${this.count} (${humanDuration(now - this.last)} ago)`;
  }
}

/** The reason an init container's state gives, or undefined when it no longer blocks the pod. */
function initContainerReason(cs: ContainerStatus, index: number, total: number, spec: Container | undefined): string | undefined {
  const terminated = cs.state?.terminated;
  if (terminated && terminated.exitCode === 0) return undefined;
  if (isRestartable(spec) && cs.started === true) return undefined;
  if (terminated) {
    if (terminated.reason) return `Init:${terminated.reason}`;
    return terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
  }
  const waiting = cs.state?.waiting?.reason;
  if (waiting && waiting !== 'PodInitializing') return `Init:${waiting}`;
  return `Init:${index}/${total}`;
}

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** READY, STATUS and RESTARTS of a pod at time `now`. */
export function summarizePod(pod: Pod, now: number): PodSummary {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = new Map((spec?.initContainers ?? []).map((c) => [c.name, c]));
  const total = (spec?.containers ?? []).length + [...initSpecs.values()].filter(isRestartable).length;
  let ready = 0;
  let reason = status.reason || status.phase || '';
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const all = new RestartTally();
  const sidecars = new RestartTally();
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as ContainerStatus;
    const cspec = initSpecs.get(cs.name);
    all.add(cs);
    if (isRestartable(cspec)) sidecars.add(cs);
    const r = initContainerReason(cs, i, (spec?.initContainers ?? []).length, cspec);
    if (r === undefined) {
      // A started sidecar counts towards READY like a main container.
      if (isRestartable(cspec) && cs.started === true && cs.ready) ready++;
      continue;
    }
    reason = r;
    initializing = true;
    break;
  }

  let restarts = all;
  if (!initializing || hasCondition(status.conditions, 'Initialized')) {
    // Once initialised, only sidecar restarts still matter among the init containers.
    restarts = sidecars;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // Last to first, so that the first container's state wins the STATUS cell.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as ContainerStatus;
      restarts.add(cs);
      const st = cs.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (cs.ready && st.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === NODE_LOST_REASON) reason = 'Unknown';
    else if (status.phase !== 'Succeeded' && status.phase !== 'Failed') reason = 'Terminating';
  }
  return { ready: `${ready}/${total}`, status: reason, restarts: restarts.format(now) };
}

function readinessGates(pod: Pod): string {
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions = pod.status?.conditions ?? [];
  const passed = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${passed}/${gates.length}`;
}

function row(obj: KubeObject, ctx: PrintContext): { cells: Cell[]; conditions?: TableRowCondition[] } {
  const pod = obj as Pod;
  const s = summarizePod(pod, ctx.now);
  const ip = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>';
  const cells: Cell[] = [
    pod.metadata?.name ?? '', s.ready, s.status, s.restarts, since(pod.metadata?.creationTimestamp, ctx.now),
    ip, pod.spec?.nodeName || '<none>', pod.status?.nominatedNodeName || '<none>', readinessGates(pod),
  ];
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return { cells, conditions: succeededConditions };
  if (phase === 'Failed') return { cells, conditions: failedConditions };
  return { cells };
}

export const podPrinter: Printer = { columns, row };

// Rows of the apps/v1 workload kinds: Deployment, ReplicaSet, DaemonSet, StatefulSet, with
// Kubernetes 1.32's columns. Guarantees: counts come from status (absent = 0) and desired
// replicas from spec (absent = 1, the API default); wide columns list the pod template's
// containers, images and selector exactly as `kubectl get -o wide` does, including the
// difference between Deployment (empty selector prints '') and ReplicaSet/DaemonSet (`<none>`).
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import { since } from './age.js';
import { AGE, CONTAINERS, IMAGES, NAME, col, wide } from './columns.js';
import { containerCells, formatLabelSelector, formatLabels, selectorString } from './format.js';
import type { Printer } from './types.js';

const SELECTOR = wide('Selector', 'string', 'Label query over the pods this object manages.');

export const deploymentPrinter: Printer = {
  columns: [
    NAME,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of pods targeted by this deployment that have the desired template.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds).'),
    AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  row(obj, ctx) {
    const d = obj as Deployment;
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [
        d.metadata?.name ?? '',
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        since(d.metadata?.creationTimestamp, ctx.now),
        names, images, selectorString(d.spec?.selector) ?? '<invalid>',
      ],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 'Number of desired pods.'),
    col('Current', 'integer', 'The most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of pods targeted by this ReplicaSet with a Ready condition.'),
    AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  row(obj, ctx) {
    const rs = obj as ReplicaSet;
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return {
      cells: [
        rs.metadata?.name ?? '', rs.spec?.replicas ?? 1, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0,
        since(rs.metadata?.creationTimestamp, ctx.now), names, images, formatLabelSelector(rs.spec?.selector),
      ],
    };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    NAME,
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', 'The number of nodes running at least one daemon pod that are supposed to.'),
    col('Ready', 'integer', 'The number of nodes whose daemon pod is ready.'),
    col('Up-to-date', 'integer', 'The number of nodes running the updated daemon pod.'),
    col('Available', 'integer', 'The number of nodes whose daemon pod is available.'),
    col('Node Selector', 'string', 'The node selector of the pod template.'),
    AGE, CONTAINERS, IMAGES, SELECTOR,
  ],
  row(obj, ctx) {
    const ds = obj as DaemonSet;
    const st = ds.status;
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return {
      cells: [
        ds.metadata?.name ?? '', st?.desiredNumberScheduled ?? 0, st?.currentNumberScheduled ?? 0, st?.numberReady ?? 0,
        st?.updatedNumberScheduled ?? 0, st?.numberAvailable ?? 0, formatLabels(ds.spec?.template?.spec?.nodeSelector),
        since(ds.metadata?.creationTimestamp, ctx.now), names, images, formatLabelSelector(ds.spec?.selector),
      ],
    };
  },
};

export const statefulSetPrinter: Printer = {
  columns: [NAME, col('Ready', 'string', 'Number of the pod with ready state'), AGE, CONTAINERS, IMAGES],
  row(obj, ctx) {
    const ss = obj as StatefulSet;
    const [names, images] = containerCells(ss.spec?.template?.spec?.containers);
    return {
      cells: [
        ss.metadata?.name ?? '', `${ss.status?.readyReplicas ?? 0}/${ss.spec?.replicas ?? 1}`,
        since(ss.metadata?.creationTimestamp, ctx.now), names, images,
      ],
    };
  },
};

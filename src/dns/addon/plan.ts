// What the DNS add-on reconciler writes, from the desired objects (manifests.ts) and what the API
// holds now. Guarantees: pure; nothing is written while the observed state is what we want, so
// several servers running the same plan converge instead of fighting; objects being deleted are
// left alone until they are gone (then they are created again). What is reconciled, and what is
// left to the operator:
// - Secret: created when absent, replaced when its kubeconfig is unusable (why: the caller's
//   check — another CA, expiring, a server no longer published).
// - Service: created when absent; ports and selector put back; a Service on another ClusterIP
//   is deleted (the address is immutable) and created again on the next round.
// - Deployment: created when absent; scaled back to DNS_REPLICAS when scaled to 0; its pods'
//   anti-affinity switched between required and preferred as the node count asks. Any other
//   change (replicas ≥ 1, resources, flags) is the operator's and is kept.
// Does not: write (reconciler.ts does, compare-and-swap on the resourceVersion read).
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { DNS_REPLICAS, dnsAffinity, observedAffinityMode } from './manifests.js';

export type SecretState = { state: 'valid' } | { state: 'absent' } | { state: 'unusable'; why: string; resourceVersion: string };

export interface AddonObserved {
  service: Service | undefined;
  deployment: Deployment | undefined;
  secret: SecretState;
}

export interface AddonDesired {
  service: Service;
  deployment: Deployment;
}

export type AddonAction =
  | { kind: 'issue-secret'; why: string; resourceVersion?: string }
  | { kind: 'create'; what: 'service'; object: Service }
  | { kind: 'create'; what: 'deployment'; object: Deployment }
  | { kind: 'update'; what: 'service'; object: Service; why: string }
  | { kind: 'update'; what: 'deployment'; object: Deployment; why: string }
  | { kind: 'delete'; what: 'service'; uid: string; why: string };

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function normalizedPorts(s: Service): unknown {
  return (s.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort }));
}

export function planAddon(desired: AddonDesired, observed: AddonObserved): AddonAction[] {
  const out: AddonAction[] = [];
  const sec = observed.secret;
  if (sec.state === 'absent') out.push({ kind: 'issue-secret', why: 'the DNS kubeconfig Secret is missing' });
  if (sec.state === 'unusable') out.push({ kind: 'issue-secret', why: sec.why, resourceVersion: sec.resourceVersion });

  const svc = observed.service;
  if (!svc) {
    out.push({ kind: 'create', what: 'service', object: desired.service });
  } else if (!svc.metadata?.deletionTimestamp) {
    if (svc.spec?.clusterIP !== desired.service.spec?.clusterIP) {
      out.push({ kind: 'delete', what: 'service', uid: svc.metadata?.uid ?? '', why: `it has ClusterIP ${svc.spec?.clusterIP ?? 'none'}, not ${desired.service.spec?.clusterIP}` });
    } else if (!same(normalizedPorts(svc), normalizedPorts(desired.service)) || !same(svc.spec?.selector, desired.service.spec?.selector)) {
      out.push({ kind: 'update', what: 'service', why: 'its ports or selector changed', object: { ...svc, spec: { ...svc.spec, ports: desired.service.spec?.ports, selector: desired.service.spec?.selector } } });
    }
  }

  const dep = observed.deployment;
  if (!dep) {
    out.push({ kind: 'create', what: 'deployment', object: desired.deployment });
  } else if (!dep.metadata?.deletionTimestamp && dep.spec) {
    const why: string[] = [];
    let spec = dep.spec;
    if (spec.replicas === 0) {
      why.push(`scaled to 0: back to ${DNS_REPLICAS}`);
      spec = { ...spec, replicas: DNS_REPLICAS };
    }
    const want = observedAffinityMode(desired.deployment);
    if (want && observedAffinityMode(dep) !== want) {
      why.push(`anti-affinity ${want}`);
      spec = { ...spec, template: { ...spec.template, spec: { containers: [], ...spec.template.spec, affinity: { ...spec.template.spec?.affinity, podAntiAffinity: dnsAffinity(want).podAntiAffinity } } } };
    }
    if (why.length > 0) out.push({ kind: 'update', what: 'deployment', why: why.join('; '), object: { ...dep, spec } });
  }
  return out;
}

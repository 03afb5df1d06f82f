// The cluster DNS add-on as Kubernetes objects: the `kube-system/coredns` Deployment (2 replicas
// of `trireme dns`, label `k8s-app: kube-dns`), the `kube-system/kube-dns` Service on the fixed
// address `dnsServiceIp(range)`, and the Secret holding the DNS replicas' kubeconfig.
// Guarantees: pure; the same inputs give the same objects, so every server computes the same
// desired state. Pod anti-affinity on `kubernetes.io/hostname` is required when at least two
// nodes are schedulable (two replicas never share a node, so one node's death leaves one
// replica answering) and preferred with fewer (a one-node cluster still runs both). Rollouts
// replace one replica at a time without a surge (a surge pod could never be placed under
// required anti-affinity on two nodes). On the process runtime each containerPort is a host
// port of its own, so UDP (`dns`) and TCP (`dns-tcp`) are two ports, passed as PORT_DNS and
// PORT_DNS_TCP; the replica listens on them on the pod IP (= the node IP).
// Does not: decide when to write (plan.ts), or know where trireme lives (the caller passes the
// command, resolved from the running installation).
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Affinity, Secret, Service } from 'kubernetes-types/core/v1.js';
import { SYSTEM_NAMESPACE } from '../../api/namespaces.js';
import { dnsServiceIp, type ServiceRange } from '../../api/service-range.js';

export const DNS_DEPLOYMENT = 'coredns';
export const DNS_SERVICE = 'kube-dns';
export const DNS_SECRET = 'trireme-dns-kubeconfig';
export const DNS_SECRET_KEY = 'kubeconfig';
export const DNS_REPLICAS = 2;
export const DNS_APP_LABEL = { 'k8s-app': 'kube-dns' } as const;
/** Marks the objects this add-on owns. */
export const ADDON_LABEL = 'trireme.io/addon';
/** The DNS replicas' user; their group is DNS_GROUP of src/apiserver/auth.ts (read Services, Endpoints, Pods). */
export const DNS_USER = 'system:trireme-dns';
const HOSTNAME_KEY = 'kubernetes.io/hostname';

export interface AddonInput {
  serviceRange: ServiceRange;
  clusterDomain: string;
  /** How to run this installation's trireme, e.g. [process.execPath, <root>/bin/trireme]. */
  trireme: readonly string[];
  /** Recorded as the container image (the process runtime runs `command` on the host). */
  image: string;
  /** Nodes that take new pods (not cordoned). */
  schedulableNodes: number;
}

const labels = { ...DNS_APP_LABEL, [ADDON_LABEL]: 'dns' };

export function dnsService(input: Pick<AddonInput, 'serviceRange'>): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: DNS_SERVICE, namespace: SYSTEM_NAMESPACE, labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      selector: { ...DNS_APP_LABEL },
      clusterIP: dnsServiceIp(input.serviceRange),
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp' },
      ],
    },
  };
}

/** 'required' with two schedulable nodes or more, else 'preferred'. */
export function antiAffinityMode(schedulableNodes: number): 'required' | 'preferred' {
  return schedulableNodes >= 2 ? 'required' : 'preferred';
}

export function dnsAffinity(mode: 'required' | 'preferred'): Affinity {
  const term = { labelSelector: { matchLabels: { ...DNS_APP_LABEL } }, topologyKey: HOSTNAME_KEY };
  return {
    podAntiAffinity: mode === 'required'
      ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
      : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
  };
}

/** Which anti-affinity a Deployment's pods have now (undefined: none of ours). */
export function observedAffinityMode(d: Deployment): 'required' | 'preferred' | undefined {
  const anti = d.spec?.template.spec?.affinity?.podAntiAffinity;
  if (anti?.requiredDuringSchedulingIgnoredDuringExecution?.length) return 'required';
  if (anti?.preferredDuringSchedulingIgnoredDuringExecution?.length) return 'preferred';
  return undefined;
}

export function dnsDeployment(input: AddonInput): Deployment {
  const args = [
    ...input.trireme.slice(1), 'dns',
    '--kubeconfig', `$(TRIREME_VOLUME_KUBECONFIG)/${DNS_SECRET_KEY}`,
    '--listen', '$(POD_IP):$(PORT_DNS)',
    '--tcp-listen', '$(POD_IP):$(PORT_DNS_TCP)',
    '--cluster-domain', input.clusterDomain,
    '--service-cluster-ip-range', input.serviceRange.cidr,
    // In the container's own directory: a restarted replica still knows every API server.
    '--servers-file', 'servers.json',
    '--log-format', 'json',
  ];
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: DNS_DEPLOYMENT, namespace: SYSTEM_NAMESPACE, labels: { ...labels, 'kubernetes.io/name': 'CoreDNS' } },
    spec: {
      replicas: DNS_REPLICAS,
      selector: { matchLabels: { ...DNS_APP_LABEL } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          affinity: dnsAffinity(antiAffinityMode(input.schedulableNodes)),
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
          ],
          terminationGracePeriodSeconds: 10,
          volumes: [{ name: 'kubeconfig', secret: { secretName: DNS_SECRET, defaultMode: 0o400 } }],
          containers: [{
            name: 'dns', image: input.image,
            command: [input.trireme[0]!], args,
            ports: [
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
              { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
            ],
            // It binds only once its caches are filled: accepting TCP means it knows the cluster.
            readinessProbe: { tcpSocket: { port: 'dns-tcp' }, periodSeconds: 2, failureThreshold: 2 },
            resources: { requests: { cpu: '100m', memory: '70Mi' } },
            volumeMounts: [{ name: 'kubeconfig', mountPath: '/etc/trireme-dns', readOnly: true }],
          }],
        },
      },
    },
  };
}

export function dnsSecret(kubeconfig: string): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: DNS_SECRET, namespace: SYSTEM_NAMESPACE, labels: { ...labels } },
    data: { [DNS_SECRET_KEY]: Buffer.from(kubeconfig, 'utf8').toString('base64') },
  };
}

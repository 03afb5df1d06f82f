// Defaults of core/v1 kinds other than Pods as Kubernetes 1.32 applies them. Guarantees:
// Service (type ClusterIP, sessionAffinity None (+ClientIP timeout 10800), port protocol
// TCP, targetPort = port, external/internal traffic policies, LoadBalancer node ports,
// single-stack IP family), Secret (type Opaque, stringData merged into data), Namespace
// (metadata.name label, finalizer `kubernetes`, phase Active), Node (allocatable =
// capacity), Endpoints (port protocol TCP), EndpointSlice (port name "", protocol TCP). Does
// not: allocate clusterIPs or nodePorts.
import { NAMESPACE_FINALIZER } from '../finalizers.js';
import { asObj, ensureObj, objList, setDefault, type Obj } from '../validation/access.js';

export function defaultService(obj: Obj): void {
  const spec = ensureObj(obj, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') {
    delete spec.sessionAffinityConfig;
  } else if (spec.sessionAffinity === 'ClientIP') {
    const clientIP = ensureObj(ensureObj(spec, 'sessionAffinityConfig'), 'clientIP');
    setDefault(clientIP, 'timeoutSeconds', 10800);
  }
  for (const p of objList(spec.ports)) {
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  const type = spec.type;
  if (type === 'NodePort' || type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (type !== 'ExternalName') {
    // Trireme's clusters are single-stack; the family follows a requested clusterIP if any.
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    const ip = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = [ip.includes(':') ? 'IPv6' : 'IPv4'];
  }
}

/**
 * Secret: type Opaque; `stringData` (write-only convenience) is merged into `data` as base64
 * and dropped, which Kubernetes does when converting the request.
 */
export function defaultSecret(obj: Obj): void {
  setDefault(obj, 'type', 'Opaque');
  const stringData = asObj(obj.stringData);
  if (stringData) {
    const data = ensureObj(obj, 'data');
    for (const [k, v] of Object.entries(stringData)) {
      if (typeof v === 'string') data[k] = Buffer.from(v, 'utf8').toString('base64');
    }
  }
  delete obj.stringData;
}

export function defaultNamespace(obj: Obj): void {
  const meta = ensureObj(obj, 'metadata');
  if (typeof meta.name === 'string' && meta.name !== '') {
    ensureObj(meta, 'labels')['kubernetes.io/metadata.name'] = meta.name;
  }
  const spec = ensureObj(obj, 'spec');
  if (!Array.isArray(spec.finalizers)) spec.finalizers = [NAMESPACE_FINALIZER];
  setDefault(ensureObj(obj, 'status'), 'phase', 'Active');
}

export function defaultNode(obj: Obj): void {
  const status = asObj(obj.status);
  if (status && asObj(status.capacity) && !asObj(status.allocatable)) status.allocatable = { ...asObj(status.capacity) };
}

export function defaultEndpoints(obj: Obj): void {
  for (const s of objList(obj.subsets)) for (const p of objList(s.ports)) setDefault(p, 'protocol', 'TCP');
}

/** EndpointSlice ports: name "" and protocol TCP when unset (SetDefaults_EndpointPort). */
export function defaultEndpointSlice(obj: Obj): void {
  for (const p of objList(obj.ports)) {
    setDefault(p, 'name', '');
    setDefault(p, 'protocol', 'TCP');
  }
}

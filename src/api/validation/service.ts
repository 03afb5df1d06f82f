// Validation of core/v1 Services. Guarantees: type and sessionAffinity enums; ports present
// (except ExternalName and headless), each with a valid number, protocol, targetPort and
// DNS-1123 label name (required and unique when there are several), no duplicate
// port/protocol pairs, nodePort only where a node port exists; selector labels; clusterIP
// syntax; ExternalName rules; traffic and IP-family policy enums; on update a clusterIP that
// cannot change once set. Expects a defaulted Service. Does not: allocate or range-check
// clusterIPs and nodePorts (the API server's allocators do).
import type { FieldCause } from '../../errors.js';
import { asArr, asObj, asStr, objList, type Obj } from './access.js';
import { child, duplicate, forbidden, IMMUTABLE_MSG, index, inclusiveRange, invalid, invalidEach, notSupported, required } from './field.js';
import { validateLabels } from './meta.js';
import { checkDns1123Label, checkDns1123Subdomain, checkPortNum, isIP } from './names.js';
import { validatePortNumOrName } from './pod.js';

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const AFFINITIES = ['ClientIP', 'None'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const IP_FAMILIES = ['IPv4', 'IPv6'];

function isHeadless(spec: Obj): boolean {
  return spec.clusterIP === 'None';
}

function validatePorts(spec: Obj, type: string, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const ports = objList(spec.ports);
  if (ports.length === 0 && type !== 'ExternalName' && !isHeadless(spec)) causes.push(required(path));
  const names = new Set<string>();
  const pairs = new Set<string>();
  ports.forEach((p, i) => {
    const pp = index(path, i);
    const name = asStr(p.name) ?? '';
    if (name === '') {
      if (ports.length > 1) causes.push(required(child(pp, 'name')));
    } else {
      causes.push(...invalidEach(child(pp, 'name'), name, checkDns1123Label(name)));
      if (names.has(name)) causes.push(duplicate(child(pp, 'name'), name));
      names.add(name);
    }
    const port = p.port;
    if (typeof port !== 'number') causes.push(required(child(pp, 'port')));
    else causes.push(...invalidEach(child(pp, 'port'), port, checkPortNum(port)));
    const proto = asStr(p.protocol) ?? '';
    if (proto === '') causes.push(required(child(pp, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) causes.push(notSupported(child(pp, 'protocol'), proto, PROTOCOLS));
    if (p.targetPort !== undefined && p.targetPort !== null) {
      causes.push(...validatePortNumOrName(p.targetPort, child(pp, 'targetPort')));
    }
    const nodePort = p.nodePort;
    if (typeof nodePort === 'number' && nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') {
        causes.push(forbidden(child(pp, 'nodePort'), `may not be used when \`type\` is '${type}'`));
      } else if (!(Number.isInteger(nodePort) && nodePort >= 1 && nodePort <= 65535)) {
        causes.push(invalid(child(pp, 'nodePort'), nodePort, inclusiveRange(1, 65535)));
      }
    }
    const pair = `${String(port)}/${proto}`;
    if (pairs.has(pair)) causes.push(duplicate(pp, { port, protocol: proto }));
    pairs.add(pair);
  });
  return causes;
}

export function validateServiceSpec(spec: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const type = asStr(spec.type) ?? '';
  if (type === '') causes.push(required(child(path, 'type')));
  else if (!TYPES.includes(type)) causes.push(notSupported(child(path, 'type'), type, TYPES));
  causes.push(...validatePorts(spec, type, child(path, 'ports')));
  const affinity = asStr(spec.sessionAffinity) ?? '';
  if (affinity === '') causes.push(required(child(path, 'sessionAffinity')));
  else if (!AFFINITIES.includes(affinity)) causes.push(notSupported(child(path, 'sessionAffinity'), affinity, AFFINITIES));
  const timeout = asObj(asObj(asObj(spec.sessionAffinityConfig)?.clientIP))?.timeoutSeconds;
  if (affinity === 'ClientIP' && timeout !== undefined && !(typeof timeout === 'number' && timeout >= 1 && timeout <= 86400)) {
    causes.push(invalid(child(path, 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds'), timeout, inclusiveRange(1, 86400)));
  }
  causes.push(...validateLabels(spec.selector, child(path, 'selector')));
  const clusterIP = asStr(spec.clusterIP) ?? '';
  if (type === 'ExternalName') {
    const en = (asStr(spec.externalName) ?? '').replace(/\.$/, '');
    if (en === '') causes.push(required(child(path, 'externalName')));
    else causes.push(...invalidEach(child(path, 'externalName'), spec.externalName, checkDns1123Subdomain(en)));
    if (clusterIP !== '') causes.push(forbidden(child(path, 'clusterIP'), 'may not be set for ExternalName services'));
  } else if (clusterIP !== '' && clusterIP !== 'None' && !isIP(clusterIP)) {
    causes.push(invalid(child(path, 'clusterIP'), clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  }
  (asArr(spec.clusterIPs) ?? []).forEach((ip, i) => {
    const s = asStr(ip) ?? '';
    if (s !== 'None' && !isIP(s)) causes.push(invalid(index(child(path, 'clusterIPs'), i), ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  const first = asStr((asArr(spec.clusterIPs) ?? [])[0]);
  if (first !== undefined && clusterIP !== '' && first !== clusterIP) {
    causes.push(invalid(child(path, 'clusterIPs'), spec.clusterIPs, 'first value must match `clusterIP`'));
  }
  const etp = asStr(spec.externalTrafficPolicy) ?? '';
  if (etp !== '') {
    if (type !== 'NodePort' && type !== 'LoadBalancer') {
      causes.push(invalid(child(path, 'externalTrafficPolicy'), etp, 'may only be set for externally-accessible services'));
    } else if (!TRAFFIC_POLICIES.includes(etp)) {
      causes.push(notSupported(child(path, 'externalTrafficPolicy'), etp, TRAFFIC_POLICIES));
    }
  }
  const itp = asStr(spec.internalTrafficPolicy) ?? '';
  if (itp !== '' && !TRAFFIC_POLICIES.includes(itp)) causes.push(notSupported(child(path, 'internalTrafficPolicy'), itp, TRAFFIC_POLICIES));
  const ifp = asStr(spec.ipFamilyPolicy) ?? '';
  if (ifp !== '' && !IP_FAMILY_POLICIES.includes(ifp)) causes.push(notSupported(child(path, 'ipFamilyPolicy'), ifp, IP_FAMILY_POLICIES));
  (asArr(spec.ipFamilies) ?? []).forEach((f, i) => {
    if (!IP_FAMILIES.includes(asStr(f) ?? '')) causes.push(notSupported(index(child(path, 'ipFamilies'), i), f, IP_FAMILIES));
  });
  return causes;
}

/**
 * A clusterIP cannot change once set (ExternalName services have none, so moving to or from
 * that type is exempt). Kubernetes' registry copies the allocated clusterIP into an update
 * that omits it before validating; callers should do the same.
 */
export function validateServiceUpdate(spec: Obj, old: Obj, path: string): FieldCause[] {
  const oldIP = asStr(old.clusterIP) ?? '';
  const newIP = asStr(spec.clusterIP) ?? '';
  if (old.type === 'ExternalName' || spec.type === 'ExternalName') return [];
  if (oldIP !== '' && newIP !== oldIP) return [invalid(child(path, 'clusterIP'), newIP, IMMUTABLE_MSG)];
  return [];
}

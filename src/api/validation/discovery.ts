// Validation of discovery.k8s.io/v1 EndpointSlices (Kubernetes' ValidateEndpointSlice).
// Guarantees: addressType required, one of IPv4/IPv6/FQDN and immutable on update; at most
// 1000 endpoints, each with 1–100 addresses valid for the address type, a DNS-1123 label
// hostname, a DNS-1123 subdomain nodeName; at most 20000 ports, each with a unique DNS-1123
// label name (empty allowed), a supported protocol, a port in 1–65535 when set and a qualified
// appProtocol. Expects a defaulted object. Does not: validate hints, zones or
// deprecatedTopology, or check that the addresses belong to any pod.
import type { FieldCause } from '../../errors.js';
import { asStr, objList, type Obj } from './access.js';
import { child, duplicate, IMMUTABLE_MSG, index, invalid, invalidEach, notSupported, required, tooMany } from './field.js';
import { checkDns1123Label, checkDns1123Subdomain, checkPortNum, checkQualifiedName, isIP } from './names.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;

function addressProblems(type: string, a: string): string[] {
  switch (type) {
    case 'IPv4': return isIP(a) && !a.includes(':') ? [] : ['must be a valid IPv4 address'];
    case 'IPv6': return isIP(a) && a.includes(':') ? [] : ['must be a valid IPv6 address'];
    case 'FQDN': return checkDns1123Subdomain(a);
    default: return [];
  }
}

function validateEndpoints(slice: Obj, type: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const endpoints = objList(slice.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) causes.push(tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  endpoints.forEach((e, i) => {
    const ep = index('endpoints', i);
    const addresses = Array.isArray(e.addresses) ? e.addresses : [];
    if (addresses.length === 0) causes.push(required(child(ep, 'addresses'), 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) causes.push(tooMany(child(ep, 'addresses'), addresses.length, MAX_ADDRESSES));
    addresses.forEach((a, j) => {
      const text = typeof a === 'string' ? a : '';
      causes.push(...invalidEach(index(child(ep, 'addresses'), j), a, addressProblems(type, text)));
    });
    const hostname = asStr(e.hostname);
    if (hostname !== undefined) causes.push(...invalidEach(child(ep, 'hostname'), hostname, checkDns1123Label(hostname)));
    const nodeName = asStr(e.nodeName);
    if (nodeName !== undefined) causes.push(...invalidEach(child(ep, 'nodeName'), nodeName, checkDns1123Subdomain(nodeName)));
  });
  return causes;
}

function validatePorts(slice: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const ports = objList(slice.ports);
  if (ports.length > MAX_PORTS) causes.push(tooMany('ports', ports.length, MAX_PORTS));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pp = index('ports', i);
    const name = asStr(p.name) ?? '';
    if (name !== '') causes.push(...invalidEach(child(pp, 'name'), name, checkDns1123Label(name)));
    if (names.has(name)) causes.push(duplicate(child(pp, 'name'), name));
    names.add(name);
    const proto = asStr(p.protocol) ?? '';
    if (proto === '') causes.push(required(child(pp, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) causes.push(notSupported(child(pp, 'protocol'), proto, PROTOCOLS));
    if (p.port !== undefined && p.port !== null) {
      if (typeof p.port !== 'number') causes.push(invalid(child(pp, 'port'), p.port, 'must be an integer'));
      else causes.push(...invalidEach(child(pp, 'port'), p.port, checkPortNum(p.port)));
    }
    const app = asStr(p.appProtocol);
    if (app !== undefined) causes.push(...invalidEach(child(pp, 'appProtocol'), app, checkQualifiedName(app)));
  });
  return causes;
}

export function validateEndpointSlice(slice: Obj): FieldCause[] {
  const type = asStr(slice.addressType) ?? '';
  const causes: FieldCause[] = [];
  if (type === '') causes.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) causes.push(notSupported('addressType', type, ADDRESS_TYPES));
  causes.push(...validateEndpoints(slice, type), ...validatePorts(slice));
  return causes;
}

export function validateEndpointSliceUpdate(slice: Obj, old: Obj): FieldCause[] {
  return slice.addressType === old.addressType ? [] : [invalid('addressType', slice.addressType, IMMUTABLE_MSG)];
}

// Validation of the smaller kinds: Node, Lease, Events (core/v1 and events.k8s.io/v1),
// Endpoints. Guarantees: the structural rules Trireme's components rely on (taint syntax,
// lease durations, an event's subject and reporter, endpoint addresses and ports).
// Does not: validate Node status or conditions (agents own them) beyond their shape.
import type { FieldCause } from '../../errors.js';
import { asObj, asStr, objList, type Obj } from './access.js';
import { child, index, invalid, invalidEach, NEGATIVE_MSG, notSupported, required } from './field.js';
import { checkDns1123Label, checkPortNum, checkQualifiedName, checkLabelValue, isIP } from './names.js';

const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const EVENT_TYPES = ['Normal', 'Warning'];

export function validateNodeSpec(spec: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  objList(spec.taints).forEach((t, i) => {
    const p = index('spec.taints', i);
    const k = asStr(t.key) ?? '';
    causes.push(...invalidEach(child(p, 'key'), k, checkQualifiedName(k)));
    const v = asStr(t.value) ?? '';
    if (v !== '') causes.push(...invalidEach(child(p, 'value'), v, checkLabelValue(v)));
    const effect = asStr(t.effect) ?? '';
    if (effect === '') causes.push(required(child(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(effect)) causes.push(notSupported(child(p, 'effect'), effect, TAINT_EFFECTS));
  });
  return causes;
}

export function validateLeaseSpec(spec: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && d !== null && !(typeof d === 'number' && Number.isInteger(d) && d > 0)) {
    causes.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
  }
  const t = spec.leaseTransitions;
  if (t !== undefined && t !== null && !(typeof t === 'number' && Number.isInteger(t) && t >= 0)) {
    causes.push(invalid('spec.leaseTransitions', t, NEGATIVE_MSG));
  }
  for (const f of ['holderIdentity', 'acquireTime', 'renewTime', 'strategy', 'preferredHolder']) {
    const v = spec[f];
    if (v !== undefined && v !== null && typeof v !== 'string') causes.push(invalid(child('spec', f), v, 'must be a string'));
  }
  return causes;
}

function hasReference(ref: unknown): boolean {
  const r = asObj(ref);
  return r !== undefined && Object.values(r).some((v) => v !== undefined && v !== null && v !== '');
}

/** core/v1 Event: the object it is about must be named, and live in the event's namespace. */
export function validateCoreEvent(ev: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!hasReference(ev.involvedObject)) {
    causes.push(required('involvedObject'));
    return causes;
  }
  const ns = asStr(asObj(ev.metadata)?.namespace) ?? '';
  const ins = asStr(asObj(ev.involvedObject)?.namespace) ?? '';
  if (ins !== '' && ns !== '' && ins !== ns) causes.push(invalid('involvedObject.namespace', ins, 'does not match event.namespace'));
  // Legacy events accept any `type` string, so it is not checked here.
  return causes;
}

/** events.k8s.io/v1 Event: subject, reporter, action, reason and time are required. */
export function validateEventsEvent(ev: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  if (!hasReference(ev.regarding)) causes.push(required('regarding'));
  const ctrl = asStr(ev.reportingController) ?? '';
  if (ctrl === '') causes.push(required('reportingController'));
  else causes.push(...invalidEach('reportingController', ctrl, checkQualifiedName(ctrl)));
  for (const f of ['reportingInstance', 'action', 'reason', 'eventTime']) {
    if ((asStr(ev[f]) ?? '') === '') causes.push(required(f));
  }
  for (const [f, max] of [['reportingInstance', 128], ['action', 128], ['reason', 128], ['note', 1024]] as const) {
    const v = asStr(ev[f]) ?? '';
    if (v.length > max) causes.push(invalid(f, '', `can have at most ${max} characters`));
  }
  const type = asStr(ev.type) ?? '';
  if (type === '') causes.push(required('type'));
  else if (!EVENT_TYPES.includes(type)) causes.push(notSupported('type', type, EVENT_TYPES));
  return causes;
}

export function validateEndpoints(ep: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  objList(ep.subsets).forEach((s, i) => {
    const sp = index('subsets', i);
    for (const field of ['addresses', 'notReadyAddresses']) {
      objList(s[field]).forEach((a, j) => {
        const ip = asStr(a.ip) ?? '';
        if (!isIP(ip)) causes.push(invalid(child(index(child(sp, field), j), 'ip'), ip, 'must be a valid IP address'));
      });
    }
    const ports = objList(s.ports);
    ports.forEach((p, j) => {
      const pp = index(child(sp, 'ports'), j);
      const name = asStr(p.name) ?? '';
      if (name === '' && ports.length > 1) causes.push(required(child(pp, 'name')));
      if (name !== '') causes.push(...invalidEach(child(pp, 'name'), name, checkDns1123Label(name)));
      const port = p.port;
      if (typeof port !== 'number') causes.push(required(child(pp, 'port')));
      else causes.push(...invalidEach(child(pp, 'port'), port, checkPortNum(port)));
      const proto = asStr(p.protocol) ?? '';
      if (proto === '') causes.push(required(child(pp, 'protocol')));
      else if (!PROTOCOLS.includes(proto)) causes.push(notSupported(child(pp, 'protocol'), proto, PROTOCOLS));
    });
  });
  return causes;
}

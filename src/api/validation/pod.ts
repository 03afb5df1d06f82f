// Validation of PodSpec and PodTemplateSpec, following Kubernetes' core validation for the
// fields Trireme's runtime acts on. Guarantees: containers present with unique DNS-1123
// label names (across containers and initContainers), images, ports (range, protocol, IANA
// names unique per container), env and envFrom, volume names unique with exactly one source,
// volumeMounts that name existing volumes, probes with exactly one handler and sane
// thresholds, resources (valid, non-negative quantities; requests ≤ limits), enum fields
// (restartPolicy, dnsPolicy, imagePullPolicy, terminationMessagePolicy). Expects a defaulted
// spec (enum fields Required when empty). Does not: validate affinity, tolerations,
// security contexts, topology spread, or the per-plugin details of exotic volume sources.
import type { FieldCause } from '../../errors.js';
import { asArr, asNum, asObj, asStr, objList, type Obj } from './access.js';
import {
  child, duplicate, forbidden, index, inclusiveRange, invalid, invalidEach, key, NEGATIVE_MSG,
  notFound, notSupported, required,
} from './field.js';
import { validateObjectMeta } from './meta.js';
import {
  checkConfigMapKey, checkDns1123Label, checkDns1123Subdomain, checkEnvVarName, checkPortName,
  checkPortNum, checkQualifiedName, nameIsDns1123Subdomain,
} from './names.js';
import { parseQuantity, QUANTITY_REGEX_MSG } from './quantity.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const RESTART_POLICIES = ['Always', 'Never', 'OnFailure'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'];
const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];
const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

/** What containers of one pod check against: the pod's volume names. */
interface PodContext {
  volumeNames: Set<string>;
}

/** A non-negative integer field, if present. */
function nonNegative(o: Obj, name: string, path: string): FieldCause[] {
  const v = o[name];
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v)) return [invalid(child(path, name), v, 'must be an integer')];
  return v < 0 ? [invalid(child(path, name), v, NEGATIVE_MSG)] : [];
}

/** A port given as number or IANA name (targetPort, probe ports). */
export function validatePortNumOrName(port: unknown, path: string): FieldCause[] {
  if (typeof port === 'number') return invalidEach(path, port, checkPortNum(port));
  if (typeof port === 'string') {
    if (port === '') return [required(path)];
    return invalidEach(path, port, checkPortName(port));
  }
  return [required(path)];
}

function validateVolumes(volumes: unknown, path: string, ctx: PodContext): FieldCause[] {
  const causes: FieldCause[] = [];
  objList(volumes).forEach((v, i) => {
    const p = index(path, i);
    const name = asStr(v.name) ?? '';
    if (name === '') causes.push(required(child(p, 'name')));
    else causes.push(...invalidEach(child(p, 'name'), name, checkDns1123Label(name)));
    if (name !== '' && ctx.volumeNames.has(name)) causes.push(duplicate(child(p, 'name'), name));
    ctx.volumeNames.add(name);
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) causes.push(required(p, 'must specify a volume type'));
    for (const extra of sources.slice(1)) causes.push(forbidden(child(p, extra), 'may not specify more than 1 volume type'));
    causes.push(...validateVolumeSource(v, p));
  });
  return causes;
}

function validateDefaultMode(src: Obj, path: string): FieldCause[] {
  const m = src.defaultMode;
  if (m === undefined || m === null) return [];
  return typeof m === 'number' && Number.isInteger(m) && m >= 0 && m <= 0o777
    ? []
    : [invalid(child(path, 'defaultMode'), m, 'must be a number between 0 and 0777 (octal), both inclusive')];
}

function validateVolumeSource(v: Obj, p: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const cm = asObj(v.configMap);
  if (cm) {
    const cp = child(p, 'configMap');
    if (!asStr(cm.name)) causes.push(required(child(cp, 'name')));
    causes.push(...validateDefaultMode(cm, cp));
    causes.push(...validateKeyToPaths(cm.items, child(cp, 'items')));
  }
  const secret = asObj(v.secret);
  if (secret) {
    const sp = child(p, 'secret');
    if (!asStr(secret.secretName)) causes.push(required(child(sp, 'secretName')));
    causes.push(...validateDefaultMode(secret, sp));
    causes.push(...validateKeyToPaths(secret.items, child(sp, 'items')));
  }
  const hostPath = asObj(v.hostPath);
  if (hostPath && !asStr(hostPath.path)) causes.push(required(child(p, 'hostPath', 'path')));
  const pvc = asObj(v.persistentVolumeClaim);
  if (pvc && !asStr(pvc.claimName)) causes.push(required(child(p, 'persistentVolumeClaim', 'claimName')));
  const emptyDir = asObj(v.emptyDir);
  if (emptyDir && emptyDir.sizeLimit !== undefined && parseQuantity(emptyDir.sizeLimit) === undefined) {
    causes.push(invalid(child(p, 'emptyDir', 'sizeLimit'), emptyDir.sizeLimit, QUANTITY_REGEX_MSG));
  }
  return causes;
}

function validateKeyToPaths(items: unknown, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  objList(items).forEach((it, i) => {
    const p = index(path, i);
    const k = asStr(it.key) ?? '';
    if (k === '') causes.push(required(child(p, 'key')));
    const target = asStr(it.path) ?? '';
    if (target === '') causes.push(required(child(p, 'path')));
    else causes.push(...validateRelativePath(target, child(p, 'path')));
  });
  return causes;
}

function validateRelativePath(target: string, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  if (target.startsWith('/')) causes.push(invalid(path, target, 'must be a relative path'));
  if (target.split('/').includes('..')) causes.push(invalid(path, target, "must not contain '..'"));
  return causes;
}

function validatePorts(ports: unknown, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  // Port names are unique within a container (Kubernetes does not compare across containers).
  const names = new Set<string>();
  objList(ports).forEach((port, i) => {
    const p = index(path, i);
    const name = asStr(port.name) ?? '';
    if (name !== '') {
      causes.push(...invalidEach(child(p, 'name'), name, checkPortName(name)));
      if (names.has(name)) causes.push(duplicate(child(p, 'name'), name));
      names.add(name);
    }
    const cp = port.containerPort;
    if (cp === undefined || cp === null || cp === 0) causes.push(required(child(p, 'containerPort')));
    else if (typeof cp !== 'number') causes.push(invalid(child(p, 'containerPort'), cp, 'must be an integer'));
    else causes.push(...invalidEach(child(p, 'containerPort'), cp, checkPortNum(cp)));
    const hp = port.hostPort;
    if (typeof hp === 'number' && hp !== 0) causes.push(...invalidEach(child(p, 'hostPort'), hp, checkPortNum(hp)));
    const proto = asStr(port.protocol) ?? '';
    if (proto === '') causes.push(required(child(p, 'protocol')));
    else if (!PROTOCOLS.includes(proto)) causes.push(notSupported(child(p, 'protocol'), proto, PROTOCOLS));
  });
  return causes;
}

function validateEnv(env: unknown, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  objList(env).forEach((e, i) => {
    const p = index(path, i);
    const name = asStr(e.name) ?? '';
    if (name === '') causes.push(required(child(p, 'name')));
    else causes.push(...invalidEach(child(p, 'name'), name, checkEnvVarName(name)));
    const from = asObj(e.valueFrom);
    if (!from) return;
    const vp = child(p, 'valueFrom');
    if ((asStr(e.value) ?? '') !== '') causes.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    const refs = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((r) => asObj(from[r]));
    if (refs.length === 0) {
      causes.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (refs.length > 1) {
      causes.push(invalid(vp, '', 'may not have more than one field specified at a time'));
    }
    const fieldRef = asObj(from.fieldRef);
    if (fieldRef && !asStr(fieldRef.fieldPath)) causes.push(required(child(vp, 'fieldRef', 'fieldPath')));
    const resRef = asObj(from.resourceFieldRef);
    if (resRef && !asStr(resRef.resource)) causes.push(required(child(vp, 'resourceFieldRef', 'resource')));
    for (const r of ['configMapKeyRef', 'secretKeyRef']) {
      const ref = asObj(from[r]);
      if (!ref) continue;
      const k = asStr(ref.key) ?? '';
      if (k === '') causes.push(required(child(vp, r, 'key')));
      else causes.push(...invalidEach(child(vp, r, 'key'), k, checkConfigMapKey(k)));
      if (!asStr(ref.name)) causes.push(required(child(vp, r, 'name')));
    }
  });
  return causes;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  objList(envFrom).forEach((e, i) => {
    const p = index(path, i);
    const prefix = asStr(e.prefix) ?? '';
    if (prefix !== '') causes.push(...invalidEach(child(p, 'prefix'), prefix, checkEnvVarName(prefix)));
    const refs = ['configMapRef', 'secretRef'].filter((r) => asObj(e[r]));
    if (refs.length === 0) causes.push(invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (refs.length > 1) causes.push(invalid(p, '', 'may not have more than one field specified at a time'));
    for (const r of refs) {
      const name = asStr(asObj(e[r])?.name) ?? '';
      if (name === '') causes.push(required(child(p, r, 'name')));
      else causes.push(...invalidEach(child(p, r, 'name'), name, checkDns1123Subdomain(name)));
    }
  });
  return causes;
}

function validateVolumeMounts(mounts: unknown, path: string, ctx: PodContext): FieldCause[] {
  const causes: FieldCause[] = [];
  const seenPaths = new Set<string>();
  objList(mounts).forEach((m, i) => {
    const p = index(path, i);
    const name = asStr(m.name) ?? '';
    if (name === '') causes.push(required(child(p, 'name')));
    else if (!ctx.volumeNames.has(name)) causes.push(notFound(child(p, 'name'), name));
    const mountPath = asStr(m.mountPath) ?? '';
    if (mountPath === '') causes.push(required(child(p, 'mountPath')));
    else if (seenPaths.has(mountPath)) causes.push(invalid(child(p, 'mountPath'), mountPath, 'must be unique'));
    seenPaths.add(mountPath);
    const subPath = asStr(m.subPath) ?? '';
    if (subPath !== '') causes.push(...validateRelativePath(subPath, child(p, 'subPath')));
  });
  return causes;
}

function validateHandler(h: Obj, path: string, handlers: readonly string[]): FieldCause[] {
  const causes: FieldCause[] = [];
  const present = handlers.filter((k) => asObj(h[k]));
  if (present.length === 0) causes.push(required(path, 'must specify a handler type'));
  for (const extra of present.slice(1)) causes.push(forbidden(child(path, extra), 'may not specify more than 1 handler type'));
  const exec = asObj(h.exec);
  if (exec && (asArr(exec.command) ?? []).length === 0) causes.push(required(child(path, 'exec', 'command')));
  const httpGet = asObj(h.httpGet);
  if (httpGet) {
    causes.push(...validatePortNumOrName(httpGet.port, child(path, 'httpGet', 'port')));
    const scheme = asStr(httpGet.scheme) ?? '';
    if (scheme !== '' && scheme !== 'HTTP' && scheme !== 'HTTPS') {
      causes.push(notSupported(child(path, 'httpGet', 'scheme'), scheme, ['HTTP', 'HTTPS']));
    }
  }
  const tcp = asObj(h.tcpSocket);
  if (tcp) causes.push(...validatePortNumOrName(tcp.port, child(path, 'tcpSocket', 'port')));
  const grpc = asObj(h.grpc);
  if (grpc) {
    const port = grpc.port;
    if (typeof port !== 'number') causes.push(required(child(path, 'grpc', 'port')));
    else causes.push(...invalidEach(child(path, 'grpc', 'port'), port, checkPortNum(port)));
  }
  return causes;
}

function validateProbe(probe: unknown, path: string, mustSucceedOnce: boolean): FieldCause[] {
  const pr = asObj(probe);
  if (!pr) return [];
  const causes = validateHandler(pr, path, PROBE_HANDLERS);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    causes.push(...nonNegative(pr, f, path));
  }
  // Liveness and startup probes act on the first success, so more than one is meaningless.
  if (mustSucceedOnce && typeof pr.successThreshold === 'number' && pr.successThreshold !== 1) {
    causes.push(invalid(child(path, 'successThreshold'), pr.successThreshold, 'must be 1'));
  }
  return causes;
}

function validateResources(res: unknown, path: string): FieldCause[] {
  const r = asObj(res);
  if (!r) return [];
  const causes: FieldCause[] = [];
  const parsed: Record<'limits' | 'requests', Map<string, number>> = { limits: new Map(), requests: new Map() };
  for (const kind of ['limits', 'requests'] as const) {
    const list = asObj(r[kind]);
    if (!list) continue;
    for (const [name, q] of Object.entries(list)) {
      const p = key(child(path, kind), name);
      causes.push(...invalidEach(p, name, checkQualifiedName(name)));
      const v = parseQuantity(q);
      if (v === undefined) causes.push(invalid(p, q, QUANTITY_REGEX_MSG));
      else if (v < 0) causes.push(invalid(p, q, NEGATIVE_MSG));
      else parsed[kind].set(name, v);
    }
  }
  for (const [name, req] of parsed.requests) {
    const lim = parsed.limits.get(name);
    if (lim !== undefined && req > lim) {
      const limits = asObj(r.limits) ?? {};
      const reqs = asObj(r.requests) ?? {};
      causes.push(invalid(key(child(path, 'requests'), name), String(reqs[name]),
        `must be less than or equal to ${name} limit of ${String(limits[name])}`));
    }
  }
  return causes;
}

function validateContainer(c: Obj, p: string, ctx: PodContext, names: Set<string>, init: boolean): FieldCause[] {
  const causes: FieldCause[] = [];
  const name = asStr(c.name) ?? '';
  if (name === '') causes.push(required(child(p, 'name')));
  else {
    causes.push(...invalidEach(child(p, 'name'), name, checkDns1123Label(name)));
    if (names.has(name)) causes.push(duplicate(child(p, 'name'), name));
    names.add(name);
  }
  const image = asStr(c.image) ?? '';
  if (image === '') causes.push(required(child(p, 'image')));
  else if (image.trim() !== image) causes.push(invalid(child(p, 'image'), image, 'must not have leading or trailing whitespace'));
  const pull = asStr(c.imagePullPolicy) ?? '';
  if (pull === '') causes.push(required(child(p, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(pull)) causes.push(notSupported(child(p, 'imagePullPolicy'), pull, PULL_POLICIES));
  const tmp = asStr(c.terminationMessagePolicy) ?? '';
  if (tmp === '') causes.push(required(child(p, 'terminationMessagePolicy')));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) {
    causes.push(notSupported(child(p, 'terminationMessagePolicy'), tmp, TERMINATION_MESSAGE_POLICIES));
  }
  const restart = c.restartPolicy;
  // Only init containers may set restartPolicy, and only to Always (sidecars).
  const sidecar = init && restart === 'Always';
  if (restart !== undefined && restart !== null) {
    if (!init) causes.push(forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
    else if (restart !== 'Always') causes.push(notSupported(child(p, 'restartPolicy'), restart, ['Always']));
  }
  causes.push(...validatePorts(c.ports, child(p, 'ports')));
  causes.push(...validateEnv(c.env, child(p, 'env')));
  causes.push(...validateEnvFrom(c.envFrom, child(p, 'envFrom')));
  causes.push(...validateVolumeMounts(c.volumeMounts, child(p, 'volumeMounts'), ctx));
  for (const [probe, once] of [['livenessProbe', true], ['readinessProbe', false], ['startupProbe', true]] as const) {
    if (c[probe] === undefined || c[probe] === null) continue;
    if (init && !sidecar) causes.push(forbidden(child(p, probe), 'may not be set for init containers without restartPolicy=Always'));
    else causes.push(...validateProbe(c[probe], child(p, probe), once));
  }
  const lifecycle = asObj(c.lifecycle);
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop']) {
      const h = asObj(lifecycle[hook]);
      if (h) causes.push(...validateHandler(h, child(p, 'lifecycle', hook), LIFECYCLE_HANDLERS));
    }
  }
  causes.push(...validateResources(c.resources, child(p, 'resources')));
  return causes;
}

/**
 * Validates a PodSpec at `path` (e.g. `spec` or `spec.template.spec`). `extraVolumes` are
 * names volumeMounts may use besides spec.volumes (a StatefulSet's volumeClaimTemplates).
 */
export function validatePodSpec(spec: unknown, path: string, extraVolumes: readonly string[] = []): FieldCause[] {
  const s = asObj(spec);
  if (!s) return [required(path)];
  const causes: FieldCause[] = [];
  const ctx: PodContext = { volumeNames: new Set() };
  causes.push(...validateVolumes(s.volumes, child(path, 'volumes'), ctx));
  for (const v of extraVolumes) ctx.volumeNames.add(v);
  const containerNames = new Set<string>();
  const containers = objList(s.containers);
  if (containers.length === 0) causes.push(required(child(path, 'containers')));
  containers.forEach((c, i) => {
    causes.push(...validateContainer(c, index(child(path, 'containers'), i), ctx, containerNames, false));
  });
  // Regular containers first: a name shared with an init container is reported on the init container.
  objList(s.initContainers).forEach((c, i) => {
    causes.push(...validateContainer(c, index(child(path, 'initContainers'), i), ctx, containerNames, true));
  });
  const restart = asStr(s.restartPolicy) ?? '';
  if (restart === '') causes.push(required(child(path, 'restartPolicy')));
  else if (!RESTART_POLICIES.includes(restart)) causes.push(notSupported(child(path, 'restartPolicy'), restart, RESTART_POLICIES));
  const dns = asStr(s.dnsPolicy) ?? '';
  if (dns === '') causes.push(required(child(path, 'dnsPolicy')));
  else if (!DNS_POLICIES.includes(dns)) causes.push(notSupported(child(path, 'dnsPolicy'), dns, DNS_POLICIES));
  causes.push(...nonNegative(s, 'terminationGracePeriodSeconds', path));
  const ads = s.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && !(typeof ads === 'number' && Number.isInteger(ads) && ads >= 1 && ads <= 2147483647)) {
    causes.push(invalid(child(path, 'activeDeadlineSeconds'), ads, inclusiveRange(1, 2147483647)));
  }
  for (const f of ['nodeName', 'serviceAccountName']) {
    const v = asStr(s[f]) ?? '';
    if (v !== '') causes.push(...invalidEach(child(path, f), v, checkDns1123Subdomain(v)));
  }
  const hostname = asStr(s.hostname) ?? '';
  if (hostname !== '') causes.push(...invalidEach(child(path, 'hostname'), hostname, checkDns1123Label(hostname)));
  const subdomain = asStr(s.subdomain) ?? '';
  if (subdomain !== '') causes.push(...invalidEach(child(path, 'subdomain'), subdomain, checkDns1123Label(subdomain)));
  const ns = asObj(s.nodeSelector);
  if (ns) {
    for (const [k, v] of Object.entries(ns)) causes.push(...invalidEach(child(path, 'nodeSelector'), k, checkQualifiedName(k)), ...(typeof v === 'string' ? [] : [invalid(child(path, 'nodeSelector'), v, 'must be a string')]));
  }
  const prio = asNum(s.priority);
  if (s.priority !== undefined && prio === undefined) causes.push(invalid(child(path, 'priority'), s.priority, 'must be an integer'));
  return causes;
}

/** Validates a PodTemplateSpec at `path` (metadata has no name or namespace requirement). */
export function validatePodTemplateSpec(template: unknown, path: string, extraVolumes: readonly string[] = []): FieldCause[] {
  const t = asObj(template);
  if (!t) return [required(path)];
  const causes: FieldCause[] = [];
  const meta = asObj(t.metadata) ?? {};
  // Template metadata carries labels/annotations only; names come from the owning controller.
  const metaCauses = validateObjectMeta({ ...meta, name: 'x', namespace: 'x' }, { namespaced: true, nameCheck: nameIsDns1123Subdomain, path: child(path, 'metadata') });
  causes.push(...metaCauses);
  causes.push(...validatePodSpec(t.spec, child(path, 'spec'), extraVolumes));
  return causes;
}

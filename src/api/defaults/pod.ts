// Defaults of PodSpec and PodTemplateSpec as Kubernetes 1.32 applies them (what
// `kubectl get -o yaml` shows). Guarantees: pod-spec defaults (restartPolicy, dnsPolicy,
// terminationGracePeriodSeconds, schedulerName, securityContext), container defaults
// (imagePullPolicy from the tag, termination message path/policy, resources {}, port
// protocol), probe and handler defaults, env fieldRef apiVersion, volume defaults (emptyDir
// when no source, defaultMode 420, hostPath type ''); for Pods only (not templates, as in
// Kubernetes): enableServiceLinks, requests copied from limits, hostNetwork host ports.
// Does not: admission-time fields (priority, preemptionPolicy, tolerations, service
// account, projected token volume) — those are the API server's admission steps.
import { asObj, ensureObj, objList, setDefault, type Obj } from '../validation/access.js';

/** imagePullPolicy Kubernetes derives from an image reference: Always for `latest` (or no tag), else IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const at = image.indexOf('@');
  const hasDigest = at >= 0;
  const repo = hasDigest ? image.slice(0, at) : image;
  const lastSlash = repo.lastIndexOf('/');
  const colon = repo.lastIndexOf(':');
  // A colon before the last slash is a registry port, not a tag.
  const tag = colon > lastSlash ? repo.slice(colon + 1) : '';
  if (image === '') return 'IfNotPresent';
  if (tag === 'latest' || (tag === '' && !hasDigest)) return 'Always';
  return 'IfNotPresent';
}

function defaultHttpGet(h: Obj): void {
  const httpGet = asObj(h.httpGet);
  if (!httpGet) return;
  setDefault(httpGet, 'path', '/');
  setDefault(httpGet, 'scheme', 'HTTP');
}

function defaultProbe(probe: unknown): void {
  const p = asObj(probe);
  if (!p) return;
  // Zero means "unset" for these int32 fields in Kubernetes, so zero is defaulted too.
  for (const [f, v] of [['timeoutSeconds', 1], ['periodSeconds', 10], ['successThreshold', 1], ['failureThreshold', 3]] as const) {
    if (p[f] === undefined || p[f] === null || p[f] === 0) p[f] = v;
  }
  defaultHttpGet(p);
  const grpc = asObj(p.grpc);
  if (grpc && (grpc.service === undefined || grpc.service === null)) grpc.service = '';
}

function defaultFieldRef(holder: Obj | undefined): void {
  const ref = asObj(holder?.fieldRef);
  if (ref) setDefault(ref, 'apiVersion', 'v1');
  const res = asObj(holder?.resourceFieldRef);
  // divisor is a non-pointer Quantity in Go, so Kubernetes always serializes it ("0" when unset).
  if (res) setDefault(res, 'divisor', '0');
}

function defaultContainer(c: Obj): void {
  setDefault(c, 'imagePullPolicy', defaultPullPolicy(typeof c.image === 'string' ? c.image : ''));
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  // resources is a non-pointer struct in Go: it always appears, as {} when empty.
  if (!asObj(c.resources)) c.resources = {};
  for (const port of objList(c.ports)) setDefault(port, 'protocol', 'TCP');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
  const lifecycle = asObj(c.lifecycle);
  for (const hook of ['postStart', 'preStop']) {
    const h = asObj(lifecycle?.[hook]);
    if (h) defaultHttpGet(h);
  }
  for (const e of objList(c.env)) defaultFieldRef(asObj(e.valueFrom));
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

/** 0644: the file mode Kubernetes gives projected files unless told otherwise. */
const DEFAULT_MODE = 420;

function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((s) => v[s] !== undefined && v[s] !== null)) v.emptyDir = {};
  for (const src of ['configMap', 'secret', 'downwardAPI', 'projected']) {
    const s = asObj(v[src]);
    if (s && (s.defaultMode === undefined || s.defaultMode === null)) s.defaultMode = DEFAULT_MODE;
  }
  const hostPath = asObj(v.hostPath);
  if (hostPath && (hostPath.type === undefined || hostPath.type === null)) hostPath.type = '';
  for (const item of objList(asObj(v.downwardAPI)?.items)) defaultFieldRef(item);
  for (const source of objList(asObj(v.projected)?.sources)) {
    for (const item of objList(asObj(source.downwardAPI)?.items)) defaultFieldRef(item);
    const token = asObj(source.serviceAccountToken);
    if (token) setDefault(token, 'expirationSeconds', 3600);
  }
}

/** Defaults every PodSpec gets, in Pods and in templates alike (mutates `spec`). */
export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  if (!asObj(spec.securityContext)) spec.securityContext = {};
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const c of [...objList(spec.containers), ...objList(spec.initContainers), ...objList(spec.ephemeralContainers)]) {
    defaultContainer(c);
  }
  for (const v of objList(spec.volumes)) defaultVolume(v);
}

/** Defaults only a Pod gets (Kubernetes keeps them out of templates) (mutates `spec`). */
export function defaultPodOnly(spec: Obj): void {
  for (const c of [...objList(spec.containers), ...objList(spec.initContainers)]) {
    const res = asObj(c.resources);
    const limits = asObj(res?.limits);
    if (!res || !limits) continue;
    const requests = ensureObj(res, 'requests');
    for (const [k, v] of Object.entries(limits)) if (!Object.hasOwn(requests, k)) requests[k] = v;
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    for (const c of [...objList(spec.containers), ...objList(spec.initContainers)]) {
      for (const p of objList(c.ports)) {
        if (p.hostPort === undefined || p.hostPort === null || p.hostPort === 0) p.hostPort = p.containerPort;
      }
    }
  }
}

/** Defaults of a PodTemplateSpec (mutates `template`). */
export function defaultPodTemplateSpec(template: Obj): void {
  const meta = ensureObj(template, 'metadata');
  // Kubernetes 1.32 serializes the template's zero creationTimestamp as null.
  if (!('creationTimestamp' in meta)) meta.creationTimestamp = null;
  defaultPodSpec(ensureObj(template, 'spec'));
}

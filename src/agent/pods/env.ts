// A container's environment and argv, as the kubelet computes them: the Kubernetes-style service
// variables (`serviceEnv`) and trireme's own variables (POD_NAME, POD_NAMESPACE, POD_IP,
// NODE_NAME, PORT*, TRIREME_*) first, then `envFrom` (in order, with prefixes), then `env` (in
// order, each value `$(VAR)`-expanded against what is defined so far, `valueFrom` resolved);
// finally `command`/`args` expanded against the result. So explicit variables win over service
// ones, which `$(VAR)` references can still use.
// Guarantees: pure — ConfigMaps, Secrets and Services come in already fetched; a missing,
// non-optional reference raises ConfigError (surfaced as CreateContainerConfigError). Does not
// fetch anything.
import type { ConfigMap, Container, EnvVar, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Expands `$(VAR)` references Kubernetes-style: a defined VAR is substituted, `$$` yields a
 * literal `$` (so `$$(VAR)` stays `$(VAR)`), an undefined reference is left as written.
 */
export function expandVars(s: string, vars: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '$' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1];
    if (n === '$') {
      out += '$';
      i++;
    } else if (n === '(') {
      const close = s.indexOf(')', i + 2);
      if (close < 0) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, close);
      const v = Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : undefined;
      out += v ?? s.slice(i, close + 1);
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

/** `my-svc` → `MY_SVC`, as the kubelet names service variables. */
function serviceVarName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** Go's net.JoinHostPort: IPv6 addresses in brackets. */
function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The variables one Service contributes (the kubelet's envvars.FromServices). */
function varsOfService(svc: Service, out: Record<string, string>): void {
  const ip = svc.spec?.clusterIP ?? '';
  const ports = svc.spec?.ports ?? [];
  const first = ports[0];
  if (!first) return;
  const prefix = serviceVarName(svc.metadata?.name ?? '');
  out[`${prefix}_SERVICE_HOST`] = ip;
  out[`${prefix}_SERVICE_PORT`] = String(first.port);
  for (const p of ports) if (p.name) out[`${prefix}_SERVICE_PORT_${serviceVarName(p.name)}`] = String(p.port);
  ports.forEach((p, i) => {
    const proto = (p.protocol || 'TCP').toLowerCase();
    const url = `${proto}://${joinHostPort(ip, p.port)}`;
    if (i === 0) out[`${prefix}_PORT`] = url;
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out[pp] = url;
    out[`${pp}_PROTO`] = proto;
    out[`${pp}_PORT`] = String(p.port);
    out[`${pp}_ADDR`] = ip;
  });
}

/**
 * The Kubernetes-style service variables of a pod in `namespace` (`<NAME>_SERVICE_HOST`,
 * `_SERVICE_PORT`, `_SERVICE_PORT_<PORT>`, `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>` with
 * `_PROTO`, `_PORT`, `_ADDR`), as the kubelet's getServiceEnvVarMap: `default/kubernetes`
 * always; with `enableServiceLinks` every Service of the pod's namespace too (one of the same
 * name there wins over `default/kubernetes`). Services without a ClusterIP (headless,
 * ExternalName) give none. `services` may hold any Services; the others are ignored.
 */
export function serviceEnv(services: readonly Service[], namespace: string, enableServiceLinks: boolean): Record<string, string> {
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata?.name ?? '';
    const ns = svc.metadata?.namespace ?? 'default';
    if (enableServiceLinks && ns === namespace) chosen.set(name, svc);
    else if (ns === 'default' && name === 'kubernetes' && !chosen.has(name)) chosen.set(name, svc);
  }
  const out: Record<string, string> = {};
  for (const name of [...chosen.keys()].sort()) varsOfService(chosen.get(name)!, out);
  return out;
}

/** The ConfigMaps and Secrets of the pod's namespace the container refers to (absent: not found). */
export interface EnvSources {
  configMaps: ReadonlyMap<string, ConfigMap>;
  secrets: ReadonlyMap<string, Secret>;
}

/** The names of ConfigMaps and Secrets a container's env refers to (what to fetch). */
export function envReferences(c: Container): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const f of c.envFrom ?? []) {
    if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
    if (f.secretRef?.name) secrets.add(f.secretRef.name);
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
    if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
  }
  return { configMaps, secrets };
}

export function secretValue(s: Secret, key: string): string | undefined {
  const b64 = s.data?.[key];
  if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
  return s.stringData?.[key];
}

function configMapValue(cm: ConfigMap, key: string): string | undefined {
  return cm.data?.[key] ?? (cm.binaryData?.[key] !== undefined ? Buffer.from(cm.binaryData[key], 'base64').toString('utf8') : undefined);
}

function bracketKey(path: string, prefix: string): string | undefined {
  const m = new RegExp(`^${prefix.replace('.', '\\.')}\\[['"](.+)['"]\\]$`).exec(path);
  return m?.[1];
}

/** Resolves a `fieldRef.fieldPath` the way the Downward API does. */
export function fieldRefValue(pod: Pod, path: string, podIP: string, hostIP: string): string {
  const md = pod.metadata ?? {};
  switch (path) {
    case 'metadata.name': return md.name ?? '';
    case 'metadata.namespace': return md.namespace ?? 'default';
    case 'metadata.uid': return md.uid ?? '';
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP': return podIP;
    case 'status.podIPs': return podIP;
    case 'status.hostIP': return hostIP;
    case 'status.hostIPs': return hostIP;
  }
  const label = bracketKey(path, 'metadata.labels');
  if (label !== undefined) return md.labels?.[label] ?? '';
  const ann = bracketKey(path, 'metadata.annotations');
  if (ann !== undefined) return md.annotations?.[ann] ?? '';
  throw new ConfigError(`unsupported fieldRef fieldPath "${path}"`);
}

function resolveEnvVar(e: EnvVar, pod: Pod, src: EnvSources, ips: { podIP: string; hostIP: string }, vars: Record<string, string>): string | undefined {
  const vf = e.valueFrom;
  if (!vf) return expandVars(e.value ?? '', vars);
  if (vf.fieldRef) return fieldRefValue(pod, vf.fieldRef.fieldPath, ips.podIP, ips.hostIP);
  if (vf.configMapKeyRef) {
    const ref = vf.configMapKeyRef;
    const cm = src.configMaps.get(ref.name ?? '');
    if (!cm) {
      if (ref.optional) return undefined;
      throw new ConfigError(`configmap "${ref.name ?? ''}" not found`);
    }
    const v = configMapValue(cm, ref.key);
    if (v === undefined && !ref.optional) throw new ConfigError(`couldn't find key ${ref.key} in ConfigMap ${pod.metadata?.namespace ?? 'default'}/${ref.name ?? ''}`);
    return v;
  }
  if (vf.secretKeyRef) {
    const ref = vf.secretKeyRef;
    const s = src.secrets.get(ref.name ?? '');
    if (!s) {
      if (ref.optional) return undefined;
      throw new ConfigError(`secret "${ref.name ?? ''}" not found`);
    }
    const v = secretValue(s, ref.key);
    if (v === undefined && !ref.optional) throw new ConfigError(`couldn't find key ${ref.key} in Secret ${pod.metadata?.namespace ?? 'default'}/${ref.name ?? ''}`);
    return v;
  }
  if (vf.resourceFieldRef) throw new ConfigError(`resourceFieldRef is not supported by the process runtime (${e.name})`);
  return '';
}

/** Builds the container's environment on top of `base` (trireme's own variables). */
export function buildEnv(
  pod: Pod,
  c: Container,
  src: EnvSources,
  ips: { podIP: string; hostIP: string },
  base: Readonly<Record<string, string>>,
): Record<string, string> {
  const vars: Record<string, string> = { ...base };
  for (const f of c.envFrom ?? []) {
    const prefix = f.prefix ?? '';
    if (f.configMapRef) {
      const cm = src.configMaps.get(f.configMapRef.name ?? '');
      if (!cm) {
        if (!f.configMapRef.optional) throw new ConfigError(`configmap "${f.configMapRef.name ?? ''}" not found`);
        continue;
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) vars[prefix + k] = v;
    }
    if (f.secretRef) {
      const s = src.secrets.get(f.secretRef.name ?? '');
      if (!s) {
        if (!f.secretRef.optional) throw new ConfigError(`secret "${f.secretRef.name ?? ''}" not found`);
        continue;
      }
      for (const k of Object.keys(s.data ?? {})) vars[prefix + k] = secretValue(s, k) ?? '';
    }
  }
  for (const e of c.env ?? []) {
    const v = resolveEnvVar(e, pod, src, ips, vars);
    if (v !== undefined) vars[e.name] = v;
  }
  return vars;
}

/**
 * The argv to run: command + args, each `$(VAR)`-expanded. Without a `command`, `args` alone are
 * the argv: there is no image entrypoint to prepend, and for images without one (busybox,
 * alpine, …) that is what a kubelet runs too — this is what `kubectl run IMG -- sh -c '…'` sends.
 * Throws ConfigError when there is neither.
 */
export function buildArgv(c: Container, env: Readonly<Record<string, string>>): string[] {
  const argv = c.command && c.command.length > 0 ? [...c.command, ...(c.args ?? [])] : [...(c.args ?? [])];
  if (argv.length === 0) throw new ConfigError('the process runtime needs a command (or args)');
  return argv.map((s) => expandVars(s, env));
}

// Volumes materialised on the host for the process runtime, and the mount convention.
// - emptyDir: `<podDir>/volumes/<name>/`, created once, kept across container restarts.
// - hostPath: the host path itself (type DirectoryOrCreate/FileOrCreate create it; Directory/File
//   require it).
// - configMap / secret: files in `<podDir>/volumes/<name>/` — all keys, or only `items` (key →
//   path), with `mode`/`defaultMode` (default 0644); rewritten when the data changes (each file
//   replaced atomically by rename; files of removed keys deleted).
// - Mounts: each container gets a root `<podDir>/rootfs/<container>/` (env TRIREME_ROOT) under
//   which every volumeMount's mountPath is a symlink to the volume (or its subPath), and env
//   `TRIREME_VOLUME_<NAME>` = the volume's host path.
// Guarantees: idempotent (safe to call on every sync); a missing non-optional ConfigMap/Secret
// raises VolumeError (FailedMount). Does not enforce readOnly (no mount namespaces).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Container, KeyToPath, Pod, Secret, Volume } from 'kubernetes-types/core/v1.js';
import { tempSibling } from '../../util/private-file.js';

export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeError';
  }
}

export interface VolumeSources {
  configMaps: ReadonlyMap<string, ConfigMap>;
  secrets: ReadonlyMap<string, Secret>;
}

/** The ConfigMaps and Secrets the pod's volumes refer to. */
export function volumeReferences(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps, secrets };
}

/** `TRIREME_VOLUME_<NAME>`: upper case, anything not [A-Z0-9_] becomes `_`. */
export function volumeEnvName(name: string): string {
  return `TRIREME_VOLUME_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

function safeRelative(p: string): string {
  const norm = path.posix.normalize(p).replace(/^\/+/, '');
  if (norm === '..' || norm.startsWith('../')) throw new VolumeError(`path "${p}" escapes the volume`);
  return norm;
}

async function writeIfChanged(file: string, data: Buffer, mode: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const old = await fs.readFile(file).catch(() => undefined);
  if (old && old.equals(data)) {
    await fs.chmod(file, mode);
    return;
  }
  const tmp = tempSibling(file);
  await fs.writeFile(tmp, data, { mode });
  await fs.chmod(tmp, mode);
  await fs.rename(tmp, file);
}

async function listFiles(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** Writes key files into `dir`: all keys, or only `items`; removes files of keys no longer there. */
export async function writeKeyFiles(
  dir: string,
  data: ReadonlyMap<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
  optional: boolean,
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const want = new Map<string, { data: Buffer; mode: number }>();
  if (items && items.length > 0) {
    for (const it of items) {
      const v = data.get(it.key);
      if (v === undefined) {
        if (optional) continue;
        throw new VolumeError(`configuration key "${it.key}" not found in ${what}`);
      }
      want.set(safeRelative(it.path), { data: v, mode: it.mode ?? defaultMode });
    }
  } else {
    for (const [k, v] of data) want.set(safeRelative(k), { data: v, mode: defaultMode });
  }
  for (const [rel, f] of want) await writeIfChanged(path.join(dir, rel), f.data, f.mode);
  for (const rel of await listFiles(dir)) if (!want.has(rel)) await fs.rm(path.join(dir, rel), { force: true });
}

function configMapData(cm: ConfigMap): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

function secretData(s: Secret): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) m.set(k, Buffer.from(v, 'utf8'));
  return m;
}

async function hostPathVolume(v: Volume): Promise<string> {
  const hp = v.hostPath;
  if (!hp) throw new VolumeError('not a hostPath volume');
  const p = hp.path;
  const type = hp.type ?? '';
  const st = await fs.stat(p).catch(() => undefined);
  if (type === 'DirectoryOrCreate' && !st) await fs.mkdir(p, { recursive: true, mode: 0o755 });
  else if (type === 'FileOrCreate' && !st) {
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, '', { mode: 0o644 });
  } else if (type === 'Directory' && !st?.isDirectory()) throw new VolumeError(`hostPath type check failed: ${p} is not a directory`);
  else if (type === 'File' && !st?.isFile()) throw new VolumeError(`hostPath type check failed: ${p} is not a file`);
  return p;
}

/**
 * Materialises every volume of the pod under `<podDir>/volumes/` and returns name → host path.
 * The caller fetched the referenced ConfigMaps/Secrets (absent from the maps: not found).
 */
export async function materialiseVolumes(pod: Pod, podDir: string, src: VolumeSources): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = path.join(podDir, 'volumes');
  const ns = pod.metadata?.namespace ?? 'default';
  for (const v of pod.spec?.volumes ?? []) {
    const dir = path.join(root, v.name);
    if (v.hostPath) {
      out.set(v.name, await hostPathVolume(v));
    } else if (v.configMap) {
      const cm = src.configMaps.get(v.configMap.name ?? '');
      if (!cm && !v.configMap.optional) throw new VolumeError(`configmap "${v.configMap.name ?? ''}" not found`);
      await writeKeyFiles(dir, cm ? configMapData(cm) : new Map(), v.configMap.items, v.configMap.defaultMode ?? 0o644, `ConfigMap ${ns}/${v.configMap.name ?? ''}`, v.configMap.optional === true);
      out.set(v.name, dir);
    } else if (v.secret) {
      const s = src.secrets.get(v.secret.secretName ?? '');
      if (!s && !v.secret.optional) throw new VolumeError(`secret "${v.secret.secretName ?? ''}" not found`);
      await writeKeyFiles(dir, s ? secretData(s) : new Map(), v.secret.items, v.secret.defaultMode ?? 0o644, `Secret ${ns}/${v.secret.secretName ?? ''}`, v.secret.optional === true);
      out.set(v.name, dir);
    } else if (v.emptyDir || Object.keys(v).length === 1) {
      await fs.mkdir(dir, { recursive: true, mode: 0o777 });
      out.set(v.name, dir);
    } else {
      throw new VolumeError(`volume "${v.name}": only emptyDir, hostPath, configMap and secret are supported by the process runtime`);
    }
  }
  return out;
}

/**
 * Builds the container's root `<podDir>/rootfs/<container>/`: each volumeMount's mountPath is a
 * symlink to its volume (or subPath). Returns the root and the TRIREME_* variables.
 */
export async function prepareMounts(podDir: string, c: Container, volumes: ReadonlyMap<string, string>): Promise<{ root: string; env: Record<string, string> }> {
  const root = path.join(podDir, 'rootfs', c.name);
  await fs.mkdir(root, { recursive: true });
  const env: Record<string, string> = { TRIREME_ROOT: root };
  for (const m of c.volumeMounts ?? []) {
    const vol = volumes.get(m.name);
    if (vol === undefined) throw new VolumeError(`volumeMount "${m.name}": no such volume`);
    let target = vol;
    if (m.subPath) {
      target = path.join(vol, safeRelative(m.subPath));
      await fs.mkdir(target, { recursive: true }).catch(() => undefined);
    }
    const link = path.join(root, safeRelative(m.mountPath));
    await fs.mkdir(path.dirname(link), { recursive: true });
    const cur = await fs.readlink(link).catch(() => undefined);
    if (cur !== target) {
      await fs.rm(link, { force: true, recursive: false }).catch(() => undefined);
      await fs.symlink(target, link);
    }
    env[volumeEnvName(m.name)] = vol;
  }
  return { root, env };
}

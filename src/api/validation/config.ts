// Validation of ConfigMaps and Secrets. Guarantees: data keys are valid config keys and not
// repeated between data and binaryData; base64 fields (Secret data, binaryData) decode;
// total size ≤ 1 MiB; Secret types' required keys; on update, a Secret's type and an
// `immutable: true` object's data cannot change (nor can `immutable` be unset).
// Does not: look inside dockercfg JSON beyond checking it parses.
import type { FieldCause } from '../../errors.js';
import { asObj, asStr, jsonEqual, type Obj } from './access.js';
import { child, forbidden, IMMUTABLE_MSG, invalid, invalidEach, key, required, tooLong } from './field.js';
import { checkConfigMapKey } from './names.js';

export const MAX_SECRET_SIZE = 1024 * 1024;
const REDACTED = '<secret contents redacted>';

// Go's encoding/json decodes []byte with standard, padded base64 and skips newlines.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decoded length of a base64 string, or undefined when it is not valid padded base64. */
export function base64DecodedLength(s: string): number | undefined {
  const clean = s.replace(/[\r\n]/g, '');
  if (!BASE64_RE.test(clean)) return undefined;
  return Buffer.from(clean, 'base64').length;
}

function validateKeys(map: Obj, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  for (const k of Object.keys(map)) causes.push(...invalidEach(key(path, k), k, checkConfigMapKey(k)));
  return causes;
}

/** Checks base64 values and returns their decoded size; `redact` hides values in messages. */
function validateBase64Map(map: Obj, path: string, redact: boolean, causes: FieldCause[]): number {
  let size = 0;
  for (const [k, v] of Object.entries(map)) {
    const n = typeof v === 'string' ? base64DecodedLength(v) : undefined;
    if (n === undefined) causes.push(invalid(key(path, k), redact ? REDACTED : v, 'must be valid base64 data'));
    else size += n;
  }
  return size;
}

export function validateConfigMap(cm: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const data = asObj(cm.data) ?? {};
  const binary = asObj(cm.binaryData) ?? {};
  causes.push(...validateKeys(data, 'data'));
  causes.push(...validateKeys(binary, 'binaryData'));
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') causes.push(invalid(key('data', k), v, 'must be a string'));
    else size += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (Object.hasOwn(binary, k)) causes.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
  }
  for (const k of Object.keys(binary)) size += Buffer.byteLength(k);
  size += validateBase64Map(binary, 'binaryData', false, causes);
  if (size > MAX_SECRET_SIZE) causes.push(tooLong('', MAX_SECRET_SIZE));
  return causes;
}

function validateSecretType(secret: Obj, data: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const has = (k: string): boolean => Object.hasOwn(data, k);
  const decodedJSON = (k: string): boolean => {
    const v = asStr(data[k]);
    if (v === undefined || base64DecodedLength(v) === undefined) return true; // reported elsewhere
    try {
      JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
      return true;
    } catch {
      return false;
    }
  };
  switch (secret.type) {
    case 'kubernetes.io/service-account-token': {
      const ann = asObj(asObj(secret.metadata)?.annotations) ?? {};
      if (!asStr(ann['kubernetes.io/service-account.name'])) {
        causes.push(required(key('metadata.annotations', 'kubernetes.io/service-account.name')));
      }
      break;
    }
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const k = secret.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(k)) causes.push(required(key('data', k)));
      else if (!decodedJSON(k)) causes.push(invalid(key('data', k), REDACTED, 'must be valid JSON'));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) causes.push(required(key('data', 'username')), required(key('data', 'password')));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!has('ssh-privatekey')) causes.push(required(key('data', 'ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.key')) causes.push(required(key('data', 'tls.key')));
      if (!has('tls.crt')) causes.push(required(key('data', 'tls.crt')));
      break;
    default:
      break;
  }
  return causes;
}

/** Secret data must already be base64 (stringData is merged into data by defaulting). */
export function validateSecret(secret: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  const data = asObj(secret.data) ?? {};
  causes.push(...validateKeys(data, 'data'));
  let size = validateBase64Map(data, 'data', true, causes);
  for (const k of Object.keys(data)) size += Buffer.byteLength(k);
  if (size > MAX_SECRET_SIZE) causes.push(tooLong('data', MAX_SECRET_SIZE));
  if (typeof secret.type !== 'string' || secret.type === '') causes.push(required('type'));
  causes.push(...validateSecretType(secret, data));
  return causes;
}

/** Rules shared by ConfigMap and Secret updates when the old object is immutable. */
function validateImmutable(obj: Obj, old: Obj, dataFields: readonly string[]): FieldCause[] {
  if (old.immutable !== true) return [];
  const causes: FieldCause[] = [];
  const msg = 'field is immutable when `immutable` is set';
  if (obj.immutable !== true) causes.push(forbidden('immutable', msg));
  for (const f of dataFields) {
    if (!jsonEqual(asObj(obj[f]) ?? {}, asObj(old[f]) ?? {})) causes.push(forbidden(f, msg));
  }
  return causes;
}

export function validateConfigMapUpdate(cm: Obj, old: Obj): FieldCause[] {
  return validateImmutable(cm, old, ['data', 'binaryData']);
}

export function validateSecretUpdate(secret: Obj, old: Obj): FieldCause[] {
  const causes: FieldCause[] = [];
  if (secret.type !== old.type) causes.push(invalid(child('type'), secret.type ?? '', IMMUTABLE_MSG));
  causes.push(...validateImmutable(secret, old, ['data']));
  return causes;
}

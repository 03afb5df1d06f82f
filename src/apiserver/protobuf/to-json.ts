// Renders a decoded protobuf message as the JSON Kubernetes itself would produce for the same
// Go struct (what `json.Marshal` gives after the API server's protobuf decode):
// - field names, order, `omitempty` and inlining follow the Go struct (GO_JSON_FIELDS);
// - presence: a pointer field is kept when sent, even if zero (`replicas: 0`); a non-pointer
//   scalar is dropped when zero and omitempty; absent non-pointer structs render as their zero
//   value (`status: {}`), absent slices/maps/pointers as omitted or `null` (no omitempty);
// - metav1.Time -> RFC 3339 seconds, MicroTime -> 6 fractional digits, zero time -> null;
//   Quantity -> its string; IntOrString -> number or string; bytes -> base64; int64 -> number;
//   RawExtension / FieldsV1 -> the JSON they carry.
// Does not canonicalise quantities ("1000m" stays "1000m") or validate values.
import protobuf from 'protobufjs';
import { TriremeError } from '../../errors.js';
import { GO_JSON_FIELDS, type GoJsonField } from './schema.generated.js';

type Fields = Record<string, unknown>;

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const SPECIAL: Record<string, (m: Fields) => unknown> = {
  [`${META}.Time`]: (m) => formatTime(m, false),
  [`${META}.MicroTime`]: (m) => formatTime(m, true),
  [`${META}.FieldsV1`]: (m) => rawJson(m['Raw'], 'FieldsV1'),
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (m) => (typeof m['string'] === 'string' && m['string'] !== '' ? m['string'] : '0'),
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (m) =>
    toNumber(m['type']) === 1 ? (m['strVal'] ?? '') : toNumber(m['intVal'] ?? 0),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': (m) => rawJson(m['raw'], 'RawExtension'),
  // `type ExtraValue []string` (user extra info of the reviews): the list itself.
  'k8s.io.api.authorization.v1.ExtraValue': (m) => stringItems(m['items']),
  'k8s.io.api.authentication.v1.ExtraValue': (m) => stringItems(m['items']),
};

function stringItems(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function messageToJson(type: protobuf.Type, msg: Fields): unknown {
  const name = type.fullName.slice(1);
  const special = SPECIAL[name];
  if (special) return special(msg);
  const rows = GO_JSON_FIELDS[name];
  if (rows === undefined) throw new TriremeError('Internal', `no JSON mapping for protobuf message ${name}`);
  const out: Fields = {};
  for (const row of rows) renderField(type, msg, row, out);
  return out;
}

function renderField(type: protobuf.Type, msg: Fields, [pf, json, flags]: GoJsonField, out: Fields): void {
  const field = type.fields[pf];
  if (field === undefined) throw new TriremeError('Internal', `protobuf field ${type.name}.${pf} missing from schema`);
  const omitEmpty = flags.includes('o');
  const pointer = flags.includes('p');
  const value = Object.prototype.hasOwnProperty.call(msg, pf) ? msg[pf] : undefined;
  // What Go does with a nil slice, map or pointer.
  const absent = (): void => { if (!omitEmpty) out[json] = null; };

  if (flags.includes('i')) {
    const sub = messageToJson(resolved(field), isFields(value) ? value : {});
    if (isFields(sub)) Object.assign(out, sub);
    return;
  }
  if (field instanceof protobuf.MapField) {
    const entries = isFields(value) ? Object.entries(value) : [];
    if (entries.length === 0) return absent();
    out[json] = Object.fromEntries(entries.map(([k, v]) => [k, valueToJson(field, v)]));
    return;
  }
  if (field.repeated) {
    const items = Array.isArray(value) ? value : [];
    if (items.length === 0) return absent();
    out[json] = items.map((v: unknown) => valueToJson(field, v));
    return;
  }
  if (field.resolvedType instanceof protobuf.Type) {
    if (value === undefined && pointer) return absent();
    out[json] = messageToJson(field.resolvedType, isFields(value) ? value : {});
    return;
  }
  if (field.type === 'bytes') {
    // Go []byte: nil and empty are indistinguishable on the wire.
    if (!(value instanceof Uint8Array) || value.length === 0) return absent();
    out[json] = Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64');
    return;
  }
  if (value === undefined && pointer) return absent();
  const scalar = value === undefined ? zeroOf(field.type) : scalarToJson(value);
  if (!pointer && omitEmpty && (scalar === '' || scalar === 0 || scalar === false)) return;
  out[json] = scalar;
}

function valueToJson(field: protobuf.Field, v: unknown): unknown {
  if (field.resolvedType instanceof protobuf.Type) return messageToJson(field.resolvedType, isFields(v) ? v : {});
  if (field.type === 'bytes') return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64') : '';
  return scalarToJson(v);
}

function resolved(field: protobuf.Field): protobuf.Type {
  if (field.resolvedType instanceof protobuf.Type) return field.resolvedType;
  throw new TriremeError('Internal', `inlined field ${field.name} is not a message`);
}

function scalarToJson(v: unknown): unknown {
  return isLong(v) ? v.toNumber() : v;
}

function zeroOf(type: string): string | number | boolean {
  if (type === 'string') return '';
  if (type === 'bool') return false;
  return 0;
}

/** int64 values arrive as Long; Kubernetes' int64 fields (seconds, sizes, generations) fit a double. */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (isLong(v)) return v.toNumber();
  return 0;
}

/** protobufjs returns 64-bit integers as `long` objects when that library is present. */
function isLong(v: unknown): v is { toNumber(): number } {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v
    && typeof (v as { toNumber?: unknown }).toNumber === 'function';
}

function isFields(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Go's zero time.Time, as seconds since the Unix epoch (what time.Time{}.Unix() returns). */
const GO_ZERO_TIME = -62135596800;

function formatTime(m: Fields, micro: boolean): string | null {
  const seconds = toNumber(m['seconds'] ?? 0);
  const nanos = toNumber(m['nanos'] ?? 0);
  // metav1.Time encodes the zero time as an empty message; both forms render as null.
  if ((seconds === 0 && nanos === 0) || seconds === GO_ZERO_TIME) return null;
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new TriremeError('BadRequest', `time out of range: ${seconds}s`);
  const base = d.toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS, UTC
  // metav1.Time marshals without fractions (RFC3339); MicroTime truncates to microseconds.
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

function rawJson(raw: unknown, what: string): unknown {
  if (!(raw instanceof Uint8Array) || raw.length === 0) return null;
  try {
    return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('utf8')) as unknown;
  } catch (e) {
    throw new TriremeError('BadRequest', `${what} does not hold JSON`, { cause: e });
  }
}

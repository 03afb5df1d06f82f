// Syntax checks for the identifier families Kubernetes uses (RFC 1123 labels and
// subdomains, RFC 1035 labels, qualified names, label values, IANA service names, env var
// names, ConfigMap keys, percentages). Each `check*` returns the list of problems in
// Kubernetes' wording (empty when valid); the `is*` predicates are shorthands.
// Guarantees: same regular expressions and length limits as apimachinery's validation.
// Does not: know which family applies to which field; callers pick.

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  // Mirrors apimachinery's RegexError, including its double space before "or".
  let s = `${msg} (`;
  if (examples.length > 0) {
    s += 'e.g. ';
    examples.forEach((ex, i) => {
      if (i > 0) s += ' or ';
      s += `'${ex}', `;
    });
  }
  return `${s}regex used for validation is '${fmt}')`;
}

export function maxLenError(n: number): string {
  return `must be no more than ${n} characters`;
}

const EMPTY_ERROR = 'must be non-empty';

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
export const DNS1123_LABEL_MAX = 63;

export function checkDns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!DNS1123_LABEL_RE.test(v)) {
    errs.push(regexError(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
export const DNS1123_SUBDOMAIN_MAX = 253;

export function checkDns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!DNS1123_SUBDOMAIN_RE.test(v)) {
    errs.push(regexError(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errs;
}

const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);

export function checkDns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!DNS1035_LABEL_RE.test(v)) {
    errs.push(regexError(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
      DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  }
  return errs;
}

export function isDns1123Label(v: string): boolean {
  return checkDns1123Label(v).length === 0;
}

export function isDns1123Subdomain(v: string): boolean {
  return checkDns1123Subdomain(v).length === 0;
}

export function isDns1035Label(v: string): boolean {
  return checkDns1035Label(v).length === 0;
}

/** A name validator as ValidateObjectMeta takes it; `prefix` is true for generateName. */
export type NameCheck = (name: string, prefix: boolean) => string[];

// generateName prefixes may end in '-': mask that dash so the rest is checked normally.
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

export const nameIsDns1123Subdomain: NameCheck = (n, prefix) => checkDns1123Subdomain(prefix ? maskTrailingDash(n) : n);
export const nameIsDns1123Label: NameCheck = (n, prefix) => checkDns1123Label(prefix ? maskTrailingDash(n) : n);
/** Kubernetes' path-segment names (RBAC objects, ValidatePathSegmentName): anything but `.`, `..`, `/` and `%`. */
export const nameIsPathSegment: NameCheck = (n, prefix) => {
  if (!prefix && (n === '.' || n === '..')) return [`may not be '${n}'`];
  const bad = ['/', '%'].find((c) => n.includes(c));
  return bad ? [`may not contain '${bad}'`] : [];
};
export const nameIsDns1035Label: NameCheck = (n, prefix) => checkDns1035Label(prefix ? maskTrailingDash(n) : n);

const QUALIFIED_NAME_CHAR_FMT = '[A-Za-z0-9]';
const QUALIFIED_NAME_EXT_CHAR_FMT = '[-A-Za-z0-9_.]';
const QUALIFIED_NAME_FMT = `(${QUALIFIED_NAME_CHAR_FMT}${QUALIFIED_NAME_EXT_CHAR_FMT}*)?${QUALIFIED_NAME_CHAR_FMT}`;
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX = 63;

/** Label keys, annotation keys, selector keys: `[prefix/]name`. */
export function checkQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push(`prefix part ${EMPTY_ERROR}`);
    else errs.push(...checkDns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push(`name part ${EMPTY_ERROR}`);
  else if (name.length > QUALIFIED_NAME_MAX) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (name.length > 0 && !QUALIFIED_NAME_RE.test(name)) {
    errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
export const LABEL_VALUE_MAX = 63;

export function checkLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (!LABEL_VALUE_RE.test(v)) {
    errs.push(regexError(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** IANA_SVC_NAME (RFC 6335): port names of containers and services' target ports. */
export function checkPortName(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function checkPortNum(n: number): string[] {
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/**
 * Environment variable names. Kubernetes 1.32 enables RelaxedEnvironmentVariableValidation
 * by default: any printable ASCII except '='.
 */
export function checkEnvVarName(v: string): string[] {
  return /^[ -<>-~]+$/.test(v) ? [] : ["a valid environment variable name must consist only of printable ASCII characters other than '='"];
}

const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_KEY_RE = new RegExp(`^${CONFIG_KEY_FMT}$`);

/** Keys of ConfigMap and Secret data (they become file names in volumes). */
export function checkConfigMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!CONFIG_KEY_RE.test(v)) {
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  }
  if (v === '.') errs.push("must not be '.'");
  else if (v === '..') errs.push("must not be '..'");
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function checkPercent(v: string): string[] {
  return /^[0-9]+%$/.test(v) ? [] : [regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%')];
}

/** IPv4 dotted quad or IPv6 (as Go's net.ParseIP accepts them, without zones). */
export function isIP(v: string): boolean {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  if (v4.test(v)) return true;
  if (!v.includes(':') || !/^[0-9a-fA-F:.]+$/.test(v)) return false;
  try {
    // URL parsing validates IPv6 literal syntax without a hand-written grammar.
    return new URL(`http://[${v}]/`).hostname.length > 0;
  } catch {
    return false;
  }
}

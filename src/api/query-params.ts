// Scalar query parameters decoded as the Kubernetes API server's parameter codec decodes them
// (apimachinery runtime.Convert_Slice_string_To_bool / _To_int64), shared by the API server and
// the node agent's kubelet API so that every client (kubectl, client-go, client-node, the python
// client's `?watch=True`) means the same thing everywhere.
// Guarantees: pure; only the first value of a repeated parameter counts (as in Kubernetes);
// booleans never fail: absent, "0" and any case of "false" are false, every other value (also
// "" and "True") is true; integers are decimal (optional sign), within int64's safe part, else a
// BadRequest TriremeError naming the parameter and the value.
// Does not: decide what a value means for a request (ranges beyond `min`, defaults).
import { TriremeError } from '../errors.js';

/** One boolean value as Kubernetes decodes it: only "0" and "false" (any case) are false. */
export function decodeBool(value: string): boolean {
  return !(value === '0' || value.toLowerCase() === 'false');
}

/** A boolean parameter: false when absent. */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && decodeBool(v);
}

const DECIMAL = /^[+-]?\d+$/;

/**
 * An integer parameter; undefined when absent or empty (an empty value is "not set" for the
 * optional integers the API has). `min` rejects smaller values with the same BadRequest.
 */
export function intParam(q: URLSearchParams, name: string, opts: { min?: number } = {}): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = DECIMAL.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new TriremeError('BadRequest', `invalid value for query parameter ${name}: ${JSON.stringify(v)}: must be an integer`);
  if (opts.min !== undefined && n < opts.min) {
    throw new TriremeError('BadRequest', `invalid value for query parameter ${name}: ${JSON.stringify(v)}: must be greater than or equal to ${opts.min}`);
  }
  return n;
}

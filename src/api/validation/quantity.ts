// A pure parser for Kubernetes resource quantities ('100m', '1', '2Gi', '500Mi', '1e3').
// Guarantees: accepts exactly the serialized forms Kubernetes accepts (sign, decimal
// number, then one of: binary suffix Ki..Ei, decimal suffix n/u/m/''/k/M/G/T/P/E, or an
// exponent e<int>/E<int>) and returns their value as a JS number. Does not: keep
// arbitrary precision (values beyond 2^53 or below 1e-9 lose exactness, which is fine for
// the ordering checks validation needs) or produce the canonical string form.

export const QUANTITY_REGEX_MSG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const SHAPE = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

/** The numeric value of a quantity, or undefined when `input` is not a valid quantity. */
export function parseQuantity(input: unknown): number | undefined {
  // JSON numbers are accepted for quantity fields (e.g. `cpu: 1`), like Kubernetes does.
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  if (typeof input !== 'string') return undefined;
  const m = SHAPE.exec(input.trim() === input ? input : '');
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const num = Number(m[2]);
  const suffix = m[3] ?? '';
  let mult: number | undefined = BINARY[suffix] ?? DECIMAL[suffix];
  if (mult === undefined) {
    // Exponent form: 'e' or 'E' then a signed integer.
    const exp = /^[eE]([-+]?[0-9]+)$/.exec(suffix);
    if (!exp) return undefined;
    mult = 10 ** Number(exp[1]);
  }
  const value = sign * num * mult;
  return Number.isFinite(value) ? value : undefined;
}

export function isValidQuantity(input: unknown): boolean {
  return parseQuantity(input) !== undefined;
}

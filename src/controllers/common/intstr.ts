// IntOrString values (maxSurge, maxUnavailable): integers or percentages of a total.
// Guarantees: Kubernetes' GetScaledValueFromIntOrPercent — a percentage is rounded up or
// down as asked. Throws TriremeError('Invalid') for strings that are not `N%`.
import { TriremeError } from '../../errors.js';

export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, fallback: number | string = 0): number {
  const val = v ?? fallback;
  if (typeof val === 'number') return val;
  const m = /^(\d+)%$/.exec(val);
  if (!m) {
    if (/^\d+$/.test(val)) return Number(val);
    throw new TriremeError('Invalid', `invalid value for IntOrString: ${JSON.stringify(val)}`);
  }
  const pct = Number(m[1]) * total;
  return roundUp ? Math.ceil(pct / 100) : Math.floor(pct / 100);
}

// The agent's pressure thresholds and system reservation, and their flag syntax (pure).
// Thresholds use the kubelet's eviction-signal syntax, `signal<quantity` or `signal<percent%`,
// comma-separated: `memory.available<100Mi,nodefs.available<10%`. Signals given replace their
// default, the others keep it; `<0` (or `<0%`) switches a signal off. The reservation uses the
// kubelet's `--system-reserved` syntax: `cpu=500m,memory=1Gi,ephemeral-storage=1Gi,pid=1000`.
// Guarantees: bad input throws TriremeError('Invalid') naming the bad item; the defaults are the
// kubelet's hard-eviction defaults (memory.available<100Mi, nodefs.available<10%,
// nodefs.inodesFree<5%) plus pid.available<10%, which the kubelet leaves unset. Does not: evict
// anything (the agent only reports the conditions) or know imagefs (there are no images).
import { TriremeError } from '../../errors.js';
import { parseQuantity } from '../../api/validation/quantity.js';

export const SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'pid.available'] as const;
export type Signal = (typeof SIGNALS)[number];

/** An absolute amount (bytes, inodes, pids) or a percentage of the matching capacity. */
export type ThresholdValue = { quantity: number } | { percent: number };
export type Thresholds = Readonly<Record<Signal, ThresholdValue>>;

export const DEFAULT_THRESHOLDS: Thresholds = {
  'memory.available': { quantity: 100 * 2 ** 20 },
  'nodefs.available': { percent: 10 },
  'nodefs.inodesFree': { percent: 5 },
  'pid.available': { percent: 10 },
};

/** The kubelet's --eviction-pressure-transition-period default. */
export const DEFAULT_PRESSURE_TRANSITION_MS = 5 * 60_000;

export const DEFAULT_THRESHOLDS_FLAG = 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,pid.available<10%';

function items(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function isSignal(s: string): s is Signal {
  return (SIGNALS as readonly string[]).includes(s);
}

/** `signal<value,...` over `base` (default: the defaults). */
export function parseThresholds(v: string, base: Thresholds = DEFAULT_THRESHOLDS): Thresholds {
  const out: Record<Signal, ThresholdValue> = { ...base };
  for (const item of items(v)) {
    const m = /^([A-Za-z.]+)<(.+)$/.exec(item);
    if (!m) throw new TriremeError('Invalid', `pressure threshold ${JSON.stringify(item)}: expected signal<quantity or signal<percent% (only < is supported)`);
    const [, signal = '', raw = ''] = m;
    if (!isSignal(signal)) throw new TriremeError('Invalid', `pressure threshold ${JSON.stringify(item)}: unknown signal ${signal} (known: ${SIGNALS.join(', ')})`);
    if (raw.endsWith('%')) {
      const p = Number(raw.slice(0, -1));
      if (raw.length < 2 || !Number.isFinite(p) || p < 0 || p > 100) throw new TriremeError('Invalid', `pressure threshold ${JSON.stringify(item)}: a percentage must be 0..100%`);
      out[signal] = { percent: p };
    } else {
      const q = parseQuantity(raw);
      if (q === undefined || q < 0) throw new TriremeError('Invalid', `pressure threshold ${JSON.stringify(item)}: not a non-negative quantity: ${raw}`);
      out[signal] = { quantity: q };
    }
  }
  return out;
}

/** The threshold as an amount, given the capacity a percentage refers to. */
export function thresholdAmount(t: ThresholdValue, capacity: number): number {
  return 'percent' in t ? (capacity * t.percent) / 100 : t.quantity;
}

export function formatThreshold(t: ThresholdValue, unit: 'bytes' | 'count'): string {
  if ('percent' in t) return `${t.percent}%`;
  return unit === 'bytes' ? formatBytes(t.quantity) : String(t.quantity);
}

/** Bytes for messages: 1536 → 1.5Ki, 104857600 → 100Mi. */
export function formatBytes(n: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? String(Math.round(v)) : String(Math.round(v * 10) / 10)}${units[i] ?? ''}`;
}

/** What `--system-reserved` keeps back from pods. cpu in millicores, the rest in bytes / pids. */
export interface SystemReserved {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  pid: number;
}

export const NO_RESERVATION: SystemReserved = { milliCpu: 0, memory: 0, ephemeralStorage: 0, pid: 0 };

const RESERVED_KEYS: Record<string, keyof SystemReserved> = { cpu: 'milliCpu', memory: 'memory', 'ephemeral-storage': 'ephemeralStorage', pid: 'pid' };

export function parseSystemReserved(v: string): SystemReserved {
  const out: SystemReserved = { ...NO_RESERVATION };
  for (const item of items(v)) {
    const m = /^([a-z-]+)=(.+)$/.exec(item);
    const key = m ? RESERVED_KEYS[m[1] ?? ''] : undefined;
    if (!m || !key) throw new TriremeError('Invalid', `system reservation ${JSON.stringify(item)}: expected name=quantity with name one of ${Object.keys(RESERVED_KEYS).join(', ')}`);
    const q = parseQuantity(m[2]);
    if (q === undefined || q < 0) throw new TriremeError('Invalid', `system reservation ${JSON.stringify(item)}: not a non-negative quantity: ${m[2] ?? ''}`);
    if (key === 'pid' && !Number.isInteger(q)) throw new TriremeError('Invalid', `system reservation ${JSON.stringify(item)}: pid must be a whole number`);
    out[key] = key === 'milliCpu' ? Math.ceil(Math.round(q * 1e6) / 1e3) : Math.ceil(q);
  }
  return out;
}

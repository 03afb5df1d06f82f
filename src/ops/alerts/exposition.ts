// Parses the Prometheus text exposition format (what /metrics serves) into samples.
// Guarantees: pure; comments and HELP/TYPE lines are skipped; label values are unescaped (\\ \" \n);
// +Inf, -Inf and NaN values are read; a malformed line is an ExpositionError naming the line.
// Does not: keep metric types or exposition timestamps (the scrape time is what counts), or parse
// OpenMetrics exemplars.
import type { Labels } from './tsdb.js';

export class ExpositionError extends Error {
  override readonly name = 'ExpositionError';
}

export function parseExposition(text: string): { labels: Labels; value: number }[] {
  const out: { labels: Labels; value: number }[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new ExpositionError(`line ${n + 1}: no metric name: ${line.slice(0, 80)}`);
    const labels: Record<string, string> = { __name__: name };
    let i = name.length;
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') { i++; break; }
        const l = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(i))?.[0];
        if (!l || line[i + l.length] !== '=' || line[i + l.length + 1] !== '"') throw new ExpositionError(`line ${n + 1}: bad label at column ${i + 1}`);
        i += l.length + 2;
        let v = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\') {
            const e = line[i + 1];
            v += e === 'n' ? '\n' : (e ?? '');
            i += 2;
          } else v += line[i++];
        }
        if (i >= line.length) throw new ExpositionError(`line ${n + 1}: unclosed label value`);
        i++;
        labels[l] = v;
      }
    }
    const fields = line.slice(i).trim().split(/\s+/);
    const raw = fields[0] ?? '';
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (raw === '' || (Number.isNaN(value) && raw !== 'NaN')) throw new ExpositionError(`line ${n + 1}: bad value ${JSON.stringify(raw)}`);
    out.push({ labels, value });
  }
  return out;
}

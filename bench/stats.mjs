// Small figures shared by the bench scripts.
import { readFileSync } from 'node:fs';

/** The median of the finite numbers in `xs` (NaN if none). */
export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The machine's 1-, 5- and 15-minute load averages, as /proc/loadavg has them. */
export function loadavg() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

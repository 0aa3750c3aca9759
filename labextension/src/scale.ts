/**
 * Linear and log scales, tick positions and number formatting for the canvas charts.
 */

export class Scale {
  /**
   * Map the data interval [lo, hi] to the pixel interval [p0, p1].
   *
   * A log scale ignores values <= 0 when it is built; `map` of such a value is NaN.
   */
  constructor(
    lo: number,
    hi: number,
    readonly p0: number,
    readonly p1: number,
    readonly log = false
  ) {
    if (log) {
      lo = Math.log10(lo);
      hi = Math.log10(hi);
    }
    if (!(hi > lo)) {
      // One value only: centre it in a unit-wide window.
      const mid = isFinite(lo) ? lo : 0;
      lo = mid - 0.5;
      hi = mid + 0.5;
    }
    this.lo = lo;
    this.hi = hi;
    this.k = (p1 - p0) / (hi - lo);
  }

  map(value: number): number {
    const v = this.log ? Math.log10(value) : value;
    return this.p0 + (v - this.lo) * this.k;
  }

  /** Tick values (in data units) for about `count` ticks; whole numbers if `integer`. */
  ticks(count = 5, integer = false): number[] {
    if (this.log) {
      const out: number[] = [];
      const first = Math.ceil(this.lo);
      const last = Math.floor(this.hi);
      const stride = Math.max(1, Math.ceil((last - first + 1) / count));
      for (let e = first; e <= last; e += stride) {
        out.push(Math.pow(10, e));
      }
      if (out.length >= 2) {
        return out;
      }
    }
    const lo = this.log ? Math.pow(10, this.lo) : this.lo;
    const hi = this.log ? Math.pow(10, this.hi) : this.hi;
    const step = integer ? Math.max(1, niceStep((hi - lo) / count)) : niceStep((hi - lo) / count);
    const out: number[] = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return out;
  }

  readonly lo: number;
  readonly hi: number;
  private readonly k: number;
}

function niceStep(raw: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / power;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
}

/** The [min, max] of the finite (and, for a log scale, positive) values. */
export function extent(values: Iterable<number | null>, log = false): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v === null || !isFinite(v) || (log && v <= 0)) {
      continue;
    }
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : null;
}

/** A short human form of a number: 0.981, 1.2e-4, 12345. */
export function formatNumber(value: number | null): string {
  if (value === null || !isFinite(value)) {
    return '–';
  }
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    return value.toExponential(3).replace(/\.?0+e/, 'e');
  }
  return String(Number(value.toPrecision(4)));
}

/** A duration in seconds as 12.3 s, 4 min 05 s or 1 h 02 min. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) {
    return '–';
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const m = Math.floor(seconds / 60);
  if (m < 60) {
    return `${m} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  }
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

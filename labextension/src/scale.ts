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
    readonly rawLo: number,
    readonly rawHi: number,
    readonly p0: number,
    readonly p1: number,
    readonly log = false
  ) {
    let lo = rawLo;
    let hi = rawHi;
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

  /** The data value at pixel `px` (the inverse of `map`). */
  invert(px: number): number {
    const v = this.lo + (px - this.p0) / this.k;
    return this.log ? Math.pow(10, v) : v;
  }

  /** The same data interval on pixels moved by `d0` (at p0) and `d1` (at p1). */
  shift(d0: number, d1: number): Scale {
    if (d0 === 0 && d1 === 0) {
      return this;
    }
    return new Scale(this.rawLo, this.rawHi, this.p0 + d0, this.p1 + d1, this.log);
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

/**
 * Score limits that keep the good end exact but leave out a few far-off bad scores (as the
 * PNG does): with 10 values or more, the bad end stops at q90 + (q90 - best), where q90 is
 * the 90th percentile of the losses. Null when no value is finite.
 */
export function robustExtent(
  values: number[],
  direction: 'minimize' | 'maximize'
): [number, number] | null {
  const sign = direction === 'maximize' ? -1 : 1;
  const losses: number[] = [];
  for (const v of values) {
    if (isFinite(v)) {
      losses.push(sign * v);
    }
  }
  if (losses.length === 0) {
    return null;
  }
  losses.sort((a, b) => a - b);
  const lo = losses[0];
  let hi = losses[losses.length - 1];
  if (losses.length >= 10) {
    const q = losses[Math.floor(0.9 * (losses.length - 1))];
    hi = Math.min(hi, q + (q - lo));
  }
  const a = sign * lo;
  const b = sign * hi;
  return a <= b ? [a, b] : [b, a];
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

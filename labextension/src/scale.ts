/**
 * Linear and log scales, tick positions and number formatting for the canvas charts.
 */

/** Tick values one axis draws at most, whatever it is asked for. */
const MAX_TICKS = 50;
/** A one-value axis spans this share of the value on either side (at least 0.5). */
const ONE_VALUE_WINDOW = 1e-9;

export class Scale {
  /**
   * Map the data interval [lo, hi] to the pixel interval [p0, p1].
   *
   * A log scale ignores values <= 0 when it is built; `map` of such a value is NaN. Limits
   * beyond the largest double are clamped to it, and spans wider than it (from -1e308 to
   * 1e308) are measured in halves: every finite value maps to a finite pixel.
   */
  constructor(
    readonly rawLo: number,
    readonly rawHi: number,
    readonly p0: number,
    readonly p1: number,
    readonly log = false
  ) {
    // log10 of every positive double lies within ±330.
    const limit = log ? 330 : Number.MAX_VALUE;
    const clamp = (v: number) => Math.max(-limit, Math.min(limit, v));
    let lo = clamp(log ? Math.log10(rawLo) : rawLo);
    let hi = clamp(log ? Math.log10(rawHi) : rawHi);
    if (!(hi > lo && isFinite((p1 - p0) / halfSpan(lo, hi)))) {
      // One value only (or two a few subnormals apart): centre it in a window wide enough
      // to tell its ends apart (beyond 2^53, mid ± 0.5 rounds back to mid).
      const mid = isFinite(lo) ? lo : isFinite(hi) ? hi : 0;
      const half = Math.max(0.5, Math.abs(mid) * ONE_VALUE_WINDOW);
      lo = clamp(mid - half);
      hi = clamp(mid + half);
    }
    this.lo = lo;
    this.hi = hi;
    this.k = (p1 - p0) / halfSpan(lo, hi);
  }

  map(value: number): number {
    const v = this.log ? Math.log10(value) : value;
    return this.p0 + (v / 2 - this.lo / 2) * this.k;
  }

  /** The data value at pixel `px` (the inverse of `map`). */
  invert(px: number): number {
    const v = 2 * (this.lo / 2 + (px - this.p0) / this.k);
    return this.log ? Math.pow(10, v) : v;
  }

  /** The same data interval on pixels moved by `d0` (at p0) and `d1` (at p1). */
  shift(d0: number, d1: number): Scale {
    if (d0 === 0 && d1 === 0) {
      return this;
    }
    return new Scale(this.rawLo, this.rawHi, this.p0 + d0, this.p1 + d1, this.log);
  }

  /**
   * Tick values (in data units) for about `count` ticks; whole numbers if `integer`. Never
   * more than MAX_TICKS, and no two equal: a step finer than the doubles near the axis (at
   * 1e17 they are 16 apart) is widened to a few of their spacings. When no multiple of the
   * step falls on the axis, its middle is the one tick.
   */
  ticks(count = 5, integer = false): number[] {
    if (this.log) {
      const first = Math.ceil(this.lo);
      const last = Math.floor(this.hi);
      const stride = Math.max(1, Math.ceil((last - first + 1) / count));
      const out = steps(first, last, stride).map(e => Math.pow(10, e));
      if (out.length >= 2) {
        return out;
      }
    }
    const lo = this.log ? Math.pow(10, this.lo) : this.lo;
    const hi = this.log ? Math.pow(10, this.hi) : this.hi;
    const spacing = Math.max(Math.abs(lo), Math.abs(hi)) * Number.EPSILON * 4;
    let step = niceStep(Math.max((halfSpan(lo, hi) / count) * 2, spacing, 1e-300));
    if (integer) {
      step = Math.max(1, step);
    }
    const first = Math.ceil(lo / step);
    const last = Math.floor(hi / step + 1e-9);
    const out: number[] = [];
    for (const n of steps(first, last, 1)) {
      const t = n === 0 ? 0 : n * step;
      if (t !== out[out.length - 1]) {
        out.push(t);
      }
    }
    if (out.length === 0) {
      const mid = lo / 2 + hi / 2;
      out.push(integer ? Math.round(mid) : mid);
    }
    return out;
  }

  readonly lo: number;
  readonly hi: number;
  /** Pixels per half data unit. */
  private readonly k: number;
}

/** Half of hi - lo, finite for any finite limits (the difference itself may overflow). */
function halfSpan(lo: number, hi: number): number {
  return hi / 2 - lo / 2;
}

/** first, first + stride, ... up to last: at most MAX_TICKS of them, evenly thinned. */
function steps(first: number, last: number, stride: number): number[] {
  const n = Math.floor((last - first) / stride) + 1;
  if (!(n >= 1)) {
    return [];
  }
  const every = stride * Math.max(1, Math.ceil(n / MAX_TICKS));
  const out: number[] = [];
  for (let i = 0; i * every <= last - first && out.length < MAX_TICKS; i++) {
    out.push(first + i * every);
  }
  return out;
}

function niceStep(raw: number): number {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / power;
  // Capped: a step of 10^309 would be Infinity.
  return Math.min(Number.MAX_VALUE, (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power);
}

/** `[lo, hi]` widened by `fraction` of its span at each end, within the finite doubles. */
export function padRange(lo: number, hi: number, fraction = 0.04): [number, number] {
  const pad = halfSpan(lo, hi) * (2 * fraction);
  return [Math.max(-Number.MAX_VALUE, lo - pad), Math.min(Number.MAX_VALUE, hi + pad)];
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

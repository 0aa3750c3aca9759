/**
 * Dominance, the Pareto front and the hypervolume of loss vectors (every objective
 * minimised), by the rules of the study's own (`hpt_magic/_pareto.py`): exact while that is
 * cheap, else a Monte Carlo estimate from the same fixed samples, so the view and the kernel
 * give the same numbers.
 */

/** The exact hypervolume of m front points in k > 2 objectives takes about m^(k-1) steps. */
const EXACT_WORK = 2e6;
/** Points the estimate draws: its standard error is at most 0.5 / sqrt(SAMPLES) of its box. */
const SAMPLES = 1 << 15;
/** The first counter of the estimate's fixed sequence of random numbers. */
const SEED = 0x5eed;

/** True when loss vector `a` dominates `b` (no worse anywhere, better somewhere). */
function dominates(a: number[], b: number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) {
      return false;
    }
    better = better || a[i] < b[i];
  }
  return better;
}

/** The non-dominated rows of `losses` (indices into it), by increasing first loss. */
export function nonDominated(losses: number[][]): number[] {
  const order = losses.map((_, i) => i);
  // Lexicographic order: no point is dominated by one after it.
  order.sort((i, j) => {
    const a = losses[i];
    const b = losses[j];
    for (let d = 0; d < a.length; d++) {
      if (a[d] !== b[d]) {
        return a[d] - b[d];
      }
    }
    return 0;
  });
  const front: number[] = [];
  for (const i of order) {
    if (!front.some(f => dominates(losses[f], losses[i]))) {
      front.push(i);
    }
  }
  return front;
}

/** The steps of the exact hypervolume of `m` front points in `k` objectives. */
function work(m: number, k: number): number {
  return k <= 2 ? 0 : Math.pow(m, k - 1);
}

/** True when `p` beats the reference in every objective. */
function inside(p: number[], reference: number[]): boolean {
  return p.every((v, d) => v < reference[d]);
}

/**
 * The hypervolume dominated by `losses` up to `reference`: exact while the front's m points
 * in k objectives take at most EXACT_WORK steps (m^(k-1)), else estimated (see `estimate`).
 */
export function hypervolume(losses: number[][], reference: number[]): number {
  const pts = losses.filter(p => inside(p, reference));
  if (pts.length === 0) {
    return 0;
  }
  const front = nonDominated(pts).map(i => pts[i]);
  if (work(front.length, reference.length) <= EXACT_WORK) {
    return exact(front, reference);
  }
  const { volume, first } = estimate(front, reference);
  let dominated = 0;
  for (let s = 0; s < SAMPLES; s++) {
    dominated += first[s] < front.length ? 1 : 0;
  }
  return (volume * dominated) / SAMPLES;
}

/**
 * The hypervolume of `losses.slice(0, end)` for each of `ends` (increasing). Exact when the
 * fronts of all those prefixes together stay within EXACT_WORK; otherwise one estimate
 * serves them all, each sample counted from the first point that dominates it on. The last
 * value is always `hypervolume(losses.slice(0, ends[ends.length - 1]), reference)`.
 */
export function prefixHypervolumes(
  losses: number[][],
  reference: number[],
  ends: number[]
): number[] {
  const k = reference.length;
  const last = ends.length ? ends[ends.length - 1] : 0;
  const rows: number[] = [];
  for (let n = 0; n < last; n++) {
    if (inside(losses[n], reference)) {
      rows.push(n);
    }
  }
  // The front so far grows by the points since the last end: each step ranks tens of
  // points, not every point again.
  const fronts: number[][][] = [];
  let front: number[][] = [];
  let r = 0;
  let total = 0;
  for (const end of ends) {
    const grown = [...front];
    for (; r < rows.length && rows[r] < end; r++) {
      grown.push(losses[rows[r]]);
    }
    front = nonDominated(grown).map(i => grown[i]);
    fronts.push(front);
    total += work(front.length, k);
  }
  if (total <= EXACT_WORK) {
    return fronts.map(f => (f.length ? exact(f, reference) : 0));
  }
  const { volume, first } = estimate(rows.map(n => losses[n]), reference);
  // How many samples each row dominates first; then, cumulated, those dominated by the end.
  const firsts = new Float64Array(rows.length + 1);
  for (let s = 0; s < SAMPLES; s++) {
    firsts[first[s]]++;
  }
  const out: number[] = [];
  let dominated = 0;
  r = 0;
  for (const end of ends) {
    for (; r < rows.length && rows[r] < end; r++) {
      dominated += firsts[r];
    }
    out.push((volume * dominated) / SAMPLES);
  }
  if (work(front.length, k) <= EXACT_WORK) {
    out[out.length - 1] = exact(front, reference);
  }
  return out;
}

/**
 * The exact hypervolume of the non-dominated `pts` (each inside `reference`). Two
 * objectives: one sweep; more: slices along the last objective.
 */
function exact(pts: number[][], reference: number[]): number {
  const d = reference.length;
  if (d === 1) {
    return reference[0] - pts.reduce((lo, p) => Math.min(lo, p[0]), Infinity);
  }
  if (d === 2) {
    // Dominated points change nothing here: the sweep steps over them.
    pts = [...pts].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let volume = 0;
    let lowest = reference[1];
    for (const p of pts) {
      if (p[1] < lowest) {
        volume += (reference[0] - p[0]) * (lowest - p[1]);
        lowest = p[1];
      }
    }
    return volume;
  }
  const front = [...pts].sort((a, b) => a[d - 1] - b[d - 1]);
  let volume = 0;
  for (let k = 0; k < front.length; k++) {
    const top = k + 1 < front.length ? front[k + 1][d - 1] : reference[d - 1];
    if (top > front[k][d - 1]) {
      let slice = front.slice(0, k + 1).map(p => p.slice(0, d - 1));
      if (d - 1 > 2) {
        slice = nonDominated(slice).map(i => slice[i]);
      }
      volume += exact(slice, reference.slice(0, d - 1)) * (top - front[k][d - 1]);
    }
  }
  return volume;
}

/**
 * The volume of the box between the best of `rows` (each inside `reference`) and the
 * reference, and for each of SAMPLES uniform points of it, the first row that dominates it
 * (`rows.length`: none).
 */
function estimate(rows: number[][], reference: number[]): { volume: number; first: Int32Array } {
  const k = reference.length;
  const ideal = [...rows[0]];
  for (const p of rows) {
    for (let d = 0; d < k; d++) {
      ideal[d] = Math.min(ideal[d], p[d]);
    }
  }
  let volume = 1;
  for (let d = 0; d < k; d++) {
    volume *= reference[d] - ideal[d];
  }
  const first = new Int32Array(SAMPLES);
  const sample = new Float64Array(k);
  for (let s = 0; s < SAMPLES; s++) {
    for (let d = 0; d < k; d++) {
      sample[d] = ideal[d] + uniform(s * k + d) * (reference[d] - ideal[d]);
    }
    let r = 0;
    for (; r < rows.length; r++) {
      const p = rows[r];
      let d = 0;
      while (d < k && p[d] <= sample[d]) {
        d++;
      }
      if (d === k) {
        break;
      }
    }
    first[s] = r;
  }
  return { volume, first };
}

/**
 * The `i`-th number in (0, 1) of a fixed sequence: a 32-bit integer hash (lowbias32) of
 * SEED + i, as `_uniform` of `hpt_magic/_pareto.py` computes it.
 */
function uniform(i: number): number {
  let x = (SEED + i) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return (x + 0.5) / 4294967296;
}

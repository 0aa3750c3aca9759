/**
 * The charts of a multi-objective study: the Pareto front (one scatter per pair of
 * objectives, the front joined by a step line) and the hypervolume over trials.
 *
 * The same rules as the study's own (`hpt_magic/study/_pareto.py`): the front holds the
 * complete, feasible trials that no other such trial dominates; the hypervolume is measured
 * in losses (maximised objectives negated) against the study's reference point.
 */

import { isolate } from './bidi';
import { Chart } from './chart';
import { nonDominated, prefixHypervolumes } from './hypervolume';
import {
  BEST_COLOR,
  CHART_HEIGHT,
  DIMMED_ALPHA,
  IDrawState,
  INFEASIBLE_COLOR,
  Mark,
  addMark,
  clipArea,
  drawStar,
  inside,
  isDimmed,
  markOf,
  noteDimmed,
  paint,
  ring
} from './panels';
import { IObjective, IStudyDoc, ITrial } from './schema';
import { Scale, extent, padRange } from './scale';

/** Objectives shown as pairs at most: 5 objectives are 10 pairs. */
export const MAX_OBJECTIVES = 5;
/** Hypervolume computed after at most this many trials (evenly spread, the last included). */
const MAX_HV_POINTS = 200;
/** Beyond two objectives each hypervolume costs much more: fewer points. */
const MAX_HV_POINTS_MANY = 40;

/** The objective values of a trial the Pareto chart places, or null. */
export function objectiveValues(t: ITrial, k: number): number[] | null {
  const v = t.values;
  if (t.state !== 'complete' || v === null || v.length !== k) {
    return null;
  }
  for (let i = 0; i < k; i++) {
    if (v[i] === null) {
      return null;
    }
  }
  return v as number[];
}

/** `-1` for a maximised objective: sign * value is a loss. */
function signs(objectives: IObjective[]): number[] {
  return objectives.map(o => (o.direction === 'maximize' ? -1 : 1));
}

/** What the Pareto and hypervolume charts show of a document, computed once per render. */
export interface IParetoData {
  objectives: IObjective[];
  /** Indices into `doc.trials` of the placed trials, by trial number. */
  placed: number[];
  /** `values[n]` are the objective values of `doc.trials[placed[n]]`. */
  values: number[][];
  feasible: boolean[];
  /** Indices into `doc.trials` of the front's trials. */
  front: Set<number>;
  nInfeasible: number;
  /** The hypervolume after trial `hvX[n]` is `hvY[n]`. */
  hvX: number[];
  hvY: number[];
}

/**
 * The study's reference point in losses (`default_reference` of `hpt_magic/_pareto.py`):
 * for each objective, the worst feasible loss plus a tenth of the spread; when all are
 * equal, plus a tenth of its size, or 1 at zero.
 */
export function defaultReference(losses: number[][]): number[] {
  const d = losses[0].length;
  const out: number[] = [];
  for (let i = 0; i < d; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of losses) {
      lo = Math.min(lo, p[i]);
      hi = Math.max(hi, p[i]);
    }
    const span = hi - lo;
    out.push(hi + (span > 0 ? 0.1 * span : hi !== 0 ? 0.1 * Math.abs(hi) : 1));
  }
  return out;
}

export function paretoData(doc: IStudyDoc): IParetoData {
  const objectives = doc.objectives;
  const k = objectives.length;
  const sign = signs(objectives);
  const placed: number[] = [];
  doc.trials.forEach((t, i) => {
    if (objectiveValues(t, k) !== null) {
      placed.push(i);
    }
  });
  placed.sort((i, j) => doc.trials[i].number - doc.trials[j].number);
  const values = placed.map(i => objectiveValues(doc.trials[i], k) as number[]);
  const feasible = placed.map(i => doc.trials[i].feasible !== false);
  const okLosses: number[][] = [];
  const okIndex: number[] = [];
  values.forEach((v, n) => {
    if (feasible[n]) {
      okLosses.push(v.map((x, d) => sign[d] * x));
      okIndex.push(n);
    }
  });
  const front = new Set(nonDominated(okLosses).map(m => placed[okIndex[m]]));
  const hvX: number[] = [];
  const hvY: number[] = [];
  if (okLosses.length) {
    const n = okLosses.length;
    const most = Math.min(n, k === 2 ? MAX_HV_POINTS : MAX_HV_POINTS_MANY);
    const ends: number[] = [];
    for (let c = 1; c <= most; c++) {
      const end = Math.max(1, Math.round((c * n) / most));
      if (end !== ends[ends.length - 1]) {
        ends.push(end);
        hvX.push(doc.trials[placed[okIndex[end - 1]]].number);
      }
    }
    hvY.push(...prefixHypervolumes(okLosses, defaultReference(okLosses), ends));
  }
  return {
    objectives,
    placed,
    values,
    feasible,
    front,
    nInfeasible: feasible.filter(f => !f).length,
    hvX,
    hvY
  };
}

/** The (x, y) objective pairs charted, in the order of the PNG's pairs grid. */
export function paretoPairs(k: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  const n = Math.min(k, MAX_OBJECTIVES);
  for (let j = 1; j < n; j++) {
    for (let i = 0; i < j; i++) {
      pairs.push([i, j]);
    }
  }
  return pairs;
}

export function objectiveTitle(o: IObjective): string {
  return `${isolate(o.name)} ${o.direction === 'maximize' ? '↑' : '↓'}`;
}

function paddedScale(values: number[], p0: number, p1: number): Scale {
  const [lo, hi] = padRange(...(extent(values) ?? [0, 1]));
  return new Scale(lo, hi, p0, p1);
}

/**
 * Objective `j` against objective `i`: feasible trials in their state's mark, infeasible
 * ones as crosses, the front starred (and, for two objectives, joined by the step line that
 * bounds the region it dominates); the selected trial ringed. Every placed trial can be hovered and clicked.
 */
export function drawPareto(
  chart: Chart,
  s: IDrawState,
  p: IParetoData,
  i: number,
  j: number,
  height = CHART_HEIGHT
): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, height);
  const a = chart.area;
  const { x, y } = chart.axes(
    ctx,
    paddedScale(
      p.values.map(v => v[i]),
      a.left,
      a.right
    ),
    paddedScale(
      p.values.map(v => v[j]),
      a.bottom - 4,
      a.top + 4
    ),
    s.ink,
    { xTitle: objectiveTitle(p.objectives[i]), yTitle: objectiveTitle(p.objectives[j]) }
  );
  clipArea(ctx, chart);
  const r = p.placed.length > 500 ? 1.8 : 2.8;
  const groups = new Map<string, number[]>();
  let nDimmed = 0;
  // Trials the brush leaves out first (their key ends in `|dim`), faint, under the others.
  for (const dim of [true, false]) {
    p.placed.forEach((trial, n) => {
      if (p.front.has(trial) || isDimmed(s, trial) !== dim) {
        return;
      }
      const mark = p.feasible[n]
        ? markOf(doc.trials[trial]).join('|')
        : `cross|${INFEASIBLE_COLOR}`;
      const key = dim ? `${mark}|dim` : mark;
      const list = groups.get(key) ?? [];
      list.push(n);
      groups.set(key, list);
      nDimmed += dim ? 1 : 0;
    });
  }
  for (const [key, ids] of groups) {
    const [mark, color, dim] = key.split('|') as [Mark, string, string?];
    ctx.globalAlpha = dim ? DIMMED_ALPHA : 1;
    ctx.beginPath();
    for (const n of ids) {
      const px = x.map(p.values[n][i]);
      const py = y.map(p.values[n][j]);
      if (inside(chart, px, py)) {
        addMark(ctx, mark, px, py, r);
        chart.addHit(px, py, p.placed[n]);
      }
    }
    paint(ctx, mark, color);
  }
  ctx.globalAlpha = 1;
  // The front in loss order along x: the dominated region's edge turns at (x[k+1], y[k]).
  const sign = signs(p.objectives);
  const front = p.placed
    .map((trial, n) => [trial, n])
    .filter(([trial]) => p.front.has(trial))
    .map(([, n]) => n)
    .sort(
      (m, n) =>
        sign[i] * (p.values[m][i] - p.values[n][i]) || sign[j] * (p.values[m][j] - p.values[n][j])
    );
  // A pair of three or more objectives has no such edge (front trials may be dominated in
  // the pair): the front is only starred there.
  if (p.objectives.length === 2) {
    ctx.beginPath();
    front.forEach((n, k) => {
      const px = x.map(p.values[n][i]);
      const py = y.map(p.values[n][j]);
      if (k === 0) {
        ctx.moveTo(px, py);
      } else {
        ctx.lineTo(px, y.map(p.values[front[k - 1]][j]));
        ctx.lineTo(px, py);
      }
    });
    ctx.strokeStyle = BEST_COLOR;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  for (const n of front) {
    const px = x.map(p.values[n][i]);
    const py = y.map(p.values[n][j]);
    const dim = isDimmed(s, p.placed[n]);
    ctx.globalAlpha = dim ? DIMMED_ALPHA : 1;
    nDimmed += dim ? 1 : 0;
    drawStar(ctx, px, py, p.placed.length > 500 ? 4 : 5);
    chart.addHit(px, py, p.placed[n]);
  }
  ctx.globalAlpha = 1;
  noteDimmed(chart, nDimmed);
  ctx.restore();
  if (s.selected >= 0) {
    const n = p.placed.indexOf(s.selected);
    if (n >= 0) {
      ring(ctx, x.map(p.values[n][i]), y.map(p.values[n][j]));
    }
  }
  const infeasible = p.nInfeasible ? `, ${p.nInfeasible} infeasible` : '';
  chart.setCaption(
    i === 0 && j === 1
      ? `Pareto front: ${p.front.size} of ${p.placed.length} trials${infeasible}`
      : `${isolate(p.objectives[j].name)} against ${isolate(p.objectives[i].name)}`
  );
}

/** The hypervolume of the feasible trials so far against trial number, as steps. */
export function drawHypervolume(chart: Chart, s: IDrawState, p: IParetoData): void {
  const ctx = chart.begin(s.width, CHART_HEIGHT);
  const a = chart.area;
  const numbers = extent(s.doc.trials.map(t => t.number)) ?? [0, 1];
  const { x, y } = chart.axes(
    ctx,
    new Scale(numbers[0] - 0.5, numbers[1] + 0.5, a.left, a.right),
    paddedScale([0, ...p.hvY], a.bottom - 4, a.top + 4),
    s.ink,
    { xTitle: 'trial', yTitle: 'hypervolume ↑', xInteger: true }
  );
  clipArea(ctx, chart);
  ctx.beginPath();
  p.hvX.forEach((n, k) => {
    const px = x.map(n);
    const py = y.map(p.hvY[k]);
    if (k === 0) {
      ctx.moveTo(px, py);
    } else {
      ctx.lineTo(px, y.map(p.hvY[k - 1]));
      ctx.lineTo(px, py);
    }
  });
  if (p.hvX.length) {
    ctx.lineTo(a.right, y.map(p.hvY[p.hvY.length - 1]));
  }
  ctx.strokeStyle = BEST_COLOR;
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.restore();
  const last = p.hvY.length ? p.hvY[p.hvY.length - 1] : null;
  chart.setCaption(
    last === null
      ? 'Hypervolume: no feasible trial yet'
      : `Hypervolume over trials (last ${Number(last.toPrecision(4))})`
  );
}

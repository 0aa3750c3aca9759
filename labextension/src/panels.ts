/**
 * The three kinds of chart of a study: history with best-so-far, learning curves, and one
 * score-against-value chart per parameter.
 *
 * Points of one state are drawn as one canvas path, so thousands of trials cost a few
 * fills, not thousands of DOM nodes. Hit ids are indices into `doc.trials`.
 */

import { Chart, IInk } from './chart';
import { IParamSpec, IStudyDoc, ITrial, Scalar, paramValue } from './schema';
import { Scale, extent, padRange, robustExtent } from './scale';

/**
 * One visual language with the PNG (`hpt_magic/visualization/_panels.py`): the same colours
 * and marks, explained by the legend (`legendItems`).
 */
const STATE_COLORS = new Map([
  ['complete', '#1f77b4'],
  ['pruned', '#8c8c8c'],
  ['failed', '#d62728'],
  ['running', '#2ca02c'],
  ['interrupted', '#8c564b'],
  ['waiting', '#bcbd22']
]);
const OTHER_COLOR = '#7f7f7f';
export const MANUAL_COLOR = '#9467bd';
export const BEST_COLOR = '#ff7f0e';
export const SELECTED_COLOR = '#e7298a';
/** Trials that break a constraint: crosses of this colour (the PNG's too). */
export const INFEASIBLE_COLOR = '#e377c2';

export const CHART_HEIGHT = 220;
export const PARAM_HEIGHT = 170;

/** How a trial is marked: dot, hollow circle (pruned), diamond (manual), cross (no score). */
export type Mark = 'dot' | 'hollow' | 'diamond' | 'cross' | 'line' | 'star' | 'ring';

export interface IDrawState {
  doc: IStudyDoc;
  /** Index into `doc.trials` of the selected trial, or -1. */
  selected: number;
  /** Index into `doc.trials` of the trial under the mouse, or -1. */
  hovered: number;
  /** Index into `doc.trials` of the best trial, or -1. */
  best: number;
  logScore: boolean;
  ink: IInk;
  width: number;
  /** The trials the brush leaves out (1, by index into `doc.trials`), or null: none. */
  dimmed: Uint8Array | null;
}

/** How opaque the marks of trials left out by the brush are drawn. */
export const DIMMED_ALPHA = 0.15;

/** True when trial `i` is left out by the brush. */
export function isDimmed(s: IDrawState, i: number): boolean {
  return s.dimmed !== null && s.dimmed[i] === 1;
}

/** Record on the chart how many trials it drew dimmed (tests and tools read it). */
export function noteDimmed(chart: Chart, n: number): void {
  chart.node.dataset.dimmed = String(n);
}

export function stateColor(state: string): string {
  return STATE_COLORS.get(state) ?? OTHER_COLOR;
}

/** The mark and colour of a scored trial. */
export function markOf(t: ITrial): [Mark, string] {
  if (t.manual && t.state === 'complete') {
    return ['diamond', MANUAL_COLOR];
  }
  return [t.state === 'pruned' ? 'hollow' : 'dot', stateColor(t.state)];
}

/** Add one mark of kind `mark` centred at (px, py) to the current path. */
export function addMark(
  ctx: CanvasRenderingContext2D,
  mark: Mark,
  px: number,
  py: number,
  r: number
): void {
  if (mark === 'diamond') {
    const d = r * 1.4;
    ctx.moveTo(px, py - d);
    ctx.lineTo(px + d, py);
    ctx.lineTo(px, py + d);
    ctx.lineTo(px - d, py);
    ctx.closePath();
  } else if (mark === 'cross') {
    ctx.moveTo(px - 3, py - 3);
    ctx.lineTo(px + 3, py + 3);
    ctx.moveTo(px + 3, py - 3);
    ctx.lineTo(px - 3, py + 3);
  } else {
    ctx.moveTo(px + r, py);
    ctx.arc(px, py, r, 0, 2 * Math.PI);
  }
}

/** Fill (or stroke, for hollow circles and crosses) the current path in `color`. */
export function paint(ctx: CanvasRenderingContext2D, mark: Mark, color: string): void {
  if (mark === 'hollow' || mark === 'cross') {
    ctx.strokeStyle = color;
    ctx.lineWidth = mark === 'cross' ? 1.2 : 1;
    ctx.stroke();
  } else {
    ctx.fillStyle = color;
    ctx.fill();
  }
}

/** A five-pointed star: the best trial, in every chart. */
export function drawStar(ctx: CanvasRenderingContext2D, px: number, py: number, r = 6): void {
  if (!isFinite(px) || !isFinite(py)) {
    return;
  }
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const radius = k % 2 === 0 ? r : r * 0.45;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    const x = px + radius * Math.cos(angle);
    const y = py + radius * Math.sin(angle);
    if (k === 0) {
      ctx.moveTo(x, y);
    } else {
      ctx.lineTo(x, y);
    }
  }
  ctx.closePath();
  ctx.fillStyle = BEST_COLOR;
  ctx.fill();
  ctx.strokeStyle = '#000000';
  ctx.lineWidth = 0.6;
  ctx.stroke();
}

/** A legend swatch: `mark` in `color` on a small canvas. */
export function drawSwatch(canvas: HTMLCanvasElement, mark: Mark, color: string): void {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(16 * ratio);
  canvas.height = Math.round(12 * ratio);
  canvas.style.width = '16px';
  canvas.style.height = '12px';
  const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, 16, 12);
  if (mark === 'star') {
    drawStar(ctx, 8, 6, 5.5);
  } else if (mark === 'ring') {
    ring(ctx, 8, 6, 4.5);
  } else if (mark === 'line') {
    ctx.beginPath();
    ctx.moveTo(1, 6);
    ctx.lineTo(15, 6);
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.stroke();
  } else {
    ctx.beginPath();
    addMark(ctx, mark, 8, 6, 3);
    paint(ctx, mark, color);
  }
}

/** What the legend lists: the marks present in `doc`, in a fixed order. */
export function legendItems(doc: IStudyDoc): Array<[string, Mark, string]> {
  const seen = new Set<string>();
  for (const t of doc.trials) {
    if (t.value === null) {
      seen.add(`cross:${t.state}`);
    } else {
      seen.add(markOf(t).join(':') === `diamond:${MANUAL_COLOR}` ? 'manual' : t.state);
    }
  }
  const items: Array<[string, Mark, string]> = [];
  const add = (key: string, label: string, mark: Mark, color: string) => {
    if (seen.has(key)) {
      items.push([label, mark, color]);
    }
  };
  add('complete', 'complete', 'dot', stateColor('complete'));
  add('manual', 'manual', 'diamond', MANUAL_COLOR);
  add('pruned', 'pruned (score reached)', 'hollow', stateColor('pruned'));
  add('running', 'running', 'dot', stateColor('running'));
  for (const state of STATE_COLORS.keys()) {
    add(`cross:${state}`, `${state}, no score`, 'cross', stateColor(state));
  }
  if (doc.objectives.length > 1) {
    if (doc.trials.some(t => t.feasible === false)) {
      items.push(['infeasible', 'cross', INFEASIBLE_COLOR]);
    }
    items.push(['Pareto front', 'star', BEST_COLOR]);
  } else if (doc.progress.best) {
    items.push(['best so far', 'line', BEST_COLOR], ['best trial', 'star', BEST_COLOR]);
  }
  items.push(['selected', 'ring', SELECTED_COLOR]);
  return items;
}

/** Indices of the scored trials that pass `keep`, grouped by mark and colour. */
function byMark(doc: IStudyDoc, keep: (t: ITrial) => boolean): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  doc.trials.forEach((t, i) => {
    if (keep(t)) {
      const key = markOf(t).join('|');
      const list = groups.get(key) ?? [];
      list.push(i);
      groups.set(key, list);
    }
  });
  return groups;
}

/**
 * The score axis for `values`: robust limits (a few far-off bad scores are left out, as in
 * the PNG), log when asked and every value is positive (the view disables the toggle else).
 */
function scoreScale(values: number[], s: IDrawState, chart: Chart): Scale {
  const a = chart.area;
  const logRange = s.logScore ? extent(values, true) : null;
  if (logRange) {
    return new Scale(logRange[0], logRange[1], a.bottom - 4, a.top + 4, true);
  }
  const [lo, hi] = padRange(...(robustExtent(values, s.doc.direction) ?? [0, 1]));
  return new Scale(lo, hi, a.bottom - 4, a.top + 4);
}

function scoreTitle(s: IDrawState): string {
  const arrow = s.doc.direction === 'maximize' ? '↑' : '↓';
  return `score ${arrow}${s.logScore ? ' (log)' : ''}`;
}

function scores(doc: IStudyDoc): number[] {
  const out: number[] = [];
  for (const t of doc.trials) {
    if (t.value !== null) {
      out.push(t.value);
    }
  }
  return out;
}

/** True when (px, py) lies in the plotting area (data outside it is clipped, not hit). */
export function inside(chart: Chart, px: number, py: number): boolean {
  const a = chart.area;
  return px >= a.left - 1 && px <= a.right + 1 && py >= a.top - 1 && py <= a.bottom + 1;
}

/** Clip what follows to the plotting area; undone by `ctx.restore()`. */
export function clipArea(ctx: CanvasRenderingContext2D, chart: Chart): void {
  const a = chart.area;
  ctx.save();
  ctx.beginPath();
  ctx.rect(a.left, a.top - 2, a.right - a.left, a.bottom - a.top + 4);
  ctx.clip();
}

/**
 * Draw the marks of the scored trials at (xOf(i), y.map(value)), one path per mark; those
 * the brush leaves out first and faint. Returns how many were drawn dimmed.
 */
function drawPoints(
  ctx: CanvasRenderingContext2D,
  chart: Chart,
  s: IDrawState,
  xOf: (i: number) => number,
  y: Scale
): number {
  const r = s.doc.trials.length > 500 ? 1.8 : 2.8;
  let nDimmed = 0;
  for (const dimmed of s.dimmed ? [true, false] : [false]) {
    ctx.globalAlpha = dimmed ? DIMMED_ALPHA : 1;
    for (const [key, ids] of byMark(s.doc, t => t.value !== null)) {
      const [mark, color] = key.split('|') as [Mark, string];
      ctx.beginPath();
      for (const i of ids) {
        if (isDimmed(s, i) !== dimmed) {
          continue;
        }
        const px = xOf(i);
        const py = y.map(s.doc.trials[i].value as number);
        if (isFinite(px) && isFinite(py) && inside(chart, px, py)) {
          addMark(ctx, mark, px, py, r);
          chart.addHit(px, py, i);
          nDimmed += dimmed ? 1 : 0;
        }
      }
      paint(ctx, mark, color);
    }
  }
  ctx.globalAlpha = 1;
  return nDimmed;
}

export function ring(ctx: CanvasRenderingContext2D, px: number, py: number, r = 6): void {
  if (!isFinite(px) || !isFinite(py)) {
    return;
  }
  ctx.beginPath();
  ctx.arc(px, py, r, 0, 2 * Math.PI);
  ctx.strokeStyle = SELECTED_COLOR;
  ctx.lineWidth = 2;
  ctx.stroke();
}

/** The best trial's star and the selected trial's ring, where `at(i)` places them. */
function marks(ctx: CanvasRenderingContext2D, s: IDrawState, at: (i: number) => [number, number]) {
  if (s.best >= 0) {
    drawStar(ctx, ...at(s.best));
  }
  if (s.selected >= 0) {
    ring(ctx, ...at(s.selected));
  }
}

/** Score of every trial against its number, with the best-so-far step line. */
export function drawHistory(chart: Chart, s: IDrawState): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, CHART_HEIGHT);
  const a = chart.area;
  const numbers = extent(doc.trials.map(t => t.number)) ?? [0, 1];
  const { x, y } = chart.axes(
    ctx,
    new Scale(numbers[0] - 0.5, numbers[1] + 0.5, a.left, a.right),
    scoreScale(scores(doc), s, chart),
    s.ink,
    { xTitle: 'trial', yTitle: scoreTitle(s), xInteger: true }
  );

  clipArea(ctx, chart);
  const order = doc.trials
    .map((_, i) => i)
    .sort((i, j) => doc.trials[i].number - doc.trials[j].number);
  ctx.beginPath();
  let best: number | null = null;
  let lastY = NaN;
  for (const i of order) {
    const t = doc.trials[i];
    if (t.state !== 'complete' || t.value === null) {
      continue;
    }
    const better =
      doc.direction === 'maximize' ? t.value > (best ?? -Infinity) : t.value < (best ?? Infinity);
    if (!better) {
      continue;
    }
    best = t.value;
    const px = x.map(t.number);
    const py = y.map(best);
    if (!isFinite(py)) {
      continue;
    }
    if (isFinite(lastY)) {
      ctx.lineTo(px, lastY);
      ctx.lineTo(px, py);
    } else {
      ctx.moveTo(px, py);
    }
    lastY = py;
  }
  if (isFinite(lastY)) {
    ctx.lineTo(a.right, lastY);
  }
  ctx.strokeStyle = BEST_COLOR;
  ctx.lineWidth = 1.5;
  ctx.stroke();

  let nDimmed = drawPoints(ctx, chart, s, i => x.map(doc.trials[i].number), y);
  ctx.restore();

  // Trials without a score (failed, running, ...) sit as crosses on the bottom edge.
  const bottom = a.bottom - 3;
  const crosses = new Map<string, number[]>();
  doc.trials.forEach((t, i) => {
    if (t.value === null) {
      const list = crosses.get(t.state) ?? [];
      list.push(i);
      crosses.set(t.state, list);
    }
  });
  for (const [state, ids] of crosses) {
    for (const dimmed of [true, false]) {
      ctx.globalAlpha = dimmed ? DIMMED_ALPHA : 1;
      ctx.beginPath();
      for (const i of ids) {
        if (isDimmed(s, i) === dimmed) {
          const px = x.map(doc.trials[i].number);
          addMark(ctx, 'cross', px, bottom, 0);
          chart.addHit(px, bottom, i);
          nDimmed += dimmed ? 1 : 0;
        }
      }
      paint(ctx, 'cross', stateColor(state));
    }
  }
  ctx.globalAlpha = 1;
  noteDimmed(chart, nDimmed);
  marks(ctx, s, i => {
    const t = doc.trials[i];
    return [x.map(t.number), t.value === null ? bottom : y.map(t.value)];
  });
  chart.setCaption(`History: ${doc.trials.length} trials, score against trial number`);
}

/**
 * The intermediate scores of every trial against its step. A curve of one point (a trial
 * stopped after its first report) is drawn as a point; the score axis spans what is drawn.
 */
export function drawCurves(chart: Chart, s: IDrawState): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, CHART_HEIGHT);
  const a = chart.area;
  let stepLo = Infinity;
  let stepHi = -Infinity;
  const values: number[] = [];
  // Plain index loops: these run over every point of every curve.
  for (const t of doc.trials) {
    const curve = t.curve;
    for (let k = 0; k < curve.length; k++) {
      const step = curve[k][0];
      const value = curve[k][1];
      stepLo = Math.min(stepLo, step);
      stepHi = Math.max(stepHi, step);
      if (value !== null) {
        values.push(value);
      }
    }
  }
  const { x, y } = chart.axes(
    ctx,
    new Scale(isFinite(stepLo) ? stepLo : 0, isFinite(stepHi) ? stepHi : 1, a.left + 4, a.right - 4),
    scoreScale(values, s, chart),
    s.ink,
    { xTitle: 'step', yTitle: scoreTitle(s), xInteger: true }
  );

  const trace = (i: number, hits: boolean) => {
    let pen = false;
    const curve = doc.trials[i].curve;
    for (let k = 0; k < curve.length; k++) {
      const value = curve[k][1];
      const px = x.map(curve[k][0]);
      const py = value === null ? NaN : y.map(value);
      if (!isFinite(py)) {
        pen = false;
        continue;
      }
      if (pen) {
        ctx.lineTo(px, py);
      } else {
        ctx.moveTo(px, py);
        pen = true;
      }
      if (hits && inside(chart, px, py)) {
        chart.addHit(px, py, i);
      }
    }
  };
  const single = (i: number, r: number, hits: boolean) => {
    const [step, value] = doc.trials[i].curve[0];
    const px = x.map(step);
    const py = value === null ? NaN : y.map(value);
    if (isFinite(py)) {
      addMark(ctx, 'dot', px, py, r);
      if (hits && inside(chart, px, py)) {
        chart.addHit(px, py, i);
      }
    }
  };
  const groups = new Map<string, number[]>();
  let nCurves = 0;
  doc.trials.forEach((t, i) => {
    if (t.curve.length > 0) {
      const color = markOf(t)[1];
      const list = groups.get(color) ?? [];
      list.push(i);
      groups.set(color, list);
      nCurves++;
    }
  });
  clipArea(ctx, chart);
  // Many overlapping curves: fainter lines keep the dense regions readable.
  const alpha = Math.max(0.08, Math.min(0.8, 4 / Math.sqrt(nCurves)));
  ctx.lineWidth = 1;
  let nDimmed = 0;
  for (const dimmed of s.dimmed ? [true, false] : [false]) {
    // Curves the brush leaves out: much fainter, under the others.
    const fade = dimmed ? DIMMED_ALPHA : 1;
    for (const [color, allIds] of groups) {
      const ids = allIds.filter(i => isDimmed(s, i) === dimmed);
      nDimmed += dimmed ? ids.length : 0;
      ctx.globalAlpha = alpha * fade;
      ctx.beginPath();
      for (const i of ids) {
        if (doc.trials[i].curve.length > 1) {
          trace(i, true);
        }
      }
      ctx.strokeStyle = color;
      ctx.stroke();
      ctx.globalAlpha = Math.max(alpha, 0.5) * fade;
      ctx.beginPath();
      for (const i of ids) {
        if (doc.trials[i].curve.length === 1) {
          single(i, 2, true);
        }
      }
      ctx.fillStyle = color;
      ctx.fill();
    }
  }
  noteDimmed(chart, nDimmed);
  ctx.globalAlpha = 1;
  for (const [i, color] of [
    [s.best, BEST_COLOR],
    [s.hovered, s.ink.strong],
    [s.selected, SELECTED_COLOR]
  ] as Array<[number, string]>) {
    if (i >= 0 && doc.trials[i].curve.length > 0) {
      ctx.beginPath();
      if (doc.trials[i].curve.length === 1) {
        single(i, 3.5, false);
        ctx.fillStyle = color;
        ctx.fill();
      } else {
        trace(i, false);
        ctx.strokeStyle = color;
        ctx.lineWidth = 2.5;
        ctx.stroke();
      }
    }
  }
  ctx.restore();
  chart.setCaption(`Learning curves: ${nCurves} trials`);
}

/** Position of each option of a categorical parameter on its axis. */
function optionIndex(spec: IParamSpec): Map<Scalar, number> {
  return new Map((spec.options ?? []).map((o, i) => [o, i]));
}

/** Score against the value of one parameter, the best trial starred. */
export function drawParam(chart: Chart, spec: IParamSpec, s: IDrawState): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, PARAM_HEIGHT);
  const a = chart.area;
  const y0 = scoreScale(scores(doc), s, chart);
  let x0: Scale;
  let xLabels: string[] | undefined;
  let position: (v: Scalar | undefined, t: ITrial) => number;
  if (spec.type === 'choice') {
    const index = optionIndex(spec);
    const n = Math.max(1, index.size);
    x0 = new Scale(-0.5, n - 0.5, a.left, a.right);
    xLabels = (spec.options ?? []).map(o => String(o));
    // A fixed jitter per trial number keeps points of one option apart and stable.
    position = (v, t) => {
      const k = v === undefined ? undefined : index.get(v);
      return k === undefined ? NaN : k + (((t.number * 0.618034) % 1) - 0.5) * 0.5;
    };
  } else {
    const values = doc.trials.map(t => {
      const v = paramValue(t, spec.name);
      return typeof v === 'number' ? v : null;
    });
    const seen = extent(values, spec.log) ?? [0, 1];
    const lo = spec.low !== undefined && (!spec.log || spec.low > 0) ? spec.low : seen[0];
    const hi = spec.high ?? seen[1];
    x0 = new Scale(lo, hi, a.left + 4, a.right - 4, spec.log === true && lo > 0);
    position = v => (typeof v === 'number' ? v : NaN);
  }
  const { x, y } = chart.axes(ctx, x0, y0, s.ink, {
    xLabels,
    xTitle: spec.name,
    yTitle: scoreTitle(s),
    xInteger: spec.type === 'int'
  });
  const xOf = (i: number) => {
    const t = doc.trials[i];
    const v = position(paramValue(t, spec.name), t);
    return isFinite(v) ? x.map(v) : NaN;
  };
  clipArea(ctx, chart);
  noteDimmed(chart, drawPoints(ctx, chart, s, xOf, y));
  ctx.restore();
  marks(ctx, s, i => {
    const v = doc.trials[i].value;
    return [xOf(i), v === null ? NaN : y.map(v)];
  });
  chart.setCaption(spec.name);
}

/**
 * The parameters to chart: the declared ones, then any name only seen in trials (a
 * define-by-run space may grow), typed from the values seen.
 */
export function paramSpecs(doc: IStudyDoc): IParamSpec[] {
  const specs = [...doc.params];
  const known = new Set(specs.map(p => p.name));
  const seen = new Map<string, Scalar[]>();
  for (const t of doc.trials) {
    for (const [name, value] of Object.entries(t.params)) {
      if (!known.has(name)) {
        const list = seen.get(name) ?? [];
        list.push(value);
        seen.set(name, list);
      }
    }
  }
  for (const [name, values] of seen) {
    if (values.every(v => typeof v === 'number')) {
      specs.push({ name, type: 'float' });
    } else {
      specs.push({ name, type: 'choice', options: [...new Set(values)] });
    }
  }
  return specs;
}

/**
 * The three kinds of chart of a study: history with best-so-far, learning curves, and one
 * score-against-value chart per parameter.
 *
 * Points of one state are drawn as one canvas path, so thousands of trials cost a few
 * fills, not thousands of DOM nodes. Hit ids are indices into `doc.trials`.
 */

import { Chart, IInk } from './chart';
import { IParamSpec, IStudyDoc, ITrial, Scalar, paramValue } from './schema';
import { Scale, extent } from './scale';

const STATE_COLORS = new Map([
  ['complete', '#1f77b4'],
  ['pruned', '#9e9e9e'],
  ['failed', '#d62728'],
  ['running', '#ff7f0e'],
  ['interrupted', '#8c564b'],
  ['waiting', '#bcbd22']
]);
const OTHER_COLOR = '#7f7f7f';
const BEST_COLOR = '#2ca02c';
const SELECTED_COLOR = '#e7298a';

export const CHART_HEIGHT = 220;
export const PARAM_HEIGHT = 170;

export interface IDrawState {
  doc: IStudyDoc;
  /** Index into `doc.trials` of the selected trial, or -1. */
  selected: number;
  logScore: boolean;
  ink: IInk;
  width: number;
}

export function stateColor(state: string): string {
  return STATE_COLORS.get(state) ?? OTHER_COLOR;
}

/** Indices of the trials that pass `keep`, grouped by state. */
function byState(doc: IStudyDoc, keep: (t: ITrial) => boolean): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  doc.trials.forEach((t, i) => {
    if (keep(t)) {
      const list = groups.get(t.state) ?? [];
      list.push(i);
      groups.set(t.state, list);
    }
  });
  return groups;
}

function scoreScale(values: Iterable<number | null>, s: IDrawState, chart: Chart): Scale {
  const a = chart.area;
  const logRange = s.logScore ? extent(values, true) : null;
  if (logRange) {
    return new Scale(logRange[0], logRange[1], a.bottom - 4, a.top + 4, true);
  }
  const range = extent(values) ?? [0, 1];
  return new Scale(range[0], range[1], a.bottom - 4, a.top + 4);
}

function scoreTitle(s: IDrawState): string {
  const arrow = s.doc.direction === 'maximize' ? '↑' : '↓';
  return `score ${arrow}${s.logScore ? ' (log)' : ''}`;
}

/** Draw square markers for `ids` at (xOf(i), y.map(value)) in one fill per state. */
function drawPoints(
  ctx: CanvasRenderingContext2D,
  chart: Chart,
  s: IDrawState,
  xOf: (i: number) => number,
  y: Scale
): void {
  const r = s.doc.trials.length > 500 ? 1.5 : 2.5;
  for (const [state, ids] of byState(s.doc, t => t.value !== null)) {
    ctx.beginPath();
    for (const i of ids) {
      const px = xOf(i);
      const py = y.map(s.doc.trials[i].value as number);
      if (isFinite(px) && isFinite(py)) {
        ctx.rect(px - r, py - r, 2 * r, 2 * r);
        chart.addHit(px, py, i);
      }
    }
    ctx.fillStyle = stateColor(state);
    ctx.fill();
  }
}

function ring(ctx: CanvasRenderingContext2D, px: number, py: number): void {
  if (!isFinite(px) || !isFinite(py)) {
    return;
  }
  ctx.beginPath();
  ctx.arc(px, py, 6, 0, 2 * Math.PI);
  ctx.strokeStyle = SELECTED_COLOR;
  ctx.lineWidth = 2;
  ctx.stroke();
}

/** Score of every trial against its number, with the best-so-far step line. */
export function drawHistory(chart: Chart, s: IDrawState): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, CHART_HEIGHT);
  const a = chart.area;
  const numbers = extent(doc.trials.map(t => t.number)) ?? [0, 1];
  const x = new Scale(numbers[0] - 0.5, numbers[1] + 0.5, a.left, a.right);
  const y = scoreScale(
    doc.trials.map(t => t.value),
    s,
    chart
  );
  chart.axes(ctx, x, y, s.ink, { xTitle: 'trial', yTitle: scoreTitle(s), xInteger: true });

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

  drawPoints(ctx, chart, s, i => x.map(doc.trials[i].number), y);

  // Trials without a score (failed, running, ...) sit as crosses on the bottom edge.
  const groups = byState(doc, t => t.value === null);
  const py = a.bottom - 2;
  ctx.lineWidth = 1.2;
  for (const [state, ids] of groups) {
    ctx.beginPath();
    for (const i of ids) {
      const px = x.map(doc.trials[i].number);
      ctx.moveTo(px - 3, py - 3);
      ctx.lineTo(px + 3, py + 3);
      ctx.moveTo(px + 3, py - 3);
      ctx.lineTo(px - 3, py + 3);
      chart.addHit(px, py, i);
    }
    ctx.strokeStyle = stateColor(state);
    ctx.stroke();
  }

  if (s.selected >= 0) {
    const t = doc.trials[s.selected];
    ring(ctx, x.map(t.number), t.value === null ? py : y.map(t.value));
  }
  chart.setCaption(`History: ${doc.trials.length} trials, best so far in green`);
}

/** The intermediate scores of every trial against its step. */
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
  const x = new Scale(
    isFinite(stepLo) ? stepLo : 0,
    isFinite(stepHi) ? stepHi : 1,
    a.left + 4,
    a.right - 4
  );
  const y = scoreScale(values, s, chart);
  chart.axes(ctx, x, y, s.ink, { xTitle: 'step', yTitle: scoreTitle(s), xInteger: true });

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
      if (hits) {
        chart.addHit(px, py, i);
      }
    }
  };
  const groups = byState(doc, t => t.curve.length > 0);
  let nCurves = 0;
  for (const ids of groups.values()) {
    nCurves += ids.length;
  }
  // Many overlapping curves: fainter lines keep the dense regions readable.
  ctx.globalAlpha = Math.max(0.08, Math.min(0.8, 4 / Math.sqrt(nCurves)));
  ctx.lineWidth = 1;
  for (const [state, ids] of groups) {
    ctx.beginPath();
    for (const i of ids) {
      trace(i, true);
    }
    ctx.strokeStyle = stateColor(state);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  const bestNumber = doc.progress.best?.number;
  const bestIndex = doc.trials.findIndex(t => t.number === bestNumber);
  for (const [i, color] of [
    [bestIndex, BEST_COLOR],
    [s.selected, SELECTED_COLOR]
  ] as Array<[number, string]>) {
    if (i >= 0) {
      ctx.beginPath();
      trace(i, false);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2.5;
      ctx.stroke();
    }
  }
  chart.setCaption(`Learning curves: ${nCurves} trials`);
}

/** Position of each option of a categorical parameter on its axis. */
function optionIndex(spec: IParamSpec): Map<Scalar, number> {
  return new Map((spec.options ?? []).map((o, i) => [o, i]));
}

/** Score against the value of one parameter. */
export function drawParam(chart: Chart, spec: IParamSpec, s: IDrawState): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, PARAM_HEIGHT);
  const a = chart.area;
  const y = scoreScale(
    doc.trials.map(t => t.value),
    s,
    chart
  );
  let x: Scale;
  let xOf: (i: number) => number;
  let xLabels: string[] | undefined;
  if (spec.type === 'choice') {
    const index = optionIndex(spec);
    const n = Math.max(1, index.size);
    x = new Scale(-0.5, n - 0.5, a.left, a.right);
    xLabels = (spec.options ?? []).map(o => String(o));
    // A fixed jitter per trial number keeps points of one option apart and stable.
    xOf = i => {
      const t = doc.trials[i];
      const v = paramValue(t, spec.name);
      const k = v === undefined ? undefined : index.get(v);
      const jitter = (((t.number * 0.618034) % 1) - 0.5) * 0.5;
      return k === undefined ? NaN : x.map(k + jitter);
    };
  } else {
    const values = doc.trials.map(t => {
      const v = paramValue(t, spec.name);
      return typeof v === 'number' ? v : null;
    });
    const seen = extent(values, spec.log) ?? [0, 1];
    const lo = spec.low !== undefined && (!spec.log || spec.low > 0) ? spec.low : seen[0];
    const hi = spec.high ?? seen[1];
    x = new Scale(lo, hi, a.left + 4, a.right - 4, spec.log === true && lo > 0);
    xOf = i => {
      const v = paramValue(doc.trials[i], spec.name);
      return typeof v === 'number' ? x.map(v) : NaN;
    };
  }
  chart.axes(ctx, x, y, s.ink, {
    xLabels,
    xTitle: spec.name,
    yTitle: scoreTitle(s),
    xInteger: spec.type === 'int'
  });
  drawPoints(ctx, chart, s, xOf, y);
  if (s.selected >= 0 && doc.trials[s.selected].value !== null) {
    ring(ctx, xOf(s.selected), y.map(doc.trials[s.selected].value as number));
  }
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

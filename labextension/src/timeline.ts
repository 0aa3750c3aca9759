/**
 * The timeline (the PNG's `plot_timeline`): one bar per trial from its start to its end, on
 * the row of the worker that ran it, coloured by state. Stragglers stand out as long bars;
 * running trials reach "now". Hit ids are indices into `doc.trials`, as in the other charts.
 */

import { Chart } from './chart';
import {
  DIMMED_ALPHA,
  IDrawState,
  SELECTED_COLOR,
  drawStar,
  isDimmed,
  markOf,
  noteDimmed
} from './panels';
import { IStudyDoc, ITrial } from './schema';
import { Scale } from './scale';

/** Height (CSS px) of a row at most, and of all rows together at most. */
const ROW_HEIGHT = 22;
const MAX_ROWS_HEIGHT = 260;

/** The rows and where each trial sits on them. */
export interface ILanes {
  /** The trials drawn (indices into `doc.trials`), by start time. */
  ids: number[];
  /** The row of each of `ids`. */
  rows: number[];
  /** One label per row: the worker's name, `worker k`, or `lane k`. */
  labels: string[];
  /** The first start and the end of the picture (unix seconds). */
  t0: number;
  now: number;
}

/** The address part of a worker name (`tcp://10.0.0.5:4242` reads `10.0.0.5:4242`). */
function shortName(name: string): string {
  const at = name.indexOf('://');
  return at >= 0 ? name.slice(at + 3) : name;
}

/**
 * The rows of the timeline. A trial with a recorded worker (`--jobs`, Dask) goes on that
 * worker's row; the others (a serial run, an older study) get the first lane free at their
 * start, on rows after the workers', so that no two bars of a row ever overlap.
 */
export function timelineLanes(doc: IStudyDoc): ILanes {
  const trials = doc.trials;
  const ids = trials
    .map((_, i) => i)
    .filter(i => trials[i].started !== null && trials[i].state !== 'waiting')
    .sort((i, j) => (trials[i].started as number) - (trials[j].started as number));
  let latest = -Infinity;
  for (const i of ids) {
    const t = trials[i];
    latest = Math.max(latest, t.finished ?? (t.started as number));
  }
  // Running trials grow to the kernel's "now" while the run goes on; in a finished (or
  // saved) document a trial left running ends with the last thing that happened.
  const now =
    doc.progress.status === 'running' && doc.now !== null ? Math.max(doc.now, latest) : latest;
  const workers = [...new Set(ids.map(i => trials[i].worker).filter(w => w !== null))].sort(
    (a, b) => (a as number) - (b as number)
  ) as number[];
  const workerRow = new Map(workers.map((w, k) => [w, k]));
  const names: Array<Set<string>> = workers.map(() => new Set());
  const ends: number[] = [];
  const rows = ids.map(i => {
    const t = trials[i];
    if (t.worker !== null) {
      const row = workerRow.get(t.worker) as number;
      if (t.workerName !== null) {
        names[row].add(t.workerName);
      }
      return row;
    }
    const start = t.started as number;
    let lane = ends.findIndex(end => end <= start + 1e-9);
    if (lane < 0) {
      lane = ends.length;
      ends.push(0);
    }
    ends[lane] = endOf(t, now);
    return workers.length + lane;
  });
  // A row that held several workers over several runs keeps its number.
  const labels = workers.map((w, k) =>
    names[k].size === 1 ? shortName([...names[k]][0]) : `worker ${w}`
  );
  ends.forEach((_, k) => labels.push(`lane ${k}`));
  const t0 = ids.length ? (trials[ids[0]].started as number) : 0;
  return { ids, rows, labels, t0, now: Math.max(now, t0) };
}

function endOf(t: ITrial, now: number): number {
  return t.finished ?? now;
}

/** How long (seconds) a trial ran, or has been running up to `now`. */
export function trialDuration(t: ITrial, now: number | null): number | null {
  if (t.started === null) {
    return null;
  }
  const end = t.finished ?? now;
  return end === null ? null : Math.max(0, end - t.started);
}

/** Draw the timeline of `lanes` (see `timelineLanes`). */
export function drawTimeline(chart: Chart, s: IDrawState, lanes: ILanes): void {
  const { doc } = s;
  const trials = doc.trials;
  const nRows = Math.max(1, lanes.labels.length);
  const rowHeight = Math.max(3, Math.min(ROW_HEIGHT, MAX_ROWS_HEIGHT / nRows));
  const height = Math.max(90, Math.ceil(nRows * rowHeight) + 42);
  const ctx = chart.begin(s.width, height);
  const a = chart.area;
  const span = Math.max(1e-3, lanes.now - lanes.t0);
  const { x, y } = chart.axes(
    ctx,
    new Scale(0, span, a.left + 4, a.right - 4),
    new Scale(-0.5, nRows - 0.5, a.top, a.bottom),
    s.ink,
    { yLabels: lanes.labels, xTitle: 'seconds since the first trial started' }
  );
  const bar = Math.max(2, Math.abs(y.map(1) - y.map(0)) * 0.7);
  const boxes = new Map<number, [number, number, number, number]>();
  lanes.ids.forEach((i, k) => {
    const t = trials[i];
    const x0 = x.map((t.started as number) - lanes.t0);
    // Every bar at least 2 px wide (a quick trial still shows), with a pixel of gap to the
    // next one on its row (a worker's back-to-back trials stay apart).
    const end = x.map(endOf(t, lanes.now) - lanes.t0);
    const x1 = Math.max(x0 + 2, end - (end - x0 > 4 ? 1 : 0));
    const yc = y.map(lanes.rows[k]);
    boxes.set(i, [x0, yc - bar / 2, x1, yc + bar / 2]);
    chart.addBox(x0, yc - bar / 2 - 1, x1, yc + bar / 2 + 1, i);
  });
  // One path per colour: thousands of bars cost a few fills. Left-out trials first, faint.
  const groups = new Map<string, number[]>();
  for (const i of lanes.ids) {
    const color = markOf(trials[i])[1];
    const list = groups.get(color) ?? [];
    list.push(i);
    groups.set(color, list);
  }
  let nDimmed = 0;
  for (const dimmed of s.dimmed ? [true, false] : [false]) {
    ctx.globalAlpha = dimmed ? DIMMED_ALPHA : 0.9;
    for (const [color, ids] of groups) {
      ctx.beginPath();
      for (const i of ids) {
        if (isDimmed(s, i) === dimmed) {
          const [x0, y0, x1, y1] = boxes.get(i) as [number, number, number, number];
          ctx.rect(x0, y0, x1 - x0, y1 - y0);
          nDimmed += dimmed ? 1 : 0;
        }
      }
      ctx.fillStyle = color;
      ctx.fill();
    }
  }
  ctx.globalAlpha = 1;
  for (const [i, color, width] of [
    [s.hovered, s.ink.strong, 1.5],
    [s.selected, SELECTED_COLOR, 2]
  ] as Array<[number, string, number]>) {
    const box = boxes.get(i);
    if (box) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.strokeRect(box[0] - 1.5, box[1] - 1.5, box[2] - box[0] + 3, box[3] - box[1] + 3);
    }
  }
  const best = boxes.get(s.best);
  if (best) {
    drawStar(ctx, best[2], (best[1] + best[3]) / 2, Math.min(6, bar));
  }
  noteDimmed(chart, nDimmed);
  chart.node.dataset.rows = JSON.stringify(lanes.labels);
  chart.node.dataset.bars = String(lanes.ids.length);
  const n = lanes.ids.length;
  const what = lanes.labels.length === 1 ? 'one row' : `${lanes.labels.length} rows`;
  chart.setCaption(
    `Timeline: ${n} trial${n === 1 ? '' : 's'} on ${what}, each bar from its start to its end`
  );
}


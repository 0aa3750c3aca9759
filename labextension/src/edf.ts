/**
 * The empirical distribution of the complete trials' scores (the PNG's `plot_edf`): a step
 * line of the share of trials at least as good as each score. Hit ids are indices into
 * `doc.trials`, as in the other charts.
 */

import { isComplete } from './brush';
import { Chart } from './chart';
import {
  DIMMED_ALPHA,
  IDrawState,
  clipArea,
  drawStar,
  inside,
  isDimmed,
  noteDimmed,
  ring,
  stateColor
} from './panels';
import { Scale, extent, padRange, robustExtent } from './scale';

export const EDF_HEIGHT = 220;

/** One step line: trial `ids[k]` raises the share to `shares[k]` at its score. */
export interface IEdfLine {
  ids: number[];
  shares: number[];
}

/**
 * The steps over the complete trials `ids` (indices into `doc.trials`): sorted from the best
 * score to the worst, the k-th one at share (k + 1) / n. A minimised study reads "share of
 * trials with score <= x" left to right; a maximised one "share with score >= x", right to
 * left, so the line always climbs towards the worse scores.
 */
export function edfLine(s: IDrawState, ids: number[]): IEdfLine {
  const trials = s.doc.trials;
  const sign = s.doc.direction === 'maximize' ? -1 : 1;
  const sorted = [...ids].sort(
    (i, j) => sign * ((trials[i].value as number) - (trials[j].value as number))
  );
  return { ids: sorted, shares: sorted.map((_, k) => (k + 1) / sorted.length) };
}

/**
 * Draw the EDF. With a filter active, the main line (in the complete trials' colour) is the
 * distribution of the trials the filter keeps: that is the question a filter asks ("are the
 * scores of this region better?"). Dimming steps of one line would not answer it, since
 * the shares would still count the trials left out. The distribution of every complete
 * trial stays behind it as a faint line, for comparison; its steps of the trials left out
 * can still be hovered (their tooltip says "outside the filter").
 */
export function drawEdf(chart: Chart, s: IDrawState): void {
  const { doc } = s;
  const ctx = chart.begin(s.width, EDF_HEIGHT);
  const a = chart.area;
  const complete: number[] = [];
  doc.trials.forEach((t, i) => {
    if (isComplete(t)) {
      complete.push(i);
    }
  });
  const values = complete.map(i => doc.trials[i].value as number);
  const logRange = s.logScore ? extent(values, true) : null;
  let x0: Scale;
  if (logRange) {
    x0 = new Scale(logRange[0], logRange[1], a.left + 4, a.right - 4, true);
  } else {
    // As the other charts: a few far-off bad scores are left out of the axis.
    const [lo, hi] = padRange(...(robustExtent(values, doc.direction) ?? [0, 1]));
    x0 = new Scale(lo, hi, a.left + 4, a.right - 4);
  }
  const maximize = doc.direction === 'maximize';
  const { x, y } = chart.axes(ctx, x0, new Scale(0, 1, a.bottom - 2, a.top + 4), s.ink, {
    xTitle: `score${s.logScore && logRange ? ' (log)' : ''}`,
    yTitle: maximize ? 'share with score ≥ x' : 'share with score ≤ x'
  });

  const all = edfLine(s, complete);
  const kept = s.dimmed ? edfLine(s, complete.filter(i => !isDimmed(s, i))) : all;
  // Where each trial's step is drawn (for the star, the ring and the hits).
  const at = new Map<number, [number, number]>();
  const trace = (line: IEdfLine, hits: (i: number) => boolean) => {
    ctx.beginPath();
    // The line starts at share 0 beyond the best score, and climbs one step per trial.
    let prevY = y.map(0);
    line.ids.forEach((i, k) => {
      const px = x.map(doc.trials[i].value as number);
      const py = y.map(line.shares[k]);
      if (k === 0) {
        ctx.moveTo(maximize ? a.right : a.left, prevY);
      }
      ctx.lineTo(px, prevY);
      ctx.lineTo(px, py);
      prevY = py;
      if (hits(i) && isFinite(px) && inside(chart, px, py)) {
        chart.addHit(px, py, i);
        at.set(i, [px, py]);
      }
    });
    if (line.ids.length) {
      ctx.lineTo(maximize ? a.left : a.right, prevY);
    }
  };
  const color = stateColor('complete');
  clipArea(ctx, chart);
  if (s.dimmed) {
    ctx.globalAlpha = DIMMED_ALPHA * 2;
    trace(all, i => isDimmed(s, i));
    ctx.strokeStyle = s.ink.text;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
  trace(kept, () => true);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.6;
  ctx.stroke();
  // A dot on each step while they are few enough to tell apart.
  if (kept.ids.length <= 200) {
    ctx.beginPath();
    for (const i of kept.ids) {
      const p = at.get(i);
      if (p) {
        ctx.moveTo(p[0] + 2.2, p[1]);
        ctx.arc(p[0], p[1], 2.2, 0, 2 * Math.PI);
      }
    }
    ctx.fillStyle = color;
    ctx.fill();
  }
  if (s.hovered >= 0 && at.has(s.hovered)) {
    const [px, py] = at.get(s.hovered) as [number, number];
    ctx.beginPath();
    ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = s.ink.strong;
    ctx.fill();
  }
  ctx.restore();
  const place = (i: number): [number, number] => at.get(i) ?? [NaN, NaN];
  if (s.best >= 0) {
    drawStar(ctx, ...place(s.best));
  }
  if (s.selected >= 0) {
    ring(ctx, ...place(s.selected));
  }
  noteDimmed(chart, all.ids.length - kept.ids.length);
  chart.node.dataset.steps = kept.ids.map(i => doc.trials[i].value).join(',');
  const n = complete.length;
  const of = s.dimmed
    ? `the ${kept.ids.length} of ${n} complete trials kept`
    : `${n} complete trials`;
  chart.setCaption(`Scores: share of ${of} ${maximize ? '≥ x (maximised)' : '≤ x'}`);
}


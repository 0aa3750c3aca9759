/**
 * The parallel-coordinates panel: one vertical axis per parameter and per objective, one
 * polyline per complete trial coloured by its score (viridis, as the PNG), the best trial
 * in orange on top. Dragging along an axis brushes a range of it; the brushes of several
 * axes combine with AND into the view's filter, which every chart and the table dim by.
 *
 * Hit ids are indices into `doc.trials`, as in the other charts.
 */

import {
  Brush,
  IAxis,
  MAX_OBJECTIVE_AXES,
  brushMask,
  brushText,
  isComplete,
  parallelAxes
} from './brush';
import { Chart, IInk, ILabelHit, clip } from './chart';
import { BEST_COLOR, IDrawState, SELECTED_COLOR, drawStar, ring } from './panels';
import { IParamSpec, IStudyDoc } from './schema';
import { Scale, formatNumber } from './scale';

export const PARALLEL_HEIGHT = 250;
const MARGIN = { left: 14, right: 52, top: 30, bottom: 12 };
/** How close (CSS px) to an axis a drag starts a brush, and to a line a hover finds it. */
const AXIS_REACH = 10;
const LINE_REACH = 5;
/** A drag shorter than this (px) is a click: it clears the axis' brush. */
const CLICK_SLOP = 3;
const LABEL_GAP = 11;
const COLOR_BINS = 24;

/** matplotlib's viridis at nine evenly spaced stops (the PNG's colour map). */
const VIRIDIS = [
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37]
];

/**
 * A viridis colour for `t` in [0, 1] (clamped; NaN is the middle), within a part of the map
 * that reads on the theme.
 */
export function scoreColor(t: number, dark: boolean): string {
  const v = isNaN(t) ? 0.5 : Math.max(0, Math.min(1, t));
  // The darkest purples vanish on a dark background, the brightest yellows on a light one.
  const u = dark ? 0.3 + 0.7 * v : 0.82 * v;
  const x = u * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - k;
  const rgb = VIRIDIS[k].map((c, j) => Math.round(c + (VIRIDIS[k + 1][j] - c) * f));
  return `rgb(${rgb.join(',')})`;
}

function valueOf(doc: IStudyDoc, i: number): number {
  return doc.trials[i].value as number;
}

/** What the panel tells the view. */
export interface IParallelHost {
  /** The trial under the mouse (null: none), for the tooltip and the curves. */
  hover(index: number, event: MouseEvent): void;
  /** A shortened label under the mouse: its full text. */
  label(text: string, event: MouseEvent): void;
  leave(): void;
  select(index: number): void;
  /** The brush changed: redraw everything. */
  filter(): void;
}

export class ParallelPanel {
  readonly chart = new Chart('hpt-parallel');
  readonly brush: Brush = new Map();

  constructor(private host: IParallelHost) {
    const bar = document.createElement('div');
    bar.className = 'hpt-filter';
    this.status = document.createElement('span');
    this.status.className = 'hpt-filter-text';
    this.clear = document.createElement('button');
    this.clear.className = 'hpt-filter-clear';
    this.clear.type = 'button';
    this.clear.textContent = 'clear filter';
    this.clear.title = 'Show every trial again';
    this.clear.addEventListener('click', () => {
      this.brush.clear();
      this.host.filter();
      // The button hides: keep the keyboard focus in the panel.
      this.chart.canvas.focus();
    });
    bar.append(this.status, this.clear);
    this.chart.node.appendChild(bar);
    this.listen();
  }

  /** The axes of `doc` and the trials the brush leaves out (null: none), for this drawing. */
  prepare(doc: IStudyDoc, specs: IParamSpec[], logScore: boolean): Uint8Array | null {
    this.axes = parallelAxes(doc, specs, logScore);
    const keys = new Set(this.axes.map(a => a.key));
    for (const key of [...this.brush.keys()]) {
      if (!keys.has(key)) {
        this.brush.delete(key);
      }
    }
    return brushMask(doc, this.axes, this.brush);
  }

  /** Draw the lines of `s.doc` on the axes of the last `prepare`. */
  draw(s: IDrawState): void {
    this.state = s;
    const { doc, ink } = s;
    const chart = this.chart;
    const ctx = chart.begin(s.width, PARALLEL_HEIGHT);
    const axes = this.axes;
    const m = axes.length;
    const a = chart.area;
    a.left = MARGIN.left;
    a.right = s.width - MARGIN.right;
    a.top = MARGIN.top;
    a.bottom = PARALLEL_HEIGHT - MARGIN.bottom;
    const step = m > 1 ? (a.right - a.left) / (m - 1) : 0;
    this.xs = axes.map((_, k) => (m > 1 ? a.left + k * step : (a.left + a.right) / 2));
    this.scales = axes.map(
      axis => new Scale(axis.lo, axis.hi, a.bottom, a.top, axis.log && axis.lo > 0)
    );
    this.labels = [];
    const lines = doc.trials.map((t, i) => i).filter(i => isComplete(doc.trials[i]));
    this.lines = lines;
    this.ys = new Float32Array(lines.length * m);
    lines.forEach((i, n) => {
      axes.forEach((axis, k) => {
        this.ys[n * m + k] = this.scales[k].map(axis.value(doc.trials[i]));
      });
    });

    this.drawAxisLines(ctx, ink);
    const dark = document.body.dataset.jpThemeLight === 'false';
    const scoreAxis = axes.length - Math.min(doc.objectives.length, MAX_OBJECTIVE_AXES);
    const sign = doc.direction === 'maximize' ? -1 : 1;
    // Worse first: the better lines are drawn on top, the best of all in orange last.
    const order = lines
      .map((_, n) => n)
      .sort((p, q) => sign * (valueOf(doc, lines[q]) - valueOf(doc, lines[p])));
    const many = lines.length > 400;
    let dimmed = 0;
    ctx.lineWidth = 1;
    ctx.globalAlpha = 0.22;
    ctx.strokeStyle = ink.text;
    ctx.beginPath();
    for (const n of order) {
      if (s.dimmed && s.dimmed[lines[n]]) {
        this.trace(ctx, n);
        dimmed++;
      }
    }
    ctx.stroke();
    const bins: number[][] = Array.from({ length: COLOR_BINS }, () => []);
    const binOrder: number[] = [];
    for (const n of order) {
      if (s.dimmed && s.dimmed[lines[n]]) {
        continue;
      }
      const py = this.ys[n * m + scoreAxis];
      const t = isFinite(py) ? (a.bottom - py) / Math.max(1, a.bottom - a.top) : 0.5;
      const b = Math.max(0, Math.min(COLOR_BINS - 1, Math.floor(t * COLOR_BINS)));
      if (bins[b].length === 0) {
        binOrder.push(b);
      }
      bins[b].push(n);
    }
    ctx.globalAlpha = many ? 0.45 : 0.8;
    ctx.lineWidth = many ? 1 : 1.3;
    for (const b of binOrder) {
      ctx.beginPath();
      for (const n of bins[b]) {
        this.trace(ctx, n);
      }
      ctx.strokeStyle = scoreColor((b + 0.5) / COLOR_BINS, dark);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    for (const [i, color, width] of [
      [s.best, BEST_COLOR, 2.4],
      [s.hovered, ink.strong, 2],
      [s.selected, SELECTED_COLOR, 2.4]
    ] as Array<[number, string, number]>) {
      const n = i >= 0 ? lines.indexOf(i) : -1;
      if (n >= 0) {
        ctx.beginPath();
        this.trace(ctx, n);
        ctx.strokeStyle = color;
        ctx.lineWidth = width;
        ctx.stroke();
      }
    }
    const at = (i: number): [number, number] => {
      const n = lines.indexOf(i);
      return n < 0 ? [NaN, NaN] : [this.xs[scoreAxis], this.ys[n * m + scoreAxis]];
    };
    if (s.best >= 0) {
      drawStar(ctx, ...at(s.best));
    }
    if (s.selected >= 0) {
      ring(ctx, ...at(s.selected));
    }
    this.drawBrushes(ctx, ink);
    // Labels last, over a halo of the page's colour: the lines never hide them.
    const halo = getComputedStyle(chart.node).getPropertyValue('--jp-layout-color0').trim();
    this.drawLabels(ctx, ink, step, halo);

    chart.node.dataset.axisX = this.xs.map(x => x.toFixed(1)).join(',');
    chart.node.dataset.lines = String(lines.length);
    chart.node.dataset.dimmed = String(dimmed);
    chart.node.dataset.brush = JSON.stringify(Object.fromEntries(this.brush));
    const n = lines.length;
    chart.setCaption(
      `Parallel coordinates: ${n} complete trial${n === 1 ? '' : 's'}; ` +
        'drag along an axis to filter the trials, click it to clear'
    );
    const kept = s.dimmed ? s.dimmed.reduce((sum, d) => sum + (d ? 0 : 1), 0) : doc.trials.length;
    this.status.textContent = this.brush.size
      ? `Filter: ${brushText(axes, this.brush)} · ${kept} of ${doc.trials.length} trials`
      : '';
    this.clear.hidden = this.brush.size === 0;
  }

  /** Add line `n` to the current path, broken where a trial has no value on an axis. */
  private trace(ctx: CanvasRenderingContext2D, n: number): void {
    const m = this.xs.length;
    let pen = false;
    for (let k = 0; k < m; k++) {
      const py = this.ys[n * m + k];
      if (!isFinite(py)) {
        pen = false;
      } else if (pen) {
        ctx.lineTo(this.xs[k], py);
      } else {
        ctx.moveTo(this.xs[k], py);
        pen = true;
      }
    }
  }

  private drawAxisLines(ctx: CanvasRenderingContext2D, ink: IInk): void {
    const a = this.chart.area;
    ctx.strokeStyle = ink.text;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const x of this.xs) {
      ctx.moveTo(Math.round(x) + 0.5, a.top);
      ctx.lineTo(Math.round(x) + 0.5, a.bottom);
    }
    ctx.stroke();
  }

  /** Tick and category labels, and the axis names; shortened ones get a tooltip. */
  private drawLabels(ctx: CanvasRenderingContext2D, ink: IInk, step: number, halo: string): void {
    const a = this.chart.area;
    const width = a.right + MARGIN.right;
    ctx.save();
    ctx.font = ink.font;
    ctx.lineJoin = 'round';
    ctx.lineWidth = 3;
    ctx.strokeStyle = halo || 'transparent';
    const write = (text: string, x: number, y: number) => {
      if (halo) {
        ctx.strokeText(text, x, y);
      }
      ctx.fillText(text, x, y);
    };
    // Tick labels sit right of their axis, within the room up to the next one.
    const room = Math.max(12, (this.xs.length > 1 ? step : width - a.left) - 10);
    ctx.fillStyle = ink.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    this.axes.forEach((axis, k) => {
      const x = this.xs[k] + 4;
      const scale = this.scales[k];
      const ticks = axis.labels
        ? axis.labels.map((_, i) => i)
        : scale.ticks(4, axis.integer).filter(v => v >= axis.lo && v <= axis.hi);
      if (!axis.labels && ticks.length === 0) {
        ticks.push(axis.lo, axis.hi);
      }
      let last = Infinity;
      for (const v of ticks) {
        const py = scale.map(v);
        if (!isFinite(py) || last - py < LABEL_GAP) {
          continue;
        }
        last = py;
        const full = axis.labels ? axis.labels[v] : formatNumber(v);
        const text = clip(ctx, full, k === this.xs.length - 1 ? MARGIN.right - 6 : room);
        write(text, x, py);
        if (text !== full) {
          const w = ctx.measureText(text).width;
          this.labels.push({ x0: x, x1: x + w, y0: py - 6, y1: py + 6, text: full });
        }
      }
    });
    // Axis names above the axes, each within its share of the width: never overlapping.
    ctx.fillStyle = ink.strong;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    this.axes.forEach((axis, k) => {
      const x = this.xs[k];
      const share = this.xs.length > 1 ? step - 6 : width;
      const edge = 2 * Math.min(x - 1, width - x - 1);
      const text = clip(ctx, axis.title, Math.max(8, Math.min(share, edge)));
      const w = ctx.measureText(text).width;
      write(text, x, a.top - 8);
      if (text !== axis.title) {
        const [x0, x1] = [x - w / 2, x + w / 2];
        this.labels.push({ x0, x1, y0: a.top - 22, y1: a.top - 6, text: axis.title });
      }
    });
    ctx.restore();
  }

  /** Each brushed range as a band over its axis. */
  private drawBrushes(ctx: CanvasRenderingContext2D, ink: IInk): void {
    ctx.save();
    this.axes.forEach((axis, k) => {
      const range = this.brush.get(axis.key);
      if (!range) {
        return;
      }
      const a = this.chart.area;
      const y0 = Math.max(a.top, Math.min(a.bottom, this.scales[k].map(range[1])));
      const y1 = Math.max(a.top, Math.min(a.bottom, this.scales[k].map(range[0])));
      ctx.globalAlpha = 0.18;
      ctx.fillStyle = ink.strong;
      ctx.fillRect(this.xs[k] - 6, y0, 12, Math.max(1, y1 - y0));
      ctx.globalAlpha = 1;
      ctx.strokeStyle = ink.strong;
      ctx.lineWidth = 1;
      ctx.strokeRect(Math.round(this.xs[k] - 6) + 0.5, y0, 12, Math.max(1, y1 - y0));
    });
    ctx.restore();
  }

  /** The axis within reach of x = `px`, or -1. */
  private axisAt(px: number, py: number): number {
    const a = this.chart.area;
    if (py < a.top - 6 || py > a.bottom + 6) {
      return -1;
    }
    let best = -1;
    let bestD = AXIS_REACH;
    this.xs.forEach((x, k) => {
      const d = Math.abs(x - px);
      if (d <= bestD) {
        bestD = d;
        best = k;
      }
    });
    return best;
  }

  /** The trial (index into `doc.trials`) whose line passes nearest to (px, py), or -1. */
  nearest(px: number, py: number): number {
    const xs = this.xs;
    const m = xs.length;
    if (m === 0 || px < xs[0] - LINE_REACH || px > xs[m - 1] + LINE_REACH) {
      return -1;
    }
    let k = 0;
    while (k < m - 2 && px > xs[k + 1]) {
      k++;
    }
    const span = m > 1 ? xs[k + 1] - xs[k] : 1;
    const f = m > 1 ? Math.max(0, Math.min(1, (px - xs[k]) / span)) : 0;
    let best = -1;
    let bestD = LINE_REACH;
    const dimmed = this.state?.dimmed;
    for (let n = 0; n < this.lines.length; n++) {
      const y0 = this.ys[n * m + k];
      const y1 = m > 1 ? this.ys[n * m + k + 1] : y0;
      if (!isFinite(y0) || !isFinite(y1)) {
        continue;
      }
      // A line left out by the filter is found only where no kept line is as near.
      const d = Math.abs(y0 + (y1 - y0) * f - py) + (dimmed && dimmed[this.lines[n]] ? 2 : 0);
      if (d < bestD) {
        bestD = d;
        best = this.lines[n];
      }
    }
    return best;
  }

  private labelAt(px: number, py: number): string | null {
    for (const l of this.labels) {
      if (px >= l.x0 && px <= l.x1 && py >= l.y0 && py <= l.y1) {
        return l.text;
      }
    }
    return null;
  }

  /** Brushing with the mouse; hover and click on the lines. */
  private listen(): void {
    const canvas = this.chart.canvas;
    const local = (event: MouseEvent): [number, number] => {
      const box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    };
    let drag: { axis: number; y0: number; moved: boolean } | null = null;
    let dragged = false;
    const move = (event: MouseEvent) => {
      if (!drag) {
        return;
      }
      const a = this.chart.area;
      const y = Math.max(a.top, Math.min(a.bottom, local(event)[1]));
      if (Math.abs(y - drag.y0) < CLICK_SLOP && !drag.moved) {
        return;
      }
      drag.moved = true;
      const scale = this.scales[drag.axis];
      const v0 = scale.invert(drag.y0);
      const v1 = scale.invert(y);
      this.brush.set(this.axes[drag.axis].key, [Math.min(v0, v1), Math.max(v0, v1)]);
      this.host.filter();
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      if (drag && !drag.moved) {
        const key = this.axes[drag.axis].key;
        if (this.brush.delete(key)) {
          this.host.filter();
        }
      }
      drag = null;
    };
    canvas.addEventListener('mousedown', event => {
      dragged = false;
      if (event.button !== 0) {
        return;
      }
      const [px, py] = local(event);
      const axis = this.axisAt(px, py);
      if (axis < 0) {
        return;
      }
      event.preventDefault();
      // No line stays highlighted under a brush being dragged.
      this.hovered = -1;
      this.host.leave();
      const a = this.chart.area;
      drag = { axis, y0: Math.max(a.top, Math.min(a.bottom, py)), moved: false };
      dragged = true;
      window.addEventListener('mousemove', move);
      window.addEventListener('mouseup', up);
    });
    canvas.addEventListener('mousemove', event => {
      const [px, py] = local(event);
      const onAxis = this.axisAt(px, py) >= 0;
      canvas.style.cursor = drag || onAxis ? 'ns-resize' : 'crosshair';
      if (drag) {
        return;
      }
      const i = this.nearest(px, py);
      if (i !== this.hovered) {
        this.hovered = i;
        if (this.state) {
          this.draw({ ...this.state, hovered: i });
        }
      }
      if (i >= 0) {
        this.host.hover(i, event);
        return;
      }
      const label = this.labelAt(px, py);
      if (label !== null) {
        this.host.label(label, event);
      } else {
        this.host.leave();
      }
    });
    canvas.addEventListener('mouseleave', () => {
      if (this.hovered >= 0 && this.state) {
        this.hovered = -1;
        this.draw({ ...this.state, hovered: -1 });
      }
      this.host.leave();
    });
    canvas.addEventListener('click', event => {
      // The click that ends a brush (or clears one) selects nothing.
      if (dragged) {
        dragged = false;
        return;
      }
      const [px, py] = local(event);
      this.host.select(this.nearest(px, py));
    });
  }

  private axes: IAxis[] = [];
  private scales: Scale[] = [];
  private xs: number[] = [];
  /** Line n belongs to trial `lines[n]`; its y on axis k is `ys[n * axes + k]`. */
  private lines: number[] = [];
  private ys = new Float32Array(0);
  private labels: ILabelHit[] = [];
  private state: IDrawState | null = null;
  private hovered = -1;
  private status: HTMLSpanElement;
  private clear: HTMLButtonElement;
}

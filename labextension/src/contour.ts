/**
 * The contour panel: the score over two parameters the user picks, as a filled grid
 * interpolated between the complete trials (inverse-distance weighting in unit coordinates,
 * as `_grid_estimate` of the PNG), with the trials as dots and the best one starred.
 *
 * It is a picture of the points, not a model: the caption says "interpolated between
 * trials". Hit ids are indices into `doc.trials`, as in the other charts.
 */

import { isolate } from './bidi';
import { isComplete } from './brush';
import { Chart } from './chart';
import { IDrawState, drawStar, isDimmed, noteDimmed, ring } from './panels';
import { scoreColor } from './parallel';
import { IParamSpec, IStudyDoc, paramValue } from './schema';
import { Scale, extent, formatNumber, robustExtent } from './scale';

export const CONTOUR_HEIGHT = 260;
/** Cells per side of the grid. */
const GRID = 40;
/** Trials each cell averages over (the nearest ones). */
const NEIGHBOURS = 8;
/**
 * Trials the grid is computed from at most: the best third and an even spread of the rest.
 * 1600 cells x 200 trials: under 10 ms of a 2000-trial update, and only when they changed.
 */
const MAX_POINTS = 200;
const COLORBAR = { gap: 8, width: 8, room: 58 };
const MAX_OPTION_CHARS = 24;

/** Where a trial sits on a parameter, in [0, 1] (NaN: it has no value there). */
type Unit = (value: unknown, number: number) => number;

interface IAxisPlan {
  scale: Scale;
  unit: Unit;
  /** The unit position of the dot (a categorical value is spread around its centre). */
  dot: Unit;
  labels?: string[];
  integer: boolean;
}

/** The axis of `spec` over [p0, p1] pixels and the unit position of a value on it. */
function axisPlan(doc: IStudyDoc, spec: IParamSpec, p0: number, p1: number): IAxisPlan {
  if (spec.type === 'choice') {
    const options = spec.options ?? [];
    const n = Math.max(1, options.length);
    const index = new Map(options.map((o, k) => [o, k]));
    const unit: Unit = v => {
      const k = index.get(v as never);
      return k === undefined ? NaN : (k + 0.5) / n;
    };
    return {
      scale: new Scale(-0.5, n - 0.5, p0, p1),
      unit,
      // A fixed jitter per trial number keeps the dots of one option apart and stable.
      dot: (v, number) => unit(v, number) + (((number * 0.618034) % 1) - 0.5) * (0.5 / n),
      labels: options.map(o => String(o)),
      integer: false
    };
  }
  const seen = extent(
    doc.trials.map(t => {
      const v = paramValue(t, spec.name);
      return typeof v === 'number' ? v : null;
    }),
    spec.log
  ) ?? [0, 1];
  const log = spec.log === true && Math.min(spec.low ?? seen[0], seen[0]) > 0;
  let lo = Math.min(spec.low ?? seen[0], seen[0]);
  let hi = Math.max(spec.high ?? seen[1], seen[1]);
  if (!(hi > lo)) {
    [lo, hi] = log ? [lo / 2, hi * 2] : [lo - 0.5, hi + 0.5];
  }
  // Through a scale: finite even where hi - lo is not (from -1e308 to 1e308).
  const place = new Scale(lo, hi, 0, 1, log);
  const unit: Unit = v => (typeof v === 'number' ? place.map(v) : NaN);
  return { scale: new Scale(lo, hi, p0, p1, log), unit, dot: unit, integer: spec.type === 'int' };
}

/**
 * The score on a GRID x GRID grid of the unit square (row-major, y from the bottom): at each
 * cell centre, the average of the NEIGHBOURS nearest points weighted by 1 / (d + 1e-3)^2.
 */
export function gridEstimate(px: number[], py: number[], z: number[]): Float64Array {
  const out = new Float64Array(GRID * GRID);
  const k = Math.min(NEIGHBOURS, z.length);
  const nearD = new Float64Array(k);
  const nearZ = new Float64Array(k);
  for (let r = 0; r < GRID; r++) {
    const gy = (r + 0.5) / GRID;
    for (let c = 0; c < GRID; c++) {
      const gx = (c + 0.5) / GRID;
      nearD.fill(Infinity);
      for (let p = 0; p < z.length; p++) {
        const dx = px[p] - gx;
        const dy = py[p] - gy;
        const d = dx * dx + dy * dy;
        if (d >= nearD[k - 1]) {
          continue;
        }
        // Insertion into the short sorted list of the nearest so far.
        let j = k - 1;
        while (j > 0 && nearD[j - 1] > d) {
          nearD[j] = nearD[j - 1];
          nearZ[j] = nearZ[j - 1];
          j--;
        }
        nearD[j] = d;
        nearZ[j] = z[p];
      }
      let sw = 0;
      for (let j = 0; j < k; j++) {
        nearD[j] = 1 / Math.pow(Math.sqrt(nearD[j]) + 1e-3, 2);
        sw += nearD[j];
      }
      // Weights that sum to 1: the average of scores near ±1e308 stays finite.
      let mean = 0;
      for (let j = 0; j < k; j++) {
        mean += (nearD[j] / sw) * nearZ[j];
      }
      out[r * GRID + c] = mean;
    }
  }
  return out;
}

/** At most `n` of `ids` (sorted best first): the best third, then an even spread. */
function subset(ids: number[], n: number): number[] {
  if (ids.length <= n) {
    return ids;
  }
  const head = Math.floor(n / 3);
  const rest = ids.slice(head);
  const step = rest.length / (n - head);
  const spread = Array.from({ length: n - head }, (_, k) => rest[Math.floor(k * step)]);
  return ids.slice(0, head).concat(spread);
}

export class ContourPanel {
  readonly chart = new Chart('hpt-contour');

  /** `change` is called when the user picks another parameter. */
  constructor(change: () => void) {
    const bar = document.createElement('div');
    bar.className = 'hpt-contour-axes';
    const pick = (axis: 'x' | 'y') => {
      const label = document.createElement('label');
      label.textContent = `${axis} `;
      const select = document.createElement('select');
      select.setAttribute('aria-label', `Contour: parameter on the ${axis} axis`);
      select.addEventListener('change', () => {
        const other = axis === 'x' ? this.ySelect : this.xSelect;
        const was = axis === 'x' ? this.x : this.y;
        if (select.value === other.value) {
          // Two different parameters: the other axis takes the one given up.
          other.value = was;
        }
        this.x = this.xSelect.value;
        this.y = this.ySelect.value;
        change();
      });
      label.appendChild(select);
      bar.appendChild(label);
      return select;
    };
    this.xSelect = pick('x');
    this.ySelect = pick('y');
    this.chart.node.insertBefore(bar, this.chart.canvas);
  }

  /** True when `doc` can have a contour: one objective, two parameters, three trials. */
  static shows(doc: IStudyDoc, specs: IParamSpec[]): boolean {
    return doc.objectives.length === 1 && specs.length >= 2 &&
      doc.trials.filter(isComplete).length >= 3;
  }

  /**
   * Keep the selects in step with the parameters; the chosen pair stays while it exists.
   * The default pair is the first two numeric parameters (the document carries no
   * importances to rank them by), else the first two.
   */
  private sync(specs: IParamSpec[]): void {
    const names = specs.map(s => s.name);
    const key = JSON.stringify(names);
    if (key !== this.namesKey) {
      this.namesKey = key;
      for (const select of [this.xSelect, this.ySelect]) {
        select.replaceChildren(
          ...names.map(name => {
            const option = document.createElement('option');
            option.value = name;
            option.textContent =
              name.length > MAX_OPTION_CHARS ? name.slice(0, MAX_OPTION_CHARS - 1) + '…' : name;
            option.title = name;
            return option;
          })
        );
      }
    }
    if (!names.includes(this.x) || !names.includes(this.y) || this.x === this.y) {
      const numeric = specs.filter(s => s.type !== 'choice').map(s => s.name);
      const order = [...numeric, ...names.filter(n => !numeric.includes(n))];
      [this.x, this.y] = [order[0], order[1]];
    }
    this.xSelect.value = this.x;
    this.ySelect.value = this.y;
    this.xSelect.title = this.x;
    this.ySelect.title = this.y;
  }

  draw(s: IDrawState, specs: IParamSpec[]): void {
    this.sync(specs);
    const { doc } = s;
    const chart = this.chart;
    const ctx = chart.begin(s.width, CONTOUR_HEIGHT);
    const a = chart.area;
    a.right -= COLORBAR.room;
    const xSpec = specs.find(p => p.name === this.x) as IParamSpec;
    const ySpec = specs.find(p => p.name === this.y) as IParamSpec;
    const xPlan = axisPlan(doc, xSpec, a.left, a.right);
    const yPlan = axisPlan(doc, ySpec, a.bottom, a.top);
    const { x, y } = chart.axes(ctx, xPlan.scale, yPlan.scale, s.ink, {
      xLabels: xPlan.labels,
      xInteger: xPlan.integer,
      yLabels: yPlan.labels,
      xTitle: this.x,
      yTitle: this.y
    });
    // The axes may have moved the area: unit u sits at p0 + u (p1 - p0) on either scale.
    const px = (u: number) => x.p0 + u * (x.p1 - x.p0);
    const py = (u: number) => y.p0 + u * (y.p1 - y.p0);

    const sign = doc.direction === 'maximize' ? -1 : 1;
    const ids = doc.trials
      .map((_, i) => i)
      .filter(i => {
        const t = doc.trials[i];
        return isComplete(t) &&
          isFinite(xPlan.unit(paramValue(t, this.x), t.number)) &&
          isFinite(yPlan.unit(paramValue(t, this.y), t.number));
      })
      .sort((i, j) => sign * ((doc.trials[i].value as number) - (doc.trials[j].value as number)));
    const used = subset(ids, MAX_POINTS);
    const ux = used.map(i => xPlan.unit(paramValue(doc.trials[i], this.x), 0));
    const uy = used.map(i => yPlan.unit(paramValue(doc.trials[i], this.y), 0));
    const z = used.map(i => doc.trials[i].value as number);
    // The grid is computed again only when its points changed (not on a theme change, a
    // hover or a brush): a cheap fingerprint of them.
    let print = 0;
    z.forEach((v, k) => {
      print += v * (k + 1) + ux[k] * 7 + uy[k] * 13;
    });
    const key = `${this.x}|${this.y}|${used.length}|${print}`;
    if (key !== this.gridKey) {
      this.grid = used.length ? gridEstimate(ux, uy, z) : null;
      this.gridKey = key;
    }
    // Colours over the scores' robust range (a few far-off bad ones would wash it out),
    // through a scale: its span stays finite from -1e308 to 1e308.
    const range = robustExtent(z, doc.direction) ?? [0, 1];
    const colors = new Scale(range[0], range[1], 0, 1);
    const dark = document.body.dataset.jpThemeLight === 'false';
    const tone = (v: number) => scoreColor(colors.map(v), dark);
    if (this.grid) {
      const cw = (x.p1 - x.p0) / GRID;
      // Row r counts from the bottom (y.p0) up.
      const ch = (y.p0 - y.p1) / GRID;
      for (let r = 0; r < GRID; r++) {
        for (let c = 0; c < GRID; c++) {
          ctx.fillStyle = tone(this.grid[r * GRID + c]);
          // Half a pixel of overlap: no seams between the cells.
          ctx.fillRect(x.p0 + c * cw - 0.25, y.p0 - (r + 1) * ch - 0.25, cw + 0.5, ch + 0.5);
        }
      }
    }
    this.colorBar(ctx, s, range, f => scoreColor(f, dark));

    // The trials: dots with a dark rim, readable on every colour of the grid.
    const at = new Map<number, [number, number]>();
    let nDimmed = 0;
    const r = ids.length > 500 ? 1.8 : 2.6;
    for (const dimmed of s.dimmed ? [true, false] : [false]) {
      ctx.globalAlpha = dimmed ? 0.35 : 1;
      ctx.beginPath();
      for (const i of ids) {
        if (isDimmed(s, i) !== dimmed) {
          continue;
        }
        const t = doc.trials[i];
        const dx = px(xPlan.dot(paramValue(t, this.x), t.number));
        const dy = py(yPlan.dot(paramValue(t, this.y), t.number));
        ctx.moveTo(dx + r, dy);
        ctx.arc(dx, dy, r, 0, 2 * Math.PI);
        chart.addHit(dx, dy, i);
        at.set(i, [dx, dy]);
        nDimmed += dimmed ? 1 : 0;
      }
      ctx.fillStyle = '#ffffff';
      ctx.fill();
      ctx.strokeStyle = '#000000';
      ctx.lineWidth = 0.8;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    const hovered = at.get(s.hovered);
    if (hovered) {
      ctx.beginPath();
      ctx.arc(hovered[0], hovered[1], r + 2, 0, 2 * Math.PI);
      ctx.strokeStyle = '#000000';
      ctx.lineWidth = 2;
      ctx.stroke();
    }
    const place = (i: number): [number, number] => at.get(i) ?? [NaN, NaN];
    if (s.best >= 0) {
      drawStar(ctx, ...place(s.best), 7);
    }
    if (s.selected >= 0) {
      ring(ctx, ...place(s.selected));
    }
    noteDimmed(chart, nDimmed);
    chart.node.dataset.dots = String(ids.length);
    chart.node.dataset.pair = `${this.x}|${this.y}`;
    chart.setCaption(
      `Score over ${isolate(this.x)} and ${isolate(this.y)}, interpolated between trials`
    );
  }

  /**
   * The colour scale at the right (`tone` of 0 to 1, bottom to top): best and worst score
   * of the range, as text.
   */
  private colorBar(
    ctx: CanvasRenderingContext2D,
    s: IDrawState,
    range: [number, number],
    tone: (f: number) => string
  ): void {
    const a = this.chart.area;
    const x0 = a.right + COLORBAR.gap;
    const steps = 32;
    const h = (a.bottom - a.top) / steps;
    for (let k = 0; k < steps; k++) {
      ctx.fillStyle = tone((k + 0.5) / steps);
      ctx.fillRect(x0, a.bottom - (k + 1) * h - 0.25, COLORBAR.width, h + 0.5);
    }
    ctx.save();
    ctx.font = s.ink.font;
    ctx.fillStyle = s.ink.text;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    const tx = x0 + COLORBAR.width + 3;
    ctx.fillText(formatNumber(range[1]), tx, a.top + 4);
    ctx.fillText(formatNumber(range[0]), tx, a.bottom - 4);
    ctx.restore();
  }

  private xSelect: HTMLSelectElement;
  private ySelect: HTMLSelectElement;
  private x = '';
  private y = '';
  private namesKey = '';
  private gridKey = '';
  private grid: Float64Array | null = null;
}

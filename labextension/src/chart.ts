/**
 * One canvas chart: sizing for high-DPI screens, axes with ticks, and hit testing.
 *
 * Text goes onto the canvas with `fillText`, which never interprets markup.
 */

import { Scale, formatNumber } from './scale';

export interface IArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface IAxesOptions {
  /** Labels of a categorical x axis, drawn at x = 0, 1, 2, ... */
  xLabels?: string[];
  /** Ticks of the x axis at whole numbers only (trial numbers, steps, int parameters). */
  xInteger?: boolean;
  /** Labels of a categorical y axis (rows), at y = 0, 1, 2, ... */
  yLabels?: string[];
  xTitle?: string;
  yTitle?: string;
}

/** Theme colours read from JupyterLab's CSS variables. */
export interface IInk {
  text: string;
  strong: string;
  grid: string;
  font: string;
}

/**
 * The theme's colours as they stand now. Read at every drawing: canvas pixels do not follow
 * CSS variables, so a chart drawn under another theme must be redrawn (see `inkKey`).
 */
export function readInk(node: HTMLElement): IInk {
  const style = getComputedStyle(node);
  const get = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: get('--jp-ui-font-color2', '#616161'),
    strong: get('--jp-ui-font-color0', '#000000'),
    grid: get('--jp-border-color2', '#e0e0e0'),
    font: `10px ${get('--jp-ui-font-family', 'sans-serif')}`
  };
}

/** A string that changes whenever the ink does. */
export function inkKey(ink: IInk): string {
  return `${ink.text}|${ink.strong}|${ink.grid}|${ink.font}`;
}

const MARGIN = { left: 46, right: 10, top: 8, bottom: 30 };
/** Longest category label drawn; the full name is in the label's tooltip. */
const MAX_LABEL_CHARS = 14;
/** Rotated category labels are drawn at this angle (radians, clockwise from the axis). */
const LABEL_ANGLE = Math.PI / 4;
const LINE_HEIGHT = 12;

/** A label drawn shortened or rotated, with the full text for its tooltip. */
export interface ILabelHit {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  text: string;
}

export class Chart {
  readonly node: HTMLElement;
  readonly canvas: HTMLCanvasElement;

  constructor(className: string) {
    this.node = document.createElement('figure');
    this.node.className = `hpt-Chart ${className}`;
    this.caption = document.createElement('figcaption');
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.node.append(this.caption, this.canvas);
  }

  setCaption(text: string): void {
    if (this.caption.textContent !== text) {
      this.caption.textContent = text;
      // A caption cut with an ellipsis (a narrow chart) shows in full on hover.
      this.caption.title = text;
      this.canvas.setAttribute('aria-label', text);
    }
  }

  /** Size the canvas (CSS pixels), clear it and return a context in CSS pixel units. */
  begin(width: number, height: number): CanvasRenderingContext2D {
    const ratio = window.devicePixelRatio || 1;
    const w = Math.round(width * ratio);
    const h = Math.round(height * ratio);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const ctx = this.canvas.getContext('2d') as CanvasRenderingContext2D;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    this.area = {
      left: MARGIN.left,
      right: width - MARGIN.right,
      top: MARGIN.top,
      bottom: height - MARGIN.bottom
    };
    this.nHits = 0;
    this.boxes = [];
    this.labels = [];
    this.height = height;
    return ctx;
  }

  area: IArea = { left: 0, right: 0, top: 0, bottom: 0 };

  /**
   * Draw grid lines, tick labels and axis titles; returns the scales, moved when the labels
   * needed more room than the default margins (wide tick labels, rotated category names).
   *
   * Labels never overlap: numeric ticks are thinned until they fit and no two read the
   * same; category names are shortened to MAX_LABEL_CHARS, rotated when they do not fit
   * side by side and thinned when even rotated they would touch. A shortened or rotated
   * label shows its full text in a tooltip (`labelAt`).
   */
  axes(
    ctx: CanvasRenderingContext2D,
    x: Scale,
    y: Scale,
    ink: IInk,
    opts: IAxesOptions = {}
  ): { x: Scale; y: Scale } {
    const a = this.area;
    ctx.save();
    ctx.font = ink.font;
    let yTicks: number[];
    let yTexts: string[];
    if (opts.yLabels) {
      // One label per row, every k-th when the rows are closer than a line of text.
      const rowHeight = Math.abs(y.map(1) - y.map(0));
      const every = Math.max(1, Math.ceil(LINE_HEIGHT / Math.max(1, rowHeight)));
      yTicks = opts.yLabels.map((_, i) => i).filter(i => i % every === 0);
      yTexts = opts.yLabels.map(t => shorten(t, MAX_LABEL_CHARS));
    } else {
      yTicks = [];
      yTexts = [];
      for (let count = 4; count >= 1; count--) {
        yTicks = y.ticks(count);
        yTexts = yTicks.map(formatNumber);
        if (count === 1 || distinct(yTexts)) {
          break;
        }
      }
    }
    const yWidth = Math.max(0, ...yTexts.map(t => ctx.measureText(t).width));
    const left = Math.ceil(yWidth) + 8 + (opts.yTitle ? 14 : 0);
    if (left > a.left) {
      x = x.shift(left - a.left, 0);
      a.left = left;
    }
    let xTicks: number[];
    let xTexts: string[];
    let rotated = false;
    let full: string[] = [];
    if (opts.xLabels) {
      full = opts.xLabels;
      xTexts = full.map(t => shorten(t, MAX_LABEL_CHARS));
      const slot = (a.right - a.left) / Math.max(1, full.length);
      const widest = Math.max(0, ...xTexts.map(t => ctx.measureText(t).width));
      rotated = widest > slot - 6;
      // Rotated labels need LINE_HEIGHT / sin(angle) of axis each; keep every k-th one.
      const every = rotated ? Math.max(1, Math.ceil(LINE_HEIGHT / Math.sin(LABEL_ANGLE) / slot)) : 1;
      xTicks = full.map((_, i) => i).filter(i => i % every === 0);
      if (rotated) {
        const drop = Math.min(70, Math.sin(LABEL_ANGLE) * widest + LINE_HEIGHT);
        const bottom = this.height - MARGIN.bottom - Math.max(0, drop - 14);
        if (bottom < a.bottom) {
          y = y.shift(bottom - a.bottom, 0);
          a.bottom = bottom;
        }
      }
    } else {
      xTicks = [];
      xTexts = [];
      for (let count = 5; count >= 1; count--) {
        xTicks = x.ticks(count, opts.xInteger);
        xTexts = xTicks.map(formatNumber);
        const fits = distinct(xTexts) && !overlaps(ctx, xTicks.map(t => x.map(t)), xTexts);
        if (count === 1 || fits) {
          break;
        }
      }
    }

    ctx.fillStyle = ink.text;
    ctx.strokeStyle = ink.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    yTicks.forEach((t, i) => {
      const py = Math.round(y.map(t)) + 0.5;
      ctx.moveTo(a.left, py);
      ctx.lineTo(a.right, py);
      const text = opts.yLabels ? yTexts[t] : yTexts[i];
      ctx.fillText(text, a.left - 4, py);
      if (opts.yLabels && text !== opts.yLabels[t]) {
        const width = ctx.measureText(text).width;
        this.labels.push({
          x0: a.left - 4 - width, x1: a.left - 4, y0: py - 6, y1: py + 6, text: opts.yLabels[t]
        });
      }
    });
    xTicks.forEach((t, k) => {
      const px = Math.round(x.map(t)) + 0.5;
      ctx.moveTo(px, a.top);
      ctx.lineTo(px, a.bottom);
      const text = opts.xLabels ? xTexts[t] : xTexts[k];
      const width = ctx.measureText(text).width;
      if (rotated) {
        ctx.save();
        ctx.translate(px, a.bottom + 4);
        ctx.rotate(-LABEL_ANGLE);
        ctx.textAlign = 'right';
        ctx.fillText(text, 0, 0);
        ctx.restore();
        const reach = Math.cos(LABEL_ANGLE) * width;
        const drop = Math.sin(LABEL_ANGLE) * width;
        this.labels.push({
          x0: px - reach - 6, x1: px + 6, y0: a.bottom, y1: a.bottom + drop + 10, text: full[t]
        });
      } else {
        ctx.textAlign = 'center';
        ctx.textBaseline = 'top';
        ctx.fillText(text, px, a.bottom + 3);
        if (opts.xLabels && text !== full[t]) {
          this.labels.push({
            x0: px - width / 2, x1: px + width / 2, y0: a.bottom, y1: a.bottom + 16, text: full[t]
          });
        }
      }
    });
    ctx.stroke();
    ctx.textAlign = 'center';
    const height = this.height;
    if (opts.xTitle) {
      ctx.textBaseline = 'bottom';
      ctx.fillText(clip(ctx, opts.xTitle, a.right - a.left), (a.left + a.right) / 2, height - 1);
    }
    if (opts.yTitle) {
      ctx.translate(9, (a.top + a.bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(clip(ctx, opts.yTitle, a.bottom - a.top), 0, 0);
    }
    ctx.restore();
    return { x, y };
  }

  /** The full text of a shortened or rotated axis label at (px, py), or null. */
  labelAt(px: number, py: number): string | null {
    for (const l of this.labels) {
      if (px >= l.x0 && px <= l.x1 && py >= l.y0 && py <= l.y1) {
        return l.text;
      }
    }
    return null;
  }

  /** Remember a drawn point of trial `id` for hover and click. */
  addHit(px: number, py: number, id: number): void {
    if (this.nHits === this.hitX.length) {
      const size = Math.max(256, this.nHits * 2);
      this.hitX = grow(this.hitX, new Float32Array(size));
      this.hitY = grow(this.hitY, new Float32Array(size));
      this.hitId = grow(this.hitId, new Int32Array(size));
    }
    this.hitX[this.nHits] = px;
    this.hitY[this.nHits] = py;
    this.hitId[this.nHits] = id;
    this.nHits++;
  }

  /** Remember a drawn box (a timeline bar) of trial `id` for hover and click. */
  addBox(x0: number, y0: number, x1: number, y1: number, id: number): void {
    this.boxes.push({ x0, y0, x1, y1, id });
  }

  /**
   * The id of the point nearest to (px, py) within `radius` CSS pixels, or -1. Boxes come
   * first: the narrowest one within 2 px of (px, py) (a short bar next to a long one).
   */
  nearest(px: number, py: number, radius = 7): number {
    let boxId = -1;
    let boxWidth = Infinity;
    for (const b of this.boxes) {
      const w = b.x1 - b.x0;
      if (px >= b.x0 - 2 && px <= b.x1 + 2 && py >= b.y0 && py <= b.y1 && w < boxWidth) {
        boxWidth = w;
        boxId = b.id;
      }
    }
    if (boxId >= 0) {
      return boxId;
    }
    let best = -1;
    let bestD = radius * radius;
    for (let i = 0; i < this.nHits; i++) {
      const dx = this.hitX[i] - px;
      const dy = this.hitY[i] - py;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = this.hitId[i];
      }
    }
    return best;
  }

  private caption: HTMLElement;
  private labels: ILabelHit[] = [];
  private boxes: Array<{ x0: number; y0: number; x1: number; y1: number; id: number }> = [];
  private height = 0;
  private hitX = new Float32Array(0);
  private hitY = new Float32Array(0);
  private hitId = new Int32Array(0);
  private nHits = 0;
}

function grow<T extends Float32Array | Int32Array>(old: T, fresh: T): T {
  fresh.set(old);
  return fresh;
}

/**
 * True when no two labels read the same: four significant digits cannot tell apart the ticks
 * of an axis around 1e17, and five labels "1e+17" would say five places are one value.
 */
function distinct(texts: string[]): boolean {
  return new Set(texts).size === texts.length;
}

/** True when labels centred at `xs` would touch (less than 6 px apart). */
function overlaps(ctx: CanvasRenderingContext2D, xs: number[], texts: string[]): boolean {
  let end = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const half = ctx.measureText(texts[i]).width / 2;
    if (xs[i] - half < end + 6) {
      return true;
    }
    end = xs[i] + half;
  }
  return false;
}

/** `text` cut to `n` characters with an ellipsis. */
function shorten(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

/** `text` shortened with an ellipsis to fit `width` pixels (the longest such prefix). */
export function clip(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) {
    return text;
  }
  for (let n = text.length - 1; n > 0; n--) {
    const short = text.slice(0, n) + '…';
    if (ctx.measureText(short).width <= width) {
      return short;
    }
  }
  return '…';
}

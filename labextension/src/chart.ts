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
  xTitle?: string;
  yTitle?: string;
}

/** Theme colours read from JupyterLab's CSS variables. */
export interface IInk {
  text: string;
  grid: string;
  font: string;
}

export function readInk(node: HTMLElement): IInk {
  const style = getComputedStyle(node);
  const get = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: get('--jp-ui-font-color2', '#616161'),
    grid: get('--jp-border-color2', '#e0e0e0'),
    font: `10px ${get('--jp-ui-font-family', 'sans-serif')}`
  };
}

const MARGIN = { left: 46, right: 10, top: 8, bottom: 30 };

export class Chart {
  readonly node: HTMLElement;
  readonly canvas: HTMLCanvasElement;

  constructor(className: string) {
    this.node = document.createElement('figure');
    this.node.className = `hpt-Chart ${className}`;
    this.caption = document.createElement('figcaption');
    this.canvas = document.createElement('canvas');
    this.node.append(this.caption, this.canvas);
  }

  setCaption(text: string): void {
    if (this.caption.textContent !== text) {
      this.caption.textContent = text;
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
    return ctx;
  }

  area: IArea = { left: 0, right: 0, top: 0, bottom: 0 };

  /** Draw grid lines, tick labels and axis titles. */
  axes(ctx: CanvasRenderingContext2D, x: Scale, y: Scale, ink: IInk, opts: IAxesOptions = {}) {
    const a = this.area;
    ctx.save();
    ctx.font = ink.font;
    ctx.fillStyle = ink.text;
    ctx.strokeStyle = ink.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of y.ticks(4)) {
      const py = Math.round(y.map(t)) + 0.5;
      ctx.moveTo(a.left, py);
      ctx.lineTo(a.right, py);
      ctx.fillText(formatNumber(t), a.left - 4, py);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const xTicks = opts.xLabels ? opts.xLabels.map((_, i) => i) : x.ticks(5, opts.xInteger);
    const room = (a.right - a.left) / Math.max(1, xTicks.length);
    for (const t of xTicks) {
      const px = Math.round(x.map(t)) + 0.5;
      ctx.moveTo(px, a.top);
      ctx.lineTo(px, a.bottom);
      const label = opts.xLabels ? opts.xLabels[t] : formatNumber(t);
      ctx.fillText(clip(ctx, label, room - 4), px, a.bottom + 3);
    }
    ctx.stroke();
    if (opts.xTitle) {
      ctx.textBaseline = 'bottom';
      ctx.fillText(clip(ctx, opts.xTitle, a.right - a.left), (a.left + a.right) / 2, a.bottom + 29);
    }
    if (opts.yTitle) {
      ctx.translate(9, (a.top + a.bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = 'middle';
      ctx.fillText(clip(ctx, opts.yTitle, a.bottom - a.top), 0, 0);
    }
    ctx.restore();
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

  /** The id of the point nearest to (px, py) within `radius` CSS pixels, or -1. */
  nearest(px: number, py: number, radius = 7): number {
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
  private hitX = new Float32Array(0);
  private hitY = new Float32Array(0);
  private hitId = new Int32Array(0);
  private nHits = 0;
}

function grow<T extends Float32Array | Int32Array>(old: T, fresh: T): T {
  fresh.set(old);
  return fresh;
}

/** `text` shortened with an ellipsis to fit `width` pixels. */
function clip(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) {
    return text;
  }
  let n = text.length;
  while (n > 1 && ctx.measureText(text.slice(0, n) + '…').width > width) {
    n = Math.floor(n * 0.8);
  }
  return text.slice(0, n) + '…';
}

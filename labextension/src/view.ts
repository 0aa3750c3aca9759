/**
 * The study view: header, progress line, charts, top-trials table and tooltip.
 *
 * The DOM is built once; `renderModel` (called again on every display update) only
 * changes text and redraws the canvases. Strings from the document reach the page
 * through `textContent` and `fillText` only.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import { isolate } from './bidi';
import { Chart, inkKey, readInk } from './chart';
import {
  drawCurves,
  drawHistory,
  drawParam,
  drawSwatch,
  IDrawState,
  legendItems,
  paramSpecs,
  stateColor
} from './panels';
import {
  IParetoData,
  drawHypervolume,
  drawPareto,
  objectiveTitle,
  paretoData,
  paretoPairs
} from './pareto';
import { isComplete } from './brush';
import { ContourPanel } from './contour';
import { drawEdf } from './edf';
import { ILanes, drawTimeline, timelineLanes, trialDuration } from './timeline';
import { ParallelPanel } from './parallel';
import { IStudySource, studies } from './registry';
import { DocumentError, IParamSpec, IProgress, IStudyDoc, MIME_TYPE, parseStudy } from './schema';
import { formatDuration, formatNumber } from './scale';
import { TopTable } from './table';

/** Charts narrower than this share no row. */
const MIN_CHART_WIDTH = 320;
const MIN_PARAM_WIDTH = 220;
const MAX_ERROR_CHARS = 300;
/**
 * After a theme change, how long (ms) the view keeps checking the theme's colours: the new
 * theme's stylesheet may apply a few frames after the change is announced.
 */
const THEME_SETTLE_MS = 3000;

interface IPoint {
  clientX: number;
  clientY: number;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  parent?: HTMLElement
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  parent?.appendChild(node);
  return node;
}

/**
 * The document of a model. `model.data` of a notebook output is a deep copy made on every
 * access (a JSON round trip: most of the render time of a large study); an output model's
 * `toJSON()` hands over the data it holds. The view only reads it.
 */
function mimeData(model: IRenderMime.IMimeModel): unknown {
  const output = model as IRenderMime.IMimeModel & { toJSON?: () => { data?: unknown } };
  if (typeof output.toJSON === 'function') {
    const data = output.toJSON().data;
    if (typeof data === 'object' && data !== null && MIME_TYPE in data) {
      return (data as { [mime: string]: unknown })[MIME_TYPE];
    }
  }
  return model.data[MIME_TYPE];
}

/** The CSS width of a progress bar's fill. */
export function progressWidth(p: IProgress): string {
  const fraction = p.planned ? Math.min(1, p.done / p.planned) : p.status === 'running' ? 0 : 1;
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Why a run ended before its planned trials, as the kernel's progress line says it. */
const WHY = new Map([
  ['no improvement', 'no improvement in --patience trials'],
  ['converged', 'nothing left to gain above the noise'],
  ['failing', 'every trial failed with the same error']
]);

function statusReason(p: IProgress): string {
  if (p.reason === 'exhausted') {
    return p.spaceSize
      ? ` (all ${p.spaceSize} points of the search space tried)`
      : ' (nothing new left to try)';
  }
  const why = p.reason === null ? undefined : WHY.get(p.reason);
  return why ? ` (${why})` : '';
}

/** The run's progress in one line: status, trials, time, best. */
export function progressLine(p: IProgress): string {
  const status = p.status === 'manual' ? 'manual tuning' : isolate(p.status) + statusReason(p);
  const trials =
    p.done === 0 && p.status !== 'running'
      ? 'no trial yet'
      : p.planned
        ? `${p.done} / ${p.planned} trials`
        : `${p.done} trial${p.done === 1 ? '' : 's'}`;
  const parts = [status, trials];
  if (p.elapsed !== null) {
    parts.push(`${formatDuration(p.elapsed)} elapsed`);
  }
  if (p.eta !== null && p.status === 'running') {
    parts.push(`about ${formatDuration(p.eta)} left`);
  }
  if (p.best) {
    parts.push(`best #${p.best.number}: ${formatNumber(p.best.value)}`);
  }
  return parts.join(' · ');
}

export class StudyView extends Widget implements IRenderMime.IRenderer, IStudySource {
  constructor() {
    super();
    this.addClass('hpt-StudyView');
    const node = this.node;
    this.message = el('div', 'hpt-message', node);
    this.body = el('div', 'hpt-body', node);
    const header = el('div', 'hpt-header', this.body);
    this.titleText = el('span', 'hpt-title', header);
    this.meta = el('span', 'hpt-meta', header);
    this.logToggle = el('label', 'hpt-toggle', header);
    this.logBox = el('input', 'hpt-log', this.logToggle);
    this.logBox.type = 'checkbox';
    this.logToggle.append(document.createTextNode(' log score axis'));
    this.logBox.addEventListener('change', () => this.draw());

    const progress = el('div', 'hpt-progress', this.body);
    const bar = el('div', 'hpt-bar', progress);
    this.barFill = el('div', 'hpt-bar-fill', bar);
    this.progressText = el('div', 'hpt-progress-text', progress);
    this.countsText = el('div', 'hpt-counts', progress);

    this.legend = el('div', 'hpt-legend', this.body);
    this.legend.setAttribute('aria-label', 'Legend');
    this.charts = el('div', 'hpt-charts', this.body);
    this.history = new Chart('hpt-history');
    this.curves = new Chart('hpt-curves');
    // Shown for a multi-objective study, in the history's place.
    this.hypervolume = new Chart('hpt-hypervolume');
    this.hypervolume.canvas.tabIndex = -1;
    this.hypervolume.node.hidden = true;
    this.charts.append(this.hypervolume.node, this.history.node, this.curves.node);
    this.pairBox = el('div', 'hpt-pairs', this.body);
    this.pairBox.hidden = true;
    this.body.insertBefore(this.pairBox, this.charts);
    this.parallel = new ParallelPanel({
      hover: (i, event) => {
        const number = this.doc ? this.doc.trials[i].number : null;
        this.hover(number);
        if (number !== null) {
          this.showTooltip(number, event);
        }
      },
      label: (text, event) => this.showText(text, event),
      leave: () => {
        this.hover(null);
        this.tooltip.hidden = true;
      },
      select: i => this.select(i >= 0 && this.doc ? this.doc.trials[i].number : null),
      filter: () => this.scheduleDraw()
    });
    this.body.appendChild(this.parallel.chart.node);
    this.listenKeys(this.parallel.chart);
    this.paramBox = el('div', 'hpt-params', this.body);
    // Analysis panels: the scores' distribution and the contour side by side, the timeline
    // under them at full width.
    const analysis = el('div', 'hpt-analysis', this.body);
    this.edf = new Chart('hpt-edf');
    this.contour = new ContourPanel(() => this.draw());
    this.timeline = new Chart('hpt-timeline');
    analysis.append(this.edf.node, this.contour.chart.node);
    this.body.appendChild(this.timeline.node);
    for (const chart of [this.edf, this.contour.chart, this.timeline]) {
      this.listen(chart);
      this.listenKeys(chart);
    }
    this.table = new TopTable(number => this.select(number));
    // The table scrolls sideways on its own when its columns are wider than the view.
    const tableBox = el('div', 'hpt-table-box', this.body);
    tableBox.appendChild(this.table.node);
    this.tooltip = el('div', 'hpt-tooltip', node);
    this.tooltip.hidden = true;

    for (const chart of [this.history, this.curves]) {
      this.listen(chart);
    }
    this.listenKeys(this.history);
    // Shown again (or resized): redraw when the width or the theme's colours changed while
    // the view was hidden.
    this.resizeObserver = new ResizeObserver(() => this.refresh());
    this.resizeObserver.observe(this.node);
    // Canvas pixels keep the colours they were drawn with: after a theme change, check the
    // theme's colours on each frame until they settle, and redraw whenever they differ.
    this.themeObserver = new MutationObserver(() => this.watchTheme());
    this.themeObserver.observe(document.body, {
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
    studies.add(this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
    studies.delete(this);
    super.dispose();
  }

  /** The document shown, or null. */
  get study(): IStudyDoc | null {
    return this.doc;
  }

  /** Redraw when shown with another width or theme than at the last drawing. */
  refresh(): void {
    const width = this.node.clientWidth;
    if (!this.doc || width === 0) {
      return;
    }
    if (width !== this.drawnWidth || inkKey(readInk(this.node)) !== this.drawnInk) {
      this.draw();
    }
  }

  private watchTheme(): void {
    const until = performance.now() + THEME_SETTLE_MS;
    const check = () => {
      if (this.isDisposed) {
        return;
      }
      this.refresh();
      if (performance.now() < until) {
        requestAnimationFrame(check);
      }
    };
    check();
  }

  reveal(): void {
    this.node.scrollIntoView({ block: 'center', behavior: 'smooth' });
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const start = performance.now();
    try {
      this.doc = parseStudy(mimeData(model));
    } catch (error) {
      if (!(error instanceof DocumentError)) {
        throw error;
      }
      this.doc = null;
      this.message.textContent = `hpt-magic cannot show this study: ${error.message}.`;
      this.node.dataset.state = 'error';
      this.message.hidden = false;
      this.body.hidden = true;
      this.tooltip.hidden = true;
      studies.update();
      return;
    }
    this.message.hidden = true;
    this.body.hidden = false;
    this.node.dataset.state = 'ok';
    this.fillText(this.doc);
    this.node.dataset.renders = String(Number(this.node.dataset.renders ?? 0) + 1);
    this.parseMs = performance.now() - start;
    // A hidden view (not yet attached, collapsed output) has no width and is not drawn:
    // forgetting the drawn width makes the resize observer draw it once it shows.
    this.drawnWidth = 0;
    this.draw();
    studies.update();
  }

  /** Select trial `number` (or clear the selection when it is already selected). */
  select(number: number | null): void {
    this.selected = number === this.selected ? null : number;
    this.node.dataset.selected = this.selected === null ? '' : String(this.selected);
    if (this.doc) {
      this.draw();
    }
  }

  private fillText(doc: IStudyDoc): void {
    const p = doc.progress;
    this.titleText.textContent = doc.name || 'study';
    this.titleText.title = doc.name || 'study';
    const meta: string[] =
      doc.objectives.length > 1 ? [doc.objectives.map(objectiveTitle).join(', ')] : [doc.direction];
    if (doc.constraints.length) {
      meta.push(`subject to ${doc.constraints.map(isolate).join(', ')}`);
    }
    if (doc.sampler) {
      meta.push(`sampler ${isolate(doc.sampler)}`);
    }
    if (doc.scheduler) {
      meta.push(`scheduler ${isolate(doc.scheduler)}`);
    }
    this.meta.textContent = meta.join(' · ');

    this.barFill.style.width = progressWidth(p);
    this.barFill.dataset.status = p.status;
    // Several objectives have no one best score: the Pareto chart's caption counts the front.
    this.progressText.textContent = progressLine(doc.objectives.length > 1 ? { ...p, best: null } : p);
    const counts = Object.entries(p.counts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${isolate(state)}`);
    this.countsText.textContent = counts.join(' · ');
    this.node.dataset.trials = String(doc.trials.length);
    this.node.dataset.status = p.status;
    this.fillLegend(doc);
    this.checkLog(doc);
  }

  private fillLegend(doc: IStudyDoc): void {
    const items = legendItems(doc);
    const key = items.map(i => i.join(':')).join('|');
    if (key === this.legendKey) {
      return;
    }
    this.legendKey = key;
    this.legend.replaceChildren(
      ...items.map(([label, mark, color]) => {
        const item = el('span', 'hpt-key');
        item.dataset.mark = mark;
        const swatch = el('canvas', 'hpt-swatch', item);
        swatch.setAttribute('aria-hidden', 'true');
        drawSwatch(swatch, mark, color);
        item.append(document.createTextNode(label));
        return item;
      })
    );
  }

  /** A log axis cannot show a score <= 0: the toggle is disabled, with the reason. */
  private checkLog(doc: IStudyDoc): void {
    let lowest = Infinity;
    for (const t of doc.trials) {
      if (t.value !== null) {
        lowest = Math.min(lowest, t.value);
      }
      for (const point of t.curve) {
        if (point[1] !== null) {
          lowest = Math.min(lowest, point[1]);
        }
      }
    }
    const allowed = !(lowest <= 0);
    this.logBox.disabled = !allowed;
    if (!allowed) {
      this.logBox.checked = false;
    }
    this.logToggle.title = allowed
      ? 'Show the scores on a logarithmic axis'
      : `A log axis cannot show scores ≤ 0 (the lowest is ${formatNumber(lowest)})`;
    this.logToggle.classList.toggle('hpt-mod-disabled', !allowed);
  }

  /** Redraw at the next frame (a brush dragged over many mouse moves costs one per frame). */
  private scheduleDraw(): void {
    if (this.drawPending) {
      return;
    }
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      if (!this.isDisposed) {
        this.draw();
      }
    });
  }

  /**
   * Redraw every chart and the table; records the time of parse + draw as data-render-ms.
   * Each panel is drawn on its own: one that fails is hidden and named in the view's
   * message (data-state "partial"), and the others are still drawn.
   */
  private draw(): void {
    const doc = this.doc;
    if (!doc) {
      return;
    }
    const width = this.node.clientWidth;
    if (width === 0) {
      return;
    }
    const start = performance.now();
    this.failures = [];
    this.drawnWidth = width;
    const ink = readInk(this.node);
    this.drawnInk = inkKey(ink);
    this.node.dataset.ink = ink.text;
    const selected = this.indexOf(this.selected);
    // Several objectives have no one best trial: the front is starred instead.
    const bestNumber = doc.objectives.length > 1 ? undefined : doc.progress.best?.number;
    const hasCurves = doc.trials.some(t => t.curve.length > 0);
    // A multi-objective study always has two charts: the front and the hypervolume.
    const twoCharts = hasCurves || doc.objectives.length > 1;
    const perRow = twoCharts && width >= 2 * MIN_CHART_WIDTH ? 2 : 1;
    const specs = paramSpecs(doc);
    const logScore = this.logBox.checked && !this.logBox.disabled;
    // The parallel coordinates need a parameter and a complete trial; their brush is the
    // filter that every chart and the table dim by.
    const parallel = specs.length > 0 && doc.trials.some(isComplete);
    this.parallel.chart.node.hidden = !parallel;
    const dimmed = parallel
      ? (this.attempt('the parallel coordinates', [this.parallel.chart.node], () =>
          this.parallel.prepare(doc, specs, logScore)
        ) ?? null)
      : null;
    const state: IDrawState = {
      doc,
      selected,
      hovered: this.indexOf(this.hovered),
      best: bestNumber === undefined ? -1 : this.indexOf(bestNumber),
      logScore,
      ink,
      width: Math.floor(width / perRow) - 8,
      dimmed
    };
    // Kept for hover redraws of the curves chart, at its own width.
    this.lastState = { ...state };
    const multi = doc.objectives.length > 1;
    this.history.node.hidden = multi;
    this.hypervolume.node.hidden = !multi;
    const pairs = multi ? paretoPairs(doc.objectives.length) : [];
    this.syncParetoCharts(pairs.length);
    if (multi) {
      const data = this.attempt('the Pareto front', this.paretoCharts.map(c => c.node), () => {
        const front = paretoData(doc);
        this.drawPareto(front, pairs, state, width);
        return front;
      });
      if (data) {
        this.attempt('the hypervolume', [this.hypervolume.node], () =>
          drawHypervolume(this.hypervolume, state, data)
        );
      } else {
        this.hypervolume.node.hidden = true;
      }
    } else {
      this.attempt('the history', [this.history.node], () => drawHistory(this.history, state));
    }
    this.curves.node.hidden = !hasCurves;
    if (hasCurves) {
      this.attempt('the learning curves', [this.curves.node], () =>
        drawCurves(this.curves, state)
      );
    }
    if (parallel && !this.parallel.chart.node.hidden) {
      this.attempt('the parallel coordinates', [this.parallel.chart.node], () =>
        this.parallel.draw({ ...state, width: width - 8 })
      );
    }
    this.syncParamCharts(specs);
    const perParamRow = Math.max(1, Math.min(specs.length, Math.floor(width / MIN_PARAM_WIDTH)));
    const paramState = { ...state, width: Math.floor(width / perParamRow) - 8 };
    specs.forEach((spec, i) => {
      const chart = this.paramCharts[i];
      this.attempt(`the chart of ${isolate(spec.name)}`, [chart.node], () =>
        drawParam(chart, spec, paramState)
      );
    });
    this.drawAnalysis(paramState, specs, width);
    const left = dimmed ? doc.trials.filter((_, i) => dimmed[i]).map(t => t.number) : null;
    this.attempt('the table', [this.table.node], () =>
      this.table.update(doc, specs, this.selected, left && new Set(left))
    );
    this.node.dataset.kept = left ? String(doc.trials.length - left.length) : '';
    this.showFailures();
    const ms = this.parseMs + performance.now() - start;
    this.parseMs = 0;
    this.node.dataset.renderMs = ms.toFixed(1);
  }

  /**
   * Draw one panel: shown when it is drawn, hidden when drawing it throws (a half-drawn
   * chart would mislead), the failure kept for the view's message.
   */
  private attempt<T>(what: string, nodes: HTMLElement[], paint: () => T): T | undefined {
    try {
      nodes.forEach(node => (node.hidden = false));
      return paint();
    } catch (error) {
      nodes.forEach(node => (node.hidden = true));
      const reason = error instanceof Error ? error.message : String(error);
      const line = reason.replace(/\s+/g, ' ').slice(0, MAX_ERROR_CHARS);
      this.failures.push(`${what} (${isolate(line)})`);
      console.warn(`hpt-magic: drawing ${what} failed`, error);
      return undefined;
    }
  }

  /** The panels that failed, named in one line as a document the view cannot show is. */
  private showFailures(): void {
    const failed = this.failures.length > 0;
    this.message.textContent = failed
      ? `hpt-magic cannot draw part of this study: ${this.failures.join('; ')}.`
      : '';
    this.message.hidden = !failed;
    this.node.dataset.state = failed ? 'partial' : 'ok';
  }

  /** The scores' distribution, the contour and the timeline (each hidden when empty). */
  private drawAnalysis(state: IDrawState, specs: IParamSpec[], width: number): void {
    const doc = state.doc;
    const edf = doc.objectives.length === 1 && doc.trials.some(isComplete);
    const contour = ContourPanel.shows(doc, specs);
    const perRow = edf && contour && width >= 2 * MIN_CHART_WIDTH ? 2 : 1;
    this.edfWidth = Math.floor(width / perRow) - 8;
    this.edf.node.hidden = !edf;
    if (edf) {
      this.attempt('the score distribution', [this.edf.node], () =>
        drawEdf(this.edf, { ...state, width: this.edfWidth })
      );
    }
    this.contour.chart.node.hidden = !contour;
    if (contour) {
      this.attempt('the contour', [this.contour.chart.node], () =>
        this.contour.draw({ ...state, width: this.edfWidth }, specs)
      );
    }
    // Hover redraws only a timeline that is shown: one that failed stays hidden.
    this.lanes = null;
    this.attempt('the timeline', [this.timeline.node], () => {
      const lanes = timelineLanes(doc);
      this.lanes = lanes;
      this.timeline.node.hidden = lanes.ids.length === 0;
      if (lanes.ids.length) {
        drawTimeline(this.timeline, { ...state, width: width - 8 }, lanes);
      }
    });
  }

  /**
   * The Pareto charts: one scatter of two objectives at the charts' width, or the pairs of
   * three or more at the parameter charts' width.
   */
  private drawPareto(
    data: IParetoData,
    pairs: Array<[number, number]>,
    state: IDrawState,
    width: number
  ): void {
    if (pairs.length === 1) {
      drawPareto(this.paretoCharts[0], state, data, 0, 1);
      return;
    }
    const perRow = Math.max(1, Math.min(pairs.length, Math.floor(width / MIN_PARAM_WIDTH)));
    const pairState = { ...state, width: Math.floor(width / perRow) - 8 };
    pairs.forEach(([i, j], k) => drawPareto(this.paretoCharts[k], pairState, data, i, j));
  }

  /** Keep `n` Pareto charts (in the pairs box when more than one), reusing existing ones. */
  private syncParetoCharts(n: number): void {
    while (this.paretoCharts.length < n) {
      const chart = new Chart('hpt-pareto');
      if (this.paretoCharts.length === 0) {
        this.listenKeys(chart);
      } else {
        chart.canvas.tabIndex = -1;
      }
      this.listen(chart);
      this.paretoCharts.push(chart);
    }
    while (this.paretoCharts.length > n) {
      (this.paretoCharts.pop() as Chart).node.remove();
    }
    this.pairBox.hidden = n < 2;
    const parent = n === 1 ? this.charts : this.pairBox;
    for (const chart of this.paretoCharts) {
      if (chart.node.parentElement !== parent) {
        parent.insertBefore(chart.node, n === 1 ? parent.firstChild : null);
      }
    }
  }

  /** Index into `doc.trials` of trial `number`, or -1. */
  private indexOf(number: number | null | undefined): number {
    if (!this.doc || number === null || number === undefined) {
      return -1;
    }
    return this.doc.trials.findIndex(t => t.number === number);
  }

  /** Highlight the curve of the trial under the mouse (redrawing the curves chart only). */
  private hover(number: number | null): void {
    if (number === this.hovered) {
      return;
    }
    this.hovered = number;
    const state = this.lastState;
    if (!state || state.doc !== this.doc) {
      return;
    }
    state.hovered = this.indexOf(number);
    if (!this.curves.node.hidden) {
      drawCurves(this.curves, state);
    }
    // The step or bar under the mouse is outlined (both cheap to redraw).
    if (!this.edf.node.hidden) {
      drawEdf(this.edf, { ...state, width: this.edfWidth });
    }
    if (this.lanes && this.lanes.ids.length && !this.timeline.node.hidden) {
      drawTimeline(this.timeline, { ...state, width: this.drawnWidth - 8 }, this.lanes);
    }
  }

  /**
   * Keyboard: in the history chart, arrows select the previous or next trial (by number),
   * Home/End the first or last, Escape clears; the selected trial's tooltip shows.
   */
  private listenKeys(chart: Chart): void {
    chart.canvas.addEventListener('keydown', event => {
      const doc = this.doc;
      if (!doc || doc.trials.length === 0) {
        return;
      }
      const numbers = doc.trials.map(t => t.number).sort((a, b) => a - b);
      const at = this.selected === null ? -1 : numbers.indexOf(this.selected);
      let next: number | null;
      switch (event.key) {
        case 'ArrowRight':
        case 'ArrowUp':
          next = numbers[Math.min(numbers.length - 1, at + 1)];
          break;
        case 'ArrowLeft':
        case 'ArrowDown':
          next = numbers[at < 0 ? numbers.length - 1 : Math.max(0, at - 1)];
          break;
        case 'Home':
          next = numbers[0];
          break;
        case 'End':
          next = numbers[numbers.length - 1];
          break;
        case 'Escape':
          next = null;
          break;
        default:
          return;
      }
      event.preventDefault();
      if (next !== this.selected) {
        this.select(next);
      }
      if (next === null) {
        this.tooltip.hidden = true;
      } else {
        const box = chart.canvas.getBoundingClientRect();
        this.showTooltip(next, { clientX: box.left + 20, clientY: box.bottom - 10 });
      }
    });
  }

  /** Keep one chart per parameter, reusing the existing ones. */
  private syncParamCharts(specs: IParamSpec[]): void {
    while (this.paramCharts.length < specs.length) {
      const chart = new Chart('hpt-param');
      chart.canvas.tabIndex = -1;
      this.listen(chart);
      this.paramCharts.push(chart);
      this.paramBox.appendChild(chart.node);
    }
    while (this.paramCharts.length > specs.length) {
      (this.paramCharts.pop() as Chart).node.remove();
    }
  }

  /** Hover shows the nearest trial's tooltip; click selects it. */
  private listen(chart: Chart): void {
    const pick = (event: MouseEvent) => {
      const box = chart.canvas.getBoundingClientRect();
      const i = chart.nearest(event.clientX - box.left, event.clientY - box.top);
      return this.doc && i >= 0 ? this.doc.trials[i] : null;
    };
    chart.canvas.addEventListener('mousemove', event => {
      const trial = pick(event);
      this.hover(trial ? trial.number : null);
      if (trial) {
        this.showTooltip(trial.number, event);
        return;
      }
      const box = chart.canvas.getBoundingClientRect();
      const label = chart.labelAt(event.clientX - box.left, event.clientY - box.top);
      if (label !== null) {
        this.showText(label, event);
      } else {
        this.tooltip.hidden = true;
      }
    });
    chart.canvas.addEventListener('mouseleave', () => {
      this.hover(null);
      this.tooltip.hidden = true;
    });
    chart.canvas.addEventListener('click', event => {
      const trial = pick(event);
      this.select(trial ? trial.number : null);
    });
  }

  /** The full text of an axis label that was shortened or rotated. */
  private showText(text: string, event: IPoint): void {
    const line = el('div', 'hpt-tt-label');
    line.textContent = text;
    this.tooltip.replaceChildren(line);
    delete this.tooltip.dataset.trial;
    this.place(event);
  }

  private place(event: IPoint): void {
    this.tooltip.hidden = false;
    const box = this.node.getBoundingClientRect();
    const x = event.clientX - box.left + 12;
    const y = event.clientY - box.top + 12;
    const maxX = this.node.clientWidth - this.tooltip.offsetWidth - 4;
    this.tooltip.style.left = `${Math.max(0, Math.min(x, maxX))}px`;
    this.tooltip.style.top = `${y}px`;
  }

  private showTooltip(number: number, event: IPoint): void {
    const doc = this.doc as IStudyDoc;
    const t = doc.trials.find(trial => trial.number === number);
    if (!t) {
      return;
    }
    const lines: Array<[string, string]> = [
      ['hpt-tt-title', `Trial #${t.number}${t.manual ? ' (manual)' : ''}`],
      ['hpt-tt-state', t.state],
    ];
    const objectives = doc.objectives;
    // One unnamed objective is "the score", as everywhere else in the view.
    const named =
      objectives.length > 1 || (objectives.length === 1 && objectives[0].name !== 'value');
    if (named) {
      objectives.forEach((o, i) => {
        // A document without `values` (older, or written by hand) has the score in `value`.
        const value = t.values && i < t.values.length ? t.values[i] : i === 0 ? t.value : null;
        lines.push(['hpt-tt-score', `${isolate(o.name)}: ${formatNumber(value)}`]);
      });
    } else {
      lines.push(['hpt-tt-score', `score: ${formatNumber(t.value)}`]);
    }
    if (t.feasible === false) {
      const rules = doc.constraints.length ? ` (${doc.constraints.map(isolate).join(', ')})` : '';
      lines.push(['hpt-tt-infeasible', `infeasible: breaks a constraint${rules}`]);
    }
    const objectiveNames = new Set(objectives.map(o => o.name));
    for (const [name, value] of Object.entries(t.metrics)) {
      // The objectives are among the returned numbers: listed once, above.
      if (!objectiveNames.has(name)) {
        lines.push(['hpt-tt-metric', `${isolate(name)}: ${formatNumber(value)}`]);
      }
    }
    const ran = trialDuration(t, this.lanes ? this.lanes.now : doc.now);
    if (ran !== null) {
      const named = t.workerName !== null ? isolate(t.workerName) : null;
      const worker = named ?? (t.worker !== null ? `worker ${t.worker}` : null);
      const verb = t.finished === null ? 'running for' : 'ran';
      lines.push(['hpt-tt-run', `${verb} ${formatDuration(ran)}${worker ? ` on ${worker}` : ''}`]);
    }
    if (t.parent !== null) {
      lines.push(['hpt-tt-line', `from trial #${t.parent}`]);
    }
    const i = doc.trials.indexOf(t);
    if (this.lastState?.dimmed && this.lastState.dimmed[i]) {
      lines.push(['hpt-tt-filtered', 'outside the filter']);
    }
    for (const [name, value] of Object.entries(t.params)) {
      const text = typeof value === 'number' ? formatNumber(value) : isolate(String(value));
      lines.push(['hpt-tt-param', `${isolate(name)} = ${text}`]);
    }
    if (t.error) {
      const error =
        t.error.length > MAX_ERROR_CHARS ? t.error.slice(0, MAX_ERROR_CHARS) + '…' : t.error;
      lines.push(['hpt-tt-error', error]);
    }
    this.tooltip.replaceChildren(
      ...lines.map(([className, text]) => {
        const line = el('div', className);
        line.textContent = text;
        return line;
      })
    );
    (this.tooltip.firstChild as HTMLElement).style.color = stateColor(t.state);
    this.tooltip.dataset.trial = String(t.number);
    this.place(event);
  }

  private doc: IStudyDoc | null = null;
  private selected: number | null = null;
  private hovered: number | null = null;
  private lastState: IDrawState | null = null;
  private drawnWidth = 0;
  private drawnInk = '';
  private legendKey = '';
  private legend: HTMLDivElement;
  private logToggle: HTMLLabelElement;
  private parseMs = 0;
  private message: HTMLDivElement;
  private body: HTMLDivElement;
  private titleText: HTMLSpanElement;
  private meta: HTMLSpanElement;
  private logBox: HTMLInputElement;
  private barFill: HTMLDivElement;
  private progressText: HTMLDivElement;
  private countsText: HTMLDivElement;
  private charts: HTMLDivElement;
  private history: Chart;
  private hypervolume: Chart;
  private paretoCharts: Chart[] = [];
  private pairBox: HTMLDivElement;
  private curves: Chart;
  private paramBox: HTMLDivElement;
  private paramCharts: Chart[] = [];
  private parallel: ParallelPanel;
  private edf: Chart;
  private edfWidth = 0;
  private contour: ContourPanel;
  private timeline: Chart;
  private lanes: ILanes | null = null;
  private drawPending = false;
  /** The panels the last drawing failed on, each with its reason. */
  private failures: string[] = [];
  private table: TopTable;
  private tooltip: HTMLDivElement;
  private resizeObserver: ResizeObserver;
  private themeObserver: MutationObserver;
}

/**
 * The axes of the parallel coordinates and the filter their brushes make: a range per brushed
 * axis, in axis units; a trial passes when it lies in every range (AND).
 */

import { isolate } from './bidi';
import { objectiveTitle } from './pareto';
import { IParamSpec, IStudyDoc, ITrial, Scalar, paramValue } from './schema';
import { extent, formatNumber } from './scale';

/** Objectives drawn as axes at most (as the Pareto pairs). */
export const MAX_OBJECTIVE_AXES = 5;

/** One axis: a parameter or an objective, its scale and how a trial sits on it. */
export interface IAxis {
  /** `p:` + parameter name or `o:` + objective index: the brush's key. */
  key: string;
  title: string;
  /** A trial's value in axis units (the option index on a categorical axis), or NaN. */
  value: (t: ITrial) => number;
  lo: number;
  hi: number;
  log: boolean;
  integer: boolean;
  /** The category names of a categorical axis, at 0, 1, 2, ... */
  labels?: string[];
}

/** Brushed ranges in axis units, by axis key. */
export type Brush = Map<string, [number, number]>;

/** True for a trial the panel draws a line for. */
export function isComplete(t: ITrial): boolean {
  return t.state === 'complete' && t.value !== null;
}

function paramAxis(doc: IStudyDoc, spec: IParamSpec): IAxis {
  const key = `p:${spec.name}`;
  if (spec.type === 'choice') {
    const options = spec.options ?? [];
    const index = new Map<Scalar, number>(options.map((o, i) => [o, i]));
    return {
      key,
      title: spec.name,
      value: t => {
        const k = index.get(paramValue(t, spec.name) as Scalar);
        return k === undefined ? NaN : k;
      },
      lo: -0.5,
      hi: Math.max(1, options.length) - 0.5,
      log: false,
      integer: true,
      labels: options.map(o => String(o))
    };
  }
  const value = (t: ITrial) => {
    const v = paramValue(t, spec.name);
    return typeof v === 'number' ? v : NaN;
  };
  const log = spec.log === true;
  const seen = extent(doc.trials.map(value), log) ?? [spec.low ?? 0, spec.high ?? 1];
  const low = spec.low !== undefined && (!log || spec.low > 0) ? spec.low : seen[0];
  const high = spec.high ?? seen[1];
  return {
    key,
    title: spec.name,
    value,
    lo: Math.min(low, seen[0]),
    hi: Math.max(high, seen[1]),
    log: log && Math.min(low, seen[0]) > 0,
    integer: spec.type === 'int'
  };
}

/** The axes: the parameters, then each objective (the score of a single-objective study). */
export function parallelAxes(doc: IStudyDoc, specs: IParamSpec[], logScore: boolean): IAxis[] {
  const axes = specs.map(spec => paramAxis(doc, spec));
  const objectives = doc.objectives.slice(0, MAX_OBJECTIVE_AXES);
  objectives.forEach((o, k) => {
    const value =
      objectives.length === 1
        ? (t: ITrial) => (t.value === null ? NaN : t.value)
        : (t: ITrial) => {
            const v = t.values && k < t.values.length ? t.values[k] : null;
            return v === null ? NaN : v;
          };
    const values = doc.trials.filter(isComplete).map(value);
    const log = logScore && extent(values, true) !== null && values.every(v => !(v <= 0));
    const range = extent(values, log) ?? [0, 1];
    const arrow = o.direction === 'maximize' ? '↑' : '↓';
    axes.push({
      key: `o:${k}`,
      title: objectives.length === 1 ? `score ${arrow}${log ? ' (log)' : ''}` : objectiveTitle(o),
      value,
      lo: range[0],
      hi: range[1],
      log,
      integer: false
    });
  });
  return axes;
}

/**
 * Which trials the brush leaves out (1) or keeps (0), or null when nothing is brushed. A
 * trial without a value on a brushed axis (no score, a parameter it never had) is left out.
 */
export function brushMask(doc: IStudyDoc, axes: IAxis[], brush: Brush): Uint8Array | null {
  const active = axes.filter(a => brush.has(a.key));
  if (active.length === 0) {
    return null;
  }
  const mask = new Uint8Array(doc.trials.length);
  doc.trials.forEach((t, i) => {
    for (const axis of active) {
      const [lo, hi] = brush.get(axis.key) as [number, number];
      const v = axis.value(t);
      if (!(v >= lo && v <= hi)) {
        mask[i] = 1;
        return;
      }
    }
  });
  return mask;
}

/** The brush in words: `lr 0.001–0.01 and kind a, b`. */
export function brushText(axes: IAxis[], brush: Brush): string {
  const parts: string[] = [];
  for (const axis of axes) {
    const range = brush.get(axis.key);
    if (!range) {
      continue;
    }
    let text: string;
    if (axis.labels) {
      const first = Math.max(0, Math.ceil(range[0]));
      const last = Math.min(axis.labels.length - 1, Math.floor(range[1]));
      const names = axis.labels.slice(first, last + 1);
      text = names.length ? names.map(isolate).join(', ') : 'nothing';
    } else {
      text = `${formatNumber(range[0])}–${formatNumber(range[1])}`;
    }
    parts.push(`${isolate(axis.title)} ${text}`);
  }
  return parts.join(' and ');
}

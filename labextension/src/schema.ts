/**
 * The study document (`application/vnd.hpt-magic.study+json`, version 1) and its checks.
 *
 * Every string in the document may be written by an attacker: the view only ever puts
 * strings into the page through `textContent` or the canvas `fillText`.
 */

import { isolate } from './bidi';

export const MIME_TYPE = 'application/vnd.hpt-magic.study+json';

/** The newest document version this view understands. */
export const SCHEMA_VERSION = 1;

export type Scalar = string | number | boolean | null;

export interface IParamSpec {
  name: string;
  type: 'float' | 'int' | 'choice';
  low?: number;
  high?: number;
  log?: boolean;
  options?: Scalar[];
}

export type Direction = 'minimize' | 'maximize';

/** One objective of the study; a single-objective study has one, named after its score. */
export interface IObjective {
  name: string;
  direction: Direction;
}

export interface ITrial {
  number: number;
  state: string;
  value: number | null;
  /** One value per objective (`value` is the first), null when the trial has none. */
  values: Array<number | null> | null;
  /** Other numbers the trial returned (constraint inputs among them). */
  metrics: { [name: string]: number | null };
  /** False when the trial breaks a constraint; null when it was not checked. */
  feasible: boolean | null;
  params: { [name: string]: Scalar };
  curve: Array<[number, number | null]>;
  manual: boolean;
  error: string | null;
  parent: number | null;
  /** When the trial started and finished (unix seconds, the kernel's clock), or null. */
  started: number | null;
  finished: number | null;
  /** The worker slot it ran on (`--jobs`, Dask) and the worker's name, when recorded. */
  worker: number | null;
  workerName: string | null;
}

export interface IProgress {
  status: string;
  done: number;
  planned: number | null;
  elapsed: number | null;
  eta: number | null;
  /** Why the run ended ("no improvement", "exhausted", ...), once it has. */
  reason: string | null;
  /** With reason "exhausted": the number of points of the search space, when counted. */
  spaceSize: number | null;
  counts: { [state: string]: number };
  best: { number: number; value: number | null } | null;
}

export interface IStudyDoc {
  name: string;
  direction: Direction;
  objectives: IObjective[];
  constraints: string[];
  sampler: string;
  scheduler: string;
  progress: IProgress;
  params: IParamSpec[];
  trials: ITrial[];
  /** The kernel's clock when the document was made (unix seconds), or null (older ones). */
  now: number | null;
}

/**
 * The value of parameter `name` in a trial, or undefined. Own properties only: a parameter
 * called `__proto__` or `constructor` must not reach the object prototype.
 */
export function paramValue(trial: ITrial, name: string): Scalar | undefined {
  return Object.prototype.hasOwnProperty.call(trial.params, name) ? trial.params[name] : undefined;
}

/** A document the view cannot show; `message` is shown to the user as text. */
export class DocumentError extends Error {}

type Json = { [key: string]: unknown };

// The checks below name only the field that is wrong; the caller adds where it sits
// (`trials[3].`) when an error passes through, so the common, valid case builds no strings.

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && isFinite(value);
}

function num(value: unknown, field: string, nullable = true): number | null {
  if (value === null || value === undefined) {
    if (nullable) {
      return null;
    }
    throw new DocumentError(`${field} is missing`);
  }
  if (!isNumber(value)) {
    throw new DocumentError(`${field} is not a number`);
  }
  return value;
}

function str(value: unknown, field: string): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value !== 'string') {
    throw new DocumentError(`${field} is not a string`);
  }
  return value;
}

function isScalar(value: unknown): value is Scalar {
  const type = typeof value;
  return value === null || type === 'string' || type === 'number' || type === 'boolean';
}

/** `parse` applied to each item; an error names the item as `${name}[i].`. */
function parseList<T>(items: unknown[], name: string, parse: (raw: unknown) => T): T[] {
  const out = new Array<T>(items.length);
  for (let i = 0; i < items.length; i++) {
    try {
      out[i] = parse(items[i]);
    } catch (error) {
      if (error instanceof DocumentError) {
        const sep = error.message.startsWith(' ') ? '' : '.';
        throw new DocumentError(`${name}[${i}]${sep}${error.message}`);
      }
      throw error;
    }
  }
  return out;
}

function parseParam(raw: unknown): IParamSpec {
  if (!isObject(raw)) {
    throw new DocumentError(' is not an object');
  }
  const type = raw.type;
  if (type !== 'float' && type !== 'int' && type !== 'choice') {
    throw new DocumentError('type must be float, int or choice');
  }
  const spec: IParamSpec = { name: str(raw.name, 'name'), type };
  if (type === 'choice') {
    if (!Array.isArray(raw.options) || !raw.options.every(isScalar)) {
      throw new DocumentError('options is not a list of values');
    }
    spec.options = raw.options as Scalar[];
  } else {
    spec.low = num(raw.low, 'low') ?? undefined;
    spec.high = num(raw.high, 'high') ?? undefined;
    spec.log = raw.log === true;
  }
  return spec;
}

function parseCurve(raw: unknown): Array<[number, number | null]> {
  if (raw === null || raw === undefined) {
    return [];
  }
  if (!Array.isArray(raw)) {
    throw new DocumentError('curve is not a list');
  }
  // Checked in place rather than copied: a large study has tens of thousands of points.
  for (let k = 0; k < raw.length; k++) {
    const point = raw[k];
    if (
      !Array.isArray(point) ||
      point.length !== 2 ||
      !isNumber(point[0]) ||
      !(point[1] === null || isNumber(point[1]))
    ) {
      throw new DocumentError(`curve[${k}] is not a [step, score] pair of numbers`);
    }
  }
  return raw as Array<[number, number | null]>;
}

function parseValues(raw: unknown): Array<number | null> | null {
  if (raw === null || raw === undefined) {
    return null;
  }
  if (!Array.isArray(raw) || !raw.every(v => v === null || isNumber(v))) {
    throw new DocumentError('values is not a list of numbers');
  }
  return raw as Array<number | null>;
}

function parseMetrics(raw: unknown): { [name: string]: number | null } {
  if (raw === null || raw === undefined) {
    return {};
  }
  if (!isObject(raw)) {
    throw new DocumentError('metrics is not an object');
  }
  for (const key in raw) {
    if (!(raw[key] === null || isNumber(raw[key]))) {
      throw new DocumentError('metrics holds a value that is not a number');
    }
  }
  return raw as { [name: string]: number | null };
}

function parseObjective(raw: unknown): IObjective {
  if (!isObject(raw)) {
    throw new DocumentError(' is not an object');
  }
  return {
    name: str(raw.name, 'name'),
    direction: raw.direction === 'maximize' ? 'maximize' : 'minimize'
  };
}

function parseTrial(raw: unknown): ITrial {
  if (!isObject(raw)) {
    throw new DocumentError(' is not an object');
  }
  const params = raw.params ?? {};
  if (!isObject(params)) {
    throw new DocumentError('params is not an object');
  }
  for (const key in params) {
    if (!isScalar(params[key])) {
      throw new DocumentError('params holds a value that is not a number, string or boolean');
    }
  }
  return {
    number: num(raw.number, 'number', false) as number,
    state: str(raw.state, 'state'),
    value: num(raw.value, 'value'),
    values: parseValues(raw.values),
    metrics: parseMetrics(raw.metrics),
    feasible: typeof raw.feasible === 'boolean' ? raw.feasible : null,
    params: params as { [name: string]: Scalar },
    curve: parseCurve(raw.curve),
    manual: raw.manual === true,
    error: raw.error === null || raw.error === undefined ? null : str(raw.error, 'error'),
    parent: num(raw.parent, 'parent'),
    started: num(raw.started, 'started'),
    finished: num(raw.finished, 'finished'),
    worker: Number.isInteger(raw.worker) ? (raw.worker as number) : null,
    workerName: typeof raw.worker_name === 'string' ? raw.worker_name : null
  };
}

function parseProgress(raw: unknown, nTrials: number): IProgress {
  const p = isObject(raw) ? raw : {};
  const counts: { [state: string]: number } = Object.create(null);
  if (isObject(p.counts)) {
    for (const [state, count] of Object.entries(p.counts)) {
      counts[state] = num(count, `progress.counts.${isolate(state)}`) ?? 0;
    }
  }
  let best: IProgress['best'] = null;
  if (isObject(p.best)) {
    best = {
      number: num(p.best.number, 'progress.best.number', false) as number,
      value: num(p.best.value, 'progress.best.value')
    };
  }
  return {
    status: str(p.status, 'progress.status') || 'running',
    done: num(p.done, 'progress.done') ?? nTrials,
    planned: num(p.planned, 'progress.planned'),
    elapsed: num(p.elapsed, 'progress.elapsed'),
    eta: num(p.eta, 'progress.eta'),
    reason: str(p.reason, 'progress.reason') || null,
    spaceSize: num(p.space_size, 'progress.space_size'),
    counts,
    best
  };
}

/**
 * Check a study document and return it typed.
 *
 * @throws DocumentError with a short reason when the document is malformed or newer than
 * this extension.
 */
export function parseStudy(data: unknown): IStudyDoc {
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      throw new DocumentError('the document is not valid JSON');
    }
  }
  if (!isObject(data)) {
    throw new DocumentError('the document is not a JSON object');
  }
  const version = data.version;
  if (typeof version !== 'number') {
    throw new DocumentError('the document has no version number');
  }
  if (version > SCHEMA_VERSION) {
    throw new DocumentError(
      `the document has version ${version}, newer than this extension supports ` +
        `(${SCHEMA_VERSION}); upgrade hpt-magic`
    );
  }
  if (version !== SCHEMA_VERSION) {
    throw new DocumentError(`unknown document version ${version}`);
  }
  const study = isObject(data.study) ? data.study : {};
  if (!Array.isArray(data.trials)) {
    throw new DocumentError('trials is not a list');
  }
  if (data.params !== undefined && !Array.isArray(data.params)) {
    throw new DocumentError('params is not a list');
  }
  if (data.objectives !== undefined && !Array.isArray(data.objectives)) {
    throw new DocumentError('objectives is not a list');
  }
  if (
    data.constraints !== undefined &&
    !(Array.isArray(data.constraints) && data.constraints.every(c => typeof c === 'string'))
  ) {
    throw new DocumentError('constraints is not a list of strings');
  }
  const trials = parseList(data.trials, 'trials', parseTrial);
  const direction: Direction = study.direction === 'maximize' ? 'maximize' : 'minimize';
  const objectives = parseList((data.objectives as unknown[]) ?? [], 'objectives', parseObjective);
  return {
    name: str(study.name, 'study.name'),
    // A document without objectives (single-objective, or older) has one: the score.
    direction: objectives.length ? objectives[0].direction : direction,
    objectives: objectives.length ? objectives : [{ name: 'score', direction }],
    constraints: (data.constraints as string[]) ?? [],
    sampler: str(study.sampler, 'study.sampler'),
    scheduler: str(study.scheduler, 'study.scheduler'),
    progress: parseProgress(data.progress, trials.length),
    params: parseList((data.params as unknown[]) ?? [], 'params', parseParam),
    trials,
    now: num(data.now, 'now')
  };
}

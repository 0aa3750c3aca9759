/**
 * The sortable table of the best trials. Rows and cells are reused across updates and
 * filled with `textContent` only.
 */

import { isolate } from './bidi';
import { IParamSpec, IStudyDoc, ITrial, Scalar, paramValue } from './schema';
import { formatNumber } from './scale';

/** How many of the best trials the table lists. */
export const TOP_ROWS = 10;
/** Parameter columns shown at most; the tooltip has all of them. */
const MAX_PARAM_COLUMNS = 8;

interface IColumn {
  title: string;
  value: (t: ITrial) => Scalar;
  text: (t: ITrial) => string;
}

function paramText(v: Scalar | undefined): string {
  if (v === undefined) {
    return '';
  }
  return typeof v === 'number' ? formatNumber(v) : String(v);
}

/** Order of two cell values: numbers before strings before null. */
function compare(a: Scalar, b: Scalar): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'number') {
    return -1;
  }
  if (typeof b === 'number') {
    return 1;
  }
  return String(a).localeCompare(String(b));
}

export class TopTable {
  readonly node: HTMLTableElement;

  /** `onSelect` receives the trial number of a clicked row. */
  constructor(private onSelect: (number: number) => void) {
    this.node = document.createElement('table');
    this.node.className = 'hpt-Table';
    this.head = this.node.createTHead().insertRow();
    this.body = this.node.createTBody();
    const pickRow = (event: Event) => {
      const row = (event.target as HTMLElement).closest('tr');
      if (row && row.dataset.trial !== undefined) {
        this.onSelect(Number(row.dataset.trial));
      }
    };
    const sortBy = (event: Event) => {
      const cell = (event.target as HTMLElement).closest('th');
      if (!cell) {
        return;
      }
      const column = cell.cellIndex;
      this.descending = column === this.sortColumn ? !this.descending : false;
      this.sortColumn = column;
      this.render();
      (this.head.cells[column] as HTMLElement).focus();
    };
    this.body.addEventListener('click', pickRow);
    this.head.addEventListener('click', sortBy);
    // Headers and rows are focusable: Enter or Space acts as a click.
    this.body.addEventListener('keydown', event => activate(event, pickRow));
    this.head.addEventListener('keydown', event => activate(event, sortBy));
  }

  /**
   * Show the best trials of `doc`, highlighting trial number `selected` (or none) and
   * dimming the trials in `dimmed` (numbers the brush leaves out; null: none).
   */
  update(
    doc: IStudyDoc,
    params: IParamSpec[],
    selected: number | null,
    dimmed: Set<number> | null = null
  ): void {
    this.doc = doc;
    this.selected = selected;
    this.dimmed = dimmed;
    const names = params.slice(0, MAX_PARAM_COLUMNS).map(p => p.name);
    const key = names.join('\u0000');
    if (key !== this.columnsKey) {
      this.columnsKey = key;
      this.columns = [
        { title: '#', value: t => t.number, text: t => String(t.number) },
        { title: 'score', value: t => t.value, text: t => formatNumber(t.value) },
        { title: 'state', value: t => t.state, text: t => t.state },
        ...names.map((name): IColumn => ({
          title: name,
          value: t => paramValue(t, name) ?? null,
          text: t => paramText(paramValue(t, name))
        }))
      ];
      this.sortColumn = 1;
      this.descending = doc.direction === 'maximize';
      fillCells(this.head, this.columns.length, 'th');
    }
    this.render();
  }

  private render(): void {
    const doc = this.doc;
    if (!doc) {
      return;
    }
    const sign = doc.direction === 'maximize' ? -1 : 1;
    const top = doc.trials
      .filter(t => t.state === 'complete' && t.value !== null)
      .sort((a, b) => sign * ((a.value as number) - (b.value as number)))
      .slice(0, TOP_ROWS);
    const column = this.columns[this.sortColumn];
    const dir = this.descending ? -1 : 1;
    top.sort((a, b) => dir * compare(column.value(a), column.value(b)) || a.number - b.number);

    Array.from(this.head.cells).forEach((cell, i) => {
      const arrow = i === this.sortColumn ? (this.descending ? ' ▼' : ' ▲') : '';
      cell.textContent = isolate(this.columns[i].title) + arrow;
      cell.title = `Sort by ${isolate(this.columns[i].title)}`;
      cell.setAttribute(
        'aria-sort',
        i === this.sortColumn ? (this.descending ? 'descending' : 'ascending') : 'none'
      );
    });
    while (this.body.rows.length > top.length) {
      this.body.deleteRow(-1);
    }
    while (this.body.rows.length < top.length) {
      this.body.insertRow();
    }
    top.forEach((t, r) => {
      const row = this.body.rows[r];
      row.dataset.trial = String(t.number);
      row.tabIndex = 0;
      row.setAttribute('aria-selected', String(t.number === this.selected));
      row.classList.toggle('hpt-mod-selected', t.number === this.selected);
      const dimmed = this.dimmed !== null && this.dimmed.has(t.number);
      row.classList.toggle('hpt-mod-dimmed', dimmed);
      row.title = dimmed ? 'Outside the filter' : '';
      fillCells(row, this.columns.length, 'td');
      this.columns.forEach((c, i) => {
        const text = c.text(t);
        if (row.cells[i].textContent !== text) {
          row.cells[i].textContent = text;
        }
      });
    });
    this.node.hidden = top.length === 0;
  }

  private head: HTMLTableRowElement;
  private body: HTMLTableSectionElement;
  private doc: IStudyDoc | null = null;
  private selected: number | null = null;
  private dimmed: Set<number> | null = null;
  private columns: IColumn[] = [];
  private columnsKey: string | null = null;
  private sortColumn = 1;
  private descending = false;
}

/** Call `action` for Enter or Space (what a click on a button would do). */
function activate(event: KeyboardEvent, action: (event: Event) => void): void {
  if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    action(event);
  }
}

/** Give `row` exactly `n` cells of kind `tag` (headers are focusable column headers). */
function fillCells(row: HTMLTableRowElement, n: number, tag: 'td' | 'th'): void {
  while (row.cells.length > n) {
    row.deleteCell(-1);
  }
  while (row.cells.length < n) {
    const cell = document.createElement(tag);
    if (tag === 'th') {
      cell.scope = 'col';
      cell.tabIndex = 0;
    }
    row.appendChild(cell);
  }
}

/**
 * The "Tuning" side panel: the studies shown in the current notebook, with their progress.
 * Clicking a study scrolls its view into sight. Text only, like the view.
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { LabIcon } from '@jupyterlab/ui-components';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { IStudySource, studies } from './registry';
import { progressLine, progressWidth } from './view';

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
  '<path class="jp-icon3" fill="#616161" d="M3 20h18v-2H3zm2-4h2V9H5zm4 0h2V4H9zm4 0h2v-5h-2zm4 ' +
  '0h2V7h-2z"/></svg>';

const tuningIcon = new LabIcon({ name: 'hpt-magic:tuning', svgstr: ICON_SVG });

/**
 * What the panel needs of the application's shell. JupyterLab's shell and Notebook 7's both
 * have it (a notebook page of Notebook 7 shows one document, which is then its current widget).
 */
export interface ICurrentShell {
  readonly currentWidget: Widget | null;
  readonly currentChanged: ISignal<unknown, unknown>;
}

interface IRow {
  node: HTMLElement;
  name: HTMLElement;
  where: HTMLElement;
  fill: HTMLElement;
  line: HTMLElement;
}

export class TuningPanel extends Widget {
  constructor(private shell: ICurrentShell) {
    super();
    this.id = 'hpt-magic-tuning';
    this.addClass('hpt-TuningPanel');
    this.title.icon = tuningIcon;
    this.title.caption = 'Tuning: studies in this notebook';
    const heading = document.createElement('h2');
    heading.textContent = 'Tuning';
    this.list = document.createElement('ul');
    this.empty = document.createElement('p');
    this.empty.className = 'hpt-TuningPanel-empty';
    this.empty.textContent = 'No study is shown in the current notebook.';
    this.node.append(heading, this.list, this.empty);
    studies.changed.connect(this.schedule, this);
    shell.currentChanged.connect(this.schedule, this);
  }

  dispose(): void {
    studies.changed.disconnect(this.schedule, this);
    this.shell.currentChanged.disconnect(this.schedule, this);
    super.dispose();
  }

  protected onAfterShow(): void {
    this.refresh();
  }

  /** Refresh at the next frame (many updates in a burst cost one refresh). */
  private schedule(): void {
    if (this.pending || !this.isVisible) {
      return;
    }
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.refresh();
    });
  }

  private refresh(): void {
    const current = this.shell.currentWidget;
    const shown = studies.sources.filter(
      s => s.study !== null && current !== null && current.node.contains(s.node)
    );
    while (this.rows.length > shown.length) {
      (this.rows.pop() as IRow).node.remove();
    }
    while (this.rows.length < shown.length) {
      this.rows.push(this.makeRow(this.rows.length));
    }
    const cells = current ? Array.from(current.node.querySelectorAll('.jp-Cell')) : [];
    shown.forEach((source, i) => {
      const doc = source.study!;
      const row = this.rows[i];
      const p = doc.progress;
      row.name.textContent = doc.name || 'study';
      // Two cells may show studies of one name: the cell tells them apart.
      const cell = source.node.closest('.jp-Cell');
      const index = cell ? cells.indexOf(cell) : -1;
      row.where.textContent = index >= 0 ? ` · cell ${index + 1}` : '';
      row.line.textContent = progressLine(p);
      row.fill.style.width = progressWidth(p);
      row.node.dataset.status = p.status;
    });
    this.sources = shown;
    this.empty.hidden = shown.length > 0;
  }

  private makeRow(index: number): IRow {
    const node = document.createElement('li');
    const title = document.createElement('div');
    title.className = 'hpt-TuningPanel-name';
    const name = document.createElement('span');
    const where = document.createElement('span');
    where.className = 'hpt-TuningPanel-where';
    title.append(name, where);
    const bar = document.createElement('div');
    bar.className = 'hpt-bar';
    const fill = document.createElement('div');
    fill.className = 'hpt-bar-fill';
    bar.appendChild(fill);
    const line = document.createElement('div');
    line.className = 'hpt-TuningPanel-line';
    node.append(title, bar, line);
    node.title = 'Show this study';
    node.tabIndex = 0;
    node.addEventListener('click', () => this.sources[index]?.reveal());
    node.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.sources[index]?.reveal();
      }
    });
    this.list.appendChild(node);
    return { node, name, where, fill, line };
  }

  private list: HTMLUListElement;
  private empty: HTMLParagraphElement;
  private rows: IRow[] = [];
  private sources: IStudySource[] = [];
  private pending = false;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'hpt-magic:tuning-panel',
  description: 'A side panel listing the studies of the current notebook.',
  autoStart: true,
  // Not ILabShell: Notebook 7 has a right side panel too, on a shell of its own.
  activate: (app: JupyterFrontEnd) => {
    const shell = app.shell as JupyterFrontEnd.IShell & Partial<ICurrentShell>;
    if (shell.currentChanged) {
      shell.add(new TuningPanel(shell as ICurrentShell), 'right', { rank: 900 });
    }
  }
};

export default plugin;

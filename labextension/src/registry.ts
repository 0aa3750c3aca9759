/**
 * The study views alive in this JupyterLab, for the Tuning side panel.
 */

import { ISignal, Signal } from '@lumino/signaling';

import { IStudyDoc } from './schema';

/** What the registry needs from a view. */
export interface IStudySource {
  readonly node: HTMLElement;
  /** The last document shown, or null (none yet, or one that could not be shown). */
  readonly study: IStudyDoc | null;
  /** Bring the view into sight. */
  reveal(): void;
}

export class StudyRegistry {
  /** Emitted when a view is added, updated or removed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get sources(): IStudySource[] {
    return [...this._sources];
  }

  add(source: IStudySource): void {
    this._sources.add(source);
    this._changed.emit();
  }

  update(): void {
    this._changed.emit();
  }

  delete(source: IStudySource): void {
    if (this._sources.delete(source)) {
      this._changed.emit();
    }
  }

  private _sources = new Set<IStudySource>();
  private _changed = new Signal<this, void>(this);
}

/** One registry per page: the renderer and the panel plugin share it. */
export const studies = new StudyRegistry();

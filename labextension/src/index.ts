/**
 * hpt-magic's JupyterLab extension: a renderer for tuning studies
 * (`application/vnd.hpt-magic.study+json`).
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { MIME_TYPE } from './schema';
import { StudyView } from './view';

/**
 * The renderer factory. `safe` because the view renders every string as text, so it may
 * show outputs of untrusted notebooks; rank 0 so it wins over the PNG fallback that the
 * kernel puts in the same bundle.
 */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: () => new StudyView()
};

const extension: IRenderMime.IExtension = {
  id: 'hpt-magic:study-renderer',
  description: 'Interactive view of hpt-magic tuning studies.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;

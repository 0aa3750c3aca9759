/**
 * Text from the study document inside the view's own sentences.
 *
 * A name may hold right-to-left letters or bidi controls: U+202E alone turns everything
 * after it on its line around, so "Score over \u202Elr and depth" reads "Score over htped dna
 * rl". Put between U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE, such a
 * text is laid out on its own (in the DOM and on a canvas alike) and the sentence keeps its
 * order. The text's own embeddings, overrides and isolates are dropped first: its own U+2069
 * would close the isolate early ("\u2069\u202Elr" escaped it and turned the rest around).
 * The same as `isolate` in hpt_magic/_format.py.
 */

/** Right-to-left letters (Hebrew to N'Ko and beyond, their presentation forms) and controls. */
const BIDI =
  /[\u0590-\u08ff\u200e\u200f\u202a-\u202e\u2066-\u2069\ufb1d-\ufdff\ufe70-\ufefe\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;

/** The bidi embeddings, overrides and isolates: a text's own would outlive its isolate. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` (from the document) ready to sit inside a sentence: isolated when it holds
 * anything that could reorder its neighbours, and without its own bidi controls
 * (U+202A-U+202E, U+2066-U+2069; the marks U+200E and U+200F stay). Left-to-right text is
 * returned as it is, so titles and copied text carry no invisible characters.
 */
export function isolate(text: string): string {
  return BIDI.test(text) ? `\u2068${text.replace(BIDI_CONTROLS, '')}\u2069` : text;
}

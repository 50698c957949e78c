// Comment length as a person sees it: extended grapheme clusters (UAX #29) by
// Intl.Segmenter. The server counts the same way (livechat/text.py, the `regex` module's
// \X); tests/e2e/test_grapheme_agreement.py checks both on the same strings.

const segmenter = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter() : null;

/** The number of characters a person sees in `text`. */
export function graphemes(text) {
  if (segmenter) {
    let n = 0;
    for (const _ of segmenter.segment(text)) n += 1;
    return n;
  }
  return Array.from(text).length;
}

// Strings in the reader's language. They all come from one catalog, web/locales/*.json (the
// Korean source strings and their translations), rendered into the page by the templates'
// `_()`: a JSON block (`<script type="application/json" id=…>`) or an element's data-*
// attributes. Scripts read them only through these functions.

/** `{name}` placeholders filled from `values`; unknown names are kept as written. */
export function fill(template, values = {}) {
  return String(template ?? "").replace(/\{(\w+)\}/g,
    (whole, key) => (key in values ? String(values[key]) : whole));
}

/** The strings of the JSON block with this id ({} when there is none or it is broken). */
export function pageStrings(id) {
  const element = document.getElementById(id);
  if (!element) return {};
  try {
    return JSON.parse(element.textContent || "{}");
  } catch {
    return {};
  }
}

/** The page's language (the `lang` of <html>), as the server negotiated it. */
export function pageLocale() {
  return document.documentElement.lang || "ko";
}

/** A time of day in Seoul, e.g. "14:05" (with seconds when asked). */
export function seoulClock(iso, { seconds = false, locale = pageLocale() } = {}) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(locale, {
    timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}), hour12: false,
  });
}

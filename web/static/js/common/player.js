// The video player both pages share (live, embed, replay): native HLS where the browser
// has it (Safari, iOS, recent Android), else our vendored hls.js (loaded on demand), else
// a plain source; and the one "자막" button that turns captions on and off.

const HLS_TYPE = "application/vnd.apple.mpegurl";

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.addEventListener("load", resolve, { once: true });
    script.addEventListener("error", reject, { once: true });
    document.head.append(script);
  });
}

/**
 * Play `src` in `video`, from `start` seconds for a recording. A live stream fetches
 * segments only once the viewer presses play (data costs matter on phones).
 */
export async function attachStream(video, src, { start = 0, live = false } = {}) {
  if (!src) return;
  const isHls = /\.m3u8(\?|$)/i.test(src);
  if (!isHls || video.canPlayType(HLS_TYPE)) {
    video.src = src;
    return;
  }
  if (video.dataset.hls) {
    try {
      await loadScript(video.dataset.hls);
    } catch {
      /* fall through to the plain source */
    }
  }
  const Hls = window.Hls;
  if (!Hls || !Hls.isSupported()) {
    video.src = src;
    return;
  }
  // No worker: CSP allows scripts from 'self' only, not the blob: worker hls.js makes.
  const hls = new Hls(live
    ? { enableWorker: false, lowLatencyMode: true, autoStartLoad: false }
    : { enableWorker: false, startPosition: start > 0 ? start : -1 });
  hls.loadSource(src);
  hls.attachMedia(video);
  if (live) video.addEventListener("play", () => hls.startLoad(), { once: true });
}

/**
 * One button for captions: on shows the track in the page's language (else the first),
 * off hides them all; the button is hidden while the video has no text track.
 */
export function captionsToggle(video, button) {
  const tracks = () => Array.from(video.textTracks || []).filter(
    (t) => t.kind === "captions" || t.kind === "subtitles");
  const preferred = () => {
    const list = tracks();
    const locale = button.dataset.locale || document.documentElement.lang;
    return list.find((t) => t.language === locale) || list[0];
  };
  const sync = () => {
    const list = tracks();
    button.hidden = list.length === 0;
    button.setAttribute("aria-pressed", String(list.some((t) => t.mode === "showing")));
  };
  button.addEventListener("click", () => {
    const chosen = button.getAttribute("aria-pressed") !== "true" ? preferred() : null;
    for (const t of tracks()) t.mode = t === chosen ? "showing" : "disabled";
    sync();
  });
  video.textTracks?.addEventListener("addtrack", sync);
  video.textTracks?.addEventListener("change", sync);
  sync();
}

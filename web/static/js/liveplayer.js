// The live player: native HLS where the browser has it (Safari, iOS, recent Android),
// else hls.js when it is vendored (web/static/vendor/hls.min.js), else a plain source.
// One "자막" button turns captions on and off for every text track the stream has.

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

async function attach(video) {
  const src = video.dataset.stream;
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
  if (Hls && Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: true, autoStartLoad: false });
    hls.loadSource(src);
    hls.attachMedia(video);
    // Fetch segments only once the viewer presses play (data costs matter on phones).
    video.addEventListener("play", () => hls.startLoad(), { once: true });
    return;
  }
  video.src = src;
}

function captions(video, button) {
  const tracks = () => Array.from(video.textTracks || []).filter(
    (t) => t.kind === "captions" || t.kind === "subtitles");
  const sync = () => {
    const list = tracks();
    button.hidden = list.length === 0;
    button.setAttribute("aria-pressed", String(list.some((t) => t.mode === "showing")));
  };
  button.addEventListener("click", () => {
    const on = button.getAttribute("aria-pressed") !== "true";
    const list = tracks();
    list.forEach((t, i) => { t.mode = on && i === 0 ? "showing" : "disabled"; });
    sync();
  });
  if (video.textTracks) {
    video.textTracks.addEventListener("addtrack", sync);
    video.textTracks.addEventListener("change", sync);
  }
  sync();
}

const video = document.getElementById("live-video");
if (video) {
  attach(video);
  const button = document.getElementById("captions-toggle");
  if (button) captions(video, button);
}

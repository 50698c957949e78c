// The embeddable player: start a shared replay at its second (data-start, from ?t=).
// liveplayer.js attaches the stream; this only seeks once the duration is known.

const video = document.getElementById("live-video");
const start = Number(video?.dataset.start || 0);
if (video && start > 0) {
  const seek = () => {
    if (!Number.isFinite(video.duration) || start < video.duration) video.currentTime = start;
  };
  if (video.readyState >= 1) seek();
  else video.addEventListener("loadedmetadata", seek, { once: true });
}

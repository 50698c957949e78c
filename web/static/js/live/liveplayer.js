// The live (and embedded) player: see player.js. A live stream starts at the live edge.
//
// On the live page (#player): while the broadcast is live the native controls (with their
// seek bar, meaningless for live) give way to our bar — play/pause, sound, captions, full
// screen — and the video starts muted by itself where the browser allows it (never when
// the reader asked to save data); a planned broadcast shows its waiting room with a
// countdown instead, and turns into the live player when the `status` frame says so.
import { attachStream, captionsToggle } from "../common/player.js";

const video = document.getElementById("live-video");
const player = document.getElementById("player");

function saveData() {
  return Boolean(navigator.connection && navigator.connection.saveData);
}

/** "1:02:03" / "02:03": what is left until `target` (ms), never negative. */
export function countdownText(left) {
  const total = Math.max(0, Math.ceil(left / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (total >= 86400) return `${Math.floor(total / 86400)}d ${two(h % 24)}:${two(m)}:${two(s)}`;
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

function liveControls() {
  const bar = document.getElementById("player-controls");
  const play = document.getElementById("player-play");
  const mute = document.getElementById("player-mute");
  const full = document.getElementById("player-fullscreen");
  if (!bar || bar.dataset.ready) return;
  bar.dataset.ready = "1";
  const sync = () => {
    const playing = !video.paused;
    play.setAttribute("aria-pressed", String(playing));
    play.querySelector(".player__icon").className =
      `player__icon player__icon--${playing ? "pause" : "play"}`;
    document.getElementById("player-play-label").textContent =
      playing ? play.dataset.pause : play.dataset.play;
    const muted = video.muted;
    mute.setAttribute("aria-pressed", String(muted));
    mute.querySelector(".player__icon").className =
      `player__icon player__icon--${muted ? "muted" : "sound"}`;
    const label = document.getElementById("player-mute-label");
    label.textContent = muted ? mute.dataset.unmute : mute.dataset.mute;
    // Unmuted, the big "소리 켜기" chip shrinks to an icon (its name stays for readers).
    label.className = muted ? "" : "visually-hidden";
  };
  play.addEventListener("click", () => {
    if (video.paused) video.play().catch(() => {});
    else video.pause();
  });
  mute.addEventListener("click", () => {
    video.muted = !video.muted;
    if (!video.muted && video.paused) video.play().catch(() => {});
  });
  full.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else if (player.requestFullscreen) player.requestFullscreen().catch(() => {});
    else if (video.webkitEnterFullscreen) video.webkitEnterFullscreen();
  });
  for (const name of ["play", "pause", "volumechange"]) video.addEventListener(name, sync);
  video.controls = false;
  bar.hidden = false;
  sync();
}

async function goLive() {
  player.dataset.live = "";
  document.getElementById("live")?.classList.remove("live--waiting");
  document.getElementById("waiting-room")?.remove();
  document.getElementById("player-pill").hidden = false;
  liveControls();
  await attachStream(video, video.dataset.stream, { live: true });
  if (!saveData()) {
    video.muted = true;
    video.play().catch(() => {}); // the browser may refuse: the ▶ button stays
  }
}

function waitingRoom(room) {
  const counter = document.getElementById("waiting-countdown");
  const target = new Date(room.dataset.startsAt).getTime();
  if (Number.isNaN(target)) return;
  const tick = () => {
    if (!room.isConnected) return;
    const left = target - Date.now();
    counter.textContent = left > 0 ? countdownText(left) : counter.dataset.soon;
    if (left > 0) setTimeout(tick, (left % 1000) || 1000);
  };
  tick();
}

if (video) {
  const button = document.getElementById("captions-toggle");
  if (button) captionsToggle(video, button);
  const room = document.getElementById("waiting-room");
  if (!player) {
    attachStream(video, video.dataset.stream, { live: true }); // the embed
  } else if (room) {
    waitingRoom(room);
    document.addEventListener("livechat:frame", (event) => {
      if (event.detail.type === "status" && event.detail.status === "live") goLive();
    });
  } else if ("live" in player.dataset && video.dataset.stream) {
    goLive();
    document.addEventListener("livechat:frame", (event) => {
      const { type, status } = event.detail;
      // Ended or cancelled: no longer LIVE (the picture may play out to its end).
      if (type === "status" && status !== "live") document.getElementById("player-pill").hidden = true;
    });
  } else {
    attachStream(video, video.dataset.stream, { live: true });
  }
}

// The staff bar: what is live now (with its moderator console for those who moderate),
// and logout. Everything else in the bar is plain links rendered by the server.
import { postJSON, useToken } from "./api.js";

const bar = document.getElementById("staff-bar");
const live = document.getElementById("staff-live");

function link(href, text, className) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  if (className) a.className = className;
  return a;
}

async function showLive() {
  const response = await fetch("/api/now", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const now = await response.json();
  const lives = Array.isArray(now.live) ? now.live : [];
  if (!lives.length) {
    live.textContent = live.dataset.none;
    return;
  }
  live.replaceChildren();
  for (const b of lives) {
    const pill = document.createElement("span");
    pill.className = "staff-bar__pill";
    pill.textContent = live.dataset.onAir;
    live.append(pill, " ", link(`/live/${b.id}`, b.title, "staff-bar__title"));
    if (live.dataset.consoleAllowed) {
      live.append(" ", link(`/moderate/${b.id}`, live.dataset.console, "staff-bar__console"));
    }
  }
}

document.getElementById("staff-logout").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    useToken(bar.dataset.csrf);
    const { ok, status } = await postJSON("/api/logout", {});
    if (!ok) throw new Error(String(status));
    window.location.assign("/");
  } catch {
    button.disabled = false;
    live.textContent = button.dataset.failed;
  }
});

showLive().catch(() => {});

// The replay page: the player (native HLS where the browser has it, else our vendored
// hls.js), deep links (?t=), chapters, one captions button, and the comments written
// during the broadcast replayed in sync with the player, like a live chat replay.
//
// Sync follows `video.currentTime`, nothing else: comments are fetched in 60-second
// windows (GET /api/replays/{id}/comments?from=&to=) and shown once the player passes
// their offset. Playing forward appends; a seek (either way) redraws the list from the
// comments just before the new position; a paused player shows nothing new.
// User text is only ever set with textContent.
import { postJSON, useToken } from "../common/api.js";
import { attachStream, captionsToggle } from "../common/player.js";

const WINDOW = 60; // seconds per fetched window
const SHOWN = 80; // comments kept in the list
const STEP = 3; // a jump larger than this (seconds) is a seek, not playback

const video = document.getElementById("replay-video");
const chat = document.getElementById("replay-chat");

function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(s).padStart(2, "0")}`;
}

function stamp(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const out = (h ? `${h}h` : "") + (m ? `${m}m` : "");
  return out + (s || !out ? `${s}s` : "");
}

// -- player --------------------------------------------------------------------------
function attach(player) {
  const start = Number(player.dataset.start || 0);
  player.addEventListener("loadedmetadata", () => {
    if (start > 0 && player.currentTime < 0.5) player.currentTime = start;
  }, { once: true });
  attachStream(player, player.dataset.src, { start });
}

function chapters(player, list) {
  const items = Array.from(list.querySelectorAll("a[data-start]"));
  list.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-start]");
    if (!link) return;
    event.preventDefault();
    player.currentTime = Number(link.dataset.start);
    player.play().catch(() => {});
  });
  player.addEventListener("timeupdate", () => {
    let current = null;
    for (const a of items) if (Number(a.dataset.start) <= player.currentTime + 0.25) current = a;
    for (const a of items) {
      if (a === current) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    }
  });
}

function shareLink(player, link) {
  const base = link.pathname;
  const update = () => {
    const t = Math.floor(player.currentTime);
    link.href = t > 0 ? `${base}?t=${stamp(t)}` : base;
  };
  player.addEventListener("pause", update);
  player.addEventListener("seeked", update);
  player.addEventListener("timeupdate", update);
}

// -- replayed comments -----------------------------------------------------------------
class CommentReplay {
  constructor(player, root) {
    this.player = player;
    this.root = root;
    this.id = root.dataset.replayId;
    this.duration = Number(root.dataset.duration || 0);
    // The sign-in provider marks ({kakao: {src, label}, …}) drawn beside members' names.
    this.marks = JSON.parse(root.dataset.marks || "{}");
    this.list = document.getElementById("replay-comments");
    this.empty = document.getElementById("replay-comments-empty");
    this.status = document.getElementById("replay-chat-status");
    this.windows = new Map(); // window index -> Promise<comment[]>
    this.shownUpTo = -1; // offset of the last comment drawn (playback position)
    this.shownIds = new Set();
    this.generation = 0;
    this.lastTime = 0;
    for (const type of ["seeked", "loadedmetadata"]) {
      player.addEventListener(type, () => this.redraw());
    }
    player.addEventListener("timeupdate", () => this.tick());
    this.redraw();
  }

  text(name) {
    return this.root.dataset[`str${name[0].toUpperCase()}${name.slice(1)}`] || "";
  }

  fetchWindow(index) {
    if (index < 0 || (this.duration && index * WINDOW >= this.duration)) {
      return Promise.resolve([]);
    }
    let pending = this.windows.get(index);
    if (!pending) {
      const from = index * WINDOW;
      pending = fetch(`/api/replays/${this.id}/comments?from=${from}&to=${from + WINDOW}`, {
        headers: { Accept: "application/json" },
      }).then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      }).then((body) => {
        this.status.textContent = "";
        return body.items;
      }).catch((error) => {
        this.windows.delete(index); // try again on the next tick
        this.status.textContent = this.text("offline");
        throw error;
      });
      this.windows.set(index, pending);
      if (this.windows.size > 30) this.windows.delete(this.windows.keys().next().value);
    }
    return pending;
  }

  // Everything before `time` that belongs in the list, oldest first.
  async before(time) {
    const index = Math.floor(time / WINDOW);
    const [previous, current] = await Promise.all([
      this.fetchWindow(index - 1), this.fetchWindow(index)]);
    return [...previous, ...current].filter((c) => c.offset <= time).slice(-SHOWN);
  }

  async redraw() {
    const generation = ++this.generation;
    const time = this.player.currentTime;
    this.lastTime = time;
    this.root.dataset.position = String(Math.floor(time));
    let items;
    try {
      items = await this.before(time);
    } catch {
      return;
    }
    if (generation !== this.generation) return; // a later seek won
    this.list.replaceChildren();
    this.shownIds.clear();
    this.shownUpTo = time;
    for (const c of items) this.add(c);
    this.settle();
  }

  async tick() {
    const time = this.player.currentTime;
    if (Math.abs(time - this.lastTime) > STEP || time < this.shownUpTo) {
      this.redraw();
      return;
    }
    this.lastTime = time;
    this.root.dataset.position = String(Math.floor(time));
    const index = Math.floor(time / WINDOW);
    if (time - index * WINDOW > WINDOW - 10) this.fetchWindow(index + 1).catch(() => {});
    const generation = this.generation;
    let items;
    try {
      items = await this.fetchWindow(index);
      if (index > 0 && this.shownUpTo < index * WINDOW) {
        items = [...(await this.fetchWindow(index - 1)), ...items];
      }
    } catch {
      return;
    }
    if (generation !== this.generation) return;
    const from = this.shownUpTo;
    for (const c of items) if (c.offset > from && c.offset <= time) this.add(c);
    this.shownUpTo = Math.max(this.shownUpTo, time);
    this.settle();
  }

  add(c) {
    if (this.shownIds.has(c.id)) return;
    this.shownIds.add(c.id);
    this.list.append(this.render(c));
  }

  settle() {
    while (this.list.children.length > SHOWN) {
      this.shownIds.delete(Number(this.list.firstElementChild.dataset.id));
      this.list.firstElementChild.remove();
    }
    this.empty.hidden = this.list.children.length > 0;
    this.list.scrollTop = this.list.scrollHeight;
  }

  render(c) {
    const li = document.createElement("li");
    li.className = "replay-comment" + (c.role === "official" ? " replay-comment--official" : "");
    li.dataset.id = String(c.id);
    li.dataset.offset = String(c.offset);
    const meta = document.createElement("p");
    meta.className = "replay-comment__meta";
    const at = document.createElement("button");
    at.type = "button";
    at.className = "replay-comment__time";
    at.textContent = clock(c.offset);
    at.addEventListener("click", () => { this.player.currentTime = c.offset; });
    const author = document.createElement("span");
    author.className = "replay-comment__author";
    author.textContent = c.author;
    meta.append(at, " ", author);
    const mark = c.mark ? this.marks[c.mark] : null;
    if (mark) { // as on the live page: the provider a signed-in author used
      const img = document.createElement("img");
      img.className = "mark mark--" + c.mark;
      img.src = mark.src;
      img.alt = img.title = mark.label;
      img.width = img.height = 14;
      meta.append(" ", img);
    }
    const badge = (cls, label) => {
      const span = document.createElement("span");
      span.className = `badge ${cls}`;
      span.textContent = label;
      meta.append(" ", span);
    };
    if (c.role === "official") {
      badge("badge--official", `✓ ${this.text("official")}${c.department ? ` · ${c.department}` : ""}`);
    } else if (c.role === "moderator" || c.role === "admin") {
      badge("badge--staff", this.text("staff"));
    }
    if ((c.flags || []).includes("question")) badge("badge--question", this.text("question"));
    const body = document.createElement("p");
    body.className = "replay-comment__text";
    body.textContent = c.text;
    li.append(meta, body);
    return li;
  }

  // A comment this viewer just wrote: keep it for later passes through that window.
  remember(c) {
    const index = Math.floor(c.offset / WINDOW);
    const pending = this.windows.get(index);
    if (pending) {
      this.windows.set(index, pending.then((items) =>
        [...items.filter((i) => i.id !== c.id), c].sort((a, b) => a.offset - b.offset || a.id - b.id)));
    }
    if (c.offset <= this.player.currentTime) {
      this.add(c);
      this.settle();
    }
  }
}

// -- composer -----------------------------------------------------------------------------
// Why the server refused, in the page's language (its JSON `message` is for developers).
function refusal(replayChat, response, data, fallback) {
  const error = data.error || {};
  if (error.field === "nickname") {
    return `${replayChat.text("nicknameFailed")} ${replayChat.text("nicknameRule")}`;
  }
  const code = error.code || "";
  if (code === "rate_limited" || code === "slow_mode") {
    const wait = Math.max(1, Math.round(Number(response.headers.get("Retry-After")) || 1));
    return replayChat.text("rateLimited").replace("{s}", String(wait));
  }
  const known = { empty: "empty", too_long: "tooLong", chat_closed: "closed",
    banned: "restricted", timed_out: "restricted" }[code];
  return replayChat.text(known || fallback);
}

async function composer(replayChat, root) {
  const form = document.getElementById("replay-form");
  if (!form) return;
  const fieldset = document.getElementById("replay-fieldset");
  const text = document.getElementById("replay-text");
  const nickBox = document.getElementById("replay-nick");
  const nickInput = document.getElementById("replay-nickname");
  const status = document.getElementById("replay-composer-status");
  let named = false; // a session with a nickname (and so a CSRF token)
  try {
    const session = await (await fetch("/api/session")).json();
    if (session.nickname) {
      useToken(session.csrf_token);
      named = true;
      nickBox.hidden = true;
    }
  } catch {
    /* a guest can still pick a nickname below */
  }
  fieldset.disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) {
      status.textContent = replayChat.text("empty");
      return;
    }
    if (!named) {
      const response = await fetch("/api/session", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ nickname: nickInput.value }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        status.textContent = refusal(replayChat, response, data, "nicknameFailed");
        return;
      }
      useToken(data.csrf_token);
      named = true;
      nickBox.hidden = true;
    }
    const offset = Math.round(replayChat.player.currentTime * 1000) / 1000;
    const { response, body: data } = await postJSON(`/api/replays/${root.dataset.replayId}/comments`, {
      text: body, offset, client_id: `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    });
    if (!response.ok) {
      status.textContent = refusal(replayChat, response, data, "failed");
      return;
    }
    text.value = "";
    if (data.status === "visible") {
      status.textContent = replayChat.text("sent");
      replayChat.remember(data.comment);
    } else {
      status.textContent = replayChat.text("held");
    }
  });
}

if (video) {
  attach(video);
  const button = document.getElementById("replay-captions");
  if (button) captionsToggle(video, button);
  const list = document.getElementById("replay-chapters");
  if (list) chapters(video, list);
  const link = document.getElementById("replay-share-time");
  if (link) shareLink(video, link);
  if (chat) {
    const replayChat = new CommentReplay(video, chat);
    composer(replayChat, chat);
  }
}

// The live comment client (ES module, no build step).
//
// Connection: WS /ws/broadcasts/{id}?after=<last id seen>. The server answers `hello`, then
// exactly the comments after that id, then the live stream. On any drop the client waits a
// full-jitter exponential backoff and reconnects with the last id it saw, so nothing is
// missed; ids are also deduplicated here, defensively. Posts not yet acknowledged are sent
// again after a reconnect with the same client_id (the server stores them once).
//
// Rendering: user text only ever goes through textContent. Incoming comments are queued and
// written once per animation frame; the list keeps at most MAX_NODES comments; it follows
// new comments only when the reader is already at the bottom; screen readers hear a short
// summary ("새 댓글 5개") at most once every ANNOUNCE_EVERY_MS.

const MAX_NODES = 200;
const MAX_NODES_READING = 400; // while the reader has scrolled up, trim less eagerly
const MAX_SEEN = 5000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const BUSY_BASE_MS = 5000;
const HEALTHY_AFTER_MS = 5000;
const PING_EVERY_MS = 25000;
const ANNOUNCE_EVERY_MS = 5000;
const AT_BOTTOM_PX = 48;
const STOP_CODES = new Set([1008, 4404]);
const CLOSE_BUSY = 1013;

/** Full-jitter exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS,
                             random = Math.random) {
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.min(attempt, 20)));
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

function newClientId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function graphemes(text) {
  if (typeof Intl !== "undefined" && Intl.Segmenter) {
    let n = 0;
    for (const _ of new Intl.Segmenter().segment(text)) n += 1;
    return n;
  }
  return Array.from(text).length;
}

/** The socket: connects, reconnects with backoff, resumes after the last id seen. */
export class Connection {
  constructor(url, { lastId, onFrame, onState }) {
    this.url = url;
    this.lastId = lastId;
    this.onFrame = onFrame;
    this.onState = onState;
    this.socket = null;
    this.attempt = 0;
    this.ready = false;
    this.stopped = false;
    this.timer = null;
    this.pinger = null;
    this.openedAt = 0;
    addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.retryNow();
    });
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    const target = new URL(this.url, location.href);
    target.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (this.lastId > 0) target.searchParams.set("after", String(this.lastId));
    const ws = new WebSocket(target);
    this.socket = ws;
    this.ready = false;
    this.onState("connecting");
    ws.addEventListener("message", (event) => {
      if (this.socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "hello") {
        this.ready = true;
        this.openedAt = Date.now();
        this.onState("open");
      }
      this.onFrame(frame);
    });
    ws.addEventListener("close", (event) => this.closed(ws, event.code));
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
  }

  closed(ws, code) {
    if (this.socket !== ws) return; // replaced on purpose (restart)
    this.socket = null;
    this.ready = false;
    clearInterval(this.pinger);
    if (STOP_CODES.has(code)) {
      this.stopped = true;
      this.onState("stopped");
      return;
    }
    if (this.openedAt && Date.now() - this.openedAt > HEALTHY_AFTER_MS) this.attempt = 0;
    this.openedAt = 0;
    const delay = backoffDelay(this.attempt, code === CLOSE_BUSY ? BUSY_BASE_MS : BACKOFF_BASE_MS);
    this.attempt += 1;
    this.onState(code === CLOSE_BUSY ? "busy" : "reconnecting");
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect at once if a reconnect is pending (network back, tab visible again). */
  retryNow() {
    if (this.timer !== null && !this.stopped) this.connect();
  }

  /** Open a fresh socket now (the session changed: the server reads it on connect). */
  restart() {
    const old = this.socket;
    this.socket = null;
    if (old) old.close(1000);
    this.attempt = 0;
    this.connect();
  }

  send(message) {
    if (!this.ready || !this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }
}

/** A polite live region that summarises instead of reading every comment. */
class Announcer {
  constructor(element, template) {
    this.element = element;
    this.template = template;
    this.pending = 0;
    this.last = 0;
    this.timer = null;
    this.flip = false;
  }

  note(count) {
    if (count <= 0) return;
    this.pending += count;
    if (this.timer !== null) return;
    const wait = Math.max(0, this.last + ANNOUNCE_EVERY_MS - Date.now());
    this.timer = setTimeout(() => this.speak(), Math.max(wait, 1000));
  }

  speak() {
    this.timer = null;
    if (!this.pending) return;
    const text = fill(this.template, { n: this.pending });
    // The same sentence twice in a row is not re-read by some screen readers: vary it.
    this.element.textContent = this.flip ? text + "\u00a0" : text;
    this.flip = !this.flip;
    this.pending = 0;
    this.last = Date.now();
  }
}

/** The comment list: batched, bounded, deduplicated, text-only rendering. */
class CommentList {
  constructor(root, strings, locale) {
    this.list = root.querySelector("#chat-list");
    this.empty = root.querySelector("#chat-empty");
    this.jump = root.querySelector("#chat-jump");
    this.strings = strings;
    this.clock = new Intl.DateTimeFormat(locale, {
      timeZone: "Asia/Seoul", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    this.seen = new Set();
    this.queue = [];
    this.scheduled = false;
    this.announcer = new Announcer(root.querySelector("#chat-announcer"), strings.newComments);
    for (const li of this.list.querySelectorAll("li[data-id]")) this.remember(Number(li.dataset.id));
    this.jump.addEventListener("click", () => {
      this.scrollToEnd();
      this.list.focus();
    });
    this.list.addEventListener("scroll", () => {
      if (this.atBottom()) this.jump.hidden = true;
    }, { passive: true });
    this.scrollToEnd();
  }

  remember(id) {
    this.seen.add(id);
    if (this.seen.size > MAX_SEEN) {
      const oldest = this.seen.values().next().value;
      this.seen.delete(oldest);
    }
  }

  atBottom() {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight <= AT_BOTTOM_PX;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    this.jump.hidden = true;
  }

  /** Queue comments (from the server or our own pending ones) for the next frame. */
  push(entries, { announce }) {
    for (const entry of entries) this.queue.push({ ...entry, announce });
    // Nothing older than what the list can hold is worth keeping in the queue either.
    if (this.queue.length > MAX_NODES_READING) this.queue.splice(0, this.queue.length - MAX_NODES_READING);
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => this.flush();
    // Background tabs get no animation frames: fall back to a timer so the queue drains.
    if (document.hidden) setTimeout(run, 250);
    else requestAnimationFrame(run);
  }

  flush() {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    if (!queue.length) return;
    // Follow new comments only if the reader is at the bottom — or has just posted.
    const follow = this.atBottom() || queue.some((entry) => entry.local);
    const fragment = document.createDocumentFragment();
    let fresh = 0;
    for (const entry of queue) {
      if (entry.local) {
        fragment.append(entry.element);
        continue;
      }
      const item = entry.item;
      const existing = document.getElementById("c-" + item.id);
      if (this.seen.has(item.id) && !(existing && existing.classList.contains("comment--held"))) continue;
      this.remember(item.id);
      const element = this.render(item);
      if (entry.replaces && entry.replaces.isConnected) {
        entry.replaces.replaceWith(element);
      } else if (existing) {
        existing.replaceWith(element);
      } else {
        fragment.append(element);
      }
      if (entry.announce) fresh += 1;
    }
    this.list.append(fragment);
    this.trim(follow ? MAX_NODES : MAX_NODES_READING, follow);
    this.empty.hidden = this.list.childElementCount > 0;
    if (follow) this.scrollToEnd();
    else if (fresh) this.jump.hidden = false;
    this.announcer.note(fresh);
  }

  trim(limit, follow) {
    let removedHeight = 0;
    while (this.list.childElementCount > limit) {
      const first = this.list.firstElementChild;
      if (!follow) removedHeight += first.offsetHeight;
      first.remove();
    }
    if (removedHeight) this.list.scrollTop -= removedHeight;
  }

  remove(ids) {
    const gone = new Set(ids);
    this.queue = this.queue.filter((e) => e.local || !gone.has(e.item.id));
    for (const id of gone) {
      this.remember(id); // a late copy must not bring it back
      const element = document.getElementById("c-" + id);
      if (element) element.remove();
    }
    this.empty.hidden = this.list.childElementCount > 0;
  }

  /** One comment as DOM, mirroring templates/_comment.html. Text via textContent only. */
  render(item, { pendingLabel = "" } = {}) {
    const li = document.createElement("li");
    li.className = "comment";
    if (item.id) {
      li.id = "c-" + item.id;
      li.dataset.id = String(item.id);
    }
    const meta = document.createElement("p");
    meta.className = "comment__meta";
    const author = document.createElement("span");
    author.className = "comment__author";
    author.textContent = item.author;
    meta.append(author);
    if (item.role === "official") {
      li.classList.add("comment--official");
      const badge = document.createElement("span");
      badge.className = "badge badge--official";
      const tick = document.createElement("span");
      tick.setAttribute("aria-hidden", "true");
      tick.textContent = "✓";
      badge.append(tick, this.strings.official + (item.department ? " · " + item.department : ""));
      meta.append(" ", badge);
    } else if (item.role === "moderator" || item.role === "admin") {
      meta.append(" ", this.badge("badge--staff", this.strings.staff));
    }
    if ((item.flags || []).includes("question") || item.question) {
      meta.append(" ", this.badge("badge--question", this.strings.question));
    }
    if (item.created_at) {
      const time = document.createElement("time");
      time.className = "comment__time";
      time.dateTime = item.created_at;
      const when = new Date(item.created_at);
      if (!Number.isNaN(when.getTime())) time.textContent = this.clock.format(when);
      meta.append(" ", time);
    }
    const text = document.createElement("p");
    text.className = "comment__text";
    text.textContent = item.text;
    li.append(meta, text);
    if (pendingLabel) this.markPending(li, pendingLabel);
    return li;
  }

  badge(kind, label) {
    const badge = document.createElement("span");
    badge.className = "badge " + kind;
    badge.textContent = label;
    return badge;
  }

  markPending(li, label) {
    li.classList.add("comment--pending");
    let note = li.querySelector(".comment__pending");
    if (!note) {
      note = document.createElement("span");
      note.className = "comment__pending";
      li.querySelector(".comment__meta").append(" ", note);
    }
    note.textContent = label;
  }
}

/** The page: wires the socket, the list, the composer, the nickname dialog, the notices. */
class LiveChat {
  constructor(root) {
    this.root = root;
    this.strings = JSON.parse(document.getElementById("livechat-strings").textContent);
    this.broadcastId = Number(root.dataset.broadcastId);
    this.maxChars = Number(root.dataset.maxChars) || 300;
    this.me = root.dataset.nickname ? { name: root.dataset.nickname } : null;
    this.outbox = new Map(); // client_id -> { text, question, element, sent }
    this.afterNickname = null;
    this.retryTimer = null;
    this.closedChat = !root.querySelector("#chat-closed").hidden;
    this.list = new CommentList(root, this.strings, root.dataset.locale || "ko");
    this.$ = (id) => document.getElementById(id);
    this.connection = new Connection(`/ws/broadcasts/${this.broadcastId}`, {
      lastId: Number(root.dataset.lastId) || 0,
      onFrame: (frame) => this.handle(frame),
      onState: (state) => this.connectionState(state),
    });
    this.bindComposer();
    this.bindNickname();
    this.connection.connect();
  }

  // -- incoming frames -------------------------------------------------------------
  handle(frame) {
    switch (frame.type) {
      case "hello": return this.hello(frame);
      case "comments": return this.comments(frame);
      case "deleted": return this.list.remove(frame.ids || []);
      case "presence": return this.viewers(frame.viewers);
      case "ack": return this.ack(frame);
      case "error": return this.error(frame);
      case "state": return this.state(frame);
      case "status": return this.status(frame);
      default: return undefined;
    }
  }

  hello(frame) {
    if (frame.you) this.setMe(frame.you);
    if (frame.limits && frame.limits.max_chars) this.maxChars = frame.limits.max_chars;
    this.viewers(frame.viewers);
    this.state({ slow_mode: frame.slow_mode, closed: frame.closed, pinned: frame.pinned });
    this.updateCount();
    // Posts that were never acknowledged go again, with the same client_id.
    if (this.me) for (const [clientId, post] of this.outbox) this.transmit(clientId, post);
  }

  comments(frame) {
    const items = frame.items || [];
    let top = this.connection.lastId;
    const entries = [];
    for (const item of items) {
      if (typeof item.id !== "number") continue;
      if (item.id > top) top = item.id;
      const mine = this.outbox.get(item.client_id);
      if (mine && item.author === (this.me && this.me.name)) {
        // Our own comment came back through the stream: it replaces the pending copy.
        entries.push({ item, replaces: mine.element });
        mine.delivered = true;
      } else {
        entries.push({ item });
      }
    }
    this.connection.lastId = top;
    this.list.push(entries, { announce: !frame.backfill });
  }

  ack(frame) {
    const post = this.outbox.get(frame.client_id);
    if (!post) return;
    this.outbox.delete(frame.client_id);
    const element = post.element;
    if (frame.status === "held") {
      element.id = "c-" + frame.id;
      element.dataset.id = String(frame.id);
      element.classList.add("comment--held");
      this.list.markPending(element, this.strings.held);
      this.say(this.strings.held);
    } else if (element.isConnected && !post.delivered) {
      // Acknowledged before the stream brought it back: the pending copy becomes the comment.
      if (!document.getElementById("c-" + frame.id)) {
        element.id = "c-" + frame.id;
        element.dataset.id = String(frame.id);
        element.classList.remove("comment--pending");
        element.querySelector(".comment__pending")?.remove();
        this.list.remember(frame.id);
      } else {
        element.remove();
      }
    }
    if (frame.notice) this.say(frame.notice);
  }

  error(frame) {
    const post = frame.client_id ? this.outbox.get(frame.client_id) : null;
    if (frame.code === "no_session") {
      this.me = null;
      this.openNickname();
      return;
    }
    if (post) {
      this.outbox.delete(frame.client_id);
      post.element.remove();
      const box = this.$("chat-text");
      if (!box.value) box.value = post.text;
      this.updateCount();
    }
    this.say(this.describe(frame));
    if (frame.retry_after) this.pauseSending(Number(frame.retry_after));
  }

  describe(frame) {
    const s = this.strings;
    const seconds = Math.max(1, Math.ceil(Number(frame.retry_after) || 1));
    switch (frame.code) {
      case "rate_limited": return fill(s.rateLimited, { s: seconds });
      case "slow_mode": return fill(s.rateLimited, { s: seconds });
      case "too_long": return fill(s.tooLong, { n: this.maxChars });
      case "empty": return s.empty;
      case "chat_closed": return s.closed;
      case "banned":
      case "timed_out": return s.restricted;
      default: return s.failed + (frame.message ? ` (${frame.message})` : "");
    }
  }

  state(frame) {
    if ("slow_mode" in frame) {
      const slow = this.$("chat-slow");
      slow.hidden = !frame.slow_mode;
      if (frame.slow_mode) slow.textContent = fill(this.strings.slowMode, { n: frame.slow_mode });
    }
    if ("closed" in frame) {
      this.closedChat = Boolean(frame.closed);
      this.$("chat-closed").hidden = !this.closedChat;
      this.updateSendable();
    }
    if ("pinned" in frame) {
      const box = this.$("chat-pinned");
      const body = this.$("chat-pinned-body");
      body.replaceChildren();
      if (frame.pinned) {
        const element = this.list.render(frame.pinned);
        element.removeAttribute("id");
        body.append(element);
      }
      box.hidden = !frame.pinned;
    }
  }

  status(frame) {
    // {type: "status", status: planned|live|ended|cancelled, replay_url?}
    const value = frame.status;
    const badge = this.$("live-badge");
    const labels = { live: this.strings.live, ended: this.strings.ended,
                     cancelled: this.strings.cancelled, planned: this.strings.planned };
    if (badge && labels[value]) {
      badge.className = value === "live" ? "badge badge--live" : "badge badge--muted";
      badge.textContent = labels[value];
    }
    const notice = this.$("chat-ended");
    if (value === "ended" || value === "cancelled") {
      notice.replaceChildren(value === "ended" ? this.strings.endedNotice : this.strings.cancelled);
      const url = typeof frame.replay_url === "string" ? frame.replay_url : "";
      if (url.startsWith("/") && !url.startsWith("//")) {
        const link = document.createElement("a");
        link.href = url;
        link.textContent = this.strings.watchReplay;
        notice.append(" ", link);
      }
      notice.hidden = false;
      this.say(notice.textContent); // announced once through the status region
    } else if (value === "live") {
      notice.hidden = true;
    }
  }

  viewers(count) {
    if (typeof count !== "number") return;
    const formatted = new Intl.NumberFormat(this.root.dataset.locale || "ko").format(count);
    this.$("viewer-count").textContent = fill(this.strings.viewers, { n: formatted });
  }

  connectionState(state) {
    const label = {
      connecting: this.strings.connecting,
      open: this.strings.connected,
      reconnecting: this.strings.reconnecting,
      busy: this.strings.busy,
      stopped: this.strings.stopped,
    }[state];
    const element = this.$("chat-connection");
    element.textContent = label || "";
    element.dataset.state = state;
    this.root.dataset.connection = state;
    this.$("chat-fieldset").disabled = state === "stopped";
    this.updateSendable();
  }

  // -- composing -------------------------------------------------------------------
  bindComposer() {
    const form = this.$("chat-form");
    const box = this.$("chat-text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    box.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter breaks the line; never while an IME is composing Hangul.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.submit();
      }
    });
    box.addEventListener("input", () => this.updateCount());
    box.enterKeyHint = "send"; // phones label their Enter key with "send"
    this.$("chat-nickname-open").addEventListener("click", () => this.openNickname());
    this.$("chat-fieldset").disabled = false;
    this.updateCount();
  }

  updateCount() {
    const count = graphemes(this.$("chat-text").value);
    const counter = this.$("chat-count");
    counter.textContent = `${count} / ${this.maxChars}`;
    counter.classList.toggle("is-over", count > this.maxChars);
  }

  updateSendable() {
    const send = this.$("chat-send");
    send.disabled = this.closedChat || this.retryTimer !== null;
    this.$("chat-text").disabled = this.closedChat;
  }

  pauseSending(seconds) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.updateSendable();
    }, Math.max(1, seconds) * 1000);
    this.updateSendable();
  }

  submit() {
    const box = this.$("chat-text");
    const text = box.value.trim();
    if (!text) {
      this.say(this.strings.empty);
      return;
    }
    if (graphemes(text) > this.maxChars) {
      this.say(fill(this.strings.tooLong, { n: this.maxChars }));
      return;
    }
    if (this.closedChat || this.retryTimer !== null) return;
    const question = this.$("chat-question").checked;
    if (!this.me) {
      this.afterNickname = () => this.submit();
      this.openNickname();
      return;
    }
    const clientId = newClientId();
    const element = this.list.render(
      { author: this.me.name, role: this.me.role, department: this.me.department, text,
        question, created_at: new Date().toISOString() },
      { pendingLabel: this.strings.sending },
    );
    const post = { text, question, element, delivered: false };
    this.outbox.set(clientId, post);
    this.list.push([{ local: true, element }], { announce: false });
    box.value = "";
    this.$("chat-question").checked = false;
    this.updateCount();
    this.say("");
    this.transmit(clientId, post);
  }

  transmit(clientId, post) {
    // Not connected: it stays in the outbox and goes out after the next `hello`.
    this.connection.send({ type: "post", client_id: clientId, text: post.text,
                           question: post.question });
  }

  say(message) {
    this.$("chat-status").textContent = message;
  }

  setMe(you) {
    this.me = { name: you.name, role: you.role, department: you.department };
    const who = this.$("chat-who");
    const strong = document.createElement("strong");
    strong.textContent = you.name;
    who.replaceChildren(this.strings.nickname + ": ", strong);
    this.$("chat-nickname-open").textContent = this.strings.changeNickname;
  }

  // -- nickname dialog -------------------------------------------------------------
  bindNickname() {
    const dialog = this.$("nickname-dialog");
    const form = this.$("nickname-form");
    this.$("nickname-cancel").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => this.$("chat-text").focus());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = this.$("nickname-input");
      const error = this.$("nickname-error");
      error.textContent = "";
      const nickname = input.value.trim();
      if (!nickname) {
        input.setAttribute("aria-invalid", "true");
        error.textContent = this.strings.nicknameFailed;
        return;
      }
      try {
        const response = await fetch("/api/session", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ nickname }),
          credentials: "same-origin",
        });
        const body = await response.json();
        if (!response.ok) {
          input.setAttribute("aria-invalid", "true");
          error.textContent = `${this.strings.nicknameFailed} ${body.error ? body.error.message : ""}`;
          return;
        }
        input.removeAttribute("aria-invalid");
        this.setMe({ name: body.nickname, role: body.role, department: body.department });
        dialog.close();
        // The socket learns who we are only when it connects: open a new one.
        this.connection.restart();
        const next = this.afterNickname;
        this.afterNickname = null;
        if (next) next();
      } catch {
        error.textContent = this.strings.nicknameFailed;
      }
    });
  }

  openNickname() {
    const dialog = this.$("nickname-dialog");
    if (dialog.open) return;
    this.$("nickname-input").value = this.me ? this.me.name : "";
    dialog.showModal();
    this.$("nickname-input").focus();
  }
}

const root = document.getElementById("chat");
if (root) window.liveChat = new LiveChat(root);

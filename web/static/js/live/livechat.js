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
//
// Every frame the socket brings is also dispatched as a `livechat:frame` DOM event on
// `document` (detail: the frame), so other panels (questions.js) share this connection;
// `livechat:me` (detail: {name, role, …}) says who the reader now is, and a panel that
// needs a nickname asks with a `livechat:nickname` event (the dialog opens).
//
// Layout: a comment is one line (name in a stable colour, badge, text); one's own are
// highlighted. On phones the chat fills what is left of the first screen under the sticky
// player (--chat-height), so the composer is always in view.
//
// Composer: one state at a time (open, cooldown, waiting, closed, restricted, ended,
// stopped), derived from what the page knows; every change of state clears the status line,
// a wait is counted down second by second and sending comes back by itself.
//
// Moderation as a viewer sees it: a "⋯" button on every comment but one's own (one tab
// stop for all of them; arrow keys move between them) opens a menu whose "신고하기" opens
// #report-dialog; a comment of
// one's own that a moderator removed becomes a notice in its place ("삭제됨: 사유") with
// one "이의 신청" (appeal); `comments` frames with `restored: true` put comments back in id
// order even if they were removed before; a chat restriction shows until when.

import { postJSON, useToken } from "../common/api.js";
import { fill, pageStrings } from "../common/i18n.js";
import { Connection } from "../common/socket.js";
import { graphemes } from "../common/text.js";

const MAX_NODES = 200;
const MAX_NODES_READING = 400; // while the reader has scrolled up, trim less eagerly
const MAX_SEEN = 5000;
const ANNOUNCE_EVERY_MS = 5000;
const AT_BOTTOM_PX = 48;
const REMOVED_KEPT = 50; // removed comments remembered, so the author's notice can quote them
const ARROWS = new Set(["ArrowUp", "ArrowDown", "Home", "End"]);

/** A stable colour slot (0-7) for a name; web/rendering/templating.py `name_hue` is the same. */
export function nameHue(name) {
  let value = 0;
  for (const ch of String(name || "")) value = (Math.imul(value, 31) + ch.codePointAt(0)) >>> 0;
  return value % 8;
}


function newClientId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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
    this.removed = new Map(); // id -> {author, text, created_at} of comments just removed
    this.isMine = () => false;
    this.tabStop = null; // the one report button in the tab order
    this.queue = [];
    this.scheduled = false;
    this.announcer = new Announcer(root.querySelector("#chat-announcer"), strings.newComments);
    for (const li of this.list.querySelectorAll("li[data-id]")) {
      this.remember(Number(li.dataset.id));
      this.addReport(li, {
        author: li.querySelector(".comment__author")?.textContent || "",
        id: Number(li.dataset.id),
      });
    }
    this.list.addEventListener("keydown", (event) => this.arrows(event));
    this.list.addEventListener("focusin", (event) => {
      if (event.target.matches(".comment__report")) this.setTabStop(event.target);
    });
    // Tapping a row (not a control in it) shows its ⋯ button, as chat apps do on phones.
    this.list.addEventListener("click", (event) => {
      if (event.target.closest("button, a, input, textarea, form")) return;
      const li = event.target.closest("li.comment");
      for (const active of this.list.querySelectorAll("li.is-active")) {
        if (active !== li) active.classList.remove("is-active");
      }
      if (li) li.classList.toggle("is-active");
    });
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
      if (entry.restored) {
        // Back from a removal (restore, approved, appeal upheld): in its place, by id.
        this.remember(item.id);
        this.removed.delete(item.id);
        const element = this.render(item);
        const notice = this.list.querySelector(`li[data-notice-for="${item.id}"]`);
        if (existing) existing.replaceWith(element);
        else if (notice) notice.replaceWith(element);
        else this.insertInOrder(element, item.id);
        continue;
      }
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
    this.ensureTabStop();
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

  /** Drop every comment above `lastId` from the page and from memory (ids may be reused). */
  forgetAbove(lastId) {
    this.queue = this.queue.filter((e) => e.local || e.item.id <= lastId);
    for (const id of [...this.seen]) if (id > lastId) this.seen.delete(id);
    for (const element of this.list.querySelectorAll("li[data-id]")) {
      if (Number(element.dataset.id) > lastId) element.remove();
    }
  }

  remove(ids) {
    const gone = new Set(ids);
    this.queue = this.queue.filter((e) => e.local || !gone.has(e.item.id));
    for (const id of gone) {
      this.remember(id); // a late copy must not bring it back
      const element = document.getElementById("c-" + id);
      if (element) {
        this.keepRemoved(id, element);
        element.remove();
      }
    }
    this.empty.hidden = this.list.childElementCount > 0;
    this.ensureTabStop();
  }

  keepRemoved(id, element) {
    this.removed.set(id, {
      id,
      author: element.querySelector(".comment__author")?.textContent || "",
      text: element.querySelector(".comment__text")?.textContent || "",
      created_at: element.querySelector("time")?.dateTime || "",
    });
    if (this.removed.size > REMOVED_KEPT) this.removed.delete(this.removed.keys().next().value);
  }

  /** Put `element` (comment `id`) before the first list item with a larger id. */
  insertInOrder(element, id) {
    for (const child of this.list.children) {
      const other = Number(child.dataset.id || child.dataset.noticeFor);
      if (other > id) {
        this.list.insertBefore(element, child);
        return;
      }
    }
    this.list.append(element);
  }

  // -- the ⋯ (menu) buttons: one tab stop, arrow keys between them -------------------
  addReport(li, item) {
    if (!item.id) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "comment__report";
    button.dataset.action = "menu";
    button.tabIndex = -1;
    button.textContent = "⋯";
    button.setAttribute("aria-label", fill(this.strings.menuLabel, { name: item.author }));
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-expanded", "false");
    button.hidden = this.isMine(item);
    li.classList.toggle("comment--mine", button.hidden);
    li.append(button);
  }

  /** Own comments (the name just became known): highlighted, and no report button. */
  refreshOwnership() {
    for (const li of this.list.querySelectorAll("li[data-id]")) {
      const mine = this.isMine({
        id: Number(li.dataset.id), author: li.querySelector(".comment__author")?.textContent,
      });
      li.classList.toggle("comment--mine", mine);
      const button = li.querySelector(".comment__report");
      if (button) button.hidden = mine;
    }
    this.ensureTabStop();
  }

  setTabStop(button) {
    if (this.tabStop && this.tabStop !== button) this.tabStop.tabIndex = -1;
    this.tabStop = button;
    if (button) button.tabIndex = 0;
  }

  ensureTabStop() {
    const current = this.tabStop;
    if (current && current.isConnected && !current.hidden) return;
    const buttons = this.list.querySelectorAll(".comment__report:not([hidden])");
    this.setTabStop(buttons.length ? buttons[buttons.length - 1] : null);
  }

  arrows(event) {
    if (!ARROWS.has(event.key) || !event.target.matches(".comment__report")) return;
    const buttons = [...this.list.querySelectorAll(".comment__report:not([hidden])")];
    const at = buttons.indexOf(event.target);
    let next = at;
    if (event.key === "ArrowUp") next = Math.max(0, at - 1);
    else if (event.key === "ArrowDown") next = Math.min(buttons.length - 1, at + 1);
    else if (event.key === "Home") next = 0;
    else next = buttons.length - 1;
    event.preventDefault();
    const target = buttons[next];
    if (!target) return;
    this.setTabStop(target);
    target.focus();
    target.scrollIntoView({ block: "nearest" });
  }

  /** One comment as DOM, mirroring templates/_comment.html. Text via textContent only. */
  render(item, { pendingLabel = "", reportable = true } = {}) {
    const li = document.createElement("li");
    li.className = "comment";
    if (item.id) {
      li.id = "c-" + item.id;
      li.dataset.id = String(item.id);
    }
    const meta = document.createElement("p");
    meta.className = "comment__meta";
    if (item.created_at) {
      const time = document.createElement("time");
      time.className = "comment__time";
      time.dateTime = item.created_at;
      const when = new Date(item.created_at);
      if (!Number.isNaN(when.getTime())) time.textContent = this.clock.format(when);
      meta.append(time, " ");
    }
    const author = document.createElement("span");
    author.className = "comment__author";
    author.dataset.hue = String(nameHue(item.author));
    author.textContent = item.author;
    meta.append(author);
    const mark = item.mark && this.strings.marks ? this.strings.marks[item.mark] : null;
    if (mark) { // the provider a signed-in author used (Kakao, NAVER, …)
      const img = document.createElement("img");
      img.className = "mark mark--" + item.mark;
      img.src = mark.src;
      img.alt = img.title = mark.label;
      img.width = img.height = 14;
      meta.append(img);
    }
    if (item.role === "official") {
      li.classList.add("comment--official");
      // Compact: ✓ and the department; the full wording for screen readers and on hover.
      const badge = document.createElement("span");
      badge.className = "badge badge--official";
      badge.title = this.strings.official + (item.department ? " · " + item.department : "");
      const tick = document.createElement("span");
      tick.setAttribute("aria-hidden", "true");
      tick.textContent = "✓";
      const spoken = document.createElement("span");
      spoken.className = "visually-hidden";
      spoken.textContent = this.strings.official + (item.department ? " · " : "");
      badge.append(tick, spoken);
      if (item.department) {
        const department = document.createElement("span");
        department.className = "badge__text";
        department.textContent = item.department;
        badge.append(department);
      }
      meta.append(" ", badge);
    } else if (item.role === "moderator" || item.role === "admin") {
      meta.append(" ", this.badge("badge--staff", this.strings.staff));
    }
    if ((item.flags || []).includes("question") || item.question) {
      meta.append(" ", this.badge("badge--question", this.strings.question));
    }
    meta.append(" ");
    const text = document.createElement("p");
    text.className = "comment__text";
    text.textContent = item.text;
    li.append(meta, text);
    if (pendingLabel) {
      li.classList.add("comment--mine");
      this.markPending(li, pendingLabel);
    } else if (reportable) this.addReport(li, item);
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
    this.strings = pageStrings("livechat-strings");
    this.broadcastId = Number(root.dataset.broadcastId);
    this.maxChars = Number(root.dataset.maxChars) || 300;
    this.me = root.dataset.nickname ? { name: root.dataset.nickname } : null;
    this.outbox = new Map(); // client_id -> { text, question, element, sent }
    this.afterNickname = null;
    // What the composer's state is derived from (see composerState()).
    this.broadcastStatus = root.dataset.status || "live";
    this.closedChat = !root.querySelector("#chat-closed").hidden;
    this.slowMode = root.querySelector("#chat-slow").hidden ? 0 : 1;
    this.connectionStopped = false;
    this.restrictedUntil = undefined; // undefined: not restricted; null: until lifted; ms
    this.waitUntil = 0; // ms: no sending before (rate limit, slow mode)
    this.waitKind = "";
    this.composerTimer = null;
    this.shownState = "";
    this.mine = new Set(); // ids of comments this page posted
    this.underReview = new Set(); // own comments hidden by reports, pending review
    this.appealed = new Set();
    this.reportTarget = null;
    this.locale = root.dataset.locale || "ko";
    this.list = new CommentList(root, this.strings, this.locale);
    this.list.isMine = (item) => this.isMine(item);
    this.list.refreshOwnership();
    this.$ = (id) => document.getElementById(id);
    this.connection = new Connection(`/ws/broadcasts/${this.broadcastId}`, {
      lastId: Number(root.dataset.lastId) || 0,
      onFrame: (frame) => {
        try {
          this.handle(frame);
        } finally {
          document.dispatchEvent(new CustomEvent("livechat:frame", { detail: frame }));
        }
      },
      onState: (state) => this.connectionState(state),
    });
    this.bindComposer();
    this.bindNickname();
    this.bindModeration();
    this.bindMenu();
    this.fitToScreen();
    this.connection.connect();
  }

  /** Phones: the chat takes what is left of the first screen (composer always in view). */
  fitToScreen() {
    const phone = matchMedia("(max-width: 59.99rem)");
    const fit = () => {
      const top = this.root.getBoundingClientRect().top + scrollY;
      let height = innerHeight - top;
      if (phone.matches) {
        // Too little left (a long title, a short screen): fill the screen under the player.
        const player = document.querySelector(".live__player");
        if (height < 320) height = innerHeight - (player ? player.offsetHeight : 0);
      } else {
        height -= 16; // the column's own margin at the bottom of the window
      }
      const follow = this.list.atBottom();
      this.root.style.setProperty("--chat-height", `${Math.max(280, Math.floor(height))}px`);
      if (follow) this.list.scrollToEnd();
    };
    fit();
    this.refit = fit;
    let last = innerWidth;
    addEventListener("resize", () => {
      // Phones resize the viewport when the keyboard or the URL bar comes and goes:
      // only a change of width (rotation) re-lays the page out.
      if (innerWidth === last) return;
      last = innerWidth;
      fit();
    });
    phone.addEventListener("change", fit);
  }

  /** Ours if this page posted it, or if it carries our name (guests have no other id). */
  isMine(item) {
    if (this.mine.has(item.id)) return true;
    return Boolean(this.me && item.author && item.author === this.me.name);
  }

  // -- incoming frames -------------------------------------------------------------
  handle(frame) {
    switch (frame.type) {
      case "hello": return this.hello(frame);
      case "comments": return this.comments(frame);
      case "deleted": return this.deleted(frame);
      case "moderation": return this.moderation(frame);
      case "presence": return this.viewers(frame.viewers);
      case "ack": return this.ack(frame);
      case "error": return this.error(frame);
      case "state": return this.state(frame);
      case "status": return this.status(frame);
      case "reset": return this.reset(frame);
      default: return undefined;
    }
  }

  hello(frame) {
    if (frame.you) this.setMe(frame.you);
    if (frame.limits && frame.limits.max_chars) this.maxChars = frame.limits.max_chars;
    this.viewers(frame.viewers);
    if (typeof frame.status === "string") this.broadcastStatus = frame.status;
    // `closed_reason`: "moderator", or the broadcast's status when it is not live
    const reason = frame.closed ? frame.closed_reason || "moderator" : "";
    if (reason && reason !== "moderator") this.broadcastStatus = reason;
    this.state({ slow_mode: frame.slow_mode, closed: reason === "moderator", pinned: frame.pinned });
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
        this.mine.add(item.id);
        entries.push({ item, replaces: mine.element });
        mine.delivered = true;
      } else if (frame.restored) {
        this.underReview.delete(item.id);
        entries.push({ item, restored: true });
      } else {
        entries.push({ item });
      }
    }
    this.connection.lastId = top;
    // Our held comment is approved: the "held" line has said its piece.
    if (this.heldShown && items.some((item) => item.id === this.heldShown)) {
      this.heldShown = null;
      if (this.$("chat-status").textContent === this.strings.held) this.say("");
    }
    this.list.push(entries, { announce: !frame.backfill && !frame.restored });
  }

  ack(frame) {
    const post = this.outbox.get(frame.client_id);
    if (!post) return;
    if (typeof frame.id === "number") this.mine.add(frame.id);
    this.outbox.delete(frame.client_id);
    const element = post.element;
    if (frame.status === "held") {
      element.id = "c-" + frame.id;
      element.dataset.id = String(frame.id);
      element.classList.add("comment--held");
      this.list.markPending(element, this.strings.held);
      this.say(this.strings.held);
      this.heldShown = frame.id;
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
    // The server's `notice` is Korean-and-English developer wording; besides "held" (above)
    // the only one is "personal data hidden": say it in the page's language.
    if (frame.notice && frame.status !== "held") this.say(this.strings.masked);
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
      this.saveDraft();
    }
    if (frame.retry_after && frame.code !== "banned" && frame.code !== "timed_out") {
      // Any "wait N s" answer: counted down, then sending comes back by itself.
      this.pauseSending(Number(frame.retry_after),
                        frame.code === "slow_mode" ? "slow_mode" : "rate_limited");
      return;
    }
    if (frame.code === "chat_closed") {
      this.closedChat = true;
      this.refreshComposer();
      return;
    }
    this.say(this.describe(frame), "error");
  }

  describe(frame) {
    const s = this.strings;
    const seconds = Math.max(1, Math.ceil(Number(frame.retry_after) || 1));
    switch (frame.code) {
      case "rate_limited": return fill(s.rateLimited, { s: seconds });
      case "slow_mode": return fill(s.slowWait, { s: seconds });
      case "too_long": return fill(s.tooLong, { n: this.maxChars });
      case "empty": return s.empty;
      case "chat_closed": return s.closed;
      case "sign_in_required": {
        const menu = document.getElementById("signin-menu");
        if (menu) menu.open = true;
        return s.signInRequired;
      }
      case "banned":
      case "timed_out":
      case "address_restricted":
        this.restricted(frame.until || null);
        return s.restricted;
      default:
        // Server messages are English developer text: show ours, and the code for support.
        return (s.errors && s.errors[frame.code]) || `${s.failed} (${frame.code || "error"})`;
    }
  }

  state(frame) {
    if ("slow_mode" in frame) {
      this.slowMode = Number(frame.slow_mode) || 0;
      if (this.slowMode) {
        this.$("chat-slow").textContent = fill(this.strings.slowMode, { n: this.slowMode });
      }
      this.refreshComposer();
    }
    if ("closed" in frame) {
      this.closedChat = Boolean(frame.closed);
      // Closed because it is not live yet (the server may say so in `hello`): going live
      // reopens it; the server refuses with chat_closed if it was closed for another reason.
      this.closedBeforeLive = this.closedChat && this.broadcastStatus !== "live";
      this.refreshComposer();
    }
    if ("pinned" in frame) {
      const box = this.$("chat-pinned");
      const body = this.$("chat-pinned-body");
      body.replaceChildren();
      if (frame.pinned) {
        const element = this.list.render(frame.pinned, { reportable: false });
        element.removeAttribute("id");
        body.append(element);
      }
      box.hidden = !frame.pinned;
    }
  }

  /** Our `after` was beyond the newest comment (the server's data was restored): comments
   * above `last_id` no longer exist; go on from it. */
  reset(frame) {
    if (typeof frame.last_id !== "number") return;
    this.connection.lastId = frame.last_id;
    this.list.forgetAbove(frame.last_id);
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
    if (labels[value]) this.broadcastStatus = value;
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
      this.refreshComposer();
      this.say(notice.textContent); // announced once through the status region
    } else if (value === "live") {
      notice.hidden = true;
      document.getElementById("live")?.classList.remove("live--waiting");
      if (this.closedBeforeLive) this.closedChat = false;
      this.closedBeforeLive = false;
      this.refreshComposer();
      if (this.refit) this.refit();
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
    this.connectionStopped = state === "stopped";
    this.refreshComposer();
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
    box.addEventListener("input", () => {
      this.updateCount();
      this.saveDraft();
    });
    // A half-typed comment survives a sign-in round trip (or a reload): sessionStorage.
    if (!box.value) box.value = this.loadDraft();
    box.enterKeyHint = "send"; // phones label their Enter key with "send"
    this.$("chat-nickname-open").addEventListener("click", () => this.openNickname());
    this.updateCount();
    this.refreshComposer();
  }

  draftKey() {
    return "ls-draft:" + window.location.pathname;
  }

  loadDraft() {
    try {
      return window.sessionStorage.getItem(this.draftKey()) || "";
    } catch {
      return ""; // storage disabled
    }
  }

  saveDraft() {
    try {
      const text = this.$("chat-text").value;
      if (text) window.sessionStorage.setItem(this.draftKey(), text);
      else window.sessionStorage.removeItem(this.draftKey());
    } catch {
      // storage disabled or full: the draft just isn't kept
    }
  }

  updateCount() {
    const count = graphemes(this.$("chat-text").value);
    const counter = this.$("chat-count");
    counter.textContent = `${count} / ${this.maxChars}`;
    counter.classList.toggle("is-over", count > this.maxChars);
    counter.classList.toggle("is-quiet", count < this.maxChars * 0.8);
  }

  /** The one state the composer is in, from what the page knows right now. */
  composerState(now = Date.now()) {
    if (this.connectionStopped) return "stopped";
    if (this.broadcastStatus === "planned") return "waiting";
    if (this.broadcastStatus === "ended" || this.broadcastStatus === "cancelled") return "ended";
    if (this.closedChat) return "closed";
    if (this.restrictedUntil === null || this.restrictedUntil > now) return "restricted";
    if (this.waitUntil > now) return "cooldown";
    return "open";
  }

  /**
   * Show the composer's state: the form (open, or closed behind the notice that says why),
   * the notices, the send button. A new state clears the status line; a wait counts down.
   */
  refreshComposer() {
    const now = Date.now();
    const state = this.composerState(now);
    const changed = state !== this.shownState;
    this.shownState = state;
    const writable = state === "open" || state === "cooldown";
    const form = this.$("chat-form");
    form.dataset.state = writable ? "open" : "closed";
    form.dataset.phase = state;
    this.$("chat-fieldset").disabled = state === "stopped";
    this.$("chat-send").disabled = state !== "open";
    this.$("chat-text").disabled = !writable;
    this.$("chat-waiting").hidden = state !== "waiting";
    this.$("chat-closed").hidden = state !== "closed";
    // Only what matters now: slow mode while one can write, a restriction while it holds.
    this.$("chat-slow").hidden = !(writable && this.slowMode);
    this.$("chat-restricted").hidden = state !== "restricted";
    if (this.restrictedUntil !== undefined && state !== "restricted"
        && !(this.restrictedUntil === null || this.restrictedUntil > now)) {
      this.restrictedUntil = undefined;
      this.$("chat-restricted").hidden = true;
    }
    if (changed) this.say("");
    clearTimeout(this.composerTimer);
    this.composerTimer = null;
    if (state === "cooldown") {
      const seconds = Math.ceil((this.waitUntil - now) / 1000);
      const template = this.waitKind === "slow_mode" ? this.strings.slowWait : this.strings.rateLimited;
      this.say(fill(template, { s: seconds }), "wait");
      // Tick on the second boundary of the wait, so the number shown is never stale.
      const next = (this.waitUntil - now) % 1000 || 1000;
      this.composerTimer = setTimeout(() => this.refreshComposer(), next);
    } else if (state === "restricted" && this.restrictedUntil) {
      const left = this.restrictedUntil - now;
      if (left < 2 ** 31) this.composerTimer = setTimeout(() => this.refreshComposer(), left);
    }
  }

  pauseSending(seconds, kind = "rate_limited") {
    this.waitUntil = Date.now() + Math.max(1, seconds) * 1000;
    this.waitKind = kind;
    this.shownState = ""; // a new wait is news even if one was already counting down
    this.refreshComposer();
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
    if (this.composerState() !== "open") return;
    const question = this.$("chat-question").checked;
    if (!this.me) {
      this.afterNickname = () => this.submit();
      this.openNickname();
      return;
    }
    const clientId = newClientId();
    const element = this.list.render(
      { author: this.me.name, role: this.me.role, department: this.me.department, text,
        question, mark: this.me.mark, created_at: new Date().toISOString() },
      { pendingLabel: this.strings.sending },
    );
    const post = { text, question, element, delivered: false, sent: false };
    this.outbox.set(clientId, post);
    this.list.push([{ local: true, element }], { announce: false });
    box.value = "";
    this.saveDraft();
    this.$("chat-question").checked = false;
    this.updateCount();
    this.say("");
    this.transmit(clientId, post);
  }

  transmit(clientId, post) {
    // Not connected: it stays in the outbox and goes out after the next `hello`.
    // `retry`: sent before, so it may be stored already (the server looks before its limits).
    const sent = this.connection.send({ type: "post", client_id: clientId, text: post.text,
                                        question: post.question, retry: post.sent });
    if (sent) post.sent = true;
  }

  say(message, tone = "") {
    const line = this.$("chat-status");
    line.textContent = message;
    if (tone) line.dataset.tone = tone;
    else delete line.dataset.tone;
  }

  setMe(you) {
    this.me = { name: you.name, role: you.role, department: you.department, mark: you.mark };
    document.dispatchEvent(new CustomEvent("livechat:me", { detail: this.me }));
    const who = this.$("chat-who");
    const strong = document.createElement("strong");
    strong.textContent = you.name;
    who.replaceChildren(this.strings.nickname + ": ", strong);
    // The button shows who you are (in your name's colour); its name says what it does.
    const button = this.$("chat-nickname-open");
    const name = document.createElement("span");
    name.className = "composer__name";
    name.dataset.hue = String(nameHue(you.name));
    name.textContent = you.name;
    const pencil = document.createElement("span");
    pencil.setAttribute("aria-hidden", "true");
    pencil.textContent = "✎";
    button.replaceChildren(name, " ", pencil);
    button.setAttribute("aria-label", `${this.strings.changeNickname}: ${you.name}`);
    button.hidden = Boolean(you.mark); // a signed-in name is the account's
    this.list.refreshOwnership();
  }

  // -- moderation, as a viewer ----------------------------------------------------
  deleted(frame) {
    // Our own comment hidden by reports stays, marked as under review, for us alone.
    const ids = (frame.ids || []).filter((id) => !this.underReview.has(id));
    this.list.remove(ids);
  }

  /** `moderation` frames: only ever sent to the author they concern. */
  moderation(frame) {
    switch (frame.event) {
      case "removed": return this.removedNotice(frame);
      case "held": return this.heldForReview(frame);
      case "appeal_decided": return this.appealDecided(frame);
      case "restricted": return this.restricted(frame.until || null);
      case "unrestricted":
        this.restrictedUntil = undefined;
        this.$("chat-restricted").hidden = true;
        this.refreshComposer();
        return this.say(this.strings.unrestricted);
      default: return undefined;
    }
  }

  /** What we know of comment `id`: on the page, just removed, or asked of the server. */
  async ownComment(id) {
    const element = document.getElementById("c-" + id);
    if (element) this.list.keepRemoved(id, element);
    const known = this.list.removed.get(id);
    if (known) return known;
    try {
      const response = await fetch(`/api/comments/${id}/moderation`, { credentials: "same-origin" });
      if (!response.ok) return null;
      const body = await response.json();
      return { id, author: this.me ? this.me.name : "", text: body.text, created_at: "" };
    } catch {
      return null;
    }
  }

  async removedNotice(frame) {
    const id = Number(frame.id);
    if (!id) return;
    this.mine.add(id);
    this.underReview.delete(id);
    const comment = await this.ownComment(id);
    const reasons = this.strings.reasons || {};
    const reason = reasons[frame.reason] || frame.reason || "";
    const li = document.createElement("li");
    li.className = "comment-notice";
    li.dataset.noticeFor = String(id);
    const title = document.createElement("p");
    title.className = "comment-notice__title";
    title.textContent = fill(this.strings.removed, { reason })
      + (frame.reason_text ? ` (${frame.reason_text})` : "");
    const text = document.createElement("p");
    text.className = "comment-notice__text";
    text.textContent = comment ? comment.text : "";
    const outcome = document.createElement("p");
    outcome.className = "comment-notice__outcome";
    outcome.setAttribute("role", "status");
    li.append(title, text, outcome);
    if (frame.can_appeal && !this.appealed.has(id)) li.append(...this.appealControls(id, outcome));
    const element = document.getElementById("c-" + id);
    const previous = this.list.list.querySelector(`li[data-notice-for="${id}"]`);
    if (element) element.replaceWith(li);
    else if (previous) previous.replaceWith(li);
    else this.list.insertInOrder(li, id);
    this.list.empty.hidden = true;
    this.list.ensureTabStop();
    this.say(title.textContent);
  }

  appealControls(id, outcome) {
    const s = this.strings;
    const actions = document.createElement("p");
    actions.className = "comment-notice__actions";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "btn btn--small";
    open.dataset.action = "appeal";
    open.textContent = s.appeal;
    open.setAttribute("aria-expanded", "false");
    actions.append(open);
    const form = document.createElement("form");
    form.className = "appeal-form";
    form.hidden = true;
    form.id = `appeal-${id}`;
    open.setAttribute("aria-controls", form.id);
    const label = document.createElement("label");
    label.htmlFor = `appeal-${id}-text`;
    label.textContent = s.appealText;
    const box = document.createElement("textarea");
    box.id = `appeal-${id}-text`;
    box.rows = 2;
    box.maxLength = 500;
    const error = document.createElement("p");
    error.className = "field__error";
    error.id = `appeal-${id}-error`;
    box.setAttribute("aria-describedby", error.id);
    const row = document.createElement("p");
    row.className = "cluster";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn--small";
    cancel.textContent = s.cancel;
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "btn btn--primary btn--small";
    send.textContent = s.appealSend;
    row.append(cancel, send);
    form.append(label, box, error, row);
    open.addEventListener("click", () => {
      form.hidden = !form.hidden;
      open.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) box.focus();
    });
    cancel.addEventListener("click", () => {
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
      open.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = box.value.trim();
      error.textContent = "";
      if (!text) {
        box.setAttribute("aria-invalid", "true");
        error.textContent = s.appealEmpty;
        box.focus();
        return;
      }
      send.disabled = true;
      const { response, body } = await this.post(`/api/comments/${id}/appeal`, { text });
      send.disabled = false;
      if (response && (response.ok || response.status === 409)) {
        this.appealed.add(id);
        outcome.textContent = response.ok ? s.appealSent : s.appealAlready;
        actions.remove();
        form.remove();
        outcome.tabIndex = -1;
        outcome.focus();
        return;
      }
      box.setAttribute("aria-invalid", "true");
      error.textContent = this.problem(s.appealFailed, response, body);
    });
    return [actions, form];
  }

  async heldForReview(frame) {
    const id = Number(frame.id);
    if (!id) return;
    this.mine.add(id);
    // Held as it was posted (a blocked word): the `ack` marks the pending copy itself.
    if (frame.client_id && this.outbox.has(frame.client_id)) return;
    this.underReview.add(id);
    const comment = await this.ownComment(id);
    if (!comment || document.getElementById("c-" + id)?.classList.contains("comment--held")) return;
    const element = this.list.render({ ...comment, id, role: this.me && this.me.role },
                                     { pendingLabel: this.strings.underReview });
    element.classList.add("comment--held");
    const existing = document.getElementById("c-" + id);
    if (existing) existing.replaceWith(element);
    else this.list.insertInOrder(element, id);
    this.list.empty.hidden = true;
    this.say(this.strings.underReview);
  }

  appealDecided(frame) {
    const appeal = frame.appeal || {};
    const id = Number(frame.id || appeal.comment_id);
    this.appealed.add(id);
    const reinstated = appeal.status === "reinstated";
    let message = reinstated ? this.strings.appealReinstated : this.strings.appealUpheld;
    if (appeal.note) message += ` (${appeal.note})`;
    const notice = this.list.list.querySelector(`li[data-notice-for="${id}"]`);
    if (notice) {
      notice.querySelector(".comment-notice__outcome").textContent = message;
      notice.querySelector(".comment-notice__actions")?.remove();
      notice.querySelector(".appeal-form")?.remove();
    }
    this.say(message);
  }

  restricted(until) {
    const box = this.$("chat-restricted");
    let text = this.strings.restrictedForever;
    if (until) {
      const when = new Date(until);
      const shown = Number.isNaN(when.getTime()) ? until : new Intl.DateTimeFormat(this.locale, {
        timeZone: "Asia/Seoul", month: "short", day: "numeric", hour: "2-digit",
        minute: "2-digit", hourCycle: "h23",
      }).format(when);
      text = fill(this.strings.restrictedUntil, { until: shown });
    }
    box.textContent = text;
    box.hidden = false;
    const when = until ? new Date(until).getTime() : NaN;
    this.restrictedUntil = Number.isNaN(when) ? null : when;
    this.refreshComposer();
  }

  /** POST JSON with the CSRF header (common/api.js); {response: null, body: null} when the
   * network fails. */
  async post(url, payload) {
    try {
      const { response, body } = await postJSON(url, payload);
      return { response, body };
    } catch {
      return { response: null, body: null };
    }
  }

  /** What failed, in the page's language: ours for what we know, else the stable code
   * (the API's `message` is English for developers). */
  problem(failed, response, body) {
    const code = body && body.error ? body.error.code : "";
    if (response && response.status === 429) return `${failed} ${this.strings.errors.unavailable}`;
    const known = code && this.strings.errors[code];
    return known ? `${failed} ${known}` : `${failed} (${code || (response ? response.status : "network")})`;
  }

  bindModeration() {
    const dialog = this.$("report-dialog");
    const form = this.$("report-form");
    if (!dialog || !form) return;
    this.list.list.addEventListener("click", (event) => {
      const button = event.target.closest(".comment__report");
      if (button) this.openMenu(button);
    });
    this.$("report-cancel").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      const opener = this.reportTarget && this.reportTarget.button;
      if (opener && opener.isConnected) opener.focus();
      else this.list.list.focus();
      this.reportTarget = null;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const target = this.reportTarget;
      if (!target) return;
      const data = new FormData(form);
      const reason = String(data.get("reason") || "");
      const reasonText = String(data.get("reason_text") || "").trim();
      const input = this.$("report-text");
      const error = this.$("report-error");
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      if (reason === "other" && !reasonText) {
        input.setAttribute("aria-invalid", "true");
        error.textContent = this.strings.reportNeedsText;
        input.focus();
        return;
      }
      if (!this.me) {
        dialog.close();
        this.openNickname();
        return;
      }
      const { response, body } = await this.post(`/api/comments/${target.id}/reports`,
                                                 { reason, reason_text: reasonText });
      if (response && response.ok) {
        target.button.dataset.reported = "1";
        dialog.close();
        this.say(this.strings.reported);
        return;
      }
      if (response && response.status === 401) {
        dialog.close();
        this.openNickname();
        return;
      }
      error.textContent = this.problem(this.strings.reportFailed, response, body);
    });
  }

  // -- the ⋯ menu of a comment -----------------------------------------------------
  bindMenu() {
    const menu = this.$("comment-menu");
    if (!menu) return;
    this.menuFor = null;
    this.$("comment-menu-report").addEventListener("click", () => {
      const button = this.menuFor;
      this.closeMenu(false);
      if (button && button.isConnected) this.openReport(button);
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" || event.key === "Tab") {
        event.preventDefault();
        this.closeMenu(true);
      }
    });
    document.addEventListener("pointerdown", (event) => {
      if (this.menuFor && !menu.contains(event.target) && event.target !== this.menuFor) {
        this.closeMenu(false);
      }
    });
    this.list.list.addEventListener("scroll", () => this.closeMenu(false), { passive: true });
    addEventListener("resize", () => this.closeMenu(false));
  }

  openMenu(button) {
    const menu = this.$("comment-menu");
    if (!menu) return this.openReport(button);
    if (this.menuFor === button) return this.closeMenu(true);
    this.closeMenu(false);
    this.menuFor = button;
    button.setAttribute("aria-expanded", "true");
    menu.hidden = false;
    const rect = button.getBoundingClientRect();
    const width = menu.offsetWidth;
    const height = menu.offsetHeight;
    const top = rect.bottom + height + 8 > innerHeight ? rect.top - height - 4 : rect.bottom + 4;
    menu.style.top = `${Math.max(4, top)}px`;
    menu.style.left = `${Math.max(4, Math.min(innerWidth - width - 4, rect.right - width))}px`;
    this.$("comment-menu-report").focus();
    return undefined;
  }

  closeMenu(refocus) {
    const menu = this.$("comment-menu");
    const button = this.menuFor;
    if (!menu || !button) return;
    this.menuFor = null;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (refocus && button.isConnected) button.focus();
  }

  openReport(button) {
    const li = button.closest("li[data-id]");
    if (!li) return;
    const dialog = this.$("report-dialog");
    if (dialog.open) return;
    this.reportTarget = { id: Number(li.dataset.id), button };
    this.$("report-form").reset();
    this.$("report-error").textContent = "";
    this.$("report-text").removeAttribute("aria-invalid");
    this.$("report-quote").textContent = li.querySelector(".comment__text")?.textContent || "";
    dialog.showModal();
    dialog.querySelector("input[name=reason]").focus();
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
          error.textContent = body.error && body.error.code === "personal_data"
            ? this.strings.nicknamePersonal
            : response.status === 400
              ? `${this.strings.nicknameFailed} ${this.strings.nicknameRules}`
              : this.problem(this.strings.nicknameFailed, response, body);
          return;
        }
        input.removeAttribute("aria-invalid");
        useToken(body.csrf_token); // the new session's
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
/** The page's chat (null on pages without one); other panels talk to it through events. */
export const liveChat = root ? new LiveChat(root) : null;
if (liveChat) document.addEventListener("livechat:nickname", () => liveChat.openNickname());

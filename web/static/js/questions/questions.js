// The citizen-question panel (ES module, no build step). See _questions_panel.html.
//
// State comes from GET /api/broadcasts/{id}/questions (on start and after every
// (re)connect) and is kept current by `question` frames: each carries the whole question
// with a `version`, and an older version never overwrites a newer one. On the live page the
// frames come through the page's own chat connection, which dispatches each one as a
// `livechat:frame` event on `document`; elsewhere (the questions page) the panel opens its
// own WebSocket (common/socket.js), and where it is not live (the replay page) it only
// loads the list. The live chat says who the reader is with `livechat:me` events; asking for
// a nickname is a `livechat:nickname` event (no globals between the two panels).
//
// Rendering: user text only ever goes through textContent. Items are keyed by id and
// updated in place, so a staff member typing an answer never loses the text when votes move.

import { sendJSON, useToken } from "../common/api.js";
import { fill } from "../common/i18n.js";
import { Connection } from "../common/socket.js";

const STAFF = new Set(["official", "moderator", "admin"]);
const STATUSES = ["open", "answered", "forwarded", "will_reflect", "not_in_remit"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeOf(iso, locale) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return when.toLocaleTimeString(locale === "ko" ? "ko-KR" : locale, {
    hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Seoul",
  });
}

function newClientId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "a" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function tallyOf(questions) {
  // Only real answers count towards the percentage (a status alone is not an answer).
  const tally = { received: 0, responded: 0, answers: 0, percent: 0 };
  for (const status of STATUSES) tally[status] = 0;
  for (const q of questions) {
    tally.received += 1;
    tally[q.status] = (tally[q.status] || 0) + 1;
    if (q.answer) tally.answers += 1;
  }
  tally.responded = tally.received - tally.open;
  tally.percent = tally.received ? Math.floor((100 * tally.answers) / tally.received) : 0;
  return tally;
}

export function sortQuestions(questions, by) {
  const list = [...questions];
  if (by === "time") return list.sort((a, b) => b.id - a.id);
  return list.sort((a, b) => b.votes - a.votes || a.id - b.id);
}

class QuestionPanel {
  constructor(root) {
    this.departments = [];
    this.root = root;
    this.broadcastId = Number(root.dataset.broadcastId);
    this.locale = root.dataset.locale || "ko";
    this.role = root.dataset.role || "";
    useToken(root.dataset.csrf);
    try {
      this.marks = JSON.parse(root.dataset.marks || "{}"); // sign-in provider marks
    } catch {
      this.marks = {};
    }
    this.sort = "votes";
    this.questions = new Map();
    this.nodes = new Map();
    this.$ = (id) => document.getElementById(id);
    this.list = this.$("q-list");
    this.refreshTimer = null;
    this.name = null;
    for (const button of root.querySelectorAll("[data-sort]")) {
      button.addEventListener("click", () => this.setSort(button.dataset.sort));
    }
    this.$("q-notices-seen").addEventListener("click", () => this.markSeen());
  }

  str(key) {
    return this.root.dataset["str" + key.charAt(0).toUpperCase() + key.slice(1)] || key;
  }

  myName() {
    return this.name || null;
  }

  get canAnswer() {
    return STAFF.has(this.role);
  }

  // -- data ---------------------------------------------------------------------------
  async refresh() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    const before = new Set(this.questions.keys());
    const response = await fetch(`/api/broadcasts/${this.broadcastId}/questions?sort=${this.sort}`,
                                 { credentials: "same-origin" });
    if (!response.ok) return;
    const body = await response.json();
    this.role = (body.you && body.you.role) || "";
    this.departments = Array.isArray(body.departments) ? body.departments : [];
    this.renderDepartments();
    // Frames may have overtaken this response: keep whichever version is newer, and keep
    // questions that arrived while it was on its way.
    const fresh = new Map();
    for (const q of body.items) {
      const known = this.questions.get(q.id);
      const newer = known && known.version > q.version ? known : q;
      fresh.set(q.id, { ...newer, voted: q.voted, following: q.following, moves: q.moves });
    }
    for (const [id, q] of this.questions) {
      if (fresh.has(id)) continue;
      if (before.has(id)) this.drop(id);
      else fresh.set(id, q);
    }
    this.questions = fresh;
    this.render();
  }

  scheduleRefresh(delay = 300) {
    if (this.refreshTimer === null) this.refreshTimer = setTimeout(() => this.refresh(), delay);
  }

  apply(frame) {
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "hello") {
      if (frame.you && frame.you.role) this.role = frame.you.role;
      if (frame.you) this.name = frame.you.name;
      this.refresh();
    } else if (frame.type === "question" && frame.question) {
      this.merge(frame.question, frame.event);
    } else if (frame.type === "deleted") {
      for (const id of frame.ids || []) this.drop(id);
      this.render();
    } else if (frame.type === "comments") {
      // A question approved by a moderator arrives as a comment: fetch it if unknown.
      const unknown = (frame.items || []).some(
        (item) => (item.flags || []).includes("question") && !this.questions.has(item.id));
      if (unknown) this.scheduleRefresh(800);
    }
  }

  merge(question, event) {
    if (question.broadcast_id !== this.broadcastId) return;
    const known = this.questions.get(question.id);
    if (known && known.version >= question.version) return;
    const merged = { voted: false, following: false, moves: [], ...known, ...question };
    this.questions.set(question.id, merged);
    if (this.canAnswer && (!known || known.status !== question.status)) this.scheduleRefresh();
    // Probably our own question (askers follow it): fetch our follow state for it.
    if (!known && event === "asked" && question.author === this.myName()) this.scheduleRefresh();
    this.render();
    if (event === "answered" && known && known.following) this.loadNotifications();
  }

  drop(id) {
    this.questions.delete(id);
    const node = this.nodes.get(id);
    if (node) node.remove();
    this.nodes.delete(id);
  }

  setSort(by) {
    this.sort = by === "time" ? "time" : "votes";
    for (const button of this.root.querySelectorAll("[data-sort]")) {
      button.setAttribute("aria-pressed", String(button.dataset.sort === this.sort));
    }
    this.render();
  }

  // -- rendering ------------------------------------------------------------------------
  render() {
    const ordered = sortQuestions(this.questions.values(), this.sort);
    for (const node of [...this.list.children]) {
      if (!this.nodes.has(Number(node.dataset.id)) || node.dataset.rendered !== "1") node.remove();
    }
    let previous = null;
    for (const q of ordered) {
      let node = this.nodes.get(q.id);
      if (!node) {
        node = this.build(q);
        this.nodes.set(q.id, node);
      }
      this.update(node, q);
      const want = previous ? previous.nextSibling : this.list.firstChild;
      if (want !== node && !node.contains(document.activeElement)) {
        this.list.insertBefore(node, want);
      }
      previous = node;
    }
    this.$("q-empty").hidden = this.questions.size > 0;
    const tally = tallyOf(this.questions.values());
    this.$("q-tally").textContent = fill(this.str("tally"), tally);
    // The page's big tally (questions.html), when this panel is the whole broadcast's list.
    const number = new Intl.NumberFormat(this.locale);
    for (const cell of document.querySelectorAll("[data-tally]")) {
      cell.textContent = number.format(tally[cell.dataset.tally] || 0);
    }
  }

  renderDepartments() {
    let list = document.getElementById("q-departments");
    if (!list) {
      list = el("datalist");
      list.id = "q-departments";
      this.root.append(list);
    }
    list.replaceChildren(...this.departments.map((name) => {
      const option = el("option");
      option.value = name;
      return option;
    }));
  }

  build(q) {
    const node = el("li", "question");
    node.id = `q-${q.id}`;
    node.dataset.id = String(q.id);
    node.dataset.rendered = "1";
    const vote = el("div", "question__vote");
    const button = el("button", "question__vote-btn");
    button.type = "button";
    button.dataset.action = "vote";
    button.append(el("span", "question__vote-label", this.str("voteLabel")), " ",
      el("span", "", "▲"), " ");
    button.addEventListener("click", () => this.toggleVote(q.id));
    const count = el("span", "question__votes");
    count.dataset.part = "votes";
    button.append(count);
    vote.append(button);
    const body = el("div", "question__body");
    const meta = el("p", "question__meta");
    const author = el("span", "question__author", q.author);
    const marked = []; // the asker's sign-in provider mark, if any
    const mark = q.mark ? this.marks[q.mark] : null;
    if (mark) {
      const img = document.createElement("img");
      img.className = "mark mark--" + q.mark;
      img.src = mark.src;
      img.alt = img.title = mark.label;
      img.width = img.height = 14;
      marked.push(img);
    }
    const when = el("time", "", timeOf(q.created_at, this.locale));
    when.dateTime = q.created_at;
    const status = el("span", "badge question__status");
    status.dataset.part = "status";
    const dept = el("span", "question__department");
    dept.dataset.part = "department";
    meta.append(author, ...marked, " ", when, " ", status, " ", dept);
    const text = el("p", "question__text", q.text);
    const note = el("p", "question__note");
    note.dataset.part = "note";
    const answer = el("div", "question__answer");
    answer.dataset.part = "answer";
    const actions = el("p", "question__actions");
    const follow = el("button", "btn btn--ghost btn--small");
    follow.type = "button";
    follow.dataset.action = "follow";
    follow.addEventListener("click", () => this.toggleFollow(q.id));
    actions.append(follow);
    body.append(meta, text, note, answer, actions);
    node.append(vote, body);
    return node;
  }

  update(node, q) {
    const part = (name) => node.querySelector(`[data-part="${name}"]`);
    node.className = `question question--${q.status}`;
    node.dataset.version = String(q.version);
    const voteButton = node.querySelector('[data-action="vote"]');
    voteButton.setAttribute("aria-pressed", String(Boolean(q.voted)));
    voteButton.title = q.voted ? this.str("unvote") : this.str("vote");
    const votes = part("votes");
    votes.textContent = String(q.votes);
    const status = part("status");
    status.textContent = this.str(q.status);
    status.className = `badge question__status question__status--${q.status}`;
    part("department").textContent = q.department || "";
    const note = part("note");
    note.textContent = q.status_note || "";
    note.hidden = !q.status_note;
    this.renderAnswer(part("answer"), q.answer);
    const follow = node.querySelector('[data-action="follow"]');
    follow.setAttribute("aria-pressed", String(Boolean(q.following)));
    follow.textContent = q.following ? this.str("following") : this.str("follow");
    let staff = node.querySelector(".question__staff");
    if (this.canAnswer && !staff) {
      staff = this.buildStaff(q.id);
      node.querySelector(".question__body").append(staff);
    } else if (!this.canAnswer && staff) {
      staff.remove();
      staff = null;
    }
    if (staff) this.updateMoves(staff, q);
  }

  renderAnswer(box, answer) {
    box.hidden = !answer;
    if (!answer) {
      box.replaceChildren();
      return;
    }
    const meta = el("p", "question__meta");
    let badge;
    if (answer.role === "official") {
      badge = el("span", "badge badge--official");
      const tick = el("span", "", "✓");
      tick.setAttribute("aria-hidden", "true");
      badge.append(tick, this.str("official") + (answer.department ? ` · ${answer.department}` : ""));
    } else {
      badge = el("span", "badge badge--staff", this.str("staff"));
    }
    const kind = el("span", "small muted", answer.live ? this.str("liveAnswer") : this.str("writtenAnswer"));
    const when = el("time", "", timeOf(answer.at, this.locale));
    when.dateTime = answer.at;
    meta.append(badge, " ", el("span", "question__author", answer.author), " ", kind, " ", when);
    box.replaceChildren(meta, el("p", "question__answer-text", answer.text));
  }

  buildStaff(id) {
    const details = el("details", "question__staff");
    details.append(el("summary", "", this.str("manage")));
    const answerForm = el("form", "question__form");
    const answerLabel = el("label", "", this.str("answerText"));
    const answerText = el("textarea");
    answerText.name = "text";
    answerText.rows = 2;
    answerText.required = true;
    answerLabel.append(answerText);
    const mode = el("select");
    mode.name = "mode";
    for (const [value, label] of [["live", this.str("modeLive")], ["written", this.str("modeWritten")]]) {
      const option = el("option", "", label);
      option.value = value;
      mode.append(option);
    }
    const answerButton = el("button", "btn btn--primary btn--small", this.str("answer"));
    answerButton.type = "submit";
    answerForm.append(answerLabel, mode, answerButton);
    answerForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(`/api/questions/${id}/answer`, {
        text: answerText.value, mode: mode.value, client_id: newClientId(),
      }).then((ok) => { if (ok) answerText.value = ""; });
    });
    // "답변 완료" is not on this menu: a question is answered by answering it (above).
    const statusForm = el("form", "question__form question__form--status");
    const field = (label, control) => {
      const box = el("label", "question__field");
      box.append(el("span", "question__field-label", label), control);
      return box;
    };
    const select = el("select");
    select.name = "status";
    select.required = true;
    select.dataset.part = "moves";
    const note = el("input");
    note.type = "text";
    note.name = "note";
    note.maxLength = 200;
    const dept = el("input");
    dept.type = "text";
    dept.name = "department";
    dept.maxLength = 60;
    dept.setAttribute("list", "q-departments");
    dept.autocomplete = "off";
    const statusButton = el("button", "btn btn--small", this.str("changeStatus"));
    statusButton.type = "submit";
    statusButton.disabled = true;
    select.addEventListener("change", () => { statusButton.disabled = !select.value; });
    statusForm.append(field(this.str("changeStatus"), select), field(this.str("note"), note),
      field(this.str("department"), dept), statusButton);
    statusForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!select.value) return;
      this.send(`/api/questions/${id}/status`, {
        status: select.value, note: note.value, department: dept.value,
      }).then((ok) => { if (ok) note.value = ""; });
    });
    details.append(answerForm, statusForm);
    return details;
  }

  updateMoves(staff, q) {
    const select = staff.querySelector('[data-part="moves"]');
    const moves = q.moves || [];
    const current = [...select.options].map((o) => o.value).filter(Boolean).join(",");
    if (current === moves.join(",")) return;
    // No status is preselected: the official picks one on purpose.
    const prompt = el("option", "", this.str("pickStatus"));
    prompt.value = "";
    prompt.selected = true;
    prompt.disabled = true;
    select.replaceChildren(prompt, ...moves.map((value) => {
      const option = el("option", "", this.str(value));
      option.value = value;
      return option;
    }));
    select.disabled = moves.length === 0;
    const submit = staff.querySelector(".question__form--status button[type=submit]");
    if (submit) submit.disabled = true;
  }

  // -- actions --------------------------------------------------------------------------
  async send(url, payload) {
    this.say("");
    const { response, body } = await sendJSON("POST", url, payload || {});
    if (response.status === 409 && body.error && body.error.code === "personal_data"
        && !payload.mask_personal_data) {
      // An official's text with a phone number or the like: publish it masked, if they agree.
      if (!window.confirm(`${this.str("personalData")}\n\n${body.error.masked || ""}`)) return false;
      return this.send(url, { ...payload, mask_personal_data: true });
    }
    if (!response.ok) {
      if (response.status === 401) {
        this.say(this.str("needNickname"));
        document.dispatchEvent(new CustomEvent("livechat:nickname"));
      } else if (body.error && body.error.code === "vote_limit") {
        this.say(this.str("voteLimit"));
      } else {
        // Our wording and the stable code, never the API's English message.
        this.say(`${this.str("failed")} (${body.error ? body.error.code : response.status})`);
      }
      return false;
    }
    if (body.question) this.merge({ ...body.question, ...this.local(body) });
    return body;
  }

  local(body) {
    const extra = {};
    if (typeof body.voted === "boolean") extra.voted = body.voted;
    if (typeof body.following === "boolean") extra.following = body.following;
    return extra;
  }

  async toggleVote(id) {
    const q = this.questions.get(id);
    if (!q) return;
    const body = await this.send(`/api/questions/${id}/${q.voted ? "unvote" : "vote"}`);
    if (body) this.setLocal(id, { voted: body.voted });
  }

  async toggleFollow(id) {
    const q = this.questions.get(id);
    if (!q) return;
    const body = await this.send(`/api/questions/${id}/${q.following ? "unfollow" : "follow"}`);
    if (body) this.setLocal(id, { following: body.following });
  }

  setLocal(id, values) {
    const q = this.questions.get(id);
    if (!q) return;
    Object.assign(q, values);
    this.render();
  }

  say(message) {
    this.$("q-status").textContent = message;
  }

  // -- notifications ---------------------------------------------------------------------
  async loadNotifications() {
    const response = await fetch("/api/me/notifications", { credentials: "same-origin" });
    if (!response.ok) return;
    const body = await response.json();
    const box = this.$("q-notices");
    const list = this.$("q-notices-list");
    list.replaceChildren(...body.items.map((n) => {
      const item = el("li");
      const link = el("a", "", n.question.text.slice(0, 60));
      link.href = n.question.broadcast_id === this.broadcastId
        ? `#q-${n.question.id}` : `/broadcasts/${n.question.broadcast_id}/questions#q-${n.question.id}`;
      item.append(link, ` — ${this.str(n.previous_status)} → ${this.str(n.question.status)}`);
      return item;
    }));
    box.hidden = body.items.length === 0;
  }

  async markSeen() {
    if (await this.send("/api/me/notifications/seen", {})) this.$("q-notices").hidden = true;
  }
}

/** The panel's own socket, for pages without the live chat client. */
function follow(panel) {
  new Connection(`/ws/broadcasts/${panel.broadcastId}`, {
    lastId: 0,
    onFrame: (frame) => panel.apply(frame),
    onState: () => {},
  }).connect();
}

function start() {
  const root = document.getElementById("questions");
  if (!root || root.dataset.started) return;
  root.dataset.started = "1";
  const panel = new QuestionPanel(root);
  document.addEventListener("livechat:me", (event) => { panel.name = event.detail.name; });
  const chat = document.getElementById("chat");
  if (chat && Number(chat.dataset.broadcastId) === panel.broadcastId) {
    // The live page: share the chat's socket (livechat.js dispatches every frame).
    document.addEventListener("livechat:frame", (event) => panel.apply(event.detail));
    panel.refresh();
  } else if (root.dataset.live === "1") {
    follow(panel);
  } else {
    panel.refresh();
  }
  panel.loadNotifications();
}

// A module runs once the document is parsed: listen at once, so no chat frame is missed.
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
else start();

// The moderator console: every comment of a broadcast live (held ones too), actions over
// the WebSocket (`moderate` messages), usable by keyboard. User text goes in textContent only.

const root = document.getElementById("console");
const S = document.getElementById("mod-strings").dataset;
const broadcastId = Number(root.dataset.broadcastId);
const csrf = root.dataset.csrf;
const $ = (id) => document.getElementById(id);
const list = $("mod-list");
const queue = $("mod-queue");
const items = new Map(); // id -> item (with status)
let socket = null;
let lastId = 0;
let attempt = 0;
let sequence = 0;
let chatClosed = false;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function seoulTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("ko-KR", {
    timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}

function announce(message) {
  $("mod-announcer").textContent = message;
  $("mod-conn").dataset.last = message;
}

function button(label, action, id, extra = {}) {
  const b = el("button", "btn btn--small", label);
  b.type = "button";
  b.dataset.action = action;
  if (id !== undefined) b.dataset.id = String(id);
  for (const [k, v] of Object.entries(extra)) b.dataset[k] = String(v);
  return b;
}

function statusLabel(status) {
  return { held: S.held, removed: S.removed, visible: S.visible }[status] || status;
}

function renderItem(item) {
  const li = el("li", `mod-item mod-item--${item.status}`);
  li.id = `m-${item.id}`;
  li.dataset.id = String(item.id);
  li.dataset.status = item.status;
  li.tabIndex = -1;
  const meta = el("p", "mod-item__meta");
  meta.append(el("span", "mod-item__author", item.author));
  if (item.role && item.role !== "viewer") meta.append(el("span", "badge", item.role));
  meta.append(el("span", "mod-item__ref", `#${item.author_ref || ""}`));
  meta.append(el("time", "mod-item__time", seoulTime(item.created_at)));
  meta.append(el("span", `badge mod-item__status mod-item__status--${item.status}`, statusLabel(item.status)));
  if (item.reports) meta.append(el("span", "badge badge--warn", `${S.reports} ${item.reports}`));
  if (item.matched) meta.append(el("span", "badge badge--warn", `${S.matched}: ${item.matched}`));
  li.append(meta, el("p", "mod-item__text", item.text));
  const actions = el("p", "mod-item__actions cluster");
  if (item.status === "held") {
    actions.append(button(S.approve, "approve", item.id), button(S.reject, "reject", item.id));
  } else if (item.status === "removed") {
    actions.append(button(S.restore, "restore", item.id));
  } else {
    actions.append(button(S.remove, "remove", item.id), button(S.pin, "pin", item.id));
  }
  if (item.role === "viewer") {
    actions.append(button(S.removeUser, "remove_user", item.id),
      button(S.timeout, "timeout", item.id), button(S.ban, "ban", item.id));
  }
  li.append(actions);
  return li;
}

function placeInOrder(container, li) {
  const id = Number(li.dataset.id);
  const existing = container.querySelector(`[data-id="${id}"]`);
  if (existing) {
    const hadFocus = document.activeElement === existing;
    existing.replaceWith(li);
    if (hadFocus) li.focus();
    return;
  }
  for (const child of container.children) {
    if (Number(child.dataset.id) > id) {
      container.insertBefore(li, child);
      return;
    }
  }
  container.append(li);
}

function upsert(item) {
  const merged = { ...(items.get(item.id) || {}), ...item };
  items.set(item.id, merged);
  placeInOrder(list, renderItem(merged));
  const queued = queue.querySelector(`[data-id="${item.id}"]`);
  if (merged.status === "held") {
    const li = renderItem(merged);
    li.id = `q-${item.id}`;
    placeInOrder(queue, li);
  } else if (queued) {
    queued.remove();
  }
  $("mod-queue-count").textContent = String(queue.children.length);
  if (item.id > lastId && merged.status !== "held") lastId = Math.max(lastId, item.id);
}

function setStatus(ids, status) {
  for (const id of ids) {
    const item = items.get(id);
    if (item) upsert({ ...item, status });
  }
}

function renderState(state) {
  chatClosed = Boolean(state.closed);
  const parts = [];
  if (state.slow_mode) parts.push(`${S.slow}: ${state.slow_mode}s`);
  if (state.closed) parts.push(S.closed);
  $("mod-state").textContent = parts.join(" · ");
  $("mod-slow").value = String(state.slow_mode || 0);
  const toggle = $("mod-chat-toggle");
  toggle.textContent = chatClosed ? S.openChat : S.closeChat;
  toggle.setAttribute("aria-pressed", String(chatClosed));
  const pinned = $("mod-pinned");
  pinned.hidden = !state.pinned;
  $("mod-unpin").hidden = !state.pinned;
  pinned.textContent = state.pinned ? `${S.pinned}: ${state.pinned.author} — ${state.pinned.text}` : "";
}

function renderAppeals(appeals) {
  const box = $("mod-appeals");
  box.replaceChildren();
  let open = 0;
  for (const appeal of appeals) {
    const li = el("li", `mod-appeal mod-appeal--${appeal.status}`);
    li.dataset.appealId = String(appeal.id);
    li.append(el("p", "mod-item__meta", `${S.appeal} #${appeal.id} · ${seoulTime(appeal.created_at)} · ${appeal.status}`));
    if (appeal.item) li.append(el("p", "mod-item__text", `${appeal.item.author}: ${appeal.item.text}`));
    if (appeal.removal) li.append(el("p", "muted small", `${appeal.removal.reason} ${appeal.removal.reason_text || ""}`));
    li.append(el("p", "mod-appeal__text", appeal.text));
    if (appeal.status === "open") {
      open += 1;
      const actions = el("p", "cluster");
      actions.append(button(S.reinstate, "appeal_decide", undefined, { appealId: appeal.id, outcome: "reinstate" }),
        button(S.uphold, "appeal_decide", undefined, { appealId: appeal.id, outcome: "uphold" }));
      li.append(actions);
    }
    box.append(li);
  }
  $("mod-appeals-count").textContent = String(open);
}

function renderRestrictions(restrictions) {
  const box = $("mod-restrictions");
  box.replaceChildren();
  for (const r of restrictions) {
    const li = el("li", "mod-restriction");
    const until = r.until ? `${seoulTime(r.until)} ${S.until}` : S.forever;
    li.append(el("span", "", `${r.target_name} #${r.target} · ${r.kind} · ${r.scope} · ${until} `));
    li.append(button(S.unban, "unban", undefined, { restrictionId: r.id }));
    box.append(li);
  }
}

function renderWords(words) {
  const box = $("mod-words");
  box.replaceChildren();
  for (const w of words) {
    const li = el("li", "mod-word");
    li.append(el("span", "", w.word), button(S.deleteWord, "word_remove", undefined, { wordId: w.id }));
    box.append(li);
  }
}

function log(entries) {
  const box = $("mod-log");
  for (const e of entries) {
    const text = `${seoulTime(e.created_at)} ${e.actor} · ${e.action}` +
      (e.target_name ? ` · ${e.target_name}` : "") + (e.reason ? ` · ${e.reason}` : "");
    box.prepend(el("li", "", text));
  }
  while (box.children.length > 50) box.lastElementChild.remove();
}

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

async function loadAll() {
  const base = `/api/moderation/broadcasts/${broadcastId}`;
  const [comments, held, appeals, restrictions, words] = await Promise.all([
    getJSON(`${base}/comments?limit=200`), getJSON(`${base}/queue`), getJSON(`${base}/appeals`),
    getJSON(`${base}/restrictions`), getJSON("/api/moderation/words"),
  ]);
  for (const item of comments.items) upsert(item);
  for (const item of held.items) upsert(item);
  renderAppeals(appeals.items);
  renderRestrictions(restrictions.items);
  renderWords(words.items);
  root.dataset.ready = "true";
}

async function reloadSide() {
  const base = `/api/moderation/broadcasts/${broadcastId}`;
  const [appeals, restrictions] = await Promise.all([getJSON(`${base}/appeals`), getJSON(`${base}/restrictions`)]);
  renderAppeals(appeals.items);
  renderRestrictions(restrictions.items);
}

function onModEvent(frame) {
  if (frame.event === "held") upsert(frame.item);
  else if (frame.event === "words") renderWords(frame.words);
  else if (frame.event === "reported") {
    const item = items.get(frame.comment_id);
    if (item) upsert({ ...item, reports: frame.reports });
  } else if (frame.event === "appeal") reloadSide().catch(() => {});
  else if (frame.event === "action") {
    for (const item of frame.items || []) upsert(item);
    if (frame.state) renderState(frame.state);
    log(frame.entries || []);
    if (frame.restriction || frame.lifted || frame.appeal) reloadSide().catch(() => {});
  }
}

function onFrame(frame) {
  switch (frame.type) {
    case "hello":
      attempt = 0;
      $("mod-conn").textContent = S.connected;
      renderState({ slow_mode: frame.slow_mode, closed: frame.closed, pinned: frame.pinned });
      loadAll().catch((err) => announce(`${S.failed}: ${err.message}`));
      break;
    case "comments":
      for (const item of frame.items) upsert({ ...item, status: "visible" });
      break;
    case "deleted":
      setStatus(frame.ids, frame.reason === "reported" ? "held" : "removed");
      break;
    case "state":
      renderState(frame);
      break;
    case "mod":
      onModEvent(frame);
      break;
    case "moderated":
      announce(`${S.done}: ${frame.action}`);
      break;
    case "error":
      announce(`${S.failed}: ${frame.message}`);
      break;
    default:
      break;
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = lastId ? `?after=${lastId}` : "";
  socket = new WebSocket(`${scheme}//${location.host}/ws/broadcasts/${broadcastId}${query}`);
  socket.addEventListener("message", (event) => {
    try {
      onFrame(JSON.parse(event.data));
    } catch (err) {
      announce(String(err));
    }
  });
  socket.addEventListener("close", () => {
    $("mod-conn").textContent = S.reconnecting;
    root.dataset.ready = "false";
    attempt += 1;
    const delay = Math.min(15000, 500 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
    setTimeout(connect, delay);
  });
}

function send(action, fields) {
  if (!socket || socket.readyState !== WebSocket.OPEN) {
    announce(S.reconnecting);
    return false;
  }
  sequence += 1;
  socket.send(JSON.stringify({ type: "moderate", action, request_id: `r${sequence}`, ...fields }));
  return true;
}

function reasonFields() {
  const reason = $("mod-reason").value;
  const text = $("mod-reason-text").value.trim();
  if (reason === "other" && !text) {
    announce(S.needText);
    $("mod-reason-text").focus();
    return null;
  }
  return { reason, reason_text: text };
}

function act(action, data) {
  const id = data.id ? Number(data.id) : undefined;
  const needsReason = ["remove", "remove_user", "timeout", "ban", "reject"].includes(action);
  const reason = needsReason ? reasonFields() : {};
  if (reason === null) return;
  const fields = { ...reason };
  if (id !== undefined) fields.comment_id = id;
  if (action === "timeout") fields.minutes = Number($("mod-minutes").value);
  if (action === "ban") fields.scope = $("mod-scope").value;
  if (action === "unban") fields.restriction_id = Number(data.restrictionId);
  if (action === "word_remove") fields.word_id = Number(data.wordId);
  if (action === "appeal_decide") {
    fields.appeal_id = Number(data.appealId);
    fields.outcome = data.outcome;
  }
  send(action, fields);
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-action]");
  if (!target || !root.contains(target)) return;
  act(target.dataset.action, target.dataset);
});

const KEYS = { r: "remove", Delete: "remove", u: "restore", a: "approve", x: "reject",
  t: "timeout", b: "ban", p: "pin", d: "remove_user" };

function focusable(container) {
  return [...container.querySelectorAll(":scope > li")];
}

function onListKey(event) {
  const container = event.currentTarget;
  if (event.target.closest("button, input, select")) return;
  const rows = focusable(container);
  const current = event.target.closest("li");
  const index = rows.indexOf(current);
  let next = null;
  if (event.key === "j" || event.key === "ArrowDown") next = rows[Math.min(rows.length - 1, index + 1)];
  else if (event.key === "k" || event.key === "ArrowUp") next = rows[Math.max(0, index - 1)];
  else if (event.key === "Home") next = rows[0];
  else if (event.key === "End") next = rows[rows.length - 1];
  else if (KEYS[event.key] && current) {
    event.preventDefault();
    act(KEYS[event.key], { id: current.dataset.id });
    return;
  }
  if (next) {
    event.preventDefault();
    for (const row of rows) row.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }
}

for (const container of [list, queue]) {
  container.tabIndex = 0;
  container.addEventListener("keydown", onListKey);
  container.addEventListener("focus", () => {
    const rows = focusable(container);
    if (rows.length) {
      rows[rows.length - 1].tabIndex = 0;
      rows[rows.length - 1].focus();
    }
  });
}

$("mod-slow-apply").addEventListener("click", () => send("slow_mode", { seconds: Number($("mod-slow").value) }));
$("mod-chat-toggle").addEventListener("click", () => send("chat", { closed: !chatClosed }));
$("mod-unpin").addEventListener("click", () => send("unpin", {}));
$("mod-word-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("mod-word");
  if (input.value.trim() && send("word_add", { word: input.value.trim() })) input.value = "";
});

root.dataset.csrfReady = csrf ? "true" : "false";
connect();

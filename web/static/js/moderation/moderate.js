// The moderator console: every comment of a broadcast live (held ones too), newest at the
// bottom and followed like a mod view (scrolling up pauses; "새 댓글 N개 ↓" resumes).
// Actions go over the WebSocket (`moderate` messages). Everything works from the keyboard
// (press ? for the list): j/k move, Space selects, r removes the selection, d removes all by
// a user, t/b restrict, z undoes. Bans and "remove all" are confirmed; removals, timeouts
// and bans can be undone. User text goes in textContent only. The socket, its backoff and
// resume are common/socket.js's, the same as the live page's.

import { getJSON } from "../common/api.js";
import { fill, pageLocale, seoulClock } from "../common/i18n.js";
import { Connection } from "../common/socket.js";

const root = document.getElementById("console");
const S = document.getElementById("mod-strings").dataset;
const L = JSON.parse(root.dataset.labels || "{}");
const broadcastId = Number(root.dataset.broadcastId);
const $ = (id) => document.getElementById(id);
const list = $("mod-list");
const queue = $("mod-queue");
const newButton = $("mod-new");
const items = new Map(); // id -> item (with status)
const selected = new Set();
const pending = new Map(); // request_id -> callback(result)
let connection = null;
let lastId = 0;
let sequence = 0;
let chatClosed = false;
let following = true;
let unseen = 0;
let undoable = null; // { text, run }
let filterText = "";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function word(table, code) {
  return (L[table] && L[table][code]) || code || "";
}

function seoulTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(pageLocale(), {
    timeZone: "Asia/Seoul", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hour12: false,
  });
}

function clock(iso) {
  return seoulClock(iso, { seconds: true });
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

// -- following the newest ----------------------------------------------------------------
function atBottom() {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 24;
}

function toBottom() {
  list.scrollTop = list.scrollHeight;
  following = true;
  unseen = 0;
  renderFollow();
}

function renderFollow() {
  newButton.hidden = following;
  newButton.textContent = unseen ? fill(S.newComments, { n: unseen }) : S.latest;
  root.dataset.following = String(following);
  root.dataset.unseen = String(unseen);
}

list.addEventListener("scroll", () => {
  const bottom = atBottom();
  if (bottom !== following || (bottom && unseen)) {
    following = bottom;
    if (bottom) unseen = 0;
    renderFollow();
  }
});
newButton.addEventListener("click", () => {
  toBottom();
  const rows = visibleRows(list);
  if (rows.length) focusRow(rows[rows.length - 1]);
});

// -- rows ------------------------------------------------------------------------------
function renderItem(item) {
  const li = el("li", `mod-item mod-item--${item.status}`);
  li.id = `m-${item.id}`;
  li.dataset.id = String(item.id);
  li.dataset.status = item.status;
  li.dataset.author = item.author_ref || "";
  li.tabIndex = -1;
  if (selected.has(item.id)) li.classList.add("is-selected");
  const check = el("input", "mod-item__check");
  check.type = "checkbox";
  check.tabIndex = -1;
  check.checked = selected.has(item.id);
  check.setAttribute("aria-label", `${S.select}: ${item.author}`);
  check.dataset.select = String(item.id);
  const body = el("div", "mod-item__body");
  const meta = el("p", "mod-item__meta");
  meta.append(el("span", "mod-item__author", item.author));
  if (item.role && item.role !== "viewer") meta.append(el("span", "badge", word("roles", item.role)));
  meta.append(el("time", "mod-item__time", clock(item.created_at)));
  if (item.status !== "visible") {
    meta.append(el("span", `badge mod-item__status mod-item__status--${item.status}`, word("statuses", item.status)));
  }
  if (item.reports) meta.append(el("span", "badge badge--warn", `${S.reports} ${item.reports}`));
  if (item.matched) meta.append(el("span", "badge badge--warn", `${S.matched}: ${item.matched}`));
  body.append(meta, el("p", "mod-item__text", item.text));
  const actions = el("div", "mod-item__actions");
  if (item.status === "held") {
    actions.append(button(S.approve, "approve", item.id, { key: "a" }), button(S.reject, "reject", item.id, { key: "x" }));
  } else if (item.status === "removed") {
    actions.append(button(S.restore, "restore", item.id, { key: "u" }));
  } else {
    actions.append(button(S.remove, "remove", item.id, { key: "r" }), button(S.pin, "pin", item.id, { key: "p" }));
  }
  if (item.role === "viewer") {
    actions.append(button(S.removeUser, "remove_user", item.id, { key: "d" }),
      button(S.timeout, "timeout", item.id, { key: "t" }), button(S.ban, "ban", item.id, { key: "b" }));
  }
  for (const b of actions.querySelectorAll("button")) {
    b.tabIndex = -1; // one tab stop per list: the row; the keys (and the mouse) reach these
    b.title = `${b.textContent} (${b.dataset.key})`;
    b.setAttribute("aria-keyshortcuts", b.dataset.key);
  }
  li.append(check, body, actions);
  li.hidden = !matchesFilter(item);
  return li;
}

function placeInOrder(container, li) {
  const id = Number(li.dataset.id);
  const existing = container.querySelector(`:scope > [data-id="${id}"]`);
  if (existing) {
    const hadFocus = existing.contains(document.activeElement);
    li.tabIndex = existing.tabIndex;
    existing.replaceWith(li);
    if (hadFocus) li.focus({ preventScroll: true });
    return false;
  }
  let child = container.lastElementChild;
  if (!child || Number(child.dataset.id) < id) {
    container.append(li);
    return true;
  }
  while (child && Number(child.dataset.id) > id) child = child.previousElementSibling;
  if (child) child.after(li);
  else container.prepend(li);
  return true;
}

function upsert(item) {
  const merged = { ...(items.get(item.id) || {}), ...item };
  items.set(item.id, merged);
  const stick = following && atBottom();
  const added = placeInOrder(list, renderItem(merged));
  if (added && !list.lastElementChild.hidden) {
    if (stick) list.scrollTop = list.scrollHeight;
    else if (Number(list.lastElementChild.dataset.id) === item.id) {
      unseen += 1;
      renderFollow();
    }
  }
  const queued = queue.querySelector(`[data-id="${item.id}"]`);
  if (merged.status === "held") {
    const li = renderItem(merged);
    li.id = `q-${item.id}`;
    placeInOrder(queue, li);
  } else if (queued) {
    queued.remove();
  }
  $("mod-queue-count").textContent = String(queue.children.length);
  if (item.id > lastId && merged.status !== "held") {
    lastId = Math.max(lastId, item.id);
    if (connection) connection.lastId = lastId; // a reconnect resumes after it
  }
}

function setStatus(ids, status) {
  for (const id of ids) {
    const item = items.get(id);
    if (item) upsert({ ...item, status });
  }
}

// -- selection -----------------------------------------------------------------------
function renderSelection() {
  for (const li of list.querySelectorAll(":scope > li")) {
    const on = selected.has(Number(li.dataset.id));
    li.classList.toggle("is-selected", on);
    li.querySelector(".mod-item__check").checked = on;
  }
  $("mod-selection").hidden = selected.size === 0;
  $("mod-selection-count").textContent = fill(S.selected, { n: selected.size });
  root.dataset.selected = String(selected.size);
}

function toggleSelect(id, on) {
  if (on ?? !selected.has(id)) selected.add(id);
  else selected.delete(id);
  renderSelection();
}

function clearSelection() {
  selected.clear();
  renderSelection();
}

// -- filter (/) ------------------------------------------------------------------------
function matchesFilter(item) {
  if (!filterText) return true;
  const needle = filterText.toLocaleLowerCase();
  return String(item.text).toLocaleLowerCase().includes(needle)
    || String(item.author).toLocaleLowerCase().includes(needle);
}

function applyFilter() {
  filterText = $("mod-filter").value.trim();
  for (const li of list.querySelectorAll(":scope > li")) {
    li.hidden = !matchesFilter(items.get(Number(li.dataset.id)) || {});
  }
  if (following) list.scrollTop = list.scrollHeight;
}

$("mod-filter").addEventListener("input", applyFilter);
$("mod-filter").addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === "ArrowDown" || event.key === "Escape") {
    event.preventDefault();
    if (event.key === "Escape") {
      $("mod-filter").value = "";
      applyFilter();
    }
    const rows = visibleRows(list);
    if (rows.length) focusRow(rows[rows.length - 1]);
    else list.focus();
  }
});

// -- side panels -----------------------------------------------------------------------
function renderState(state) {
  chatClosed = Boolean(state.closed);
  const parts = [];
  if (state.slow_mode) parts.push(`${S.slow}: ${fill(S.seconds, { n: state.slow_mode })}`);
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
  toolsSummary();
}

function renderAppeals(appeals) {
  const box = $("mod-appeals");
  box.replaceChildren();
  let open = 0;
  for (const appeal of appeals) {
    const li = el("li", `mod-appeal mod-appeal--${appeal.status}`);
    li.dataset.appealId = String(appeal.id);
    li.append(el("p", "mod-item__meta", `${S.appeal} · ${seoulTime(appeal.created_at)} · ${word("appeals", appeal.status)}`));
    if (appeal.item) li.append(el("p", "mod-item__text", `${appeal.item.author}: ${appeal.item.text}`));
    if (appeal.removal) {
      li.append(el("p", "muted small", [word("reasons", appeal.removal.reason), appeal.removal.reason_text].filter(Boolean).join(" — ")));
    }
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
    li.append(el("span", "", `${r.target_name} · ${word("kinds", r.kind)} · ${word("scopes", r.scope)} · ${until} `));
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

function describe(e) {
  const detail = e.detail || {};
  if (e.action === "word_add") return fill(S.wordAdded, { word: detail.word || "" });
  if (e.action === "word_remove") return fill(S.wordRemoved, { word: detail.word || "" });
  const parts = [word("actions", e.action)];
  if (e.target_name) parts.push(e.target_name);
  if (e.action === "timeout" && detail.minutes) parts.push(fill(S.minutes, { n: detail.minutes }));
  if (e.reason) parts.push(word("reasons", e.reason));
  return parts.join(" · ");
}

function log(entries, atEnd = false) {
  const box = $("mod-log");
  for (const e of entries) {
    const li = el("li", "");
    li.dataset.auditId = String(e.id);
    if (box.querySelector(`[data-audit-id="${e.id}"]`)) continue;
    li.append(el("time", "mod-log__time", clock(e.created_at)), " ",
      el("span", "mod-log__actor", e.actor), " ", el("span", "", describe(e)));
    if (atEnd) box.append(li);
    else box.prepend(li);
  }
  while (box.children.length > 50) box.lastElementChild.remove();
}

function toolsSummary() {
  const reason = $("mod-reason");
  const minutes = $("mod-minutes");
  const scope = $("mod-scope");
  $("mod-tools-summary").textContent = [reason.options[reason.selectedIndex]?.text,
    minutes.options[minutes.selectedIndex]?.text, scope.options[scope.selectedIndex]?.text].join(" · ");
}
for (const id of ["mod-reason", "mod-minutes", "mod-scope"]) $(id).addEventListener("change", toolsSummary);

// -- loading -------------------------------------------------------------------------
async function loadAll() {
  const base = `/api/moderation/broadcasts/${broadcastId}`;
  // Recent actions: this broadcast's, and blocked-word changes (they belong to no broadcast).
  const [comments, held, appeals, restrictions, words, audit, added, dropped] = await Promise.all([
    getJSON(`${base}/comments?limit=200`), getJSON(`${base}/queue`), getJSON(`${base}/appeals`),
    getJSON(`${base}/restrictions`), getJSON("/api/moderation/words"),
    getJSON(`/api/moderation/audit?broadcast_id=${broadcastId}&limit=30`),
    getJSON("/api/moderation/audit?action=word_add&limit=10"),
    getJSON("/api/moderation/audit?action=word_remove&limit=10"),
  ]);
  for (const item of [...comments.items].sort((a, b) => a.id - b.id)) upsert(item);
  for (const item of held.items) upsert(item);
  renderAppeals(appeals.items);
  renderRestrictions(restrictions.items);
  renderWords(words.items);
  const recent = [...audit.items, ...added.items, ...dropped.items].sort((a, b) => b.id - a.id);
  log(recent.slice(0, 30), true);
  toBottom();
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
    case "moderated": {
      announce(`${S.done}: ${word("actions", frame.action)}`);
      const callback = pending.get(frame.request_id);
      pending.delete(frame.request_id);
      if (callback) callback(frame.result || {});
      break;
    }
    case "error":
      pending.delete(frame.request_id);
      announce(`${S.failed}: ${frame.message}`);
      break;
    default:
      break;
  }
}

function connect() {
  connection = new Connection(`/ws/broadcasts/${broadcastId}`, {
    lastId,
    onFrame: (frame) => {
      try {
        onFrame(frame);
      } catch (err) {
        announce(String(err));
      }
    },
    onState: (state) => {
      if (state === "reconnecting" || state === "busy" || state === "stopped") {
        $("mod-conn").textContent = S.reconnecting;
        root.dataset.ready = "false";
      }
    },
  });
  connection.connect();
}

function send(action, fields, onDone) {
  sequence += 1;
  const requestId = `r${sequence}`;
  if (!connection || !connection.send({ type: "moderate", action, request_id: requestId, ...fields })) {
    announce(S.reconnecting);
    return false;
  }
  if (onDone) pending.set(requestId, onDone);
  return true;
}

// -- undo ------------------------------------------------------------------------------
function offerUndo(text, run) {
  undoable = { text, run };
  $("mod-undo-text").textContent = text;
  $("mod-undo").hidden = false;
}

function undo() {
  if (!undoable) return;
  const { run } = undoable;
  undoable = null;
  $("mod-undo").hidden = true;
  run();
  announce(S.undone);
}
$("mod-undo-button").addEventListener("click", undo);

function restoreAll(ids) {
  for (const id of ids) send("restore", { comment_id: id });
}

// -- confirmation ------------------------------------------------------------------------
for (const id of ["mod-confirm-ok", "mod-confirm-cancel"]) {
  $(id).addEventListener("click", (event) => $("mod-confirm").close(event.currentTarget.value));
}
function confirmAction(title, text, okLabel) {
  const dialog = $("mod-confirm");
  $("mod-confirm-title").textContent = title;
  $("mod-confirm-text").textContent = text;
  $("mod-confirm-ok").textContent = okLabel;
  const back = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      if (back && back.focus) back.focus({ preventScroll: true });
    }, { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
    $("mod-confirm-ok").focus();
  });
}

// -- actions -----------------------------------------------------------------------------
function reasonFields() {
  const reason = $("mod-reason").value;
  const text = $("mod-reason-text").value.trim();
  if (reason === "other" && !text) {
    announce(S.needText);
    $("mod-tools").open = true;
    $("mod-reason-text").focus();
    return null;
  }
  return { reason, reason_text: text };
}

async function act(action, data) {
  const id = data.id ? Number(data.id) : undefined;
  const needsReason = ["remove", "remove_user", "timeout", "ban", "reject"].includes(action);
  const reason = needsReason ? reasonFields() : {};
  if (reason === null) return;
  const fields = { ...reason };
  if (id !== undefined) fields.comment_id = id;
  const item = id !== undefined ? items.get(id) : null;
  if (action === "remove") {
    send("remove", fields, (result) => {
      const ids = result.removed || [id];
      offerUndo(fill(S.removedN, { n: ids.length }), () => restoreAll(ids));
    });
    return;
  }
  if (action === "remove_user") {
    const count = [...items.values()].filter((c) => item && c.author_ref === item.author_ref && c.status !== "removed").length;
    const ok = await confirmAction(fill(S.confirmRemoveUser, { name: item ? item.author : "" }),
      fill(S.confirmRemoveUserText, { n: count }), S.removeUser);
    if (!ok) return;
    send("remove_user", fields, (result) => {
      const ids = result.removed || [];
      offerUndo(fill(S.removedN, { n: ids.length }), () => restoreAll(ids));
    });
    return;
  }
  if (action === "timeout" || action === "ban") {
    if (action === "timeout") fields.minutes = Number($("mod-minutes").value);
    if (action === "ban") {
      fields.scope = $("mod-scope").value;
      const scope = $("mod-scope").options[$("mod-scope").selectedIndex].text;
      const ok = await confirmAction(fill(S.confirmBan, { name: item ? item.author : "" }),
        fill(S.confirmBanText, { scope }), S.ban);
      if (!ok) return;
    }
    send(action, fields, (result) => {
      const restriction = result.restriction || {};
      offerUndo(fill(S.restricted, { name: item ? item.author : "", kind: word("kinds", action) }),
        () => send("unban", { restriction_id: restriction.id }));
    });
    return;
  }
  if (action === "unban") fields.restriction_id = Number(data.restrictionId);
  if (action === "word_remove") fields.word_id = Number(data.wordId);
  if (action === "appeal_decide") {
    fields.appeal_id = Number(data.appealId);
    fields.outcome = data.outcome;
  }
  send(action, fields);
}

function removeSelection() {
  const reason = reasonFields();
  if (reason === null) return;
  const ids = [...selected].filter((id) => items.get(id)?.status === "visible" || items.get(id)?.status === "held");
  const done = [];
  for (const id of ids) {
    send("remove", { ...reason, comment_id: id }, (result) => {
      done.push(...(result.removed || [id]));
      if (done.length === ids.length) offerUndo(fill(S.removedN, { n: done.length }), () => restoreAll(done));
    });
  }
  clearSelection();
}

document.addEventListener("click", (event) => {
  const check = event.target.closest("input[data-select]");
  if (check && root.contains(check)) {
    toggleSelect(Number(check.dataset.select), check.checked);
    return;
  }
  const target = event.target.closest("button[data-action]");
  if (!target || !root.contains(target)) return;
  act(target.dataset.action, target.dataset);
});
$("mod-remove-selected").addEventListener("click", removeSelection);
$("mod-clear-selection").addEventListener("click", clearSelection);

// -- keyboard ----------------------------------------------------------------------------
const KEYS = { r: "remove", Delete: "remove", u: "restore", a: "approve", x: "reject",
  t: "timeout", b: "ban", p: "pin", d: "remove_user" };

function visibleRows(container) {
  return [...container.querySelectorAll(":scope > li:not([hidden])")];
}

function focusRow(row) {
  for (const other of row.parentElement.querySelectorAll(":scope > li[tabindex='0']")) other.tabIndex = -1;
  row.tabIndex = 0;
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
}

function toggleKeys(show) {
  const box = $("mod-keys");
  box.hidden = show === undefined ? !box.hidden : !show;
  $("mod-keys-toggle").setAttribute("aria-expanded", String(!box.hidden));
}
$("mod-keys-toggle").addEventListener("click", () => toggleKeys());

function onListKey(event) {
  const container = event.currentTarget;
  if (event.target.closest("button, input, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  const rows = visibleRows(container);
  const current = event.target.closest("li");
  const index = rows.indexOf(current);
  const key = event.key;
  let next = null;
  if (key === "j" || key === "J" || key === "ArrowDown") next = rows[Math.min(rows.length - 1, index + 1)];
  else if (key === "k" || key === "K" || key === "ArrowUp") next = rows[Math.max(0, index - 1)];
  else if (key === "Home") next = rows[0];
  else if (key === "End") {
    next = rows[rows.length - 1];
    if (container === list) toBottom();
  } else if (key === " " && current && container === list) {
    event.preventDefault();
    toggleSelect(Number(current.dataset.id));
    return;
  } else if (key === "*" && container === list) {
    event.preventDefault();
    for (const row of rows) selected.add(Number(row.dataset.id));
    renderSelection();
    return;
  } else if (key === "Escape" && selected.size) {
    event.preventDefault();
    clearSelection();
    return;
  } else if ((key === "r" || key === "Delete") && selected.size && container === list) {
    event.preventDefault();
    removeSelection();
    return;
  } else if ((key === "r" || key === "Delete") && current) {
    event.preventDefault();
    act("remove", { id: current.dataset.id });
    const after = rows[index + 1];
    if (after) focusRow(after);
    return;
  } else if (KEYS[key] && current) {
    event.preventDefault();
    act(KEYS[key], { id: current.dataset.id });
    return;
  }
  if (next) {
    event.preventDefault();
    if (event.shiftKey && current && container === list) {
      selected.add(Number(current.dataset.id));
      selected.add(Number(next.dataset.id));
      renderSelection();
    }
    focusRow(next);
  }
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "?") {
    event.preventDefault();
    toggleKeys();
  } else if (event.key === "/") {
    event.preventDefault();
    $("mod-filter").focus();
  } else if (event.key === "z" && undoable) {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape" && !$("mod-keys").hidden) {
    toggleKeys(false);
  }
});

for (const container of [list, queue]) {
  container.tabIndex = 0;
  container.addEventListener("keydown", onListKey);
  container.addEventListener("focus", () => {
    const rows = visibleRows(container);
    if (rows.length) focusRow(rows[rows.length - 1]);
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

// Phones: the stream first, the settings folded; wide screens: settings open beside it.
if (window.matchMedia("(min-width: 60rem)").matches) $("mod-tools").open = true;
toolsSummary();
renderFollow();
root.dataset.csrfReady = root.dataset.csrf ? "true" : "false";
connect();

// Home and schedule pages. Home: polls /api/now (every data-poll seconds) and updates
// "on now" in place. Schedule: moves the "now" marker as time passes, jumps to it on
// today's page, and lets arrow keys move along the week bar and the slot list.
// Everything shown comes from JSON as text (textContent), never as HTML.

const SEOUL = "Asia/Seoul";

function clock(iso, locale) {
  return new Intl.DateTimeFormat(locale || "ko", {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: SEOUL,
  }).format(new Date(iso));
}

function setTime(element, start, end, locale) {
  const a = document.createElement("time");
  a.dateTime = start;
  a.textContent = clock(start, locale);
  const b = document.createElement("time");
  b.dateTime = end;
  b.textContent = clock(end, locale);
  element.replaceChildren(a, "–", b);
}

function home(root) {
  const part = (name) => root.querySelector(`[data-now="${name}"]`);
  const label = (slot) => {
    if (slot.kind === "live") {
      return slot.status === "live" ? root.dataset.labelOnair : root.dataset.labelLive;
    }
    return slot.kind === "replay" ? root.dataset.labelReplay : root.dataset.labelCard;
  };
  const title = (slot) => (slot.kind === "card" ? root.dataset.cardTitle : slot.title);

  function render(state) {
    const slot = state.on_now;
    if (!slot) return;
    const badge = part("badge");
    if (badge) {
      badge.textContent = label(slot);
      badge.className = "badge " + (slot.kind === "live" && slot.status === "live"
        ? "badge--live" : "badge--muted");
    }
    const time = part("time");
    if (time) setTime(time, slot.start, slot.end, root.dataset.locale);
    const heading = part("title");
    if (heading) heading.textContent = title(slot);
    const description = part("description");
    if (description && slot.kind !== "live") description.hidden = true;
    const watch = part("watch");
    if (watch && slot.watch_url) watch.href = slot.watch_url;
    const next = state.next;
    const nextTitle = part("next-title");
    if (next && nextTitle) {
      nextTitle.textContent = title(next);
      const when = nextTitle.previousElementSibling;
      if (when && when.tagName === "TIME") {
        when.dateTime = next.start;
        when.textContent = clock(next.start, root.dataset.locale);
      }
    }
    root.dataset.nowKey = `${slot.kind}:${slot.broadcast_id}:${slot.replay_id}:${slot.start}`;
  }

  async function poll() {
    try {
      const response = await fetch(root.dataset.nowUrl, { headers: { Accept: "application/json" } });
      if (response.ok) render(await response.json());
    } catch {
      /* offline for a moment: the next poll tries again */
    }
  }

  const seconds = Math.max(5, Number(root.dataset.poll) || 30);
  setInterval(poll, seconds * 1000);
  onChannelChange(poll);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") poll();
  });
}

// WS /ws/channel says when an operator's edit or a live changed the channel; the page then
// re-reads what it shows. Reconnects with growing, jittered waits (the 30-s poll covers
// the gaps).
function onChannelChange(callback) {
  let wait = 2000;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws/channel`);
    socket.addEventListener("open", () => { wait = 2000; });
    socket.addEventListener("message", (event) => {
      let frame = {};
      try { frame = JSON.parse(event.data); } catch { /* not ours: ignore */ }
      if (frame.type !== "channel") return;
      document.body.dataset.channelFeed = "open"; // listening (tests wait for this)
      if (frame.changed) callback();
    });
    socket.addEventListener("close", () => {
      document.body.dataset.channelFeed = "closed";
      setTimeout(open, wait / 2 + Math.random() * wait);
      wait = Math.min(wait * 2, 60_000);
    });
  };
  open();
}

function arrowKeys(container, selector, keys) {
  container.addEventListener("keydown", (event) => {
    const step = keys[event.key];
    if (step === undefined) return;
    const items = Array.from(container.querySelectorAll(selector));
    const index = items.indexOf(document.activeElement);
    if (index < 0) return;
    let target = index;
    if (step === "first") target = 0;
    else if (step === "last") target = items.length - 1;
    else target = Math.min(items.length - 1, Math.max(0, index + step));
    event.preventDefault();
    items[target].focus();
  });
}

function schedule(root) {
  const week = document.getElementById("day-week");
  if (week) {
    arrowKeys(week, "a", { ArrowLeft: -1, ArrowRight: 1, Home: "first", End: "last" });
  }
  const list = document.getElementById("slots");
  if (list) {
    arrowKeys(list, ".slot__title a", { ArrowUp: -1, ArrowDown: 1 });
    // The day changed (a live added, moved, ended): the same page's slots, read again.
    onChannelChange(async () => {
      try {
        const response = await fetch(location.href, { headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const slots = fresh.getElementById("slots");
        if (slots) list.replaceChildren(...[...slots.children].map((n) => document.adoptNode(n)));
        if (root.dataset.today === "true") mark();
      } catch {
        /* offline for a moment: the next change or a reload brings it */
      }
    });
  }
  if (root.dataset.today !== "true" || !list) return;

  function mark() {
    if (!list) return;
    const now = Date.now();
    for (const item of list.querySelectorAll(".slot")) {
      const on = Date.parse(item.dataset.start) <= now && now < Date.parse(item.dataset.end);
      item.classList.toggle("is-now", on);
      const badge = item.querySelector("[data-now-label]");
      if (badge) badge.hidden = !on;
      if (on) {
        item.setAttribute("aria-current", "time");
        item.id = "slot-now";
      } else if (item.id === "slot-now") {
        item.removeAttribute("aria-current");
        item.removeAttribute("id");
      }
    }
  }
  mark();
  setInterval(mark, 30_000);
  const current = document.getElementById("slot-now");
  if (current && !window.location.hash) {
    current.scrollIntoView({ block: "center" });
  }
}

const homeRoot = document.getElementById("home");
if (homeRoot) home(homeRoot);
const scheduleRoot = document.getElementById("schedule");
if (scheduleRoot) schedule(scheduleRoot);

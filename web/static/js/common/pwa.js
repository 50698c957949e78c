// The installable app, on every page (base.html includes this module once; its <script>
// tag carries the translated messages, the VAPID key and pwa.css as data attributes).
//
// - Registers the service worker (/sw.js, scope /).
// - Updates: a new worker waits. The first page that sees it waiting only says so ("ready,
//   applied next time"); a *later* page load tells it to take over — except on live and
//   embed pages, so a broadcast is never switched mid-way.
// - Offline: when the worker served this page from its cache (it posts "offline"), or the
//   browser says it is offline, a notice says what is shown; it goes away when back online.
// - Reminders ("알림 받기"): buttons with data-remind="broadcast" data-target="<id>", and the
//   question panel's follow buttons. With push available and allowed, a click subscribes
//   this browser (the permission prompt is the citizen's explicit yes) and stores one
//   reminder; a second click cancels it. Without push, the buttons stay hidden and the
//   .ics link beside them is the reminder.
// Every message goes through polite live regions, as text.

const script = document.querySelector("script[data-pwa]");
const say = (key) => (script ? script.dataset[key] || "" : "");
const main = document.querySelector("main") || document.body;
const onAir = /^\/(live|embed)\//.test(window.location.pathname);
const SEEN_KEY = "live-seoul.sw-waiting-seen";

// The browser bar follows the colour scheme (site.css's header --surface, light and dark).
// One <meta> switched here: `media` on theme-color is newer than our HTML validator.
function followColourScheme() {
  const meta = document.querySelector('meta[name="theme-color"][data-dark]');
  if (!meta || !window.matchMedia) return;
  const light = meta.content;
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const apply = () => { meta.content = dark.matches ? meta.dataset.dark : light; };
  apply();
  dark.addEventListener("change", apply);
}

function loadStyles() {
  if (!script || !script.dataset.css) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = script.dataset.css;
  document.head.append(link);
}

// ---- notices -----------------------------------------------------------------------

let region = null;

function notices() {
  if (!region) {
    region = document.createElement("div");
    region.className = "pwa-notices";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    main.prepend(region);
  }
  return region;
}

function showNotice(name, text, kind) {
  let node = notices().querySelector(`[data-pwa-notice="${name}"]`);
  if (!node) {
    node = document.createElement("p");
    node.dataset.pwaNotice = name;
    node.className = `notice pwa-notice${kind ? ` notice--${kind}` : ""}`;
    notices().append(node);
  }
  node.textContent = text;
  return node;
}

function hideNotice(name) {
  const node = region && region.querySelector(`[data-pwa-notice="${name}"]`);
  if (node) node.remove();
}

let toastTimer = 0;

function toast(text) {
  let node = document.querySelector(".pwa-toast");
  if (!node) {
    node = document.createElement("p");
    node.className = "pwa-toast";
    node.setAttribute("role", "status");
    node.setAttribute("aria-live", "polite");
    document.body.append(node);
  }
  node.textContent = "";
  node.hidden = false;
  window.setTimeout(() => { node.textContent = text; }, 50);
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => { node.hidden = true; }, 6000);
}

function clock(httpDate) {
  const when = httpDate ? new Date(httpDate) : null;
  if (!when || Number.isNaN(when.getTime())) return "";
  return new Intl.DateTimeFormat(document.documentElement.lang || "ko", {
    month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: "Asia/Seoul",
  }).format(when);
}

function showOffline(savedAt) {
  // The offline page says it in its heading already.
  if (document.getElementById("offline-title")) return;
  const saved = clock(savedAt);
  const text = saved ? `${say("msgOffline")} ${say("msgSaved").replace("{time}", saved)}`
    : say("msgOffline");
  showNotice("offline", text, "warn").classList.add("pwa-notice--sticky");
  document.documentElement.dataset.offline = "true";
}

function watchConnection() {
  if (navigator.onLine === false) showOffline(null);
  window.addEventListener("offline", () => showOffline(null));
  window.addEventListener("online", () => {
    hideNotice("offline");
    delete document.documentElement.dataset.offline;
  });
}

// ---- the service worker and its updates -------------------------------------------------

// Which page load first saw the waiting worker. Another load (a later visit, a reload)
// that still finds a worker waiting tells it to take over.
const LOAD_ID = `${Date.now()}-${Math.random()}`;

function firstSeenHere() {
  try {
    const first = window.localStorage.getItem(SEEN_KEY);
    if (first && first !== LOAD_ID) return false;
    window.localStorage.setItem(SEEN_KEY, LOAD_ID);
  } catch { /* storage off: updates then wait until every tab is closed */ }
  return true;
}

// Returns whether it asked the worker to take over.
function handleWaiting(worker) {
  if (!firstSeenHere() && !onAir) {
    worker.postMessage({ type: "take-over" });
    return true;
  }
  showNotice("update", say("msgUpdate"));
  return false;
}

function listenToWorker() {
  // Attached before anything is awaited: the worker's "offline" message for this page may
  // be delivered as soon as the document is parsed.
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "offline") showOffline(event.data.savedAt);
  });
}

async function register() {
  if (!("serviceWorker" in navigator)) return null;
  let registration;
  try {
    registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  } catch {
    return null; // e.g. an insecure origin: the site works as before
  }
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    try { window.localStorage.removeItem(SEEN_KEY); } catch { /* nothing kept */ }
  });
  let takingOver = false;
  if (registration.waiting && navigator.serviceWorker.controller) {
    takingOver = handleWaiting(registration.waiting);
  } else {
    try { window.localStorage.removeItem(SEEN_KEY); } catch { /* nothing kept */ }
  }
  registration.addEventListener("updatefound", () => {
    const incoming = registration.installing;
    if (!incoming) return;
    incoming.addEventListener("statechange", () => {
      // Only an update is news: the very first worker simply starts working.
      if (incoming.state === "installed" && navigator.serviceWorker.controller) {
        handleWaiting(incoming);
      }
    });
  });
  // Not from the outgoing worker: any event it handles holds back the new one, which
  // refreshed the schedule when it installed.
  if (!takingOver && navigator.onLine !== false && navigator.serviceWorker.controller
      && /^\/schedule/.test(window.location.pathname)) {
    navigator.serviceWorker.controller.postMessage({ type: "refresh-schedule" });
  }
  return registration;
}

// ---- reminders (Web Push) -----------------------------------------------------------

const vapidKey = script ? script.dataset.vapidKey : "";
const pushable = Boolean(vapidKey) && "serviceWorker" in navigator && "PushManager" in window
  && "Notification" in window;
const active = new Set(); // "kind:target" this browser is reminded of

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/")
    + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function subscription(ask) {
  const registration = await navigator.serviceWorker.ready;
  const existing = await registration.pushManager.getSubscription();
  if (existing || !ask) return existing;
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return null;
  return registration.pushManager.subscribe({
    userVisibleOnly: true, applicationServerKey: keyBytes(vapidKey),
  });
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function paint() {
  for (const button of document.querySelectorAll("[data-remind]")) {
    const on = active.has(`${button.dataset.remind}:${button.dataset.target}`);
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? button.dataset.labelOn : button.dataset.labelOff;
  }
}

async function remind(kind, target) {
  const key = `${kind}:${target}`;
  try {
    const sub = await subscription(true);
    if (!sub) {
      toast(say("msgDenied"));
      if (Notification.permission === "denied") document.documentElement.dataset.push = "off";
      return;
    }
    await post("/api/push/reminders", { subscription: sub.toJSON(), kind, target });
    active.add(key);
    toast(kind === "broadcast" ? say("msgRemindLive") : say("msgRemindAnswer"));
  } catch {
    toast(say("msgFailed"));
  }
  paint();
}

async function cancel(kind, target) {
  try {
    const sub = await subscription(false);
    if (sub) await post("/api/push/reminders/cancel", { endpoint: sub.endpoint, kind, target });
    active.delete(`${kind}:${target}`);
    toast(say("msgRemindOff"));
  } catch {
    toast(say("msgFailed"));
  }
  paint();
}

async function loadReminders() {
  const sub = await subscription(false);
  if (!sub) return;
  const response = await fetch(`/api/push/reminders?endpoint=${encodeURIComponent(sub.endpoint)}`,
    { credentials: "same-origin" });
  if (!response.ok) return;
  for (const item of (await response.json()).reminders) active.add(`${item.kind}:${item.target}`);
  paint();
}

function setUpReminders() {
  if (!pushable || Notification.permission === "denied") return;
  document.documentElement.dataset.push = "on";
  for (const button of document.querySelectorAll("[data-remind]")) button.hidden = false;
  paint();
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-remind]");
    if (button) {
      const { remind: kind, target } = button.dataset;
      if (active.has(`${kind}:${target}`)) cancel(kind, Number(target));
      else remind(kind, Number(target));
      return;
    }
    // The question panel's "알림 받기" (follow): questions.js follows in the app; this adds
    // the phone notification. The pressed state is still the one before this click.
    const follow = event.target.closest('[data-action="follow"]');
    const item = follow && follow.closest("[data-id]");
    if (!item) return;
    const id = Number(item.dataset.id);
    if (follow.getAttribute("aria-pressed") === "true") {
      if (active.has(`question:${id}`)) cancel("question", id);
    } else {
      remind("question", id);
    }
  });
  if (Notification.permission === "granted") loadReminders().catch(() => {});
}

loadStyles();
followColourScheme();
listenToWorker();
watchConnection();
setUpReminders();
register();

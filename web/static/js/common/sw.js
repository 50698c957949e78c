// The service worker (served as /sw.js by web/pwa/routes.py, which puts one line before
// this file: `const BUILD = {version, precache}`).
//
// What it keeps, and how:
// - the shell: every hashed stylesheet, script and icon, and /offline, precached at install
//   in `live-seoul-<version>`; any other /static/…?v= URL is cached on first use (a new
//   file gets a new URL, so a cached one is never stale);
// - pages that must open offline: the channel (/), the schedule — today and tomorrow,
//   refreshed at install and whenever a page asks — and the replay catalog's last-seen page,
//   network first, the saved copy only when the network fails (then the page is told, and
//   shows its offline notice); they live in `live-seoul-pages` across versions;
// - never: live pages, embeds, the API (except the schedule's JSON), media (video and
//   HLS), range requests, anything not GET or not ours. Those always go to the network; a
//   live page offline gets /offline, never an old copy of the chat.
//
// Updates: a new worker installs in the background and waits. The page (pwa.js) tells it
// to take over at the start of a later visit, never during a live broadcast; until then
// the running version keeps serving. There is no skipWaiting() at install on purpose.
/* global BUILD */

const SHELL = `live-seoul-${BUILD.version}`;
const PAGES = "live-seoul-pages";
const PAGES_MAX = 40;
const REPLAYS_LAST = "/__last-replays-page";
const SEOUL = "Asia/Seoul";

function seoulDay(offsetDays) {
  const when = new Date(Date.now() + offsetDays * 86400000);
  // en-CA writes dates as YYYY-MM-DD
  return new Intl.DateTimeFormat("en-CA", { timeZone: SEOUL }).format(when);
}

function scheduleUrls() {
  const today = seoulDay(0);
  const tomorrow = seoulDay(1);
  return ["/schedule", `/schedule/${today}`, `/schedule/${tomorrow}`,
    `/api/schedule?date=${today}`, `/api/schedule?date=${tomorrow}`];
}

async function refreshSchedule() {
  const cache = await caches.open(PAGES);
  await Promise.all(scheduleUrls().map(async (url) => {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
      if (response.ok) await cache.put(url, response);
    } catch {
      /* offline: keep what we have */
    }
  }));
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    await cache.addAll(BUILD.precache);
    await refreshSchedule();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("live-seoul-") && name !== SHELL && name !== PAGES) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

let askedToTakeOver = false;

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "take-over") {
    // Chromium activates once the running version has no event in flight.
    askedToTakeOver = true;
    event.waitUntil(self.skipWaiting());
  } else if (message.type === "version" && event.ports[0]) {
    event.ports[0].postMessage({ version: BUILD.version, askedToTakeOver });
    event.ports[0].close();
  } else if (message.type === "refresh-schedule") {
    event.waitUntil(refreshSchedule());
  }
});

const NEVER = [/^\/live(\/|$)/, /^\/embed\//, /^\/ws\//, /^\/static\/media\//, /^\/sw\.js$/,
  /^\/now$/, /^\/lang$/, /^\/status/, /^\/operator/, /^\/moderate/, /^\/admin/, /^\/login/,
  /^\/logout/];
const PAGE = [/^\/$/, /^\/schedule(\/\d{4}-\d{2}-\d{2})?$/, /^\/replays$/, /^\/offline$/];

function kept(url) {
  if (url.pathname === "/api/schedule") return true;
  return PAGE.some((pattern) => pattern.test(url.pathname));
}

async function trim(cache) {
  const keys = await cache.keys();
  for (const request of keys.slice(0, Math.max(0, keys.length - PAGES_MAX))) {
    if (new URL(request.url).pathname !== REPLAYS_LAST) await cache.delete(request);
  }
}

async function tellOffline(clientId, savedAt) {
  // The page being loaded may not exist yet: ask for it for a few seconds.
  for (let i = 0; i < 50 && clientId; i += 1) {
    const client = await self.clients.get(clientId);
    if (client) {
      client.postMessage({ type: "offline", savedAt });
      return;
    }
    await new Promise((resolve) => { setTimeout(resolve, 100); });
  }
}

async function fromCache(url, navigation) {
  // Pages vary by the language cookie; a person's browser keeps one language.
  const options = { ignoreVary: true };
  const cache = await caches.open(PAGES);
  // The catalog without a query opens where the reader last was in it.
  const lastReplays = url.pathname === "/replays" && !url.search;
  let found = await cache.match(lastReplays ? REPLAYS_LAST : url.href, options);
  if (!found && url.pathname === "/replays") found = await cache.match(REPLAYS_LAST, options);
  if (!found && navigation) found = await caches.match("/offline");
  return found;
}

async function networkFirst(event, url) {
  const navigation = event.request.mode === "navigate";
  try {
    const response = await fetch(event.request);
    if (response.ok && response.type === "basic" && !response.redirected) {
      // Every copy of a body must be read to its end: an unread one keeps this fetch
      // event (and so the worker) busy, and a busy worker holds back the next version.
      const copy = response.clone();
      event.waitUntil((async () => {
        const cache = await caches.open(PAGES);
        await cache.put(event.request, copy);
        if (url.pathname === "/replays") {
          const saved = await cache.match(event.request, { ignoreVary: true });
          if (saved) await cache.put(REPLAYS_LAST, saved);
        }
        await trim(cache);
      })());
    }
    return response;
  } catch (error) {
    const cached = await fromCache(url, navigation);
    if (!cached) throw error;
    if (navigation) {
      event.waitUntil(tellOffline(event.resultingClientId || event.clientId,
        cached.headers.get("date")));
    }
    return cached;
  }
}

async function offlineFallback(event) {
  try {
    return await fetch(event.request);
  } catch (error) {
    const page = await caches.match("/offline");
    if (!page) throw error;
    event.waitUntil(tellOffline(event.resultingClientId || event.clientId, null));
    return page;
  }
}

async function cacheFirst(event) {
  const cached = await caches.match(event.request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(event.request);
  if (response.ok && response.type === "basic") {
    const copy = response.clone();
    event.waitUntil(caches.open(SHELL).then((cache) => cache.put(event.request, copy)));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || request.headers.has("range")) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (NEVER.some((pattern) => pattern.test(url.pathname))) {
    if (request.mode === "navigate") event.respondWith(offlineFallback(event));
    return; // the network, and nothing else
  }
  if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) {
    event.respondWith(cacheFirst(event));
  } else if (kept(url)) {
    event.respondWith(networkFirst(event, url));
  } else if (request.mode === "navigate") {
    event.respondWith(offlineFallback(event));
  }
});

// ---- push reminders (web/push/sender.py sends them) ----------------------------------

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    return;
  }
  if (!data.title) return;
  const icon = BUILD.precache.find((url) => url.includes("icons/icon-192.png"));
  event.waitUntil(self.registration.showNotification(data.title, {
    body: data.body || "",
    tag: data.tag,
    icon,
    badge: icon,
    lang: "",
    data: { url: typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data.url, self.location.origin).href;
  event.waitUntil((async () => {
    for (const client of await self.clients.matchAll({ type: "window" })) {
      if (client.url === target && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(target);
  })());
});

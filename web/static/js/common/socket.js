// The live socket: WS /ws/broadcasts/{id}?after=<last id seen>. It reconnects after a drop
// with full-jitter exponential backoff; when the server says it is busy (an error frame
// with `retry_after`, then 1013) it comes back at the turn the server gave it, plus up to
// a quarter more (the server spreads refused clients over the time it needs to admit
// them all). After 1012 (the server restarts) the backoff is capped at RESTART_CAP_MS
// until it is back: a closed port costs the server nothing, and the admission turns
// spread the return. It reconnects at once when the network or the tab comes back, and
// stops for good on 1008 (policy) or 4404 (no such broadcast). It pings every
// PING_EVERY_MS so idle proxies keep it open.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const RESTART_CAP_MS = 4000;
const CLOSE_RESTART = 1012;
const BUSY_BASE_MS = 5000;
const HEALTHY_AFTER_MS = 5000;
const PING_EVERY_MS = 25000;
const STOP_CODES = new Set([1008, 4404]);
const CLOSE_BUSY = 1013;
const BUSY_CODES = new Set(["busy", "too_many_connections"]);
const BUSY_JITTER = 0.25;

/** Full-jitter exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS,
                             random = Math.random) {
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.min(attempt, 20)));
}

/** After `busy`: the server's `retry_after` (seconds) plus up to BUSY_JITTER of it, never
 * earlier (an early client is only refused again); null when the server gave none. */
export function busyDelay(retryAfter, cap = BACKOFF_CAP_MS * 4, random = Math.random) {
  const seconds = Number(retryAfter);
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  return Math.floor(Math.min(cap, seconds * 1000 * (1 + BUSY_JITTER * random())));
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
    this.retryAfter = null;
    this.restarting = false; // from a 1012 until the next hello
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
    this.retryAfter = null;
    this.onState("connecting");
    ws.addEventListener("message", (event) => {
      if (this.socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "error" && !this.ready && BUSY_CODES.has(frame.code)) {
        this.retryAfter = frame.retry_after; // the close (1013) follows: see closed()
        return;
      }
      if (frame.type === "hello") {
        this.ready = true;
        this.restarting = false;
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
    if (code === CLOSE_RESTART) this.restarting = true;
    const told = code === CLOSE_BUSY ? busyDelay(this.retryAfter) : null;
    const delay = told ?? backoffDelay(this.attempt,
                                       code === CLOSE_BUSY ? BUSY_BASE_MS : BACKOFF_BASE_MS,
                                       this.restarting ? RESTART_CAP_MS : BACKOFF_CAP_MS);
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

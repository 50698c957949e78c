// The live socket: WS /ws/broadcasts/{id}?after=<last id seen>. It reconnects after a drop
// with full-jitter exponential backoff (longer when the server says it is busy, 1013), at
// once when the network or the tab comes back, and stops for good on 1008 (policy) or 4404
// (no such broadcast). It pings every PING_EVERY_MS so idle proxies keep it open.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const BUSY_BASE_MS = 5000;
const HEALTHY_AFTER_MS = 5000;
const PING_EVERY_MS = 25000;
const STOP_CODES = new Set([1008, 4404]);
const CLOSE_BUSY = 1013;

/** Full-jitter exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS,
                             random = Math.random) {
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.min(attempt, 20)));
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

// Operator status: refreshes the figures and tables from /api/operator/status every 10 s.
// Every value goes in with textContent (titles come from the schedule, never as HTML).
const root = document.getElementById("ops-status");
const PERIOD_MS = 10_000;

function cell(text, numeric) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (numeric) td.className = "num";
  return td;
}

function setFigure(id, text, healthy) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = String(text);
  if (healthy !== undefined) el.className = healthy ? "ops-ok" : "ops-down";
}

function render(status) {
  const d = root.dataset;
  setFigure("ops-viewers", status.totals.viewers);
  setFigure("ops-rate", status.totals.comments_last_minute);
  setFigure("ops-held", status.totals.held);
  setFigure("ops-redis", status.broker.healthy ? d.ok : d.down, status.broker.healthy);
  setFigure("ops-db", status.database.ok ? status.database.ping_ms : d.down, status.database.ok);
  const now = document.getElementById("ops-now");
  // Seoul wall-clock time ("sv-SE" writes 2026-12-05 10:00:00), never the UTC string.
  now.textContent = new Date(status.now).toLocaleString("sv-SE", { timeZone: "Asia/Seoul" });
  now.dateTime = status.now;

  const body = document.querySelector("#ops-broadcasts tbody");
  if (status.broadcasts.length) {
    const rows = status.broadcasts.map((b) => {
      const tr = document.createElement("tr");
      tr.dataset.id = String(b.id);
      const title = document.createElement("td");
      const link = document.createElement("a");
      link.href = `/live/${encodeURIComponent(b.id)}`;
      link.textContent = b.title || String(b.id);
      title.append(link);
      const state = document.createElement("td");
      if (b.status === "live") {
        const badge = document.createElement("span");
        badge.className = "badge badge--live";
        badge.textContent = d.live;
        state.append(badge);
      } else {
        state.textContent = b.status;
      }
      tr.append(title, state, cell(b.viewers, true), cell(b.comments_last_minute, true),
        cell(b.comments_per_minute_10m, true), cell(b.held, true));
      return tr;
    });
    body.replaceChildren(...rows);
  }

  const workers = document.querySelector("#ops-workers tbody");
  workers.replaceChildren(...status.workers.map((w) => {
    const tr = document.createElement("tr");
    const answered = w.pid === status.answered_by && w.host === status.answered_host;
    tr.append(cell(`${w.host} · ${w.pid}${answered ? " *" : ""}`, false),
      cell(w.connections, true), cell(w.rooms, true), cell(w.rss_mib, true),
      cell(w.broker_healthy ? d.ok : d.down, false));
    return tr;
  }));
}

async function refresh() {
  try {
    const response = await fetch(root.dataset.source, { credentials: "same-origin" });
    if (response.ok) render(await response.json());
  } catch {
    // keep the last figures; the next tick tries again
  }
}

if (root) setInterval(refresh, PERIOD_MS);

// The schedule desk (/operator): create/edit broadcasts, go live, end, cancel.
// JSON to /api/… with the session's CSRF token in X-CSRF-Token; errors name the field.
// Times typed in <input type="datetime-local"> are Seoul wall-clock times: "+09:00" is
// added here, so the browser's own time zone never matters.

import { sendJSON, useToken } from "../common/api.js";
import { fill } from "../common/i18n.js";

const root = document.getElementById("operator");
useToken(root.dataset.csrf);

function show(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

async function send(method, url, body) {
  const { ok, status, body: data } = await sendJSON(method, url, body);
  return { ok, status, data };
}

// The API names the field and says what is wrong in English; staff read it in their own
// language, with the field's visible label: "제목을(를) 입력하세요", not "title: required".
function labelOf(name) {
  const input = document.querySelector(`#broadcast-form [name="${name}"]`);
  const label = input && input.id ? document.querySelector(`label[for="${input.id}"]`) : null;
  return label ? label.textContent.trim() : "";
}

function wording(status, field, message) {
  const d = root.dataset;
  const label = labelOf(field);
  const text = String(message || "");
  let found;
  if (status === 401 || status === 403) return d.errForbidden;
  if (/^(required|must not be empty)/.test(text)) {
    return fill(field === "starts_at" || field === "ends_at" ? d.errTime : d.errRequired, { label });
  }
  if ((found = text.match(/^at most (\d+) characters/))) return fill(d.errTooLong, { label, n: found[1] });
  if (/^must be after starts_at/.test(text)) return d.errOrder;
  if ((found = text.match(/lasts at least (\d+):(\d+)/))) {
    return fill(d.errShort, { n: Number(found[1]) * 60 + Number(found[2]) });
  }
  if ((found = text.match(/lasts at most (\d+) hours/))) return fill(d.errLong, { n: found[1] });
  if ((found = text.match(/^overlaps (?:broadcast \d+|line \d+) "(.*)" \((.*?)(?: Seoul time)?\)$/))) {
    return fill(d.errOverlap, { title: found[1], time: found[2] });
  }
  if (/http\(s\) URL/.test(text)) return fill(d.errUrl, { label });
  if (field === "starts_at" || field === "ends_at") return fill(d.errTime, { label });
  if (status === 409) return d.errStatus;
  return label ? fill(d.errOther, { label }) : d.error;
}

function problem(result) {
  const error = (result.data && result.data.error) || {};
  return { field: error.field || "", text: wording(result.status, error.field, error.message) };
}

function seoul(value) {
  return value ? `${value}:00+09:00` : "";
}

function editor() {
  const form = document.getElementById("broadcast-form");
  const status = document.getElementById("op-status");
  const error = document.getElementById("op-error");
  const heading = document.getElementById("op-form-heading");
  if (!form) return;
  const field = (name) => form.elements.namedItem(name);

  function clearInvalid() {
    for (const element of form.querySelectorAll("[aria-invalid]")) {
      element.removeAttribute("aria-invalid");
    }
  }

  function fail(result) {
    const { field: name, text } = problem(result);
    show(status, "");
    show(error, text);
    const input = name && field(name);
    if (input && input.focus) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      error.focus?.();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearInvalid();
    show(error, "");
    const id = field("id").value;
    const body = {
      title: field("title").value,
      category: field("category").value,
      starts_at: seoul(field("starts_at").value),
      ends_at: seoul(field("ends_at").value),
      description: field("description").value,
      staff: field("staff").value.split(",").map((s) => s.trim()).filter(Boolean),
      stream_url: field("stream_url").value,
      thumbnail_url: field("thumbnail_url").value,
    };
    const result = id
      ? await send("PATCH", `/api/broadcasts/${id}`, body)
      : await send("POST", "/api/broadcasts", body);
    if (result.ok) {
      show(status, root.dataset.saved);
      window.location.reload();
    } else {
      fail(result);
    }
  });

  form.addEventListener("reset", () => {
    field("id").value = "";
    heading.textContent = heading.dataset.create;
    clearInvalid();
    show(error, "");
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    const id = row.dataset.id;
    const action = button.dataset.action;
    if (action === "edit") {
      field("id").value = id;
      field("title").value = row.dataset.title;
      field("category").value = row.dataset.category;
      field("starts_at").value = row.dataset.starts;
      field("ends_at").value = row.dataset.ends;
      field("description").value = row.dataset.description;
      field("staff").value = row.dataset.staff;
      field("stream_url").value = row.dataset.stream;
      field("thumbnail_url").value = row.dataset.thumb;
      heading.textContent = heading.dataset.edit;
      field("title").focus();
      return;
    }
    if (action === "end" && !window.confirm(root.dataset.confirmEnd)) return;
    if (action === "cancel" && !window.confirm(root.dataset.confirmCancel)) return;
    button.disabled = true;
    const result = await send("POST", `/api/broadcasts/${id}/${action}`, {});
    button.disabled = false;
    if (result.ok) window.location.reload();
    else fail(result);
  });
}

if (root) editor();

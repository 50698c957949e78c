// The moderation console's "who may take part" form: GET/PUT /api/broadcasts/{id}/comment-access.
const form = document.getElementById("comment-access");
const console_ = document.getElementById("console");

function show(state) {
  for (const radio of form.querySelectorAll("input[name=comments]")) {
    radio.checked = radio.value === state.comments;
  }
  form.elements.questions_need_account.checked = state.questions_need_account;
  form.elements.votes_need_account.checked = state.votes_need_account;
}

if (form && console_) {
  const url = `/api/broadcasts/${form.dataset.broadcastId}/comment-access`;
  const status = document.getElementById("comment-access-status");
  fetch(url, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((state) => state && show(state))
    .catch(() => {});
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    status.textContent = "";
    try {
      const response = await fetch(url, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": console_.dataset.csrf },
        body: JSON.stringify({
          comments: String(data.get("comments") || "anyone"),
          questions_need_account: data.get("questions_need_account") === "on",
          votes_need_account: data.get("votes_need_account") === "on",
        }),
      });
      if (!response.ok) throw new Error(String(response.status));
      show(await response.json());
      status.textContent = form.dataset.done;
    } catch {
      status.textContent = form.dataset.failed;
    }
  });
}

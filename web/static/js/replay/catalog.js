// The replay catalog page: suggestions under the search fields, "더 보기" that appends
// the next page (the address becomes the same search showing more, so it can be shared
// and Back returns to the whole list), and the filters folded behind a button on phones.
// Everything shown comes from JSON or our own HTML as text; user text never becomes HTML.

const WIDE = window.matchMedia("(min-width: 48rem)");
const PAGE = 20;
const MAX_LIMIT = 100;

function filters() {
  const details = document.getElementById("replay-filters");
  if (!details) return;
  const sync = () => {
    // Wide screens always show the fields; phones start folded, unless one is wrong.
    details.open = WIDE.matches || Boolean(details.querySelector("[aria-invalid=true]"));
  };
  sync();
  WIDE.addEventListener("change", sync);
}

function suggestions() {
  let timer = 0;
  let asked = "";
  for (const input of document.querySelectorAll("input[data-suggest]")) {
    const list = document.getElementById(input.getAttribute("list"));
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const text = input.value.trim();
      if (!text) {
        list.replaceChildren();
        return;
      }
      timer = setTimeout(async () => {
        asked = text;
        let data;
        try {
          const response = await fetch(`/api/replays/suggestions?q=${encodeURIComponent(text)}`);
          if (!response.ok) return;
          data = await response.json();
        } catch {
          return; // suggestions are a convenience: the search itself still works
        }
        if (asked !== text) return; // a newer request is on its way
        const names = input.dataset.suggest === "staff" ? data.staff : [...data.staff, ...data.titles];
        list.replaceChildren(...names.map((name) => {
          const option = document.createElement("option");
          option.value = name;
          return option;
        }));
      }, 150);
    });
  }
}

function more() {
  const link = document.getElementById("replay-more");
  const list = document.getElementById("replay-list");
  const status = document.getElementById("replay-more-status");
  if (!link || !list) return;
  link.addEventListener("click", async (event) => {
    if (!link.dataset.next || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    link.setAttribute("aria-disabled", "true");
    try {
      const response = await fetch(link.dataset.next, { headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(String(response.status));
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const items = [...page.querySelectorAll("#replay-list > li")];
      const first = items[0]?.querySelector("a");
      list.append(...items.map((item) => document.adoptNode(item)));
      // The address becomes what the link leads to without JavaScript: this same list.
      const shown = list.children.length;
      const target = new URL(link.href, location.href);
      if (target.searchParams.has("limit")) history.replaceState(history.state, "", target);
      const next = page.getElementById("replay-more");
      if (next) {
        link.dataset.next = next.dataset.next;
        const following = new URL(target);
        following.searchParams.set("limit", String(shown + PAGE));
        link.href = shown + PAGE <= MAX_LIMIT && target.searchParams.has("limit")
          ? following.pathname + following.search : next.dataset.next;
      } else {
        link.parentElement.remove();
      }
      if (status) status.textContent = status.dataset.strAdded.replace("{n}", String(items.length));
      if (first) first.focus();
    } catch {
      if (status) status.textContent = status.dataset.strFailed;
      location.assign(link.href); // fall back to loading the longer list
    } finally {
      link.removeAttribute("aria-disabled");
    }
  });
}

filters();
suggestions();
more();

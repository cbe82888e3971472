import { api, MessageSummary, SearchResult } from "../api";
import { h, put, replace, short, when } from "../dom";
import { showError, whileShown } from "../main";
import { state } from "../state";

const trust: Record<string, string> = {
  contact: "Signed by your contact's key",
  first_contact: "First contact: signed by the key its address vouches for",
};

/// The subject a thread is known by: without "Re:" / "Fwd:" prefixes.
function topic(subject: string): string {
  return subject.replace(/^\s*((re|fwd?|aw|sv)\s*:\s*)+/i, "").trim().toLowerCase();
}

/// Messages grouped into threads: same correspondent, same topic; newest thread first.
function threads(mail: MessageSummary[]): MessageSummary[][] {
  const byKey = new Map<string, MessageSummary[]>();
  for (const m of mail) {
    const key = `${m.from}\u0000${topic(m.subject)}`;
    byKey.set(key, [...(byKey.get(key) ?? []), m]);
  }
  return [...byKey.values()]
    .map((t) => t.sort((a, b) => a.received_at - b.received_at))
    .sort((a, b) => b[b.length - 1].received_at - a[a.length - 1].received_at);
}

/// Inbox, contact requests, search, and one message with how it was verified. New mail shows
/// as it arrives.
export async function inboxScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Inbox"));
  const me = state.identity;
  const reader = h("article", { id: "reader", "aria-live": "polite" });
  const open = async (thread: MessageSummary[], request: boolean) => {
    try {
      const views = [];
      for (const m of thread) views.push(await api.read(m.id));
      replace(
        reader,
        h("h2", {}, views[0].subject || "(no subject)"),
        ...views.map((v) =>
          h(
            "section",
            { class: "in-thread" },
            h("p", { class: "meta" }, `From ${v.from_name || short(v.from)} — ${when(v.received_at)}`),
            h("p", { class: "verified" }, trust[v.verification] ?? v.verification),
            h("pre", { class: "body" }, v.text),
            ...v.attachments.map((a) => h("p", { class: "attachment" }, `📎 ${a.name} (${a.size} bytes)`)),
          ),
        ),
        request
          ? h(
              "button",
              {
                type: "button",
                id: "accept",
                onclick: async () => {
                  try {
                    await api.acceptRequest(thread[0].id);
                    location.reload();
                  } catch (e) {
                    showError(root, e);
                  }
                },
              },
              "Accept as contact",
            )
          : null,
        request
          ? h(
              "button",
              {
                type: "button",
                id: "decline",
                class: "secondary",
                onclick: async () => {
                  try {
                    await api.declineRequest(thread[0].id);
                    location.reload();
                  } catch (e) {
                    showError(root, e);
                  }
                },
              },
              "Decline",
            )
          : null,
      );
    } catch (e) {
      showError(root, e);
    }
  };
  const row = (t: MessageSummary[], request: boolean) => {
    const last = t[t.length - 1];
    return h(
      "li",
      { class: t.every((m) => m.read) ? "read" : "unread" },
      h(
        "button",
        { type: "button", class: "message", onclick: () => open(t, request) },
        h("span", { class: "from" }, last.from_name || short(last.from)),
        h("span", { class: "subject" }, (t[0].subject || "(no subject)") + (t.length > 1 ? ` (${t.length})` : "")),
        h("time", {}, when(last.received_at)),
      ),
    );
  };
  const lists = h("div", { id: "lists" });
  const draw = async () => {
    const [mail, requests] = await Promise.all([api.inbox(me), api.requests(me)]);
    replace(
      lists,
      h("ul", { class: "list", id: "inbox" }, ...threads(mail).map((t) => row(t, false))),
      mail.length === 0 ? h("p", { class: "empty" }, "No mail yet. Meet someone on the Meet screen.") : null,
      h("h2", {}, `Contact requests (${requests.length})`),
      h("ul", { class: "list", id: "requests" }, ...threads(requests).map((t) => row(t, true))),
    );
  };
  const results = h("section", { id: "results", hidden: "" });
  const query = h("input", {
    type: "search",
    id: "search",
    placeholder: 'Search: words, "a phrase", prefix*, from:name',
    "aria-label": "Search this identity's mail",
  });
  const found = (r: SearchResult) =>
    h(
      "li",
      {},
      h(
        "button",
        { type: "button", class: "message", onclick: () => open([r], r.folder === "requests") },
        h("span", { class: "from" }, r.from_name || short(r.from)),
        h("span", { class: "subject" }, r.subject || "(no subject)"),
        h("time", {}, when(r.received_at)),
        h("span", { class: "snippet" }, ...r.snippet.map((p) => (p.hit ? h("mark", {}, p.text) : p.text))),
      ),
    );
  const search = async () => {
    const q = query.value.trim();
    if (!q) {
      results.hidden = true;
      lists.hidden = false;
      return;
    }
    try {
      const hits = await api.search(me, q);
      replace(
        results,
        h("h2", {}, `${hits.length} found`),
        h("ul", { class: "list" }, ...hits.map(found)),
      );
      results.hidden = false;
      lists.hidden = true;
    } catch (e) {
      showError(root, e);
    }
  };
  const form = h(
    "form",
    { class: "inline", role: "search", onsubmit: (e: Event) => (e.preventDefault(), void search()) },
    query,
    h("button", { type: "submit" }, "Search"),
  );
  query.addEventListener("input", () => {
    if (!query.value.trim()) void search();
  });
  await draw();
  put(root, form, results, lists, reader);
  whileShown((e) => {
    const mine = !e.identity || e.identity === me;
    if ((e.kind === "message" && mine) || e.kind === "lagged") {
      void draw().catch((err) => showError(root, err));
      if (!results.hidden) void search();
    }
  });
}

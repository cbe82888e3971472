import { api, MailboxView, MessageSummary, MessageView, MoveView, SearchResult } from "../api";
import { h, put, replace, short, when } from "../dom";
import { setKeys, showError, whileShown } from "../main";
import { state } from "../state";
import { chooseFolder } from "../files";

const trust: Record<string, string> = {
  contact: "Signed by your contact's key",
  first_contact: "First contact: signed by the key its address vouches for",
  own: "Written by you",
  own_device: "Signed by your contact's key, as checked by your other device that received it",
  gateway: "NOT verified: ordinary email brought in by your gateway contact, not end-to-end encrypted",
};

/// Mail as a mail client shows it: the identity's mailboxes with unread counts, the messages of
/// one, and the conversation of the selected message with what can be done to it. Three panes on
/// a desktop; one at a time on a phone. New mail shows as it arrives.
export async function mailScreen(root: HTMLElement) {
  const me = state.identity;
  const folders = h("nav", { id: "folders", "aria-label": "Mailboxes" });
  const listPane = h("section", { id: "list-pane", "aria-label": "Messages" });
  const reader = h("article", { id: "reader", "aria-live": "polite", tabindex: "-1" });
  const layout = h("div", { class: "mail" }, folders, listPane, reader);
  const toast = h("div", { id: "toast", role: "status", hidden: "" });
  let boxes: MailboxView[] = [];
  let messages: MessageSummary[] = [];
  let selected: number | null = null;

  const label = (name: string) => boxes.find((b) => b.name === name)?.label ?? name;

  const drawFolders = () =>
    replace(
      folders,
      h(
        "ul",
        { class: "folders" },
        ...boxes.map((b) =>
          h(
            "li",
            {},
            h(
              "a",
              {
                href: `#/mail/${b.name}`,
                id: `folder-${b.name}`,
                "aria-current": b.name === state.mailbox ? "page" : "false",
              },
              h("span", {}, b.label),
              b.unread > 0 ? h("span", { class: "count", "aria-label": `${b.unread} unread` }, String(b.unread)) : null,
            ),
          ),
        ),
      ),
    );

  const who = (m: MessageSummary) =>
    m.folder === "sent" || m.folder === "drafts" ? `To ${m.to ? short(m.to) : "(nobody yet)"}` : m.from_name || short(m.from);

  const row = (m: MessageSummary) =>
    h(
      "li",
      { class: `${m.read ? "read" : "unread"}${m.id === selected ? " selected" : ""}`, "data-id": String(m.id) },
      h(
        "button",
        { type: "button", class: "message", onclick: () => void open(m.id) },
        h("span", { class: "from" }, m.flagged ? h("span", { class: "star", "aria-label": "starred" }, "★ ") : null, who(m)),
        h("time", {}, when(m.sent_at ?? m.received_at)),
        h("span", { class: "subject" }, m.subject || "(no subject)", m.answered ? h("span", { class: "badge" }, " answered") : null),
      ),
    );

  const list = h("ul", { class: "list", id: "messages" });
  const results = h("section", { id: "results", hidden: "" });
  const drawList = () => {
    list.setAttribute("data-mailbox", state.mailbox);
    replace(list, ...messages.map(row));
    listPane.querySelector(".empty")?.remove();
    if (messages.length === 0) put(listPane, h("p", { class: "empty" }, state.mailbox === "inbox" ? "No mail yet. Meet someone on the Meet screen." : `Nothing in ${label(state.mailbox)}.`));
  };

  // Draws overlap when mail arrives while one is under way; only the newest one's answers are
  // shown, so a slower, older answer never puts back a count or a list from before the mail.
  let drawing = 0;
  const draw = async () => {
    const mine = ++drawing;
    const answers = await Promise.all([api.mailboxes(me), api.mailbox(me, state.mailbox)]);
    if (mine !== drawing) return;
    [boxes, messages] = answers;
    drawFolders();
    drawList();
  };

  const say = (text: string, undo?: () => Promise<void>) => {
    replace(
      toast,
      h("span", {}, text),
      undo
        ? h("button", { type: "button", id: "undo", onclick: async () => { toast.hidden = true; try { await undo(); } catch (e) { showError(root, e); } } }, "Undo")
        : null,
    );
    toast.hidden = false;
  };

  const act = async (what: () => Promise<MoveView>) => {
    try {
      const next = messages[messages.findIndex((m) => m.id === selected) + 1]?.id ?? null;
      const moved = await what();
      const where = moved.to === "deleted" ? "Deleted for good." : `Moved to ${label(moved.to)}.`;
      say(where, moved.to === "deleted" ? undefined : async () => { await api.move(moved.id, moved.from); });
      selected = null;
      replace(reader);
      layout.classList.remove("reading");
      await draw();
      if (next !== null) await open(next);
    } catch (e) {
      showError(root, e);
    }
  };

  const toolbar = (v: MessageView) => {
    const b = (id: string, text: string, onclick: () => void, key?: string) =>
      h("button", { type: "button", id, onclick, title: key ? `${text} (${key})` : text }, text);
    if (v.folder === "drafts") {
      return h("div", { class: "toolbar" }, b("edit-draft", "Edit", () => { location.hash = `#/compose/${v.id}`; }), b("discard", "Discard", () => void act(() => api.trash(v.id))));
    }
    if (v.folder === "requests") {
      return h(
        "div",
        { class: "toolbar" },
        b("accept", "Accept as contact", async () => {
          try { await api.acceptRequest(v.id); say("Accepted: now a contact; the mail moved to the Inbox."); replace(reader); await draw(); } catch (e) { showError(root, e); }
        }),
        b("decline", "Decline", async () => {
          try { const n = await api.declineRequest(v.id); say(`Declined: ${n} message${n === 1 ? "" : "s"} deleted.`); replace(reader); await draw(); } catch (e) { showError(root, e); }
        }),
      );
    }
    const reply = async (all: boolean) => {
      try { const d = await api.reply(v.id, all); location.hash = `#/compose/${d.id}`; } catch (e) { showError(root, e); }
    };
    return h(
      "div",
      { class: "toolbar" },
      b("reply", "Reply", () => void reply(false), "r"),
      b("reply-all", "Reply all", () => void reply(true)),
      b("forward", "Forward", async () => {
        try { const d = await api.forward(v.id); location.hash = `#/compose/${d.id}`; } catch (e) { showError(root, e); }
      }),
      v.folder === "archive" ? null : b("archive", "Archive", () => void act(() => api.archive(v.id)), "a"),
      b("delete", "Delete", () => void act(() => api.trash(v.id)), "#"),
      b("star", v.flagged ? "Unstar" : "Star", async () => {
        try { await api.setFlags(v.id, { flagged: !v.flagged }); await draw(); await open(v.id); } catch (e) { showError(root, e); }
      }),
      b("mark-unread", "Mark unread", async () => {
        try { await api.setFlags(v.id, { seen: false }); selected = null; replace(reader); layout.classList.remove("reading"); await draw(); } catch (e) { showError(root, e); }
      }),
    );
  };

  const section = (v: MessageView, current: boolean) =>
    h(
      "section",
      { class: `in-thread${current ? " current" : ""}` },
      h("p", { class: "meta" }, v.folder === "sent" ? `To ${short(v.to)}` : `From ${v.from_name || short(v.from)}`, ` — ${when(v.sent_at ?? v.received_at)}`),
      h("p", { class: "verified" }, trust[v.verification] ?? v.verification),
      h("pre", { class: "body" }, v.text),
      ...v.attachments.map((a) => h("p", { class: "attachment" }, `Attachment: ${a.name} (${a.size} bytes)`)),
      current && v.attachments.length > 0
        ? h("button", { type: "button", id: "save-attachments", onclick: () => void saveAttachments(v) }, "Save attachments…")
        : null,
    );

  const saveAttachments = async (v: MessageView) => {
    try {
      const dir = await chooseFolder("Save attachments in");
      if (!dir) return;
      const saved = await api.saveAttachments(v.id, dir);
      say(`Saved ${saved.length} file${saved.length === 1 ? "" : "s"} in ${dir}.`);
    } catch (e) {
      showError(root, e);
    }
  };

  const open = async (id: number) => {
    try {
      selected = id;
      const v = await api.read(id);
      const thread = await api.thread(id);
      const others = [];
      for (const m of thread) if (m.id !== id) others.push(await api.read(m.id));
      const all = [...others, v].sort((a, b) => (a.sent_at ?? a.received_at) - (b.sent_at ?? b.received_at) || a.id - b.id);
      replace(
        reader,
        h("button", { type: "button", class: "back", onclick: () => { layout.classList.remove("reading"); selected = null; drawList(); } }, "← Back"),
        h("h2", {}, v.subject || "(no subject)"),
        toolbar(v),
        h("div", { class: "thread" }, ...all.map((m) => section(m, m.id === id))),
      );
      layout.classList.add("reading");
      await draw();
    } catch (e) {
      showError(root, e);
    }
  };

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
        { type: "button", class: "message", onclick: () => void open(r.id) },
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
      list.hidden = false;
      return;
    }
    try {
      const hits = await api.search(me, q);
      replace(results, h("h2", {}, `${hits.length} found`), h("ul", { class: "list" }, ...hits.map(found)));
      results.hidden = false;
      list.hidden = true;
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
  put(listPane, h("h1", {}, label(state.mailbox)), form, results, list);
  await draw();
  listPane.querySelector("h1")!.textContent = label(state.mailbox);
  put(root, layout, toast);

  // Keyboard: j/k next and previous, r reply, a archive, # delete, / search (c: write, in main).
  const step = (d: number) => {
    const i = messages.findIndex((m) => m.id === selected);
    const next = messages[Math.max(0, Math.min(messages.length - 1, i < 0 ? 0 : i + d))];
    if (next) void open(next.id);
  };
  setKeys({
    j: () => step(1),
    k: () => step(-1),
    r: () => reader.querySelector<HTMLButtonElement>("#reply")?.click(),
    a: () => reader.querySelector<HTMLButtonElement>("#archive")?.click(),
    "#": () => reader.querySelector<HTMLButtonElement>("#delete")?.click(),
    "/": () => query.focus(),
  });
  whileShown((e) => {
    const mine = !("identity" in e) || !e.identity || e.identity === me;
    if ((e.kind === "message" && mine) || e.kind === "lagged") {
      void draw().catch((err) => showError(root, err));
      if (!results.hidden) void search();
    }
  });
}

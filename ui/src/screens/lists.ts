import { api, Attachment, ListView } from "../api";
import { bytesToB64, h, put, replace, short, when } from "../dom";
import { chooseFolder } from "../files";
import { showError, whileShown } from "../main";
import { state } from "../state";

/// The list shown (by id), kept while the app runs.
let shown: string | null = null;

/// Mailing lists as folders: the lists and invitations, one list's posts with a post (and reply)
/// form, its members, inviting a contact, leaving; creating a list.
export async function listsScreen(root: HTMLElement) {
  const me = state.identity;
  const folders = h("ul", { class: "folders", id: "lists" });
  const pane = h("section", { id: "list-view" });
  const layout = h("div", { class: "mail lists" }, h("aside", { id: "folders" }, h("h1", {}, "Lists"), folders, createForm()), pane);
  put(root, layout);

  function createForm() {
    const name = h("input", { id: "list-name", placeholder: "Name of a new list", "aria-label": "Name of a new list", maxlength: "200" });
    const form = h("form", { class: "card", id: "list-create" }, name, h("button", { type: "submit" }, "Create list"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const made = await api.listCreate(me, name.value);
        shown = made.id;
        name.value = "";
        await draw();
      } catch (e) {
        showError(root, e);
      }
    });
    return form;
  }

  const folder = (l: ListView) =>
    h(
      "li",
      {},
      h(
        "a",
        {
          href: "#/lists",
          "aria-current": l.id === shown ? "page" : "false",
          "data-list": l.name,
          onclick: (ev: Event) => {
            ev.preventDefault();
            shown = l.id;
            void draw().catch((e) => showError(root, e));
          },
        },
        h("span", {}, l.name),
        l.state === "member" ? h("span", { class: "count" }, String(l.posts)) : h("span", { class: "badge" }, l.state),
      ),
    );

  // Draws overlap (a list event during one): only the newest is shown, and the folders and the
  // list's pane change together, once everything for them has come.
  let drawing = 0;
  const draw = async () => {
    const mine = ++drawing;
    const lists = await api.lists(me);
    if (!lists.some((l) => l.id === shown)) shown = lists[0]?.id ?? null;
    const l = lists.find((x) => x.id === shown);
    const data = l?.state === "member" ? await Promise.all([api.listPosts(me, l.id), api.listMembers(me, l.id), api.contacts(me)]) : null;
    if (mine !== drawing) return;
    root.querySelector(".error")?.remove();
    replace(folders, ...lists.map(folder));
    if (!l) {
      replace(pane, h("p", { class: "empty" }, "No lists yet. Create one, or join one a contact invites you to."));
      return;
    }
    if (l.state !== "member" || !data) {
      const join = h("button", { type: "button", id: "list-join" }, "Join");
      join.addEventListener("click", async () => {
        try {
          await api.listJoin(me, l.id);
          await draw();
        } catch (e) {
          showError(root, e);
        }
      });
      replace(
        pane,
        h("h2", {}, l.name),
        h("p", { id: "list-state" }, l.state === "invited" ? `${short(l.inviter)} invited you.` : l.state === "joining" ? "Asked to join; waiting for the welcome." : l.state === "removed" ? "A moderator removed you from this list." : "You left this list."),
        l.state === "invited" ? join : null,
      );
      return;
    }
    const [posts, members, contacts] = data;
    const subject = h("input", { id: "post-subject", placeholder: "Subject", "aria-label": "Subject" });
    const text = h("textarea", { id: "post-text", rows: "5", placeholder: "Write to the list", "aria-label": "Text" });
    const files = h("input", { type: "file", id: "post-attach", multiple: true, "aria-label": "Attach files" });
    const form = h("form", { class: "card", id: "list-post" }, h("h3", {}, "Post to the list"), subject, text,
      h("label", { for: "post-attach" }, "Attachments (each sent once to each member)"), files,
      h("button", { type: "submit", id: "post-send" }, "Post"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const attach: Attachment[] = [];
        for (const f of Array.from(files.files ?? [])) {
          attach.push({ name: f.name, content_type: f.type || "application/octet-stream", data_b64: bytesToB64(new Uint8Array(await f.arrayBuffer())) });
        }
        await api.listPost(me, l.id, subject.value, text.value, attach);
        await draw();
      } catch (e) {
        showError(root, e);
      }
    });
    const reply = (s: string) => {
      subject.value = s.startsWith("Re: ") ? s : `Re: ${s}`;
      text.focus();
    };
    const post = h("ul", { class: "list", id: "list-posts" }, ...posts.map((p) =>
      h(
        "li",
        { class: "in-thread" },
        h("strong", {}, p.subject || "(no subject)"),
        h("div", { class: "hint" }, `${p.author.slice(0, 16)} · ${when(p.time)}`),
        h("pre", { class: "body" }, p.text),
        ...p.attachments.map((a) => h("p", { class: "attachment" }, `Attachment: ${a.name} (${a.size} bytes)${a.held ? "" : a.too_large ? " — too large for a list, not fetched" : " — on its way"}`)),
        h("button", { type: "button", class: "secondary reply", onclick: () => reply(p.subject) }, "Reply"),
      )));
    const save = h("button", { type: "button", class: "secondary", id: "list-save-attachments" }, "Save attachments…");
    const saveBox = h("div", {}, save);
    save.addEventListener("click", async () => {
      try {
        const dir = await chooseFolder("Save the list's attachments in");
        if (!dir) return;
        const saved = await api.saveListAttachments(me, l.id, dir);
        put(saveBox, h("p", { class: "ok", id: "list-saved" }, `Saved ${saved.length} file${saved.length === 1 ? "" : "s"} in ${dir}.`));
      } catch (e) {
        showError(root, e);
      }
    });
    const invitee = h("select", { id: "invite-contact", "aria-label": "Contact to invite" }, ...contacts.map((c) => h("option", { value: c.address }, c.display_name || short(c.address))));
    const invite = h("form", { class: "card", id: "list-invite" }, h("h3", {}, "Invite a contact"), invitee, h("button", { type: "submit" }, "Invite"));
    invite.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api.listInvite(me, l.id, invitee.value);
        put(invite, h("p", { class: "ok", id: "invited" }, "Invitation sent."));
      } catch (e) {
        showError(root, e);
      }
    });
    const leave = h("button", { type: "button", class: "danger", id: "list-leave" }, "Leave the list");
    leave.addEventListener("click", async () => {
      if (!window.confirm(`Leave ${l.name}? Your key for it is revoked; mail on it stops.`)) return;
      try {
        await api.listLeave(me, l.id);
        await draw();
      } catch (e) {
        showError(root, e);
      }
    });
    replace(
      pane,
      h("h2", {}, l.name),
      posts.length ? post : h("p", { class: "empty" }, "No posts yet."),
      posts.some((p) => p.attachments.some((a) => a.held)) ? saveBox : null,
      form,
      h("h3", {}, `Members (${members.length})`),
      h("ul", { class: "list", id: "list-members" }, ...members.map((m) => h("li", {}, m.me ? "You" : m.neighbour ? short(m.neighbour) : `Member ${m.member.slice(0, 16)}`))),
      contacts.length ? invite : null,
      leave,
    );
  };

  await draw();
  whileShown((e) => {
    if (e.kind === "list" || e.kind === "lagged") void draw().catch((err) => showError(root, err));
  });
}

import { api, Attachment, DraftView } from "../api";
import { bytesToB64, h, put, replace, short } from "../dom";
import { identityChip } from "../identity";
import { showError } from "../main";
import { state } from "../state";

/// How long typing may pause before the draft is saved.
const SAVE_AFTER_MS = 700;

/// Write: who is writing (the identity, in its colour, loudly), to whom, and what; saved as a
/// draft while typed (sealed in the store); sending asks first when this identity has never
/// written to the recipient. Below, what happened to sent mail.
export async function composeScreen(root: HTMLElement, draftId?: number) {
  let draft: DraftView | null = draftId ? await api.draft(draftId) : null;
  const ids = await api.identities();
  let identity = draft?.identity ?? state.identity;
  const current = () => ids.find((i) => i.address === identity);
  const chipSlot = h("div", { id: "writing-as", class: "writing-as" });
  const chooser = h(
    "select",
    { id: "from", "aria-label": "Write as" },
    ...ids.map((i) => h("option", { value: i.address, selected: i.address === identity }, `${i.display_name || i.address.split("@")[0]} — ${short(i.address)}`)),
  );
  const drawChip = () => replace(chipSlot, h("span", { class: "label" }, "Writing as"), identityChip(identity, current()?.display_name ?? "", { id: "identity-chip" }));
  drawChip();
  const contacts = await api.contacts(identity);
  const to = h("input", { id: "to", list: "contact-list", required: true, placeholder: "name@….onion", value: draft?.to ?? "" });
  const subject = h("input", { id: "subject", value: draft?.subject ?? "" });
  const text = h("textarea", { id: "text", rows: "10" });
  text.value = draft?.text ?? "";
  // An ordinary address (name@domain) goes through a gateway contact, and leaves it readable.
  const gatewayChoice = h(
    "select",
    { id: "via-gateway", "aria-label": "Through gateway" },
    ...contacts.map((c) => h("option", { value: c.address }, `${c.display_name || c.address.split("@")[0]} — ${short(c.address)}`)),
  );
  const gatewayWarning = h(
    "p",
    { id: "gateway-warning", class: "warning", role: "alert" },
    "Not end-to-end encrypted: this goes to an ordinary email address. It travels sealed to the gateway you choose, which opens it to send it on — the gateway and the recipient's mail servers can read it.",
  );
  // The recipient's OpenPGP key, if the sender has it: the gateway encrypts to it.
  const gatewayKey = h("input", { type: "file", id: "gateway-key", accept: ".asc,.txt,application/pgp-keys" });
  if (draft?.via_gateway) gatewayChoice.value = draft.via_gateway;
  gatewayChoice.addEventListener("change", () => later());
  const gatewayRow = h(
    "div",
    { id: "gateway-row", hidden: true },
    h("label", { for: "via-gateway" }, "Through gateway"),
    gatewayChoice,
    gatewayWarning,
    h("label", { for: "gateway-key" }, "Recipient's OpenPGP key (optional, armored .asc): the gateway encrypts to it"),
    gatewayKey,
  );
  const ordinary = () => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(to.value.trim()) && !to.value.trim().toLowerCase().endsWith(".onion");
  const drawGateway = () => {
    gatewayRow.hidden = !ordinary();
  };
  to.addEventListener("input", drawGateway);
  drawGateway();
  const files = h("input", { type: "file", id: "attach", multiple: true });
  const attached = h("ul", { class: "attached", id: "attached" });
  const saved = h("p", { class: "meta", id: "draft-state", "aria-live": "polite" });
  const drawAttached = () =>
    replace(attached, ...(draft?.attachments ?? []).map((a) => h("li", {}, `Attachment: ${a.name} (${a.size} bytes)`)));
  drawAttached();

  let timer: number | undefined;
  let saving: Promise<void> = Promise.resolve();
  const save = (attach: Attachment[] = []) => {
    saving = saving.then(async () => {
      try {
        draft = await api.saveDraft({ id: draft?.id ?? null, identity, to: to.value, subject: subject.value, text: text.value, via_gateway: ordinary() ? gatewayChoice.value || null : null }, attach);
        saved.textContent = "Draft saved.";
        drawAttached();
        if (!location.hash.endsWith(`/${draft.id}`)) history.replaceState(null, "", `#/compose/${draft.id}`);
      } catch (e) {
        showError(root, e);
      }
    });
    return saving;
  };
  const later = () => {
    window.clearTimeout(timer);
    saved.textContent = "";
    timer = window.setTimeout(() => void save(), SAVE_AFTER_MS);
  };
  for (const el of [to, subject, text]) el.addEventListener("input", later);
  chooser.addEventListener("change", async () => {
    // A draft stays with the identity that began it: switching starts it again under the other.
    const old = draft;
    identity = chooser.value;
    state.setIdentity(identity);
    drawChip();
    if (old) {
      draft = null;
      await save();
      await api.discardDraft(old.id).catch(() => undefined);
    }
  });
  files.addEventListener("change", async () => {
    const add: Attachment[] = [];
    for (const f of Array.from(files.files ?? [])) {
      add.push({ name: f.name, content_type: f.type || "application/octet-stream", data_b64: bytesToB64(new Uint8Array(await f.arrayBuffer())) });
    }
    files.value = "";
    window.clearTimeout(timer);
    await save(add);
  });

  const confirmBox = h("dialog", { id: "confirm-send" });
  const ask = (sentence: string) =>
    new Promise<boolean>((resolve) => {
      replace(
        confirmBox,
        h("p", { id: "confirm-text" }, sentence),
        identityChip(identity, current()?.display_name ?? ""),
        h("div", { class: "inline" },
          h("button", { type: "button", id: "confirm-yes", onclick: () => { confirmBox.close(); resolve(true); } }, "Send from this identity"),
          h("button", { type: "button", id: "confirm-no", class: "secondary", onclick: () => { confirmBox.close(); resolve(false); } }, "Cancel"),
        ),
      );
      confirmBox.showModal();
    });

  const form = h(
    "form",
    { class: "card compose", id: "compose-form" },
    chipSlot,
    ids.length > 1 ? h("label", { for: "from" }, "From") : null,
    ids.length > 1 ? chooser : null,
    h("label", { for: "to" }, "To"),
    to,
    h("datalist", { id: "contact-list" }, ...contacts.map((c) => h("option", { value: c.address }, c.display_name))),
    gatewayRow,
    h("label", { for: "subject" }, "Subject"),
    subject,
    h("label", { for: "text" }, "Message"),
    text,
    h("label", { for: "attach" }, "Attachments"),
    files,
    attached,
    h("div", { class: "inline" },
      h("button", { type: "submit", id: "send" }, "Send"),
      h("button", { type: "button", id: "discard", class: "secondary", onclick: async () => {
        window.clearTimeout(timer);
        await saving;
        if (draft) await api.discardDraft(draft.id).catch((e) => showError(root, e));
        location.hash = "#/mail/inbox";
      } }, "Discard"),
      saved,
    ),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      window.clearTimeout(timer);
      if (ordinary()) {
        if (!gatewayChoice.value) throw new Error("To write to an ordinary email address, add a contact who runs a gateway first.");
        await saving;
        const keyFile = gatewayKey.files?.[0];
        let key: string | null = null;
        if (keyFile) {
          key = await keyFile.text();
          if (!key.includes("-----BEGIN PGP")) throw new Error("The recipient's key must be an armored OpenPGP key (a .asc file starting “-----BEGIN PGP”).");
        }
        // Saved with the gateway (and the key) first: a key that is refused leaves the draft
        // as it was, unsent.
        draft = await api.saveDraft({ id: draft?.id ?? null, identity, to: to.value, subject: subject.value, text: text.value, via_gateway: gatewayChoice.value, to_key: key });
        const encrypted = draft.recipient_key !== null;
        const out = await api.sendDraft(draft.id);
        draft = null;
        root.querySelector(".error")?.remove();
        form.reset();
        text.value = "";
        replace(attached);
        drawGateway();
        history.replaceState(null, "", "#/compose");
        saved.textContent = `Sent through the gateway${encrypted ? ", to be encrypted to the recipient's key" : ""}: ${out.status}.`;
        await refresh();
        return;
      }
      const check = await api.checkRecipient(identity, to.value);
      if (check.confirm && !(await ask(check.sentence))) return;
      await save();
      await saving;
      if (!draft) return;
      const out = await api.sendDraft(draft.id);
      draft = null;
      root.querySelector(".error")?.remove();
      form.reset();
      text.value = "";
      replace(attached);
      history.replaceState(null, "", "#/compose");
      saved.textContent = `Sent: ${out.status}.`;
      await refresh();
    } catch (e) {
      showError(root, e);
    }
  });
  const outbox = h("ul", { class: "list", id: "outbox" });
  const refresh = async () => {
    const items = await api.outbox(identity);
    replace(outbox,
      ...items.map((o) =>
        h("li", {}, h("span", { class: "subject" }, o.subject || "(no subject)"), " to ", short(o.to), " — ", h("span", { class: `state ${o.state}` }, o.status)),
      ),
    );
  };
  put(root, h("h1", {}, draft ? "Draft" : "Write"), form, confirmBox, h("h2", {}, "Outbox"), outbox);
  await refresh();
  (draft?.to ? text : to).focus();
}

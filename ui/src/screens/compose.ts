import { api, Attachment, OutboxItem } from "../api";
import { bytesToB64, h, put, replace, short } from "../dom";
import { showError } from "../main";
import { state } from "../state";

function stateText(o: OutboxItem): string {
  switch (o.state) {
    case "delivered":
      return o.delivered_via ? `delivered via carrier ${short(o.delivered_via)}` : "delivered";
    case "carried":
      return "held by a carrier until the recipient is online";
    case "failed":
      return `failed: ${o.last_error ?? ""}`;
    case "queued":
      return o.attempts > 0 ? `queued, retrying (${o.last_error ?? ""})` : "queued";
    default:
      return o.state;
  }
}

/// Write a message (with attachments) and follow what happened to sent mail.
export async function composeScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Write"));
  const contacts = await api.contacts(state.identity);
  const to = h("input", { id: "to", list: "contact-list", required: true, placeholder: "name@….onion" });
  const subject = h("input", { id: "subject" });
  const text = h("textarea", { id: "text", rows: "8" });
  const files = h("input", { type: "file", id: "attach", multiple: true });
  const form = h(
    "form",
    { class: "card" },
    h("label", { for: "to" }, "To"),
    to,
    h("datalist", { id: "contact-list" }, ...contacts.map((c) => h("option", { value: c.address }, c.display_name))),
    h("label", { for: "subject" }, "Subject"),
    subject,
    h("label", { for: "text" }, "Message"),
    text,
    h("label", { for: "attach" }, "Attachments"),
    files,
    h("button", { type: "submit" }, "Send"),
  );
  const outbox = h("ul", { class: "list", id: "outbox" });
  const refresh = async () => {
    const items = await api.outbox(state.identity);
    replace(outbox,
      ...items.map((o) =>
        h("li", {}, h("span", { class: "subject" }, o.subject || "(no subject)"), " to ", short(o.to), " — ", h("span", { class: `state ${o.state}` }, stateText(o))),
      ),
    );
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const attachments: Attachment[] = [];
      for (const f of Array.from(files.files ?? [])) {
        attachments.push({
          name: f.name,
          content_type: f.type || "application/octet-stream",
          data_b64: bytesToB64(new Uint8Array(await f.arrayBuffer())),
        });
      }
      await api.send(state.identity, to.value.trim(), subject.value, text.value, attachments);
      root.querySelector(".error")?.remove();
      form.reset();
      await refresh();
    } catch (e) {
      showError(root, e);
    }
  });
  put(root, form, h("h2", {}, "Sent"), outbox);
  await refresh();
}

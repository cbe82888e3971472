import { api, MessageSummary } from "../api";
import { h, put, replace, short, when } from "../dom";
import { showError } from "../main";
import { state } from "../state";

const trust: Record<string, string> = {
  contact: "Signed by your contact's key",
  first_contact: "First contact: signed by the key its address vouches for",
};

/// Inbox, contact requests, and one message with how it was verified.
export async function inboxScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Inbox"));
  const me = state.identity;
  const [mail, requests] = await Promise.all([api.inbox(me), api.requests(me)]);
  const reader = h("article", { id: "reader", "aria-live": "polite" });
  const row = (m: MessageSummary, request: boolean) =>
    h(
      "li",
      { class: m.read ? "read" : "unread" },
      h(
        "button",
        {
          type: "button",
          class: "message",
          onclick: async () => {
            try {
              const v = await api.read(m.id);
              replace(reader,
                h("h2", {}, v.subject || "(no subject)"),
                h("p", { class: "meta" }, `From ${v.from_name || short(v.from)} — ${when(v.received_at)}`),
                h("p", { class: "verified" }, trust[v.verification] ?? v.verification),
                h("pre", { class: "body" }, v.text),
                ...v.attachments.map((a) => h("p", { class: "attachment" }, `📎 ${a.name} (${a.size} bytes)`)),
                request
                  ? h(
                      "button",
                      {
                        type: "button",
                        id: "accept",
                        onclick: async () => {
                          try {
                            await api.acceptRequest(m.id);
                            location.reload();
                          } catch (e) {
                            showError(root, e);
                          }
                        },
                      },
                      "Accept as contact",
                    )
                  : null,
              );
            } catch (e) {
              showError(root, e);
            }
          },
        },
        h("span", { class: "from" }, m.from_name || short(m.from)),
        h("span", { class: "subject" }, m.subject || "(no subject)"),
        h("time", {}, when(m.received_at)),
      ),
    );
  put(root, 
    h("ul", { class: "list", id: "inbox" }, ...mail.map((m) => row(m, false))),
    mail.length === 0 ? h("p", { class: "empty" }, "No mail yet. Meet someone on the Meet screen.") : null,
    h("h2", {}, `Contact requests (${requests.length})`),
    h("ul", { class: "list", id: "requests" }, ...requests.map((m) => row(m, true))),
    reader,
  );
}

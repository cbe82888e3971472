import { api, Contact } from "../api";
import { h, put, replace, short, when } from "../dom";
import { showError } from "../main";
import { state } from "../state";

/// The address book: trust and provenance, and introducing one contact to another.
export async function contactsScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Contacts"));
  const list = await api.contacts(state.identity);
  const mine = new Set((await api.carriers(state.identity)).my_carriers);
  const detail = h("section", { id: "contact-detail", "aria-live": "polite" });
  const show = (c: Contact) => {
    const others = list.filter((o) => o.address !== c.address);
    const target = h("select", { id: "introduce-to" }, ...others.map((o) => h("option", { value: o.address }, o.display_name || short(o.address))));
    const both = h("input", { type: "checkbox", id: "both" });
    replace(detail,
      h("h2", {}, c.display_name || short(c.address)),
      h("p", { class: "address" }, c.address),
      h("p", { class: `trust ${c.trust}` }, `${c.trust}: ${c.trust_label}`),
      h("p", { class: "fingerprint" }, `Key ${c.fingerprint.replace(/(.{4})/g, "$1 ").trim()}`),
      h("div", { class: "inline" },
        c.trust === "verified" || c.trust === "revoked"
          ? null
          : h("button", { type: "button", id: "confirm-contact", title: "After comparing this key with the one their device shows", onclick: async () => {
              try { const n = await api.confirmContact(state.identity, c.address); Object.assign(c, n); show(c); put(detail, h("p", { class: "ok", id: "confirmed" }, "Confirmed: you compared the key in person.")); } catch (e) { showError(root, e); }
            } }, "Keys match: confirm"),
        h("button", { type: "button", id: "carrier-toggle", class: "secondary", onclick: async () => {
          const designate = !mine.has(c.address);
          try {
            await api.designateCarrier(state.identity, c.address, designate);
            if (designate) mine.add(c.address); else mine.delete(c.address);
            show(c);
            put(detail, h("p", { class: "ok", id: "carrier-changed" }, designate ? "Now one of your carriers: your contacts will hand mail to them while you are offline." : "No longer one of your carriers."));
          } catch (e) { showError(root, e); }
        } }, mine.has(c.address) ? "Stop using as carrier" : "Use as my carrier"),
      ),
      h(
        "ul",
        { class: "provenance" },
        ...c.introductions.map((i) =>
          h("li", { class: i.conflict ? "conflict" : "" }, `Introduced by ${i.introducer_name || short(i.introducer)} on ${when(i.received_at)}`, i.conflict ? " — a different key: not used" : ""),
        ),
      ),
      others.length > 0
        ? h(
            "form",
            {
              class: "inline",
              onsubmit: async (ev: Event) => {
                ev.preventDefault();
                try {
                  await api.introduce(state.identity, c.address, target.value, both.checked);
                  put(detail, h("p", { class: "ok", id: "introduced" }, "Introduction sent."));
                } catch (e) {
                  showError(root, e);
                }
              },
            },
            h("label", { for: "introduce-to" }, "Introduce to"),
            target,
            h("label", { for: "both" }, both, " and the other way round"),
            h("button", { type: "submit" }, "Introduce"),
          )
        : null,
    );
  };
  put(root,
    h(
      "ul",
      { class: "list", id: "contacts" },
      ...list.map((c) =>
        h("li", {}, h("button", { type: "button", onclick: () => show(c) }, h("span", { class: "from" }, c.display_name || short(c.address)), h("span", { class: `badge ${c.trust}` }, c.trust))),
      ),
    ),
    list.length === 0 ? h("p", { class: "empty" }, "No contacts yet. Meet someone on the Meet screen.") : null,
    detail,
  );
}

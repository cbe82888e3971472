import { api } from "../api";
import { h, put, replace, when } from "../dom";
import { showError } from "../main";

/// Identities → Manage: this identity's other devices (each with an identity of its own).
/// Linked devices carry for each other, get copies of mail from contacts and keep read,
/// starred and answered marks in step. Linking is one scan: one device shows a device invite,
/// the other redeems it.
export function ownDevicesCard(identity: string): HTMLElement {
  const card = h("section", { class: "card", id: "own-devices-card" });
  const list = h("ul", { class: "list", id: "own-devices" });
  const result = h("div", { id: "device-link-result", "aria-live": "polite" });
  const draw = async () => {
    try {
      const devices = await api.ownDevices(identity);
      replace(list,
        ...(devices.length === 0
          ? [h("li", { class: "hint" }, "No other device linked.")]
          : devices.map((d) =>
            h("li", {},
              h("span", {}, d.display_name || d.address),
              h("span", { class: "address" }, d.address),
              h("button", { type: "button", class: "secondary unlink", onclick: async () => {
                try { await api.deviceUnlink(identity, d.address); await draw(); } catch (e) { showError(card, e); }
              } }, "Unlink"),
            ))),
      );
    } catch (e) {
      showError(card, e);
    }
  };
  const text = h("input", { id: "device-link-text", placeholder: "POSTERN-OWN-DEVICE:… shown by your other device" });
  put(card,
    h("h2", {}, "Your other devices"),
    h("p", { class: "hint" }, "A linked device carries this identity's mail while this one is off (and the other way round), gets a copy of mail from your contacts, and keeps read, starred and answered marks in step."),
    list,
    h("div", { class: "inline" },
      h("button", { type: "button", id: "device-link-offer", onclick: async () => {
        try {
          const i = await api.deviceLinkOffer(identity);
          const code = h("div", { class: "qr", id: "device-link-qr", role: "img", "aria-label": "A device invite as a QR code" });
          code.innerHTML = i.svg;
          replace(result, code,
            h("input", { id: "device-link-invite", readonly: true, value: i.link }),
            h("p", { class: "hint" }, `Scan or paste it on your other device, once, until ${when(i.expires_at)}. Show it to nobody else: whoever redeems it gets copies of this identity's mail.`));
        } catch (e) { showError(card, e); }
      } }, "Show a device invite"),
    ),
    h("label", { for: "device-link-text" }, "Or link to the device that shows an invite"),
    text,
    h("button", { type: "button", id: "device-link-accept", onclick: async () => {
      try {
        const c = await api.deviceLinkAccept(identity, text.value);
        replace(result, h("p", { class: "ok", id: "device-linked" }, `Linked with ${c.display_name || c.address}. It carries for this identity and this one for it.`));
        await draw();
      } catch (e) { showError(card, e); }
    } }, "Link"),
    result,
  );
  void draw();
  return card;
}

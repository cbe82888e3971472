import { api, Identity } from "../api";
import { h, put, replace } from "../dom";
import { identityChip } from "../identity";
import { showError } from "../main";
import { state } from "../state";
import { ownDevicesCard } from "./own_devices";

/// Identities: each its own onion address, keys and address book; pick the one to use, make a
/// new one, revoke a key or an address, delete one.
export async function identitiesScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Identities"));
  const ids = await api.identities();
  const danger = h("section", { id: "identity-actions", "aria-live": "polite" });
  const confirmBox = h("dialog", { id: "confirm-identity" });
  const ask = (sentence: string, yes: string) =>
    new Promise<boolean>((resolve) => {
      replace(
        confirmBox,
        h("p", { id: "confirm-text" }, sentence),
        h("div", { class: "inline" },
          h("button", { type: "button", id: "confirm-yes", class: "danger", onclick: () => { confirmBox.close(); resolve(true); } }, yes),
          h("button", { type: "button", id: "confirm-no", class: "secondary", onclick: () => { confirmBox.close(); resolve(false); } }, "Cancel"),
        ),
      );
      confirmBox.showModal();
    });
  const manage = (i: Identity) => {
    replace(
      danger,
      h("h2", {}, "Manage ", identityChip(i.address, i.display_name)),
      h("p", { class: "hint" }, "Revoking the key gives this identity a new key and tells every contact, signed with the onion key. Revoking the address ends it: contacts are told never to trust it again. Stop the node first (a running node serves the old keys)."),
      h("div", { class: "inline" },
        h("button", { type: "button", id: "revoke-key", onclick: async () => {
          if (!(await ask(`Replace the key of ${i.address} and tell its ${i.contacts} contacts?`, "Revoke the key"))) return;
          try { const r = await api.revoke(i.address, false, "replaced in the app"); put(danger, h("p", { class: "ok", id: "revoked" }, `Key revoked; ${r.notified} contacts will be told.`)); } catch (e) { showError(root, e); }
        } }, "Revoke key…"),
        h("button", { type: "button", id: "revoke-address", class: "danger", onclick: async () => {
          if (!(await ask(`End ${i.address} for good? Contacts are told to trust it no more. This cannot be undone.`, "Revoke the address"))) return;
          try { const r = await api.revoke(i.address, true, "ended in the app"); put(danger, h("p", { class: "ok", id: "revoked" }, `Address revoked; ${r.notified} contacts will be told.`)); } catch (e) { showError(root, e); }
        } }, "Revoke address…"),
        h("button", { type: "button", id: "device-lost", onclick: async () => {
          if (!(await ask(`A device holding ${i.address} is lost? It will be served only here, its key is replaced and its ${i.contacts} contacts are told.`, "It is lost"))) return;
          try {
            const r = await api.deviceLost(i.address, "one of my devices was lost");
            put(danger, h("p", { class: "ok", id: "revoked" }, `Served only here now (term ${r.term}); key replaced; ${r.revocation.notified} contacts will be told. The lost device still holds this address's onion key: if it may be used against you, revoke the address too.`));
          } catch (e) { showError(root, e); }
        } }, "A device with it was lost…"),
        h("button", { type: "button", id: "delete-identity", class: "danger", onclick: async () => {
          if (!(await ask(`Delete ${i.address} and all its keys, contacts and mail from this device? This cannot be undone.`, "Delete identity"))) return;
          try {
            await api.deleteIdentity(i.address);
            if (state.identity === i.address) state.setIdentity("");
            location.reload();
          } catch (e) { showError(root, e); }
        } }, "Delete…"),
      ),
      i.hosted_by ? "" : ownDevicesCard(i.address),
    );
  };
  put(root,
    h("p", { class: "hint" }, "Each identity has its own onion address and keys. Nobody can tell two of your identities belong together."),
    h(
      "ul",
      { class: "list", id: "identities" },
      ...ids.map((i) =>
        h(
          "li",
          { class: i.address === state.identity ? "current" : "" },
          identityChip(i.address, i.display_name),
          h("span", { class: "address" }, i.address),
          i.hosted_by
            ? i.holder_key
              ? h("span", { class: "badge hosted", title: `Hosted by ${i.hosted_by}: someone else's account on this device; mail to it is encrypted to its holder's own key, which you do not have` }, "hosted account · encrypted to its holder")
              : h("span", { class: "badge hosted", title: `Hosted by ${i.hosted_by}: someone else's account on this device, whose mail you can read` }, "hosted account · readable here")
            : "",
          i.address === state.identity
            ? h("span", { class: "badge" }, "in use")
            : h("button", { type: "button", class: "use", onclick: () => { state.setIdentity(i.address); location.hash = "#/mail/inbox"; } }, "Use"),
          h("button", { type: "button", class: "secondary manage", onclick: () => manage(i) }, "Manage…"),
        ),
      ),
    ),
    danger,
    confirmBox,
  );
  const name = h("input", { id: "new-name", required: true });
  const display = h("input", { id: "new-display-name" });
  const form = h("form", { class: "card" }, h("h2", {}, "New identity"), h("label", { for: "new-name" }, "Name (before @)"), name, h("label", { for: "new-display-name" }, "Display name"), display, h("button", { type: "submit" }, "Create"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const i = await api.createIdentity(name.value, display.value);
      state.setIdentity(i.address);
      location.reload();
    } catch (e) {
      showError(root, e);
    }
  });
  put(root, form);
}

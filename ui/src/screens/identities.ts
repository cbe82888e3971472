import { api } from "../api";
import { h, put } from "../dom";
import { showError } from "../main";
import { state } from "../state";

/// Identities: each its own onion address, keys and address book; pick the one to use.
export async function identitiesScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Identities"));
  const ids = await api.identities();
  put(root,
    h("p", { class: "hint" }, "Each identity has its own onion address and keys. Nobody can tell two of your identities belong together."),
    h(
      "ul",
      { class: "list", id: "identities" },
      ...ids.map((i) =>
        h(
          "li",
          { class: i.address === state.identity ? "current" : "" },
          h("span", { class: "from" }, i.display_name || i.address.split("@")[0]),
          h("span", { class: "address" }, i.address),
          i.address === state.identity
            ? h("span", { class: "badge" }, "in use")
            : h("button", { type: "button", onclick: () => { state.setIdentity(i.address); location.hash = "#/inbox"; } }, "Use"),
        ),
      ),
    ),
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

import { api, AppStatus } from "../api";
import { h, put } from "../dom";
import { showError } from "../main";
import { state } from "../state";

/// First run: a passphrase and a first identity. Later: unlock.
export async function startScreen(root: HTMLElement, st: AppStatus, done: () => void) {
  if (st.initialized) {
    const pass = h("input", { type: "password", id: "passphrase", autocomplete: "current-password", required: true });
    const form = h(
      "form",
      { class: "card" },
      h("h1", {}, "Unlock Postern"),
      h("label", { for: "passphrase" }, "Passphrase"),
      pass,
      h("button", { type: "submit" }, "Unlock"),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api.unlock(pass.value);
        done();
      } catch (e) {
        showError(root, e);
      }
    });
    put(root, form);
    return;
  }
  const pass = h("input", { type: "password", id: "new-passphrase", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", id: "repeat-passphrase", autocomplete: "new-password", required: true });
  const name = h("input", { id: "name", value: "me", required: true });
  const display = h("input", { id: "display-name", placeholder: "The name your contacts see" });
  const form = h(
    "form",
    { class: "card" },
    h("h1", {}, "Welcome to Postern"),
    h("p", {}, "Your mail lives on this device and travels only through Tor. Choose a passphrase: it protects your keys and mail here, and nobody can recover it for you."),
    h("label", { for: "new-passphrase" }, "Passphrase"),
    pass,
    h("label", { for: "repeat-passphrase" }, "Repeat it"),
    again,
    h("label", { for: "name" }, "Your first identity (the part before @)"),
    name,
    h("label", { for: "display-name" }, "Display name"),
    display,
    h("button", { type: "submit" }, "Create"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pass.value !== again.value) {
      showError(root, { kind: "BadInput", message: "the passphrases differ" });
      return;
    }
    try {
      await api.init(pass.value);
      const id = await api.createIdentity(name.value, display.value);
      state.setIdentity(id.address);
      location.hash = "#/qr";
      done();
    } catch (e) {
      showError(root, e);
    }
  });
  put(root, form);
}

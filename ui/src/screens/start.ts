import { api, AppStatus } from "../api";
import { h, put } from "../dom";
import { chooseFile } from "../files";
import { receiveCard } from "./devices";
import { showError } from "../main";
import { state } from "../state";

/// First run: a passphrase and a first identity, or a backup restored. Later: unlock.
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
  put(root, form, receiveCard(root, done), restoreCard(root, done));
}

/// A new device: restore a backup (its file and passphrase) under a passphrase for this device.
function restoreCard(root: HTMLElement, done: () => void) {
  const file = h("input", { id: "restore-file", required: true, placeholder: "/home/me/postern.backup" });
  const choose = h("button", { type: "button", id: "restore-choose" }, "Choose…");
  choose.addEventListener("click", async () => {
    const f = await chooseFile("open", "Restore which backup?");
    if (f) file.value = f;
  });
  const backupPass = h("input", { type: "password", id: "restore-passphrase", autocomplete: "off", required: true });
  const pass = h("input", { type: "password", id: "restore-new-passphrase", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", id: "restore-repeat", autocomplete: "new-password", required: true });
  const form = h(
    "form",
    { class: "card", id: "restore" },
    h("h2", {}, "Or restore a backup"),
    h("p", { class: "hint" }, "Moving from another device? Restore the backup you wrote there: its identities, contacts and mail come here. Nothing is written unless the whole backup checks."),
    h("label", { for: "restore-file" }, "Backup file"),
    h("div", { class: "inline" }, file, choose),
    h("label", { for: "restore-passphrase" }, "The backup's passphrase"),
    backupPass,
    h("label", { for: "restore-new-passphrase" }, "A passphrase for this device"),
    pass,
    h("label", { for: "restore-repeat" }, "Repeat it"),
    again,
    h("button", { type: "submit" }, "Restore"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pass.value !== again.value) {
      showError(root, { kind: "BadInput", message: "the passphrases for this device differ" });
      return;
    }
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    button.disabled = true;
    put(form, h("p", { class: "hint", id: "restore-busy", role: "status" }, "Reading and checking the backup…"));
    try {
      const b = await api.backupImport(file.value, backupPass.value, pass.value);
      if (b.identities.length > 0) state.setIdentity(b.identities[0]);
      location.hash = "#/mail/inbox";
      done();
    } catch (e) {
      showError(root, e);
    } finally {
      form.querySelector("#restore-busy")?.remove();
      button.disabled = false;
    }
  });
  return form;
}

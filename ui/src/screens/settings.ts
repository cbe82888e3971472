import { api } from "../api";
import { h, put } from "../dom";
import { chooseFile } from "../files";
import { offerCard } from "./devices";
import { showError } from "../main";

/// Settings: what a notification may say (private by default), the store's passphrase, and
/// backups.
export async function settingsScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Settings"));
  const n = await api.notificationSettings();
  const box = (id: string, checked: boolean, label: string) => {
    const input = h("input", { type: "checkbox", id, checked });
    return [input, h("label", { for: id, class: "check" }, input, " ", label)] as const;
  };
  const [sender, senderLabel] = box("notify-sender", n.show_sender, "Show the sender's name");
  const [subject, subjectLabel] = box("notify-subject", n.show_subject, "Show the subject");
  const [requests, requestsLabel] = box("notify-requests", n.requests, "Also for contact requests");
  const notify = h(
    "form",
    { class: "card", id: "notifications" },
    h("h2", {}, "Notifications"),
    h("p", { class: "hint" }, "By default a notification says only that mail came: anyone who sees your screen learns nothing more."),
    senderLabel,
    subjectLabel,
    requestsLabel,
    h("button", { type: "submit" }, "Save"),
  );
  notify.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api.setNotificationSettings({ show_sender: sender.checked, show_subject: subject.checked, requests: requests.checked });
      notify.querySelector(".ok")?.remove();
      put(notify, h("p", { class: "ok", id: "notifications-saved" }, "Saved."));
    } catch (e) {
      showError(root, e);
    }
  });
  const old = h("input", { type: "password", id: "old-passphrase", autocomplete: "current-password", required: true });
  const fresh = h("input", { type: "password", id: "new-passphrase", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", id: "repeat-passphrase", autocomplete: "new-password", required: true });
  const pass = h(
    "form",
    { class: "card", id: "passphrase" },
    h("h2", {}, "Passphrase"),
    h("label", { for: "old-passphrase" }, "Current passphrase"),
    old,
    h("label", { for: "new-passphrase" }, "New passphrase"),
    fresh,
    h("label", { for: "repeat-passphrase" }, "New passphrase again"),
    again,
    h("button", { type: "submit" }, "Change passphrase"),
  );
  pass.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (fresh.value !== again.value) {
      showError(root, { kind: "bad_input", message: "the new passphrases differ" });
      return;
    }
    try {
      await api.changePassphrase(old.value, fresh.value);
      root.querySelector(".error")?.remove();
      pass.reset();
      put(pass, h("p", { class: "ok", id: "passphrase-changed" }, "Passphrase changed."));
    } catch (e) {
      showError(root, e);
    }
  });
  put(root, notify, pass, backupCard(root), offerCard(root));
}

/// An encrypted backup: a file, a passphrase of its own (twice), with or without mail.
function backupCard(root: HTMLElement) {
  const file = h("input", { id: "backup-file", required: true, placeholder: "/home/me/postern.backup" });
  const pass = h("input", { type: "password", id: "backup-passphrase", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", id: "backup-repeat", autocomplete: "new-password", required: true });
  const mail = h("input", { type: "checkbox", id: "backup-mail", checked: true });
  const choose = h("button", { type: "button", id: "backup-choose" }, "Choose…");
  choose.addEventListener("click", async () => {
    const f = await chooseFile("save", "Write the backup to");
    if (f) file.value = f;
  });
  const form = h(
    "form",
    { class: "card", id: "backup" },
    h("h2", {}, "Backup"),
    h("p", { class: "hint" }, "Every identity with its keys, contacts, carriers and lists, in one file sealed with a passphrase of its own. Restore it on a new device when Postern starts there; run only one device with these identities at a time."),
    h("label", { for: "backup-file" }, "File"),
    h("div", { class: "inline" }, file, choose),
    h("label", { for: "backup-passphrase" }, "Backup passphrase"),
    pass,
    h("label", { for: "backup-repeat" }, "Backup passphrase again"),
    again,
    h("label", { for: "backup-mail", class: "check" }, mail, " Include mail and attachments"),
    h("button", { type: "submit" }, "Write backup"),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelector(".ok")?.remove();
    if (pass.value !== again.value) {
      showError(root, { kind: "bad_input", message: "the backup passphrases differ" });
      return;
    }
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    button.disabled = true;
    put(form, h("p", { class: "hint", id: "backup-busy", role: "status" }, "Writing the backup…"));
    try {
      const b = await api.backupExport(file.value, pass.value, mail.checked);
      root.querySelector(".error")?.remove();
      const what = b.mail ? `${b.messages} message${b.messages === 1 ? "" : "s"}` : "no mail";
      put(form, h("p", { class: "ok", id: "backup-written" }, `Backup written: ${b.identities.length} identit${b.identities.length === 1 ? "y" : "ies"}, ${what}.`));
      pass.value = again.value = "";
    } catch (e) {
      showError(root, e);
    } finally {
      form.querySelector("#backup-busy")?.remove();
      button.disabled = false;
    }
  });
  return form;
}

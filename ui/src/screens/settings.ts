import { api } from "../api";
import { h, put } from "../dom";
import { showError } from "../main";

/// Settings: what a notification may say (private by default), and the store's passphrase.
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
  put(root, notify, pass);
}

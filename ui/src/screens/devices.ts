import { api, DeviceTransferView } from "../api";
import { h, replace } from "../dom";
import { showError } from "../main";

/// Follow a transfer's progress until it ends: a bar and a sentence, redrawn every half second.
export function follow(bar: HTMLProgressElement, line: HTMLElement, stopWhen: (v: DeviceTransferView) => boolean) {
  const tick = async () => {
    if (!bar.isConnected) return;
    try {
      const v = await api.deviceStatus();
      if (v.total > 0) {
        bar.max = v.total;
        bar.value = v.done;
      }
      line.textContent =
        v.state === "waiting" ? "Waiting for the new device…" :
        v.state === "moving" ? `Moving: ${Math.floor((100 * v.done) / Math.max(1, v.total))}%` :
        v.state === "done" ? v.message || "Done." :
        v.state === "failed" ? v.message : "";
      line.className = v.state === "failed" ? "failed" : v.state === "done" ? "ok" : "hint";
      if (!stopWhen(v)) setTimeout(() => void tick(), 500);
    } catch {
      setTimeout(() => void tick(), 1000);
    }
  };
  void tick();
}

/// Settings: move everything to a new device by a one-time QR code (or link), over Tor.
export function offerCard(root: HTMLElement) {
  const mail = h("input", { type: "checkbox", id: "device-mail", checked: true });
  const shown = h("div", { id: "device-offer" });
  const form = h(
    "form",
    { class: "card", id: "device" },
    h("h2", {}, "A new device"),
    h("p", { class: "hint" }, "Show a one-time code; on the new device choose “Receive from your other device” and scan or paste it. Your identities, contacts and mail move over Tor, sealed with the code's secret; nothing passes through any server."),
    h("label", { for: "device-mail", class: "check" }, mail, " Include mail and attachments"),
    h("button", { type: "submit" }, "Show a code for the new device"),
    shown,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const o = await api.deviceOffer(mail.checked);
      const code = h("div", { class: "qr", id: "device-qr", role: "img", "aria-label": "QR code for the new device" });
      code.innerHTML = o.qr_svg;
      const bar = h("progress", { id: "device-progress", max: "1", value: "0" }) as HTMLProgressElement;
      const line = h("p", { id: "device-state", role: "status" });
      replace(
        shown,
        code,
        h("label", { for: "device-link" }, `Or the link (works once, for ${o.valid_minutes} minutes)`),
        h("input", { id: "device-link", readonly: true, value: o.link }),
        bar,
        line,
      );
      follow(bar, line, (v) => v.state === "done" || v.state === "failed");
    } catch (e) {
      showError(root, e);
    }
  });
  return form;
}

/// The first screen: receive everything from the other device, by its link.
export function receiveCard(root: HTMLElement, done: () => void) {
  const link = h("input", { id: "receive-link", required: true, placeholder: "POSTERN-DEVICE:…", autocomplete: "off" });
  const pass = h("input", { type: "password", id: "receive-passphrase", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", id: "receive-repeat", autocomplete: "new-password", required: true });
  const bar = h("progress", { id: "receive-progress", max: "1", value: "0", hidden: "" }) as HTMLProgressElement;
  const line = h("p", { id: "receive-state", role: "status" });
  const form = h(
    "form",
    { class: "card", id: "receive" },
    h("h2", {}, "Or receive from your other device"),
    h("p", { class: "hint" }, "On the other device: Settings → A new device → Show a code. Paste its link here."),
    h("label", { for: "receive-link" }, "The link"),
    link,
    h("label", { for: "receive-passphrase" }, "A passphrase for this device"),
    pass,
    h("label", { for: "receive-repeat" }, "Repeat it"),
    again,
    h("button", { type: "submit" }, "Receive"),
    bar,
    line,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (pass.value !== again.value) {
      showError(root, { kind: "BadInput", message: "the passphrases for this device differ" });
      return;
    }
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    button.disabled = true;
    bar.hidden = false;
    let finished = false;
    follow(bar, line, () => finished);
    try {
      await api.deviceReceive(link.value, pass.value);
      finished = true;
      location.hash = "#/mail/inbox";
      done();
    } catch (e) {
      finished = true;
      bar.hidden = true;
      line.textContent = "";
      showError(root, e);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

import { api } from "../api";
import { h, put, replace, short } from "../dom";
import { showError, whileShown } from "../main";

/// Joining Tor: a progress bar, then each identity's onion service.
export async function torScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Network"));
  const bar = h("progress", { max: "100", value: "0", id: "bootstrap", "aria-label": "Connecting to Tor" });
  const text = h("p", { id: "bootstrap-text" }, "");
  const list = h("ul", { id: "reachability" });
  const done = h("p", { id: "take-over-result", role: "status" });
  const button = h("button", { type: "button", id: "connect" }, "Connect to Tor");
  put(root, bar, text, button, list, done);
  const show = (s: Awaited<ReturnType<typeof api.nodeStatus>>) => {
    bar.value = s.percent;
    text.textContent =
      s.state === "online" && s.serving.length === 0 && s.standing_by.length > 0
        ? "Connected. Your other device serves your identities; this one stands by."
        : s.state === "online"
        ? "Connected. Your identities can be reached."
        : s.state === "failed"
          ? `Could not connect: ${s.message}. Check the network and try again.`
          : s.state === "off"
            ? "Not connected."
            : s.state === "paused"
              ? "Paused while this device sleeps; your carriers hold your mail until it wakes."
              : `Connecting: ${s.message}`;
    button.hidden = s.state === "online" || s.state === "connecting";
    replace(list,
      ...s.serving.map((a) => h("li", {}, h("span", { class: "ok" }, "reachable "), short(a))),
      ...s.standing_by.map((b) => {
        const take = h("button", { type: "button", class: "take-over" }, "Serve it here");
        take.addEventListener("click", async () => {
          take.disabled = true;
          take.textContent = "Asking your other device…";
          try {
            const [r] = await api.deviceTakeOver(b.address);
            show(await api.nodeStatus());
            done.textContent = r ? `${short(r.identity)}: ${r.message}` : "";
          } catch (e) {
            showError(root, e);
            take.disabled = false;
            take.textContent = "Serve it here";
          }
        });
        return h(
          "li",
          { class: "standby" },
          short(b.address),
          " ",
          h("span", { class: "hint" }, b.device === "unknown"
            ? "not served here: something else answers at its address"
            : `not served here: your device ${b.device} serves it`),
          " ",
          take,
        );
      }),
    );
  };
  button.addEventListener("click", async () => {
    try {
      show(await api.startNode());
    } catch (e) {
      showError(root, e);
    }
  });
  show(await api.nodeStatus());
  // Progress comes as the core announces it.
  whileShown(async (e) => {
    if (e.kind !== "tor" && e.kind !== "lagged") return;
    try {
      show(await api.nodeStatus());
    } catch (err) {
      showError(root, err);
    }
  });
}

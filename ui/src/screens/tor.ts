import { api } from "../api";
import { h, put, replace, short } from "../dom";
import { showError, whileShown } from "../main";

/// Joining Tor: a progress bar, then each identity's onion service.
export async function torScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Network"));
  const bar = h("progress", { max: "100", value: "0", id: "bootstrap", "aria-label": "Connecting to Tor" });
  const text = h("p", { id: "bootstrap-text" }, "");
  const list = h("ul", { id: "reachability" });
  const button = h("button", { type: "button", id: "connect" }, "Connect to Tor");
  put(root, bar, text, button, list);
  const show = (s: Awaited<ReturnType<typeof api.nodeStatus>>) => {
    bar.value = s.percent;
    text.textContent =
      s.state === "online"
        ? "Connected. Your identities can be reached."
        : s.state === "failed"
          ? `Could not connect: ${s.message}. Check the network and try again.`
          : s.state === "off"
            ? "Not connected."
            : `Connecting: ${s.message}`;
    button.hidden = s.state === "online" || s.state === "connecting";
    replace(list,
      ...s.serving.map((a) => h("li", {}, h("span", { class: "ok" }, "reachable "), short(a))),
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

import { api } from "../api";
import { h, put, short, when } from "../dom";
import { showError } from "../main";
import { state } from "../state";

/// Carrier mode: the switch, whom to carry for, the quota and holding time, what is held now.
export async function carrierScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Carrier mode"));
  const [v, contacts] = await Promise.all([api.carriers(state.identity), api.contacts(state.identity)]);
  const m = v.mode;
  const toggle = h("input", { type: "checkbox", id: "carrier-on", role: "switch", checked: m.enabled });
  toggle.addEventListener("change", async () => {
    try {
      await api.setCarrierMode(state.identity, toggle.checked);
    } catch (e) {
      showError(root, e);
    }
  });
  const quota = h("input", { type: "number", id: "quota", value: String(Math.round(m.quota_bytes / 1048576)) });
  const hold = h("input", { type: "number", id: "hold", value: String(Math.round(m.max_hold_secs / 3600)) });
  const boxes = contacts.map((c) => h("input", { type: "checkbox", value: c.address, id: `allow-${c.id}`, checked: m.carrying_for.includes(c.address) }));
  const policy = h(
    "form",
    { class: "card" },
    h("h2", {}, "Policy"),
    h("fieldset", {}, h("legend", {}, "Carry mail for"), ...contacts.map((c, i) => h("label", { for: `allow-${c.id}` }, boxes[i], " ", c.display_name || short(c.address)))),
    h("label", { for: "quota" }, "Storage quota (MB)"),
    quota,
    h("label", { for: "hold" }, "Hold mail at most (hours)"),
    hold,
    h("button", { type: "submit" }, "Save"),
  );
  policy.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const allow = boxes.filter((b) => b.checked).map((b) => b.value);
      await api.setCarrierPolicy(state.identity, allow, Number(quota.value), Number(hold.value));
      put(policy, h("p", { class: "ok", id: "saved" }, "Saved."));
    } catch (e) {
      showError(root, e);
    }
  });
  const held = v.held.filter((x) => x.state === "held" || x.state === "forwarding");
  put(root,
    h("label", { class: "switch", for: "carrier-on" }, toggle, " Hold mail for friends who are offline"),
    h("p", { class: "hint", id: "carrier-note" }, m.note),
    policy,
    h("h2", {}, `Held now (${held.length})`),
    h("ul", { class: "list", id: "held" }, ...held.map((x) => h("li", {}, `${short(x.sender)} → ${short(x.recipient)}, ${x.size} bytes, until ${when(x.expires_at)}`))),
    h("h2", {}, "Your carriers"),
    h("ul", { class: "list", id: "my-carriers" }, ...v.my_carriers.map((c) => h("li", {}, short(c)))),
  );
}

import "./style.css";
import { api, AppEvent, explain, onEvent } from "./api";
import { h } from "./dom";
import { state } from "./state";
import { startScreen } from "./screens/start";
import { torScreen } from "./screens/tor";
import { mailScreen } from "./screens/mail";
import { identityChip } from "./identity";
import { composeScreen } from "./screens/compose";
import { contactsScreen } from "./screens/contacts";
import { qrScreen } from "./screens/qr";
import { identitiesScreen } from "./screens/identities";
import { carrierScreen } from "./screens/carrier";
import { listsScreen } from "./screens/lists";
import { settingsScreen } from "./screens/settings";

export type Screen = (root: HTMLElement, arg?: number) => Promise<void>;

const screens: Record<string, [string, Screen]> = {
  mail: ["Mail", mailScreen],
  compose: ["Write", composeScreen],
  lists: ["Lists", listsScreen],
  contacts: ["Contacts", contactsScreen],
  qr: ["Meet", qrScreen],
  identities: ["Identities", identitiesScreen],
  carrier: ["Carrier", carrierScreen],
  tor: ["Network", torScreen],
  settings: ["Settings", settingsScreen],
};

/// Keys of the screen on show (single keys, outside text fields).
let keys: Record<string, () => void> = {};

/// Called by a screen while it draws: its keyboard shortcuts until another screen is shown.
export function setKeys(k: Record<string, () => void>) {
  keys = k;
}

document.addEventListener("keydown", (e) => {
  const t = e.target as HTMLElement | null;
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector("dialog[open]")) return;
  if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName))) return;
  const f = e.key === "c" ? () => (location.hash = "#/compose") : keys[e.key];
  if (f) {
    e.preventDefault();
    f();
  }
});

/// On a phone the on-screen keyboard shrinks the window (Phosh, Plasma Mobile) or the visual
/// viewport (Android's web view): the field being typed in is brought back into view.
function keepFocusedFieldInView() {
  const e = document.activeElement as HTMLElement | null;
  if (!e || !(e.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(e.tagName))) return;
  const r = e.getBoundingClientRect();
  const height = window.visualViewport?.height ?? window.innerHeight;
  if (r.top >= 0 && r.top + Math.min(r.height, 88) <= height) return;
  e.scrollIntoView({ block: r.height > height ? "start" : "nearest" });
}
window.addEventListener("resize", keepFocusedFieldInView);
window.visualViewport?.addEventListener("resize", keepFocusedFieldInView);

/// Show an error as a sentence, with what to do.
export function showError(root: HTMLElement, e: unknown) {
  root.querySelector(".error")?.remove();
  root.prepend(h("p", { class: "error", role: "alert" }, explain(e)));
}

let generation = 0;

/// What the screen on show does when something changes (nothing unless it says).
let live: ((e: AppEvent) => void) | null = null;

/// Called by a screen while it draws: `f` runs for every change until another screen is shown.
export function whileShown(f: (e: AppEvent) => void) {
  live = f;
}

/// Draw the current route. Screens build off-document; only the newest render is shown, so quick
/// successive navigations never stack two screens.
async function render() {
  const mine = ++generation;
  live = null;
  keys = {};
  const app = document.getElementById("app")!;
  // Routes: mail/<mailbox>, compose[/<draft>], and the other screens by name.
  const [first, second] = (location.hash.replace(/^#\/?/, "") || "mail/inbox").split("/");
  const route = first === "inbox" ? "mail" : first;
  if (route === "mail") state.mailbox = second || "inbox";
  const main = h("main", { id: "screen" });
  const show = (...nodes: Node[]) => {
    if (mine !== generation) return;
    app.replaceChildren(...nodes);
    // Which render is on show (tests wait for a new one).
    app.dataset.shown = String(mine);
  };
  try {
    const st = await api.status();
    if (!st.unlocked) {
      await startScreen(main, st, () => render());
      return show(main);
    }
    const ids = await api.identities();
    if (!ids.some((i) => i.address === state.identity) && ids.length > 0) state.setIdentity(ids[0].address);
    const me = ids.find((i) => i.address === state.identity);
    const switcher = h(
      "select",
      { id: "identity-switch", "aria-label": "Identity in use" },
      ...ids.map((i) => h("option", { value: i.address, selected: i.address === state.identity }, i.display_name || i.address.split("@")[0])),
    );
    switcher.addEventListener("change", () => {
      state.setIdentity(switcher.value);
      void render();
    });
    const nav = h(
      "nav",
      { "aria-label": "Screens" },
      ...Object.entries(screens).map(([key, [label]]) =>
        h("a", { href: `#/${key}`, "aria-current": key === route ? "page" : "false" }, label),
      ),
    );
    const who = h("div", { class: "who" }, me ? identityChip(me.address, me.display_name, { id: "current-identity" }) : null, ids.length > 1 ? switcher : null);
    const header = h("header", {}, h("strong", {}, "Postern"), who, nav);
    const [, screen] = screens[route] ?? screens.mail;
    const arg = second && /^\d+$/.test(second) ? Number(second) : undefined;
    await screen(main, arg);
    show(header, main);
  } catch (e) {
    showError(main, e);
    show(main);
  }
}

window.addEventListener("hashchange", () => void render());
// The core announces changes; nothing here polls.
void onEvent((e) => live?.(e)).catch(() => undefined);
void render();

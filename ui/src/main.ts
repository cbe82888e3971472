import "./style.css";
import { api, AppEvent, explain, onEvent } from "./api";
import { h } from "./dom";
import { state } from "./state";
import { startScreen } from "./screens/start";
import { torScreen } from "./screens/tor";
import { inboxScreen } from "./screens/inbox";
import { composeScreen } from "./screens/compose";
import { contactsScreen } from "./screens/contacts";
import { qrScreen } from "./screens/qr";
import { identitiesScreen } from "./screens/identities";
import { carrierScreen } from "./screens/carrier";

export type Screen = (root: HTMLElement) => Promise<void>;

const screens: Record<string, [string, Screen]> = {
  tor: ["Network", torScreen],
  inbox: ["Inbox", inboxScreen],
  compose: ["Write", composeScreen],
  contacts: ["Contacts", contactsScreen],
  qr: ["Meet", qrScreen],
  identities: ["Identities", identitiesScreen],
  carrier: ["Carrier", carrierScreen],
};

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
  const app = document.getElementById("app")!;
  const route = location.hash.replace(/^#\/?/, "") || "inbox";
  const main = h("main", { id: "screen" });
  const show = (...nodes: Node[]) => {
    if (mine === generation) app.replaceChildren(...nodes);
  };
  try {
    const st = await api.status();
    if (!st.unlocked) {
      await startScreen(main, st, () => render());
      return show(main);
    }
    if (!state.identity) {
      const ids = await api.identities();
      if (ids.length > 0) state.setIdentity(ids[0].address);
    }
    const nav = h(
      "nav",
      { "aria-label": "Screens" },
      ...Object.entries(screens).map(([key, [label]]) =>
        h("a", { href: `#/${key}`, "aria-current": key === route ? "page" : "false" }, label),
      ),
    );
    const header = h("header", {}, h("strong", {}, "Postern"), nav);
    const [, screen] = screens[route] ?? screens.inbox;
    await screen(main);
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

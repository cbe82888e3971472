// Which identity is acting, always visible: a chip in the identity's own colour. Writing from
// the wrong one of one's unlinkable identities is the worst mistake the app could let happen.
import { h, short } from "./dom";

/// A stable colour per identity (from its address), dark enough for white text.
export function identityColour(address: string): string {
  let hash = 2166136261;
  for (let i = 0; i < address.length; i++) hash = Math.imul(hash ^ address.charCodeAt(i), 16777619);
  const hue = (hash >>> 0) % 360;
  return `hsl(${hue} 55% 34%)`;
}

/// The chip: the identity's name and short address on its colour.
export function identityChip(address: string, name: string, attrs: Record<string, string> = {}): HTMLElement {
  const chip = h(
    "span",
    { class: "identity-chip", title: address, ...attrs },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "name" }, name || address.split("@")[0]),
    h("span", { class: "short" }, short(address)),
  );
  chip.style.background = identityColour(address);
  return chip;
}

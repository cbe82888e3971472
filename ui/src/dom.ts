// A tiny DOM builder: enough for a handful of screens without a framework.
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

export function when(t: number | null | undefined): string {
  if (!t) return "";
  return new Date(t * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export function short(address: string): string {
  const [local, host] = address.split("@");
  return host ? `${local}@${host.slice(0, 8)}….onion` : address;
}

export function bytesToB64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/// Append children, skipping the absent ones.
export function put(el: Element, ...children: Child[]) {
  for (const c of children) if (c) el.append(c);
}

/// Replace an element's children, skipping the absent ones.
export function replace(el: Element, ...children: Child[]) {
  el.replaceChildren();
  put(el, ...children);
}

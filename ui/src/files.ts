// Paths the person chooses: the system's dialog in the app, a typed path in a browser without one.

type Dialog = { __TAURI_INTERNALS__?: { invoke: (c: string, a: unknown) => Promise<unknown> } };

async function dialog(command: "open" | "save", options: Record<string, unknown>): Promise<string | null | undefined> {
  try {
    const r = await (window as unknown as Dialog).__TAURI_INTERNALS__?.invoke(`plugin:dialog|${command}`, { options });
    if (typeof r === "string") return r;
    if (r === null) return null;
  } catch {
    // No dialog plugin here.
  }
  return undefined;
}

/// A folder (to save attachments in).
export async function chooseFolder(title: string): Promise<string | null> {
  const r = await dialog("open", { directory: true, title });
  return r === undefined ? window.prompt(`${title}: which folder? (a full path)`) : r;
}

/// A file to write (`save`) or read (`open`), or undefined when there is no dialog to ask.
export async function chooseFile(mode: "open" | "save", title: string): Promise<string | null | undefined> {
  return dialog(mode, { title, directory: false });
}

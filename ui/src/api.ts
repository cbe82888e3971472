// The one door to the core: every call goes through the app's one Tauri command, `call`, to
// `postern-api` (crates/postern-api), which defines the commands. Nothing here decides anything.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";

function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  return invoke<T>("call", { command, args });
}

export interface AppError {
  kind: string;
  message: string;
}
export interface AppStatus {
  initialized: boolean;
  unlocked: boolean;
  data_dir: string;
}
export interface Identity {
  id: number;
  address: string;
  display_name: string;
  fingerprint: string;
  contacts: number;
}
export interface NodeStatus {
  state: "off" | "connecting" | "online" | "failed";
  percent: number;
  message: string;
  serving: string[];
}
export interface MessageSummary {
  id: number;
  identity: string;
  from: string;
  from_name: string;
  subject: string;
  folder: string;
  verification: string;
  received_at: number;
  read: boolean;
}
export interface MessageView extends MessageSummary {
  text: string;
  attachments: { name: string; content_type: string; size: number }[];
}
export interface OutboxItem {
  id: number;
  to: string;
  subject: string;
  state: string;
  attempts: number;
  last_error: string | null;
  delivered_via: string | null;
}
export interface Introduction {
  introducer: string;
  introducer_name: string;
  received_at: number;
  conflict: boolean;
}
export interface Contact {
  id: number;
  address: string;
  display_name: string;
  fingerprint: string;
  has_key: boolean;
  verification: string;
  trust: string;
  trust_label: string;
  introductions: Introduction[];
}
export interface Invite {
  id: number;
  link: string;
  svg: string;
  expires_at: number;
}
export interface Redeemer {
  address: string;
  display_name: string;
  fingerprint: string;
  still_a_contact: boolean;
}
export interface InviteState {
  id: number;
  created_at: number;
  expires_at: number;
  state: "open" | "redeemed" | "expired";
  redeemed_at: number | null;
  redeemed_by: Redeemer | null;
}
export interface ScanPreview {
  kind: string;
  address: string;
  display_name: string;
  fingerprint: string;
  expires_at: number | null;
  text: string;
}
export interface CarrierMode {
  enabled: boolean;
  quota_bytes: number;
  max_hold_secs: number;
  carrying_for: string[];
  held: number;
  held_bytes: number;
  note: string;
}
export interface Held {
  id: number;
  sender: string;
  recipient: string;
  size: number;
  state: string;
  expires_at: number;
}
export interface Carriers {
  my_carriers: string[];
  mode: CarrierMode;
  held: Held[];
}
export interface Attachment {
  name: string;
  content_type: string;
  data_b64: string;
}

export interface SearchResult extends MessageSummary {
  snippet: { text: string; hit: boolean }[];
  score: number;
}
/// Something changed: new mail (`message`), a delivery state (`delivery`), a contact, carrying,
/// the network (`tor`, with `percent`), or `lagged` (too many at once: reload).
export interface AppEvent {
  kind: "message" | "delivery" | "contact" | "carrier" | "tor" | "lagged";
  id?: number;
  identity?: string | null;
  reference?: number | null;
  detail?: string;
  percent?: number;
  message?: string;
}

/// Every change the core announces, as it happens (the Tauri event `postern://event`).
export function onEvent(handler: (e: AppEvent) => void): Promise<() => void> {
  return listen<AppEvent>("postern://event", (e) => handler(e.payload));
}

export const api = {
  status: () => call<AppStatus>("app_status"),
  init: (passphrase: string) => call<AppStatus>("init_store", { passphrase }),
  unlock: (passphrase: string) => call<AppStatus>("unlock", { passphrase }),
  identities: () => call<Identity[]>("identities"),
  createIdentity: (name: string, displayName: string) =>
    call<Identity>("create_identity", { name, displayName }),
  startNode: () => call<NodeStatus>("start_node"),
  nodeStatus: () => call<NodeStatus>("node_status"),
  inbox: (identity: string) => call<MessageSummary[]>("inbox", { identity }),
  search: (identity: string | null, query: string) =>
    call<SearchResult[]>("search", { identity, query }),
  requests: (identity: string) => call<MessageSummary[]>("requests", { identity }),
  read: (id: number) => call<MessageView>("read_message", { id }),
  acceptRequest: (id: number) => call<Contact>("accept_request", { id }),
  declineRequest: (id: number) => call<number>("decline_request", { id }),
  deleteMessage: (id: number) => call<null>("delete_message", { id }),
  send: (identity: string, to: string, subject: string, text: string, attachments: Attachment[]) =>
    call<OutboxItem>("send", { identity, to, subject, text, attachments }),
  outbox: (identity: string) => call<OutboxItem[]>("outbox", { identity }),
  contacts: (identity: string) => call<Contact[]>("contacts", { identity }),
  introduce: (identity: string, whom: string, to: string, both: boolean) =>
    call<OutboxItem[]>("introduce", { identity, whom, to, both }),
  createInvite: (identity: string) => call<Invite>("create_invite", { identity }),
  invites: (identity: string) => call<InviteState[]>("invites", { identity }),
  withdrawInvite: (identity: string, id: number) => call<null>("withdraw_invite", { identity, id }),
  undoInvite: (identity: string, id: number) => call<Redeemer>("undo_invite", { identity, id }),
  readScanned: (text: string) => call<ScanPreview>("read_scanned", { text }),
  scanImage: (dataB64: string) => call<ScanPreview>("scan_image", { dataB64 }),
  scanFrame: (width: number, height: number, pixelsB64: string) =>
    call<ScanPreview>("scan_frame", { width, height, pixelsB64 }),
  acceptScanned: (identity: string, text: string) =>
    call<Contact>("accept_scanned", { identity, text }),
  carriers: (identity: string) => call<Carriers>("carriers", { identity }),
  setCarrierMode: (identity: string, enabled: boolean) =>
    call<CarrierMode>("set_carrier_mode", { identity, enabled }),
  setCarrierPolicy: (identity: string, allow: string[], quotaMb: number, maxHoldHours: number) =>
    call<CarrierMode>("set_carrier_policy", { identity, allow, quotaMb, maxHoldHours }),
};

/// What to tell a person, by error kind (the core's `ErrorKind`).
export function explain(e: unknown): string {
  const err = e as AppError;
  const what = err && typeof err.message === "string" ? err.message : String(e);
  const todo: Record<string, string> = {
    wrong_passphrase: "Check the passphrase and try again.",
    bad_input: "Check what you entered.",
    not_found: "It may have been deleted; reload the list.",
    untrusted: "Do not use it: it does not verify. Ask the person for a new card or code.",
    unreachable: "The other side is offline; Postern keeps trying.",
    already_exists: "It is already there.",
    corrupt: "The data is damaged; restore from a backup.",
    too_new: "This data was written by a newer Postern; update Postern.",
    local_io: "Check the disk (space, permissions) and the settings named.",
  };
  const hint = err && todo[err.kind] ? " " + todo[err.kind] : "";
  const sentence = what.charAt(0).toUpperCase() + what.slice(1);
  return (sentence.endsWith(".") ? sentence : sentence + ".") + hint;
}

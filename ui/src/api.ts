// The one door to the core: every call goes through the app's one Tauri command, `call`, to
// `postern-api` (crates/postern-api), which defines the commands. The types are generated from
// that definition (`generated/api.ts`); nothing here restates them, and nothing here decides.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  ApiError,
  CarriedView,
  CarrierModeView,
  CarriersView,
  Commands,
  ContactView,
  ErrorKind,
  EventView,
  IdentityView,
  InviteStateView,
  NodeStatus,
  OutboxView,
  RedeemerView,
  UiAttachment,
  UiInvite,
} from "./generated/api";

export type * from "./generated/api";

/// Call a command: its arguments and result are those `postern-api` declares.
export function call<K extends keyof Commands>(
  command: K,
  args: Commands[K]["args"],
): Promise<Commands[K]["result"]> {
  return invoke<Commands[K]["result"]>("call", { command, args });
}

// Shorter names the screens use for the generated views.
export type AppError = ApiError;
export type Identity = IdentityView;
export type OutboxItem = OutboxView;
export type Contact = ContactView;
export type Invite = UiInvite;
export type InviteState = InviteStateView;
export type Redeemer = RedeemerView;
export type Carriers = CarriersView;
export type CarrierMode = CarrierModeView;
export type Held = CarriedView;
export type Attachment = UiAttachment;

/// Something changed: a change-log event of the core (`message`, `delivery`, `contact`,
/// `carrier`), the network (`tor`, with the node's status), or `lagged` (reload).
export type AppEvent =
  | EventView
  | ({ kind: "tor" } & NodeStatus)
  | { kind: "lagged" };

/// Every change the core announces, as it happens (the Tauri event `postern://event`).
export function onEvent(handler: (e: AppEvent) => void): Promise<() => void> {
  return listen<AppEvent>("postern://event", (e) => handler(e.payload));
}

const none = {} as Record<symbol, never>;

export const api = {
  status: () => call("app_status", none),
  changePassphrase: (old: string, next: string) => call("change_passphrase", { old, new: next }),
  notificationSettings: () => call("notification_settings", none),
  setNotificationSettings: (n: { show_sender: boolean; show_subject: boolean; requests: boolean }) =>
    call("set_notification_settings", n),
  init: (passphrase: string) => call("init_store", { passphrase }),
  backupExport: (file: string, passphrase: string, mail: boolean, identities: string[] = []) =>
    call("backup_export", { file, passphrase, mail, identities }),
  backupImport: (file: string, passphrase: string, newPassphrase: string) =>
    call("backup_import", { file, passphrase, new_passphrase: newPassphrase }),
  deviceOffer: (mail: boolean) => call("device_offer", { mail }),
  deviceStatus: () => call("device_status", none),
  deviceServices: () => call("device_services", none),
  deviceLost: (identity: string, reason: string) => call("device_lost", { identity, address: false, reason }),
  deviceTakeOver: (identity: string | null) => call("device_take_over", { identity }),
  deviceLinkOffer: (identity: string) => call("device_link_offer", { identity }),
  deviceLinkAccept: (identity: string, text: string) => call("device_link_accept", { identity, text }),
  ownDevices: (identity: string) => call("own_devices", { identity }),
  deviceUnlink: (identity: string, device: string) => call("device_unlink", { identity, device }),
  deviceReceive: (link: string, newPassphrase: string) =>
    call("device_receive", { link, new_passphrase: newPassphrase }),
  unlock: (passphrase: string) => call("unlock", { passphrase }),
  identities: () => call("identities", none),
  createIdentity: (name: string, displayName: string) =>
    call("create_identity", { name, displayName }),
  deleteIdentity: (identity: string) => call("delete_identity", { identity }),
  revoke: (identity: string, address: boolean, reason: string) =>
    call("revoke", { identity, address, reason }),
  startNode: () => call("start_node", none),
  nodeStatus: () => call("node_status", none),
  mailboxes: (identity: string) => call("mailboxes", { identity }),
  mailbox: (identity: string, mailbox: string) => call("mailbox", { identity, mailbox }),
  inbox: (identity: string) => call("inbox", { identity }),
  search: (identity: string | null, query: string) =>
    call("search", { identity, query, limit: 50 }),
  requests: (identity: string) => call("requests", { identity }),
  read: (id: number) => call("read_message", { id }),
  thread: (id: number) => call("thread", { id }),
  setFlags: (id: number, flags: { seen?: boolean; flagged?: boolean }) =>
    call("set_flags", { id, seen: null, flagged: null, answered: null, deleted: null, ...flags }),
  move: (id: number, to: string) => call("move_message", { id, to }),
  archive: (id: number) => call("archive", { id }),
  trash: (id: number) => call("trash", { id }),
  saveAttachments: (id: number, dir: string) => call("save_attachments", { id, dir }),
  acceptRequest: (id: number) => call("accept_request", { id }),
  declineRequest: (id: number) => call("decline_request", { id }),
  deleteMessage: (id: number) => call("delete_message", { id }),
  reply: (id: number, all: boolean) => call("reply", { id, all }),
  forward: (id: number) => call("forward", { id }),
  saveDraft: (
    draft: { id: number | null; identity: string; to: string; subject: string; text: string; via_gateway?: string | null; to_key?: string | null },
    attach: Attachment[] = [],
  ) => call("save_draft", { via_gateway: null, to_key: null, ...draft, in_reply_to: null, references: [], attach }),
  draft: (id: number) => call("draft", { id }),
  discardDraft: (id: number) => call("discard_draft", { id }),
  sendDraft: (id: number) => call("send_draft", { id }),
  checkRecipient: (identity: string, to: string) => call("check_recipient", { identity, to }),
  send: (identity: string, to: string, subject: string, text: string, attachments: Attachment[], via_gateway: string | null = null, to_key: string | null = null) =>
    call("send", { identity, to, subject, text, attachments, via_gateway, to_key }),
  gateway: (identity: string) => call("gateway", { identity }),
  outbox: (identity: string) => call("outbox", { identity }),
  contacts: (identity: string) => call("contacts", { identity }),
  confirmContact: (identity: string, address: string) =>
    call("confirm_contact", { identity, address }),
  introduce: (identity: string, whom: string, to: string, both: boolean) =>
    call("introduce", { identity, whom, to, both }),
  createInvite: (identity: string) => call("create_invite", { identity }),
  invites: (identity: string) => call("invites", { identity }),
  withdrawInvite: (identity: string, id: number) => call("withdraw_invite", { identity, id }),
  undoInvite: (identity: string, id: number) => call("undo_invite", { identity, id }),
  readScanned: (text: string) => call("read_scanned", { text }),
  scanImage: (dataB64: string) => call("scan_image", { dataB64 }),
  scanFrame: (width: number, height: number, pixelsB64: string) =>
    call("scan_frame", { width, height, pixelsB64 }),
  acceptScanned: (identity: string, text: string) => call("accept_scanned", { identity, text }),
  lists: (identity: string) => call("lists", { identity }),
  listCreate: (identity: string, name: string) => call("list_create", { identity, name }),
  listInvite: (identity: string, list: string, contact: string) =>
    call("list_invite", { identity, list, contact }),
  listJoin: (identity: string, list: string) => call("list_join", { identity, list }),
  listPost: (identity: string, list: string, subject: string, text: string, attachments: Attachment[] = []) =>
    call("list_post", { identity, list, subject, text, attachments }),
  listPosts: (identity: string, list: string) => call("list_posts", { identity, list }),
  saveListAttachments: (identity: string, list: string, dir: string) =>
    call("save_list_attachments", { identity, list, dir }),
  listMembers: (identity: string, list: string) => call("list_members", { identity, list }),
  listLeave: (identity: string, list: string) => call("list_leave", { identity, list }),
  carriers: (identity: string) => call("carriers", { identity }),
  designateCarrier: (identity: string, carrier: string, designate: boolean) =>
    call("designate_carrier", { identity, carrier, designate }),
  setCarrierMode: (identity: string, enabled: boolean) =>
    call("set_carrier_mode", { identity, enabled }),
  setCarrierPolicy: (identity: string, allow: string[], quotaMb: number, maxHoldHours: number) =>
    call("set_carrier_policy", { identity, allow, quotaMb, maxHoldHours }),
};

/// What a person can do about an error, by its kind (the core's `ErrorKind`, one spelling).
const todo: Record<ErrorKind, string> = {
  wrong_passphrase: "Check the passphrase and try again.",
  bad_input: "Check what you entered.",
  not_initialized: "Create the store first.",
  not_found: "It may have been deleted; reload the list.",
  untrusted: "Do not use it: it does not verify. Ask the person for a new card or code.",
  unreachable: "The other side is offline; Postern keeps trying.",
  already_exists: "It is already there.",
  corrupt: "The data is damaged; restore from a backup.",
  too_new: "This data was written by a newer Postern; update Postern.",
  local_io: "Check the disk (space, permissions) and the settings named.",
  internal: "This is a bug in Postern; please report it.",
};

/// What to tell a person about an error.
export function explain(e: unknown): string {
  const err = e as AppError;
  const what = err && typeof err.message === "string" ? err.message : String(e);
  const hint = err && todo[err.kind] ? " " + todo[err.kind] : "";
  const sentence = what.charAt(0).toUpperCase() + what.slice(1);
  return (sentence.endsWith(".") ? sentence : sentence + ".") + hint;
}

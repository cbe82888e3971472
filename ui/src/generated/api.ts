// Generated from crates/postern-api (the command set) by
// `cargo run -p postern-api --bin postern-bindings`. Do not edit.

export type AcceptScanned = { identity: string, text: string, };

export type After = { after: number, };

/**
 * What a command failed with.
 */
export type ApiError = { 
/**
 * What the person can do about it (`wrong_passphrase`, `bad_input`, …).
 */
kind: ErrorKind, 
/**
 * The core's sentence.
 */
message: string, };

export type AppStatus = { initialized: boolean, unlocked: boolean, data_dir: string, };

/**
 * An attachment's description.
 */
export type AttachmentInfo = { 
/**
 * File name.
 */
name: string, 
/**
 * MIME type.
 */
content_type: string, 
/**
 * Size in bytes.
 */
size: number, };

export type BackupExport = { 
/**
 * Where to write it (must not exist).
 */
file: string, 
/**
 * The backup's own passphrase.
 */
passphrase: string, 
/**
 * Only these identities (and what they need); empty: all.
 */
identities: Array<string>, 
/**
 * With their mail.
 */
mail: boolean, };

export type BackupImport = { 
/**
 * The backup file.
 */
file: string, 
/**
 * The backup's passphrase.
 */
passphrase: string, 
/**
 * The passphrase for this device's new store.
 */
new_passphrase: string, };

/**
 * What a backup holds.
 */
export type BackupView = { file: string, identities: Array<string>, mail: boolean, messages: number, attachments: number, bytes: number, 
/**
 * Attachments already missing from the store, so not in the backup.
 */
missing: number, created_at: number, };

export type ById = { id: number, };

/**
 * A message held (or once held) as a carrier.
 */
export type CarriedView = { 
/**
 * Local number.
 */
id: number, 
/**
 * Sender.
 */
sender: string, 
/**
 * Recipient.
 */
recipient: string, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * Handed over at.
 */
received_at: number, 
/**
 * Dropped after.
 */
expires_at: number, 
/**
 * `held`, `forwarding`, `delivered`, `expired`, `refused`.
 */
state: string, 
/**
 * Forwarding attempts.
 */
attempts: number, 
/**
 * Why the last attempt failed.
 */
last_error: string | null, };

/**
 * A carrier as a sender measures it.
 */
export type CarrierAvailability = { 
/**
 * The carrier's address.
 */
carrier: string, 
/**
 * Estimated availability p (successes+1)/(attempts+2).
 */
availability: number, 
/**
 * Times reached.
 */
successes: number, 
/**
 * Times not reached.
 */
failures: number, 
/**
 * The contact's pass for us expires then.
 */
pass_expires_at: number, };

export type CarrierMode = { identity: string, enabled: boolean, };

/**
 * One identity's carrier mode.
 */
export type CarrierModeView = { 
/**
 * The identity.
 */
identity: string, 
/**
 * On or off.
 */
enabled: boolean, 
/**
 * Most bytes held at once.
 */
quota_bytes: number, 
/**
 * Longest a message is held (seconds).
 */
max_hold_secs: number, 
/**
 * Recipients it carries for.
 */
carrying_for: Array<string>, 
/**
 * Messages held now.
 */
held: number, 
/**
 * Bytes held now.
 */
held_bytes: number, 
/**
 * What a carrier can and cannot see.
 */
note: string, };

export type CarrierPolicy = { identity: string, allow: Array<string>, quotaMb: number, maxHoldHours: number, };

/**
 * Everything about carriers for one identity.
 */
export type CarriersView = { 
/**
 * The identity.
 */
identity: string, 
/**
 * The carriers it designated (its contacts hand mail for it there).
 */
my_carriers: Array<string>, 
/**
 * The target chance k is chosen for.
 */
target: number, 
/**
 * Its contacts' carriers.
 */
contacts: Array<ContactCarriersView>, 
/**
 * Its own carrier mode.
 */
mode: CarrierModeView, 
/**
 * What it holds as a carrier.
 */
held: Array<CarriedView>, };

export type CheckRecipient = { identity: string, to: string, };

/**
 * One contact's carriers.
 */
export type ContactCarriersView = { 
/**
 * The contact.
 */
contact: string, 
/**
 * Its name.
 */
display_name: string, 
/**
 * Its carriers, most available first.
 */
carriers: Array<CarrierAvailability>, 
/**
 * How many a message would be handed to (k).
 */
k: number, 
/**
 * The chance at least one of those k is reachable: 1 - Π(1 - p_i).
 */
estimate: number, };

/**
 * A contact in one identity's address book.
 */
export type ContactView = { 
/**
 * Local number.
 */
id: number, 
/**
 * The identity whose contact this is.
 */
identity_id: number, 
/**
 * The contact's address.
 */
address: string, 
/**
 * The contact's display name.
 */
display_name: string, 
/**
 * OpenPGP fingerprint, upper-case hex.
 */
fingerprint: string, 
/**
 * Whether we hold the contact's OpenPGP key (otherwise it is fetched on first contact).
 */
has_key: boolean, 
/**
 * How the contact was verified: `scanned` (QR code or invite link), `confirmed` (the
 * person compared fingerprints), `introduced`, `card` (a card handed over), `first_contact`.
 */
verification: string, 
/**
 * When it was added (Unix seconds).
 */
added_at: number, 
/**
 * The trust shown: `verified`, `vouched` (two or more independent introducers), `introduced`,
 * `unverified`, or `revoked`.
 */
trust: string, 
/**
 * The same as a sentence ("verified by scan; introduced by Bob").
 */
trust_label: string, 
/**
 * Who introduced this contact, and when; conflicting introductions are flagged.
 */
introductions: Array<IntroductionView>, 
/**
 * Revocations received from this contact.
 */
revocations: Array<RevocationView>, };

export type Designate = { identity: string, carrier: string, 
/**
 * False: stop using it as a carrier.
 */
designate: boolean, };

export type DeviceOffer = { 
/**
 * With the mail.
 */
mail: boolean, };

/**
 * The link to show (as text and as a QR code).
 */
export type DeviceOfferView = { link: string, qr_svg: string, valid_minutes: number, };

export type DeviceReceive = { 
/**
 * The link the other device shows (`POSTERN-DEVICE:…`).
 */
link: string, 
/**
 * The passphrase for this device's new store.
 */
new_passphrase: string, };

export type DeviceTakeOver = { 
/**
 * The identity to serve here; all that another device serves if none.
 */
identity: string | null, };

/**
 * A transfer in progress, or how the last one ended.
 */
export type DeviceTransferView = { 
/**
 * `idle`, `waiting` (the link is shown), `moving`, `done` or `failed`.
 */
state: string, done: number, total: number, 
/**
 * What went wrong, or what was moved.
 */
message: string, };

export type DeviceUnlink = { identity: string, 
/**
 * The device's identity address.
 */
device: string, };

/**
 * A draft, as the Write screen edits it.
 */
export type DraftView = { 
/**
 * Its number (a message in Drafts).
 */
id: number, 
/**
 * The writing identity's address.
 */
identity: string, 
/**
 * To, as typed.
 */
to: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * Text.
 */
text: string, 
/**
 * The Message-ID it answers.
 */
in_reply_to: string | null, 
/**
 * The thread's Message-IDs, oldest first.
 */
references: Array<string>, 
/**
 * Attachments.
 */
attachments: Array<AttachmentInfo>, 
/**
 * When it was last saved.
 */
saved_at: number, 
/**
 * For an ordinary address (name@domain): the gateway contact it goes through.
 */
via_gateway: string | null, 
/**
 * The fingerprint of the recipient's OpenPGP key the gateway is to encrypt to, if given.
 */
recipient_key: string | null, };

/**
 * What a person (or a script) can do about an error.
 *
 * Library crates keep detailed `thiserror` enums; each maps onto one of these kinds so that the
 * CLI can choose an exit code and the UI a sentence, without matching on every variant.
 */
export type ErrorKind = "bad_input" | "wrong_passphrase" | "not_initialized" | "already_exists" | "not_found" | "corrupt" | "too_new" | "untrusted" | "unreachable" | "local_io" | "internal";

/**
 * One change, as a front end shows it.
 */
export type EventView = { 
/**
 * Increasing number: follow from the last one seen.
 */
id: number, 
/**
 * When (Unix seconds).
 */
at: number, 
/**
 * The identity it concerns (`local@onion`), if one.
 */
identity: string | null, 
/**
 * `message`, `delivery`, `contact`, `carrier`.
 */
kind: string, 
/**
 * The row it is about: a message, an outbox entry, a contact, a held message.
 */
reference: number | null, 
/**
 * A word more: the folder, the delivery state, how a contact was verified.
 */
detail: string, };

export type Frame = { width: number, height: number, pixelsB64: string, };

/**
 * A gateway's settings as shown.
 */
export type GatewayView = { 
/**
 * The identity that is the gateway.
 */
identity: string, 
/**
 * Its mail domain.
 */
domain: string, 
/**
 * DKIM selector.
 */
selector: string, 
/**
 * The DNS TXT record to publish at `<selector>._domainkey.<domain>`.
 */
dkim_record: string, 
/**
 * Messages waiting to leave.
 */
waiting: number, 
/**
 * Whether every contact may send through it (else only `senders`).
 */
all_contacts: boolean, 
/**
 * The contacts that may, when not every contact may.
 */
senders: Array<string>, 
/**
 * Messages one sender may hand over per day (UTC).
 */
max_messages_per_day: number, 
/**
 * Bytes one sender may hand over per day (UTC).
 */
max_bytes_per_day: number, };

/**
 * One of the device's identities.
 */
export type IdentityView = { 
/**
 * Local number (stable for the life of the identity on this device).
 */
id: number, 
/**
 * `local@<onion>.onion`.
 */
address: string, 
/**
 * The name shown to contacts.
 */
display_name: string, 
/**
 * OpenPGP fingerprint, upper-case hex.
 */
fingerprint: string, 
/**
 * Creation time (Unix seconds).
 */
created_at: number, 
/**
 * Number of contacts in this identity's address book.
 */
contacts: number, 
/**
 * For a hosted account (someone else's mailbox on this device, under one of our onions):
 * the address of the identity that hosts it. Its mail is readable on this device.
 */
hosted_by: string | null, 
/**
 * A hosted account whose holder gave their own OpenPGP key: what Postern senders write to
 * it is end-to-end encrypted to the holder, and the host cannot read it.
 */
holder_key: boolean, };

export type Image = { dataB64: string, };

export type Introduce = { identity: string, whom: string, to: string, both: boolean, };

/**
 * One introduction of a contact.
 */
export type IntroductionView = { 
/**
 * The introducer's address.
 */
introducer: string, 
/**
 * The introducer's name in the address book.
 */
introducer_name: string, 
/**
 * When it arrived (Unix seconds).
 */
received_at: number, 
/**
 * The fingerprint the introducer vouched for.
 */
fingerprint: string, 
/**
 * It contradicts the key held for this address (never merged).
 */
conflict: boolean, };

/**
 * An invite handed out, and what became of it.
 */
export type InviteStateView = { 
/**
 * Its number.
 */
id: number, 
/**
 * When it was made (Unix seconds).
 */
created_at: number, 
/**
 * When it stops (stopped) working.
 */
expires_at: number, 
/**
 * `open`, `redeemed` or `expired`.
 */
state: string, 
/**
 * When it was redeemed.
 */
redeemed_at: number | null, 
/**
 * Who redeemed it.
 */
redeemed_by: RedeemerView | null, };

/**
 * An attachment of a list post.
 */
export type ListAttachmentView = { 
/**
 * SHA-256 of the content, hex.
 */
hash: string, name: string, content_type: string, 
/**
 * Bytes.
 */
size: number, 
/**
 * Whether this member holds it yet (it follows the post from a neighbour).
 */
held: boolean, 
/**
 * Larger than a list carries (`MAX_LIST_ATTACHMENT`, posted by another client): it is
 * never fetched.
 */
too_large: boolean, };

export type ListInvite = { identity: string, list: string, 
/**
 * The contact's address.
 */
contact: string, };

/**
 * A member of a list.
 */
export type ListMemberView = { 
/**
 * The member's list key, hex (a list key says nothing of the member's identity).
 */
member: string, me: boolean, 
/**
 * The mail address of a neighbour (a member this one exchanges list mail with).
 */
neighbour: string | null, };

export type ListPost = { identity: string, list: string, subject: string, text: string, attachments: Array<UiAttachment>, };

/**
 * A post with text.
 */
export type ListPostView = { 
/**
 * The author's list key, hex.
 */
author: string, 
/**
 * The author's clock, Unix seconds.
 */
time: number, subject: string, text: string, 
/**
 * Its attachments, in order.
 */
attachments: Array<ListAttachmentView>, };

/**
 * A list of one identity.
 */
export type ListView = { 
/**
 * The list id, hex.
 */
id: string, name: string, 
/**
 * `invited`, `joining`, `member`, `left` or `removed` (by a moderator).
 */
state: string, 
/**
 * Who invited this identity (empty for the creator).
 */
inviter: string, 
/**
 * Members in good standing (as far as this member knows).
 */
members: number, 
/**
 * Posts with text.
 */
posts: number, };

/**
 * What declaring a device lost did.
 */
export type LostDevice = { 
/**
 * The revocation made and sent to every contact.
 */
revocation: RevocationView, 
/**
 * The term this device now serves the identity in.
 */
term: number, };

/**
 * A mailbox of one identity.
 */
export type MailboxView = { 
/**
 * The identity's address.
 */
identity: string, 
/**
 * `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
 */
name: string, 
/**
 * As shown: "Inbox", "Sent", …
 */
label: string, 
/**
 * IMAP UIDVALIDITY.
 */
uidvalidity: number, 
/**
 * The next UID.
 */
uidnext: number, 
/**
 * Messages in it.
 */
total: number, 
/**
 * Messages not yet read.
 */
unread: number, };

/**
 * A message in a list.
 */
export type MessageSummary = { 
/**
 * Local number (for `read`).
 */
id: number, 
/**
 * The receiving identity's address.
 */
identity: string, 
/**
 * Sender address.
 */
from: string, 
/**
 * Sender display name.
 */
from_name: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * Its mailbox: `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
 */
folder: string, 
/**
 * Its UID in that mailbox (IMAP's).
 */
uid: number, 
/**
 * Our own mail (Sent, Drafts): to whom.
 */
to: string, 
/**
 * How the sender was verified: `contact` (the key in the address book) or `first_contact`
 * (the key the message carried, bound to the sender's onion address).
 */
verification: string, 
/**
 * The sender's Date.
 */
sent_at: number | null, 
/**
 * When it arrived.
 */
received_at: number, 
/**
 * Whether it has been read.
 */
read: boolean, 
/**
 * Starred.
 */
flagged: boolean, 
/**
 * Answered.
 */
answered: boolean, 
/**
 * The conversation it is in (the Message-ID of its first message).
 */
thread: string, 
/**
 * Its Message-ID.
 */
message_id: string, };

/**
 * A message, opened.
 */
export type MessageView = { 
/**
 * Recipients (the letter's To).
 */
recipients: Array<string>, 
/**
 * The Message-ID it answers.
 */
in_reply_to: string | null, 
/**
 * The thread's Message-IDs, oldest first.
 */
references: Array<string>, 
/**
 * Plain-text body.
 */
text: string, 
/**
 * Attachments.
 */
attachments: Array<AttachmentInfo>, 
/**
 * Local number (for `read`).
 */
id: number, 
/**
 * The receiving identity's address.
 */
identity: string, 
/**
 * Sender address.
 */
from: string, 
/**
 * Sender display name.
 */
from_name: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * Its mailbox: `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
 */
folder: string, 
/**
 * Its UID in that mailbox (IMAP's).
 */
uid: number, 
/**
 * Our own mail (Sent, Drafts): to whom.
 */
to: string, 
/**
 * How the sender was verified: `contact` (the key in the address book) or `first_contact`
 * (the key the message carried, bound to the sender's onion address).
 */
verification: string, 
/**
 * The sender's Date.
 */
sent_at: number | null, 
/**
 * When it arrived.
 */
received_at: number, 
/**
 * Whether it has been read.
 */
read: boolean, 
/**
 * Starred.
 */
flagged: boolean, 
/**
 * Answered.
 */
answered: boolean, 
/**
 * The conversation it is in (the Message-ID of its first message).
 */
thread: string, 
/**
 * Its Message-ID.
 */
message_id: string, };

export type MoveTo = { id: number, to: string, };

/**
 * A move, with what undoes it.
 */
export type MoveView = { 
/**
 * The message.
 */
id: number, 
/**
 * Where it was (move it back there to undo).
 */
from: string, 
/**
 * Where it is now; `deleted` if it was removed for good (no undo).
 */
to: string, };

export type NewIdentity = { name: string, displayName: string, };

export type NewList = { identity: string, name: string, };

export type NewPassphrase = { old: string, new: string, };

/**
 * No arguments.
 */
export type NoArgs = Record<symbol, never>;

/**
 * The node's state, as the Network screen shows it.
 */
export type NodeStatus = { 
/**
 * `off`, `connecting`, `online`, `paused` (the device sleeps), `failed`.
 */
state: string, 
/**
 * Bootstrap progress, 0–100.
 */
percent: number, 
/**
 * What it is doing, or why it failed.
 */
message: string, 
/**
 * Addresses served once online.
 */
serving: Array<string>, 
/**
 * Identities not served here because another of the person's devices serves them.
 */
standing_by: Array<StandingBy>, };

/**
 * A notification to show.
 */
export type Notification = { 
/**
 * The title line.
 */
title: string, 
/**
 * The text under it.
 */
body: string, };

/**
 * What notifications may show.
 */
export type NotificationSettings = { 
/**
 * The sender's display name (never the address).
 */
show_sender: boolean, 
/**
 * The subject.
 */
show_subject: boolean, 
/**
 * Notify for contact requests (mail from people not in the address book) too.
 */
requests: boolean, };

export type OfContact = { identity: string, address: string, };

export type OfIdentity = { identity: string, };

export type OfInvite = { identity: string, id: number, };

/**
 * One list of an identity: its name, or its id in hex.
 */
export type OfList = { identity: string, list: string, };

export type OfMailbox = { identity: string, 
/**
 * `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
 */
mailbox: string, };

/**
 * A message in the outbox.
 */
export type OutboxView = { 
/**
 * Local number.
 */
id: number, 
/**
 * Sending identity.
 */
from: string, 
/**
 * Recipient.
 */
to: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * `queued`, `sending`, `carried` (held by carriers for an offline recipient), `delivered`
 * or `failed`.
 */
state: string, 
/**
 * Attempts so far.
 */
attempts: number, 
/**
 * Next attempt (Unix seconds), while queued.
 */
next_attempt: number | null, 
/**
 * Why the last attempt failed.
 */
last_error: string | null, 
/**
 * When it was queued.
 */
created_at: number, 
/**
 * When it was delivered.
 */
delivered_at: number | null, 
/**
 * The carrier that delivered it (`None`: delivered directly, or not yet).
 */
delivered_via: string | null, 
/**
 * Its state as a sentence, the same in the CLI and the app.
 */
status: string, };

/**
 * One of an identity's own devices.
 */
export type OwnDeviceView = { 
/**
 * The device's identity address.
 */
address: string, 
/**
 * Its name, as its binding signs it.
 */
display_name: string, };

export type Passphrase = { passphrase: string, };

/**
 * Whether writing from an identity to an address needs a second look.
 */
export type RecipientCheck = { 
/**
 * The recipient, as understood.
 */
address: string, 
/**
 * A contact of the writing identity.
 */
is_contact: boolean, 
/**
 * The writing identity has written to it before.
 */
written_before: boolean, 
/**
 * Ask before sending.
 */
confirm: boolean, 
/**
 * Our other identities that know this address (the person may have meant one of them).
 */
known_to: Array<string>, 
/**
 * What to ask, or '' when nothing needs asking.
 */
sentence: string, };

/**
 * Who redeemed an invite.
 */
export type RedeemerView = { 
/**
 * Their address.
 */
address: string, 
/**
 * Their name, as their binding signs it.
 */
display_name: string, 
/**
 * Their key's fingerprint (hex), to compare.
 */
fingerprint: string, 
/**
 * Whether they are still in the address book (not undone).
 */
still_a_contact: boolean, };

export type Reply = { id: number, 
/**
 * Everyone the message went to, not only its sender.
 */
all: boolean, };

/**
 * A revocation, made or received.
 */
export type RevocationView = { 
/**
 * The address concerned.
 */
address: string, 
/**
 * `key` or `address`.
 */
scope: string, 
/**
 * Fingerprint of the revoked key (upper-case hex).
 */
fingerprint: string, 
/**
 * Fingerprint of the key that replaces it, if any.
 */
successor: string | null, 
/**
 * When it was revoked (the revoker's clock, Unix seconds).
 */
revoked_at: number, 
/**
 * The revoker's reason.
 */
reason: string, 
/**
 * Contacts told (for our own revocations).
 */
notified: number, };

export type Revoke = { identity: string, 
/**
 * The whole address (true), or only its OpenPGP key, replaced by a new one (false).
 */
address: boolean, reason: string, };

export type SaveAttachments = { id: number, 
/**
 * The folder to save into (chosen in a file dialog).
 */
dir: string, };

export type SaveDraft = { 
/**
 * Files to attach, added to what the draft already has.
 */
attach: Array<UiAttachment>, 
/**
 * The draft to replace; absent for a new one.
 */
id: number | null, 
/**
 * The writing identity (address, name or number).
 */
identity: string, 
/**
 * To, as typed.
 */
to: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * Text.
 */
text: string, 
/**
 * The Message-ID it answers (kept from the stored draft when absent).
 */
in_reply_to: string | null, 
/**
 * The thread's Message-IDs (kept from the stored draft when empty).
 */
references: Array<string>, 
/**
 * For an ordinary address: the gateway contact to send through (kept from the stored
 * draft when absent).
 */
via_gateway: string | null, 
/**
 * For an ordinary address: the recipient's OpenPGP public key, armored, for the gateway to
 * encrypt to (kept from the stored draft when absent).
 */
to_key: string | null, };

export type SaveListAttachments = { identity: string, list: string, 
/**
 * The folder to save into (chosen in a file dialog).
 */
dir: string, };

/**
 * What a scanned or pasted code says, verified, before anyone decides to add it.
 */
export type ScanPreview = { 
/**
 * `invite` (a card with a one-time token: adding it exchanges keys both ways) or `card`.
 */
kind: string, 
/**
 * The card's address.
 */
address: string, 
/**
 * The name it signs.
 */
display_name: string, 
/**
 * OpenPGP fingerprint, upper-case hex.
 */
fingerprint: string, 
/**
 * Whether it carries the OpenPGP key.
 */
has_key: boolean, 
/**
 * Expiry of an invite (Unix seconds).
 */
expires_at: number | null, 
/**
 * The text scanned (give it to `accept_scanned`).
 */
text: string, };

export type Search = { 
/**
 * An identity's mail; absent (or null) searches every identity.
 */
identity: string | null, query: string, limit: number, };

/**
 * One search result: the message, and where it matched.
 */
export type SearchResult = { 
/**
 * A piece of the best-matching text.
 */
snippet: Array<SnippetPart>, 
/**
 * Relevance (higher is better).
 */
score: number, 
/**
 * Local number (for `read`).
 */
id: number, 
/**
 * The receiving identity's address.
 */
identity: string, 
/**
 * Sender address.
 */
from: string, 
/**
 * Sender display name.
 */
from_name: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * Its mailbox: `inbox`, `requests`, `drafts`, `sent`, `archive` or `trash`.
 */
folder: string, 
/**
 * Its UID in that mailbox (IMAP's).
 */
uid: number, 
/**
 * Our own mail (Sent, Drafts): to whom.
 */
to: string, 
/**
 * How the sender was verified: `contact` (the key in the address book) or `first_contact`
 * (the key the message carried, bound to the sender's onion address).
 */
verification: string, 
/**
 * The sender's Date.
 */
sent_at: number | null, 
/**
 * When it arrived.
 */
received_at: number, 
/**
 * Whether it has been read.
 */
read: boolean, 
/**
 * Starred.
 */
flagged: boolean, 
/**
 * Answered.
 */
answered: boolean, 
/**
 * The conversation it is in (the Message-ID of its first message).
 */
thread: string, 
/**
 * Its Message-ID.
 */
message_id: string, };

export type Send = { identity: string, to: string, subject: string, text: string, attachments: Array<UiAttachment>, 
/**
 * Send to an ordinary address (`to` is name@domain) through this contact, a gateway: it
 * leaves the gateway as ordinary email, readable there and by the recipient's servers.
 */
via_gateway: string | null, 
/**
 * With `via_gateway`: the recipient's OpenPGP public key (armored), which the gateway
 * encrypts the message to.
 */
to_key: string | null, };

/**
 * Whether an identity is served on this device, for the app and the CLI.
 */
export type ServiceView = { 
/**
 * The identity's address.
 */
address: string, 
/**
 * Served by this device.
 */
here: boolean, 
/**
 * The device that serves it (first 8 hex digits of its id), if it has a lease.
 */
device: string | null, 
/**
 * The lease's term (0: never copied).
 */
term: number, };

export type SetFlags = { id: number, 
/**
 * Read.
 */
seen: boolean | null, 
/**
 * Starred.
 */
flagged: boolean | null, 
/**
 * Answered.
 */
answered: boolean | null, 
/**
 * Marked for removal (IMAP `\Deleted`).
 */
deleted: boolean | null, };

/**
 * A piece of a snippet: matching words have `hit` set.
 */
export type SnippetPart = { 
/**
 * The text.
 */
text: string, 
/**
 * Whether it matched the query.
 */
hit: boolean, };

/**
 * An identity another of the person's devices serves.
 */
export type StandingBy = { 
/**
 * The identity's address.
 */
address: string, 
/**
 * The device that serves it (first 8 hex digits of its id), or `unknown`.
 */
device: string, };

/**
 * How taking over one identity went.
 */
export type TakeOverView = { identity: string, 
/**
 * `already_here`, `handed_over` or `nobody_answered`.
 */
result: string, 
/**
 * What happened, in a sentence.
 */
message: string, };

export type Text = { text: string, };

export type UiAttachment = { name: string, content_type: string, data_b64: string, };

export type UiInvite = { id: number, link: string, svg: string, expires_at: number, };

/** Every command: its arguments and its result. */
export interface Commands {
  /** Whether a store exists and is unlocked, and where. */
  app_status: { args: NoArgs; result: AppStatus };
  /** Create the store with a passphrase. */
  init_store: { args: Passphrase; result: AppStatus };
  /** Open the store. */
  unlock: { args: Passphrase; result: AppStatus };
  /** Change the store's passphrase. */
  change_passphrase: { args: NewPassphrase; result: AppStatus };
  /** Write an encrypted backup to a file (all identities or chosen ones, with or without mail). */
  backup_export: { args: BackupExport; result: BackupView };
  /** A new device: restore a backup into the empty data directory, and unlock it. */
  backup_import: { args: BackupImport; result: BackupView };
  /** Offer this device's identities to a new one: a one-time link and QR code; the transfer */
  /** runs in the background (see `device_status`). */
  device_offer: { args: DeviceOffer; result: DeviceOfferView };
  /** How far the offer or the receiving has come. */
  device_status: { args: NoArgs; result: DeviceTransferView };
  /** Where each identity's service runs: here, or on another of the person's devices. */
  device_services: { args: NoArgs; result: Array<ServiceView> };
  /** Serve an identity (or all that another device serves) here from now on: the device */
  /** serving it stops and hands over, or, if none answers, this device takes over. */
  device_take_over: { args: DeviceTakeOver; result: Array<TakeOverView> };
  /** Another device holding the identity is lost: serve it only here (the next term) and */
  /** replace its key (or revoke its address), telling every contact. */
  device_lost: { args: Revoke; result: LostDevice };
  /** A device invite for another device of this person (one use, ten minutes): whoever */
  /** redeems it becomes an own device (carries, gets copies of mail, keeps flags in step). */
  device_link_offer: { args: OfIdentity; result: UiInvite };
  /** Redeem another device's device invite: the two link once the handshake arrives. */
  device_link_accept: { args: AcceptScanned; result: ContactView };
  /** The devices linked with an identity. */
  own_devices: { args: OfIdentity; result: Array<OwnDeviceView> };
  /** Unlink a device (it stays a contact); the devices still linked. */
  device_unlink: { args: DeviceUnlink; result: Array<OwnDeviceView> };
  /** A new device: receive the identities a link offers, and unlock the new store. */
  device_receive: { args: DeviceReceive; result: BackupView };
  /** Every identity. */
  identities: { args: NoArgs; result: Array<IdentityView> };
  /** A new identity (its own onion address and keys). */
  create_identity: { args: NewIdentity; result: IdentityView };
  /** Delete an identity with its keys, contacts and mail. */
  delete_identity: { args: OfIdentity; result: IdentityView };
  /** Revoke an identity's key (replaced by a new one) or its whole address; contacts are told. */
  revoke: { args: Revoke; result: RevocationView };
  /** Join the network and serve every identity. */
  start_node: { args: NoArgs; result: NodeStatus };
  /** The node's state. */
  node_status: { args: NoArgs; result: NodeStatus };
  /** An identity's mailboxes, with counts. */
  mailboxes: { args: OfIdentity; result: Array<MailboxView> };
  /** The messages of one mailbox, newest first. */
  mailbox: { args: OfMailbox; result: Array<MessageSummary> };
  /** Mail from contacts. */
  inbox: { args: OfIdentity; result: Array<MessageSummary> };
  /** Mail from strangers: contact requests. */
  requests: { args: OfIdentity; result: Array<MessageSummary> };
  /** Open a message (and mark it read). */
  read_message: { args: ById; result: MessageView };
  /** The conversation a message is in, oldest first. */
  thread: { args: ById; result: Array<MessageSummary> };
  /** Change a message's flags. */
  set_flags: { args: SetFlags; result: MessageSummary };
  /** Move a message to another mailbox (undo: move it back to `from`). */
  move_message: { args: MoveTo; result: MoveView };
  /** Put a message in the Archive. */
  archive: { args: ById; result: MoveView };
  /** Delete a message: to the Trash, or from there for good. */
  trash: { args: ById; result: MoveView };
  /** Save a message's attachments into a folder. */
  save_attachments: { args: SaveAttachments; result: Array<string> };
  /** Accept a contact request. */
  accept_request: { args: ById; result: ContactView };
  /** Decline a contact request (its sender's waiting messages are deleted). */
  decline_request: { args: ById; result: number };
  /** Delete a message for good. */
  delete_message: { args: ById; result: null };
  /** A reply, as a new draft. */
  reply: { args: Reply; result: DraftView };
  /** A forward, as a new draft. */
  forward: { args: ById; result: DraftView };
  /** Save what is being written. */
  save_draft: { args: SaveDraft; result: DraftView };
  /** A draft, to go on writing. */
  draft: { args: ById; result: DraftView };
  /** Throw a draft away. */
  discard_draft: { args: ById; result: null };
  /** Send a draft (queued, and filed in Sent). */
  send_draft: { args: ById; result: OutboxView };
  /** Whether to ask before this identity writes to this address. */
  check_recipient: { args: CheckRecipient; result: RecipientCheck };
  /** Write and send in one step (to an ordinary address through a gateway contact with */
  /** `via_gateway`). */
  send: { args: Send; result: OutboxView };
  /** The identity's gateway settings, if it is a gateway to ordinary email. */
  gateway: { args: OfIdentity; result: GatewayView | null };
  /** The outbox. */
  outbox: { args: OfIdentity; result: Array<OutboxView> };
  /** An identity's contacts. */
  contacts: { args: OfIdentity; result: Array<ContactView> };
  /** Mark a contact verified, after comparing fingerprints in person. */
  confirm_contact: { args: OfContact; result: ContactView };
  /** Introduce one contact to another. */
  introduce: { args: Introduce; result: Array<OutboxView> };
  /** A short-lived invite for the Meet screen (QR code and link). */
  create_invite: { args: OfIdentity; result: UiInvite };
  /** An identity's invites. */
  invites: { args: OfIdentity; result: Array<InviteStateView> };
  /** Withdraw an open invite. */
  withdraw_invite: { args: OfInvite; result: null };
  /** Undo a redeemed invite (the contact it made is removed). */
  undo_invite: { args: OfInvite; result: RedeemerView };
  /** What a scanned or pasted invite or card says (nothing is stored). */
  read_scanned: { args: Text; result: ScanPreview };
  /** Read a QR code from an image file. */
  scan_image: { args: Image; result: ScanPreview };
  /** Read a QR code from a camera frame (grey pixels). */
  scan_frame: { args: Frame; result: ScanPreview };
  /** Accept a scanned invite or card: the contact is added and the handshake queued. */
  accept_scanned: { args: AcceptScanned; result: ContactView };
  /** An identity's mailing lists and invitations to lists. */
  lists: { args: OfIdentity; result: Array<ListView> };
  /** Create a list; the identity is its moderator. */
  list_create: { args: NewList; result: ListView };
  /** Invite a contact to a list. */
  list_invite: { args: ListInvite; result: null };
  /** Accept an invitation to a list. */
  list_join: { args: OfList; result: ListView };
  /** Post to a list; the post's id (hex). */
  list_post: { args: ListPost; result: string };
  /** A list's posts, oldest first. */
  list_posts: { args: OfList; result: Array<ListPostView> };
  /** Save the attachments of a list's posts that are here into a folder. */
  save_list_attachments: { args: SaveListAttachments; result: Array<string> };
  /** A list's members in good standing. */
  list_members: { args: OfList; result: Array<ListMemberView> };
  /** Leave a list: the identity's list key is revoked. */
  list_leave: { args: OfList; result: ListView };
  /** An identity's carriers, its contacts' carriers and what it holds. */
  carriers: { args: OfIdentity; result: CarriersView };
  /** Use (or stop using) a contact as a carrier; every contact is told. */
  designate_carrier: { args: Designate; result: Array<OutboxView> };
  /** Carry mail for contacts, or stop. */
  set_carrier_mode: { args: CarrierMode; result: CarrierModeView };
  /** Whom to carry for, and how much for how long. */
  set_carrier_policy: { args: CarrierPolicy; result: CarrierModeView };
  /** Search mail. */
  search: { args: Search; result: Array<SearchResult> };
  /** Changes after a point in the change log. */
  events: { args: After; result: Array<EventView> };
  /** What notifications may say. */
  notification_settings: { args: NoArgs; result: NotificationSettings };
  /** Set what notifications may say. */
  set_notification_settings: { args: NotificationSettings; result: NotificationSettings };
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::CliError;

/// Postern: email without mail servers.
#[derive(Debug, Parser)]
#[command(name = "postern", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Where Postern keeps its data (default: the platform's data directory).
    #[arg(long, global = true, env = "POSTERN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print results as JSON, for scripts.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub(crate) fn data_dir(&self) -> Result<PathBuf, CliError> {
        if let Some(d) = &self.data_dir {
            return Ok(d.clone());
        }
        directories::ProjectDirs::from("org", "Postern", "postern")
            .map(|p| p.data_dir().to_owned())
            .ok_or_else(|| {
                CliError::Usage("cannot find a home directory; pass --data-dir DIR".into())
            })
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a new Postern store, protected by a passphrase.
    Init,
    /// Change the store's passphrase (the new one from POSTERN_NEW_PASSPHRASE, or asked twice).
    Passphrase,
    /// Show a summary of this device.
    Status,
    /// Run the node: connect to Tor, serve every identity's mail, deliver the outbox, until
    /// stopped (Ctrl-C).
    Run(RunArgs),
    /// Write a message. It is queued, and delivered by the running node.
    Send(SendArgs),
    /// List received mail from contacts.
    Inbox {
        /// Only this identity's mail.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: Option<String>,
    },
    /// Read a message.
    Read {
        /// The message's number (from `inbox` or `requests`).
        id: i64,
        /// Save its attachments into this directory.
        #[arg(long, value_name = "DIR")]
        save_attachments: Option<PathBuf>,
    },
    /// Show sent mail and its delivery state.
    Outbox {
        /// Only this identity's mail.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: Option<String>,
    },
    /// List contact requests (mail from senders who are not contacts), or accept one.
    Requests {
        /// Only this identity's requests.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: Option<String>,
        /// Accept request N: its sender becomes a contact and its mail moves to the inbox.
        #[arg(long, value_name = "N", conflicts_with = "decline")]
        accept: Option<i64>,
        /// Decline request N: everything its sender has waiting is deleted (they are not told).
        #[arg(long, value_name = "N")]
        decline: Option<i64>,
    },
    /// Mail clients' IMAP login for an identity (the same login serves submission): show it,
    /// make a new app password (shown once), revoke it, or print a client configuration.
    Imap(ClientArgs),
    /// The same as `imap`: one login per identity serves IMAP and SMTP submission.
    Submission(ClientArgs),
    /// Hosted accounts: a mailbox on this device, under one of your identities' onions, for
    /// someone who reads it with an ordinary mail client through Tor. Its mail is readable by
    /// you, its host.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Gateway mode: one of your identities, on a machine with a public host name, carries its
    /// contacts' mail out to ordinary email addresses and brings the replies back. The node
    /// takes replies when run with --gateway-listen.
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// A second device: offer this one's identities as a one-time QR code or link, or receive
    /// them on a new device from such a link (over Tor; nothing transits any server).
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Encrypted backups: write one (all identities or chosen ones, with or without mail), or
    /// restore one into an empty data directory (a new device).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// An identity's mailboxes (Inbox, Requests, Drafts, Sent, Archive, Trash): counts, unread,
    /// and the UIDVALIDITY and next UID an IMAP client sees.
    Mailboxes {
        /// The identity.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// List one mailbox of an identity, newest first (`postern list -i ID`); or, with a
    /// subcommand, mailing lists: create, invite, join, post, read, members, leave.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    List {
        /// The identity.
        #[arg(long, short = 'i', value_name = "ID", required = true)]
        identity: Option<String>,
        /// inbox, requests, drafts, sent, archive or trash.
        #[arg(long, short = 'm', default_value = "inbox", value_name = "MAILBOX")]
        mailbox: String,
        #[command(subcommand)]
        list: Option<ListCommand>,
    },
    /// The conversation a message is in, oldest first.
    Thread {
        /// The message's number.
        id: i64,
    },
    /// Change a message's flags.
    Flag {
        /// The message's number.
        id: i64,
        /// Mark it read.
        #[arg(long, conflicts_with = "unread")]
        read: bool,
        /// Mark it unread.
        #[arg(long)]
        unread: bool,
        /// Star it.
        #[arg(long, conflicts_with = "unstar")]
        star: bool,
        /// Remove the star.
        #[arg(long)]
        unstar: bool,
    },
    /// Move a message to another mailbox of its identity (inbox, archive, trash, sent).
    Move {
        /// The message's number.
        id: i64,
        /// Where to.
        mailbox: String,
    },
    /// Reply to a message: "Re:", the References, and the text quoted under yours.
    Reply {
        /// The message's number.
        id: i64,
        /// To everyone it went to, not only its sender.
        #[arg(long)]
        all: bool,
        /// Your text (default: standard input).
        #[arg(long, conflicts_with = "body_file")]
        body: Option<String>,
        /// Read your text from this file.
        #[arg(long, value_name = "FILE")]
        body_file: Option<PathBuf>,
    },
    /// Delete a message for good (the app's Delete moves it to the Trash first).
    Delete {
        /// The message's number (from `inbox` or `requests`).
        id: i64,
    },
    /// Search mail: words (all must match), "a phrase", prefix*, from:name. One identity's mail
    /// unless --all.
    Search {
        /// What to look for.
        query: String,
        /// Which identity's mail (needed when there are several, unless --all).
        #[arg(long, short = 'i', value_name = "ID", conflicts_with = "all")]
        identity: Option<String>,
        /// Every identity's mail together.
        #[arg(long)]
        all: bool,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Show what changed (new mail, delivery states, contacts, carrying), oldest first.
    Events {
        /// Keep going: print each change as it happens, until stopped.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Start after this event number (default: the last 20).
        #[arg(long, value_name = "N")]
        after: Option<i64>,
    },
    /// The invites an identity handed out and who redeemed each; withdraw or undo one.
    Invites {
        /// Which identity's invites.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// Withdraw open invite N: its code and link stop working at once.
        #[arg(long, value_name = "N", conflicts_with = "undo")]
        withdraw: Option<i64>,
        /// Undo redeemed invite N: whoever redeemed it leaves the address book.
        #[arg(long, value_name = "N")]
        undo: Option<i64>,
    },
    /// Manage your identities (each has its own onion address and keys).
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Manage an identity's contacts.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Show a one-time invite as a QR code, or read one (or a card) from a picture.
    #[command(subcommand)]
    Qr(QrCommand),
    /// Print a one-time invite link (`postern:…`) to send over another channel.
    Link {
        /// Number, full address, or name (if unique).
        identity: String,
        /// How long the invite stays valid, in hours (whoever uses it first becomes your
        /// contact: keep it short).
        #[arg(long, default_value_t = 1, value_name = "HOURS")]
        valid_for: u64,
    },
    /// Introduce one contact to another: send CONTACT's card (a vCard with key) to --to.
    Introduce {
        /// Which of your identities knows both.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The contact to introduce (address).
        contact: String,
        /// The contact who receives the introduction (address).
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// Also introduce --to to CONTACT.
        #[arg(long)]
        both: bool,
    },
    /// Carrier mode: hold sealed mail for contacts while they are offline.
    #[command(subcommand)]
    Carrier(CarrierCommand),
    /// Your carriers, your contacts' carriers (measured availability, how many get a message),
    /// and what you hold as a carrier.
    Carriers {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// Designate a carrier (a device that holds mail for you while you are offline).
        #[arg(long, value_name = "ADDRESS")]
        add: Option<String>,
        /// Stop using a carrier.
        #[arg(long, value_name = "ADDRESS", conflicts_with = "add")]
        remove: Option<String>,
        /// The chance that at least one chosen carrier is reachable, for the estimate.
        #[arg(long, default_value_t = postern_core::DEFAULT_CARRIER_TARGET, value_name = "P")]
        target: f64,
    },
    /// Revoke an identity's OpenPGP key (a new one replaces it) or its whole address, and
    /// tell every contact. Stop `postern run` first; the notices go out when it next runs.
    Revoke {
        /// Number, full address, or name (if unique).
        identity: String,
        /// Revoke the OpenPGP key and replace it with a new one.
        #[arg(long, required_unless_present = "address", conflicts_with = "address")]
        key: bool,
        /// Revoke the whole address: it never sends or receives again.
        #[arg(long)]
        address: bool,
        /// Why (shown to contacts).
        #[arg(long, default_value = "")]
        reason: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum IdentityCommand {
    /// Create a new identity: a new onion address and a new OpenPGP key.
    New {
        /// The name before @ (a-z, 0-9, '.', '_', '-').
        name: String,
        /// The name your contacts see.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List your identities.
    List,
    /// Show one identity.
    Show {
        /// Number, full address, or name (if unique).
        identity: String,
    },
    /// Print the identity's contact card, to give to someone.
    ExportCard {
        /// Number, full address, or name (if unique).
        identity: String,
        /// Leave out the OpenPGP key (a shorter card; the key is fetched on first contact).
        #[arg(long)]
        no_key: bool,
        /// Write the card to a file instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Delete an identity with its keys, contacts and mail.
    Delete {
        /// Number, full address, or name (if unique).
        identity: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContactCommand {
    /// Add a contact from their card (POSTERN-CARD:…) or invite link (postern:…).
    Add {
        /// Which of your identities gets the contact.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The card text, or '-' to read it from standard input.
        card: Option<String>,
        /// Read the card from a file.
        #[arg(long, value_name = "FILE", conflicts_with = "card")]
        file: Option<PathBuf>,
    },
    /// List an identity's contacts.
    List {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// Show one contact.
    Show {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The contact's address.
        address: String,
    },
    /// Show how far a contact is trusted and why (scan, introductions, revocations).
    Trust {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The contact's address.
        address: String,
        /// Mark the contact verified: you compared its fingerprint with its owner.
        #[arg(long)]
        confirm: bool,
    },
}

/// Which network: the real Tor network (default), a private one, or loopback TCP.
#[derive(Debug, clap::Args)]
pub(crate) struct NetworkArgs {
    /// Join a private Tor network described by this arti configuration file (local mode; the
    /// default is the real Tor network).
    #[arg(
        long,
        env = "POSTERN_NETWORK_CONFIG",
        value_name = "FILE",
        conflicts_with = "loopback"
    )]
    pub network_config: Option<PathBuf>,
    /// Use plain TCP on 127.0.0.1 instead of Tor, with services registered in DIR (testing only).
    #[arg(long, value_name = "DIR")]
    pub loopback: Option<PathBuf>,
    /// Give up connecting to Tor after this many seconds.
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    pub bootstrap_timeout: u64,
}

/// How `postern run` connects.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub net: NetworkArgs,
    /// Wait this long before the first retry of a failed delivery (doubling after that).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub retry_first: u64,
    /// Never wait longer than this between delivery attempts.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
    pub retry_max: u64,
    /// Give up delivering a message this long after it was queued.
    #[arg(long, default_value_t = 5 * 24 * 3600, value_name = "SECONDS")]
    pub give_up_after: u64,
    /// Largest message the node accepts, in bytes.
    #[arg(long, default_value_t = 25 * 1024 * 1024, value_name = "BYTES")]
    pub max_message_size: usize,
    /// Proof-of-work bits asked of a stranger's first message, and paid on ours to someone who
    /// may not know us (each bit doubles the work; 0: none).
    #[arg(long, default_value_t = postern_core::stamp::DEFAULT_BITS, value_name = "BITS")]
    pub stamp_bits: u8,
    /// Serve mail clients over IMAP on 127.0.0.1:PORT (log in with `postern imap --rotate`;
    /// 1143 is usual).
    #[arg(long, value_name = "PORT")]
    pub imap_port: Option<u16>,
    /// Accept mail from mail clients (SMTP submission) on 127.0.0.1:PORT (1587 is usual).
    #[arg(long, value_name = "PORT")]
    pub submission_port: Option<u16>,
    /// Gateway mode: take replies from the ordinary Internet on this address (e.g.
    /// 0.0.0.0:25). Without it, a gateway still sends mail out, but replies cannot come back.
    #[arg(long, value_name = "ADDR:PORT")]
    pub gateway_listen: Option<std::net::SocketAddr>,
    /// Gateway mode: this machine's host name (its MX name; default: the gateway's domain).
    #[arg(long, value_name = "NAME")]
    pub gateway_hostname: Option<String>,
    /// Gateway mode: STARTTLS certificate chain (PEM) for the public server.
    #[arg(long, value_name = "FILE", requires = "gateway_tls_key")]
    pub gateway_tls_cert: Option<PathBuf>,
    /// Gateway mode: the certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "gateway_tls_cert")]
    pub gateway_tls_key: Option<PathBuf>,
    /// Gateway mode: the DNS server for MX, SPF, DKIM and DMARC lookups (default: the
    /// system's resolver).
    #[arg(long, value_name = "ADDR:PORT")]
    pub gateway_dns: Option<std::net::SocketAddr>,
    /// Gateway mode: the port of recipients' mail servers.
    #[arg(long, default_value_t = 25, value_name = "PORT")]
    pub gateway_smtp_port: u16,
}

/// `postern device …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DeviceCommand {
    /// Show a one-time QR code and link for a new device, then send it this device's
    /// identities (keys, contacts, carriers, lists, settings; mail unless --without-mail) once it
    /// connects with the link. Runs until the transfer is done or the link expires.
    Offer {
        /// Leave mail out.
        #[arg(long)]
        without_mail: bool,
        /// The link expires after this many minutes.
        #[arg(long, default_value_t = 10, value_name = "MINUTES")]
        valid_for: u64,
        /// Print the link only, no QR code.
        #[arg(long)]
        no_qr: bool,
        #[command(flatten)]
        net: NetworkArgs,
    },
    /// Serve identities on this device from now on (all that another of your devices serves,
    /// or those given): the device serving each is asked to stop and hand over; if none answers
    /// within --patience seconds, this device takes over (the other stands by when it starts).
    /// The node must not be running on this device.
    TakeOver {
        /// Only this identity (repeatable).
        #[arg(long, short = 'i', value_name = "ID")]
        identity: Vec<String>,
        /// Seconds to wait for the device that serves it to answer.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        patience: u64,
        #[command(flatten)]
        net: NetworkArgs,
    },
    /// Which identities this device serves, and which another of your devices serves.
    Status,
    /// Link IDENTITY with an identity of yours on another device, so that they carry for each
    /// other, copy mail from contacts to each other and keep read, starred and answered marks in
    /// step. Without LINK: show a device invite (one use, ten minutes) to scan on the other
    /// device; with LINK: redeem the one the other device shows.
    Link {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The device invite shown by `postern device link` on the other device.
        link: Option<String>,
        /// Print the invite only, no QR code.
        #[arg(long)]
        no_qr: bool,
    },
    /// The devices linked with IDENTITY.
    Linked {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// Stop treating DEVICE (an address) as one of IDENTITY's devices; it stays a contact.
    Unlink {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        device: String,
    },
    /// Another device holding IDENTITY is lost: serve it here in the next term (the lost one
    /// stands by if it comes back) and revoke its OpenPGP key, replacing it (or with --address
    /// the whole address), telling every contact. Stop `postern run` first.
    Lost {
        /// Number, full address, or name (if unique).
        identity: String,
        /// Revoke the whole address (the lost device holds its onion key too).
        #[arg(long)]
        address: bool,
        /// Why (shown to contacts).
        #[arg(long, default_value = "one of my devices was lost")]
        reason: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// On the new device (an empty data directory): receive the identities the link offers.
    /// This device's passphrase from POSTERN_PASSPHRASE, or asked twice.
    Receive {
        /// The link shown by `postern device offer` (POSTERN-DEVICE:…).
        link: String,
        #[command(flatten)]
        net: NetworkArgs,
    },
}

/// `postern backup …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum BackupCommand {
    /// Write a backup to FILE (which must not exist), sealed under a passphrase of its own
    /// (POSTERN_BACKUP_PASSPHRASE, or asked twice): keys, contacts, carriers, lists, settings,
    /// and mail unless --without-mail.
    Export {
        /// Where to write it.
        file: PathBuf,
        /// Only this identity (repeat for more; a hosted account brings its host, a host its
        /// accounts). Default: all.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: Vec<String>,
        /// Leave mail out (messages, drafts, the outbox, attachments).
        #[arg(long)]
        without_mail: bool,
    },
    /// Restore the backup in FILE into this data directory, which must hold no store yet. The
    /// backup's passphrase from POSTERN_BACKUP_PASSPHRASE (or asked); this device's new
    /// passphrase from POSTERN_PASSPHRASE (or asked twice). Checked whole before anything is
    /// written.
    Import {
        /// The backup file.
        file: PathBuf,
    },
}

/// `postern gateway …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum GatewayCommand {
    /// Make an identity a gateway for DOMAIN (or change its settings); prints the DKIM record
    /// to publish in DNS.
    Enable {
        /// The identity that becomes the gateway.
        identity: String,
        /// Its mail domain (where reply addresses live; its MX must point at this machine).
        #[arg(long, value_name = "DOMAIN")]
        domain: String,
        /// The DKIM selector the key is published under.
        #[arg(long, default_value = "postern", value_name = "NAME")]
        selector: String,
        /// The DKIM signing key: an RSA private key in PEM (e.g. from
        /// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`).
        #[arg(long, value_name = "FILE")]
        dkim_key: PathBuf,
    },
    /// Set whose mail the gateway carries out and how much per sender per day (the whole
    /// policy: what is not given returns to its default).
    Policy {
        /// The gateway identity.
        identity: String,
        /// A contact that may send through it (repeatable); none: every contact may.
        #[arg(long = "allow", value_name = "CONTACT")]
        allow: Vec<String>,
        /// Messages one sender may hand over per day (UTC).
        #[arg(long, default_value_t = 200, value_name = "N")]
        max_messages_per_day: i64,
        /// MiB one sender may hand over per day (UTC).
        #[arg(long, default_value_t = 100, value_name = "MIB")]
        max_mib_per_day: i64,
    },
    /// Show an identity's gateway settings and queue.
    Show {
        /// The gateway identity.
        identity: String,
    },
}

/// `postern account …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AccountCommand {
    /// Make an account LOCAL@<host's onion> with its own key and mailboxes; prints its login
    /// (the password once) and where its mail client connects.
    Add {
        /// The identity whose onion service hosts it.
        #[arg(long, value_name = "ID")]
        host: String,
        /// The account's local part (the name before the @).
        local_part: String,
        /// The name its contacts see.
        #[arg(long, default_value = "", value_name = "NAME")]
        name: String,
        /// The holder's own OpenPGP public key (a file, armored or binary): mail Postern users
        /// write to the account is then encrypted to it, and you, the host, cannot read it.
        #[arg(long, value_name = "FILE")]
        holder_key: Option<std::path::PathBuf>,
    },
    /// List hosted accounts (those of one host with --host).
    List {
        /// Only the accounts this identity hosts.
        #[arg(long, value_name = "ID")]
        host: Option<String>,
    },
    /// Remove a hosted account and all its mail.
    Remove {
        /// The account (number or address).
        account: String,
    },
}

/// `postern imap` / `postern submission`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// The identity.
    #[arg(long, short = 'i', value_name = "ID")]
    pub identity: String,
    /// Make a new app password (the old one stops working); it is shown once.
    #[arg(long, conflicts_with = "revoke")]
    pub rotate: bool,
    /// Revoke the app password: mail clients can no longer log in.
    #[arg(long)]
    pub revoke: bool,
    /// Print a ready configuration: `mbsync` or `thunderbird` (autoconfig XML).
    #[arg(long, value_name = "CLIENT")]
    pub config: Option<String>,
    /// The IMAP port the node serves (`run --imap-port`), for the configuration.
    #[arg(long, default_value_t = postern_core::DEFAULT_IMAP_PORT, value_name = "PORT")]
    pub imap_port: u16,
    /// The submission port the node serves (`run --submission-port`), for the configuration.
    #[arg(long, default_value_t = postern_core::DEFAULT_SUBMISSION_PORT, value_name = "PORT")]
    pub submission_port: u16,
}

/// `postern send`.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// Which of your identities sends it.
    #[arg(long, value_name = "ID")]
    pub from: String,
    /// The recipient's address (name@<56 characters>.onion).
    #[arg(long, value_name = "ADDRESS")]
    pub to: String,
    /// Subject.
    #[arg(long, short = 's', default_value = "")]
    pub subject: String,
    /// Read the text from this file (default: standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// The text, given directly.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Attach a file (repeatable).
    #[arg(long = "attach", value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Send to an ordinary email address (--to name@domain) through this contact, a gateway.
    /// It travels sealed to the gateway, which must open it to deliver it: the gateway and the
    /// recipient's mail servers can read it (unless it leaves encrypted to their key).
    #[arg(long, value_name = "CONTACT")]
    pub via_gateway: Option<String>,
    /// With --via-gateway: the recipient's OpenPGP public key (armored or binary). The gateway
    /// encrypts the message to it (PGP/MIME) and keeps it for your next messages to them; the
    /// gateway itself still reads the message.
    #[arg(long, value_name = "FILE", requires = "via_gateway")]
    pub to_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum QrCommand {
    /// Show a new one-time invite (your card and a token) as a QR code: in the terminal, or as
    /// a PNG or SVG file.
    Show {
        /// Number, full address, or name (if unique).
        identity: String,
        /// Write a PNG file instead of printing.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Write an SVG file instead of printing.
        #[arg(long, value_name = "FILE", conflicts_with = "png")]
        svg: Option<PathBuf>,
        /// How long the invite stays valid, in hours (whoever uses it first becomes your
        /// contact: keep it short).
        #[arg(long, default_value_t = 1, value_name = "HOURS")]
        valid_for: u64,
    },
    /// Read an invite or card from a photo or screenshot of its QR code (PNG or JPEG).
    Scan {
        /// The image file.
        file: PathBuf,
        /// Add it to this identity's contacts; an invite also sends the handshake (otherwise
        /// only show what it is).
        #[arg(long, value_name = "ID")]
        add: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CarrierCommand {
    /// Switch carrier mode on.
    On {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// Switch carrier mode off (what is held is still delivered).
    Off {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// Show carrier mode, its policy and what is held.
    Status {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// Change whom you carry for (contacts only), the quota and the longest hold.
    Policy {
        /// Which of your identities.
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// Carry mail for this contact (repeatable).
        #[arg(long, value_name = "ADDRESS")]
        allow: Vec<String>,
        /// Stop carrying for this address (repeatable).
        #[arg(long, value_name = "ADDRESS")]
        disallow: Vec<String>,
        /// Most megabytes held at once.
        #[arg(long, value_name = "MB")]
        quota_mb: Option<i64>,
        /// Longest a message is held, in hours.
        #[arg(long, value_name = "HOURS")]
        max_hold_hours: Option<i64>,
    },
}

/// Mailing lists: members pass posts to each other, no list server (docs/protocol.md §15).
#[derive(Debug, Subcommand)]
pub(crate) enum ListCommand {
    /// Your lists, and invitations to lists.
    Show {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
    },
    /// Create a list; you are its moderator.
    Create {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The list's name.
        name: String,
    },
    /// Invite a contact to a list (it joins with `postern list join`).
    Invite {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        /// The list (name, or its id in hex).
        list: String,
        /// The contact (address or name).
        contact: String,
    },
    /// Accept an invitation to a list.
    Join {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        list: String,
    },
    /// Post to a list (the text from --text, or from standard input).
    Post {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        list: String,
        #[arg(long, short = 's', default_value = "")]
        subject: String,
        #[arg(long, short = 't')]
        text: Option<String>,
        /// Attach a file (repeatable; each at most 10 MiB). It travels once per link.
        #[arg(long = "attach", value_name = "FILE")]
        attach: Vec<PathBuf>,
    },
    /// A list's posts, oldest first.
    Read {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        list: String,
        /// Save the attachments you hold into this directory.
        #[arg(long, value_name = "DIR")]
        save_attachments: Option<PathBuf>,
    },
    /// A list's members (by list key; your neighbours by address).
    Members {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        list: String,
    },
    /// Remove a member (moderators): everyone drops its later posts.
    Remove {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        list: String,
        /// The member's list key in hex (at least its first 8 digits), from `list members`.
        member: String,
    },
    /// Leave a list: your list key is revoked and mail on it stops.
    Leave {
        #[arg(long, short = 'i', value_name = "ID")]
        identity: String,
        list: String,
    },
}

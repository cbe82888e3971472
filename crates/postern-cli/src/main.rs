//! `postern`: the command line of Postern.

/// `println!` for text that may hold what others wrote (names, subjects, bodies, peers'
/// replies): escape sequences and text-direction tricks are shown, not obeyed.
macro_rules! say {
    () => {
        println!()
    };
    ($($t:tt)*) => {
        println!("{}", postern_types::for_terminal(&format!($($t)*)))
    };
}

/// `eprintln!`, made safe the same way.
macro_rules! say_err {
    ($($t:tt)*) => {
        eprintln!("{}", postern_types::for_terminal(&format!($($t)*)))
    };
}

mod args;
mod backup;
mod device;
mod device_link;
mod lists;
mod mail;
mod meet;
mod node;
mod output;
mod passphrase;

use std::process::ExitCode;

use clap::Parser;
use postern_core::{CoreError, HasKind, Postern};

use args::{AccountCommand, Cli, Command, ContactCommand, GatewayCommand, IdentityCommand};
use output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let out = Output::new(cli.json);
    match run(&cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

/// An error of the CLI: from the core, or from the command line itself.
#[derive(Debug)]
pub(crate) enum CliError {
    Core(CoreError),
    Usage(String),
    Io(String),
}

impl From<CoreError> for CliError {
    fn from(e: CoreError) -> Self {
        CliError::Core(e)
    }
}

impl CliError {
    pub(crate) fn kind(&self) -> postern_core::ErrorKind {
        match self {
            CliError::Core(e) => e.kind(),
            CliError::Usage(_) => postern_core::ErrorKind::BadInput,
            CliError::Io(_) => postern_core::ErrorKind::LocalIo,
        }
    }

    fn exit_code(&self) -> i32 {
        self.kind().exit_code()
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Core(e) => write!(f, "{e}"),
            CliError::Usage(m) | CliError::Io(m) => f.write_str(m),
        }
    }
}

fn open(cli: &Cli) -> Result<Postern, CliError> {
    let dir = cli.data_dir()?;
    if !Postern::exists(&dir) {
        return Err(CliError::Core(CoreError::Store(
            postern_core::StoreError::NotInitialized(dir),
        )));
    }
    let pass = passphrase::existing()?;
    Ok(Postern::open(&dir, pass.as_bytes())?)
}

fn run(cli: &Cli, out: &Output) -> Result<(), CliError> {
    match &cli.command {
        Command::Init => {
            let dir = cli.data_dir()?;
            if Postern::exists(&dir) {
                return Err(CliError::Core(CoreError::Store(
                    postern_core::StoreError::AlreadyExists(dir),
                )));
            }
            let pass = passphrase::new()?;
            let p = Postern::init(&dir, pass.as_bytes())?;
            out.status(&p.status()?, "Created a new Postern store.");
        }
        Command::Passphrase => {
            let dir = cli.data_dir()?;
            let old = passphrase::existing()?;
            let mut p = Postern::open(&dir, old.as_bytes())?;
            let new = passphrase::replacement()?;
            p.change_passphrase(old.as_bytes(), new.as_bytes())?;
            out.done("Passphrase changed.");
        }
        Command::Run(args) => {
            passphrase::leave_the_environment()?;
            let p = open(cli)?;
            node::run(p, args)?;
        }
        Command::Qr(cmd) => meet::qr(cli, cmd, out)?,
        Command::Link {
            identity,
            valid_for,
        } => meet::link(cli, identity, *valid_for, out)?,
        Command::Introduce {
            identity,
            contact,
            to,
            both,
        } => meet::introduce(cli, identity, contact, to, *both, out)?,
        Command::Carrier(cmd) => meet::carrier(cli, cmd, out)?,
        Command::Carriers {
            identity,
            add,
            remove,
            target,
        } => meet::carriers(
            cli,
            identity,
            add.as_deref(),
            remove.as_deref(),
            *target,
            out,
        )?,
        Command::Revoke {
            identity,
            key: _,
            address,
            reason,
            yes,
        } => meet::revoke(cli, identity, *address, reason, *yes, out)?,
        Command::Send(args) => {
            let mut p = open(cli)?;
            mail::send(&mut p, args, out)?;
        }
        Command::Inbox { identity } => {
            let p = open(cli)?;
            out.messages(&p.inbox(identity.as_deref())?, "inbox");
        }
        Command::Requests {
            identity,
            accept,
            decline,
        } => {
            let mut p = open(cli)?;
            match (accept, decline) {
                (Some(n), _) => {
                    let c = p.accept_request(*n)?;
                    out.contact(&c, "Accepted; added contact");
                }
                (None, Some(n)) => {
                    let gone = p.decline_request(*n)?;
                    out.done(&format!("Declined: {gone} message(s) deleted"));
                }
                (None, None) => out.messages(&p.requests(identity.as_deref())?, "requests"),
            }
        }
        Command::Imap(a) | Command::Submission(a) => {
            let mut p = open(cli)?;
            if let Some(kind) = &a.config {
                print!(
                    "{}",
                    p.client_config(&a.identity, kind, a.imap_port, a.submission_port)?
                );
            } else {
                let login = if a.rotate {
                    p.rotate_client_password(&a.identity)?
                } else if a.revoke {
                    p.revoke_client_password(&a.identity)?
                } else {
                    p.client_login(&a.identity)?
                };
                out.client_login(&login);
            }
        }
        Command::Backup(b) => backup::run(cli, b, out)?,
        Command::Device(d) => device::run(cli, d, out)?,
        Command::Account(a) => {
            let mut p = open(cli)?;
            match a {
                AccountCommand::Add {
                    host,
                    local_part,
                    name,
                    holder_key,
                } => {
                    let key = holder_key
                        .as_ref()
                        .map(|f| mail::read_file(f))
                        .transpose()?;
                    out.account(&p.add_account(host, local_part, name, key.as_deref())?)
                }
                AccountCommand::List { host } => out.identities(&p.accounts(host.as_deref())?),
                AccountCommand::Remove { account } => {
                    let gone = p.remove_account(account)?;
                    out.identity(&gone, "Removed hosted account");
                }
            }
        }
        Command::Gateway(g) => {
            let mut p = open(cli)?;
            match g {
                GatewayCommand::Enable {
                    identity,
                    domain,
                    selector,
                    dkim_key,
                } => {
                    let pem = String::from_utf8(mail::read_file(dkim_key)?).map_err(|_| {
                        CliError::Usage(format!("{} is not a PEM file", dkim_key.display()))
                    })?;
                    out.gateway(&p.enable_gateway(identity, domain, selector, &pem)?);
                }
                GatewayCommand::Policy {
                    identity,
                    allow,
                    max_messages_per_day,
                    max_mib_per_day,
                } => {
                    let rules = postern_core::GatewayRules {
                        senders: allow.clone(),
                        max_messages_per_day: *max_messages_per_day,
                        max_bytes_per_day: max_mib_per_day.saturating_mul(1024 * 1024),
                    };
                    out.gateway(&p.set_gateway_rules(identity, &rules)?);
                }
                GatewayCommand::Show { identity } => match p.gateway_settings(identity)? {
                    Some(g) => out.gateway(&g),
                    None => {
                        return Err(CliError::Usage(format!(
                            "{identity} is not a gateway (`postern gateway enable`)"
                        )))
                    }
                },
            }
        }
        Command::Mailboxes { identity } => {
            let p = open(cli)?;
            out.mailboxes(&p.mailboxes(identity)?);
        }
        Command::List {
            list: Some(cmd), ..
        } => lists::run(cli, cmd, out)?,
        Command::List {
            identity, mailbox, ..
        } => {
            let p = open(cli)?;
            let identity = identity
                .as_deref()
                .ok_or_else(|| CliError::Usage("--identity is needed".into()))?;
            out.messages(
                &p.mailbox(identity, mailbox)?,
                postern_core::mailbox_label(mailbox),
            );
        }
        Command::Thread { id } => {
            let p = open(cli)?;
            out.messages(&p.thread(*id)?, "the thread");
        }
        Command::Flag {
            id,
            read,
            unread,
            star,
            unstar,
        } => {
            let mut p = open(cli)?;
            let pick = |yes: bool, no: bool| (yes || no).then_some(yes);
            let m = p.set_flags(
                *id,
                postern_core::FlagChange {
                    seen: pick(*read, *unread),
                    flagged: pick(*star, *unstar),
                    ..Default::default()
                },
            )?;
            out.messages(&[m], "");
        }
        Command::Move { id, mailbox } => {
            let mut p = open(cli)?;
            let m = p.move_message(*id, mailbox)?;
            out.done(&format!(
                "Moved message {id} from {} to {}",
                postern_core::mailbox_label(&m.from),
                postern_core::mailbox_label(&m.to)
            ));
        }
        Command::Reply {
            id,
            all,
            body,
            body_file,
        } => {
            let mut p = open(cli)?;
            let text = mail::text_of(body.as_deref(), body_file.as_deref())?;
            let queued = mail::reply(&mut p, *id, *all, &text)?;
            out.queued(&queued);
        }
        Command::Delete { id } => {
            let mut p = open(cli)?;
            p.delete_message(*id)?;
            out.done(&format!("Deleted message {id}"));
        }
        Command::Search {
            query,
            identity,
            all,
            limit,
        } => {
            let p = open(cli)?;
            let scope = match (identity, all) {
                (_, true) => None,
                (Some(i), false) => Some(i.clone()),
                (None, false) => match p.identities()?.as_slice() {
                    [only] => Some(only.address.clone()),
                    [] => return Err(CliError::Usage("there is no identity yet".into())),
                    _ => return Err(CliError::Usage(
                        "several identities: say which with -i ID, or search them all with --all"
                            .into(),
                    )),
                },
            };
            out.search_results(&p.search(scope.as_deref(), query, *limit)?, query);
        }
        Command::Events { follow, after } => {
            let p = open(cli)?;
            let mut last = match after {
                Some(n) => *n,
                None => (p.last_event()? - 20).max(0),
            };
            loop {
                let events = p.events_after(last, postern_core::MAX_EVENTS)?;
                if let Some(e) = events.last() {
                    last = e.id;
                }
                out.events(&events);
                if !*follow {
                    break;
                }
                if events.is_empty() {
                    // Another process (the node) writes them; the database is all we share.
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
            }
        }
        Command::Invites {
            identity,
            withdraw,
            undo,
        } => {
            let mut p = open(cli)?;
            match (withdraw, undo) {
                (Some(n), _) => {
                    p.withdraw_invite(identity, *n)?;
                    out.done(&format!("Withdrew invite {n}: it no longer works"));
                }
                (None, Some(n)) => {
                    let r = p.undo_invite(identity, *n)?;
                    out.done(&format!(
                        "Removed {} <{}> (redeemed invite {n}) from the address book",
                        r.display_name, r.address
                    ));
                }
                (None, None) => out.invites(&p.invites(identity)?),
            }
        }
        Command::Read {
            id,
            save_attachments,
        } => {
            let mut p = open(cli)?;
            let m = p.read(*id)?;
            let saved = match save_attachments {
                Some(dir) => mail::save_attachments(&p, *id, dir)?,
                None => Vec::new(),
            };
            out.message(&m, &saved);
        }
        Command::Outbox { identity } => {
            let p = open(cli)?;
            out.outbox(&p.outbox(identity.as_deref())?);
        }
        Command::Status => {
            let p = open(cli)?;
            out.status(&p.status()?, "");
        }
        Command::Identity(cmd) => match cmd {
            IdentityCommand::New { name, display_name } => {
                let mut p = open(cli)?;
                let id = p.create_identity(name, display_name.as_deref().unwrap_or(""))?;
                out.identity(&id, "Created identity");
            }
            IdentityCommand::List => {
                let p = open(cli)?;
                out.identities(&p.identities()?);
            }
            IdentityCommand::Show { identity } => {
                let p = open(cli)?;
                out.identity(&p.identity(identity)?, "");
            }
            IdentityCommand::ExportCard {
                identity,
                no_key,
                out: file,
            } => {
                let p = open(cli)?;
                let card = p.export_card(identity, !no_key)?;
                match file {
                    Some(path) => {
                        std::fs::write(path, format!("{card}\n")).map_err(|e| {
                            CliError::Io(format!("cannot write {}: {e}", path.display()))
                        })?;
                        out.card_written(&card, path);
                    }
                    None => out.card(&card),
                }
            }
            IdentityCommand::Delete { identity, yes } => {
                let mut p = open(cli)?;
                let target = p.identity(identity)?;
                if !yes
                    && !passphrase::confirm(&format!(
                        "Delete {} and all its keys, contacts and mail? This cannot be undone.",
                        target.address
                    ))?
                {
                    return Err(CliError::Usage(
                        "not deleted (pass --yes to delete without asking)".into(),
                    ));
                }
                let gone = p.delete_identity(&target.id.to_string())?;
                out.identity(&gone, "Deleted identity");
            }
        },
        Command::Contact(cmd) => match cmd {
            ContactCommand::Add {
                identity,
                card,
                file,
            } => {
                let text =
                    match (card, file) {
                        (Some(c), None) if c == "-" => read_stdin()?,
                        (Some(c), None) => c.clone(),
                        (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                            CliError::Io(format!("cannot read {}: {e}", path.display()))
                        })?,
                        _ => return Err(CliError::Usage(
                            "give the card as an argument, '-' for standard input, or --file FILE"
                                .into(),
                        )),
                    };
                let mut p = open(cli)?;
                let c = p.accept_scanned(identity, &text)?;
                out.contact(&c, "Added contact");
            }
            ContactCommand::List { identity } => {
                let p = open(cli)?;
                out.contacts(&p.contacts(identity)?);
            }
            ContactCommand::Show { identity, address } => {
                let p = open(cli)?;
                out.contact(&p.contact(identity, address)?, "");
            }
            ContactCommand::Trust {
                identity,
                address,
                confirm,
            } => {
                let mut p = open(cli)?;
                let c = if *confirm {
                    p.confirm_contact(identity, address)?
                } else {
                    p.contact(identity, address)?
                };
                out.trust(&c);
            }
        },
    }
    Ok(())
}

/// Logs go to stderr. Default: Postern's own at `info`, arti's at `warn` (its per-relay chatter
/// on small networks at `error`). `RUST_LOG` overrides. Addresses in logs are redacted.
fn init_logging() {
    let filter = std::env::var("RUST_LOG")
        .unwrap_or_else(|_| "warn,postern_core=info,postern_cli=info,tor_netdir=error".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

pub(crate) fn read_stdin() -> Result<String, CliError> {
    use std::io::Read;
    let mut s = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut s)
        .map_err(|e| CliError::Io(format!("cannot read standard input: {e}")))?;
    Ok(s)
}

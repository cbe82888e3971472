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
    /// Show a summary of this device.
    Status,
    /// Run the node: connect to Tor and serve every identity until stopped (Ctrl-C).
    Run(RunArgs),
    /// Manage your identities (each has its own onion address and keys).
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Manage an identity's contacts.
    #[command(subcommand)]
    Contact(ContactCommand),
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
    /// Add a contact from their card (POSTERN-CARD:…).
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
}

/// How `postern run` connects.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
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

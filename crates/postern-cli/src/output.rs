//! Printing results: readable text for people, JSON for scripts.

use std::path::Path;

use postern_core::{ContactView, IdentityView, StatusView};
use serde::Serialize;

use crate::CliError;

pub(crate) struct Output {
    json: bool,
}

fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot encode output as JSON: {e}"),
    }
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Output { json }
    }

    pub(crate) fn error(&self, e: &CliError) {
        if self.json {
            let v = serde_json::json!({
                "error": { "kind": e.kind(), "message": e.to_string() }
            });
            eprintln!("{v}");
        } else {
            eprintln!("error: {e}");
        }
    }

    pub(crate) fn status(&self, s: &StatusView, headline: &str) {
        if self.json {
            return print_json(s);
        }
        if !headline.is_empty() {
            println!("{headline}");
        }
        println!("Data directory: {}", s.data_dir);
        println!("Schema version: {}", s.schema_version);
        println!("Identities:     {}", s.identities);
        println!("Contacts:       {}", s.contacts);
    }

    pub(crate) fn identity(&self, i: &IdentityView, headline: &str) {
        if self.json {
            return print_json(i);
        }
        if !headline.is_empty() {
            println!("{headline} {}", i.id);
        }
        println!("Identity {}", i.id);
        println!("  Address:      {}", i.address);
        if !i.display_name.is_empty() {
            println!("  Display name: {}", i.display_name);
        }
        println!("  OpenPGP key:  {}", group(&i.fingerprint));
        println!("  Contacts:     {}", i.contacts);
    }

    pub(crate) fn identities(&self, list: &[IdentityView]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            println!("No identities yet. Create one with: postern identity new NAME");
            return;
        }
        for i in list {
            let name = if i.display_name.is_empty() {
                String::new()
            } else {
                format!("  ({})", i.display_name)
            };
            println!("{:>3}  {}{}", i.id, i.address, name);
        }
    }

    pub(crate) fn card(&self, card: &str) {
        if self.json {
            return print_json(&serde_json::json!({ "card": card }));
        }
        println!("{card}");
    }

    pub(crate) fn card_written(&self, card: &str, path: &Path) {
        if self.json {
            return print_json(&serde_json::json!({ "card": card, "file": path }));
        }
        println!("Card written to {}", path.display());
    }

    pub(crate) fn contact(&self, c: &ContactView, headline: &str) {
        if self.json {
            return print_json(c);
        }
        if !headline.is_empty() {
            println!("{headline}");
        }
        println!("Contact {}", c.address);
        if !c.display_name.is_empty() {
            println!("  Display name: {}", c.display_name);
        }
        println!("  OpenPGP key:  {}", group(&c.fingerprint));
        println!(
            "  Key held:     {}",
            if c.has_key {
                "yes"
            } else {
                "no (fetched on first contact)"
            }
        );
        println!("  Verified by:  {}", c.verification);
    }

    pub(crate) fn contacts(&self, list: &[ContactView]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            println!("No contacts yet. Add one with: postern contact add -i ID CARD");
            return;
        }
        for c in list {
            println!("{}  {}  [{}]", c.address, c.display_name, c.verification);
        }
    }
}

/// Fingerprints in groups of four, the way people read them aloud.
fn group(hex: &str) -> String {
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

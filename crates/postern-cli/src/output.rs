//! Printing results: readable text for people, JSON for scripts.

use std::path::Path;

use postern_core::{
    CarrierModeView, CarriersView, ContactView, EventView, Handshake, IdentityView,
    InviteStateView, InviteView, MessageSummary, MessageView, OutboxView, RevocationView,
    ScanPreview, SearchResult, StatusView,
};
use serde::Serialize;

use crate::CliError;

pub(crate) struct Output {
    json: bool,
}

pub(crate) fn print_json<T: Serialize>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"), // JSON escapes control characters itself
        Err(e) => say_err!("error: cannot encode output as JSON: {e}"),
    }
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Output { json }
    }

    pub(crate) fn json(&self) -> bool {
        self.json
    }

    pub(crate) fn error(&self, e: &CliError) {
        if self.json {
            let v = serde_json::json!({
                "error": { "kind": e.kind(), "message": e.to_string() }
            });
            eprintln!("{v}");
        } else {
            say_err!("error: {e}");
        }
    }

    pub(crate) fn status(&self, s: &StatusView, headline: &str) {
        if self.json {
            return print_json(s);
        }
        if !headline.is_empty() {
            say!("{headline}");
        }
        say!("Data directory: {}", s.data_dir);
        say!("Schema version: {}", s.schema_version);
        say!("Identities:     {}", s.identities);
        say!("Contacts:       {}", s.contacts);
    }

    pub(crate) fn identity(&self, i: &IdentityView, headline: &str) {
        if self.json {
            return print_json(i);
        }
        if !headline.is_empty() {
            say!("{headline} {}", i.id);
        }
        say!("Identity {}", i.id);
        say!("  Address:      {}", i.address);
        if !i.display_name.is_empty() {
            say!("  Display name: {}", i.display_name);
        }
        say!("  OpenPGP key:  {}", group(&i.fingerprint));
        say!("  Contacts:     {}", i.contacts);
        if let Some(host) = &i.hosted_by {
            if i.holder_key {
                say!("  Hosted by:    {host} (mail to it is encrypted to its holder's own key)");
            } else {
                say!("  Hosted by:    {host} (its mail is readable on this device)");
            }
        }
    }

    pub(crate) fn account(&self, a: &postern_core::AccountView) {
        if self.json {
            return print_json(a);
        }
        self.identity(&a.identity, "Created hosted account");
        say!("");
        say!("{}", a.readable_by_host);
        say!("");
        say!("Give its holder (only them) this login:");
        println!("User:       {}", a.login.user);
        if let Some(p) = &a.login.password {
            println!("Password:   {p}");
            println!(
                "(shown once; a new one: postern imap -i {} --rotate)",
                a.identity.id
            );
        }
        println!(
            "IMAP:       {} (no TLS: Tor encrypts and authenticates the onion)",
            a.imap
        );
        println!("Submission: {}", a.submission);
        say!("Their mail client connects through Tor's SOCKS proxy (e.g. torsocks), while this");
        say!("node runs.");
    }

    pub(crate) fn client_login(&self, l: &postern_core::ClientLoginView) {
        if self.json {
            return print_json(l);
        }
        println!("User:     {}", l.user);
        match &l.password {
            Some(p) => {
                println!("Password: {p}");
                println!("(shown once: put it in your mail client now)");
            }
            None if l.active => println!("Password: set (make a new one with --rotate)"),
            None => println!("Password: none (make one with --rotate)"),
        }
        println!("Server:   127.0.0.1, IMAP and SMTP submission, no TLS (local only)");
    }

    pub(crate) fn identities(&self, list: &[IdentityView]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            say!("No identities yet. Create one with: postern identity new NAME");
            return;
        }
        for i in list {
            let name = if i.display_name.is_empty() {
                String::new()
            } else {
                format!("  ({})", i.display_name)
            };
            let hosted = if i.hosted_by.is_some() {
                "  [hosted account]"
            } else {
                ""
            };
            say!("{:>3}  {}{}{}", i.id, i.address, name, hosted);
        }
    }

    pub(crate) fn card(&self, card: &str) {
        if self.json {
            return print_json(&serde_json::json!({ "card": card }));
        }
        say!("{card}");
    }

    pub(crate) fn card_written(&self, card: &str, path: &Path) {
        if self.json {
            return print_json(&serde_json::json!({ "card": card, "file": path }));
        }
        say!("Card written to {}", path.display());
    }

    pub(crate) fn contact(&self, c: &ContactView, headline: &str) {
        if self.json {
            return print_json(c);
        }
        if !headline.is_empty() {
            say!("{headline}");
        }
        say!("Contact {}", c.address);
        if !c.display_name.is_empty() {
            say!("  Display name: {}", c.display_name);
        }
        say!("  OpenPGP key:  {}", group(&c.fingerprint));
        say!(
            "  Key held:     {}",
            if c.has_key {
                "yes"
            } else {
                "no (fetched on first contact)"
            }
        );
        say!("  Verified by:  {}", c.verification);
        say!("  Trust:        {} — {}", c.trust, c.trust_label);
    }

    pub(crate) fn contacts(&self, list: &[ContactView]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            say!("No contacts yet. Add one with: postern contact add -i ID CARD");
            return;
        }
        for c in list {
            say!("{}  {}  [{}]", c.address, c.display_name, c.verification);
        }
    }
}

pub(crate) fn when(t: i64) -> String {
    postern_types::utc_minute(t)
}

impl Output {
    pub(crate) fn invite(&self, i: &InviteView, file: Option<&std::path::Path>, draw: bool) {
        if self.json {
            return print_json(i);
        }
        if draw {
            match qr_text(&i.link) {
                Some(code) => say!("{code}"),
                None => say!("(too long for a terminal QR code)"),
            }
        }
        if let Some(f) = file {
            say!("Wrote the invite's QR code to {}.", f.display());
        }
        say!(
            "Invite link (one use, valid until {} UTC):",
            when(i.expires_at)
        );
        say!("{}", i.link);
        say!(
            "Whoever scans or opens it once becomes your contact; treat it as public. \
             Withdraw it with: postern invites -i ID --withdraw {}",
            i.id
        );
    }

    /// A one-line confirmation (JSON: `{"done": …}`).
    pub(crate) fn done(&self, what: &str) {
        if self.json {
            return print_json(&serde_json::json!({ "done": what }));
        }
        say!("{what}");
    }

    pub(crate) fn invites(&self, list: &[InviteStateView]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            say!("No invites handed out (postern link ID, postern qr show ID).");
            return;
        }
        for i in list {
            let what = match (&i.redeemed_by, i.state.as_str()) {
                (Some(r), _) if r.still_a_contact => format!(
                    "redeemed {} by {} <{}>, key {}",
                    i.redeemed_at.map(when).unwrap_or_default(),
                    r.display_name,
                    r.address,
                    group(&r.fingerprint)
                ),
                (Some(r), _) => format!("redeemed by {} (undone)", r.address),
                (None, "open") => format!("open until {} UTC", when(i.expires_at)),
                (None, _) => format!("expired {} UTC, unused", when(i.expires_at)),
            };
            say!("{:>6}  made {} UTC  {what}", i.id, when(i.created_at));
        }
    }

    pub(crate) fn preview(&self, c: &ScanPreview) {
        if self.json {
            return print_json(c);
        }
        match c.expires_at {
            Some(t) => say!(
                "A valid Postern invite (its signature checks out), until {} UTC:",
                when(t)
            ),
            None => say!("A valid Postern card (its signature checks out):"),
        }
        say!("  Address:      {}", c.address);
        if !c.display_name.is_empty() {
            say!("  Display name: {}", c.display_name);
        }
        say!("  OpenPGP key:  {}", group(&c.fingerprint));
        say!("Add it with: postern qr scan FILE --add YOUR-IDENTITY");
    }

    pub(crate) fn handshake(&self, h: &Handshake) {
        if self.json {
            return print_json(h);
        }
        say!("Added contact {} (verified by scan).", h.contact.address);
        say!(
            "Queued the handshake (message {}): once delivered, {} has your key too.",
            h.outbox.id,
            if h.contact.display_name.is_empty() {
                "the contact"
            } else {
                &h.contact.display_name
            }
        );
        say!("It is delivered while `postern run` is running; see `postern outbox`.");
    }

    pub(crate) fn trust(&self, c: &ContactView) {
        if self.json {
            return print_json(c);
        }
        say!("Contact {}", c.address);
        say!("  Trust:        {} — {}", c.trust, c.trust_label);
        say!("  OpenPGP key:  {}", group(&c.fingerprint));
        for i in &c.introductions {
            let who = if i.introducer_name.is_empty() {
                i.introducer.clone()
            } else {
                format!("{} <{}>", i.introducer_name, i.introducer)
            };
            let flag = if i.conflict {
                " — CONFLICT: a different key, not used"
            } else {
                ""
            };
            say!("  Introduced by {who} on {} UTC{flag}", when(i.received_at));
        }
        for r in &c.revocations {
            say!(
                "  Revoked its {} on {} UTC: {}",
                r.scope,
                when(r.revoked_at),
                if r.reason.is_empty() {
                    "no reason given"
                } else {
                    &r.reason
                }
            );
        }
    }

    pub(crate) fn introductions(&self, list: &[OutboxView]) {
        if self.json {
            return print_json(&list);
        }
        for o in list {
            say!("Queued introduction (message {}) to {}.", o.id, o.to);
        }
        say!("It is delivered while `postern run` is running; see `postern outbox`.");
    }

    pub(crate) fn revocation(&self, r: &RevocationView) {
        if self.json {
            return print_json(r);
        }
        match r.successor.as_deref() {
            Some(next) => say!(
                "Revoked the key {}; the new key is {}.",
                group(&r.fingerprint),
                group(next)
            ),
            None => say!("Revoked the address {}.", r.address),
        }
        say!(
            "Queued a signed notice to {} contact(s); it goes out when `postern run` next runs.",
            r.notified
        );
    }

    pub(crate) fn carrier_mode(&self, m: &CarrierModeView) {
        if self.json {
            return print_json(m);
        }
        say!(
            "Carrier mode of {}: {}",
            m.identity,
            if m.enabled { "on" } else { "off" }
        );
        say!(
            "  Quota: {} MB; holds mail for at most {} hours.",
            m.quota_bytes / (1024 * 1024),
            m.max_hold_secs / 3600
        );
        if m.carrying_for.is_empty() {
            say!("  Carries for nobody yet (postern carrier policy -i ID --allow ADDRESS).");
        }
        for a in &m.carrying_for {
            say!("  Carries for {a}");
        }
        say!("  Holding {} message(s), {} bytes.", m.held, m.held_bytes);
        say!("{}", m.note);
    }

    pub(crate) fn carriers(&self, v: &CarriersView) {
        if self.json {
            return print_json(v);
        }
        say!("Carriers of {}", v.identity);
        if v.my_carriers.is_empty() {
            say!("  Your carriers: none (postern carriers -i ID --add ADDRESS).");
        }
        for c in &v.my_carriers {
            say!("  Your carrier: {c}");
        }
        say!(
            "Contacts' carriers (k chosen so that at least one is reachable with {:.1}% probability):",
            v.target * 100.0
        );
        if v.contacts.is_empty() {
            say!("  none known yet");
        }
        for c in &v.contacts {
            say!(
                "  {} — hand to k = {} of {}: estimate {:.2}%",
                c.contact,
                c.k,
                c.carriers.len(),
                c.estimate * 100.0
            );
            for a in &c.carriers {
                say!(
                    "    {}  p = {:.2} ({} reached, {} not)",
                    a.carrier,
                    a.availability,
                    a.successes,
                    a.failures
                );
            }
        }
        let held: Vec<_> = v
            .held
            .iter()
            .filter(|h| h.state == "held" || h.state == "forwarding")
            .collect();
        say!(
            "Carrier mode: {}; holding {} message(s).",
            if v.mode.enabled { "on" } else { "off" },
            held.len()
        );
        for h in held {
            say!(
                "  {:>4}  {} → {}  {} bytes, since {} UTC, until {} UTC",
                h.id,
                h.sender,
                h.recipient,
                h.size,
                when(h.received_at),
                when(h.expires_at)
            );
        }
    }

    pub(crate) fn gateway(&self, g: &postern_core::GatewayView) {
        if self.json {
            return print_json(g);
        }
        say!("Gateway:  {} for {}", g.identity, g.domain);
        say!("Waiting:  {} message(s) to leave", g.waiting);
        if g.all_contacts {
            say!("Carries:  mail of every contact");
        } else {
            say!("Carries:  mail of {}", g.senders.join(", "));
        }
        say!(
            "Per sender per day: {} message(s), {} MiB",
            g.max_messages_per_day,
            g.max_bytes_per_day / (1024 * 1024)
        );
        say!("Publish in DNS (TXT):");
        say!(
            "  {}._domainkey.{}  \"{}\"",
            g.selector,
            g.domain,
            g.dkim_record
        );
        say!(
            "Point {}'s MX at this machine, and run the node with --gateway-listen 0.0.0.0:25",
            g.domain
        );
        say!("(and --gateway-tls-cert/--gateway-tls-key for STARTTLS) to take replies.");
    }

    pub(crate) fn queued(&self, o: &OutboxView) {
        if self.json {
            return print_json(o);
        }
        say!("Queued message {} to {}.", o.id, o.to);
        say!("It is delivered while `postern run` is running; see `postern outbox`.");
    }

    pub(crate) fn outbox(&self, list: &[OutboxView]) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            say!("The outbox is empty.");
            return;
        }
        for o in list {
            let state = &o.status;
            say!(
                "{:>4}  {}  to {}  \"{}\"  [{state}]",
                o.id,
                when(o.created_at),
                o.to,
                o.subject
            );
        }
    }

    pub(crate) fn messages(&self, list: &[MessageSummary], folder: &str) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            say!("No messages in {folder}.");
            return;
        }
        for m in list {
            let from = if m.from_name.is_empty() {
                m.from.clone()
            } else {
                format!("{} <{}>", m.from_name, m.from)
            };
            let unread = if m.read { " " } else { "*" };
            let star = if m.flagged { "★" } else { " " };
            let from = if m.to.is_empty() {
                from
            } else {
                format!("to {}", m.to)
            };
            say!(
                "{:>4}{unread}{star} {}  {from}  \"{}\"",
                m.id,
                when(m.sent_at.unwrap_or(m.received_at)),
                m.subject
            );
        }
    }

    pub(crate) fn mailboxes(&self, list: &[postern_core::MailboxView]) {
        if self.json {
            return print_json(&list);
        }
        for b in list {
            say!(
                "{:<10} {:>5} messages {:>5} unread   UIDVALIDITY {}  next UID {}",
                b.label,
                b.total,
                b.unread,
                b.uidvalidity,
                b.uidnext
            );
        }
    }

    pub(crate) fn search_results(&self, list: &[SearchResult], query: &str) {
        if self.json {
            return print_json(&list);
        }
        if list.is_empty() {
            say!("Nothing found for {query:?}.");
            return;
        }
        for r in list {
            let m = &r.message;
            let from = if m.from_name.is_empty() {
                m.from.clone()
            } else {
                m.from_name.clone()
            };
            say!(
                "{:>4}  {}  {from}  \"{}\"",
                m.id,
                when(m.received_at),
                m.subject
            );
            // Matches between [ and ]; the snippet on one line.
            let snippet: String = r
                .snippet
                .iter()
                .map(|p| {
                    if p.hit {
                        format!("[{}]", p.text)
                    } else {
                        p.text.clone()
                    }
                })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            say!("      {snippet}");
        }
    }

    /// Events: one line each (one JSON object per line with --json, so a follower can stream).
    pub(crate) fn events(&self, list: &[EventView]) {
        for e in list {
            if self.json {
                match serde_json::to_string(e) {
                    Ok(s) => println!("{s}"),
                    Err(err) => say_err!("error: cannot encode output as JSON: {err}"),
                }
                continue;
            }
            let who = e.identity.as_deref().unwrap_or("-");
            let about = e.reference.map(|r| format!(" #{r}")).unwrap_or_default();
            say!(
                "{:>6} {}  {who}  {}{about} {}",
                e.id,
                when(e.at),
                e.kind,
                e.detail
            );
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }

    pub(crate) fn message(&self, m: &MessageView, saved: &[String]) {
        if self.json {
            let mut v = serde_json::to_value(m).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("saved".into(), serde_json::json!(saved));
            }
            return print_json(&v);
        }
        let s = &m.summary;
        say!("From:     {} <{}>", s.from_name, s.from);
        say!("To:       {}", s.identity);
        say!("Subject:  {}", s.subject);
        say!("Received: {} UTC", when(s.received_at));
        let verified = match s.verification.as_str() {
            "contact" => "signed with the key in your address book",
            "first_contact" => "signed with the key it carried, bound to the sender's onion address (not yet a contact you verified)",
            "gateway" => "NOT verified: ordinary email brought in by a gateway contact (not end-to-end encrypted)",
            other => other,
        };
        say!("Verified: {verified}");
        for a in &m.attachments {
            say!(
                "Attached: {} ({}, {} bytes)",
                a.name,
                a.content_type,
                a.size
            );
        }
        for path in saved {
            say!("Saved:    {path}");
        }
        say!();
        say!("{}", m.text);
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

/// A QR code drawn with half-block characters, two modules per character row.
pub(crate) fn qr_text(payload: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// A progress line on a terminal's standard error (nothing otherwise).
pub(crate) fn progress(what: &'static str) -> impl FnMut(u64, u64) + Send {
    let shown = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = u64::MAX;
    move |done, total| {
        let pct = done
            .saturating_mul(100)
            .checked_div(total)
            .unwrap_or(100)
            .min(100);
        if shown && pct != last {
            last = pct;
            eprint!("\r{what}: {pct}%");
            if pct == 100 {
                eprintln!();
            }
        }
    }
}

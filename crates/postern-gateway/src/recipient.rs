//! Which recipients the gateway's public SMTP server takes: reply addresses it issued, nothing
//! else. This is what keeps the gateway from being an open relay.

use postern_smtp::Reply;

use crate::reply::{verify_local_part, ReplyRoute, ReplySecret};

/// The gateway's inbound rules.
#[derive(Debug, Clone)]
pub struct InboundPolicy {
    /// The gateway's mail domain (lower case), e.g. `gw.example.net`.
    pub domain: String,
    /// The secret its reply addresses are made with.
    pub secret: ReplySecret,
}

/// The answer to one `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientVerdict {
    /// A reply address this gateway issued to this sender: deliver to the route.
    Accept(ReplyRoute),
    /// Refused, with the reply to send.
    Refuse(Reply),
}

/// The refusal for anything addressed elsewhere, or in a form that could mean elsewhere.
pub fn relay_denied() -> Reply {
    Reply::new(
        550,
        "5.7.1",
        "Relaying denied: this gateway takes only replies to addresses it issued",
    )
}

/// The refusal for an address in the gateway's domain that is not a valid reply address —
/// the same whether it was never issued, is forged, altered, expired or issued to someone else.
pub fn no_such_reply_address() -> Reply {
    Reply::new(
        550,
        "5.1.1",
        "No such reply address here (unknown, expired, or not issued to this sender)",
    )
}

impl InboundPolicy {
    /// Decide on `rcpt` for mail whose envelope sender is `mail_from` (`""` for `<>`), at Unix
    /// time `now`.
    pub fn recipient(&self, rcpt: &str, mail_from: &str, now: u64) -> RecipientVerdict {
        let Some((local, domain)) = rcpt.rsplit_once('@') else {
            return RecipientVerdict::Refuse(relay_denied());
        };
        // Forms older MTAs read as "relay on": user%host@gw, host!user@gw, @gw:user@host,
        // "user@host"@gw, and anything quoted or escaped. A reply token never needs them.
        let routing = |c: char| matches!(c, '@' | '%' | '!' | ':' | '"' | '\\' | ',' | ' ');
        if local.is_empty() || local.chars().any(routing) {
            return RecipientVerdict::Refuse(relay_denied());
        }
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return RecipientVerdict::Refuse(relay_denied());
        }
        match verify_local_part(&self.secret, local, mail_from, now) {
            Ok(route) => RecipientVerdict::Accept(route),
            Err(_) => RecipientVerdict::Refuse(no_such_reply_address()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::mint_local_part;

    const NOW: u64 = 1_800_000_000;

    fn policy() -> InboundPolicy {
        InboundPolicy {
            domain: "gw.example.net".into(),
            secret: ReplySecret::from_bytes([3; 32]),
        }
    }

    /// The address forms of the classic open-relay test lists (relay-test.mail-abuse.org,
    /// Postfix's and Sendmail's own checks), aimed at victim@other.example.
    fn relay_probes(gw: &str, token: &str) -> Vec<String> {
        vec![
            "victim@other.example".into(),
            "victim@OTHER.EXAMPLE".into(),
            format!("victim%other.example@{gw}"),
            format!("victim%other.example@[127.0.0.1]"),
            format!("other.example!victim@{gw}"),
            format!("victim@other.example@{gw}"),
            format!("\"victim@other.example\"@{gw}"),
            format!("\"victim%other.example\"@{gw}"),
            format!("@{gw}:victim@other.example"),
            format!("@{gw},@other.example:victim@other.example"),
            "victim@[192.0.2.1]".into(),
            format!("victim@{gw}.other.example"),
            format!("victim@other.example.{gw}"),
            format!("{token}@other.example"),
            format!("{token}%other.example@{gw}"),
            format!("other.example!{token}@{gw}"),
            "other.example!victim".into(),
            "victim".into(),
            "".into(),
        ]
    }

    #[test]
    fn every_relay_probe_is_refused_as_relaying() {
        let token = mint_local_part(&policy().secret, 1, NOW + 86_400, "bob@example.org");
        for probe in relay_probes("gw.example.net", &token) {
            assert_eq!(
                policy().recipient(&probe, "bob@example.org", NOW),
                RecipientVerdict::Refuse(relay_denied()),
                "{probe}"
            );
        }
    }

    #[test]
    fn only_an_issued_address_from_its_correspondent_is_taken() {
        let p = policy();
        let token = mint_local_part(&p.secret, 77, NOW + 86_400, "bob@example.org");
        let rcpt = format!("{token}@GW.example.net.");
        assert!(matches!(
            p.recipient(&rcpt, "Bob@example.org", NOW),
            RecipientVerdict::Accept(ReplyRoute { route: 77, .. })
        ));
        for (rcpt, from, now) in [
            (rcpt.clone(), "eve@example.org", NOW),
            (rcpt.clone(), "bob@example.org", NOW + 3 * 86_400),
            (
                "postmaster@gw.example.net".to_owned(),
                "bob@example.org",
                NOW,
            ),
            (
                "r-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@gw.example.net".to_owned(),
                "bob@example.org",
                NOW,
            ),
        ] {
            assert_eq!(
                p.recipient(&rcpt, from, now),
                RecipientVerdict::Refuse(no_such_reply_address()),
                "{rcpt} from {from}"
            );
        }
    }
}

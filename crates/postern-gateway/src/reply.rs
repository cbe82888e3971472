//! Reply addresses: what an ordinary correspondent writes back to.
//!
//! A reply address is `r-<token>@<gateway domain>`. The token carries the gateway's handle for
//! the Postern sender (a `route`), the day it expires, and a MAC with the gateway's secret over
//! both *and the external correspondent it was issued to*. Nobody without the secret can make
//! one, an old one stops working, and one issued to `a@example.org` does not let
//! `b@example.org` write through it. The bounce address (the envelope sender of outbound mail)
//! is the same kind of address bound to the null sender `<>`, so only delivery reports use it.
//!
//! 8 + 4 + 10 bytes → 36 base32 characters: `r-` and the token fit RFC 5321's 64-octet local
//! part with room to spare. The MAC is 80 bits; guessing one is an online attack the gateway's
//! rate limits make hopeless.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Start of every reply address's local part.
pub const REPLY_PREFIX: &str = "r-";
const MAC_LEN: usize = 10;
const TOKEN_LEN: usize = 8 + 4 + MAC_LEN;
const DOMAIN_SEPARATOR: &[u8] = b"postern gateway reply address v1\0";
const SECONDS_PER_DAY: u64 = 86_400;

/// The gateway's secret for reply addresses (32 random bytes, kept with its state).
#[derive(Clone)]
pub struct ReplySecret([u8; 32]);

impl std::fmt::Debug for ReplySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplySecret(..)")
    }
}

impl ReplySecret {
    /// A secret from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ReplySecret(bytes)
    }

    fn mac(&self, route: u64, expires_day: u32, correspondent: &str) -> Hmac<Sha256> {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(DOMAIN_SEPARATOR);
        mac.update(&route.to_be_bytes());
        mac.update(&expires_day.to_be_bytes());
        mac.update(normalise(correspondent).as_bytes());
        mac
    }
}

/// What a valid reply address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyRoute {
    /// The gateway's handle for the Postern sender.
    pub route: u64,
    /// Unix time (seconds) after which the address is refused.
    pub expires: u64,
}

fn normalise(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

/// The local part of a reply address for `route`, valid until `expires` (Unix seconds, rounded
/// up to a whole day), for mail from `correspondent` (`""`: the null sender of delivery reports).
pub fn mint_local_part(
    secret: &ReplySecret,
    route: u64,
    expires: u64,
    correspondent: &str,
) -> String {
    let day = u32::try_from(expires.div_ceil(SECONDS_PER_DAY)).unwrap_or(u32::MAX);
    let tag = secret
        .mac(route, day, correspondent)
        .finalize()
        .into_bytes();
    let mut token = Vec::with_capacity(TOKEN_LEN);
    token.extend_from_slice(&route.to_be_bytes());
    token.extend_from_slice(&day.to_be_bytes());
    token.extend_from_slice(&tag[..MAC_LEN]);
    format!(
        "{REPLY_PREFIX}{}",
        data_encoding::BASE32_NOPAD
            .encode(&token)
            .to_ascii_lowercase()
    )
}

/// Why a local part is not a usable reply address. Deliberately one kind for every reason
/// (forged, expired, altered, issued to someone else): the answer to a sender is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a reply address issued by this gateway to this sender, or expired")]
pub struct NotAReplyAddress;

/// Check a local part against the secret, the sender of the mail and the time.
pub fn verify_local_part(
    secret: &ReplySecret,
    local_part: &str,
    correspondent: &str,
    now: u64,
) -> Result<ReplyRoute, NotAReplyAddress> {
    let lower = local_part.to_ascii_lowercase();
    let encoded = lower.strip_prefix(REPLY_PREFIX).ok_or(NotAReplyAddress)?;
    let token = data_encoding::BASE32_NOPAD
        .decode(encoded.to_ascii_uppercase().as_bytes())
        .map_err(|_| NotAReplyAddress)?;
    if token.len() != TOKEN_LEN {
        return Err(NotAReplyAddress);
    }
    let (route, rest) = token.split_at(8);
    let (day, tag) = rest.split_at(4);
    let route = u64::from_be_bytes(route.try_into().map_err(|_| NotAReplyAddress)?);
    let day = u32::from_be_bytes(day.try_into().map_err(|_| NotAReplyAddress)?);
    secret
        .mac(route, day, correspondent)
        .verify_truncated_left(tag)
        .map_err(|_| NotAReplyAddress)?;
    let expires = u64::from(day) * SECONDS_PER_DAY;
    if now > expires {
        return Err(NotAReplyAddress);
    }
    Ok(ReplyRoute { route, expires })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;
    const WEEK: u64 = 7 * SECONDS_PER_DAY;

    fn secret() -> ReplySecret {
        ReplySecret::from_bytes([7; 32])
    }

    #[test]
    fn a_minted_address_verifies_for_its_correspondent_only() {
        let local = mint_local_part(&secret(), 42, NOW + WEEK, "Bob@Example.org");
        assert!(local.len() <= 64, "{local}");
        let route = verify_local_part(&secret(), &local, "bob@example.org", NOW).expect("verifies");
        assert_eq!(route.route, 42);
        assert!(route.expires >= NOW + WEEK);
        // Upper case on the wire (some MTAs change case) still verifies.
        assert!(
            verify_local_part(&secret(), &local.to_uppercase(), "BOB@example.org", NOW).is_ok()
        );
        assert_eq!(
            verify_local_part(&secret(), &local, "eve@example.org", NOW),
            Err(NotAReplyAddress)
        );
        assert_eq!(
            verify_local_part(&secret(), &local, "", NOW),
            Err(NotAReplyAddress)
        );
    }

    #[test]
    fn expired_forged_and_altered_addresses_are_refused_alike() {
        let local = mint_local_part(&secret(), 42, NOW + WEEK, "bob@example.org");
        let later = NOW + 2 * WEEK;
        assert_eq!(
            verify_local_part(&secret(), &local, "bob@example.org", later),
            Err(NotAReplyAddress)
        );
        let other = ReplySecret::from_bytes([8; 32]);
        assert_eq!(
            verify_local_part(&other, &local, "bob@example.org", NOW),
            Err(NotAReplyAddress)
        );
        // Every single-character change to the token is caught.
        let chars: Vec<char> = local.chars().collect();
        for i in REPLY_PREFIX.len()..chars.len() {
            let mut changed = chars.clone();
            changed[i] = if chars[i] == 'a' { 'b' } else { 'a' };
            let changed: String = changed.into_iter().collect();
            assert_eq!(
                verify_local_part(&secret(), &changed, "bob@example.org", NOW),
                Err(NotAReplyAddress),
                "{changed}"
            );
        }
        for junk in [
            "",
            "r-",
            "postmaster",
            "r-abc",
            &format!("{local}a"),
            "r-0000",
        ] {
            assert_eq!(
                verify_local_part(&secret(), junk, "bob@example.org", NOW),
                Err(NotAReplyAddress)
            );
        }
    }

    #[test]
    fn the_bounce_address_takes_only_the_null_sender() {
        let bounce = mint_local_part(&secret(), 9, NOW + WEEK, "");
        assert!(verify_local_part(&secret(), &bounce, "", NOW).is_ok());
        assert!(verify_local_part(&secret(), &bounce, "mailer-daemon@example.org", NOW).is_err());
    }
}

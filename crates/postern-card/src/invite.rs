//! Invites: a contact card plus a one-time token, as a QR code or a `postern:` link.
//!
//! Binary form: version `1`, the 16-byte token, the expiry (Unix seconds, 8 bytes big-endian),
//! then the card's binary encoding. Text form: `POSTERN:` + base32 (upper case, no padding) —
//! every character in the QR alphanumeric set; read back in either case.
//!
//! Everything in an invite is public: whoever sees the QR code can redeem the token once, before
//! it expires, and so become a contact. The card itself is verified on decode like any card.

use crate::{CardError, ContactCard, MAX_CARD_BYTES};

/// Prefix of the text form (and the link scheme).
pub const INVITE_PREFIX: &str = "POSTERN:";
/// Length of an invite token.
pub const TOKEN_LEN: usize = 16;
const INVITE_VERSION: u8 = 1;
const HEADER: usize = 1 + TOKEN_LEN + 8;

/// A decoded invite: the inviter's verified card, the token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    card: ContactCard,
    token: [u8; TOKEN_LEN],
    expires_at: i64,
}

impl Invite {
    /// An invite for `card`.
    pub fn new(card: ContactCard, token: [u8; TOKEN_LEN], expires_at: i64) -> Self {
        Invite {
            card,
            token,
            expires_at,
        }
    }

    /// The inviter's card.
    pub fn card(&self) -> &ContactCard {
        &self.card
    }

    /// The one-time token.
    pub fn token(&self) -> &[u8; TOKEN_LEN] {
        &self.token
    }

    /// Expiry, Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Text form, which is also the link.
    pub fn to_text(&self) -> String {
        let mut b = Vec::with_capacity(HEADER + 300);
        b.push(INVITE_VERSION);
        b.extend_from_slice(&self.token);
        b.extend_from_slice(&self.expires_at.to_be_bytes());
        b.extend_from_slice(&self.card.encode());
        format!("{INVITE_PREFIX}{}", data_encoding::BASE32_NOPAD.encode(&b))
    }

    /// Parse the text form (a scanned QR code or a pasted link). Whitespace anywhere and letter
    /// case are ignored.
    pub fn from_text(text: &str) -> Result<Self, CardError> {
        let max_text = INVITE_PREFIX.len() + (HEADER + MAX_CARD_BYTES).div_ceil(5) * 8;
        if text.len() > max_text * 2 {
            return Err(CardError::TooLarge {
                len: text.len(),
                max: max_text,
            });
        }
        let clean: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let body = clean
            .strip_prefix(INVITE_PREFIX)
            .ok_or(CardError::NotAnInvite)?;
        if body.starts_with('/') || clean.len() > max_text {
            return Err(CardError::NotAnInvite);
        }
        let bytes = data_encoding::BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| CardError::Encoding)?;
        if bytes.len() < HEADER {
            return Err(CardError::Truncated { field: "invite" });
        }
        if bytes[0] != INVITE_VERSION {
            return Err(CardError::UnsupportedVersion(bytes[0]));
        }
        let mut token = [0u8; TOKEN_LEN];
        token.copy_from_slice(&bytes[1..1 + TOKEN_LEN]);
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&bytes[1 + TOKEN_LEN..HEADER]);
        let card = ContactCard::decode(&bytes[HEADER..])?;
        Ok(Invite {
            card,
            token,
            expires_at: i64::from_be_bytes(exp),
        })
    }
}

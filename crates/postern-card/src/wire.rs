//! Binary encoding of version 1 (see `docs/contact-card.md`).
//!
//! ```text
//! version     u8      = 1
//! flags       u8      bit 0: an OpenPGP public key follows; other bits must be 0
//! onion key   [32]    ed25519 onion-service identity key (the address's domain)
//! local_len   u8      1..=64, then the local part (a-z 0-9 . _ -)
//! name_len    u8      0..=64, then the display name (UTF-8, covered by the signature)
//! fpr_len     u8      20 (v4) or 32 (v6), then the OpenPGP fingerprint
//! signature   [64]    binding signature by the onion key
//! key_len     u16 BE  only if flags bit 0; 1..=MAX_KEY_BYTES, then the key (binary OpenPGP)
//! ```

use postern_crypto::Binding;
use postern_types::{LocalPart, MailAddress, OnionAddress};

use crate::{CardError, ContactCard, DisplayName, CARD_VERSION, MAX_CARD_BYTES, MAX_KEY_BYTES};

const FLAG_KEY: u8 = 0x01;

pub(crate) fn encode(card: &ContactCard) -> Vec<u8> {
    let b = card.binding();
    let local = b.address().local().as_str().as_bytes();
    let name = card.display_name().as_str().as_bytes();
    let fpr = b.fingerprint();
    let mut out = Vec::with_capacity(200 + card.public_key().map_or(0, |k| k.len() + 2));
    out.push(CARD_VERSION);
    out.push(if card.public_key().is_some() {
        FLAG_KEY
    } else {
        0
    });
    out.extend_from_slice(b.address().onion().public_key());
    // Lengths below are bounded by the types' own validation (64, 64, 32, MAX_KEY_BYTES).
    out.push(local.len() as u8);
    out.extend_from_slice(local);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.push(fpr.len() as u8);
    out.extend_from_slice(fpr);
    out.extend_from_slice(b.signature());
    if let Some(key) = card.public_key() {
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key);
    }
    out
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], CardError> {
        if self.rest.len() < n {
            return Err(CardError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, CardError> {
        Ok(self.take(1, field)?[0])
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Result<ContactCard, CardError> {
    if bytes.is_empty() {
        return Err(CardError::Empty);
    }
    if bytes.len() > MAX_CARD_BYTES {
        return Err(CardError::TooLarge {
            len: bytes.len(),
            max: MAX_CARD_BYTES,
        });
    }
    let mut r = Reader { rest: bytes };
    let version = r.u8("version")?;
    if version != CARD_VERSION {
        return Err(CardError::UnsupportedVersion(version));
    }
    let flags = r.u8("flags")?;
    if flags & !FLAG_KEY != 0 {
        return Err(CardError::UnknownFlags(flags));
    }
    let mut onion = [0u8; 32];
    onion.copy_from_slice(r.take(32, "onion key")?);

    let local_len = usize::from(r.u8("local part length")?);
    if local_len == 0 || local_len > postern_types::MAX_LOCAL_PART {
        return Err(CardError::BadLength {
            field: "local part",
            len: local_len,
        });
    }
    let local = std::str::from_utf8(r.take(local_len, "local part")?)
        .map_err(|_| CardError::Address(postern_types::AddressError::LocalPart))?;
    let local = LocalPart::new(local)?;

    let name_len = usize::from(r.u8("display name length")?);
    let name = std::str::from_utf8(r.take(name_len, "display name")?)
        .map_err(|_| CardError::DisplayName("it is not valid UTF-8"))?;
    DisplayName::new(name)?;

    let fpr_len = usize::from(r.u8("fingerprint length")?);
    if fpr_len != 20 && fpr_len != 32 {
        return Err(CardError::BadLength {
            field: "fingerprint",
            len: fpr_len,
        });
    }
    let fingerprint = r.take(fpr_len, "fingerprint")?.to_vec();
    let mut signature = [0u8; 64];
    signature.copy_from_slice(r.take(64, "signature")?);

    let public_key = if flags & FLAG_KEY != 0 {
        let len_bytes = r.take(2, "key length")?;
        let key_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if key_len == 0 || key_len > MAX_KEY_BYTES {
            return Err(CardError::BadLength {
                field: "OpenPGP key",
                len: key_len,
            });
        }
        Some(r.take(key_len, "OpenPGP key")?.to_vec())
    } else {
        None
    };
    if !r.rest.is_empty() {
        return Err(CardError::TrailingBytes(r.rest.len()));
    }

    let address = MailAddress::new(local, OnionAddress::from_public_key(onion));
    let binding = Binding::from_parts(address, name.to_owned(), fingerprint, signature)
        .map_err(CardError::Binding)?;
    ContactCard::from_parts(binding, public_key)
}

#[cfg(test)]
mod tests;

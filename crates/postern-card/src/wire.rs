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
mod tests {
    use super::*;
    use postern_crypto::IdentityKeys;

    fn keys(local: &str) -> IdentityKeys {
        IdentityKeys::generate(LocalPart::new(local).expect("lp"), "Alice Ørsted").expect("gen")
    }

    fn card(k: &IdentityKeys, with_key: bool) -> ContactCard {
        ContactCard::for_identity(k, with_key).expect("card")
    }

    #[test]
    fn round_trips_binary_and_text_with_and_without_key() {
        let k = keys("alice");
        for with_key in [false, true] {
            let c = card(&k, with_key);
            assert_eq!(ContactCard::decode(&c.encode()).expect("decode"), c);
            let text = c.to_text();
            assert!(text.starts_with("POSTERN-CARD:"));
            assert_eq!(ContactCard::from_text(&text).expect("text"), c);
            assert_eq!(
                ContactCard::from_text(&format!("  {}\n", text.to_lowercase())).expect("lower"),
                c
            );
        }
        // Without a key the card is small enough for a comfortable QR code.
        assert!(card(&k, false).to_text().len() < 260);
    }

    #[test]
    fn every_truncation_is_refused() {
        let k = keys("alice");
        for with_key in [false, true] {
            let bytes = card(&k, with_key).encode();
            for n in 0..bytes.len() {
                let e = ContactCard::decode(&bytes[..n]).expect_err("truncated accepted");
                assert!(
                    matches!(e, CardError::Empty | CardError::Truncated { .. }),
                    "cut at {n}: {e:?}"
                );
            }
        }
    }

    #[test]
    fn renaming_is_refused() {
        let k = keys("alice");
        let good = card(&k, false).encode();
        let name_at = 2 + 32 + 1 + "alice".len();
        let mut t = good[..name_at].to_vec();
        t.push(3);
        t.extend_from_slice(b"Bob");
        let old_len = usize::from(good[name_at]);
        t.extend_from_slice(&good[name_at + 1 + old_len..]);
        assert!(matches!(
            ContactCard::decode(&t),
            Err(CardError::Binding(_))
        ));
    }

    #[test]
    fn every_bit_flip_is_refused() {
        let k = keys("alice");
        let bytes = card(&k, false).encode();
        for bit in 0..bytes.len() * 8 {
            let mut t = bytes.clone();
            t[bit / 8] ^= 1 << (bit % 8);
            assert!(ContactCard::decode(&t).is_err(), "bit {bit} accepted");
        }
    }

    #[test]
    fn tampered_key_or_swapped_key_is_refused() {
        let a = keys("alice");
        let b = keys("bob");
        let mut c = card(&a, false);
        c.public_key = Some(b.openpgp_public().expect("pub"));
        let e = ContactCard::decode(&c.encode()).expect_err("swapped key accepted");
        assert!(matches!(e, CardError::Key(_)), "{e:?}");
    }

    #[test]
    fn wrong_version_flags_trailing_and_oversize() {
        let k = keys("alice");
        let good = card(&k, false).encode();
        let mut v2 = good.clone();
        v2[0] = 2;
        assert!(matches!(
            ContactCard::decode(&v2),
            Err(CardError::UnsupportedVersion(2))
        ));
        let mut flags = good.clone();
        flags[1] = 0x80;
        assert!(matches!(
            ContactCard::decode(&flags),
            Err(CardError::UnknownFlags(0x80))
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(
            ContactCard::decode(&trailing),
            Err(CardError::TrailingBytes(1))
        ));
        let huge = vec![1u8; MAX_CARD_BYTES + 1];
        assert!(matches!(
            ContactCard::decode(&huge),
            Err(CardError::TooLarge { .. })
        ));
        let huge_text = format!("POSTERN-CARD:{}", "A".repeat(20_000));
        assert!(matches!(
            ContactCard::from_text(&huge_text),
            Err(CardError::TooLarge { .. })
        ));
        assert!(matches!(
            ContactCard::from_text("hello"),
            Err(CardError::NotACard)
        ));
        assert!(matches!(
            ContactCard::from_text("POSTERN-CARD:!!!"),
            Err(CardError::Encoding)
        ));
        assert!(matches!(
            ContactCard::from_text("POSTERN-CARD:"),
            Err(CardError::Empty)
        ));
    }

    #[test]
    fn hostile_display_names_are_refused_before_anything_else() {
        let k = keys("alice");
        let good = card(&k, false).encode();
        let name_at = 2 + 32 + 1 + "alice".len();
        for bad in ["Al\u{202E}ice".as_bytes(), b"a\x07b", &[0xff, 0xfe]] {
            let mut t = good[..name_at].to_vec();
            t.push(bad.len() as u8);
            t.extend_from_slice(bad);
            let old_len = usize::from(good[name_at]);
            t.extend_from_slice(&good[name_at + 1 + old_len..]);
            assert!(
                matches!(ContactCard::decode(&t), Err(CardError::DisplayName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every prefix of a pseudo-random stream with a valid
        // version byte in front.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut buf = vec![1u8];
        for _ in 0..600 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf.push(x as u8);
            let _ = ContactCard::decode(&buf);
        }
    }
}

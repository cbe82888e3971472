//! Cards as vCard 4 (RFC 6350), the form introductions travel in.
//!
//! ```text
//! BEGIN:VCARD
//! VERSION:4.0
//! FN:Carol
//! EMAIL:carol@<onion>.onion
//! KEY:data:application/pgp-keys;base64,<the OpenPGP key>
//! X-POSTERN-CARD:POSTERN-CARD:<the signed card, with key>
//! END:VCARD
//! ```
//!
//! Other programs read `FN`, `EMAIL` and `KEY`; Postern trusts only `X-POSTERN-CARD`, whose
//! binding it verifies, and refuses a vCard whose visible fields disagree with it.

use data_encoding::BASE64;

use crate::{CardError, ContactCard};

/// Largest vCard read.
pub const MAX_VCARD_BYTES: usize = 32 * 1024;

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Fold a content line at 75 octets (RFC 6350 §3.2), on character boundaries.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

impl ContactCard {
    /// This card as a vCard 4.
    pub fn to_vcard(&self) -> String {
        let mut out = String::new();
        for line in [
            "BEGIN:VCARD".to_owned(),
            "VERSION:4.0".to_owned(),
            format!("FN:{}", escape(self.display_name().as_str())),
            format!("EMAIL:{}", self.address()),
        ] {
            fold(&line, &mut out);
        }
        if let Some(key) = self.public_key() {
            fold(
                &format!(
                    "KEY:data:application/pgp-keys;base64,{}",
                    BASE64.encode(key)
                ),
                &mut out,
            );
        }
        fold(&format!("X-POSTERN-CARD:{}", self.to_text()), &mut out);
        fold("END:VCARD", &mut out);
        out
    }

    /// Read a vCard written by [`ContactCard::to_vcard`] (or by anyone keeping its
    /// `X-POSTERN-CARD`), verifying the card inside and checking the visible fields against it.
    pub fn from_vcard(text: &str) -> Result<Self, CardError> {
        if text.len() > MAX_VCARD_BYTES {
            return Err(CardError::TooLarge {
                len: text.len(),
                max: MAX_VCARD_BYTES,
            });
        }
        // Unfold: a line break followed by a space or tab continues the line.
        let unfolded = text
            .replace("\r\n ", "")
            .replace("\r\n\t", "")
            .replace("\n ", "")
            .replace("\n\t", "");
        let mut props: Vec<(String, String)> = Vec::new();
        for line in unfolded.lines() {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.split(';').next().unwrap_or("").to_ascii_uppercase();
            props.push((name, value.to_owned()));
        }
        let get = |n: &str| {
            let mut it = props.iter().filter(|(k, _)| k == n).map(|(_, v)| v);
            let first = it.next();
            (first, it.next().is_some())
        };
        match (get("BEGIN").0, get("VERSION").0) {
            (Some(b), Some(v)) if b.eq_ignore_ascii_case("VCARD") && v == "4.0" => {}
            _ => return Err(CardError::VCard("not a vCard 4.0")),
        }
        let (Some(card_text), false) = get("X-POSTERN-CARD") else {
            return Err(CardError::VCard("it must carry exactly one X-POSTERN-CARD"));
        };
        let card = ContactCard::from_text(card_text)?;
        if let (Some(fn_), _) = get("FN") {
            if unescape(fn_) != card.display_name().as_str() {
                return Err(CardError::VCard("its FN differs from the signed name"));
            }
        }
        if let (Some(email), _) = get("EMAIL") {
            if !email
                .trim()
                .eq_ignore_ascii_case(&card.address().to_string())
            {
                return Err(CardError::VCard(
                    "its EMAIL differs from the signed address",
                ));
            }
        }
        if let (Some(key), _) = get("KEY") {
            let b64 = key
                .strip_prefix("data:application/pgp-keys;base64,")
                .ok_or(CardError::VCard("its KEY is not an inline OpenPGP key"))?;
            let bytes = BASE64
                .decode(b64.trim().as_bytes())
                .map_err(|_| CardError::VCard("its KEY is not base64"))?;
            if card.public_key() != Some(bytes.as_slice()) {
                return Err(CardError::VCard(
                    "its KEY differs from the signed card's key",
                ));
            }
        }
        Ok(card)
    }
}

//! OpenPGP for people outside Postern (a gateway's ordinary correspondents): their public key
//! as given by a sender or learnt from an `Autocrypt` header, and a message encrypted — not
//! signed: the gateway has no key of the sender's to sign with — to it.

use std::io::Write;

use data_encoding::BASE64;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient};
use openpgp::serialize::SerializeInto;
use openpgp::types::Features;
use sequoia_openpgp as openpgp;

use crate::MimeError;

/// The largest public key taken from a sender or an `Autocrypt` header (RFC-sized RSA keys
/// with a few user IDs fit many times over).
pub const MAX_OUTSIDER_KEY: usize = 64 * 1024;

/// An ordinary correspondent's public key, checked to have a key that can encrypt today.
#[derive(Debug, Clone)]
pub struct OutsiderKey {
    cert: openpgp::Cert,
}

impl OutsiderKey {
    /// A key from its transferable form, armored or binary. Secret parts, if any, are dropped.
    pub fn parse(bytes: &[u8]) -> Result<Self, MimeError> {
        if bytes.len() > MAX_OUTSIDER_KEY {
            return Err(MimeError::RecipientKey(format!(
                "a public key of {} bytes (at most {MAX_OUTSIDER_KEY})",
                bytes.len()
            )));
        }
        let cert = openpgp::Cert::from_bytes(bytes)
            .map_err(|e| MimeError::RecipientKey(format!("not an OpenPGP public key: {e}")))?
            .strip_secret_key_material();
        let key = OutsiderKey { cert };
        let policy = StandardPolicy::new();
        if key.encryption_keys(&policy).is_empty() {
            return Err(MimeError::RecipientKey(
                "the key has no valid, unexpired key for encryption".into(),
            ));
        }
        Ok(key)
    }

    /// The key from an `Autocrypt` header (`addr=…; [prefer-encrypt=mutual;] keydata=…`)
    /// whose `addr` is `from`; `None` for a header about anyone else, or one that is broken.
    pub fn from_autocrypt(header: &str, from: &str) -> Option<Self> {
        let mut addr = None;
        let mut keydata = None;
        for field in header.split(';').filter(|f| !f.trim().is_empty()) {
            let (name, value) = field.split_once('=')?;
            match name.trim() {
                "addr" => addr = Some(value.trim().to_ascii_lowercase()),
                "keydata" => keydata = Some(value),
                // Attributes starting with '_' are optional; any other unknown one makes the
                // header invalid (Autocrypt Level 1, §2.1).
                "prefer-encrypt" => {}
                other if other.starts_with('_') => {}
                _ => return None,
            }
        }
        if addr? != from.trim().to_ascii_lowercase() {
            return None;
        }
        let compact: String = keydata?.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() > MAX_OUTSIDER_KEY * 4 / 3 + 4 {
            return None;
        }
        let bytes = BASE64.decode(compact.as_bytes()).ok()?;
        OutsiderKey::parse(&bytes).ok()
    }

    /// The transferable public key (binary), to keep.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MimeError> {
        self.cert
            .to_vec()
            .map_err(|e| MimeError::RecipientKey(e.to_string()))
    }

    /// The primary key's fingerprint, hex.
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    fn encryption_keys<'a>(
        &'a self,
        policy: &'a StandardPolicy<'a>,
    ) -> Vec<
        openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation<
            'a,
            openpgp::packet::key::PublicParts,
        >,
    > {
        self.cert
            .keys()
            .with_policy(policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_transport_encryption()
            .collect()
    }

    /// `inner` (a MIME entity) as an armored OpenPGP message to this key, in the encryption
    /// every implementation reads (SEIPD version 1, as GnuPG 2.2 writes and reads).
    pub fn encrypt(&self, inner: &[u8]) -> Result<Vec<u8>, MimeError> {
        let policy = StandardPolicy::new();
        let keys = self.encryption_keys(&policy);
        let recipients = keys.iter().map(|k| {
            Recipient::new(
                Features::empty().set_seipdv1(),
                openpgp::KeyHandle::from(k.key().keyid()),
                k.key(),
            )
        });
        let build = |e: openpgp::anyhow::Error| MimeError::Build(e.to_string());
        let mut sink = Vec::with_capacity(inner.len() * 4 / 3 + 1024);
        {
            let message = Message::new(&mut sink);
            let message = Armorer::new(message).build().map_err(build)?;
            let message = Encryptor::for_recipients(message, recipients)
                .build()
                .map_err(build)?;
            let mut literal = LiteralWriter::new(message).build().map_err(build)?;
            literal
                .write_all(inner)
                .map_err(|e| MimeError::Build(e.to_string()))?;
            literal.finalize().map_err(build)?;
        }
        Ok(sink)
    }
}

//! Opening a message: find the encrypted part, decrypt, check the signature.

use std::io::Read;

use mail_parser::{MessageParser, MimeHeaders};
use openpgp::crypto::SessionKey;
use openpgp::packet::Signature;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::policy::{HashAlgoSecurity, Policy};
use openpgp::types::{SignatureType, SymmetricAlgorithm};
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;

use crate::MimeError;

/// Largest decrypted message `open` accepts (the node passes its own limit to `decrypt`).
pub const MAX_PLAINTEXT: usize = 25 * 1024 * 1024;

/// What the signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerCheck {
    /// A valid signature by the given certificate (primary fingerprint).
    Good {
        /// Fingerprint of the signer's certificate.
        fingerprint: Vec<u8>,
    },
    /// Signed, but by a key we were not given.
    UnknownKey,
    /// Not signed.
    Unsigned,
    /// A signature that does not verify (altered message, or a bad key).
    Bad(String),
}

/// A decrypted message.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The inner MIME message (protected headers, body, attachments).
    pub inner: Vec<u8>,
    /// The signature check against the sender key given to `open`.
    pub signer: SignerCheck,
}

/// A message decrypted once, its signatures kept to be checked when the signer's key is known
/// (for a first contact, the key travels inside the message).
#[derive(Debug, Clone)]
pub struct Decrypted {
    /// The inner MIME message.
    pub inner: Vec<u8>,
    signatures: Vec<Signature>,
}

impl Decrypted {
    /// Check the message's signatures against `signer`: good if one of them is a valid
    /// signature over the message by one of `signer`'s signing keys (under the standard policy,
    /// at the signature's time, and alive at `now`).
    pub fn verify(&self, signer: &Cert, now: std::time::SystemTime) -> SignerCheck {
        if self.signatures.is_empty() {
            return SignerCheck::Unsigned;
        }
        let policy = StandardPolicy::at(now);
        let mut outcome = SignerCheck::UnknownKey;
        for sig in &self.signatures {
            let Some(made) = sig.signature_creation_time() else {
                outcome = SignerCheck::Bad("a signature without a creation time".into());
                continue;
            };
            let Ok(valid) = signer.with_policy(&policy, made) else {
                continue;
            };
            let issuers = sig.get_issuers();
            for ka in valid.keys().for_signing().key_handles(issuers.iter()) {
                let checked = policy
                    .signature(sig, HashAlgoSecurity::CollisionResistance)
                    .and_then(|()| sig.signature_alive(now, std::time::Duration::from_secs(300)))
                    .and_then(|()| match sig.typ() {
                        SignatureType::Binary => sig.verify_message(ka.key(), &self.inner),
                        SignatureType::Text => sig.verify_message(ka.key(), crlf_text(&self.inner)),
                        other => Err(openpgp::Error::UnsupportedSignatureType(other).into()),
                    });
                match checked {
                    Ok(()) => {
                        return SignerCheck::Good {
                            fingerprint: signer.fingerprint().as_bytes().to_vec(),
                        }
                    }
                    Err(e) => outcome = SignerCheck::Bad(e.to_string()),
                }
            }
        }
        outcome
    }
}

/// A text signature hashes lines ending in CRLF (RFC 4880 §5.2.1).
fn crlf_text(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

struct Helper<'a> {
    policy: &'a StandardPolicy<'a>,
    recipient: &'a Cert,
    signatures: Vec<Signature>,
    encrypted: bool,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        // No keys here: signatures are kept and checked once the signer's key is known.
        Ok(Vec::new())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::Encryption { .. } => self.encrypted = true,
                MessageLayer::Compression { .. } => {}
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        match r {
                            Err(VerificationError::MissingKey { sig }) => {
                                self.signatures.push(sig.clone())
                            }
                            Err(VerificationError::MalformedSignature { sig, .. })
                            | Err(VerificationError::UnboundKey { sig, .. })
                            | Err(VerificationError::BadKey { sig, .. })
                            | Err(VerificationError::BadSignature { sig, .. }) => {
                                self.signatures.push(sig.clone())
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        let keys = self
            .recipient
            .keys()
            .unencrypted_secret()
            .with_policy(self.policy, None)
            .for_transport_encryption()
            .chain(
                self.recipient
                    .keys()
                    .unencrypted_secret()
                    .with_policy(self.policy, None)
                    .for_storage_encryption(),
            );
        for ka in keys {
            let Ok(mut pair) = ka.key().clone().into_keypair() else {
                continue;
            };
            for pkesk in pkesks {
                let addressed = pkesk
                    .recipient()
                    .is_none_or(|r| r.aliases(KeyHandle::from(ka.key().fingerprint())));
                if !addressed {
                    continue;
                }
                if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo) {
                    if decrypt(algo, &sk) {
                        return Ok(None);
                    }
                }
            }
        }
        Err(openpgp::anyhow::anyhow!("no key to decrypt"))
    }
}

/// Find the OpenPGP payload of a PGP/MIME message.
fn encrypted_payload(raw: &[u8]) -> Result<Vec<u8>, MimeError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| MimeError::Malformed("not a MIME message".into()))?;
    let ct = msg.content_type().ok_or(MimeError::NotEncrypted)?;
    let is_encrypted = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("encrypted"))
        && ct
            .attribute("protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case("application/pgp-encrypted"));
    if !is_encrypted {
        return Err(MimeError::NotEncrypted);
    }
    msg.parts
        .iter()
        .skip(1)
        .find(|p| {
            p.content_type().is_some_and(|c| {
                c.ctype().eq_ignore_ascii_case("application")
                    && c.subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("octet-stream"))
            })
        })
        .map(|p| p.contents().to_vec())
        .ok_or_else(|| MimeError::Malformed("no application/octet-stream part".into()))
}

/// Decrypt `raw` with `recipient`'s secret keys; check the signature against `sender`, if given.
pub fn open(raw: &[u8], recipient: &Cert, sender: Option<&Cert>) -> Result<Opened, MimeError> {
    let d = decrypt(raw, recipient, MAX_PLAINTEXT)?;
    let signer = match sender {
        Some(cert) => d.verify(cert, std::time::SystemTime::now()),
        None if d.signatures.is_empty() => SignerCheck::Unsigned,
        None => SignerCheck::UnknownKey,
    };
    Ok(Opened {
        inner: d.inner,
        signer,
    })
}

/// Decrypt a PGP/MIME message once, to at most `max_plaintext` bytes (a compressed message
/// that would grow beyond is refused as soon as it does, before any signature check), keeping
/// its signatures for [`Decrypted::verify`].
pub fn decrypt(raw: &[u8], recipient: &Cert, max_plaintext: usize) -> Result<Decrypted, MimeError> {
    decrypt_payload(&encrypted_payload(raw)?, recipient, max_plaintext)
}

/// The OpenPGP layer of [`open`] on its own: decrypt an OpenPGP message (armored or binary) and
/// check its signature.
pub fn decrypt_and_verify(
    payload: &[u8],
    recipient: &Cert,
    sender: Option<&Cert>,
) -> Result<Opened, MimeError> {
    let d = decrypt_payload(payload, recipient, MAX_PLAINTEXT)?;
    let signer = match sender {
        Some(cert) => d.verify(cert, std::time::SystemTime::now()),
        None if d.signatures.is_empty() => SignerCheck::Unsigned,
        None => SignerCheck::UnknownKey,
    };
    Ok(Opened {
        inner: d.inner,
        signer,
    })
}

fn decrypt_payload(
    payload: &[u8],
    recipient: &Cert,
    max_plaintext: usize,
) -> Result<Decrypted, MimeError> {
    let policy = StandardPolicy::new();
    let helper = Helper {
        policy: &policy,
        recipient,
        signatures: Vec::new(),
        encrypted: false,
    };
    // Plain armor decoded at once; anything else goes to sequoia's tolerant armor reader.
    let binary = crate::armor::dearmor_message(payload);
    let payload = binary.as_deref().unwrap_or(payload);
    // Sequoia holds back up to `buffer_size` bytes until the signatures are checked; ours are
    // checked afterwards, so keep that small rather than a second copy of the message.
    let mut decryptor = DecryptorBuilder::from_bytes(payload)
        .map_err(|e| MimeError::Malformed(e.to_string()))?
        .buffer_size(64 * 1024)
        .with_policy(&policy, None, helper)
        .map_err(|_| MimeError::Undecryptable)?;
    // Small reads: each layer below (armor, decryption, decompression) buffers what one read
    // asks for, so one large read would hold the message several times over.
    let mut inner = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = decryptor
            .read(&mut chunk)
            .map_err(|_| MimeError::Undecryptable)?;
        if n == 0 {
            break;
        }
        if inner.len() + n > max_plaintext {
            return Err(MimeError::TooLarge(max_plaintext));
        }
        inner.extend_from_slice(&chunk[..n]);
    }
    if !decryptor.message_processed() {
        return Err(MimeError::Malformed("message truncated".into()));
    }
    let helper = decryptor.into_helper();
    if !helper.encrypted {
        return Err(MimeError::NotEncrypted);
    }
    Ok(Decrypted {
        inner,
        signatures: helper.signatures,
    })
}

/// Whether `raw` (a PGP/MIME message) is encrypted to one of `cert`'s keys — to tell mail sent
/// to a revoked key from mail sent to a stranger's.
pub fn encrypted_for(raw: &[u8], cert: &Cert) -> bool {
    use openpgp::packet::Packet;
    use openpgp::parse::{PacketParser, PacketParserResult};
    let Ok(payload) = encrypted_payload(raw) else {
        return false;
    };
    let Ok(mut ppr) = PacketParser::from_bytes(&payload) else {
        return false;
    };
    while let PacketParserResult::Some(pp) = ppr {
        if let Packet::PKESK(p) = &pp.packet {
            if let Some(handle) = p.recipient() {
                if cert.keys().any(|k| k.key().key_handle().aliases(&handle)) {
                    return true;
                }
            }
        } else if !matches!(pp.packet, Packet::SKESK(_)) {
            // Key packets come first; nothing after them names a recipient.
            return false;
        }
        match pp.next() {
            Ok((_, next)) => ppr = next,
            Err(_) => return false,
        }
    }
    false
}

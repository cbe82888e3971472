//! Opening a message: find the encrypted part, decrypt, check the signature.

use std::io::Read;

use mail_parser::{MessageParser, MimeHeaders};
use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;

use crate::MimeError;

/// Largest decrypted message accepted.
const MAX_PLAINTEXT: u64 = 64 * 1024 * 1024;

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

struct Helper<'a> {
    policy: &'a StandardPolicy<'a>,
    recipient: &'a Cert,
    sender: Option<&'a Cert>,
    signer: SignerCheck,
    encrypted: bool,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.sender.into_iter().cloned().collect())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut outcome = SignerCheck::Unsigned;
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::Encryption { .. } => self.encrypted = true,
                MessageLayer::Compression { .. } => {}
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        let this = match r {
                            Ok(good) => SignerCheck::Good {
                                fingerprint: good.ka.cert().fingerprint().as_bytes().to_vec(),
                            },
                            Err(VerificationError::MissingKey { .. }) => SignerCheck::UnknownKey,
                            Err(e) => SignerCheck::Bad(e.to_string()),
                        };
                        // A good signature wins; otherwise keep the most specific failure.
                        outcome = match (&outcome, this) {
                            (SignerCheck::Good { .. }, _) => outcome,
                            (_, good @ SignerCheck::Good { .. }) => good,
                            (SignerCheck::Bad(_), _) => outcome,
                            (_, other) => other,
                        };
                    }
                }
            }
        }
        self.signer = outcome;
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
    decrypt_and_verify(&encrypted_payload(raw)?, recipient, sender)
}

/// The OpenPGP layer of [`open`] on its own: decrypt an OpenPGP message (armored or binary) and
/// check its signature.
pub fn decrypt_and_verify(
    payload: &[u8],
    recipient: &Cert,
    sender: Option<&Cert>,
) -> Result<Opened, MimeError> {
    let policy = StandardPolicy::new();
    let helper = Helper {
        policy: &policy,
        recipient,
        sender,
        signer: SignerCheck::Unsigned,
        encrypted: false,
    };
    let mut decryptor = DecryptorBuilder::from_bytes(payload)
        .map_err(|e| MimeError::Malformed(e.to_string()))?
        .with_policy(&policy, None, helper)
        .map_err(|_| MimeError::Undecryptable)?;
    let mut inner = Vec::new();
    (&mut decryptor)
        .take(MAX_PLAINTEXT)
        .read_to_end(&mut inner)
        .map_err(|_| MimeError::Undecryptable)?;
    if !decryptor.message_processed() {
        return Err(MimeError::Malformed(
            "message too large or truncated".into(),
        ));
    }
    let helper = decryptor.into_helper();
    if !helper.encrypted {
        return Err(MimeError::NotEncrypted);
    }
    Ok(Opened {
        inner,
        signer: helper.signer,
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

//! Generating and reloading the keys of one identity.

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
use openpgp::types::KeyFlags;
use rand::RngCore;
use safelog::DisplayRedacted;
use sequoia_openpgp as openpgp;
use tor_hscrypto::pk::{HsId, HsIdKey, HsIdKeypair};
use tor_llcrypto::pk::ed25519::{ExpandedKeypair, Keypair};
use zeroize::Zeroizing;

use postern_types::{LocalPart, MailAddress, OnionAddress};

use crate::{Binding, CryptoError, MessageSigner};

/// The v3 onion address arti publishes for this identity key.
///
/// Computed by arti's own `tor-hscrypto` (`HsId`), then parsed (and so checksum-checked) by
/// Postern's `OnionAddress`.
pub fn onion_address_of(keypair: &HsIdKeypair) -> OnionAddress {
    let id: HsId = HsIdKey::from(keypair).id();
    let text = id.display_unredacted().to_string();
    // HsId's Display is a well-formed v3 address by construction; fall back to the raw key
    // (same address) rather than panic if that ever changed.
    text.parse()
        .unwrap_or_else(|_| OnionAddress::from_public_key(*id.as_ref()))
}

/// Everything secret and public that makes up one identity.
pub struct IdentityKeys {
    onion_seed: Zeroizing<[u8; 32]>,
    cert: openpgp::Cert,
    /// `cert` without secrets, serialized: sent in every message's Autocrypt header.
    public: Vec<u8>,
    signer: MessageSigner,
    address: MailAddress,
    binding: Binding,
}

impl std::fmt::Debug for IdentityKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityKeys")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl IdentityKeys {
    /// Generate a new identity: a fresh onion key, a fresh OpenPGP key, and the binding.
    ///
    /// `display_name` is covered by the binding; callers validate it (`postern-card`).
    pub fn generate(local: LocalPart, display_name: &str) -> Result<Self, CryptoError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(seed.as_mut());
        let onion = onion_address_of(&hsid_keypair_from_seed(&seed));
        let address = MailAddress::new(local, onion);
        let cert = new_openpgp_cert(&address)?;
        Self::assemble(seed, cert, address, display_name)
    }

    /// A hosted account under `host`'s onion: the address `local@<host's onion>`, a fresh
    /// OpenPGP key of its own, and a binding signed by the host's onion key (which the address
    /// names, so that anyone checks it like any other).
    pub fn hosted(
        host: &IdentityKeys,
        local: LocalPart,
        display_name: &str,
    ) -> Result<Self, CryptoError> {
        let address = MailAddress::new(local, *host.address.onion());
        let cert = new_openpgp_cert(&address)?;
        Self::assemble(host.onion_seed.clone(), cert, address, display_name)
    }

    /// This hosted account with its holder's encryption key (`holder`: their OpenPGP public
    /// key) bound to its certificate, so that what Postern senders write to it is readable only
    /// with the holder's secret key (see `holder_key`). The fingerprint, and so the binding,
    /// stay the same.
    pub fn with_holder_key(self, holder: &[u8]) -> Result<Self, CryptoError> {
        let subkey = crate::holder_key::holder_subkey(holder)?;
        let cert = crate::holder_key::bind_holder_subkey(self.cert, subkey)?;
        let public = public_bytes(&cert)?;
        Ok(IdentityKeys {
            cert,
            public,
            ..self
        })
    }

    /// The same identity (onion key, address, display name) with a freshly generated OpenPGP
    /// key and a new binding: what remains after the old key is revoked.
    pub fn with_new_openpgp_key(&self) -> Result<Self, CryptoError> {
        let cert = new_openpgp_cert(&self.address)?;
        Self::assemble(
            self.onion_seed.clone(),
            cert,
            self.address.clone(),
            self.binding.display_name(),
        )
    }

    /// Sign `message` with the onion service's identity key. Only for statements with their own
    /// domain-separation prefix (bindings, revocations).
    pub(crate) fn sign_with_onion_key(&self, message: &[u8]) -> [u8; 64] {
        ExpandedKeypair::from(&Keypair::from_bytes(&self.onion_seed))
            .sign(message)
            .to_bytes()
    }

    /// Reload an identity from its stored secrets, checking that they still belong together.
    pub fn from_secrets(
        local: LocalPart,
        display_name: &str,
        onion_seed: &[u8],
        openpgp_secret: &[u8],
    ) -> Result<Self, CryptoError> {
        let seed: [u8; 32] = onion_seed
            .try_into()
            .map_err(|_| CryptoError::MalformedSecret)?;
        let seed = Zeroizing::new(seed);
        let onion = onion_address_of(&hsid_keypair_from_seed(&seed));
        let address = MailAddress::new(local, onion);
        let cert = openpgp::Cert::from_bytes(openpgp_secret)
            .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?;
        if !cert.is_tsk() {
            return Err(CryptoError::MalformedSecret);
        }
        crate::PublicKeyInfo::check_userid(&cert, &address)?;
        Self::assemble(seed, cert, address, display_name)
    }

    fn assemble(
        seed: Zeroizing<[u8; 32]>,
        cert: openpgp::Cert,
        address: MailAddress,
        display_name: &str,
    ) -> Result<Self, CryptoError> {
        let signer = MessageSigner::of(&cert)?;
        let public = public_bytes(&cert)?;
        let fingerprint = cert.fingerprint().as_bytes().to_vec();
        let expanded = ExpandedKeypair::from(&Keypair::from_bytes(&seed));
        let signature = expanded
            .sign(&Binding::signed_message(
                &address,
                display_name,
                &fingerprint,
            ))
            .to_bytes();
        let binding = Binding::new_signed(
            address.clone(),
            display_name.to_owned(),
            fingerprint,
            signature,
        );
        Ok(IdentityKeys {
            onion_seed: seed,
            cert,
            public,
            signer,
            address,
            binding,
        })
    }

    /// `local@<onion>.onion`.
    pub fn address(&self) -> &MailAddress {
        &self.address
    }

    /// The binding of the onion address to the OpenPGP key.
    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// The onion-service identity keypair, in the form arti takes it.
    pub fn hsid_keypair(&self) -> HsIdKeypair {
        hsid_keypair_from_seed(&self.onion_seed)
    }

    /// The 32-byte ed25519 seed of the onion key. Secret: seal it before storing.
    pub fn onion_seed(&self) -> &[u8; 32] {
        &self.onion_seed
    }

    /// The OpenPGP key with secrets (transferable secret key). Secret: seal it before storing.
    pub fn openpgp_secret(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.cert
            .as_tsk()
            .to_vec()
            .map(Zeroizing::new)
            .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))
    }

    /// The OpenPGP public key (no secrets), binary.
    pub fn openpgp_public(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self.public.clone())
    }

    /// The OpenPGP public key (no secrets), binary, as kept beside the certificate.
    pub fn openpgp_public_bytes(&self) -> &[u8] {
        &self.public
    }

    /// The OpenPGP certificate, with secrets, for signing and decrypting.
    pub fn openpgp_cert(&self) -> &openpgp::Cert {
        &self.cert
    }

    /// The certificate's signing key, ready to sign messages.
    pub fn message_signer(&self) -> &MessageSigner {
        &self.signer
    }
}

fn public_bytes(cert: &openpgp::Cert) -> Result<Vec<u8>, CryptoError> {
    cert.to_vec()
        .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))
}

fn hsid_keypair_from_seed(seed: &[u8; 32]) -> HsIdKeypair {
    HsIdKeypair::from(ExpandedKeypair::from(&Keypair::from_bytes(seed)))
}

/// How far back an OpenPGP key's creation time is set, at most.
pub const KEY_TIME_SPREAD: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// The creation time written into a new OpenPGP key (and its binding signatures): `now` less a
/// random offset of up to `KEY_TIME_SPREAD`, whole seconds. Anyone who fetches a key (`CARD`)
/// reads it; with the true time, identities made together — one person's — would show it.
/// Messages are signed at their own time, always after it.
pub fn key_creation_time(
    now: std::time::SystemTime,
    rng: &mut impl RngCore,
) -> std::time::SystemTime {
    let offset = rng.next_u64() % KEY_TIME_SPREAD.as_secs();
    let t = now
        .checked_sub(std::time::Duration::from_secs(offset))
        .unwrap_or(now);
    // Whole seconds, as OpenPGP keeps them.
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

fn new_openpgp_cert(address: &MailAddress) -> Result<openpgp::Cert, CryptoError> {
    let made = key_creation_time(std::time::SystemTime::now(), &mut rand::rngs::OsRng);
    let (cert, _revocation) = CertBuilder::new()
        .set_creation_time(made)
        .set_profile(openpgp::Profile::RFC4880)
        .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?
        .set_cipher_suite(CipherSuite::Cv25519)
        .add_userid(address.to_string())
        .set_validity_period(None)
        .add_signing_subkey()
        .add_subkey(
            KeyFlags::empty()
                .set_transport_encryption()
                .set_storage_encryption(),
            None,
            None,
        )
        .generate()
        .map_err(|e| CryptoError::KeyGeneration(e.to_string()))?;
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_encoding::BASE32_NOPAD;
    use sha3::{Digest, Sha3_256};

    fn alice() -> IdentityKeys {
        IdentityKeys::generate(LocalPart::new("alice").expect("local"), "Alice").expect("generate")
    }

    /// rend-spec-v3 §6 written out independently of both arti and `OnionAddress`.
    fn spec_address(pk: &[u8; 32]) -> String {
        let mut h = Sha3_256::new();
        h.update(b".onion checksum");
        h.update(pk);
        h.update([3u8]);
        let c = h.finalize();
        let mut raw = pk.to_vec();
        raw.extend_from_slice(&c[..2]);
        raw.push(3);
        format!("{}.onion", BASE32_NOPAD.encode(&raw).to_lowercase())
    }

    #[test]
    fn key_creation_times_are_spread_back_from_now() {
        use rand::SeedableRng;
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let mut rng = rand::rngs::StdRng::seed_from_u64(19);
        let times: Vec<u64> = (0..50)
            .map(|_| {
                key_creation_time(now, &mut rng)
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_secs()
            })
            .collect();
        let (lo, hi) = (
            *times.iter().min().expect("min"),
            *times.iter().max().expect("max"),
        );
        assert!(hi <= 1_800_000_000 && lo > 1_800_000_000 - KEY_TIME_SPREAD.as_secs());
        assert!(
            hi - lo > KEY_TIME_SPREAD.as_secs() / 2,
            "spread over the month, not clustered: {lo}..{hi}"
        );
    }

    #[test]
    fn a_new_key_is_dated_back_and_still_signs_and_verifies_now() {
        let keys = alice();
        let made = keys.openpgp_cert().primary_key().key().creation_time();
        let now = std::time::SystemTime::now();
        assert!(made <= now && made + KEY_TIME_SPREAD >= now, "{made:?}");
        // Its binding signatures carry the same time, not today's.
        for sig in keys.openpgp_cert().primary_key().self_signatures() {
            assert_eq!(sig.signature_creation_time(), Some(made));
        }
        let policy = openpgp::policy::StandardPolicy::new();
        let valid = keys
            .openpgp_cert()
            .with_policy(&policy, now)
            .expect("valid now");
        assert_eq!(valid.keys().for_signing().count(), 1);
        assert_eq!(valid.keys().for_transport_encryption().count(), 1);
    }

    #[test]
    fn address_equals_arti_and_the_spec() {
        for _ in 0..32 {
            let keys = alice();
            let hsid: HsId = HsIdKey::from(&keys.hsid_keypair()).id();
            let arti = hsid.display_unredacted().to_string();
            assert_eq!(keys.address().onion().to_string(), arti);
            assert_eq!(spec_address(keys.address().onion().public_key()), arti);
            // The key the address encodes is the public half of the seed.
            let pk = Keypair::from_bytes(keys.onion_seed()).verifying_key();
            assert_eq!(pk.as_bytes(), keys.address().onion().public_key());
        }
    }

    #[test]
    fn openpgp_key_names_the_address_and_has_the_right_subkeys() {
        use openpgp::policy::StandardPolicy;
        let keys = alice();
        let policy = StandardPolicy::new();
        let vc = keys
            .openpgp_cert()
            .with_policy(&policy, None)
            .expect("valid");
        let uids: Vec<String> = vc
            .userids()
            .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
            .collect();
        assert_eq!(uids, vec![keys.address().to_string()]);
        assert_eq!(vc.keys().for_signing().count(), 1);
        assert_eq!(vc.keys().for_transport_encryption().count(), 1);
        assert_eq!(vc.keys().for_storage_encryption().count(), 1);
        assert_eq!(keys.openpgp_cert().primary_key().key().version(), 4);
        assert!(keys.binding().verify().is_ok());
    }

    #[test]
    fn reload_from_secrets_gives_the_same_identity() {
        let keys = alice();
        let secret = keys.openpgp_secret().expect("tsk");
        let again = IdentityKeys::from_secrets(
            LocalPart::new("alice").expect("local"),
            "Alice",
            keys.onion_seed(),
            &secret,
        )
        .expect("reload");
        assert_eq!(again.address(), keys.address());
        assert_eq!(again.binding(), keys.binding());
        // A different local part no longer matches the key's User ID.
        assert!(IdentityKeys::from_secrets(
            LocalPart::new("mallory").expect("local"),
            "Alice",
            keys.onion_seed(),
            &secret
        )
        .is_err());
        // Only the public part must not be accepted as secrets.
        let public = keys.openpgp_public().expect("public");
        assert!(IdentityKeys::from_secrets(
            LocalPart::new("alice").expect("local"),
            "Alice",
            keys.onion_seed(),
            &public
        )
        .is_err());
    }

    #[test]
    fn two_identities_share_nothing() {
        let a = alice();
        let b = alice();
        assert_ne!(a.address().onion(), b.address().onion());
        assert_ne!(a.binding().fingerprint(), b.binding().fingerprint());
    }
}

//! Checking an OpenPGP public key that someone handed us.

use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;

use postern_types::MailAddress;

use crate::{Binding, CryptoError};

/// A parsed, policy-checked OpenPGP public key, with what Postern needs to know about it.
#[derive(Debug, Clone)]
pub struct PublicKeyInfo {
    cert: openpgp::Cert,
}

impl PublicKeyInfo {
    /// Parse and check a public key: it must be valid under the standard policy, have a usable
    /// signing key and encryption key, and carry no secret material.
    pub fn parse(bytes: &[u8]) -> Result<Self, CryptoError> {
        let cert = openpgp::Cert::from_bytes(bytes)
            .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?;
        if cert.is_tsk() {
            return Err(CryptoError::BadOpenPgpKey(
                "it contains secret key material".into(),
            ));
        }
        let policy = StandardPolicy::new();
        let vc = cert
            .with_policy(&policy, None)
            .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?;
        if vc
            .keys()
            .for_signing()
            .alive()
            .revoked(false)
            .next()
            .is_none()
        {
            return Err(CryptoError::BadOpenPgpKey("no usable signing key".into()));
        }
        if vc
            .keys()
            .for_transport_encryption()
            .alive()
            .revoked(false)
            .next()
            .is_none()
        {
            return Err(CryptoError::BadOpenPgpKey(
                "no usable encryption key".into(),
            ));
        }
        Ok(PublicKeyInfo { cert })
    }

    /// Check that this key is the one `binding` names, for the binding's address.
    pub fn check_against(&self, binding: &Binding) -> Result<(), CryptoError> {
        if self.cert.fingerprint().as_bytes() != binding.fingerprint() {
            return Err(CryptoError::FingerprintMismatch);
        }
        Self::check_userid(&self.cert, binding.address())
    }

    pub(crate) fn check_userid(
        cert: &openpgp::Cert,
        address: &MailAddress,
    ) -> Result<(), CryptoError> {
        let want = address.to_string();
        // Only a User ID with a valid self-signature counts: anyone can append an unsigned one.
        let policy = StandardPolicy::new();
        let valid = cert
            .with_policy(&policy, None)
            .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))?;
        if valid
            .userids()
            .any(|u| u.userid().value() == want.as_bytes())
        {
            Ok(())
        } else {
            Err(CryptoError::UserIdMismatch(address.redacted()))
        }
    }

    /// Fingerprint bytes.
    pub fn fingerprint(&self) -> Vec<u8> {
        self.cert.fingerprint().as_bytes().to_vec()
    }

    /// The binary public key.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CryptoError> {
        self.cert
            .to_vec()
            .map_err(|e| CryptoError::BadOpenPgpKey(e.to_string()))
    }

    /// The certificate.
    pub fn cert(&self) -> &openpgp::Cert {
        &self.cert
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentityKeys;
    use postern_types::LocalPart;

    #[test]
    fn accepts_own_public_key_and_rejects_secrets_and_others() {
        let a = IdentityKeys::generate(LocalPart::new("a").expect("lp"), "").expect("gen");
        let b = IdentityKeys::generate(LocalPart::new("b").expect("lp"), "").expect("gen");
        let pk = PublicKeyInfo::parse(&a.openpgp_public().expect("pub")).expect("parse");
        pk.check_against(a.binding()).expect("matches");
        assert!(matches!(
            pk.check_against(b.binding()),
            Err(CryptoError::FingerprintMismatch)
        ));
        assert!(PublicKeyInfo::parse(&a.openpgp_secret().expect("tsk")).is_err());
        assert!(PublicKeyInfo::parse(b"not a key").is_err());
    }
}

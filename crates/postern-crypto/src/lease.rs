//! One active service per identity: which of a person's devices runs an identity's onion
//! service. A [`Lease`] is signed with the identity's onion key (which every device of the
//! person holds) and names the device, a term (raised by every hand-over or take-over, so the
//! latest decision wins) and an expiry (renewed while the device serves). Devices ask each other
//! over the identity's own service with [`DeviceRequest`]s, signed with the same key: only
//! another device of the person can make one.

use std::fmt;
use std::str::FromStr;

use data_encoding::HEXLOWER;
use postern_types::MailAddress;
use rand::RngCore;

use crate::{sign_statement, verify_statement, CryptoError, IdentityKeys};

const LEASE_CONTEXT: &str = "postern-lease-v1";
const REQUEST_CONTEXT: &str = "postern-device-request-v1";

/// A device's random name, made once per data directory and never copied to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId([u8; 16]);

impl DeviceId {
    /// A new random device id.
    pub fn generate() -> Self {
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        DeviceId(id)
    }

    /// From its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        DeviceId(bytes)
    }

    /// Its 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The first 8 hex digits: enough for a person to tell their devices apart.
    pub fn short(&self) -> String {
        HEXLOWER.encode(&self.0[..4])
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&HEXLOWER.encode(&self.0))
    }
}

impl FromStr for DeviceId {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let bytes = HEXLOWER
            .decode(s.as_bytes())
            .map_err(|_| CryptoError::BadStatement)?;
        Ok(DeviceId(
            bytes.try_into().map_err(|_| CryptoError::BadStatement)?,
        ))
    }
}

/// A number in its one decimal spelling (no sign, no leading zeros): one text per value.
fn canonical<T: FromStr + ToString>(text: &str) -> Result<T, CryptoError> {
    let n: T = text.parse().map_err(|_| CryptoError::BadStatement)?;
    if n.to_string() != text {
        return Err(CryptoError::BadStatement);
    }
    Ok(n)
}

/// "Device `device` runs this identity's service, in term `term`, until `expires`", signed
/// with the identity's onion key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    device: DeviceId,
    term: u32,
    expires: i64,
    signature: [u8; 64],
}

fn lease_fields(address: &MailAddress, device: &DeviceId, term: u32, expires: i64) -> Vec<u8> {
    let mut m = address.to_string().into_bytes();
    m.push(0);
    m.extend_from_slice(device.as_bytes());
    m.extend_from_slice(&term.to_be_bytes());
    m.extend_from_slice(&expires.to_be_bytes());
    m
}

impl Lease {
    /// Sign a lease for `device` with `keys`.
    pub fn issue(keys: &IdentityKeys, device: DeviceId, term: u32, expires: i64) -> Lease {
        let fields = lease_fields(keys.address(), &device, term, expires);
        let signature = sign_statement(keys, LEASE_CONTEXT, &[&fields]);
        Lease {
            device,
            term,
            expires,
            signature,
        }
    }

    /// The device it names.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// Its term: every hand-over and take-over raises it.
    pub fn term(&self) -> u32 {
        self.term
    }

    /// When it runs out (Unix seconds) unless renewed.
    pub fn expires(&self) -> i64 {
        self.expires
    }

    /// Whether this lease is a later decision than `other`: a higher term, or the same term
    /// and the greater device id (two devices that took over at once agree on one of them).
    pub fn outranks(&self, other: &Lease) -> bool {
        (self.term, self.device) > (other.term, other.device)
    }

    /// Its text form: `<device>.<term>.<expires>.<signature>` (hex and decimal).
    pub fn token(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.device,
            self.term,
            self.expires,
            HEXLOWER.encode(&self.signature)
        )
    }

    /// Read a lease's text form and check that `signer`'s onion key signed it.
    pub fn from_token(signer: &MailAddress, token: &str) -> Result<Lease, CryptoError> {
        let bad = || CryptoError::BadStatement;
        let mut parts = token.split('.');
        let (Some(device), Some(term), Some(expires), Some(sig), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        let device: DeviceId = device.parse()?;
        let term: u32 = canonical(term)?;
        let expires: i64 = canonical(expires)?;
        let signature: [u8; 64] = HEXLOWER
            .decode(sig.as_bytes())
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        let fields = lease_fields(signer, &device, term, expires);
        verify_statement(signer, LEASE_CONTEXT, &[&fields], &signature)?;
        Ok(Lease {
            device,
            term,
            expires,
            signature,
        })
    }
}

/// What one device asks another over their identity's service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAsk {
    /// "Who serves this address?" The asker shows its own lease, if it has one: a device
    /// outranked by it stops.
    Check,
    /// "Stop serving and give me the next term."
    HandOver,
}

impl DeviceAsk {
    /// Its word on the wire.
    pub fn word(self) -> &'static str {
        match self {
            DeviceAsk::Check => "CHECK",
            DeviceAsk::HandOver => "HANDOVER",
        }
    }
}

/// A signed request from one of a person's devices to the device serving their identity:
/// `XDEVICE <ask> <device> <time> <nonce> <lease or -> <signature>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRequest {
    /// What it asks.
    pub ask: DeviceAsk,
    /// The asking device.
    pub device: DeviceId,
    /// When it asked (Unix seconds): the answer refuses stale requests.
    pub at: i64,
    /// Random, so no two requests are the same bytes.
    pub nonce: [u8; 16],
    /// The asker's lease, as a token, if it has one.
    pub lease: Option<String>,
    signature: [u8; 64],
}

fn request_fields(r: &DeviceRequest, address: &MailAddress) -> Vec<u8> {
    let mut m = address.to_string().into_bytes();
    m.push(0);
    m.extend_from_slice(r.ask.word().as_bytes());
    m.push(0);
    m.extend_from_slice(r.device.as_bytes());
    m.extend_from_slice(&r.at.to_be_bytes());
    m.extend_from_slice(&r.nonce);
    m.extend_from_slice(r.lease.as_deref().unwrap_or("-").as_bytes());
    m
}

impl DeviceRequest {
    /// Sign a request with the identity's keys.
    pub fn sign(
        keys: &IdentityKeys,
        ask: DeviceAsk,
        device: DeviceId,
        at: i64,
        lease: Option<&Lease>,
    ) -> DeviceRequest {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut r = DeviceRequest {
            ask,
            device,
            at,
            nonce,
            lease: lease.map(Lease::token),
            signature: [0; 64],
        };
        r.signature = sign_statement(
            keys,
            REQUEST_CONTEXT,
            &[&request_fields(&r, keys.address())],
        );
        r
    }

    /// The arguments of its `XDEVICE` command.
    pub fn args(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.ask.word(),
            self.device,
            self.at,
            HEXLOWER.encode(&self.nonce),
            self.lease.as_deref().unwrap_or("-"),
            HEXLOWER.encode(&self.signature)
        )
    }

    /// Read `XDEVICE`'s arguments and check that `address`'s onion key signed them. Any
    /// failure is the same error: the caller answers as it would an unknown command.
    pub fn parse(address: &MailAddress, args: &[String]) -> Result<DeviceRequest, CryptoError> {
        let bad = || CryptoError::BadStatement;
        let [ask, device, at, nonce, lease, sig] = args else {
            return Err(bad());
        };
        let ask = match ask.as_str() {
            "CHECK" => DeviceAsk::Check,
            "HANDOVER" => DeviceAsk::HandOver,
            _ => return Err(bad()),
        };
        let nonce: [u8; 16] = HEXLOWER
            .decode(nonce.as_bytes())
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        let signature: [u8; 64] = HEXLOWER
            .decode(sig.as_bytes())
            .map_err(|_| bad())?
            .try_into()
            .map_err(|_| bad())?;
        let r = DeviceRequest {
            ask,
            device: device.parse()?,
            at: canonical(at)?,
            nonce,
            lease: (lease != "-").then(|| lease.clone()),
            signature,
        };
        verify_statement(
            address,
            REQUEST_CONTEXT,
            &[&request_fields(&r, address)],
            &signature,
        )?;
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postern_types::LocalPart;

    fn keys(name: &str) -> IdentityKeys {
        IdentityKeys::generate(LocalPart::new(name).expect("lp"), "").expect("keys")
    }

    #[test]
    fn a_lease_reads_back_only_under_its_signer() {
        let (a, b) = (keys("a"), keys("b"));
        let d = DeviceId::from_bytes([7; 16]);
        let lease = Lease::issue(&a, d, 3, 1_000);
        let back = Lease::from_token(a.address(), &lease.token()).expect("reads");
        assert_eq!(back, lease);
        assert!(Lease::from_token(b.address(), &lease.token()).is_err());
        // Any changed field breaks the signature.
        let t = lease.token().replacen(".3.", ".4.", 1);
        assert!(Lease::from_token(a.address(), &t).is_err());
        assert!(Lease::from_token(a.address(), "x.1.2.3").is_err());
        // One text per lease: a leading zero is another spelling, refused.
        let t = lease.token().replacen(".3.", ".03.", 1);
        assert!(Lease::from_token(a.address(), &t).is_err());
        assert!(Lease::from_token(a.address(), "").is_err());
    }

    #[test]
    fn later_terms_outrank_and_ties_break_by_device() {
        let a = keys("a");
        let (d1, d2) = (DeviceId::from_bytes([1; 16]), DeviceId::from_bytes([2; 16]));
        let l1 = Lease::issue(&a, d1, 2, 0);
        let l2 = Lease::issue(&a, d2, 1, 0);
        assert!(l1.outranks(&l2) && !l2.outranks(&l1));
        let l3 = Lease::issue(&a, d2, 2, 0);
        assert!(l3.outranks(&l1) && !l1.outranks(&l3));
        assert!(!l1.outranks(&l1));
    }

    #[test]
    fn requests_verify_only_for_the_identity_that_signed_them() {
        let (a, b) = (keys("a"), keys("b"));
        let d = DeviceId::from_bytes([9; 16]);
        let lease = Lease::issue(&a, d, 1, 5);
        let r = DeviceRequest::sign(&a, DeviceAsk::Check, d, 100, Some(&lease));
        let args: Vec<String> = r.args().split(' ').map(str::to_owned).collect();
        assert!(args.iter().all(|a| !a.is_empty()));
        let back = DeviceRequest::parse(a.address(), &args).expect("verifies");
        assert_eq!(back, r);
        assert!(DeviceRequest::parse(b.address(), &args).is_err());
        let mut other = args.clone();
        other[0] = "HANDOVER".into();
        assert!(DeviceRequest::parse(a.address(), &other).is_err());
        assert!(DeviceRequest::parse(a.address(), &args[..5]).is_err());
        let h = DeviceRequest::sign(&a, DeviceAsk::HandOver, d, 100, None);
        let args: Vec<String> = h.args().split(' ').map(str::to_owned).collect();
        assert_eq!(args[4], "-");
        assert_eq!(
            DeviceRequest::parse(a.address(), &args).expect("ok").lease,
            None
        );
    }
}

//! Keys of people outside Postern: what is taken (armored or binary, from a sender or an
//! `Autocrypt` header about the sender themself) and what is not.

use data_encoding::BASE64;
use postern_mime::{OutsiderKey, MAX_OUTSIDER_KEY};

/// Carol's key as GnuPG exported it (secret parts included: they are dropped).
fn carol() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../postern-core/tests/fixtures/gnupg/carol.sec.asc"),
    )
    .expect("fixture")
}

#[test]
fn a_key_is_taken_armored_or_binary_and_keeps_no_secret() {
    let key = OutsiderKey::parse(&carol()).expect("armored");
    let binary = key.to_bytes().expect("bytes");
    let again = OutsiderKey::parse(&binary).expect("binary");
    assert_eq!(key.fingerprint(), again.fingerprint());
    // Only public material is kept: the secret key packet tag (5, 7) never appears.
    let ppr = sequoia_openpgp::PacketPile::from_bytes(&binary).expect("packets");
    use sequoia_openpgp::parse::Parse;
    assert!(ppr.descendants().all(|p| !matches!(
        p.tag(),
        sequoia_openpgp::packet::Tag::SecretKey | sequoia_openpgp::packet::Tag::SecretSubkey
    )));
    let armored = key
        .encrypt(b"Content-Type: text/plain\r\n\r\nhi\r\n")
        .expect("encrypt");
    assert!(armored.starts_with(b"-----BEGIN PGP MESSAGE-----"));
}

#[test]
fn what_is_not_a_usable_key_is_refused() {
    for bad in [
        &b""[..],
        b"not a key",
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
    ] {
        assert!(OutsiderKey::parse(bad).is_err());
    }
    assert!(OutsiderKey::parse(&vec![0x99; MAX_OUTSIDER_KEY + 1]).is_err());
}

#[test]
fn an_autocrypt_header_gives_the_key_of_its_own_sender_only() {
    let public = OutsiderKey::parse(&carol())
        .expect("key")
        .to_bytes()
        .expect("bytes");
    let b64 = BASE64.encode(&public);
    let folded: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\r\n ");
    let header = format!("addr=Carol@Example.org; prefer-encrypt=mutual; keydata=\r\n {folded}");
    let key = OutsiderKey::from_autocrypt(&header, "carol@example.org").expect("taken");
    assert_eq!(
        key.fingerprint(),
        OutsiderKey::parse(&public).expect("key").fingerprint()
    );
    // Optional attributes (leading '_') are ignored; unknown ones make the header invalid.
    assert!(OutsiderKey::from_autocrypt(
        &format!("addr=carol@example.org; _extra=1; keydata={b64}"),
        "carol@example.org"
    )
    .is_some());
    assert!(OutsiderKey::from_autocrypt(
        &format!("addr=carol@example.org; critical=1; keydata={b64}"),
        "carol@example.org"
    )
    .is_none());
    // A header about someone else, or none of the key, or a broken one: nothing.
    assert!(OutsiderKey::from_autocrypt(&header, "mallory@example.org").is_none());
    assert!(OutsiderKey::from_autocrypt("addr=carol@example.org", "carol@example.org").is_none());
    assert!(OutsiderKey::from_autocrypt(
        "addr=carol@example.org; keydata=!!!",
        "carol@example.org"
    )
    .is_none());
    assert!(OutsiderKey::from_autocrypt("garbage", "carol@example.org").is_none());
}

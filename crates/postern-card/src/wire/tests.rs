//! Cards from checked-in fixtures (`tests/fixtures/`), so every run decodes the same bytes.

use super::*;

const ALICE: &str = include_str!("../../tests/fixtures/alice.card");
const ALICE_KEY: &str = include_str!("../../tests/fixtures/alice-key.card");
const BOB_KEY: &str = include_str!("../../tests/fixtures/bob-key.card");

fn card(text: &str) -> ContactCard {
    ContactCard::from_text(text).expect("fixture card")
}

fn alice(with_key: bool) -> ContactCard {
    card(if with_key { ALICE_KEY } else { ALICE })
}

#[test]
fn round_trips_binary_and_text_with_and_without_key() {
    for with_key in [false, true] {
        let c = alice(with_key);
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
    assert!(alice(false).to_text().len() < 260);
}

#[test]
fn every_truncation_is_refused() {
    for with_key in [false, true] {
        let bytes = alice(with_key).encode();
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
    let good = alice(false).encode();
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
    let bytes = alice(false).encode();
    for bit in 0..bytes.len() * 8 {
        let mut t = bytes.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(ContactCard::decode(&t).is_err(), "bit {bit} accepted");
    }
}

#[test]
fn tampered_key_or_swapped_key_is_refused() {
    let mut c = alice(false);
    c.public_key = card(BOB_KEY).public_key().map(<[u8]>::to_vec);
    let e = ContactCard::decode(&c.encode()).expect_err("swapped key accepted");
    assert!(matches!(e, CardError::Key(_)), "{e:?}");
}

#[test]
fn wrong_version_flags_trailing_and_oversize() {
    let good = alice(false).encode();
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
    let good = alice(false).encode();
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

/// The stages of `decode`, in order; an input "got past" every stage before the one that
/// refused it.
const STAGES: [&str; 13] = [
    "size",
    "version",
    "flags",
    "onion key",
    "local part",
    "display name",
    "fingerprint",
    "signature",
    "key field",
    "trailing bytes",
    "binding check",
    "key check",
    "accepted",
];

fn stage_of(result: &Result<ContactCard, CardError>) -> usize {
    let Err(e) = result else {
        return 12;
    };
    match e {
        CardError::Empty | CardError::TooLarge { .. } => 0,
        CardError::UnsupportedVersion(_) => 1,
        CardError::UnknownFlags(_) => 2,
        CardError::Truncated { field } | CardError::BadLength { field, .. } => match *field {
            "version" => 1,
            "flags" => 2,
            "onion key" => 3,
            "local part length" | "local part" => 4,
            "display name length" | "display name" => 5,
            "fingerprint length" | "fingerprint" => 6,
            "signature" => 7,
            _ => 8,
        },
        CardError::Address(_) => 4,
        CardError::DisplayName(_) => 5,
        CardError::TrailingBytes(_) => 9,
        CardError::Binding(_) => 10,
        CardError::Key(_) => 11,
        other => panic!("decode gave an error it never should: {other:?}"),
    }
}

struct Xorshift(u64);
impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Offsets of the length fields of an encoded card (local, name, fingerprint, key).
fn length_fields(bytes: &[u8]) -> Vec<usize> {
    let mut at = vec![34];
    let local = usize::from(bytes[34]);
    at.push(35 + local);
    let name = usize::from(bytes[35 + local]);
    at.push(36 + local + name);
    let fpr = usize::from(bytes[36 + local + name]);
    let key_len_at = 37 + local + name + fpr + 64;
    if key_len_at + 1 < bytes.len() {
        at.push(key_len_at);
        at.push(key_len_at + 1);
    }
    at
}

/// Structured mutation of valid cards: every input is one of a few valid encodings changed by
/// one operation that keeps most of the structure — so inputs reach every stage of the decoder,
/// not only the first bytes.
fn mutate(rng: &mut Xorshift, valid: &[Vec<u8>]) -> Vec<u8> {
    let mut b = valid[rng.below(valid.len())].clone();
    let key_from = {
        let f = length_fields(&b);
        f.get(3).map(|&k| k + 2)
    };
    match rng.below(9) {
        // A bit flip anywhere.
        0 => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        // A bit flip in the key (parsing and checking the key).
        1 => {
            let from = key_from.unwrap_or(0);
            let i = from + rng.below(b.len() - from);
            b[i] ^= 1 << rng.below(8);
        }
        // A length field set to a boundary value.
        2 => {
            let fields = length_fields(&b);
            let at = fields[rng.below(fields.len())];
            let v = [0u8, 1, 19, 20, 21, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0xff];
            b[at] = match rng.below(3) {
                0 => b[at].wrapping_add(1),
                1 => b[at].wrapping_sub(1),
                _ => v[rng.below(v.len())],
            };
        }
        // Cut.
        3 => b.truncate(rng.below(b.len())),
        // Bytes inserted.
        4 => {
            let at = rng.below(b.len() + 1);
            let n = 1 + rng.below(8);
            let extra: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            b.splice(at..at, extra);
        }
        // A range removed.
        5 => {
            let at = rng.below(b.len());
            let end = (at + 1 + rng.below(16)).min(b.len());
            b.drain(at..end);
        }
        // Spliced with another valid card.
        6 => {
            let other = &valid[rng.below(valid.len())];
            let cut = rng.below(b.len().min(other.len()));
            b.truncate(cut);
            b.extend_from_slice(&other[cut..]);
        }
        // The key flag toggled (a key appears or disappears).
        7 => b[1] ^= 0x01,
        // A byte of the key swapped for a byte of another key.
        _ => {
            let from = key_from.unwrap_or(0);
            let i = from + rng.below(b.len() - from);
            b[i] = rng.next() as u8;
        }
    }
    b
}

#[test]
fn arbitrary_bytes_never_panic() {
    let originals = [alice(false), alice(true), card(BOB_KEY)];
    let valid: Vec<Vec<u8>> = originals.iter().map(ContactCard::encode).collect();
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let mut reached = [0usize; STAGES.len()];
    let mut changed_but_accepted = 0;
    const INPUTS: usize = 6000;
    for _ in 0..INPUTS {
        let input = mutate(&mut rng, &valid);
        let result = ContactCard::decode(&input);
        let stage = stage_of(&result);
        for r in reached.iter_mut().take(stage + 1) {
            *r += 1;
        }
        if let Ok(c) = &result {
            // Nothing can be forged: whatever decodes is one of the genuine identities (the
            // binding covers address, name and fingerprint; the key must have that
            // fingerprint).
            assert!(
                originals.iter().any(|o| o.binding() == c.binding()),
                "a mutated card decoded as another identity: {c:?}"
            );
            if !valid.contains(&input) {
                changed_but_accepted += 1;
            }
        }
    }
    eprintln!("card decoder, {INPUTS} structured mutations; inputs that reached each stage:");
    for (name, n) in STAGES.iter().zip(reached) {
        eprintln!("  {name:<15} {n:>5}");
    }
    // Accepted although changed: damage inside the OpenPGP key that leaves its fingerprint
    // (the bound one) intact, e.g. a broken subkey signature, which drops that subkey.
    eprintln!("  ({changed_but_accepted} accepted with changed bytes, all of a genuine identity)");
    // Every stage is reached by a real share of the inputs: the test exercises the whole
    // decoder, not only its first byte checks.
    assert_eq!(reached[0], INPUTS);
    for (i, name) in STAGES.iter().enumerate().take(12) {
        assert!(
            reached[i] >= INPUTS / 50,
            "only {} inputs reached the {name} stage",
            reached[i]
        );
    }
    assert!(
        reached[11] >= INPUTS / 20,
        "key check reached by {}",
        reached[11]
    );
}

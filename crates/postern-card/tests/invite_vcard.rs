//! Invites (QR payload and `postern:` link) and vCards: round trips and refusals.

use postern_card::{CardError, ContactCard, Invite, INVITE_PREFIX};
use postern_crypto::IdentityKeys;
use postern_types::LocalPart;

fn card(name: &str, with_key: bool) -> ContactCard {
    let k = IdentityKeys::generate(LocalPart::new("carol").expect("lp"), name).expect("keys");
    ContactCard::for_identity(&k, with_key).expect("card")
}

#[test]
fn invite_round_trips_as_link_in_any_case_and_with_line_breaks() {
    let inv = Invite::new(card("Carol", false), [7u8; 16], 1_900_000_000);
    let text = inv.to_text();
    assert!(text.starts_with(INVITE_PREFIX));
    assert!(text
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ':'));
    assert_eq!(Invite::from_text(&text).expect("decode"), inv);
    let pasted = format!(" {}\n{} ", &text[..40].to_lowercase(), &text[40..]);
    assert_eq!(Invite::from_text(&pasted).expect("pasted"), inv);
}

#[test]
fn damaged_invites_are_refused_with_a_reason() {
    let inv = Invite::new(card("Carol", false), [1u8; 16], 5);
    let text = inv.to_text();
    assert!(matches!(
        Invite::from_text("POSTERN-CARD:AAAA"),
        Err(CardError::NotAnInvite)
    ));
    assert!(matches!(
        Invite::from_text("https://example.com"),
        Err(CardError::NotAnInvite)
    ));
    assert!(matches!(
        Invite::from_text("POSTERN:!!!!"),
        Err(CardError::Encoding)
    ));
    assert!(matches!(
        Invite::from_text("POSTERN:AE"),
        Err(CardError::Truncated { .. })
    ));
    // Every truncation, and a flipped character in the card part, fail.
    for n in INVITE_PREFIX.len()..text.len() {
        assert!(
            Invite::from_text(&text[..n]).is_err(),
            "prefix of {n} chars"
        );
    }
    let mut tampered = text.clone().into_bytes();
    let i = tampered.len() - 30;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    assert!(Invite::from_text(&String::from_utf8(tampered).expect("ascii")).is_err());
    // Wrong version: re-encode with version 2.
    let body = data_encoding::BASE32_NOPAD
        .decode(&text.as_bytes()[INVITE_PREFIX.len()..])
        .expect("b32");
    let mut v2 = body.clone();
    v2[0] = 2;
    let v2 = format!("POSTERN:{}", data_encoding::BASE32_NOPAD.encode(&v2));
    assert!(matches!(
        Invite::from_text(&v2),
        Err(CardError::UnsupportedVersion(2))
    ));
    assert!(matches!(
        Invite::from_text(&format!("POSTERN:{}", "A".repeat(40_000))),
        Err(CardError::TooLarge { .. })
    ));
}

#[test]
fn vcard_round_trips_and_other_readers_see_name_address_key() {
    let c = card("Carol, \"the\" Builder; Jr.", true);
    let v = c.to_vcard();
    assert!(v.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"));
    assert!(v.lines().all(|l| l.len() <= 75), "lines are folded");
    assert!(v.contains("FN:Carol\\, \"the\" Builder\\; Jr."));
    assert!(v.contains(&format!("EMAIL:{}", c.address())));
    assert_eq!(ContactCard::from_vcard(&v).expect("read back"), c);
    // LF-only line ends (as some programs save) read the same.
    assert_eq!(
        ContactCard::from_vcard(&v.replace("\r\n", "\n")).expect("lf"),
        c
    );
}

#[test]
fn vcards_that_disagree_with_their_signed_card_are_refused() {
    let c = card("Carol", true);
    let v = c.to_vcard();
    let renamed = v.replace("FN:Carol", "FN:Mallory");
    assert!(matches!(
        ContactCard::from_vcard(&renamed),
        Err(CardError::VCard(_))
    ));
    let other = card("Dave", true);
    let readdressed = v.replace(&c.address().to_string(), &other.address().to_string());
    assert!(ContactCard::from_vcard(&readdressed).is_err());
    let no_card: String = v
        .split("\r\n")
        .filter(|l| !l.starts_with("X-POSTERN-CARD") && !l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\r\n");
    assert!(matches!(
        ContactCard::from_vcard(&no_card),
        Err(CardError::VCard(_))
    ));
    assert!(ContactCard::from_vcard("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n").is_err());
    assert!(matches!(
        ContactCard::from_vcard(&"X".repeat(40_000)),
        Err(CardError::TooLarge { .. })
    ));
    let twice = v.replace(
        "END:VCARD",
        &format!("X-POSTERN-CARD:{}\r\nEND:VCARD", other.to_text()),
    );
    assert!(matches!(
        ContactCard::from_vcard(&twice),
        Err(CardError::VCard(_))
    ));
}

//! Reading ASCII armor in one pass when it is the plain kind every implementation writes.
//!
//! Sequoia's armor reader is tolerant of every mangling mail can do to armor, and pays for it
//! byte by byte: it was a sixth of the CPU of opening a 4 KB message. Armor as OpenPGP
//! implementations write it (RFC 9580 §6.2: the `BEGIN` line, armor headers, a blank line, base64
//! lines, an optional checksum line, the `END` line) is decoded here with one base64 call; anything
//! else is left to sequoia's reader, so what opens is the same either way, only faster.

use data_encoding::BASE64;

const BEGIN: &[u8] = b"-----BEGIN PGP MESSAGE-----";
const END: &[u8] = b"-----END PGP MESSAGE-----";

/// The binary OpenPGP message inside `text`, if `text` is plainly armored (see the module
/// documentation); `None` for anything else, including armor this does not recognise but a
/// tolerant reader might.
///
/// The checksum line, if any, is not checked: RFC 9580 §6.1 says a reader must not reject armor
/// for its checksum, and the encrypted data carries its own integrity check.
pub(crate) fn dearmor_message(text: &[u8]) -> Option<Vec<u8>> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = text[start..].strip_prefix(BEGIN)?;
    let mut lines = rest
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    // The rest of the BEGIN line.
    if !lines.next()?.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    // Armor headers ("Key: value") up to the blank line.
    loop {
        let line = lines.next()?;
        if line.iter().all(u8::is_ascii_whitespace) {
            break;
        }
        if !line.windows(2).any(|w| w == b": ") {
            return None;
        }
    }
    let mut base64 = Vec::with_capacity(rest.len());
    let mut checksum_seen = false;
    for line in lines {
        let line = line.trim_ascii_end();
        if line == END {
            return BASE64.decode(&base64).ok();
        }
        if checksum_seen || line.is_empty() {
            return None;
        }
        if line.len() == 5 && line[0] == b'=' {
            checksum_seen = true;
        } else {
            // Checked by the decoding: anything but base64 fails it.
            base64.extend_from_slice(line);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::dearmor_message;

    #[test]
    fn plain_armor_is_decoded_and_the_checksum_ignored() {
        let text = b"-----BEGIN PGP MESSAGE-----\r\nComment: x\r\n\r\nAAEC\r\nAw==\r\n=AAAA\r\n-----END PGP MESSAGE-----\r\n";
        assert_eq!(dearmor_message(text), Some(vec![0, 1, 2, 3]));
        let text = b"\n-----BEGIN PGP MESSAGE-----\n\nAAEC\nAw==\n-----END PGP MESSAGE-----";
        assert_eq!(dearmor_message(text), Some(vec![0, 1, 2, 3]));
    }

    #[test]
    fn what_sequoia_writes_takes_the_fast_path() {
        use sequoia_openpgp::armor::{Kind, Writer};
        use std::io::Write;
        for len in [1usize, 2, 3, 47, 48, 49, 5000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let mut w = Writer::with_headers(Vec::new(), Kind::Message, [("Comment", "c")])
                .expect("writer");
            w.write_all(&bytes).expect("write");
            let text = w.finalize().expect("finalize");
            assert_eq!(dearmor_message(&text).as_deref(), Some(&bytes[..]), "{len}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_tolerant_reader() {
        for text in [
            &b"-----BEGIN PGP MESSAGE-----\nAAEC\n-----END PGP MESSAGE-----\n"[..], // no blank line
            b"-----BEGIN PGP SIGNATURE-----\n\nAAEC\n-----END PGP SIGNATURE-----\n",
            b"-----BEGIN PGP MESSAGE-----\n\nAAEC\n", // no END
            b"-----BEGIN PGP MESSAGE-----\n\nAA EC\n-----END PGP MESSAGE-----\n", // inner space
            b"-----BEGIN PGP MESSAGE-----\n\nAAEC\n\nAw==\n-----END PGP MESSAGE-----\n",
            b"-----BEGIN PGP MESSAGE-----\n\nAAE\n-----END PGP MESSAGE-----\n", // bad length
            b"-----BEGIN PGP MESSAGE-----\n\nAAEC\n=AAAA\nAw==\n-----END PGP MESSAGE-----\n",
            b"> -----BEGIN PGP MESSAGE-----\n\nAAEC\n-----END PGP MESSAGE-----\n",
            b"",
        ] {
            assert_eq!(
                dearmor_message(text),
                None,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

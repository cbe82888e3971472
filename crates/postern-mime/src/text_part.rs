//! The transfer encoding of a letter's text, chosen and written a line at a time.
//!
//! mail-builder chooses and writes a text part's encoding one byte at a time (each byte its own
//! `write_all`, each escape its own `format!`): a tenth of composing a 4 KB letter. Text that
//! fits in 7bit, or whose quoted-printable form is the smaller, is written here instead, with
//! the encoding declared, so that mail-builder copies it as it is; anything else (text mostly
//! outside ASCII, where base64 is smaller) is still left to mail-builder.

/// The longest encoded line, without its CRLF (RFC 2045 §6.7 rule 5).
const MAX_LINE: usize = 76;

/// A text body encoded for its part: the `Content-Transfer-Encoding` and the encoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodedText {
    pub(crate) encoding: &'static str,
    pub(crate) body: String,
}

/// `text` encoded as 7bit (CRLF line ends) if every line is short printable ASCII without
/// trailing white space, else as quoted-printable if that is shorter than base64; `None` when
/// base64 is the better choice.
pub(crate) fn encode_text(text: &str) -> Option<EncodedText> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32 + 16);
    let mut changed = false;
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        changed |= quoted_printable_line(line.as_bytes(), &mut out);
    }
    if changed && out.len() >= text.len().div_ceil(3) * 4 * 78 / 76 {
        return None;
    }
    // Only ASCII was written: every byte outside it was escaped. Text that needed neither an
    // escape nor a soft break reads the same as 7bit.
    String::from_utf8(out).ok().map(|body| EncodedText {
        encoding: if changed { "quoted-printable" } else { "7bit" },
        body,
    })
}

/// A byte quoted-printable must write as `=XX` wherever it stands: `=`, controls but tab,
/// and everything outside ASCII.
fn needs_escape(b: u8) -> bool {
    b == b'=' || b >= 0x7f || (b < 0x20 && b != b'\t')
}

/// One line of text (without its line end) as quoted-printable, with soft line breaks so that
/// no encoded line is longer than 76 characters, and white space at its end escaped. Whether
/// it wrote anything but the line itself.
fn quoted_printable_line(line: &[u8], out: &mut Vec<u8>) -> bool {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut changed = false;
    let mut width = 0;
    let mut rest = line;
    while let Some((&b, tail)) = rest.split_first() {
        let escape = needs_escape(b) || (tail.is_empty() && (b == b' ' || b == b'\t'));
        if escape {
            // Room for the escape, and for the `=` of a soft break after it unless the line
            // ends here.
            if width + 3 + usize::from(!tail.is_empty()) > MAX_LINE {
                out.extend_from_slice(b"=\r\n");
                width = 0;
            }
            out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
            width += 3;
            rest = tail;
            changed = true;
            continue;
        }
        // A run of bytes written as they are: up to the next escape, not taking white space
        // that ends the line (escaped above).
        // (No further than one encoded line ahead: a longer run is cut there anyway.)
        let window = &rest[..rest.len().min(MAX_LINE + 1)];
        // (Whether the window holds an escape at all is a check the compiler vectorizes; most
        // windows hold none.)
        let any = window.iter().fold(false, |any, &c| any | needs_escape(c));
        let mut run = match any {
            true => window
                .iter()
                .position(|&c| needs_escape(c))
                .unwrap_or(window.len()),
            false => window.len(),
        };
        if run == rest.len() && matches!(rest.last(), Some(b' ' | b'\t')) {
            run -= 1;
        }
        let take = if run == rest.len() && width + run <= MAX_LINE {
            run
        } else {
            run.min(MAX_LINE - 1 - width)
        };
        if take == 0 {
            out.extend_from_slice(b"=\r\n");
            width = 0;
            changed = true;
            continue;
        }
        out.extend_from_slice(&rest[..take]);
        width += take;
        rest = &rest[take..];
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// What a reader makes of `body` under `encoding`: mail-parser's own decoding of a part.
    fn decoded(e: &EncodedText) -> String {
        let message = format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {}\r\n\r\n{}",
            e.encoding, e.body
        );
        mail_parser::MessageParser::default()
            .parse(message.as_bytes())
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }

    fn lines_fit(body: &str) -> bool {
        body.split("\r\n")
            .all(|l| l.len() <= MAX_LINE && l.is_ascii())
            && !body.replace("\r\n", "").contains(['\r', '\n'])
    }

    #[test]
    fn short_ascii_lines_stay_7bit_with_crlf() {
        let e = encode_text("Hello Bob,\nsee you at noon.\r\n").expect("encoded");
        assert_eq!(e.encoding, "7bit");
        assert_eq!(e.body, "Hello Bob,\r\nsee you at noon.\r\n");
    }

    #[test]
    fn long_lines_equals_signs_and_trailing_space_are_quoted_printable() {
        let text = format!("{}\na = b \nend\t", "x".repeat(200));
        let e = encode_text(&text).expect("encoded");
        assert_eq!(e.encoding, "quoted-printable");
        assert!(lines_fit(&e.body), "{}", e.body);
        assert!(e.body.contains("a =3D b=20\r\n"), "{}", e.body);
        assert!(e.body.ends_with("end=09"), "{}", e.body);
        assert_eq!(decoded(&e), text.replace('\n', "\r\n"));
    }

    #[test]
    fn mostly_non_ascii_text_is_left_to_base64() {
        assert_eq!(encode_text(&"Привет, мир. ".repeat(40)), None);
    }

    /// Seeded random texts from a small alphabet heavy in what needs care (spaces, tabs, `=`,
    /// line ends, accented letters): every one decodes back to itself, CRLF for LF, and no
    /// encoded line is over 76 characters.
    #[test]
    fn random_texts_decode_back_to_themselves() {
        let alphabet = [
            "a", "b", " ", "\t", "=", "\n", "\r\n", "é", "x", "y", "z", ".",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(2045);
        for _ in 0..2000 {
            let len = rng.gen_range(0..400);
            let text: String = (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect();
            let Some(e) = encode_text(&text) else {
                continue;
            };
            assert!(lines_fit(&e.body), "{text:?} → {:?}", e.body);
            let want = text.replace("\r\n", "\n").replace('\n', "\r\n");
            assert_eq!(decoded(&e), want, "{text:?} → {:?}", e.body);
        }
    }
}

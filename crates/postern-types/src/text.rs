//! Text from others, as shown to a person: what must never reach a terminal or a screen raw.

use std::borrow::Cow;

/// Bidirectional controls, zero-width and other invisible format characters: they let text
/// pretend to be something else ("gnp.exe" shown as "exe.png", an invisible break inside an
/// address).
pub fn is_invisible_or_direction(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{00AD}' | '\u{180E}')
}

/// `text` made safe for a terminal: control characters (escape sequences above all) and
/// invisible or text-direction characters are written out as `\u{…}`; line breaks and tabs stay.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\n' && c != '\t') || is_invisible_or_direction(c);
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey_and_keeps_the_rest() {
        assert_eq!(for_terminal("plain\ttext\nnext"), "plain\ttext\nnext");
        assert_eq!(
            for_terminal("\u{1b}[32mVerified\u{1b}[0m"),
            "\\u{1b}[32mVerified\\u{1b}[0m"
        );
        assert_eq!(for_terminal("a\rb\u{7}c\u{9b}d"), "a\\u{d}b\\u{7}c\\u{9b}d");
        assert_eq!(for_terminal("Bank\u{202E}gnp.exe"), "Bank\\u{202e}gnp.exe");
        assert_eq!(for_terminal("Ørsted"), "Ørsted");
    }
}

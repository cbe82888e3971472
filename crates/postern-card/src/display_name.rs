//! Display names: what a person calls themselves on their card.

use std::fmt;

use crate::CardError;

/// Longest display name, in bytes of UTF-8.
pub const MAX_DISPLAY_NAME_BYTES: usize = 64;

/// A display name that is safe to show: no control characters, no bidirectional overrides or
/// isolates, no zero-width tricks, no leading or trailing space. May be empty.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validate a display name.
    pub fn new(name: &str) -> Result<Self, CardError> {
        if name.len() > MAX_DISPLAY_NAME_BYTES {
            return Err(CardError::DisplayName("it is longer than 64 bytes"));
        }
        if name.chars().any(char::is_control) {
            return Err(CardError::DisplayName("it contains control characters"));
        }
        if name.chars().any(postern_types::is_invisible_or_direction) {
            return Err(CardError::DisplayName(
                "it contains invisible or text-direction characters",
            ));
        }
        if name.trim() != name {
            return Err(CardError::DisplayName("it starts or ends with a space"));
        }
        Ok(DisplayName(name.to_owned()))
    }

    /// As a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DisplayName({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["", "Alice", "Zoë Ørsted", "李小龙", "Bob 🙂"] {
            assert!(DisplayName::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_tricks() {
        for bad in [
            "Al\u{202E}ice",
            "Al\u{2066}ice",
            "a\u{200B}b",
            "a\nb",
            "a\u{7}",
            " Alice",
            "Alice ",
            "a\u{0}",
            "\u{FEFF}x",
        ] {
            assert!(DisplayName::new(bad).is_err(), "{bad:?}");
        }
        assert!(DisplayName::new(&"x".repeat(65)).is_err());
    }
}

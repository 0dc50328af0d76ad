//! Small text normalisations shared by the parsers: Thai digits and separators.

use std::borrow::Cow;

/// Replaces Thai digits (๐–๙) with ASCII digits; government exports mix both.
pub fn ascii_digits(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_thai_digit) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if is_thai_digit(c) {
                    char::from(b'0' + (c as u32 - '๐' as u32) as u8)
                } else {
                    c
                }
            })
            .collect(),
    )
}

fn is_thai_digit(c: char) -> bool {
    ('๐'..='๙').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_digits_become_ascii() {
        assert_eq!(ascii_digits("๒๕๖๖-๐๒-๒๓"), "2566-02-23");
        assert!(matches!(ascii_digits("2566"), Cow::Borrowed(_)));
    }
}

//! Small text normalisations shared by the parsers and the views: Thai digits, and numbers
//! grouped in thousands for people.

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

/// `12345` → `12,345`: how counts are written for people in Thai and in English alike.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn is_thai_digit(c: char) -> bool {
    ('๐'..='๙').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(27_000_000), "27,000,000");
        assert_eq!(group_thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn thai_digits_become_ascii() {
        assert_eq!(ascii_digits("๒๕๖๖-๐๒-๒๓"), "2566-02-23");
        assert!(matches!(ascii_digits("2566"), Cow::Borrowed(_)));
    }
}

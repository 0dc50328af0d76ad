//! Helpers for cell text.
//!
//! Thai digits (๐-๙) turn up in IDs, house numbers and amounts typed on
//! Thai keyboards. They are rewritten only on request, field by field,
//! because the same file's names and addresses must keep their Thai text
//! exactly as written.

use std::borrow::Cow;

const THAI_ZERO: u32 = 0x0E50;

fn thai_digit_value(c: char) -> Option<u32> {
    let v = (c as u32).wrapping_sub(THAI_ZERO);
    (v < 10).then_some(v)
}

/// Replaces Thai digits ๐-๙ with ASCII 0-9, leaving everything else as is.
/// Borrows when there is nothing to replace.
pub fn normalize_digits(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| thai_digit_value(c).is_some()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match thai_digit_value(c) {
                Some(v) => char::from(b'0' + v as u8),
                None => c,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thai_digits_become_ascii() {
        assert_eq!(normalize_digits("๑๒๓๔๕๖๗๘๙๐"), "1234567890");
        assert_eq!(normalize_digits("บ้านเลขที่ ๔๒/๑"), "บ้านเลขที่ 42/1");
        assert!(matches!(normalize_digits("สมชาย 12"), Cow::Borrowed(_)));
    }
}

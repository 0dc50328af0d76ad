//! The Thai citizen identification number (เลขประจำตัวประชาชน): 13 digits, the last a check digit.

use crate::{ParseError, text::ascii_digits};
use std::fmt;

/// A 13-digit Thai citizen ID whose check digit is correct.
///
/// Optional on every person: people without Thai nationality may hold other categories, and some
/// people have none. Keep it in `Option<CitizenId>`, never as an empty string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId([u8; 13]);

impl CitizenId {
    /// Parses the usual written forms: `1101700230708`, `1-1017-00230-70-8`, with spaces, or
    /// with Thai digits.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let ascii = ascii_digits(raw.trim());
        let mut digits = [0u8; 13];
        let mut n = 0;
        for c in ascii.chars() {
            match c {
                '0'..='9' => {
                    if n == 13 {
                        return Err(wrong_length());
                    }
                    digits[n] = c as u8 - b'0';
                    n += 1;
                }
                '-' | ' ' => {}
                _ => {
                    return Err(ParseError::new(
                        "citizen_id.not_digits",
                        "เลขประจำตัวประชาชนต้องเป็นตัวเลข 13 หลัก",
                        "a citizen ID has only digits",
                    ));
                }
            }
        }
        if n != 13 {
            return Err(wrong_length());
        }
        if check_digit(&digits[..12]) != digits[12] {
            return Err(ParseError::new(
                "citizen_id.check_digit",
                "เลขประจำตัวประชาชนไม่ถูกต้อง (หลักตรวจสอบไม่ตรง)",
                "the citizen ID's check digit is wrong",
            ));
        }
        Ok(CitizenId(digits))
    }

    /// The 13 digits without separators, as stored.
    pub fn as_digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The ID with all but the first and the last three digits hidden, for roles that need to
    /// tell people apart on screen but not to know who they are.
    pub fn masked(&self) -> String {
        let d = self.as_digits();
        format!("{}-xxxx-xxxxx-x{}-{}", &d[0..1], &d[11..12], &d[12..13])
    }
}

fn wrong_length() -> ParseError {
    ParseError::new(
        "citizen_id.length",
        "เลขประจำตัวประชาชนต้องมี 13 หลัก",
        "a citizen ID has 13 digits",
    )
}

/// d13 = (11 − Σ d_i × (14 − i) mod 11) mod 10, over the first twelve digits.
fn check_digit(first12: &[u8]) -> u8 {
    let sum: u32 = first12
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * (13 - i as u32))
        .sum();
    ((11 - sum % 11) % 10) as u8
}

impl fmt::Display for CitizenId {
    /// The conventional grouping 1-2345-67890-12-3.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.as_digits();
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &d[0..1],
            &d[1..5],
            &d[5..10],
            &d[10..12],
            &d[12..13]
        )
    }
}

impl fmt::Debug for CitizenId {
    /// Debug output goes to logs, so it is masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_domain_brief_example_is_valid() {
        let id = CitizenId::parse("1101700230708").unwrap();
        assert_eq!(id.as_digits(), "1101700230708");
        assert_eq!(id.to_string(), "1-1017-00230-70-8");
        assert_eq!(CitizenId::parse("1-1017-00230-70-8").unwrap(), id);
        assert_eq!(CitizenId::parse("๑๑๐๑๗๐๐๒๓๐๗๐๘").unwrap(), id);
    }

    #[test]
    fn a_wrong_check_digit_is_refused_without_echoing_the_value() {
        let err = CitizenId::parse("1101700230707").unwrap_err();
        assert_eq!(err.code, "citizen_id.check_digit");
        assert!(!err.to_string().contains("110170023070"));
    }

    #[test]
    fn wrong_lengths_and_letters_are_refused() {
        assert_eq!(
            CitizenId::parse("110170023070").unwrap_err().code,
            "citizen_id.length"
        );
        assert_eq!(
            CitizenId::parse("11017002307081").unwrap_err().code,
            "citizen_id.length"
        );
        assert_eq!(
            CitizenId::parse("11017002307O8").unwrap_err().code,
            "citizen_id.not_digits"
        );
        assert_eq!(CitizenId::parse("").unwrap_err().code, "citizen_id.length");
    }

    #[test]
    fn debug_output_is_masked() {
        let id = CitizenId::parse("1101700230708").unwrap();
        assert_eq!(format!("{id:?}"), "CitizenId(1-xxxx-xxxxx-x0-8)");
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_accepted(first in proptest::collection::vec(0u8..10, 12)) {
            let body: String = first.iter().map(|d| char::from(b'0' + d)).collect();
            let accepted: Vec<u8> = (0..10u8)
                .filter(|c| CitizenId::parse(&format!("{body}{c}")).is_ok())
                .collect();
            prop_assert_eq!(accepted.len(), 1);
        }
    }
}

//! Money in satang (1 baht = 100 satang), kept as an integer so sums are exact.

use crate::{ParseError, text::ascii_digits};
use std::fmt;

/// An amount of Thai baht held in satang.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Satang(pub i64);

impl Satang {
    pub fn from_baht(baht: i64) -> Satang {
        Satang(baht * 100)
    }

    /// Parses a baht amount as people write it: `38000`, `38,000.50`, `฿1,200`, Thai digits.
    /// At most two decimals: a third would be a fraction of a satang.
    pub fn parse_baht(raw: &str) -> Result<Satang, ParseError> {
        let syntax = || {
            ParseError::new(
                "money.syntax",
                "จำนวนเงินต้องเป็นตัวเลขบาท เช่น 38000 หรือ 38,000.50",
                "an amount is a number of baht, e.g. 38000 or 38,000.50",
            )
        };
        let s = ascii_digits(raw.trim());
        let s = s.trim_start_matches('฿').trim_end_matches("บาท").trim();
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        let whole: String = whole.chars().filter(|&c| c != ',').collect();
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(syntax());
        }
        if frac.len() > 2 {
            return Err(ParseError::new(
                "money.precision",
                "จำนวนเงินมีทศนิยมได้ไม่เกิน 2 ตำแหน่ง",
                "an amount has at most two decimals",
            ));
        }
        let baht: i64 = whole.parse().map_err(|_| syntax())?;
        let satang: i64 = format!("{frac:0<2}").parse().map_err(|_| syntax())?;
        let total = baht
            .checked_mul(100)
            .and_then(|b| b.checked_add(satang))
            .ok_or_else(syntax)?;
        Ok(Satang(if negative { -total } else { total }))
    }

    /// Like [`Satang::parse_baht`], refusing amounts below zero (incomes, costs).
    pub fn parse_non_negative(raw: &str) -> Result<Satang, ParseError> {
        let v = Satang::parse_baht(raw)?;
        if v.0 < 0 {
            return Err(ParseError::new(
                "money.negative",
                "จำนวนเงินต้องไม่ติดลบ",
                "the amount cannot be negative",
            ));
        }
        Ok(v)
    }

    /// Whole baht, rounding toward zero.
    pub fn baht(self) -> i64 {
        self.0 / 100
    }

    /// Plain form for files: `38000.5` is written `38000.50`, `38000` stays `38000`.
    pub fn to_plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        if a.is_multiple_of(100) {
            format!("{sign}{}", a / 100)
        } else {
            format!("{sign}{}.{:02}", a / 100, a % 100)
        }
    }
}

impl fmt::Display for Satang {
    /// Grouped for people: `38,000.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let grouped = crate::text::group_thousands(a / 100);
        write!(f, "{sign}{grouped}.{:02}", a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_parse_to_satang() {
        assert_eq!(Satang::parse_baht("38000").unwrap(), Satang(3_800_000));
        assert_eq!(Satang::parse_baht("38,000.5").unwrap(), Satang(3_800_050));
        assert_eq!(Satang::parse_baht("฿1,200.05").unwrap(), Satang(120_005));
        assert_eq!(Satang::parse_baht("๓๘๐๐๐ บาท").unwrap(), Satang(3_800_000));
        assert_eq!(Satang::parse_baht("-12.30").unwrap(), Satang(-1230));
    }

    #[test]
    fn bad_amounts_are_refused() {
        assert_eq!(
            Satang::parse_baht("1.005").unwrap_err().code,
            "money.precision"
        );
        assert_eq!(Satang::parse_baht("abc").unwrap_err().code, "money.syntax");
        assert_eq!(Satang::parse_baht("").unwrap_err().code, "money.syntax");
        assert_eq!(
            Satang::parse_non_negative("-1").unwrap_err().code,
            "money.negative"
        );
        assert!(Satang::parse_baht("99999999999999999999").is_err());
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Satang(3_800_050).to_string(), "38,000.50");
        assert_eq!(Satang(1234567800).to_string(), "12,345,678.00");
        assert_eq!(Satang(-5).to_string(), "-0.05");
    }

    proptest! {
        #[test]
        fn plain_form_round_trips(v in -10_000_000_000i64..10_000_000_000) {
            prop_assert_eq!(Satang::parse_baht(&Satang(v).to_plain()).unwrap(), Satang(v));
            prop_assert_eq!(Satang::parse_baht(&Satang(v).to_string()).unwrap(), Satang(v));
        }
    }
}

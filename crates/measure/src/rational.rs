//! Exact non-negative rationals for weights and poverty cutoffs.
//!
//! A spec writes weights as `1/6` or `0.0588` and cutoffs as `33.33` or `100/3`; identification
//! must treat them exactly, because a float sum such as 0.1 + 0.2 lands on either side of a
//! cutoff. So the spec is read into [`Ratio`] values, checked (weights summing to exactly 1)
//! in exact arithmetic, and only then turned into integer weight units for the scan.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative rational number `num / den`, always kept in lowest terms with `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: u128,
    den: u128,
}

/// Why a number in a spec could not be read exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    #[error("\"{0}\" is not a number (write e.g. 20, 33.33 or 100/3)")]
    NotANumber(String),
    #[error("\"{0}\" is negative")]
    Negative(String),
    #[error("\"{0}\" divides by zero")]
    ZeroDenominator(String),
    #[error("\"{0}\" has too many digits to handle exactly")]
    TooPrecise(String),
}

pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };
    pub const ONE: Ratio = Ratio { num: 1, den: 1 };

    /// Builds `num / den` in lowest terms; `None` when `den` is zero.
    pub fn new(num: u128, den: u128) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Ratio {
            num: num / g,
            den: den / g,
        })
    }

    pub fn from_integer(n: u64) -> Ratio {
        Ratio {
            num: u128::from(n),
            den: 1,
        }
    }

    pub fn numer(&self) -> u128 {
        self.num
    }

    pub fn denom(&self) -> u128 {
        self.den
    }

    pub fn is_zero(&self) -> bool {
        self.num == 0
    }

    /// The nearest float; only for display and final ratios, never for identification.
    pub fn to_f64(&self) -> f64 {
        self.num as f64 / self.den as f64
    }

    pub fn checked_add(self, other: Ratio) -> Option<Ratio> {
        let g = gcd(self.den, other.den);
        let den = (self.den / g).checked_mul(other.den)?;
        let a = self.num.checked_mul(other.den / g)?;
        let b = other.num.checked_mul(self.den / g)?;
        Ratio::new(a.checked_add(b)?, den)
    }

    pub fn checked_mul(self, other: Ratio) -> Option<Ratio> {
        // Cross-reduce first so that products stay small.
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        let num = (self.num / g1).checked_mul(other.num / g2)?;
        let den = (self.den / g2).checked_mul(other.den / g1)?;
        Ratio::new(num, den)
    }

    pub fn checked_div(self, other: Ratio) -> Option<Ratio> {
        if other.num == 0 {
            return None;
        }
        self.checked_mul(Ratio {
            num: other.den,
            den: other.num,
        })
    }

    /// Parses `20`, `33.33`, `.5`, `1/6` or `100/3` (each side of `/` may be a decimal).
    pub fn parse(text: &str) -> Result<Ratio, RatioError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(RatioError::NotANumber(text.to_string()));
        }
        if t.starts_with('-') {
            return Err(RatioError::Negative(text.to_string()));
        }
        match t.split_once('/') {
            Some((a, b)) => {
                let a = parse_decimal(a.trim(), text)?;
                let b = parse_decimal(b.trim(), text)?;
                if b.is_zero() {
                    return Err(RatioError::ZeroDenominator(text.to_string()));
                }
                a.checked_div(b)
                    .ok_or_else(|| RatioError::TooPrecise(text.to_string()))
            }
            None => parse_decimal(t, text),
        }
    }

    /// Reads a float that came from TOML by its shortest decimal form, which is what the
    /// author wrote (`33.33` stays 3333/100, not the binary neighbour of 33.33).
    pub fn from_f64_decimal(x: f64) -> Result<Ratio, RatioError> {
        let text = format!("{x}");
        if !x.is_finite() {
            return Err(RatioError::NotANumber(text));
        }
        if x < 0.0 {
            return Err(RatioError::Negative(text));
        }
        Ratio::parse(&text)
    }
}

fn parse_decimal(t: &str, whole: &str) -> Result<Ratio, RatioError> {
    let (int_part, frac_part) = t.split_once('.').unwrap_or((t, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_ok(int_part)
        || !digits_ok(frac_part)
    {
        return Err(RatioError::NotANumber(whole.to_string()));
    }
    let too_precise = || RatioError::TooPrecise(whole.to_string());
    let mut num: u128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        num = num
            .checked_mul(10)
            .and_then(|n| n.checked_add(u128::from(b - b'0')))
            .ok_or_else(too_precise)?;
    }
    let den = 10u128
        .checked_pow(u32::try_from(frac_part.len()).map_err(|_| too_precise())?)
        .ok_or_else(too_precise)?;
    Ok(Ratio::new(num, den).expect("power of ten is non-zero"))
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Ratio) -> Ordering {
        // u128 products of spec-sized numbers cannot overflow in practice; fall back to
        // floats only if they would.
        match (
            self.num.checked_mul(other.den),
            other.num.checked_mul(self.den),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u128, d: u128) -> Ratio {
        Ratio::new(n, d).unwrap()
    }

    #[test]
    fn parses_the_forms_a_spec_uses() {
        assert_eq!(Ratio::parse("20").unwrap(), r(20, 1));
        assert_eq!(Ratio::parse("33.33").unwrap(), r(3333, 100));
        assert_eq!(Ratio::parse(".5").unwrap(), r(1, 2));
        assert_eq!(Ratio::parse("1/6").unwrap(), r(1, 6));
        assert_eq!(Ratio::parse("100/3").unwrap(), r(100, 3));
        assert_eq!(Ratio::parse(" 0.25 / 0.5 ").unwrap(), r(1, 2));
        assert!(matches!(
            Ratio::parse("1/0"),
            Err(RatioError::ZeroDenominator(_))
        ));
        assert!(matches!(Ratio::parse("-1"), Err(RatioError::Negative(_))));
        assert!(matches!(
            Ratio::parse("abc"),
            Err(RatioError::NotANumber(_))
        ));
        assert!(matches!(Ratio::parse("."), Err(RatioError::NotANumber(_))));
        assert!(matches!(
            Ratio::parse("1e3"),
            Err(RatioError::NotANumber(_))
        ));
    }

    #[test]
    fn floats_from_toml_keep_their_decimal_meaning() {
        assert_eq!(Ratio::from_f64_decimal(33.33).unwrap(), r(3333, 100));
        assert_eq!(Ratio::from_f64_decimal(0.1).unwrap(), r(1, 10));
    }

    #[test]
    fn sums_are_exact() {
        let tenth = r(1, 10);
        let fifth = r(2, 10);
        assert_eq!(tenth.checked_add(fifth).unwrap(), r(3, 10));
        let sixth = r(1, 6);
        let mut s = Ratio::ZERO;
        for _ in 0..6 {
            s = s.checked_add(sixth).unwrap();
        }
        assert_eq!(s, Ratio::ONE);
        assert!(r(1, 3) > r(33, 100));
        assert_eq!(r(2, 4).to_string(), "1/2");
    }
}

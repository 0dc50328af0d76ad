//! Buddhist Era years and dates (พ.ศ. = ค.ศ. + 543), the calendar of every Thai record.
//!
//! Parsing is strict about the era: a year that looks like a Common Era year where a Buddhist
//! Era one is expected is an error, never silently shifted, because a wrong guess moves a
//! record by 543 years.

use crate::{ParseError, text::ascii_digits};
use std::fmt;

/// Years between the eras.
pub const BE_OFFSET: i32 = 543;
/// Plausible Buddhist Era years for a registry: births from 2400 (1857 CE) to 2700.
const BE_RANGE: std::ops::RangeInclusive<i32> = 2400..=2700;
/// Plausible Common Era years.
const CE_RANGE: std::ops::RangeInclusive<i32> = 1857..=2157;

/// A year of the Buddhist Era.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BeYear(i32);

impl BeYear {
    pub fn new(be: i32) -> Result<Self, ParseError> {
        if BE_RANGE.contains(&be) {
            Ok(BeYear(be))
        } else if CE_RANGE.contains(&be) {
            Err(looks_like_ce(be))
        } else {
            Err(ParseError::new(
                "date.year_range",
                format!(
                    "ปี พ.ศ. ต้องอยู่ระหว่าง {} ถึง {}",
                    BE_RANGE.start(),
                    BE_RANGE.end()
                ),
                format!(
                    "a Buddhist Era year must lie between {} and {}",
                    BE_RANGE.start(),
                    BE_RANGE.end()
                ),
            ))
        }
    }

    /// The Buddhist Era year for a Common Era one.
    pub fn from_ce(ce: i32) -> Result<Self, ParseError> {
        if !CE_RANGE.contains(&ce) {
            return Err(ParseError::new(
                "date.year_range",
                "ปี ค.ศ. อยู่นอกช่วงที่รับได้",
                "the Common Era year is out of range",
            ));
        }
        Ok(BeYear(ce + BE_OFFSET))
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = ascii_digits(raw.trim());
        let s = s.trim_start_matches("พ.ศ.").trim();
        let y: i32 = s.parse().map_err(|_| {
            ParseError::new(
                "date.year_syntax",
                "ปีต้องเป็นตัวเลข พ.ศ. 4 หลัก เช่น 2566",
                "a year is four digits in the Buddhist Era, e.g. 2566",
            )
        })?;
        BeYear::new(y)
    }

    pub fn be(self) -> i32 {
        self.0
    }

    pub fn ce(self) -> i32 {
        self.0 - BE_OFFSET
    }
}

impl fmt::Display for BeYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn looks_like_ce(y: i32) -> ParseError {
    ParseError::new(
        "date.looks_like_ce",
        format!(
            "ปี {y} ดูเหมือนเป็น ค.ศ. แต่ช่องนี้ต้องเป็น พ.ศ. (ค.ศ. {y} = พ.ศ. {})",
            y + BE_OFFSET
        ),
        format!(
            "the year {y} looks like the Common Era, but this field is in the Buddhist Era \
             ({y} CE = {} BE)",
            y + BE_OFFSET
        ),
    )
}

/// A calendar day, written and read in the Buddhist Era. Stored as its Common Era
/// `YYYY-MM-DD` text ([`BeDate::to_iso_ce`]) so that databases sort and compare it natively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BeDate {
    // Field order gives chronological `Ord`.
    year: BeYear,
    month: u8,
    day: u8,
}

impl BeDate {
    pub fn new(year: BeYear, month: u8, day: u8) -> Result<Self, ParseError> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year.ce(), month) {
            return Err(ParseError::new(
                "date.no_such_day",
                "ไม่มีวันที่นี้ในปฏิทิน",
                "no such day in the calendar",
            ));
        }
        Ok(BeDate { year, month, day })
    }

    /// Parses a Buddhist Era date: `2566-02-23` (year first) or `23/02/2566` (day first, as
    /// Thai forms write it; `-` and `.` also separate).
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let (y, m, d) = split_date(raw)?;
        BeDate::new(BeYear::new(y)?, m, d)
    }

    /// Parses a Common Era date in the same layouts, e.g. from an XLSX date cell.
    pub fn parse_ce(raw: &str) -> Result<Self, ParseError> {
        let (y, m, d) = split_date(raw)?;
        if BE_RANGE.contains(&y) {
            return Err(ParseError::new(
                "date.looks_like_be",
                format!("ปี {y} ดูเหมือนเป็น พ.ศ. แต่ช่องนี้ต้องเป็น ค.ศ."),
                format!(
                    "the year {y} looks like the Buddhist Era, but this field is in the Common Era"
                ),
            ));
        }
        BeDate::new(BeYear::from_ce(y)?, m, d)
    }

    pub fn year(self) -> BeYear {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }

    /// `YYYY-MM-DD` in the Common Era: the storage form.
    pub fn to_iso_ce(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year.ce(), self.month, self.day)
    }

    /// Reads the storage form back.
    pub fn from_iso_ce(s: &str) -> Result<Self, ParseError> {
        BeDate::parse_ce(s)
    }

    /// Days since 1 January 1 CE (proleptic Gregorian), for differences between dates.
    pub fn ordinal(self) -> i64 {
        let y = i64::from(self.year.ce()) - 1;
        let mut days = y * 365 + y / 4 - y / 100 + y / 400;
        for m in 1..self.month {
            days += i64::from(days_in_month(self.year.ce(), m));
        }
        days + i64::from(self.day)
    }

    /// Whole years from `birth` to `self`, as an age.
    pub fn years_since(self, birth: BeDate) -> i32 {
        let mut age = self.year.be() - birth.year.be();
        if (self.month, self.day) < (birth.month, birth.day) {
            age -= 1;
        }
        age
    }

    /// The Thai written form, e.g. `23 ก.พ. 2566`.
    pub fn to_thai(self) -> String {
        const MONTHS: [&str; 12] = [
            "ม.ค.",
            "ก.พ.",
            "มี.ค.",
            "เม.ย.",
            "พ.ค.",
            "มิ.ย.",
            "ก.ค.",
            "ส.ค.",
            "ก.ย.",
            "ต.ค.",
            "พ.ย.",
            "ธ.ค.",
        ];
        format!(
            "{} {} {}",
            self.day,
            MONTHS[usize::from(self.month - 1)],
            self.year
        )
    }
}

impl fmt::Display for BeDate {
    /// `YYYY-MM-DD` in the Buddhist Era: the form halve writes in its CSV files.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year.be(), self.month, self.day)
    }
}

fn split_date(raw: &str) -> Result<(i32, u8, u8), ParseError> {
    let syntax = || {
        ParseError::new(
            "date.syntax",
            "วันที่ต้องเขียนแบบ 2566-02-23 หรือ 23/02/2566",
            "a date is written 2566-02-23 or 23/02/2566",
        )
    };
    let s = ascii_digits(raw.trim());
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(syntax());
    }
    let num = |p: &str| p.parse::<i32>().map_err(|_| syntax());
    let (y, m, d) = if parts[0].len() == 4 {
        (num(parts[0])?, num(parts[1])?, num(parts[2])?)
    } else if parts[2].len() == 4 {
        (num(parts[2])?, num(parts[1])?, num(parts[0])?)
    } else {
        return Err(syntax());
    };
    let to_u8 = |v: i32| u8::try_from(v).map_err(|_| syntax());
    Ok((y, to_u8(m)?, to_u8(d)?))
}

fn is_leap(ce: i32) -> bool {
    (ce % 4 == 0 && ce % 100 != 0) || ce % 400 == 0
}

fn days_in_month(ce: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(ce) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_convert_between_eras() {
        let y = BeYear::parse("2566").unwrap();
        assert_eq!(y.ce(), 2023);
        assert_eq!(BeYear::from_ce(2023).unwrap(), y);
        assert_eq!(BeYear::parse("พ.ศ. ๒๕๖๖").unwrap(), y);
    }

    #[test]
    fn a_ce_year_where_be_is_expected_is_an_error_not_a_guess() {
        let err = BeYear::parse("2023").unwrap_err();
        assert_eq!(err.code, "date.looks_like_ce");
        assert!(err.en.contains("2566"));
        assert_eq!(
            BeDate::parse("2023-02-23").unwrap_err().code,
            "date.looks_like_ce"
        );
        assert_eq!(
            BeDate::parse("23/02/2023").unwrap_err().code,
            "date.looks_like_ce"
        );
        assert_eq!(
            BeDate::parse_ce("2566-02-23").unwrap_err().code,
            "date.looks_like_be"
        );
    }

    #[test]
    fn both_layouts_parse_and_print() {
        let d = BeDate::parse("23/02/2566").unwrap();
        assert_eq!(d, BeDate::parse("2566-02-23").unwrap());
        assert_eq!(d.to_string(), "2566-02-23");
        assert_eq!(d.to_iso_ce(), "2023-02-23");
        assert_eq!(BeDate::from_iso_ce("2023-02-23").unwrap(), d);
        assert_eq!(d.to_thai(), "23 ก.พ. 2566");
    }

    #[test]
    fn impossible_days_are_refused() {
        // 2567 BE = 2024 CE, a leap year; 2566 = 2023 is not.
        assert!(BeDate::parse("2567-02-29").is_ok());
        assert_eq!(
            BeDate::parse("2566-02-29").unwrap_err().code,
            "date.no_such_day"
        );
        assert_eq!(
            BeDate::parse("2566-13-01").unwrap_err().code,
            "date.no_such_day"
        );
        assert_eq!(BeDate::parse("2566/02").unwrap_err().code, "date.syntax");
        assert_eq!(BeDate::parse("").unwrap_err().code, "date.syntax");
    }

    #[test]
    fn ages_and_day_differences() {
        let birth = BeDate::parse("2500-03-15").unwrap();
        assert_eq!(BeDate::parse("2566-03-14").unwrap().years_since(birth), 65);
        assert_eq!(BeDate::parse("2566-03-15").unwrap().years_since(birth), 66);
        let a = BeDate::parse("2566-12-31").unwrap();
        let b = BeDate::parse("2567-01-01").unwrap();
        assert_eq!(b.ordinal() - a.ordinal(), 1);
        let leap = BeDate::parse("2567-12-31").unwrap().ordinal() - a.ordinal();
        assert_eq!(leap, 366);
    }
}

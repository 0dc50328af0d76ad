//! The records of the registry: villages, households, persons, vulnerability flags, welfare
//! cards, membership changes and assessment rounds.
//!
//! Each record is plain data built from already-parsed domain values; the coded fields (sex,
//! relation, flags…) are enums with a stable English code for files and storage and a Thai
//! label for people.

use crate::{AreaCode, BeDate, BeYear, CitizenId, ParseError, Satang, text::ascii_digits};
use std::collections::BTreeMap;
use std::fmt;

/// Declares an enum of coded values: its file/storage code, its Thai label, and the other
/// spellings accepted on input (Thai labels and common abbreviations).
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident, $what_th:literal, $what_en:literal {
        $($variant:ident = $code:literal, $th:literal $(, $alias:literal)*;)+
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in files and storage.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label_th(self) -> &'static str {
                match self { $($name::$variant => $th),+ }
            }

            /// Accepts the code, the Thai label or a listed alias, ignoring case.
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                let s = raw.trim().to_lowercase();
                $(if s == $code || s == $th $(|| s == $alias)* { return Ok($name::$variant); })+
                Err(ParseError::new(
                    concat!("code.", $what_en),
                    format!("{}ต้องเป็นหนึ่งใน: {}", $what_th, [$($code),+].join(", ")),
                    format!("{} must be one of: {}", $what_en, [$($code),+].join(", ")),
                ))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum!(Sex, "เพศ", "sex" {
    Male = "male", "ชาย", "m", "1";
    Female = "female", "หญิง", "f", "2";
});

coded_enum!(
    /// Relation to the head of the household, as in the house registration.
    Relation, "ความสัมพันธ์กับหัวหน้าครัวเรือน", "relation" {
    Head = "head", "หัวหน้าครัวเรือน", "หัวหน้า";
    Spouse = "spouse", "คู่สมรส";
    Child = "child", "บุตร", "ลูก";
    Parent = "parent", "บิดามารดา", "พ่อแม่";
    Grandchild = "grandchild", "หลาน";
    Sibling = "sibling", "พี่น้อง";
    Relative = "relative", "ญาติ";
    NonRelative = "non_relative", "ผู้อาศัย";
});

coded_enum!(
    /// Highest education completed.
    Education, "การศึกษา", "education" {
    NoSchooling = "none", "ไม่ได้เรียน";
    Primary = "primary", "ประถมศึกษา", "ประถม";
    LowerSecondary = "lower_secondary", "มัธยมศึกษาตอนต้น", "ม.ต้น";
    UpperSecondary = "upper_secondary", "มัธยมศึกษาตอนปลาย", "ม.ปลาย";
    Vocational = "vocational", "อาชีวศึกษา", "ปวช.", "ปวส.";
    Higher = "higher", "อุดมศึกษา", "ปริญญาตรี";
});

coded_enum!(
    /// A typed vulnerability, after NESDC's glossary of vulnerable groups. This is the
    /// council's sense of "vulnerable", not OPHI's "vulnerable to poverty".
    VulnerabilityFlag, "ประเภทกลุ่มเปราะบาง", "vulnerability flag" {
    Elderly = "elderly", "ผู้สูงอายุ";
    Child = "child", "เด็ก";
    Disabled = "disabled", "ผู้พิการ", "คนพิการ";
    Bedridden = "bedridden", "ผู้ป่วยติดเตียง", "ติดเตียง";
    ChronicIllness = "chronic_illness", "ผู้ป่วยโรคเรื้อรัง";
    Psychiatric = "psychiatric", "ผู้ป่วยจิตเวช";
    Dementia = "dementia", "ผู้ป่วยสมองเสื่อม";
    Pregnant = "pregnant", "หญิงตั้งครรภ์";
    SingleParent = "single_parent", "พ่อแม่เลี้ยงเดี่ยว";
    LowIncome = "low_income", "ผู้มีรายได้น้อย";
    Homeless = "homeless", "คนไร้บ้าน";
});

coded_enum!(
    /// State welfare card (บัตรสวัสดิการแห่งรัฐ) status: an imported fact with a source date.
    WelfareCardStatus, "สถานะบัตรสวัสดิการแห่งรัฐ", "welfare card status" {
    Holder = "holder", "มีบัตร", "ถือบัตร";
    Applied = "applied", "ลงทะเบียนแล้ว";
    NotEligible = "not_eligible", "ไม่ผ่านเกณฑ์";
    NotRegistered = "not_registered", "ไม่ได้ลงทะเบียน";
});

coded_enum!(
    /// A change in who lives in a household.
    MembershipKind, "ประเภทการเปลี่ยนแปลงสมาชิก", "membership change" {
    Birth = "birth", "เกิด";
    Death = "death", "ตาย", "เสียชีวิต";
    MoveIn = "move_in", "ย้ายเข้า";
    MoveOut = "move_out", "ย้ายออก";
});

/// A record key chosen by the source system: a house code (รหัสบ้าน) or a person code.
/// Letters, digits and `-_/.`, up to 40 characters; Thai digits become ASCII.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    pub fn parse(raw: &str) -> Result<Key, ParseError> {
        let s = ascii_digits(raw.trim());
        if s.is_empty()
            || s.len() > 40
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_/.".contains(&b))
        {
            return Err(ParseError::new(
                "key.syntax",
                "รหัสต้องเป็นตัวอักษรอังกฤษ ตัวเลข หรือ - _ / . ไม่เกิน 40 ตัว",
                "a code is 1 to 40 letters, digits or - _ / .",
            ));
        }
        Ok(Key(s.into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A non-empty piece of free text, trimmed, without control characters, up to `max` chars.
pub fn parse_text(raw: &str, max: usize) -> Result<String, ParseError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ParseError::new(
            "text.empty",
            "ต้องกรอกช่องนี้",
            "this field is required",
        ));
    }
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(ParseError::new(
            "text.invalid",
            format!("ข้อความยาวเกิน {max} ตัวอักษรหรือมีอักขระควบคุม"),
            format!("the text is longer than {max} characters or has control characters"),
        ));
    }
    Ok(s.to_owned())
}

/// Reads a yes/no cell: `1/0`, `true/false`, `yes/no`, `y/n`, `ใช่/ไม่ใช่`, `มี/ไม่มี`.
pub fn parse_bool(raw: &str) -> Result<bool, ParseError> {
    match raw.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "ใช่" | "มี" => Ok(true),
        "0" | "false" | "no" | "n" | "ไม่ใช่" | "ไม่มี" => Ok(false),
        _ => Err(ParseError::new(
            "bool.syntax",
            "ช่องนี้ต้องเป็น 1 (ใช่) หรือ 0 (ไม่ใช่)",
            "this field is 1 (yes) or 0 (no)",
        )),
    }
}

/// A point in WGS 84 degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lon: f64) -> Result<GeoPoint, ParseError> {
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(ParseError::new(
                "geo.range",
                "พิกัดอยู่นอกช่วง (ละติจูด −90..90, ลองจิจูด −180..180)",
                "coordinates out of range (latitude −90..90, longitude −180..180)",
            ));
        }
        Ok(GeoPoint { lat, lon })
    }

    pub fn parse(lat: &str, lon: &str) -> Result<GeoPoint, ParseError> {
        let num = |s: &str| {
            ascii_digits(s.trim()).parse::<f64>().map_err(|_| {
                ParseError::new(
                    "geo.syntax",
                    "พิกัดต้องเป็นตัวเลขทศนิยม",
                    "a coordinate is a decimal number",
                )
            })
        };
        GeoPoint::new(num(lat)?, num(lon)?)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Village {
    pub code: AreaCode,
    pub name_th: String,
    pub name_en: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Household {
    pub house_code: Key,
    pub village: AreaCode,
    pub address: String,
    pub location: Option<GeoPoint>,
}

/// A person as last recorded. `household` is where they are registered now; how they got
/// there is in the [`MembershipEvent`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub person_code: Key,
    pub household: Key,
    pub citizen_id: Option<CitizenId>,
    pub first_name: String,
    pub last_name: String,
    pub sex: Sex,
    pub birth_date: Option<BeDate>,
    pub relation: Relation,
    pub education: Option<Education>,
    pub occupation: Option<String>,
    /// Own income per year.
    pub income_year: Option<Satang>,
    pub disability: bool,
    pub chronic_illness: bool,
    pub bedridden: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonFlag {
    pub person_code: Key,
    pub flag: VulnerabilityFlag,
    /// Who says so, e.g. `จปฐ.` or `พมจ.`.
    pub source: String,
    pub as_of: BeDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WelfareCard {
    pub person_code: Key,
    pub status: WelfareCardStatus,
    pub source: String,
    pub as_of: BeDate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipEvent {
    pub person_code: Key,
    pub household: Key,
    pub kind: MembershipKind,
    pub date: BeDate,
    pub note: String,
}

/// A survey round, identified by its Buddhist Era year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssessmentRound {
    pub year: BeYear,
    /// The round's reference date; changes between rounds use it for fractional years.
    pub date: BeDate,
    pub label: String,
}

/// One indicator's recorded value. An indicator absent from [`Assessment::values`] is missing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IndicatorValue {
    Number(f64),
    /// Does not apply to this household (e.g. no school-age child): never deprived.
    NotApplicable,
}

impl IndicatorValue {
    /// Reads a cell: blank is missing (`None`), `NA` not applicable, else a number.
    pub fn parse(raw: &str) -> Result<Option<IndicatorValue>, ParseError> {
        let s = ascii_digits(raw.trim());
        if s.is_empty() {
            return Ok(None);
        }
        if s.eq_ignore_ascii_case("na") || s == "ไม่เกี่ยวข้อง" {
            return Ok(Some(IndicatorValue::NotApplicable));
        }
        let v: f64 = s.replace(',', "").parse().map_err(|_| {
            ParseError::new(
                "indicator.syntax",
                "ค่าตัวชี้วัดต้องเป็นตัวเลข ว่าง (ไม่มีข้อมูล) หรือ NA (ไม่เกี่ยวข้อง)",
                "an indicator value is a number, blank (missing) or NA (not applicable)",
            )
        })?;
        if !v.is_finite() {
            return Err(ParseError::new(
                "indicator.syntax",
                "ค่าตัวชี้วัดต้องเป็นตัวเลขจำกัด",
                "an indicator value must be finite",
            ));
        }
        Ok(Some(IndicatorValue::Number(v)))
    }
}

impl fmt::Display for IndicatorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndicatorValue::Number(v) => write!(f, "{v}"),
            IndicatorValue::NotApplicable => f.write_str("NA"),
        }
    }
}

/// Checks an indicator name: lower-case letters, digits and `_`, starting with a letter.
pub fn parse_indicator_name(raw: &str) -> Result<String, ParseError> {
    let s = raw.trim().to_lowercase();
    let ok = s.len() <= 64
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(s)
    } else {
        Err(ParseError::new(
            "indicator.name",
            "ชื่อตัวชี้วัดต้องเป็นอักษรอังกฤษตัวเล็ก ตัวเลข หรือ _ และขึ้นต้นด้วยตัวอักษร",
            "an indicator name is lower-case letters, digits or _, starting with a letter",
        ))
    }
}

/// A household's indicator values in one round. A later round is a new record; it never
/// replaces an earlier one.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub round: BeYear,
    pub household: Key,
    pub assessed_on: BeDate,
    /// Persons living in the household when assessed: the unit of analysis.
    pub members: u16,
    pub values: BTreeMap<String, IndicatorValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_values_accept_codes_thai_labels_and_aliases() {
        assert_eq!(Sex::parse("ชาย").unwrap(), Sex::Male);
        assert_eq!(Sex::parse("F").unwrap(), Sex::Female);
        assert_eq!(Sex::parse("2").unwrap(), Sex::Female);
        assert_eq!(Relation::parse("หัวหน้า").unwrap(), Relation::Head);
        assert_eq!(
            MembershipKind::parse("move_out").unwrap(),
            MembershipKind::MoveOut
        );
        let err = Sex::parse("x").unwrap_err();
        assert_eq!(err.code, "code.sex");
        assert!(err.en.contains("male, female"));
        for flag in VulnerabilityFlag::ALL {
            assert_eq!(VulnerabilityFlag::parse(flag.code()).unwrap(), *flag);
            assert_eq!(VulnerabilityFlag::parse(flag.label_th()).unwrap(), *flag);
        }
    }

    #[test]
    fn keys_and_text() {
        assert_eq!(Key::parse(" ๘๐๐๑-๐๐๑ ").unwrap().as_str(), "8001-001");
        assert!(Key::parse("").is_err());
        assert!(Key::parse("บ้าน1").is_err());
        assert_eq!(parse_text("  สมชาย ", 10).unwrap(), "สมชาย");
        assert_eq!(parse_text(" ", 10).unwrap_err().code, "text.empty");
        assert!(parse_text("a\u{0}b", 10).is_err());
        assert!(parse_bool("มี").unwrap());
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn indicator_values() {
        assert_eq!(IndicatorValue::parse("").unwrap(), None);
        assert_eq!(
            IndicatorValue::parse("NA").unwrap(),
            Some(IndicatorValue::NotApplicable)
        );
        assert_eq!(
            IndicatorValue::parse("38,000.5").unwrap(),
            Some(IndicatorValue::Number(38000.5))
        );
        assert!(IndicatorValue::parse("yes").is_err());
        assert!(IndicatorValue::parse("inf").is_err());
        assert_eq!(IndicatorValue::Number(1.0).to_string(), "1");
        assert_eq!(parse_indicator_name("BMN22").unwrap(), "bmn22");
        assert!(parse_indicator_name("22").is_err());
    }

    #[test]
    fn geo_points() {
        assert!(GeoPoint::parse("8.43", "99.96").is_ok());
        assert!(GeoPoint::parse("98", "99").is_err());
        assert!(GeoPoint::parse("x", "99").is_err());
    }
}

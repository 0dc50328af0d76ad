//! Thailand's administrative areas: province (จังหวัด), district (อำเภอ), subdistrict (ตำบล) and
//! village (หมู่บ้าน), with the DOPA codes that nest by prefix.
//!
//! The tree of provinces, districts and subdistricts ships with halve (see
//! `data/geography/README.md` for its source and licence); villages are imported by the user and
//! live in the store, so this module checks only that a village's subdistrict exists.

use crate::{ParseError, text::ascii_digits};
use serde::Deserialize;
use std::{collections::HashMap, fmt, sync::LazyLock};

/// The four levels, from the top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AreaLevel {
    Province,
    District,
    Subdistrict,
    Village,
}

impl AreaLevel {
    /// Number of digits in a code of this level.
    pub fn digits(self) -> usize {
        match self {
            AreaLevel::Province => 2,
            AreaLevel::District => 4,
            AreaLevel::Subdistrict => 6,
            AreaLevel::Village => 8,
        }
    }

    pub fn name_th(self) -> &'static str {
        match self {
            AreaLevel::Province => "จังหวัด",
            AreaLevel::District => "อำเภอ",
            AreaLevel::Subdistrict => "ตำบล",
            AreaLevel::Village => "หมู่บ้าน",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            AreaLevel::Province => "province",
            AreaLevel::District => "district",
            AreaLevel::Subdistrict => "subdistrict",
            AreaLevel::Village => "village",
        }
    }

    /// Parses `province`, `district`, `subdistrict`, `village` (or the Thai names).
    pub fn parse(raw: &str) -> Result<AreaLevel, ParseError> {
        match raw.trim().to_lowercase().as_str() {
            "province" | "จังหวัด" => Ok(AreaLevel::Province),
            "district" | "อำเภอ" => Ok(AreaLevel::District),
            "subdistrict" | "ตำบล" => Ok(AreaLevel::Subdistrict),
            "village" | "หมู่บ้าน" => Ok(AreaLevel::Village),
            _ => Err(ParseError::new(
                "area.level",
                "ระดับพื้นที่ต้องเป็น province, district, subdistrict หรือ village",
                "an area level is province, district, subdistrict or village",
            )),
        }
    }
}

/// A syntactically valid area code. Whether the area exists is [`AreaTree::resolve`]'s
/// question; domain records hold only resolved codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaCode {
    // Level first so that codes of one level sort together and by number.
    level: AreaLevel,
    number: u32,
}

impl AreaCode {
    /// Reads the code's shape only: 2, 4, 6 or 8 digits (Thai digits allowed).
    pub fn parse_syntax(raw: &str) -> Result<AreaCode, ParseError> {
        let s = ascii_digits(raw.trim());
        let level = match s.len() {
            2 => AreaLevel::Province,
            4 => AreaLevel::District,
            6 => AreaLevel::Subdistrict,
            8 => AreaLevel::Village,
            _ => return Err(bad_syntax()),
        };
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_syntax());
        }
        let number = s.parse().map_err(|_| bad_syntax())?;
        Ok(AreaCode { level, number })
    }

    pub fn level(self) -> AreaLevel {
        self.level
    }

    /// The enclosing area; `None` for a province.
    pub fn parent(self) -> Option<AreaCode> {
        let level = match self.level {
            AreaLevel::Province => return None,
            AreaLevel::District => AreaLevel::Province,
            AreaLevel::Subdistrict => AreaLevel::District,
            AreaLevel::Village => AreaLevel::Subdistrict,
        };
        Some(AreaCode {
            level,
            number: self.number / 100,
        })
    }

    /// This area or its ancestor at `level`; `None` when `level` is below this area's.
    pub fn at_level(self, level: AreaLevel) -> Option<AreaCode> {
        let mut code = self;
        while code.level > level {
            code = code.parent()?;
        }
        (code.level == level).then_some(code)
    }

    /// Whether `other` is this area or lies inside it.
    pub fn contains(self, other: AreaCode) -> bool {
        other.at_level(self.level) == Some(self)
    }

    /// The number as written, e.g. 800101 for a subdistrict.
    pub fn number(self) -> u32 {
        self.number
    }

    /// A village code: its subdistrict's code and a two-digit village number (หมู่ที่).
    pub fn village(subdistrict: AreaCode, moo: u8) -> Result<AreaCode, ParseError> {
        if subdistrict.level != AreaLevel::Subdistrict || moo == 0 || moo > 99 {
            return Err(bad_syntax());
        }
        Ok(AreaCode {
            level: AreaLevel::Village,
            number: subdistrict.number * 100 + u32::from(moo),
        })
    }
}

fn bad_syntax() -> ParseError {
    ParseError::new(
        "area.syntax",
        "รหัสพื้นที่ต้องเป็นตัวเลข 2, 4, 6 หรือ 8 หลัก",
        "an area code has 2, 4, 6 or 8 digits",
    )
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.number, width = self.level.digits())
    }
}

impl fmt::Debug for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AreaCode({self})")
    }
}

/// One named area of the shipped tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    pub code: AreaCode,
    pub name_th: String,
    pub name_en: String,
    /// Subdistricts only.
    pub postal_code: Option<String>,
}

/// Every province, district and subdistrict of Thailand.
pub struct AreaTree {
    by_code: HashMap<AreaCode, usize>,
    areas: Vec<Area>,
    children: HashMap<AreaCode, Vec<usize>>,
}

static SHIPPED: LazyLock<AreaTree> = LazyLock::new(|| {
    AreaTree::from_json(
        include_str!("../../../data/geography/provinces.json"),
        include_str!("../../../data/geography/districts.json"),
        include_str!("../../../data/geography/subdistricts.json"),
    )
    .expect("the shipped geography is valid: checked by the crate's tests")
});

#[derive(Deserialize)]
struct Row(String, String, String, #[serde(default)] Option<String>);

impl AreaTree {
    /// The tree shipped with halve, parsed on first use.
    pub fn shipped() -> &'static AreaTree {
        &SHIPPED
    }

    /// Builds a tree from the geothai layout (`[code, thai, english(, postal)]` arrays).
    pub fn from_json(
        provinces: &str,
        districts: &str,
        subdistricts: &str,
    ) -> Result<AreaTree, String> {
        let mut tree = AreaTree {
            by_code: HashMap::new(),
            areas: Vec::new(),
            children: HashMap::new(),
        };
        for (text, level) in [
            (provinces, AreaLevel::Province),
            (districts, AreaLevel::District),
            (subdistricts, AreaLevel::Subdistrict),
        ] {
            let rows: Vec<Row> = serde_json::from_str(text).map_err(|e| e.to_string())?;
            for Row(code, name_th, name_en, postal) in rows {
                let code = AreaCode::parse_syntax(&code).map_err(|e| format!("{code}: {e}"))?;
                if code.level != level {
                    return Err(format!("{code}: expected a {} code", level.name_en()));
                }
                if let Some(parent) = code.parent()
                    && !tree.by_code.contains_key(&parent)
                {
                    return Err(format!("{code}: parent {parent} is missing"));
                }
                let index = tree.areas.len();
                if tree.by_code.insert(code, index).is_some() {
                    return Err(format!("{code}: listed twice"));
                }
                if let Some(parent) = code.parent() {
                    tree.children.entry(parent).or_default().push(index);
                }
                tree.areas.push(Area {
                    code,
                    name_th,
                    name_en,
                    postal_code: postal.filter(|p| !p.is_empty()),
                });
            }
        }
        for kids in tree.children.values_mut() {
            kids.sort_by_key(|&i| tree.areas[i].code);
        }
        Ok(tree)
    }

    pub fn get(&self, code: AreaCode) -> Option<&Area> {
        self.by_code.get(&code).map(|&i| &self.areas[i])
    }

    /// Parses a code and checks that the area exists. For a village, the check is that its
    /// subdistrict exists: villages themselves are the registry's to know.
    pub fn resolve(&self, raw: &str) -> Result<AreaCode, ParseError> {
        let code = AreaCode::parse_syntax(raw)?;
        let known = match code.level {
            AreaLevel::Village => code.parent().is_some_and(|p| self.by_code.contains_key(&p)),
            _ => self.by_code.contains_key(&code),
        };
        if known {
            Ok(code)
        } else {
            Err(ParseError::new(
                "area.unknown",
                format!("ไม่พบรหัส{}นี้ในทะเบียนพื้นที่", code.level.name_th()),
                format!("no {} has this code", code.level.name_en()),
            ))
        }
    }

    /// Areas directly inside `code`, by code. Empty for subdistricts (villages are in the store).
    pub fn children(&self, code: AreaCode) -> impl Iterator<Item = &Area> {
        self.children
            .get(&code)
            .into_iter()
            .flatten()
            .map(|&i| &self.areas[i])
    }

    pub fn provinces(&self) -> impl Iterator<Item = &Area> {
        self.areas
            .iter()
            .filter(|a| a.code.level == AreaLevel::Province)
    }

    /// All areas of one level, in file order (by code).
    pub fn at_level(&self, level: AreaLevel) -> impl Iterator<Item = &Area> {
        self.areas.iter().filter(move |a| a.code.level == level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_tree_is_complete() {
        let tree = AreaTree::shipped();
        assert_eq!(tree.at_level(AreaLevel::Province).count(), 77);
        assert_eq!(tree.at_level(AreaLevel::District).count(), 928);
        assert_eq!(tree.at_level(AreaLevel::Subdistrict).count(), 7436);
        let nst = tree.resolve("80").unwrap();
        assert_eq!(tree.get(nst).unwrap().name_th, "นครศรีธรรมราช");
        assert_eq!(tree.children(nst).count(), 23);
        let subdistricts: usize = tree
            .children(nst)
            .map(|d| tree.children(d.code).count())
            .sum();
        assert_eq!(subdistricts, 170);
    }

    #[test]
    fn codes_nest_by_prefix() {
        let tree = AreaTree::shipped();
        let village = tree.resolve("80010105").unwrap();
        assert_eq!(village.level(), AreaLevel::Village);
        assert_eq!(village.parent().unwrap().to_string(), "800101");
        assert_eq!(
            village.at_level(AreaLevel::District).unwrap().to_string(),
            "8001"
        );
        assert!(tree.resolve("80").unwrap().contains(village));
        assert!(!tree.resolve("81").unwrap().contains(village));
        assert_eq!(village.at_level(AreaLevel::Village), Some(village));
        assert_eq!(
            AreaCode::village(village.parent().unwrap(), 5).unwrap(),
            village
        );
    }

    #[test]
    fn unknown_and_malformed_codes_are_refused() {
        let tree = AreaTree::shipped();
        assert_eq!(tree.resolve("99").unwrap_err().code, "area.unknown");
        assert_eq!(tree.resolve("8099").unwrap_err().code, "area.unknown");
        assert_eq!(tree.resolve("80999901").unwrap_err().code, "area.unknown");
        assert_eq!(tree.resolve("801").unwrap_err().code, "area.syntax");
        assert_eq!(tree.resolve("80a1").unwrap_err().code, "area.syntax");
    }

    #[test]
    fn a_broken_tree_is_refused() {
        assert!(AreaTree::from_json("[]", r#"[["8001","a","b"]]"#, "[]").is_err());
        assert!(AreaTree::from_json(r#"[["80","a","b"],["80","a","b"]]"#, "[]", "[]").is_err());
    }
}

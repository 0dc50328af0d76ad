//! Eco-zones (โซนภูมินิเวศ): the council's own grouping of areas, versioned by date.
//!
//! A zone is a set of districts, with subdistrict overrides for districts that straddle two
//! zones. The council may redraw zones; each redrawing is a new [`EcoZoneSet`] with a later
//! `valid_from`, and figures for a date use the set in force on that date.

use crate::{AreaCode, AreaLevel, AreaTree, BeDate, ParseError};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcoZone {
    /// Short stable key, e.g. `coast`.
    pub code: String,
    pub name_th: String,
    pub name_en: String,
    pub districts: Vec<AreaCode>,
    /// Subdistricts placed in this zone although their district is in another.
    pub subdistricts: Vec<AreaCode>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcoZoneSet {
    pub province: AreaCode,
    pub valid_from: BeDate,
    pub provisional: bool,
    pub source: String,
    pub zones: Vec<EcoZone>,
    /// Area (district or subdistrict) to index in `zones`.
    assignment: HashMap<AreaCode, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    province: String,
    valid_from: String,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    source: String,
    zone: Vec<RawZone>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    code: String,
    name_th: String,
    name_en: String,
    #[serde(default)]
    districts: Vec<String>,
    #[serde(default)]
    subdistricts: Vec<String>,
}

fn invalid(en: String, th: String) -> ParseError {
    ParseError::new("ecozone.invalid", th, en)
}

impl EcoZoneSet {
    /// The provisional six-zone draft for Nakhon Si Thammarat that ships with halve.
    pub fn shipped_nakhon_si_thammarat() -> EcoZoneSet {
        EcoZoneSet::from_toml(
            include_str!("../../../data/ecozones/nakhon-si-thammarat.toml"),
            AreaTree::shipped(),
        )
        .expect("the shipped eco-zones are valid: checked by the crate's tests")
    }

    /// Parses and checks a zone file: every area exists and lies in the province, no district
    /// or subdistrict is in two zones, and every district of the province has a zone.
    pub fn from_toml(text: &str, tree: &AreaTree) -> Result<EcoZoneSet, ParseError> {
        let raw: RawSet = toml::from_str(text).map_err(|e| {
            invalid(
                format!("eco-zone file: {}", e.message()),
                format!("ไฟล์โซนภูมินิเวศไม่ถูกต้อง: {}", e.message()),
            )
        })?;
        let province = tree.resolve(&raw.province)?;
        if province.level() != AreaLevel::Province {
            return Err(invalid(
                "`province` must be a 2-digit province code".into(),
                "`province` ต้องเป็นรหัสจังหวัด 2 หลัก".into(),
            ));
        }
        let valid_from = BeDate::parse(&raw.valid_from)?;
        let mut zones = Vec::new();
        let mut assignment = HashMap::new();
        for (index, z) in raw.zone.into_iter().enumerate() {
            if zones.iter().any(|other: &EcoZone| other.code == z.code) {
                return Err(invalid(
                    format!("zone `{}` is listed twice", z.code),
                    format!("โซน `{}` ซ้ำ", z.code),
                ));
            }
            let mut parse_list = |list: Vec<String>, level: AreaLevel| {
                let mut out = Vec::new();
                for raw_code in list {
                    let code = tree.resolve(&raw_code)?;
                    if code.level() != level || !province.contains(code) {
                        return Err(invalid(
                            format!(
                                "zone `{}`: {code} is not a {} of province {province}",
                                z.code,
                                level.name_en()
                            ),
                            format!(
                                "โซน `{}`: {code} ไม่ใช่{}ในจังหวัด {province}",
                                z.code,
                                level.name_th()
                            ),
                        ));
                    }
                    if assignment.insert(code, index).is_some() {
                        return Err(invalid(
                            format!("{code} is in two zones"),
                            format!("{code} อยู่ในสองโซน"),
                        ));
                    }
                    out.push(code);
                }
                Ok(out)
            };
            let districts = parse_list(z.districts, AreaLevel::District)?;
            let subdistricts = parse_list(z.subdistricts, AreaLevel::Subdistrict)?;
            zones.push(EcoZone {
                code: z.code,
                name_th: z.name_th,
                name_en: z.name_en,
                districts,
                subdistricts,
            });
        }
        if let Some(missing) = tree
            .children(province)
            .find(|d| !assignment.contains_key(&d.code))
        {
            return Err(invalid(
                format!("district {} has no zone", missing.code),
                format!("อำเภอ {} ยังไม่อยู่ในโซนใด", missing.code),
            ));
        }
        Ok(EcoZoneSet {
            province,
            valid_from,
            provisional: raw.provisional,
            source: raw.source,
            zones,
            assignment,
        })
    }

    /// The zone of a subdistrict or village (its subdistrict override, else its district's
    /// zone), or of a district. `None` outside the province or for the province itself.
    pub fn zone_of(&self, area: AreaCode) -> Option<&EcoZone> {
        let by = |level| {
            area.at_level(level)
                .and_then(|code| self.assignment.get(&code))
        };
        by(AreaLevel::Subdistrict)
            .or_else(|| by(AreaLevel::District))
            .map(|&i| &self.zones[i])
    }

    /// Among several versions, the one in force on `date`: the latest `valid_from` not after it.
    pub fn in_force(sets: &[EcoZoneSet], date: BeDate) -> Option<&EcoZoneSet> {
        sets.iter()
            .filter(|s| s.valid_from <= date)
            .max_by_key(|s| s.valid_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_draft_covers_every_district_once() {
        let set = EcoZoneSet::shipped_nakhon_si_thammarat();
        assert_eq!(set.zones.len(), 6);
        assert!(set.provisional);
        let tree = AreaTree::shipped();
        let coast = set.zone_of(tree.resolve("801201").unwrap()).unwrap();
        assert_eq!(coast.code, "coast");
        assert_eq!(
            set.zone_of(tree.resolve("8001").unwrap()).unwrap().code,
            "city"
        );
        assert!(set.zone_of(tree.resolve("8101").unwrap()).is_none());
        let total: usize = set.zones.iter().map(|z| z.districts.len()).sum();
        assert_eq!(total, 23);
    }

    const BASE: &str = r#"
province = "80"
valid_from = "2568-01-01"
[[zone]]
code = "a"
name_th = "ก"
name_en = "A"
districts = ["8001","8002","8003","8004","8005","8006","8007","8008","8009","8010","8011","8012"]
[[zone]]
code = "b"
name_th = "ข"
name_en = "B"
districts = ["8013","8014","8015","8016","8017","8018","8019","8020","8021","8022","8023"]
subdistricts = ["800101"]
"#;

    #[test]
    fn subdistrict_overrides_win_and_versions_pick_by_date() {
        let tree = AreaTree::shipped();
        let redrawn = EcoZoneSet::from_toml(BASE, tree).unwrap();
        assert_eq!(
            redrawn
                .zone_of(tree.resolve("80010101").unwrap())
                .unwrap()
                .code,
            "b"
        );
        assert_eq!(
            redrawn
                .zone_of(tree.resolve("800102").unwrap())
                .unwrap()
                .code,
            "a"
        );
        let sets = [EcoZoneSet::shipped_nakhon_si_thammarat(), redrawn];
        let early = BeDate::parse("2567-06-01").unwrap();
        let late = BeDate::parse("2568-06-01").unwrap();
        assert_eq!(EcoZoneSet::in_force(&sets, early).unwrap().zones.len(), 6);
        assert_eq!(EcoZoneSet::in_force(&sets, late).unwrap().zones.len(), 2);
        assert!(EcoZoneSet::in_force(&sets, BeDate::parse("2500-01-01").unwrap()).is_none());
    }

    #[test]
    fn bad_zone_files_are_refused() {
        let tree = AreaTree::shipped();
        let twice = BASE.replace("\"8013\",", "\"8013\",\"8001\",");
        assert!(
            EcoZoneSet::from_toml(&twice, tree)
                .unwrap_err()
                .en
                .contains("two zones")
        );
        let missing = BASE.replace("\"8023\"", "");
        assert!(
            EcoZoneSet::from_toml(&missing, tree)
                .unwrap_err()
                .en
                .contains("no zone")
        );
        let foreign = BASE.replace("\"8023\"", "\"8023\",\"8101\"");
        assert!(EcoZoneSet::from_toml(&foreign, tree).is_err());
        let ce = BASE.replace("2568-01-01", "2025-01-01");
        assert_eq!(
            EcoZoneSet::from_toml(&ce, tree).unwrap_err().code,
            "date.looks_like_ce"
        );
    }
}

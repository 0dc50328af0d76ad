//! Reading stored rows back into domain values, written once for both backends.
//!
//! [`RowGet`] is the handful of typed getters the mapping functions need; each backend's row
//! type implements it, so `person_from_row` and its siblings exist once. A stored value that
//! no longer parses is reported as [`StoreError::Corrupt`] naming the table and column only.

use crate::StoreError;
use halve_domain::{
    AreaCode, Assessment, AssessmentRound, BeDate, BeYear, CitizenId, Education, GeoPoint,
    Household, IndicatorValue, Key, MembershipEvent, MembershipKind, Person, PersonFlag, Relation,
    Satang, Sex, Village, VulnerabilityFlag, WelfareCard, WelfareCardStatus,
};
use std::collections::BTreeMap;

pub(crate) trait RowGet {
    fn text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    fn real(&self, i: usize) -> Result<Option<f64>, StoreError>;
    fn boolean(&self, i: usize) -> Result<bool, StoreError>;
}

macro_rules! impl_row_get {
    ($row:ty) => {
        impl RowGet for $row {
            fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
                Ok(sqlx::Row::try_get(self, i)?)
            }
            fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::Row::try_get(self, i)?)
            }
            fn real(&self, i: usize) -> Result<Option<f64>, StoreError> {
                Ok(sqlx::Row::try_get(self, i)?)
            }
            fn boolean(&self, i: usize) -> Result<bool, StoreError> {
                Ok(sqlx::Row::try_get(self, i)?)
            }
        }
    };
}
#[cfg(feature = "sqlite")]
impl_row_get!(sqlx::sqlite::SqliteRow);
#[cfg(feature = "postgres")]
impl_row_get!(sqlx::postgres::PgRow);

/// Decodes column `i` of `table` with `parse`, mapping absence or failure to `Corrupt`.
struct Cols<'r, R: RowGet + ?Sized> {
    row: &'r R,
    table: &'static str,
}

impl<R: RowGet + ?Sized> Cols<'_, R> {
    fn corrupt(&self, column: &'static str) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            column,
        }
    }
    fn req(&self, i: usize, column: &'static str) -> Result<String, StoreError> {
        self.row.text(i)?.ok_or_else(|| self.corrupt(column))
    }
    fn parse<T, E>(
        &self,
        i: usize,
        column: &'static str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        f(&self.req(i, column)?).map_err(|_| self.corrupt(column))
    }
    fn opt<T, E>(
        &self,
        i: usize,
        column: &'static str,
        f: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        match self.row.text(i)? {
            None => Ok(None),
            Some(s) => f(&s).map(Some).map_err(|_| self.corrupt(column)),
        }
    }
    fn key(&self, i: usize, column: &'static str) -> Result<Key, StoreError> {
        self.parse(i, column, Key::parse)
    }
    fn date(&self, i: usize, column: &'static str) -> Result<BeDate, StoreError> {
        self.parse(i, column, BeDate::from_iso_ce)
    }
    fn area(&self, i: usize, column: &'static str) -> Result<AreaCode, StoreError> {
        self.parse(i, column, AreaCode::parse_syntax)
    }
}

pub(crate) const VILLAGE_COLUMNS: &str = "code, name_th, name_en";
pub(crate) fn village_from_row(row: &(impl RowGet + ?Sized)) -> Result<Village, StoreError> {
    let c = Cols {
        row,
        table: "village",
    };
    Ok(Village {
        code: c.area(0, "code")?,
        name_th: c.req(1, "name_th")?,
        name_en: row.text(2)?,
    })
}

pub(crate) const HOUSEHOLD_COLUMNS: &str = "house_code, village, address, lat, lon";
pub(crate) fn household_from_row(row: &(impl RowGet + ?Sized)) -> Result<Household, StoreError> {
    let c = Cols {
        row,
        table: "household",
    };
    let location = match (row.real(3)?, row.real(4)?) {
        (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).map_err(|_| c.corrupt("lat"))?),
        _ => None,
    };
    Ok(Household {
        house_code: c.key(0, "house_code")?,
        village: c.area(1, "village")?,
        address: c.req(2, "address")?,
        location,
    })
}

pub(crate) const PERSON_COLUMNS: &str = "person_code, house_code, citizen_id, first_name, \
    last_name, sex, birth_date, relation, education, occupation, income_satang, disability, \
    chronic_illness, bedridden";
pub(crate) fn person_from_row(row: &(impl RowGet + ?Sized)) -> Result<Person, StoreError> {
    let c = Cols {
        row,
        table: "person",
    };
    Ok(Person {
        person_code: c.key(0, "person_code")?,
        household: c.key(1, "house_code")?,
        citizen_id: c.opt(2, "citizen_id", CitizenId::parse)?,
        first_name: c.req(3, "first_name")?,
        last_name: c.req(4, "last_name")?,
        sex: c.parse(5, "sex", Sex::parse)?,
        birth_date: c.opt(6, "birth_date", BeDate::from_iso_ce)?,
        relation: c.parse(7, "relation", Relation::parse)?,
        education: c.opt(8, "education", Education::parse)?,
        occupation: row.text(9)?,
        income_year: row.int(10)?.map(Satang),
        disability: row.boolean(11)?,
        chronic_illness: row.boolean(12)?,
        bedridden: row.boolean(13)?,
    })
}

pub(crate) const FLAG_COLUMNS: &str = "person_code, flag, as_of, source";
pub(crate) fn flag_from_row(row: &(impl RowGet + ?Sized)) -> Result<PersonFlag, StoreError> {
    let c = Cols {
        row,
        table: "person_flag",
    };
    Ok(PersonFlag {
        person_code: c.key(0, "person_code")?,
        flag: c.parse(1, "flag", VulnerabilityFlag::parse)?,
        as_of: c.date(2, "as_of")?,
        source: c.req(3, "source")?,
    })
}

pub(crate) const WELFARE_COLUMNS: &str = "person_code, as_of, status, source";
pub(crate) fn welfare_from_row(row: &(impl RowGet + ?Sized)) -> Result<WelfareCard, StoreError> {
    let c = Cols {
        row,
        table: "welfare_card",
    };
    Ok(WelfareCard {
        person_code: c.key(0, "person_code")?,
        as_of: c.date(1, "as_of")?,
        status: c.parse(2, "status", WelfareCardStatus::parse)?,
        source: c.req(3, "source")?,
    })
}

pub(crate) const EVENT_COLUMNS: &str = "person_code, kind, event_date, house_code, note";
pub(crate) fn event_from_row(row: &(impl RowGet + ?Sized)) -> Result<MembershipEvent, StoreError> {
    let c = Cols {
        row,
        table: "membership_event",
    };
    Ok(MembershipEvent {
        person_code: c.key(0, "person_code")?,
        kind: c.parse(1, "kind", MembershipKind::parse)?,
        date: c.date(2, "event_date")?,
        household: c.key(3, "house_code")?,
        note: c.req(4, "note")?,
    })
}

pub(crate) const ROUND_COLUMNS: &str = "year, round_date, label";
pub(crate) fn round_from_row(row: &(impl RowGet + ?Sized)) -> Result<AssessmentRound, StoreError> {
    let c = Cols {
        row,
        table: "assessment_round",
    };
    let year = row.int(0)?.ok_or_else(|| c.corrupt("year"))?;
    Ok(AssessmentRound {
        year: year_from(year).ok_or_else(|| c.corrupt("year"))?,
        date: c.date(1, "round_date")?,
        label: c.req(2, "label")?,
    })
}

pub(crate) const ASSESSMENT_COLUMNS: &str = "round_year, house_code, assessed_on, members, vals";
pub(crate) fn assessment_from_row(row: &(impl RowGet + ?Sized)) -> Result<Assessment, StoreError> {
    let c = Cols {
        row,
        table: "assessment",
    };
    let round = row
        .int(0)?
        .and_then(year_from)
        .ok_or_else(|| c.corrupt("round_year"))?;
    let members = row
        .int(3)?
        .and_then(|m| u16::try_from(m).ok())
        .ok_or_else(|| c.corrupt("members"))?;
    Ok(Assessment {
        round,
        household: c.key(1, "house_code")?,
        assessed_on: c.date(2, "assessed_on")?,
        members,
        values: c.parse(4, "vals", values_from_json)?,
    })
}

fn year_from(v: i64) -> Option<BeYear> {
    BeYear::new(i32::try_from(v).ok()?).ok()
}

/// Indicator values as stored: a JSON object of numbers, with the string "NA" for not
/// applicable. Keys come out sorted, so equal values always serialise to equal text and
/// re-imports compare equal.
pub(crate) fn values_to_json(values: &BTreeMap<String, IndicatorValue>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| {
            let json = match v {
                IndicatorValue::Number(n) => serde_json::Number::from_f64(*n)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                IndicatorValue::NotApplicable => serde_json::Value::String("NA".into()),
            };
            (k.clone(), json)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn values_from_json(text: &str) -> Result<BTreeMap<String, IndicatorValue>, ()> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| ())?;
    map.into_iter()
        .map(|(k, v)| {
            let value = match v {
                serde_json::Value::Number(n) => IndicatorValue::Number(n.as_f64().ok_or(())?),
                serde_json::Value::String(s) if s == "NA" => IndicatorValue::NotApplicable,
                _ => return Err(()),
            };
            Ok((k, value))
        })
        .collect()
}

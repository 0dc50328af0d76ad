//! Record changes: a household or person record merged into another (a duplicate found) or
//! withdrawn as registered in error.
//!
//! The target engine follows every baseline household and person to the end, and a count that
//! falls because duplicates were merged is not a family lifted out of poverty. So the reason a
//! record stops being counted is stored as a fact with a date, apart from deaths and moves
//! (which are membership events). One change per record; the record itself is kept.
//!
//! The types live here, beside their table, because only the store and the application layer
//! use them; they parse like domain values (bilingual errors that never repeat the value).

use crate::registry::TxInner;
use crate::{Inner, Store, StoreError, dispatch};
use futures_util::TryStreamExt;
use halve_domain::{BeDate, Key, ParseError};
use std::fmt;

/// The kind of record a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordEntity {
    Household,
    Person,
}

impl RecordEntity {
    pub const ALL: [RecordEntity; 2] = [RecordEntity::Household, RecordEntity::Person];

    pub fn code(self) -> &'static str {
        match self {
            RecordEntity::Household => "household",
            RecordEntity::Person => "person",
        }
    }

    pub fn label_th(self) -> &'static str {
        match self {
            RecordEntity::Household => "ครัวเรือน",
            RecordEntity::Person => "บุคคล",
        }
    }

    /// Accepts the code or the Thai label.
    pub fn parse(raw: &str) -> Result<RecordEntity, ParseError> {
        let s = raw.trim().to_lowercase();
        RecordEntity::ALL
            .into_iter()
            .find(|e| s == e.code() || s == e.label_th())
            .ok_or_else(|| {
                ParseError::new(
                    "code.record_entity",
                    "ชนิดระเบียนต้องเป็น household (ครัวเรือน) หรือ person (บุคคล)",
                    "the record is a household or a person",
                )
            })
    }
}

impl fmt::Display for RecordEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a record stopped being counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordChangeKind {
    /// A duplicate, merged into the record `into`.
    Merged,
    /// Withdrawn as registered in error.
    Corrected,
}

impl RecordChangeKind {
    pub const ALL: [RecordChangeKind; 2] = [RecordChangeKind::Merged, RecordChangeKind::Corrected];

    pub fn code(self) -> &'static str {
        match self {
            RecordChangeKind::Merged => "merged",
            RecordChangeKind::Corrected => "corrected",
        }
    }

    pub fn label_th(self) -> &'static str {
        match self {
            RecordChangeKind::Merged => "รวมระเบียน",
            RecordChangeKind::Corrected => "แก้ไขระเบียน",
        }
    }

    /// Accepts the code or the Thai label.
    pub fn parse(raw: &str) -> Result<RecordChangeKind, ParseError> {
        let s = raw.trim().to_lowercase();
        RecordChangeKind::ALL
            .into_iter()
            .find(|k| s == k.code() || s == k.label_th())
            .ok_or_else(|| {
                ParseError::new(
                    "code.record_change",
                    "การเปลี่ยนแปลงระเบียนต้องเป็น merged (รวมระเบียน) หรือ corrected (แก้ไขระเบียน)",
                    "a record change is merged or corrected",
                )
            })
    }
}

impl fmt::Display for RecordChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A household or person record that left the registry for a reason of record-keeping, from
/// `date` on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordChange {
    pub entity: RecordEntity,
    /// The house code or person code.
    pub code: Key,
    pub change: RecordChangeKind,
    pub date: BeDate,
    /// The record it was merged into (for a merge).
    pub into: Option<Key>,
    pub note: String,
}

const COLUMNS: &str = "entity, code, change, change_date, into_code, note";

type Row = (String, String, String, String, Option<String>, String);

fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt {
        table: "record_change",
        column,
    }
}

fn from_row((entity, code, change, date, into, note): Row) -> Result<RecordChange, StoreError> {
    Ok(RecordChange {
        entity: RecordEntity::parse(&entity).map_err(|_| corrupt("entity"))?,
        code: Key::parse(&code).map_err(|_| corrupt("code"))?,
        change: RecordChangeKind::parse(&change).map_err(|_| corrupt("change"))?,
        date: BeDate::from_iso_ce(&date).map_err(|_| corrupt("change_date"))?,
        into: into
            .map(|k| Key::parse(&k).map_err(|_| corrupt("into_code")))
            .transpose()?,
        note,
    })
}

impl Store {
    /// Every record change, by entity then code (bytewise, on both backends).
    pub async fn for_each_record_change(
        &self,
        sink: &mut (dyn FnMut(RecordChange) -> std::io::Result<()> + Send),
    ) -> Result<(), StoreError> {
        let sql = self.dialect(&format!(
            "SELECT {COLUMNS} FROM record_change ORDER BY entity{{{{C}}}}, code{{{{C}}}}"
        ));
        dispatch!(&self.inner, Inner, pool => {
            let mut rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                sink(from_row(row)?)?;
            }
        });
        Ok(())
    }

    /// Every person's code, current household and birth date, by person code: what the
    /// target engine needs of a person, without the names and papers it has no use for.
    pub async fn for_each_person_home(
        &self,
        sink: &mut dyn FnMut(Key, Key, Option<BeDate>) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let sql = self.dialect(
            "SELECT person_code, house_code, birth_date FROM person ORDER BY person_code{{C}}",
        );
        let corrupt = |column| StoreError::Corrupt {
            table: "person",
            column,
        };
        dispatch!(&self.inner, Inner, pool => {
            let mut rows = sqlx::query_as::<_, (String, String, Option<String>)>(
                sqlx::AssertSqlSafe(sql),
            )
            .fetch(pool);
            while let Some((person, house, birth)) = rows.try_next().await? {
                let person = Key::parse(&person).map_err(|_| corrupt("person_code"))?;
                let house = Key::parse(&house).map_err(|_| corrupt("house_code"))?;
                let birth = birth
                    .map(|b| BeDate::from_iso_ce(&b).map_err(|_| corrupt("birth_date")))
                    .transpose()?;
                sink(person, house, birth)?;
            }
        });
        Ok(())
    }

    /// Every record change, in the order of [`Store::for_each_record_change`].
    pub async fn record_changes(&self) -> Result<Vec<RecordChange>, StoreError> {
        let mut out = Vec::new();
        self.for_each_record_change(&mut |c| {
            out.push(c);
            Ok(())
        })
        .await?;
        Ok(out)
    }
}

impl crate::Tx {
    /// Inserts or updates record changes (one per entity and code); a row already stored
    /// with the same values is not rewritten. Returns how many rows were inserted or changed.
    pub async fn upsert_record_changes(
        &mut self,
        rows: &[RecordChange],
    ) -> Result<u64, StoreError> {
        let sql = format!(
            "INSERT INTO record_change ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (entity, code) DO UPDATE SET change = excluded.change, \
             change_date = excluded.change_date, into_code = excluded.into_code, \
             note = excluded.note \
             WHERE record_change.change IS DISTINCT FROM excluded.change \
             OR record_change.change_date IS DISTINCT FROM excluded.change_date \
             OR record_change.into_code IS DISTINCT FROM excluded.into_code \
             OR record_change.note IS DISTINCT FROM excluded.note"
        );
        let mut written = 0;
        for r in rows {
            written += dispatch!(&mut self.inner, TxInner, tx => {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(r.entity.code())
                    .bind(r.code.as_str())
                    .bind(r.change.code())
                    .bind(r.date.to_iso_ce())
                    .bind(r.into.as_ref().map(|k| k.as_str().to_owned()))
                    .bind(r.note.as_str())
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            });
        }
        if written > 0 {
            self.note_change("record_change");
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_thai_labels_parse() {
        for e in RecordEntity::ALL {
            assert_eq!(RecordEntity::parse(e.code()).unwrap(), e);
            assert_eq!(RecordEntity::parse(e.label_th()).unwrap(), e);
        }
        for k in RecordChangeKind::ALL {
            assert_eq!(
                RecordChangeKind::parse(&k.code().to_uppercase()).unwrap(),
                k
            );
            assert_eq!(RecordChangeKind::parse(k.label_th()).unwrap(), k);
        }
        let err = RecordChangeKind::parse("deleted").unwrap_err();
        assert!(!err.en.contains("deleted"), "errors never repeat the value");
        assert!(RecordEntity::parse("village").is_err());
    }
}

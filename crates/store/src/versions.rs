//! Stored versions of measurement specs and targets: each edit in the app is a new version.
//!
//! Every figure halve shows names the id and version of the definition that produced it, so a
//! stored version is never updated or deleted; this module has no function that could. The
//! versions shipped in the binary are not stored here: the caller says which number the
//! shipped definition has, and a stored version always comes after both it and every stored
//! one. Two saves racing for the same number cannot both land: the key (kind, id, version)
//! refuses the second, which learns that its number was taken and writes nothing. What a
//! valid definition is and who may save one are the application's rules, not this module's.

use crate::registry::TxInner;
use crate::{Inner, Store, StoreError, Tx, dispatch};

/// What a stored definition defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DefinitionKind {
    /// A measurement spec (`specs/*.toml`).
    Spec,
    /// A target definition (`targets/*.toml`).
    Target,
}

impl DefinitionKind {
    pub const ALL: [DefinitionKind; 2] = [DefinitionKind::Spec, DefinitionKind::Target];

    /// The code stored in the table and used in paths: `spec` or `target`.
    pub fn code(self) -> &'static str {
        match self {
            DefinitionKind::Spec => "spec",
            DefinitionKind::Target => "target",
        }
    }

    pub fn parse(code: &str) -> Option<DefinitionKind> {
        DefinitionKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A version to store.
#[derive(Clone, Debug)]
pub struct NewDefinitionVersion<'a> {
    pub kind: DefinitionKind,
    pub id: &'a str,
    pub version: u32,
    /// The whole definition as TOML.
    pub text: &'a str,
    /// The audit log's actor.
    pub saved_by: &'a str,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub saved_at: &'a str,
    pub note: &'a str,
}

/// A stored version, text included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionVersion {
    pub kind: DefinitionKind,
    pub id: String,
    pub version: u32,
    pub text: String,
    pub saved_by: String,
    pub saved_at: String,
    pub note: String,
}

/// A stored version without its text, for listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefinitionVersionInfo {
    pub kind: DefinitionKind,
    pub id: String,
    pub version: u32,
    pub saved_by: String,
    pub saved_at: String,
    pub note: String,
}

/// What saving a version found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionSave {
    /// Stored.
    Saved,
    /// That number (or a later one) is already stored for this definition, most likely by a
    /// save that committed meanwhile. Nothing was written.
    Taken,
}

type InfoRow = (String, String, i64, String, String, String);
type FullRow = (String, String, i64, String, String, String, String);

fn kind_of(code: &str) -> Result<DefinitionKind, StoreError> {
    DefinitionKind::parse(code).ok_or(StoreError::Corrupt {
        table: "definition_version",
        column: "kind",
    })
}

fn version_of(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt {
        table: "definition_version",
        column: "version",
    })
}

fn info_from(row: InfoRow) -> Result<DefinitionVersionInfo, StoreError> {
    let (kind, id, version, saved_by, saved_at, note) = row;
    Ok(DefinitionVersionInfo {
        kind: kind_of(&kind)?,
        id,
        version: version_of(version)?,
        saved_by,
        saved_at,
        note,
    })
}

fn full_from(row: FullRow) -> Result<DefinitionVersion, StoreError> {
    let (kind, id, version, text, saved_by, saved_at, note) = row;
    Ok(DefinitionVersion {
        kind: kind_of(&kind)?,
        id,
        version: version_of(version)?,
        text,
        saved_by,
        saved_at,
        note,
    })
}

const FULL_COLUMNS: &str = "kind, definition_id, version, toml_text, saved_by, saved_at, note";

impl Store {
    /// Every stored version of every definition, without texts: by kind, id (bytewise), then
    /// version.
    pub async fn definition_versions(&self) -> Result<Vec<DefinitionVersionInfo>, StoreError> {
        let sql = self.dialect(
            "SELECT kind, definition_id, version, saved_by, saved_at, note \
             FROM definition_version ORDER BY kind{{C}}, definition_id{{C}}, version",
        );
        let rows: Vec<InfoRow> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        });
        rows.into_iter().map(info_from).collect()
    }

    /// One stored version, if there is one of that number.
    pub async fn definition_version(
        &self,
        kind: DefinitionKind,
        id: &str,
        version: u32,
    ) -> Result<Option<DefinitionVersion>, StoreError> {
        let sql = format!(
            "SELECT {FULL_COLUMNS} FROM definition_version \
             WHERE kind = $1 AND definition_id = $2 AND version = $3"
        );
        let row: Option<FullRow> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(kind.code())
                .bind(id)
                .bind(i64::from(version))
                .fetch_optional(pool)
                .await?
        });
        row.map(full_from).transpose()
    }

    /// The stored version of a definition with the highest number, if any is stored.
    pub async fn latest_definition_version(
        &self,
        kind: DefinitionKind,
        id: &str,
    ) -> Result<Option<DefinitionVersion>, StoreError> {
        let sql = format!(
            "SELECT {FULL_COLUMNS} FROM definition_version \
             WHERE kind = $1 AND definition_id = $2 ORDER BY version DESC LIMIT 1"
        );
        let row: Option<FullRow> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(kind.code())
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(full_from).transpose()
    }
}

impl Tx {
    /// The highest stored version number of a definition, read in this transaction.
    pub async fn latest_definition_number(
        &mut self,
        kind: DefinitionKind,
        id: &str,
    ) -> Result<Option<u32>, StoreError> {
        let (max,): (Option<i64>,) = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query_as(
                "SELECT MAX(version) FROM definition_version WHERE kind = $1 AND definition_id = $2",
            )
            .bind(kind.code())
            .bind(id)
            .fetch_one(&mut **tx)
            .await?
        });
        max.map(version_of).transpose()
    }

    /// The text of one stored version, read in this transaction.
    pub async fn definition_text(
        &mut self,
        kind: DefinitionKind,
        id: &str,
        version: u32,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query_as(
                "SELECT toml_text FROM definition_version \
                 WHERE kind = $1 AND definition_id = $2 AND version = $3",
            )
            .bind(kind.code())
            .bind(id)
            .bind(i64::from(version))
            .fetch_optional(&mut **tx)
            .await?
        });
        Ok(row.map(|(text,)| text))
    }

    /// The number the next version of a definition gets: one after both `shipped` (the
    /// version in the binary, 0 when the definition is not shipped) and every stored version.
    pub async fn next_definition_number(
        &mut self,
        kind: DefinitionKind,
        id: &str,
        shipped: u32,
    ) -> Result<u32, StoreError> {
        let stored = self.latest_definition_number(kind, id).await?.unwrap_or(0);
        stored
            .max(shipped)
            .checked_add(1)
            .ok_or(StoreError::Corrupt {
                table: "definition_version",
                column: "version",
            })
    }

    /// Stores a new version in this transaction. Refuses ([`VersionSave::Taken`], nothing
    /// written) when that number or a later one is already stored for the definition, so a
    /// stale or racing save never lands beside, under or over a version others may already
    /// be computing with. On PostgreSQL a save racing an uncommitted one of the same number
    /// waits for it and then finds the number taken; on SQLite the later writer fails with a
    /// busy error instead. Either way one version is stored.
    pub async fn save_definition_version(
        &mut self,
        new: &NewDefinitionVersion<'_>,
    ) -> Result<VersionSave, StoreError> {
        let written = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query(
                "INSERT INTO definition_version \
                 (kind, definition_id, version, toml_text, saved_by, saved_at, note) \
                 SELECT $1, $2, $3, $4, $5, $6, $7 \
                 WHERE NOT EXISTS (SELECT 1 FROM definition_version \
                     WHERE kind = $1 AND definition_id = $2 AND version >= $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(new.kind.code())
            .bind(new.id)
            .bind(i64::from(new.version))
            .bind(new.text)
            .bind(new.saved_by)
            .bind(new.saved_at)
            .bind(new.note)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        });
        Ok(if written == 1 {
            VersionSave::Saved
        } else {
            VersionSave::Taken
        })
    }
}

//! Storage errors, worded so that no stored value (a citizen ID, a name) ever reaches a message.

use crate::Backend;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "ไม่รองรับฐานข้อมูลแบบ `{0}` (unsupported database URL scheme `{0}`: halve speaks \
         sqlite://PATH and postgres://…)"
    )]
    UnsupportedUrl(String),
    #[error(
        "halve นี้ไม่ได้สร้างมาพร้อม {} (this build of halve has no {} support: rebuild with the \
         cargo feature)", .0.name(), .0.name()
    )]
    NotCompiled(Backend),
    #[error("เชื่อมต่อฐานข้อมูล {backend} ไม่ได้ (cannot connect to the {backend} database): {reason}")]
    Connect {
        backend: &'static str,
        reason: String,
    },
    #[error(
        "ฐานข้อมูลนี้ใหม่กว่าโปรแกรม (the database schema is at version {found}, newer than this \
         halve's {known}): upgrade halve"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error("ฐานข้อมูลยังไม่ได้เตรียม (the database is not initialised): run `halve init`")]
    NotInitialised,
    #[error("ข้อมูลในฐานข้อมูลเสียหาย (corrupt stored value in {table}.{column})")]
    Corrupt {
        table: &'static str,
        column: &'static str,
    },
    #[error("ข้อมูลขัดกับกฎของฐานข้อมูล (the data breaks a database rule: {constraint})")]
    Constraint { constraint: String },
    #[error("ฐานข้อมูลผิดพลาด (database error {code}): {summary}")]
    Database { code: String, summary: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub(crate) fn connect(backend: Backend, e: sqlx::Error) -> StoreError {
        StoreError::Connect {
            backend: backend.name(),
            reason: describe(&e).1,
        }
    }
}

/// Describes a driver error by its code and kind only: database messages and details can
/// quote the offending row (PostgreSQL's "Key (citizen_id)=(…) already exists").
fn describe(e: &sqlx::Error) -> (String, String) {
    match e {
        sqlx::Error::Database(db) => (
            db.code().map(|c| c.into_owned()).unwrap_or_default(),
            format!("{:?}", db.kind()),
        ),
        sqlx::Error::Io(io) => ("io".into(), io.kind().to_string()),
        sqlx::Error::PoolTimedOut => ("pool".into(), "timed out waiting for a connection".into()),
        sqlx::Error::Tls(_) => ("tls".into(), "TLS failure".into()),
        sqlx::Error::Configuration(_) => ("config".into(), "bad connection settings".into()),
        sqlx::Error::ColumnDecode { index, .. } => ("decode".into(), format!("column {index}")),
        other => ("driver".into(), variant_name(other)),
    }
}

fn variant_name(e: &sqlx::Error) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("error")
        .to_owned()
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(db) = &e
            && let Some(constraint) = db.constraint()
        {
            return StoreError::Constraint {
                constraint: constraint.to_owned(),
            };
        }
        let (code, summary) = describe(&e);
        StoreError::Database { code, summary }
    }
}

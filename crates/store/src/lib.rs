//! Storage for halve: one schema, one behaviour, on SQLite (the embedded default) and on
//! PostgreSQL (for many users and national scale).
//!
//! The backend is chosen once, from the database URL, by [`Store::connect`]. Every operation is
//! written once: the [`dispatch!`] macro expands the same body for each compiled-in backend, so
//! a query cannot drift between them. Only this crate speaks SQL; its public signatures carry
//! domain types and [`StoreError`], never a driver type.

mod access;
mod boundary;
mod cases;
mod error;
mod feed;
mod lookup;
mod migrate;
mod panel;
mod registry;
mod rows;
pub mod testing;
mod versions;

pub use access::{FormTokenUse, NewUser, ScopeEntry, SessionRecord, UserRecord};
pub use boundary::*;
pub use cases::*;
pub use error::StoreError;
pub use feed::{Change, Lagged, Subscription};
pub use lookup::{AreaFilter, SearchBy, SearchHit};
pub use panel::{RecordChange, RecordChangeKind, RecordEntity};
pub use registry::{AuditEntry, Counts, Tx};
pub use versions::*;

use std::time::Duration;

/// The database engines halve can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Reads the backend from a URL: `postgres://…` or `postgresql://…`; `sqlite://PATH`,
    /// `sqlite:PATH` or a plain file path. Any other scheme is refused by name.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("sqlite") => Ok(Backend::Sqlite),
            Some(other) if !other.contains(['/', '\\']) => {
                Err(StoreError::UnsupportedUrl(other.to_owned()))
            }
            _ => Ok(Backend::Sqlite),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A connection pool on one of the backends.
#[derive(Clone)]
pub struct Store {
    inner: Inner,
    /// Shared by every clone of the store, so all of its writers publish to one feed.
    feed: feed::Feed,
}

#[derive(Clone)]
enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool (or transaction, or row) of each
/// compiled-in backend. The body is type-checked once per backend, so SQL that one driver
/// cannot bind fails to compile rather than failing on the other database at run time.
macro_rules! dispatch {
    ($value:expr, $enum:ident, $bind:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($bind) => $body,
            #[cfg(feature = "postgres")]
            $enum::Postgres($bind) => $body,
        }
    };
}
pub(crate) use dispatch;

impl Store {
    /// Opens the database at `url`, creating an SQLite file if it does not exist yet. It does
    /// not migrate: call [`Store::migrate`] (`halve init`) for that.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let inner = match Backend::from_url(url)? {
            Backend::Sqlite => Self::connect_sqlite(url).await?,
            Backend::Postgres => Self::connect_postgres(url).await?,
        };
        Ok(Store {
            inner,
            feed: feed::Feed::new(),
        })
    }

    #[cfg(feature = "sqlite")]
    async fn connect_sqlite(url: &str) -> Result<Inner, StoreError> {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            return Err(StoreError::UnsupportedUrl("sqlite (no file name)".into()));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::connect(Backend::Sqlite, e))?;
        Ok(Inner::Sqlite(pool))
    }

    #[cfg(not(feature = "sqlite"))]
    async fn connect_sqlite(_url: &str) -> Result<Inner, StoreError> {
        Err(StoreError::NotCompiled(Backend::Sqlite))
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<Inner, StoreError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| StoreError::connect(Backend::Postgres, e))?;
        Ok(Inner::Postgres(pool))
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect_postgres(_url: &str) -> Result<Inner, StoreError> {
        Err(StoreError::NotCompiled(Backend::Postgres))
    }

    pub fn backend(&self) -> Backend {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection; an SQLite file is checkpointed and can be copied afterwards.
    pub async fn close(&self) {
        dispatch!(&self.inner, Inner, pool => pool.close().await)
    }

    /// Rewrites the one spot where the two SQL dialects disagree in the queries of this crate:
    /// text ordering. PostgreSQL sorts by the database's locale unless told otherwise, SQLite by
    /// bytes; exports must be byte-identical on both, so PostgreSQL is told to sort by bytes.
    pub(crate) fn dialect(&self, sql: &str) -> String {
        match self.backend() {
            Backend::Sqlite => sql.replace("{{C}}", ""),
            Backend::Postgres => sql.replace("{{C}}", " COLLATE \"C\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_read_from_the_url() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("sqlite://halve.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::from_url("halve.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("/tmp/x/halve.db").unwrap(),
            Backend::Sqlite
        );
        let err = Backend::from_url("mysql://h/db").unwrap_err();
        assert!(err.to_string().contains("mysql"), "{err}");
    }
}

//! Fresh databases for tests, on every backend this build and machine offer.
//!
//! SQLite always: a new file in a new temporary folder. PostgreSQL when
//! `HALVE_TEST_POSTGRES_URL` names a server (CI sets it): a new database created on that server
//! with a unique name. Either way the database is removed when the [`TestDb`] is dropped, so
//! tests never see each other's data and leave nothing behind.

use crate::{Backend, Store, StoreError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "HALVE_TEST_POSTGRES_URL";

pub struct TestDb {
    pub store: Store,
    /// The URL of this database, for code under test that connects by itself.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A migrated, empty database of `backend`; `None` for PostgreSQL when no server is set.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let db = match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await?,
        };
        db.store
            .migrate()
            .await
            .expect("migrating a fresh test database");
        Some(db)
    }

    /// A database that exists but has not been migrated (for testing `init` itself).
    pub async fn unmigrated(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique("halve-test"));
        std::fs::create_dir_all(&dir).expect("creating a temporary folder");
        let url = format!("sqlite://{}", dir.join("halve.db").display());
        let store = Store::connect(&url)
            .await
            .expect("opening a test SQLite file");
        TestDb {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
        let name = unique("halve_test");
        let admin = Store::connect(&admin_url)
            .await
            .expect("connecting to HALVE_TEST_POSTGRES_URL");
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .expect("creating a test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url)
            .await
            .expect("opening the test database");
        Some(TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// Every backend available here: SQLite, plus PostgreSQL when its server is configured.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![
            Self::new(Backend::Sqlite)
                .await
                .expect("SQLite is always available"),
        ];
        match Self::new(Backend::Postgres).await {
            Some(db) => dbs.push(db),
            None => eprintln!("note: {POSTGRES_ENV} is not set; testing on SQLite only"),
        }
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop runs inside the test's runtime, which cannot block on itself: do the
                // async work on a thread of its own. FORCE ends the pool's open connections.
                let (admin_url, db_name) = (admin_url.clone(), name.clone());
                let done = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for cleanup");
                    runtime.block_on(async move {
                        let admin = Store::connect(&admin_url).await?;
                        admin
                            .execute_admin(&format!(
                                "DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
                            ))
                            .await?;
                        admin.close().await;
                        Ok::<_, StoreError>(())
                    })
                })
                .join();
                if !matches!(done, Ok(Ok(()))) {
                    eprintln!("warning: could not drop test database {name}");
                }
            }
        }
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Store {
    /// Runs one administrative statement outside a transaction (CREATE/DROP DATABASE).
    async fn execute_admin(&self, sql: &str) -> Result<(), StoreError> {
        use crate::{Inner, dispatch};
        dispatch!(&self.inner, Inner, pool => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(pool).await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@localhost:5432/postgres", "t1"),
            "postgres://u:p@localhost:5432/t1"
        );
        assert_eq!(
            with_database("postgres://localhost?sslmode=disable", "t1"),
            "postgres://localhost/t1?sslmode=disable"
        );
    }
}

//! Who may use the web app, and what keeps their use safe: accounts with a role and the areas
//! they may see, sessions, failed sign-ins for throttling, and one-time form tokens.
//!
//! This module stores and finds; it does not decide. The meaning of a role or a scope, how
//! long a session lives and how many failures lock an account are the web app's rules. Secrets
//! arrive here already hashed (argon2id for passwords, SHA-256 for tokens), so nothing stored
//! lets anyone sign in, and no value stored here appears in an error.

use crate::registry::TxInner;
use crate::{Inner, Store, StoreError, Tx, dispatch};

/// One line of an account's scope: an eco-zone code (`kind` = `zone`) or an area code from
/// province to village (`kind` = `area`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScopeEntry {
    pub kind: String,
    pub code: String,
}

/// An account to create.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    /// An argon2id PHC string, never the password.
    pub password_hash: &'a str,
    pub role: &'a str,
    pub scope: &'a [ScopeEntry],
}

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub scope: Vec<ScopeEntry>,
}

/// A live session and its account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf_token: String,
    pub last_seen: i64,
    pub expires_at: i64,
}

/// What spending a one-time form token found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormTokenUse {
    /// The token was unspent and is now spent: go ahead with the write.
    Spent,
    /// Already spent by an earlier submit, which led to `outcome`.
    AlreadyUsed { outcome: Option<String> },
    /// No such token for this session and purpose (forged, or from another session).
    Unknown,
}

type UserRow = (i64, String, String, String, String, bool);

const USER_COLUMNS: &str = "id, username, display_name, password_hash, role, active";

impl Store {
    /// Creates an account; returns its id. A taken username is a
    /// [`StoreError::Constraint`].
    pub async fn add_user(&self, user: &NewUser<'_>, now: i64) -> Result<i64, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let mut tx = pool.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO app_user (username, display_name, password_hash, role, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(user.username)
            .bind(user.display_name)
            .bind(user.password_hash)
            .bind(user.role)
            .bind(true)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for entry in user.scope {
                sqlx::query("INSERT INTO app_user_scope (user_id, kind, code) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(&entry.kind)
                    .bind(&entry.code)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Replaces an account's password hash; false when there is no such account.
    pub async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let done = sqlx::query("UPDATE app_user SET password_hash = $1 WHERE username = $2")
                .bind(password_hash)
                .bind(username)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The account of that name, active or not.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE username = $1");
        let row: Option<UserRow> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(pool).await?
        });
        match row {
            Some(row) => Ok(Some(self.user_from(row).await?)),
            None => Ok(None),
        }
    }

    /// Every account, by username.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = self.dialect(&format!(
            "SELECT {USER_COLUMNS} FROM app_user ORDER BY username{{{{C}}}}"
        ));
        let rows: Vec<UserRow> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.user_from(row).await?);
        }
        Ok(out)
    }

    async fn user_from(&self, row: UserRow) -> Result<UserRecord, StoreError> {
        let (id, username, display_name, password_hash, role, active) = row;
        let sql = self.dialect(
            "SELECT kind, code FROM app_user_scope WHERE user_id = $1 \
             ORDER BY kind{{C}}, code{{C}}",
        );
        let scope: Vec<(String, String)> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(pool).await?
        });
        Ok(UserRecord {
            id,
            username,
            display_name,
            password_hash,
            role,
            active,
            scope: scope
                .into_iter()
                .map(|(kind, code)| ScopeEntry { kind, code })
                .collect(),
        })
    }

    /// Opens a session for an account.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            sqlx::query(
                "INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, last_seen, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session of a token hash, if it has not expired at `now` and its account is still
    /// active.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<(i64, String, i64, i64)> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(
                "SELECT user_id, csrf_token, last_seen, expires_at FROM user_session \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        let Some((user_id, csrf_token, last_seen, expires_at)) = row else {
            return Ok(None);
        };
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE id = $1 AND active = $2");
        let user: Option<UserRow> = dispatch!(&self.inner, Inner, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .bind(true)
                .fetch_optional(pool)
                .await?
        });
        let Some(user) = user else {
            return Ok(None);
        };
        Ok(Some(SessionRecord {
            user: self.user_from(user).await?,
            csrf_token,
            last_seen,
            expires_at,
        }))
    }

    /// Moves a session's expiry on (sliding expiry).
    pub async fn touch_session(
        &self,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            sqlx::query("UPDATE user_session SET last_seen = $1, expires_at = $2 WHERE token_hash = $3")
                .bind(now)
                .bind(expires_at)
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends one session (sign-out), and drops its unspent form tokens.
    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM form_token WHERE session_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM user_session WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Forgets what no longer matters at `now`: expired sessions, form tokens older than
    /// `form_tokens_before`, failures older than `failures_before`. Returns the sessions ended.
    pub async fn prune_access(
        &self,
        now: i64,
        form_tokens_before: i64,
        failures_before: i64,
    ) -> Result<u64, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let ended = sqlx::query("DELETE FROM user_session WHERE expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM form_token WHERE created_at < $1")
                .bind(form_tokens_before)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM login_failure WHERE at < $1")
                .bind(failures_before)
                .execute(pool)
                .await?;
            Ok(ended)
        })
    }

    /// Records one failed sign-in against each subject (`user:NAME`, `ip:ADDR`).
    pub async fn record_login_failure(
        &self,
        subjects: &[&str],
        now: i64,
    ) -> Result<(), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            for subject in subjects {
                sqlx::query("INSERT INTO login_failure (subject, at) VALUES ($1, $2)")
                    .bind(*subject)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
        });
        Ok(())
    }

    /// Failed sign-ins of a subject at or after `since`, and the earliest of them.
    pub async fn login_failures_since(
        &self,
        subject: &str,
        since: i64,
    ) -> Result<(i64, Option<i64>), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let (count, first): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM login_failure WHERE subject = $1 AND at >= $2",
            )
            .bind(subject)
            .bind(since)
            .fetch_one(pool)
            .await?;
            Ok((count, first))
        })
    }

    /// Forgets a subject's failures (after a successful sign-in).
    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            sqlx::query("DELETE FROM login_failure WHERE subject = $1")
                .bind(subject)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Issues a one-time token for a form of a session.
    pub async fn issue_form_token(
        &self,
        token_hash: &str,
        session_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            sqlx::query(
                "INSERT INTO form_token (token_hash, session_hash, purpose, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(session_hash)
            .bind(purpose)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

impl Tx {
    /// Spends a one-time form token inside the transaction of the write it allows: if the
    /// transaction rolls back, the token stays unspent and the form can be sent again. Two
    /// concurrent submits cannot both spend it: the update only matches an unspent row.
    pub async fn spend_form_token(
        &mut self,
        token_hash: &str,
        session_hash: &str,
        purpose: &str,
        now: i64,
        outcome: &str,
    ) -> Result<FormTokenUse, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let spent = sqlx::query(
                "UPDATE form_token SET used_at = $1, outcome = $2 \
                 WHERE token_hash = $3 AND session_hash = $4 AND purpose = $5 AND used_at IS NULL",
            )
            .bind(now)
            .bind(outcome)
            .bind(token_hash)
            .bind(session_hash)
            .bind(purpose)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if spent == 1 {
                return Ok(FormTokenUse::Spent);
            }
            let used: Option<(Option<String>,)> = sqlx::query_as(
                "SELECT outcome FROM form_token \
                 WHERE token_hash = $1 AND session_hash = $2 AND purpose = $3 AND used_at IS NOT NULL",
            )
            .bind(token_hash)
            .bind(session_hash)
            .bind(purpose)
            .fetch_optional(&mut **tx)
            .await?;
            Ok(match used {
                Some((outcome,)) => FormTokenUse::AlreadyUsed { outcome },
                None => FormTokenUse::Unknown,
            })
        })
    }
}

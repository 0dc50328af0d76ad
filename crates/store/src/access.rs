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
        let mut tx = self.begin().await?;
        let id = tx.add_user(user, now).await?;
        tx.commit().await?;
        Ok(id)
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

    /// Open sessions at `now`, per account: `(user id, how many, when the newest began)`, by
    /// user id. Accounts without an open session are absent. The sign-in time of an ended
    /// session is not kept, so this is as far back as "last sign-in" can be told.
    pub async fn open_sessions(&self, now: i64) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        dispatch!(&self.inner, Inner, pool => {
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT user_id, COUNT(*), MAX(created_at) FROM user_session \
                 WHERE expires_at > $1 GROUP BY user_id ORDER BY user_id",
            )
            .bind(now)
            .fetch_all(pool)
            .await?;
            Ok(rows)
        })
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
    /// Creates an account in this transaction; returns its id. A taken username is a
    /// [`StoreError::Constraint`] (SQLite) or a unique violation (PostgreSQL).
    pub async fn add_user(&mut self, user: &NewUser<'_>, now: i64) -> Result<i64, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
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
            .fetch_one(&mut **tx)
            .await?;
            for entry in user.scope {
                sqlx::query("INSERT INTO app_user_scope (user_id, kind, code) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(&entry.kind)
                    .bind(&entry.code)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(id)
        })
    }

    /// The account of that name as this transaction sees it, active or not.
    pub async fn user_by_name(&mut self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM app_user WHERE username = $1");
        let row: Option<UserRow> = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&mut **tx).await?
        });
        let Some((id, username, display_name, password_hash, role, active)) = row else {
            return Ok(None);
        };
        // Codes are ASCII, but PostgreSQL is still told to sort by bytes, as `Store::users` is.
        let sql = match self.backend() {
            crate::Backend::Sqlite => {
                "SELECT kind, code FROM app_user_scope WHERE user_id = $1 \
                                       ORDER BY kind, code"
            }
            crate::Backend::Postgres => {
                "SELECT kind, code FROM app_user_scope WHERE user_id = $1 \
                                         ORDER BY kind COLLATE \"C\", code COLLATE \"C\""
            }
        };
        let scope: Vec<(String, String)> = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query_as(sql).bind(id).fetch_all(&mut **tx).await?
        });
        Ok(Some(UserRecord {
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
        }))
    }

    /// The ids of the active accounts of a role, locked until this transaction ends, so that
    /// a rule about them ("one administrator stays active") cannot be broken by two
    /// transactions that each saw the other's account still there. Call it before reading
    /// what the rule depends on: on SQLite the lock is the database's write lock, which this
    /// takes at once.
    pub async fn lock_active_users(&mut self, role: &str) -> Result<Vec<i64>, StoreError> {
        let sql = match self.backend() {
            // Rows locked in one order, so two of these never wait for each other in a circle.
            crate::Backend::Postgres => {
                "SELECT id FROM app_user WHERE role = $1 AND active = $2 ORDER BY id FOR UPDATE"
            }
            // SQLite has no row locks; writing (nothing) takes the one write lock.
            crate::Backend::Sqlite => {
                "UPDATE app_user SET active = active WHERE role = $1 AND active = $2 RETURNING id"
            }
        };
        let rows: Vec<(i64,)> = dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query_as(sql).bind(role).bind(true).fetch_all(&mut **tx).await?
        });
        let mut ids: Vec<i64> = rows.into_iter().map(|(id,)| id).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Replaces an account's display name, role and scope; false when there is no such
    /// account.
    pub async fn update_user(
        &mut self,
        user_id: i64,
        display_name: &str,
        role: &str,
        scope: &[ScopeEntry],
    ) -> Result<bool, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let found = sqlx::query("UPDATE app_user SET display_name = $1, role = $2 WHERE id = $3")
                .bind(display_name)
                .bind(role)
                .bind(user_id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if found != 1 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM app_user_scope WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
            for entry in scope {
                sqlx::query("INSERT INTO app_user_scope (user_id, kind, code) VALUES ($1, $2, $3)")
                    .bind(user_id)
                    .bind(&entry.kind)
                    .bind(&entry.code)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(true)
        })
    }

    /// Marks an account active or not; false when there is no such account. An inactive
    /// account's sessions stop resolving at once ([`Store::session`]); end them too, with
    /// [`Tx::end_user_sessions`], so that none comes back if the account is activated again.
    pub async fn set_user_active(
        &mut self,
        user_id: i64,
        active: bool,
    ) -> Result<bool, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let done = sqlx::query("UPDATE app_user SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Replaces an account's password hash; false when there is no such account.
    pub async fn set_user_password_hash(
        &mut self,
        user_id: i64,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let done = sqlx::query("UPDATE app_user SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&mut **tx)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Ends every session of an account but `keep` (a session token hash, for an account
    /// changing its own password from the session it keeps), with their unspent form tokens.
    /// Returns the sessions ended.
    pub async fn end_user_sessions(
        &mut self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        // No session hash is empty (they are SHA-256 hex), so "" keeps nothing.
        let keep = keep.unwrap_or("");
        dispatch!(&mut self.inner, TxInner, tx => {
            sqlx::query(
                "DELETE FROM form_token WHERE session_hash IN \
                 (SELECT token_hash FROM user_session WHERE user_id = $1 AND token_hash <> $2)",
            )
            .bind(user_id)
            .bind(keep)
            .execute(&mut **tx)
            .await?;
            let ended = sqlx::query("DELETE FROM user_session WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            Ok(ended)
        })
    }

    /// Forgets a subject's failed sign-ins (an administrator unlocking an account); returns
    /// how many there were.
    pub async fn clear_login_failures(&mut self, subject: &str) -> Result<u64, StoreError> {
        dispatch!(&mut self.inner, TxInner, tx => {
            let cleared = sqlx::query("DELETE FROM login_failure WHERE subject = $1")
                .bind(subject)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            Ok(cleared)
        })
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    fn scope(kind: &str, code: &str) -> ScopeEntry {
        ScopeEntry {
            kind: kind.into(),
            code: code.into(),
        }
    }

    fn user<'a>(username: &'a str, role: &'a str, scope: &'a [ScopeEntry]) -> NewUser<'a> {
        NewUser {
            username,
            display_name: username,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            role,
            scope,
        }
    }

    #[tokio::test]
    async fn accounts_are_edited_in_a_transaction_and_rolled_back_whole() {
        for db in TestDb::all().await {
            let s = &db.store;
            let entries = [scope("zone", "coast")];
            let id = s
                .add_user(&user("somsri", "zone_worker", &entries), 100)
                .await
                .unwrap();

            let mut tx = s.begin().await.unwrap();
            let seen = tx.user_by_name("somsri").await.unwrap().unwrap();
            assert_eq!(seen, s.user_by_name("somsri").await.unwrap().unwrap());
            assert!(tx.user_by_name("nobody").await.unwrap().is_none());
            let wider = [scope("zone", "mountain"), scope("area", "8012")];
            assert!(
                tx.update_user(id, "สมศรี ใจดี", "coordinator", &wider)
                    .await
                    .unwrap()
            );
            assert!(!tx.update_user(9_999, "x", "viewer", &[]).await.unwrap());
            let inside = tx.user_by_name("somsri").await.unwrap().unwrap();
            assert_eq!(inside.display_name, "สมศรี ใจดี");
            assert_eq!(
                inside.scope,
                [scope("area", "8012"), scope("zone", "mountain")]
            );
            tx.rollback().await.unwrap();
            let after = s.user_by_name("somsri").await.unwrap().unwrap();
            assert_eq!(after.role, "zone_worker", "rolled back");
            assert_eq!(after.scope, entries);

            let mut tx = s.begin().await.unwrap();
            tx.update_user(id, "สมศรี", "coordinator", &[])
                .await
                .unwrap();
            assert!(tx.set_user_active(id, false).await.unwrap());
            assert!(!tx.set_user_active(9_999, false).await.unwrap());
            assert!(tx.set_user_password_hash(id, "new-hash").await.unwrap());
            assert!(!tx.set_user_password_hash(9_999, "x").await.unwrap());
            tx.commit().await.unwrap();
            let after = s.user_by_name("somsri").await.unwrap().unwrap();
            assert_eq!(
                (
                    after.display_name.as_str(),
                    after.role.as_str(),
                    after.active
                ),
                ("สมศรี", "coordinator", false)
            );
            assert!(after.scope.is_empty());
            assert_eq!(after.password_hash, "new-hash");
        }
    }

    #[tokio::test]
    async fn ending_an_accounts_sessions_spares_others_and_the_one_kept() {
        for db in TestDb::all().await {
            let s = &db.store;
            let a = s.add_user(&user("a", "viewer", &[]), 100).await.unwrap();
            let b = s.add_user(&user("b", "viewer", &[]), 100).await.unwrap();
            for (hash, id, at) in [("a1", a, 1_000), ("a2", a, 1_100), ("a3", a, 1_200)] {
                s.create_session(hash, id, "csrf", at, 5_000).await.unwrap();
                s.issue_form_token(&format!("t-{hash}"), hash, "p", at)
                    .await
                    .unwrap();
            }
            s.create_session("b1", b, "csrf", 1_050, 5_000)
                .await
                .unwrap();
            s.issue_form_token("t-b1", "b1", "p", 1_050).await.unwrap();
            // One of a's sessions has expired: it is not open, though not yet pruned.
            s.create_session("a0", a, "csrf", 500, 900).await.unwrap();
            assert_eq!(
                s.open_sessions(2_000).await.unwrap(),
                [(a, 3, 1_200), (b, 1, 1_050)]
            );

            let mut tx = s.begin().await.unwrap();
            assert_eq!(tx.end_user_sessions(a, Some("a2")).await.unwrap(), 3);
            tx.commit().await.unwrap();
            assert!(s.session("a1", 2_000).await.unwrap().is_none());
            assert!(s.session("a2", 2_000).await.unwrap().is_some(), "kept");
            assert!(s.session("b1", 2_000).await.unwrap().is_some(), "not a's");
            assert_eq!(
                s.open_sessions(2_000).await.unwrap(),
                [(a, 1, 1_100), (b, 1, 1_050)]
            );
            // The ended sessions' form tokens went with them; the others' are still there.
            let mut tx = s.begin().await.unwrap();
            for (token, session, found) in [
                ("t-a1", "a1", false),
                ("t-a2", "a2", true),
                ("t-b1", "b1", true),
            ] {
                let used = tx
                    .spend_form_token(token, session, "p", 2_000, "/")
                    .await
                    .unwrap();
                assert_eq!(used == FormTokenUse::Spent, found, "{token}");
            }
            tx.rollback().await.unwrap();

            let mut tx = s.begin().await.unwrap();
            assert_eq!(tx.end_user_sessions(a, None).await.unwrap(), 1);
            tx.commit().await.unwrap();
            assert_eq!(s.open_sessions(2_000).await.unwrap(), [(b, 1, 1_050)]);
        }
    }

    #[tokio::test]
    async fn the_active_accounts_of_a_role_are_found_and_failures_cleared_with_the_write() {
        for db in TestDb::all().await {
            let s = &db.store;
            let root = s.add_user(&user("root", "admin", &[]), 100).await.unwrap();
            let second = s
                .add_user(&user("second", "admin", &[]), 100)
                .await
                .unwrap();
            s.add_user(&user("viewer", "viewer", &[]), 100)
                .await
                .unwrap();
            let mut tx = s.begin().await.unwrap();
            assert_eq!(tx.lock_active_users("admin").await.unwrap(), [root, second]);
            tx.set_user_active(second, false).await.unwrap();
            assert_eq!(tx.lock_active_users("admin").await.unwrap(), [root]);
            assert!(tx.lock_active_users("nobody").await.unwrap().is_empty());
            tx.commit().await.unwrap();
            assert!(
                s.user_by_name("second")
                    .await
                    .unwrap()
                    .is_some_and(|u| !u.active)
            );

            s.record_login_failure(&["user:root", "ip:10.0.0.1"], 100)
                .await
                .unwrap();
            s.record_login_failure(&["user:root"], 200).await.unwrap();
            let mut tx = s.begin().await.unwrap();
            assert_eq!(tx.clear_login_failures("user:root").await.unwrap(), 2);
            tx.rollback().await.unwrap();
            assert_eq!(s.login_failures_since("user:root", 0).await.unwrap().0, 2);
            let mut tx = s.begin().await.unwrap();
            assert_eq!(tx.clear_login_failures("user:root").await.unwrap(), 2);
            assert_eq!(tx.clear_login_failures("user:root").await.unwrap(), 0);
            tx.commit().await.unwrap();
            assert_eq!(s.login_failures_since("user:root", 0).await.unwrap().0, 0);
            assert_eq!(s.login_failures_since("ip:10.0.0.1", 0).await.unwrap().0, 1);
        }
    }

    #[tokio::test]
    async fn a_second_lock_waits_for_the_first_transaction_and_sees_its_write() {
        for db in TestDb::all().await {
            let s = &db.store;
            let a = s.add_user(&user("a", "admin", &[]), 100).await.unwrap();
            let b = s.add_user(&user("b", "admin", &[]), 100).await.unwrap();
            let mut first = s.begin().await.unwrap();
            assert_eq!(first.lock_active_users("admin").await.unwrap(), [a, b]);
            let store = s.clone();
            let second = tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let seen = tx.lock_active_users("admin").await.unwrap();
                tx.rollback().await.unwrap();
                seen
            });
            // Time only gives a broken lock the chance to show: a working one cannot finish.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert!(!second.is_finished(), "the second waits for the first");
            first.set_user_active(a, false).await.unwrap();
            first.commit().await.unwrap();
            // Had both seen two administrators, each could have deactivated one.
            assert_eq!(second.await.unwrap(), [b]);
        }
    }

    #[tokio::test]
    async fn a_taken_username_fails_inside_a_transaction_too() {
        for db in TestDb::all().await {
            let s = &db.store;
            s.add_user(&user("somsri", "viewer", &[]), 100)
                .await
                .unwrap();
            let mut tx = s.begin().await.unwrap();
            let taken = tx
                .add_user(&user("somsri", "admin", &[]), 200)
                .await
                .unwrap_err();
            assert!(
                !taken.to_string().contains("somsri"),
                "no stored value in errors"
            );
            drop(tx);
            assert_eq!(s.users().await.unwrap().len(), 1);
        }
    }
}

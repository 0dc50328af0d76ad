-- Access to the web app: accounts with their roles and areas, sessions, failed logins (for
-- throttling) and one-time form tokens (so a double submit writes once). Portable SQL run by
-- both SQLite and PostgreSQL; `{{id}}` is the auto-assigned integer key. Times are Unix
-- seconds, so expiry is an integer comparison on both databases. Secrets (session tokens,
-- form tokens, passwords) are stored only as hashes.

CREATE TABLE app_user (
    id {{id}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- An argon2id PHC string.
    password_hash TEXT NOT NULL,
    -- admin, coordinator, zone_worker or viewer: the web app gives them meaning.
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

-- What a scoped account may see: eco-zone codes (kind 'zone') or area codes from province
-- down to village (kind 'area'). An account without rows here is not limited by area.
CREATE TABLE app_user_scope (
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, code)
);

-- A signed-in browser. The cookie holds a random token; only its SHA-256 is kept here, so a
-- copy of the database does not let anyone sign in. `csrf_token` is the synchronizer token
-- every form of the session must carry back.
CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);

-- Failed sign-ins, by account ('user:NAME') and by client address ('ip:ADDR'); only the
-- recent ones count.
CREATE TABLE login_failure (
    id {{id}},
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failure_subject ON login_failure (subject, at);

-- One-time tokens of forms that write. A token is spent in the transaction of the write it
-- allows, so the second submit of the same form finds it spent and writes nothing; `outcome`
-- is where that second submit is sent (the page the first one led to).
CREATE TABLE form_token (
    token_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    outcome TEXT
);

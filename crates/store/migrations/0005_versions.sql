-- Versions of measurement specs and targets edited in the app. Every figure names the id and
-- version of the definition that produced it, so a stored version is never changed or
-- removed: an edit is a new row. Portable SQL run by both SQLite and PostgreSQL.
--
-- The versions shipped with halve (specs/*.toml, targets/*.toml) live in the binary, not
-- here; a stored version of the same id always takes a number after the shipped one.

CREATE TABLE definition_version (
    -- 'spec' or 'target'.
    kind TEXT NOT NULL,
    definition_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- The definition as TOML, its `version` key equal to the column above.
    toml_text TEXT NOT NULL,
    -- The audit log's actor, e.g. 'web:admin'.
    saved_by TEXT NOT NULL,
    -- UTC, YYYY-MM-DDTHH:MM:SSZ, as in the audit log.
    saved_at TEXT NOT NULL,
    -- Why it was changed; empty when no reason was given.
    note TEXT NOT NULL,
    -- Two saves of one number cannot both land: the second finds the key taken.
    PRIMARY KEY (kind, definition_id, version),
    CHECK (kind IN ('spec', 'target')),
    CHECK (version >= 1)
);

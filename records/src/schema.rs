//! The schema, as versioned migrations: one SQL text that SQLite and
//! PostgreSQL both run (`BIGINT` milliseconds for times, `TEXT` for ids and
//! JSON, natural keys instead of generated ones, so no dialect's serial type
//! is needed).
//!
//! The database remembers what it ran in `schema_version` (one row per
//! migration). At start the store runs, each in its own transaction, every
//! migration newer than the highest version there; a database newer than
//! this build is refused (an older release must not write into a schema it
//! does not know). A change to the schema is a new entry at the end of
//! [`MIGRATIONS`], never an edit of one already released.

/// One step of the schema.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Every migration, oldest first. Versions rise by one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "closed chats, their agents and flags, router events",
        sql: r#"
CREATE TABLE closed_chats (
    origin        TEXT   NOT NULL,
    session_id    BIGINT NOT NULL,
    group_id      TEXT   NOT NULL,
    customer_name TEXT,
    customer_id   TEXT,
    agent_id      TEXT,
    priority      TEXT   NOT NULL,
    opened_at     BIGINT,
    assigned_at   BIGINT,
    closed_at     BIGINT NOT NULL,
    close_reason  TEXT   NOT NULL,
    rating        TEXT,
    transcript    TEXT   NOT NULL,
    handoff_notes TEXT   NOT NULL,
    PRIMARY KEY (origin, session_id)
);
CREATE INDEX closed_chats_by_closed_at ON closed_chats (closed_at);
CREATE INDEX closed_chats_by_group ON closed_chats (group_id, closed_at);
CREATE INDEX closed_chats_by_customer_id ON closed_chats (customer_id, closed_at);
CREATE INDEX closed_chats_by_customer_name ON closed_chats (customer_name, closed_at);

CREATE TABLE chat_agents (
    origin     TEXT   NOT NULL,
    session_id BIGINT NOT NULL,
    agent_id   TEXT   NOT NULL,
    PRIMARY KEY (origin, session_id, agent_id)
);
CREATE INDEX chat_agents_by_agent ON chat_agents (agent_id);

CREATE TABLE chat_flags (
    origin     TEXT    NOT NULL,
    lsn        BIGINT  NOT NULL,
    ordinal    INTEGER NOT NULL,
    session_id BIGINT  NOT NULL,
    agent_id   TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    category   TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    PRIMARY KEY (origin, lsn, ordinal)
);
CREATE INDEX chat_flags_by_session ON chat_flags (origin, session_id);
CREATE INDEX chat_flags_by_kind ON chat_flags (kind);
CREATE INDEX chat_flags_by_category ON chat_flags (category);
CREATE INDEX chat_flags_by_at ON chat_flags (at);

CREATE TABLE router_events (
    origin     TEXT    NOT NULL,
    lsn        BIGINT  NOT NULL,
    ordinal    INTEGER NOT NULL,
    at         BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    session_id BIGINT,
    agent_id   TEXT,
    group_id   TEXT,
    detail     TEXT    NOT NULL,
    PRIMARY KEY (origin, lsn, ordinal)
);
CREATE INDEX router_events_by_at ON router_events (at);
CREATE INDEX router_events_by_session ON router_events (origin, session_id, kind);
CREATE INDEX router_events_by_agent ON router_events (agent_id, at);
"#,
    },
    Migration {
        version: 2,
        description: "done tickets and ticket events",
        sql: r#"
CREATE TABLE tickets (
    origin              TEXT   NOT NULL,
    ticket_id           BIGINT NOT NULL,
    group_id            TEXT   NOT NULL,
    customer_name       TEXT,
    ticket_origin       TEXT   NOT NULL,
    state               TEXT   NOT NULL,
    priority            TEXT   NOT NULL,
    owner_id            TEXT,
    created_at          BIGINT NOT NULL,
    done_at             BIGINT NOT NULL,
    expected_resolution BIGINT,
    messages            TEXT   NOT NULL,
    notes               TEXT   NOT NULL,
    PRIMARY KEY (origin, ticket_id)
);
CREATE INDEX tickets_by_done_at ON tickets (done_at);
CREATE INDEX tickets_by_group ON tickets (group_id, done_at);
CREATE INDEX tickets_by_owner ON tickets (owner_id, done_at);

CREATE TABLE ticket_events (
    origin    TEXT    NOT NULL,
    lsn       BIGINT  NOT NULL,
    ordinal   INTEGER NOT NULL,
    at        BIGINT  NOT NULL,
    ticket_id BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    agent_id  TEXT,
    group_id  TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    PRIMARY KEY (origin, lsn, ordinal)
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (origin, ticket_id, at);
CREATE INDEX ticket_events_by_at ON ticket_events (at);
CREATE INDEX ticket_events_by_kind ON ticket_events (kind, at);
"#,
    },
    Migration {
        version: 3,
        description: "shifts, leave requests, spot checks and complaints",
        sql: r#"
CREATE TABLE shifts (
    shift_id     TEXT   NOT NULL PRIMARY KEY,
    agent_id     TEXT   NOT NULL,
    day          TEXT   NOT NULL,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    groups       TEXT   NOT NULL,
    level        TEXT   NOT NULL,
    source       TEXT   NOT NULL,
    created_by   TEXT,
    created_at   BIGINT NOT NULL,
    cancelled_at BIGINT
);
CREATE INDEX shifts_by_agent ON shifts (agent_id, starts_at);
CREATE INDEX shifts_by_start ON shifts (starts_at);

CREATE TABLE leave_requests (
    shift_id     TEXT   NOT NULL PRIMARY KEY,
    agent_id     TEXT   NOT NULL,
    requested_at BIGINT NOT NULL,
    reason       TEXT   NOT NULL,
    late         INTEGER NOT NULL
);
CREATE INDEX leave_requests_by_agent ON leave_requests (agent_id, requested_at);

CREATE TABLE spot_checks (
    origin     TEXT   NOT NULL,
    session_id BIGINT NOT NULL,
    agent_id   TEXT   NOT NULL,
    result     TEXT   NOT NULL,
    comment    TEXT   NOT NULL,
    checked_by TEXT   NOT NULL,
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (origin, session_id)
);
CREATE INDEX spot_checks_by_agent ON spot_checks (agent_id, checked_at);

CREATE TABLE complaints (
    complaint_id   TEXT   NOT NULL PRIMARY KEY,
    origin         TEXT   NOT NULL,
    subject_kind   TEXT   NOT NULL,
    subject_id     BIGINT NOT NULL,
    agent_id       TEXT,
    group_id       TEXT   NOT NULL,
    reason         TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    state          TEXT   NOT NULL,
    category       TEXT,
    reviewed_by    TEXT,
    reviewed_at    BIGINT,
    review_comment TEXT
);
CREATE INDEX complaints_by_agent ON complaints (agent_id, reviewed_at);
CREATE INDEX complaints_by_state ON complaints (state, created_at);
CREATE INDEX complaints_by_subject ON complaints (origin, subject_kind, subject_id);
"#,
    },
];

/// The table that remembers which migrations ran.
pub const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version     BIGINT NOT NULL PRIMARY KEY,
    description TEXT   NOT NULL,
    applied_at  BIGINT NOT NULL
)";

/// The newest schema this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The migrations to run on a database at `current`, or why it cannot be used.
pub fn pending(current: i64) -> Result<&'static [Migration], crate::StoreError> {
    if current > latest() {
        return Err(crate::StoreError::SchemaTooNew { found: current, known: latest() });
    }
    Ok(&MIGRATIONS[current as usize..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_rise_by_one_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
        }
    }

    #[test]
    fn a_newer_database_is_refused_and_an_older_one_gets_the_rest() {
        assert_eq!(pending(0).unwrap().len(), MIGRATIONS.len());
        assert!(pending(latest()).unwrap().is_empty());
        let err = pending(latest() + 1).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}

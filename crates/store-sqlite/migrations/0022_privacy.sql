-- Privacy operations: data-subject requests on the statutory clock, their timeline, background
-- jobs (export, erasure, retention sweep) with the cursor they go on from, an erasure's
-- per-record outcomes, the restricted vault, the breach register, Art. 19 notifications.

CREATE TABLE privacy_requests (
    request_id        TEXT PRIMARY KEY,
    case_id           TEXT,
    customer_id       TEXT NOT NULL,
    right_code        TEXT NOT NULL,
    channel           TEXT NOT NULL,
    status            TEXT NOT NULL,
    is_open           INTEGER NOT NULL,
    received_at       INTEGER NOT NULL,
    received_on       TEXT NOT NULL,
    months            INTEGER NOT NULL,
    paused_days       INTEGER NOT NULL,
    paused_since      TEXT,
    extension_reason  TEXT,
    identity          TEXT NOT NULL,
    identity_method   TEXT,
    identity_evidence TEXT,
    code_hash         TEXT,
    code_expires_at   INTEGER,
    details           TEXT NOT NULL,
    answer            TEXT,
    flags             TEXT NOT NULL,
    duplicates        INTEGER NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    closed_at         INTEGER,
    warned_days       INTEGER,
    version           INTEGER NOT NULL
);
CREATE INDEX privacy_requests_open ON privacy_requests (is_open, received_at);
CREATE INDEX privacy_requests_customer ON privacy_requests (customer_id, right_code, is_open);

CREATE TABLE privacy_request_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX privacy_request_events_request ON privacy_request_events (request_id, id);

CREATE TABLE privacy_jobs (
    job_id      TEXT PRIMARY KEY,
    request_id  TEXT,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    section     INTEGER NOT NULL,
    cursor      TEXT NOT NULL,
    done_rows   INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    error       TEXT,
    attempts    INTEGER NOT NULL,
    scratch     TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX privacy_jobs_request ON privacy_jobs (request_id, created_at);
CREATE INDEX privacy_jobs_kind ON privacy_jobs (kind, created_at);

CREATE TABLE privacy_export_parts (
    job_id  TEXT NOT NULL,
    section INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (job_id, section, seq)
);

CREATE TABLE privacy_outcomes (
    request_id  TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    until       TEXT,
    reason      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (request_id, record_kind, record_id)
);

CREATE TABLE privacy_vault (
    vault_id    TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    fields      TEXT NOT NULL,
    class       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    until       TEXT NOT NULL,
    request_id  TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX privacy_vault_customer ON privacy_vault (customer_id);
CREATE INDEX privacy_vault_until ON privacy_vault (until, vault_id);

CREATE TABLE privacy_breaches (
    breach_id             TEXT PRIMARY KEY,
    title                 TEXT NOT NULL,
    description           TEXT NOT NULL,
    occurred_at           INTEGER,
    aware_at              INTEGER NOT NULL,
    risk                  TEXT,
    people_affected       INTEGER NOT NULL,
    categories            TEXT NOT NULL,
    authority_notified_at INTEGER,
    people_notified_at    INTEGER,
    people_decision       TEXT,
    request_id            TEXT,
    status                TEXT NOT NULL,
    created_by            TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    version               INTEGER NOT NULL
);

CREATE TABLE privacy_breach_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    breach_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    phase     TEXT NOT NULL,
    text      TEXT NOT NULL
);
CREATE INDEX privacy_breach_events_breach ON privacy_breach_events (breach_id, id);

CREATE TABLE privacy_notifications (
    request_id TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    action     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    note       TEXT NOT NULL
);
CREATE INDEX privacy_notifications_request ON privacy_notifications (request_id, at);

-- A person's handlings are found by customer.
CREATE INDEX handlings_customer ON handlings (customer_id) WHERE customer_id IS NOT NULL;

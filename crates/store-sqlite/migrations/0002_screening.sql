-- Screening: versioned rule sets, which one is live and which shadows it, block and allow
-- lists, and the decisions a shadow rule set would have taken.

-- Velocity and distinct counts need the order id of each use; with it in the index they stay
-- one index-only range scan.
DROP INDEX order_entities_hash;
CREATE INDEX order_entities_hash ON order_entities (hash, seen_at, customer_id, kind, amount_minor, order_id);

-- Every version ever saved; a version's text never changes once written.
CREATE TABLE rulesets (
    version    INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,        -- the rule file (TOML)
    author     TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row, polled by every instance (every 250 ms): a publish, rollback, shadow start or list
-- change becomes visible to all of them within a second, without a restart.
CREATE TABLE screening_control (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    live_version   INTEGER,
    shadow_version INTEGER,
    lists_seq      INTEGER NOT NULL
);
INSERT INTO screening_control (id, live_version, shadow_version, lists_seq) VALUES (1, NULL, NULL, 0);

CREATE TABLE ruleset_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    action  TEXT NOT NULL,           -- publish | rollback | shadow | shadow_stop
    version INTEGER,
    actor   TEXT NOT NULL,
    at      INTEGER NOT NULL
);

CREATE TABLE list_entries (
    id         TEXT PRIMARY KEY,
    list       TEXT NOT NULL,        -- block | allow
    kind       TEXT NOT NULL,        -- email, email_domain, phone, device, card, bin, iban, ip, address, customer
    value      TEXT NOT NULL,        -- normalised, as shown to analysts
    match_key  TEXT NOT NULL,        -- hex entity hash, or the value itself for bin, domain, ip, customer
    reason     TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    removed_at INTEGER,
    removed_by TEXT
);
CREATE INDEX list_entries_key ON list_entries (kind, match_key);

CREATE TABLE shadow_decisions (
    order_id        TEXT NOT NULL,
    ruleset_version INTEGER NOT NULL,
    verdict         TEXT NOT NULL,
    score           INTEGER NOT NULL,
    reasons         TEXT NOT NULL,
    decided_at      INTEGER NOT NULL,
    PRIMARY KEY (ruleset_version, order_id)
) WITHOUT ROWID;

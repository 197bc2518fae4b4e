-- Analyst workspace: users, sessions, login throttling, the hash-chained audit log, four-eye
-- proposals, the review queue and manual review actions.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,     -- Argon2id PHC string
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

-- The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    token_hash   BYTEA PRIMARY KEY,
    user_id      TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ended_at     BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per subject (`user:<name>`, `ip:<address>`), counted over a window.
CREATE TABLE login_failures (
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    purpose    TEXT,
    request_id TEXT,
    detail     TEXT NOT NULL,
    flagged    BIGINT NOT NULL,
    prev_hash  BYTEA NOT NULL,
    hash       BYTEA NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

-- The last sealed record: appends lock and move it in their transaction (which also orders
-- appends from several instances), and verification compares it with the last row.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE proposals (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    target        TEXT NOT NULL,
    payload       TEXT NOT NULL,
    payload_hash  TEXT NOT NULL,
    makers        TEXT NOT NULL,     -- JSON array of usernames
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    status        TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    decision_note TEXT,
    revision      BIGINT NOT NULL
);
-- A second pending proposal for the same thing is refused by the database itself.
CREATE UNIQUE INDEX proposals_one_pending ON proposals (kind, target) WHERE status = 'pending';
CREATE INDEX proposals_status ON proposals (status, created_at);

-- Orders waiting for a person: filled when a decision says review, closed by release or cancel.
CREATE TABLE review_items (
    order_id       TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    placed_at      BIGINT NOT NULL,
    channel        TEXT,
    country        TEXT,
    payment_method TEXT NOT NULL,
    total_minor    BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    score          BIGINT NOT NULL,
    rules          TEXT NOT NULL,    -- ids of the rules that hit, space-separated with spaces around
    state          TEXT NOT NULL,    -- open | held | closed
    claimed_by     TEXT,
    claimed_at     BIGINT,
    enqueued_at    BIGINT NOT NULL
);
CREATE INDEX review_items_queue ON review_items (state, score DESC, placed_at);

CREATE TABLE review_actions (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    note        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    proposal_id TEXT
);
CREATE INDEX review_actions_order ON review_actions (order_id, at);
CREATE INDEX review_actions_at ON review_actions (at);

INSERT INTO review_items (order_id, customer_id, placed_at, channel, country, payment_method, total_minor,
                          currency, score, rules, state, enqueued_at)
SELECT o.order_id, o.customer_id, o.placed_at, o.channel, o.body->'shipping_address'->>'country',
       o.payment_method, o.total_minor, o.currency, d.score,
       ' ' || COALESCE((SELECT string_agg(r->>'rule', ' ') FROM jsonb_array_elements(CASE jsonb_typeof(d.reasons) WHEN 'array' THEN d.reasons ELSE d.reasons->'hits' END) r), '') || ' ',
       'open', d.decided_at
FROM decisions d JOIN orders o ON o.order_id = d.order_id
WHERE d.verdict = 'review'
  AND d.seq = (SELECT max(seq) FROM decisions d2 WHERE d2.order_id = d.order_id);

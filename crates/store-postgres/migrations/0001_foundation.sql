-- Foundation: customers, orders, decisions, linkable entities, events, API keys.
-- Times are milliseconds since the Unix epoch (UTC); the offset a client sent is kept in the
-- JSON body of the row. Released migrations are never edited: add a new file instead.

CREATE TABLE customers (
    customer_id    TEXT PRIMARY KEY,
    email          TEXT,
    phone          TEXT,
    name           TEXT,
    created_at     TEXT,             -- account creation as sent (RFC 3339)
    invited_by     TEXT,
    channel        TEXT,             -- channel of the first order
    first_order_at BIGINT NOT NULL,
    last_order_at  BIGINT NOT NULL  -- the profile columns hold the snapshot of this order
);
CREATE INDEX customers_invited_by ON customers (invited_by) WHERE invited_by IS NOT NULL;

CREATE TABLE orders (
    order_id       TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    placed_at      BIGINT NOT NULL,
    channel        TEXT,
    total_minor    BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    body           JSONB NOT NULL,   -- the parsed order in intake-v1 shape
    entities       BYTEA NOT NULL,     -- its entity keys, 17 bytes each (kind, hash): an account's
                                     -- entities come from its orders, without a second index
    received_at    BIGINT NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, placed_at);
CREATE INDEX orders_placed ON orders (placed_at);

-- Every decision for an order; seq 0 is the answer to POST /orders, later ones re-decisions.
CREATE TABLE decisions (
    order_id        TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    verdict         TEXT NOT NULL,
    score           BIGINT NOT NULL,
    ruleset_version BIGINT NOT NULL,
    reasons         JSONB NOT NULL,  -- JSON array
    decided_at      BIGINT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

-- One row per entity per order: keyed hash, kind, time and value. An append-only table with an
-- index led by (hash, time): "who used this device, and when" and windowed velocity are one
-- index range scan. Idempotency is enforced per order, so the table needs no key of its own,
-- which lets a bulk load drop and rebuild the indexes (see BULK_INDEXES in the store).
CREATE TABLE order_entities (
    hash         BYTEA NOT NULL,
    kind         BIGINT NOT NULL,
    seen_at      BIGINT NOT NULL,
    order_id     TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    amount_minor BIGINT NOT NULL
);
CREATE INDEX order_entities_hash ON order_entities (hash, seen_at) INCLUDE (customer_id, kind, amount_minor);

CREATE TABLE events (
    event_id    TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    order_id    TEXT,
    customer_id TEXT,
    body        JSONB NOT NULL,      -- the parsed event in intake-v1 shape
    received_at BIGINT NOT NULL
);
CREATE INDEX events_order ON events (order_id, occurred_at) WHERE order_id IS NOT NULL;
CREATE INDEX events_customer ON events (customer_id, occurred_at) WHERE customer_id IS NOT NULL;
CREATE INDEX events_type ON events (type, occurred_at);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,       -- comma-separated
    secret_hash BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Installation settings, e.g. the fingerprint of the entity-hash key: an instance started with a
-- different key would silently stop linking, so start-up compares it.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

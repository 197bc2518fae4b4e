-- Disputes from payment providers, their events (raw beside normalised), evidence satisfied by
-- hand, and the monthly settled volumes the scheme ratios divide by. Times are milliseconds.
CREATE TABLE disputes (
    dispute_id    TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    provider_ref  TEXT NOT NULL,
    payment_ref   TEXT,
    order_id      TEXT,
    customer_id   TEXT,
    case_id       TEXT,
    stage         TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason_code   TEXT,
    reason_family TEXT NOT NULL,
    network       TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    due_by        BIGINT,
    due_key       BIGINT NOT NULL,   -- due_by, or far in the future: the queue's sort key
    is_open       BIGINT NOT NULL,   -- needs_response or under_review
    fraud_report  BIGINT NOT NULL,
    funds_minor   BIGINT NOT NULL,
    opened_at     BIGINT NOT NULL,
    month         TEXT NOT NULL,      -- YYYY-MM of opened_at, UTC
    updated_at    BIGINT NOT NULL,
    closed_at     BIGINT,
    warned_at     BIGINT,
    escalated_at  BIGINT,
    submitted_at  BIGINT,
    submitted_by  TEXT,
    version       BIGINT NOT NULL
);
CREATE UNIQUE INDEX disputes_ref ON disputes (provider, provider_ref);
CREATE INDEX disputes_queue ON disputes (is_open, fraud_report, due_key);
CREATE INDEX disputes_all ON disputes (fraud_report, due_key);
CREATE INDEX disputes_order ON disputes (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX disputes_customer ON disputes (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX disputes_month ON disputes (month, network, fraud_report, stage, status, amount_minor, payment_ref, provider_ref);

CREATE TABLE dispute_events (
    provider    TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL,
    dispute_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    normalised  TEXT NOT NULL,
    raw         TEXT NOT NULL,
    PRIMARY KEY (provider, dedupe_key)
);
CREATE INDEX dispute_events_dispute ON dispute_events (dispute_id, occurred_at);

CREATE TABLE dispute_evidence (
    dispute_id TEXT NOT NULL,
    item       TEXT NOT NULL,
    note       TEXT NOT NULL,
    by_actor   TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (dispute_id, item)
);

CREATE TABLE scheme_volumes (
    month      TEXT NOT NULL,
    network    TEXT NOT NULL,
    settled    BIGINT NOT NULL,
    source     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (month, network)
);

-- The payment provider's reference of an order's payment (disputes link through it) and its
-- card network (the scheme ratios' denominators). Rows stored before keep them NULL.
ALTER TABLE orders ADD COLUMN psp_reference TEXT;
ALTER TABLE orders ADD COLUMN card_network TEXT;
CREATE INDEX orders_psp ON orders (psp_reference) WHERE psp_reference IS NOT NULL;

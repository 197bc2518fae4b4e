-- KPIs: one row of facts per order (what it contributes) and daily aggregates per dimension,
-- segment and currency, kept from a queue of changed orders that the database fills itself
-- (the triggers below), so every write path is covered. Days are local days (days since
-- 1970-01-01 in the configured zone). Trend alerts and scheduled report runs.
-- A rowid table: the refresher takes marks in the order they came (orders of nearby days
-- together, so their deltas fall on few aggregate rows).
CREATE TABLE kpi_dirty (
    order_id TEXT NOT NULL UNIQUE,
    bump     INTEGER NOT NULL
);

-- Refreshers lock this row, one at a time: each reads the facts its deltas replace.
CREATE TABLE kpi_lock (id INTEGER PRIMARY KEY CHECK (id = 1));
INSERT INTO kpi_lock (id) VALUES (1);

CREATE TABLE kpi_facts (
    order_id            TEXT PRIMARY KEY,
    day                 INTEGER NOT NULL,
    placed_at           INTEGER NOT NULL,
    channel             TEXT NOT NULL,
    country             TEXT NOT NULL,
    payment_method      TEXT NOT NULL,
    brand               TEXT NOT NULL,
    currency            TEXT NOT NULL,
    rules               TEXT NOT NULL,     -- rule ids, space-separated with spaces around
    fraud               INTEGER NOT NULL,
    orders              INTEGER NOT NULL,
    value_minor         INTEGER NOT NULL,
    fraud_orders        INTEGER NOT NULL,
    fraud_value_minor   INTEGER NOT NULL,
    declined            INTEGER NOT NULL,
    reviewed            INTEGER NOT NULL,
    held                INTEGER NOT NULL,
    released            INTEGER NOT NULL,
    decided             INTEGER NOT NULL,
    decision_ms         INTEGER NOT NULL,
    sla_met             INTEGER NOT NULL,
    fraud_chargebacks   INTEGER NOT NULL,
    good_held           INTEGER NOT NULL,
    stopped_fraud_minor INTEGER NOT NULL,
    labelled            INTEGER NOT NULL,
    screened            INTEGER NOT NULL
);
CREATE INDEX kpi_facts_day ON kpi_facts (day, placed_at);

CREATE TABLE kpi_daily (
    dim                 TEXT NOT NULL,
    day                 INTEGER NOT NULL,
    segment             TEXT NOT NULL,
    currency            TEXT NOT NULL,
    orders              INTEGER NOT NULL,
    value_minor         INTEGER NOT NULL,
    fraud_orders        INTEGER NOT NULL,
    fraud_value_minor   INTEGER NOT NULL,
    declined            INTEGER NOT NULL,
    reviewed            INTEGER NOT NULL,
    held                INTEGER NOT NULL,
    released            INTEGER NOT NULL,
    decided             INTEGER NOT NULL,
    decision_ms         INTEGER NOT NULL,
    sla_met             INTEGER NOT NULL,
    fraud_chargebacks   INTEGER NOT NULL,
    good_held           INTEGER NOT NULL,
    stopped_fraud_minor INTEGER NOT NULL,
    labelled            INTEGER NOT NULL,
    screened            INTEGER NOT NULL,
    PRIMARY KEY (dim, day, segment, currency)
);

CREATE TABLE kpi_alerts (
    alert_id    TEXT PRIMARY KEY,
    kpi         TEXT NOT NULL,
    dim         TEXT NOT NULL,
    segment     TEXT NOT NULL,
    period      TEXT NOT NULL,
    from_day    INTEGER NOT NULL,
    to_day      INTEGER NOT NULL,
    rate        REAL NOT NULL,
    baseline    REAL NOT NULL,
    lim         REAL NOT NULL,
    z           REAL NOT NULL,
    numerator   REAL NOT NULL,
    denominator REAL NOT NULL,
    status      TEXT NOT NULL,
    case_id     TEXT,
    created_at  INTEGER NOT NULL,
    decided_by  TEXT,
    decided_at  INTEGER,
    note        TEXT
);
-- One alert per KPI, segment and period: a rerun of the scan finds it again and adds nothing.
CREATE UNIQUE INDEX kpi_alerts_once ON kpi_alerts (kpi, dim, segment, period);
CREATE INDEX kpi_alerts_recent ON kpi_alerts (status, from_day);

CREATE TABLE kpi_report_runs (
    schedule   TEXT NOT NULL,
    period     TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    status     TEXT NOT NULL,
    recipients TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (schedule, period)
);

-- The area KPIs read by day of these times (covering: the counts read only the index).
CREATE INDEX cases_created ON cases (created_at, first_response_at, first_response_due_at);
CREATE INDEX cases_resolved ON cases (resolved_at, resolution_due_at, created_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX disputes_opened ON disputes (opened_at);
CREATE INDEX disputes_closed ON disputes (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX qa_reviews_created ON qa_reviews (created_at);
CREATE INDEX handlings_closed_csat ON handlings (closed_at) WHERE csat IS NOT NULL;

-- Every change an order's KPIs depend on marks the order.
CREATE TRIGGER kpi_mark_orders AFTER INSERT ON orders BEGIN INSERT INTO kpi_dirty (order_id, bump) VALUES (NEW.order_id, 1) ON CONFLICT (order_id) DO UPDATE SET bump = bump + 1; END;
CREATE TRIGGER kpi_mark_decisions AFTER INSERT ON decisions BEGIN INSERT INTO kpi_dirty (order_id, bump) VALUES (NEW.order_id, 1) ON CONFLICT (order_id) DO UPDATE SET bump = bump + 1; END;
CREATE TRIGGER kpi_mark_actions AFTER INSERT ON review_actions BEGIN INSERT INTO kpi_dirty (order_id, bump) VALUES (NEW.order_id, 1) ON CONFLICT (order_id) DO UPDATE SET bump = bump + 1; END;
CREATE TRIGGER kpi_mark_events AFTER INSERT ON events
    WHEN NEW.order_id IS NOT NULL AND NEW.type IN ('fraud_confirmed', 'legit_confirmed', 'chargeback_received') BEGIN INSERT INTO kpi_dirty (order_id, bump) VALUES (NEW.order_id, 1) ON CONFLICT (order_id) DO UPDATE SET bump = bump + 1; END;
CREATE TRIGGER kpi_mark_disputes AFTER INSERT ON disputes WHEN NEW.order_id IS NOT NULL BEGIN INSERT INTO kpi_dirty (order_id, bump) VALUES (NEW.order_id, 1) ON CONFLICT (order_id) DO UPDATE SET bump = bump + 1; END;
CREATE TRIGGER kpi_mark_disputes_update AFTER UPDATE OF order_id, reason_family ON disputes
    WHEN NEW.order_id IS NOT NULL BEGIN INSERT INTO kpi_dirty (order_id, bump) VALUES (NEW.order_id, 1) ON CONFLICT (order_id) DO UPDATE SET bump = bump + 1; END;

-- What is stored already counts too.
INSERT INTO kpi_dirty (order_id, bump) SELECT order_id, 1 FROM orders WHERE true ORDER BY placed_at ON CONFLICT (order_id) DO NOTHING;

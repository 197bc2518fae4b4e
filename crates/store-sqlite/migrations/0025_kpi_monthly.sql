-- The order aggregates summed per local month (`day` is the month's first day), kept beside the
-- daily rows by the same writes: a year by brand / method / country reads twelve months and the
-- days at the range's ends instead of 365 days of rows.
CREATE TABLE kpi_monthly (
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
INSERT INTO kpi_monthly (dim, day, segment, currency, orders, value_minor, fraud_orders, fraud_value_minor, declined, reviewed, held, released, decided, decision_ms, sla_met, fraud_chargebacks, good_held, stopped_fraud_minor, labelled, screened)
    SELECT dim, CAST(julianday(date(day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), segment, currency, SUM(orders), SUM(value_minor), SUM(fraud_orders), SUM(fraud_value_minor), SUM(declined), SUM(reviewed), SUM(held), SUM(released), SUM(decided), SUM(decision_ms), SUM(sla_met), SUM(fraud_chargebacks), SUM(good_held), SUM(stopped_fraud_minor), SUM(labelled), SUM(screened)
    FROM kpi_daily GROUP BY dim, CAST(julianday(date(day * 86400, 'unixepoch', 'start of month')) - 2440587.5 AS INTEGER), segment, currency;

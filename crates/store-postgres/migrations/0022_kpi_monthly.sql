-- The order aggregates summed per local month (`day` is the month's first day), kept beside the
-- daily rows by the same writes: a year by brand / method / country reads twelve months and the
-- days at the range's ends instead of 365 days of rows.
CREATE TABLE kpi_monthly (
    dim                 TEXT NOT NULL,
    day                 BIGINT NOT NULL,
    segment             TEXT NOT NULL,
    currency            TEXT NOT NULL,
    orders              BIGINT NOT NULL,
    value_minor         BIGINT NOT NULL,
    fraud_orders        BIGINT NOT NULL,
    fraud_value_minor   BIGINT NOT NULL,
    declined            BIGINT NOT NULL,
    reviewed            BIGINT NOT NULL,
    held                BIGINT NOT NULL,
    released            BIGINT NOT NULL,
    decided             BIGINT NOT NULL,
    decision_ms         BIGINT NOT NULL,
    sla_met             BIGINT NOT NULL,
    fraud_chargebacks   BIGINT NOT NULL,
    good_held           BIGINT NOT NULL,
    stopped_fraud_minor BIGINT NOT NULL,
    labelled            BIGINT NOT NULL,
    screened            BIGINT NOT NULL,
    PRIMARY KEY (dim, day, segment, currency)
);
INSERT INTO kpi_monthly (dim, day, segment, currency, orders, value_minor, fraud_orders, fraud_value_minor, declined, reviewed, held, released, decided, decision_ms, sla_met, fraud_chargebacks, good_held, stopped_fraud_minor, labelled, screened)
    SELECT dim, (CAST(date_trunc('month', DATE '1970-01-01' + CAST(day AS INTEGER)) AS DATE) - DATE '1970-01-01'), segment, currency, SUM(orders), SUM(value_minor), SUM(fraud_orders), SUM(fraud_value_minor), SUM(declined), SUM(reviewed), SUM(held), SUM(released), SUM(decided), SUM(decision_ms), SUM(sla_met), SUM(fraud_chargebacks), SUM(good_held), SUM(stopped_fraud_minor), SUM(labelled), SUM(screened)
    FROM kpi_daily GROUP BY dim, (CAST(date_trunc('month', DATE '1970-01-01' + CAST(day AS INTEGER)) AS DATE) - DATE '1970-01-01'), segment, currency;

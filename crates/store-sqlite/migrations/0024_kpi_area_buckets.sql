-- Area KPIs counted per UTC quarter-hour, kept by triggers in the writing transaction, so a
-- year's dashboard sums ~35,000 small rows per KPI instead of scanning a year of cases. A local
-- day of any zone (offsets are whole quarter-hours) is a run of whole buckets. `num` and `den`
-- are integers (hours are summed as milliseconds), so adding and subtracting never drifts;
-- `riskdesk kpis rebuild` recounts them from the rows. What depends on the time of reading
-- (cases not answered yet and overdue) is counted at read time.
CREATE TABLE kpi_area_q (
    code TEXT NOT NULL,
    q    INTEGER NOT NULL,
    num  INTEGER NOT NULL,
    den  INTEGER NOT NULL,
    PRIMARY KEY (code, q)
) WITHOUT ROWID;
CREATE INDEX cases_unanswered ON cases (created_at, first_response_due_at) WHERE first_response_at IS NULL;

CREATE TRIGGER kpi_area_cases_insert AFTER INSERT ON cases BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'case_first_response_sla_rate' AS code, NEW.created_at / 900000 AS q, 1 * (NEW.first_response_at <= NEW.first_response_due_at) AS num, 1 AS den WHERE NEW.first_response_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_sla_rate', NEW.resolved_at / 900000, 1 * (NEW.resolved_at <= NEW.resolution_due_at), 1 WHERE NEW.resolved_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_hours', NEW.resolved_at / 900000, 1 * (NEW.resolved_at - NEW.created_at), 1 WHERE NEW.resolved_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_cases_delete AFTER DELETE ON cases BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'case_first_response_sla_rate' AS code, OLD.created_at / 900000 AS q, -1 * (OLD.first_response_at <= OLD.first_response_due_at) AS num, -1 AS den WHERE OLD.first_response_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_sla_rate', OLD.resolved_at / 900000, -1 * (OLD.resolved_at <= OLD.resolution_due_at), -1 WHERE OLD.resolved_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_hours', OLD.resolved_at / 900000, -1 * (OLD.resolved_at - OLD.created_at), -1 WHERE OLD.resolved_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_cases_update AFTER UPDATE ON cases
    WHEN OLD.created_at IS NOT NEW.created_at OR OLD.first_response_at IS NOT NEW.first_response_at OR OLD.first_response_due_at IS NOT NEW.first_response_due_at OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.resolution_due_at IS NOT NEW.resolution_due_at BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'case_first_response_sla_rate' AS code, OLD.created_at / 900000 AS q, -1 * (OLD.first_response_at <= OLD.first_response_due_at) AS num, -1 AS den WHERE OLD.first_response_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_sla_rate', OLD.resolved_at / 900000, -1 * (OLD.resolved_at <= OLD.resolution_due_at), -1 WHERE OLD.resolved_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_hours', OLD.resolved_at / 900000, -1 * (OLD.resolved_at - OLD.created_at), -1 WHERE OLD.resolved_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'case_first_response_sla_rate' AS code, NEW.created_at / 900000 AS q, 1 * (NEW.first_response_at <= NEW.first_response_due_at) AS num, 1 AS den WHERE NEW.first_response_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_sla_rate', NEW.resolved_at / 900000, 1 * (NEW.resolved_at <= NEW.resolution_due_at), 1 WHERE NEW.resolved_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_hours', NEW.resolved_at / 900000, 1 * (NEW.resolved_at - NEW.created_at), 1 WHERE NEW.resolved_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_disputes_insert AFTER INSERT ON disputes BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'chargeback_ratio' AS code, NEW.opened_at / 900000 AS q, 1 AS num, 0 AS den WHERE NEW.stage <> 'inquiry'
        UNION ALL SELECT 'dispute_win_rate', NEW.closed_at / 900000, 1 * (NEW.status = 'won'), 1 WHERE NEW.closed_at IS NOT NULL AND NEW.status IN ('won', 'lost', 'accepted', 'expired')
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_disputes_delete AFTER DELETE ON disputes BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'chargeback_ratio' AS code, OLD.opened_at / 900000 AS q, -1 AS num, 0 AS den WHERE OLD.stage <> 'inquiry'
        UNION ALL SELECT 'dispute_win_rate', OLD.closed_at / 900000, -1 * (OLD.status = 'won'), -1 WHERE OLD.closed_at IS NOT NULL AND OLD.status IN ('won', 'lost', 'accepted', 'expired')
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_disputes_update AFTER UPDATE ON disputes
    WHEN OLD.opened_at IS NOT NEW.opened_at OR OLD.stage IS NOT NEW.stage OR OLD.closed_at IS NOT NEW.closed_at OR OLD.status IS NOT NEW.status BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'chargeback_ratio' AS code, OLD.opened_at / 900000 AS q, -1 AS num, 0 AS den WHERE OLD.stage <> 'inquiry'
        UNION ALL SELECT 'dispute_win_rate', OLD.closed_at / 900000, -1 * (OLD.status = 'won'), -1 WHERE OLD.closed_at IS NOT NULL AND OLD.status IN ('won', 'lost', 'accepted', 'expired')
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'chargeback_ratio' AS code, NEW.opened_at / 900000 AS q, 1 AS num, 0 AS den WHERE NEW.stage <> 'inquiry'
        UNION ALL SELECT 'dispute_win_rate', NEW.closed_at / 900000, 1 * (NEW.status = 'won'), 1 WHERE NEW.closed_at IS NOT NULL AND NEW.status IN ('won', 'lost', 'accepted', 'expired')
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_handlings_insert AFTER INSERT ON handlings BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'csat' AS code, NEW.closed_at / 900000 AS q, 1 * NEW.csat AS num, 1 AS den WHERE NEW.csat IS NOT NULL AND NEW.closed_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_handlings_delete AFTER DELETE ON handlings BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'csat' AS code, OLD.closed_at / 900000 AS q, -1 * OLD.csat AS num, -1 AS den WHERE OLD.csat IS NOT NULL AND OLD.closed_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
CREATE TRIGGER kpi_area_handlings_update AFTER UPDATE ON handlings
    WHEN OLD.closed_at IS NOT NEW.closed_at OR OLD.csat IS NOT NEW.csat BEGIN
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'csat' AS code, OLD.closed_at / 900000 AS q, -1 * OLD.csat AS num, -1 AS den WHERE OLD.csat IS NOT NULL AND OLD.closed_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
    INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, num, den FROM (
        SELECT 'csat' AS code, NEW.closed_at / 900000 AS q, 1 * NEW.csat AS num, 1 AS den WHERE NEW.csat IS NOT NULL AND NEW.closed_at IS NOT NULL
    ) WHERE true
    ON CONFLICT (code, q) DO UPDATE SET num = num + excluded.num, den = den + excluded.den;
END;
-- What is stored already counts too.
INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, SUM(num), SUM(den) FROM (
        SELECT 'case_first_response_sla_rate' AS code, cases.created_at / 900000 AS q, 1 * (cases.first_response_at <= cases.first_response_due_at) AS num, 1 AS den FROM cases WHERE cases.first_response_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_sla_rate', cases.resolved_at / 900000, 1 * (cases.resolved_at <= cases.resolution_due_at), 1 FROM cases WHERE cases.resolved_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_hours', cases.resolved_at / 900000, 1 * (cases.resolved_at - cases.created_at), 1 FROM cases WHERE cases.resolved_at IS NOT NULL
    ) GROUP BY code, q;
INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, SUM(num), SUM(den) FROM (
        SELECT 'chargeback_ratio' AS code, disputes.opened_at / 900000 AS q, 1 AS num, 0 AS den FROM disputes WHERE disputes.stage <> 'inquiry'
        UNION ALL SELECT 'dispute_win_rate', disputes.closed_at / 900000, 1 * (disputes.status = 'won'), 1 FROM disputes WHERE disputes.closed_at IS NOT NULL AND disputes.status IN ('won', 'lost', 'accepted', 'expired')
    ) GROUP BY code, q;
INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, SUM(num), SUM(den) FROM (
        SELECT 'csat' AS code, handlings.closed_at / 900000 AS q, 1 * handlings.csat AS num, 1 AS den FROM handlings WHERE handlings.csat IS NOT NULL AND handlings.closed_at IS NOT NULL
    ) GROUP BY code, q;

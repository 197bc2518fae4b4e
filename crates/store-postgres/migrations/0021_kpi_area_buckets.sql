-- Area KPIs counted per UTC quarter-hour, kept by triggers in the writing transaction (see the
-- SQLite migration of the same name for why).
CREATE TABLE kpi_area_q (
    code TEXT NOT NULL,
    q    BIGINT NOT NULL,
    num  BIGINT NOT NULL,
    den  BIGINT NOT NULL,
    PRIMARY KEY (code, q)
);
CREATE INDEX cases_unanswered ON cases (created_at, first_response_due_at) WHERE first_response_at IS NULL;

CREATE FUNCTION kpi_area_add(p_code TEXT, p_at BIGINT, p_num BIGINT, p_den BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO kpi_area_q (code, q, num, den) VALUES (p_code, p_at / 900000, p_num, p_den)
    ON CONFLICT (code, q) DO UPDATE SET num = kpi_area_q.num + EXCLUDED.num, den = kpi_area_q.den + EXCLUDED.den
$$;

CREATE FUNCTION kpi_area_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.first_response_at IS NOT NULL THEN PERFORM kpi_area_add('case_first_response_sla_rate', OLD.created_at, -1 * CASE WHEN OLD.first_response_at <= OLD.first_response_due_at THEN 1 ELSE 0 END, -1); END IF;
        IF OLD.resolved_at IS NOT NULL THEN PERFORM kpi_area_add('case_resolution_sla_rate', OLD.resolved_at, -1 * CASE WHEN OLD.resolved_at <= OLD.resolution_due_at THEN 1 ELSE 0 END, -1); END IF;
        IF OLD.resolved_at IS NOT NULL THEN PERFORM kpi_area_add('case_resolution_hours', OLD.resolved_at, -1 * (OLD.resolved_at - OLD.created_at), -1); END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.first_response_at IS NOT NULL THEN PERFORM kpi_area_add('case_first_response_sla_rate', NEW.created_at, 1 * CASE WHEN NEW.first_response_at <= NEW.first_response_due_at THEN 1 ELSE 0 END, 1); END IF;
        IF NEW.resolved_at IS NOT NULL THEN PERFORM kpi_area_add('case_resolution_sla_rate', NEW.resolved_at, 1 * CASE WHEN NEW.resolved_at <= NEW.resolution_due_at THEN 1 ELSE 0 END, 1); END IF;
        IF NEW.resolved_at IS NOT NULL THEN PERFORM kpi_area_add('case_resolution_hours', NEW.resolved_at, 1 * (NEW.resolved_at - NEW.created_at), 1); END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER kpi_area_cases AFTER INSERT OR DELETE ON cases FOR EACH ROW EXECUTE FUNCTION kpi_area_cases();
CREATE TRIGGER kpi_area_cases_update AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at OR OLD.first_response_due_at IS DISTINCT FROM NEW.first_response_due_at OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at OR OLD.resolution_due_at IS DISTINCT FROM NEW.resolution_due_at) EXECUTE FUNCTION kpi_area_cases();

CREATE FUNCTION kpi_area_disputes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.stage <> 'inquiry' THEN PERFORM kpi_area_add('chargeback_ratio', OLD.opened_at, -1, 0); END IF;
        IF OLD.closed_at IS NOT NULL AND OLD.status IN ('won', 'lost', 'accepted', 'expired') THEN PERFORM kpi_area_add('dispute_win_rate', OLD.closed_at, -1 * CASE WHEN OLD.status = 'won' THEN 1 ELSE 0 END, -1); END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.stage <> 'inquiry' THEN PERFORM kpi_area_add('chargeback_ratio', NEW.opened_at, 1, 0); END IF;
        IF NEW.closed_at IS NOT NULL AND NEW.status IN ('won', 'lost', 'accepted', 'expired') THEN PERFORM kpi_area_add('dispute_win_rate', NEW.closed_at, 1 * CASE WHEN NEW.status = 'won' THEN 1 ELSE 0 END, 1); END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER kpi_area_disputes AFTER INSERT OR DELETE ON disputes FOR EACH ROW EXECUTE FUNCTION kpi_area_disputes();
CREATE TRIGGER kpi_area_disputes_update AFTER UPDATE ON disputes FOR EACH ROW
    WHEN (OLD.opened_at IS DISTINCT FROM NEW.opened_at OR OLD.stage IS DISTINCT FROM NEW.stage OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION kpi_area_disputes();

CREATE FUNCTION kpi_area_handlings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.csat IS NOT NULL AND OLD.closed_at IS NOT NULL THEN PERFORM kpi_area_add('csat', OLD.closed_at, -1 * OLD.csat, -1); END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.csat IS NOT NULL AND NEW.closed_at IS NOT NULL THEN PERFORM kpi_area_add('csat', NEW.closed_at, 1 * NEW.csat, 1); END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER kpi_area_handlings AFTER INSERT OR DELETE ON handlings FOR EACH ROW EXECUTE FUNCTION kpi_area_handlings();
CREATE TRIGGER kpi_area_handlings_update AFTER UPDATE ON handlings FOR EACH ROW
    WHEN (OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.csat IS DISTINCT FROM NEW.csat) EXECUTE FUNCTION kpi_area_handlings();

-- What is stored already counts too.
INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, SUM(num), SUM(den) FROM (
        SELECT 'case_first_response_sla_rate' AS code, cases.created_at / 900000 AS q, 1 * CASE WHEN cases.first_response_at <= cases.first_response_due_at THEN 1 ELSE 0 END AS num, 1 AS den FROM cases WHERE cases.first_response_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_sla_rate' AS code, cases.resolved_at / 900000 AS q, 1 * CASE WHEN cases.resolved_at <= cases.resolution_due_at THEN 1 ELSE 0 END AS num, 1 AS den FROM cases WHERE cases.resolved_at IS NOT NULL
        UNION ALL SELECT 'case_resolution_hours' AS code, cases.resolved_at / 900000 AS q, 1 * (cases.resolved_at - cases.created_at) AS num, 1 AS den FROM cases WHERE cases.resolved_at IS NOT NULL
    ) AS c GROUP BY code, q;
INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, SUM(num), SUM(den) FROM (
        SELECT 'chargeback_ratio' AS code, disputes.opened_at / 900000 AS q, 1 AS num, 0 AS den FROM disputes WHERE disputes.stage <> 'inquiry'
        UNION ALL SELECT 'dispute_win_rate' AS code, disputes.closed_at / 900000 AS q, 1 * CASE WHEN disputes.status = 'won' THEN 1 ELSE 0 END AS num, 1 AS den FROM disputes WHERE disputes.closed_at IS NOT NULL AND disputes.status IN ('won', 'lost', 'accepted', 'expired')
    ) AS c GROUP BY code, q;
INSERT INTO kpi_area_q (code, q, num, den)
    SELECT code, q, SUM(num), SUM(den) FROM (
        SELECT 'csat' AS code, handlings.closed_at / 900000 AS q, 1 * handlings.csat AS num, 1 AS den FROM handlings WHERE handlings.csat IS NOT NULL AND handlings.closed_at IS NOT NULL
    ) AS c GROUP BY code, q;

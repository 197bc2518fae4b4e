-- Cases: escalations, investigations and reports, with SLA clocks, a timeline, links and tasks.
-- Times are milliseconds since the epoch; flags are 0/1.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL,
    tier BIGINT NOT NULL,
    priority_rank BIGINT NOT NULL,
    status TEXT NOT NULL,
    is_open BIGINT NOT NULL,
    team TEXT NOT NULL,
    owner TEXT,
    opened_by TEXT NOT NULL,
    source TEXT,
    source_ref TEXT,
    open_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_response_at BIGINT,
    first_response_due_at BIGINT NOT NULL,
    resolution_due_at BIGINT NOT NULL,
    paused_secs BIGINT NOT NULL,
    paused_since BIGINT,
    resolution TEXT,
    summary TEXT,
    resolved_at BIGINT,
    closed_at BIGINT,
    warned_at BIGINT,
    escalated_at BIGINT,
    reopened BIGINT NOT NULL,
    version BIGINT NOT NULL
);
-- One case per helpdesk ticket, and one open case per deduplicated situation.
CREATE UNIQUE INDEX cases_source ON cases (source, source_ref) WHERE source IS NOT NULL AND source_ref IS NOT NULL;
CREATE UNIQUE INDEX cases_open_key ON cases (open_key) WHERE open_key IS NOT NULL;
-- The team queue and "my cases", by time left.
CREATE INDEX cases_queue ON cases (is_open, team, resolution_due_at);
CREATE INDEX cases_owner ON cases (owner, is_open, resolution_due_at);
CREATE INDEX cases_open_due ON cases (is_open, resolution_due_at);
CREATE INDEX cases_opened_by ON cases (opened_by, created_at);

CREATE TABLE case_events (
    id BIGSERIAL PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);
CREATE INDEX case_events_actor ON case_events (actor, kind);

CREATE TABLE case_links (
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_links_value ON case_links (kind, value);

CREATE TABLE case_tasks (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    mandatory BIGINT NOT NULL,
    team TEXT,
    due_at BIGINT,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    done_by TEXT,
    done_at BIGINT,
    answer TEXT
);
CREATE INDEX case_tasks_case ON case_tasks (case_id, position);
CREATE INDEX case_tasks_team ON case_tasks (team, status, due_at);

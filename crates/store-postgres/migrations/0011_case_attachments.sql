-- Files attached to cases (type-checked and size-limited by the service), with their SHA-256.
CREATE TABLE case_attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, added_at);

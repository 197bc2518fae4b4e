-- Knowledge: SOPs, playbooks and FAQ pages; every version kept, the current one pointed at.
CREATE TABLE knowledge_pages (
    slug TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    case_kind TEXT,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX knowledge_pages_playbook ON knowledge_pages (kind, case_kind, updated_at);

CREATE TABLE knowledge_versions (
    slug TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    case_kind TEXT,
    body TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (slug, version)
);

-- Who read which version.
CREATE TABLE knowledge_acks (
    slug TEXT NOT NULL,
    version BIGINT NOT NULL,
    username TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (slug, version, username)
);

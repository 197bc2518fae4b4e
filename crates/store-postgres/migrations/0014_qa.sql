-- Quality assurance of Tier-2 handlings: the handlings (transcripts are personal data), why each
-- was sampled, versioned scorecards, reviews with their feedback loop, the criteria each review
-- failed (for the trends), calibration sessions, and who belongs to which provider and team.
CREATE TABLE handlings (
    handling_id       TEXT PRIMARY KEY,
    agent             TEXT NOT NULL,
    provider          TEXT NOT NULL,
    team              TEXT NOT NULL,
    channel           TEXT NOT NULL,
    closed_at         BIGINT NOT NULL,
    week              TEXT NOT NULL,
    case_ref          TEXT,
    customer_id       TEXT,
    order_ids         TEXT NOT NULL,   -- JSON array
    actions           TEXT NOT NULL,   -- JSON array
    identity_checked  BIGINT NOT NULL,
    csat              BIGINT,
    transcript        TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    picks             TEXT NOT NULL,   -- JSON array of {code, why}; empty when not sampled
    scorecard_version BIGINT,
    review_status     TEXT             -- open | reviewed | NULL (not sampled)
);
CREATE INDEX handlings_inbox ON handlings (review_status, closed_at) WHERE review_status = 'open';
CREATE INDEX handlings_agent ON handlings (agent, closed_at);
CREATE INDEX handlings_provider ON handlings (provider, closed_at);

CREATE TABLE qa_scorecards (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE qa_reviews (
    review_id         TEXT PRIMARY KEY,
    handling_id       TEXT NOT NULL,
    reviewer          TEXT NOT NULL,
    scorecard_version BIGINT NOT NULL,
    ratings           TEXT NOT NULL,
    score             DOUBLE PRECISION NOT NULL,
    knocked_out       TEXT NOT NULL,   -- JSON array
    failed            TEXT NOT NULL,   -- JSON array
    comment           TEXT NOT NULL,
    session_id        TEXT,
    agent             TEXT NOT NULL,
    provider          TEXT NOT NULL,
    team              TEXT NOT NULL,
    week              TEXT NOT NULL,
    random            BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    feedback_status   TEXT NOT NULL,
    feedback_due      BIGINT,
    answered_by       TEXT,
    answered_at       BIGINT,
    dispute_reason    TEXT,
    second_reviewer   TEXT,
    second_score      DOUBLE PRECISION,
    second_ratings    TEXT,
    decided_at        BIGINT,
    version           BIGINT NOT NULL
);
CREATE INDEX qa_reviews_handling ON qa_reviews (handling_id);
CREATE INDEX qa_reviews_feedback ON qa_reviews (provider, feedback_status, created_at);
CREATE INDEX qa_reviews_session ON qa_reviews (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX qa_reviews_trend ON qa_reviews (week, session_id, provider, team, agent, score, second_score, random, knocked_out);

CREATE TABLE qa_review_failures (
    review_id TEXT NOT NULL,
    criterion TEXT NOT NULL,
    knockout  BIGINT NOT NULL,
    week      TEXT NOT NULL,
    provider  TEXT NOT NULL,
    PRIMARY KEY (review_id, criterion)
);
CREATE INDEX qa_review_failures_week ON qa_review_failures (week, provider, criterion, knockout);

CREATE TABLE qa_sessions (
    session_id   TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    handling_ids TEXT NOT NULL,
    reviewers    TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE qa_members (
    username TEXT PRIMARY KEY,
    provider TEXT,
    team     TEXT
);

-- Webhooks out: a durable outbox. A message is written in the same transaction as the decision
-- it announces, so none is lost and none is sent for a decision that was rolled back; a
-- deliverer on any instance claims due messages with a lease and retries with backoff.
CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,   -- msg_<ULID>, sent as webhook-id
    endpoint        TEXT NOT NULL,      -- name of a configured endpoint
    event_type      TEXT NOT NULL,      -- order.decided | order.redecided
    payload         TEXT NOT NULL,      -- the JSON body, exactly as signed and sent
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    delivered_at    BIGINT,
    failed_at       BIGINT,               -- gave up after the last retry
    last_error      TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

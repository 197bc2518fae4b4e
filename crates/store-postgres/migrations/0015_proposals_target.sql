-- The proposals about one subject, for its history (an order's overridden cancellation).
CREATE INDEX proposals_target ON proposals (target, created_at);

-- events_orphans (0007) listed every event without a customer, also those without an order,
-- which no stored order will ever claim: they sat in it for good. Only events waiting for their
-- order belong there; the look-up (`order_id = ?`) implies the added condition.
DROP INDEX events_orphans;
CREATE INDEX events_orphans ON events (order_id) WHERE customer_id IS NULL AND order_id IS NOT NULL;

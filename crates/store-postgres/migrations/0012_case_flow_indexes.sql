-- The order-flow monitor reads these covering indexes only: paid orders by time, and whether an
-- order has a shipment, cancellation or refund.
CREATE INDEX events_type_order ON events (type, occurred_at, order_id);
CREATE INDEX events_order_type ON events (order_id, type) WHERE order_id IS NOT NULL;

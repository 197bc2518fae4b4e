-- Events that arrived before their order (no customer yet): each stored order looks here for
-- its own, and this index is nearly always empty, where `events_order` spans every event.
CREATE INDEX events_orphans ON events (order_id) WHERE customer_id IS NULL;

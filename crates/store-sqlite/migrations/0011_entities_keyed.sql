-- order_entities becomes its own index: a WITHOUT ROWID table keyed as its covering index was
-- (hash, time, account, kind, amount, order). The table and that index held the same values,
-- so every entity use was written twice; now once (425 MB less per million orders). A key
-- (hash, kind, order) occurs once per order, so the key is unique. A bulk load no longer drops
-- and rebuilds an index: it writes its uses in key order at its end (see src/bulk.rs).
CREATE TABLE order_entities_keyed (
    hash         BLOB NOT NULL,
    kind         INTEGER NOT NULL,
    seen_at      INTEGER NOT NULL,
    order_id     TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (hash, seen_at, customer_id, kind, amount_minor, order_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO order_entities_keyed (hash, kind, seen_at, order_id, customer_id, amount_minor)
    SELECT hash, kind, seen_at, order_id, customer_id, amount_minor FROM order_entities
    ORDER BY hash, seen_at, customer_id, kind, amount_minor, order_id;
DROP TABLE order_entities;
ALTER TABLE order_entities_keyed RENAME TO order_entities;

-- The writer's filter of stored keys (src/seen.rs) now covers the keys of every order up to a
-- rowid of `orders`, read from `orders.entities`. A deletion from `orders` could let a later
-- order take a lower rowid again, so `entity_deletions` now counts those.
CREATE TRIGGER orders_deleted AFTER DELETE ON orders
BEGIN
    UPDATE entity_deletions SET n = n + 1;
END;

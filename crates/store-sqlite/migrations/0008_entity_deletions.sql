-- Counts deletions from order_entities. The writer keeps a filter of the keys the entity index
-- holds and brings it up to date by reading the rows above the highest rowid it has seen; a
-- deletion could let a later row take a lower rowid again, so any deletion makes it start over.
CREATE TABLE entity_deletions (n INTEGER NOT NULL);
INSERT INTO entity_deletions (n) VALUES (0);
CREATE TRIGGER order_entities_deleted AFTER DELETE ON order_entities
BEGIN
    UPDATE entity_deletions SET n = n + 1;
END;

-- Orders whose entity uses are not merged into the entity index yet (see src/tail.rs): written
-- with the order, deleted when its uses are merged. Empty for a database from before: its
-- index is complete.
CREATE TABLE entity_backlog (
    order_rowid INTEGER PRIMARY KEY
);

-- Positions in storage order: caches of derived facts (the backtest frame index) read what was
-- stored after what they hold. SQLite uses its rowid for the same.
ALTER TABLE orders ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX orders_seq ON orders (seq);
ALTER TABLE events ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX events_seq ON events (seq);

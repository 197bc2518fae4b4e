-- Personal fields are sealed at rest (riskdesk-store's `seal` module), which SQL cannot read:
-- order bodies become bytes as on SQLite (packed, then sealed), event bodies text; the one
-- value queries took from an order body, the shipping country, gets a column of its own.
ALTER TABLE orders ADD COLUMN country TEXT;
UPDATE orders SET country = body->'shipping_address'->>'country';
ALTER TABLE orders ALTER COLUMN body TYPE BYTEA USING convert_to(body::text, 'UTF8');
ALTER TABLE events ALTER COLUMN body TYPE TEXT USING body::text;

-- Order bodies are stored packed (zstd, see riskdesk-store's `body` module), which SQL cannot
-- read: the one value a query took from the body, the shipping country (the review queue's),
-- gets a column. Rows stored before keep it NULL and their JSON body still answers.
ALTER TABLE orders ADD COLUMN country TEXT;

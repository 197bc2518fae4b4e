-- Order bodies are rewritten in place by retention sweeps, erasures and rectifications. With room
-- left on each page, PostgreSQL writes the new row version beside the old one (a HOT update) and
-- touches none of the table's five indexes; a full page moves the row and adds an entry to each.
ALTER TABLE orders SET (fillfactor = 75);

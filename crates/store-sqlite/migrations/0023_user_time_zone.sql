-- A person's time zone for the pages (IANA name); NULL: the installation's default.
ALTER TABLE users ADD COLUMN time_zone TEXT;

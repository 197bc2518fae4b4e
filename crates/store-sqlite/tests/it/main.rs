//! SQLite's integration tests, one binary: the storage conformance suite, and the SQLite-only
//! paths (bulk loads, the entity index's tail, packed bodies, the schema the hot paths rely on).

mod bulk_load;
mod conformance;
mod entity_tail;
mod packed_bodies;
mod schema;

//! redis-lite: a Redis-compatible in-memory data store, thread-per-core and shared-nothing.
//! (Overview table to be completed.)

pub mod cmd;
pub mod config;
// pub mod conn; (enabled once resp/keyspace APIs land)
pub mod keyspace;
pub mod resp;
// pub mod router; (enabled once resp/keyspace APIs land)
// pub mod server; (enabled once resp/keyspace APIs land)
// pub mod shard; (enabled once resp/keyspace APIs land)

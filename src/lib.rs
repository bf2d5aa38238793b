//! redis-lite: a Redis-compatible in-memory data store, thread-per-core and shared-nothing.
//! (Overview table to be completed.)

pub mod cmd;
pub mod config;
pub mod keyspace;
pub mod resp;

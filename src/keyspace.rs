//! One shard's data (placeholder until the keyspace lands).
pub struct Keyspace {}

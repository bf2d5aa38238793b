//! redis-lite: a Redis-compatible in-memory data store, thread-per-core and shared-nothing.
//!
//! The life of a GET:
//!
//! ```text
//! client ──TCP──▶ core K: accept (SO_REUSEPORT) ─▶ conn: read into its own buffer
//!                  ─▶ resp::parse_requests: every complete frame (pipelining: many per read)
//!                  ─▶ cmd::lookup + arity check (Redis's exact error; the connection stays)
//!                  ─▶ router: owner = shard_of(key)
//!                       owner == K ─▶ run the command function on K's keyspace, in place
//!                       owner != K ─▶ one envelope per owner per batch; its forward loop runs
//!                                     the same function; the encoded replies come back
//!                  ─▶ replies in request order into one buffer; one write per read batch
//! ```
//!
//! | concept | file |
//! |---|---|
//! | configuration: config file, `--directive` options, CONFIG GET view, CONFIG REWRITE | `config.rs` |
//! | logging (`logfile`, run-time `loglevel`); open-files limit, CPU list, banner, pidfile, systemd notify | `logging.rs`, `ops.rs` |
//! | settings CONFIG SET changes at run time (encoding thresholds, protocol limits) | `tunables.rs` |
//! | wire format: request parsing, reply writing, reply frames | `resp.rs` |
//! | command table (arity, flags, keys, route, handler) | `cmd/mod.rs` |
//! | command groups | `cmd/{string,keys,list,hash,set,zset,blocking,scripting,admin}.rs` |
//! | the sorted-set value: dict + counted B+tree (rank, ranges) | `zset.rs` |
//! | one shard's data, lazy + active expiry | `keyspace.rs` |
//! | key ownership (`shard_of`), the per-core `Core`, forwarded batches | `shard.rs` |
//! | splitting and merging multi-shard commands, reply order | `router.rs` |
//! | one connection's loop | `conn.rs` |
//! | cluster mode: the static slot map, MOVED/CROSSSLOT, CLUSTER commands | `cluster.rs` |
//! | entry points shared by the cargo-fuzz targets and their corpus replay test | `fuzzing.rs` |
//! | AUTH/requirepass checks, the NOAUTH gate's commands, protected mode, maxclients | `access.rs` |
//! | executors, meshes, listeners, ready line, shutdown | `server.rs` |
//! | per-core client registry (CLIENT LIST/KILL/UNBLOCK), CLIENT PAUSE | `clients.rs` |
//! | clients blocked on list keys (BLPOP & co): queues, serving, claims | `blocking.rs` |
//! | MULTI/EXEC/WATCH: queueing, one-step single-shard transactions, multi-shard plans | `cmd/multi.rs` |
//! | shard locks (ascending order) for multi-shard transactions and SAVE's cut | `tx.rs` |
//! | pub/sub: per-core subscribers, mailboxes, output-buffer limit; the commands | `pubsub.rs`, `cmd/pubsub.rs` |
//! | keyspace notifications (`notify-keyspace-events`): per-core event buffer, publishing | `notify.rs` |
//! | SAVE/BGSAVE snapshots, manifest, start-up load | `persist/` |
//! | RDB format (Redis 7.0, v10): records, strings, lists, LZF, CRC-64 | `rdb.rs` |
//! | server-wide commands (SAVE, BGSAVE, SHUTDOWN, INFO, LASTSAVE) | `cmd/server.rs` |
//!
//! Invariants:
//! - Command functions are synchronous: no shard borrow is ever held across an `.await`.
//! - Only owned, `Send` data (argument arenas, encoded replies) crosses cores.
//! - A shard's forward loop never waits on another shard, so full queues cannot deadlock. It may
//!   wait at its transaction gate, but a lock holder never waits on a forward loop: it reaches
//!   shards through control messages every shard answers at once, and takes locks in ascending
//!   shard order (see `tx.rs`).
//! - `shard_of` is stable across builds, restarts and machines (CRC16 slots, never a seeded hash);
//!   ahash is only for maps inside a shard.

pub mod access;
pub mod blocking;
pub mod clients;
pub mod cluster;
pub mod cmd;
pub mod config;
pub mod conn;
#[doc(hidden)]
pub mod fuzzing;
pub mod keyspace;
pub mod logging;
pub mod notify;
pub mod ops;
pub mod persist;
pub mod pubsub;
pub mod rdb;
pub mod resp;
pub mod router;
pub mod server;
pub mod shard;
pub mod tunables;
pub mod tx;
pub mod zset;

#[cfg(test)]
mod model_test;

//! Settings that CONFIG SET may change at run time and that code on any core reads: encoding
//! thresholds (what OBJECT ENCODING reports and how snapshots encode small collections),
//! protocol and client limits. Start-up sets them from the config (`Config::apply_globals`).
//!
//! Why process-wide atomics: every shard and connection reads them, rarely changes happen from
//! any core, and a relaxed load costs nothing on the paths that read them. One server per
//! process, so "process-wide" is "server-wide".

use std::sync::atomic::{AtomicI64, Ordering};

/// How a value is written and parsed, as in Redis's config.c.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A plain integer.
    Int,
    /// Bytes, accepting Redis's memory units (`1gb`, `512mb`, `100k`…).
    Memory,
}

/// One tunable: its Redis name, an older alias, bounds and default.
pub struct Tunable {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub min: i64,
    pub max: i64,
    pub default: i64,
    value: AtomicI64,
}

impl Tunable {
    const fn new(
        name: &'static str,
        alias: Option<&'static str>,
        kind: Kind,
        min: i64,
        max: i64,
        default: i64,
    ) -> Tunable {
        Tunable {
            name,
            alias,
            kind,
            min,
            max,
            default,
            value: AtomicI64::new(default),
        }
    }

    #[inline]
    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    pub fn set(&self, v: i64) {
        self.value.store(v, Ordering::Relaxed);
    }

    /// Whether `name` (any case) names this tunable.
    pub fn is_named(&self, name: &[u8]) -> bool {
        self.name.as_bytes().eq_ignore_ascii_case(name)
            || self
                .alias
                .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
    }

    /// Parses a CONFIG SET value, or gives Redis's reason for refusing it.
    pub fn parse(&self, text: &[u8]) -> Result<i64, String> {
        let v = match self.kind {
            Kind::Int => crate::resp::string2ll(text)
                .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?,
            Kind::Memory => {
                parse_memory(text).ok_or_else(|| "argument must be a memory value".to_string())?
            }
        };
        if v < self.min || v > self.max {
            return Err(format!(
                "argument must be between {} and {} inclusive",
                self.min, self.max
            ));
        }
        Ok(v)
    }
}

const I32_MAX: i64 = i32::MAX as i64;
const I32_MIN: i64 = i32::MIN as i64;
const LONG_MAX: i64 = i64::MAX;
const MB: i64 = 1024 * 1024;

pub static HASH_MAX_LISTPACK_ENTRIES: Tunable = Tunable::new(
    "hash-max-listpack-entries",
    Some("hash-max-ziplist-entries"),
    Kind::Int,
    0,
    LONG_MAX,
    512,
);
pub static HASH_MAX_LISTPACK_VALUE: Tunable = Tunable::new(
    "hash-max-listpack-value",
    Some("hash-max-ziplist-value"),
    Kind::Memory,
    0,
    LONG_MAX,
    64,
);
pub static SET_MAX_INTSET_ENTRIES: Tunable =
    Tunable::new("set-max-intset-entries", None, Kind::Int, 0, LONG_MAX, 512);
pub static ZSET_MAX_LISTPACK_ENTRIES: Tunable = Tunable::new(
    "zset-max-listpack-entries",
    Some("zset-max-ziplist-entries"),
    Kind::Int,
    0,
    LONG_MAX,
    128,
);
pub static ZSET_MAX_LISTPACK_VALUE: Tunable = Tunable::new(
    "zset-max-listpack-value",
    Some("zset-max-ziplist-value"),
    Kind::Memory,
    0,
    LONG_MAX,
    64,
);
/// Quicklist node size as Redis reads it (negative: a byte size class, -2 = 8 KiB).
pub static LIST_MAX_LISTPACK_SIZE: Tunable = Tunable::new(
    "list-max-listpack-size",
    Some("list-max-ziplist-size"),
    Kind::Int,
    I32_MIN,
    I32_MAX,
    -2,
);
pub static LIST_COMPRESS_DEPTH: Tunable =
    Tunable::new("list-compress-depth", None, Kind::Int, 0, I32_MAX, 0);

/// Longest bulk string a client may send (Redis's `proto-max-bulk-len`); also the longest
/// string APPEND/SETRANGE may build. Values are stored in cells of at most
/// [`crate::keyspace::MAX_LEN`] bytes, so that caps it whatever is configured: see
/// [`max_bulk_len`].
pub static PROTO_MAX_BULK_LEN: Tunable = Tunable::new(
    "proto-max-bulk-len",
    None,
    Kind::Memory,
    MB,
    LONG_MAX,
    512 * MB,
);
/// A client whose unparsed input passes this is closed (Redis's `client-query-buffer-limit`).
pub static CLIENT_QUERY_BUFFER_LIMIT: Tunable = Tunable::new(
    "client-query-buffer-limit",
    None,
    Kind::Memory,
    MB,
    LONG_MAX,
    1024 * MB,
);

/// Redis's `client-output-buffer-limit pubsub <hard> <soft> <seconds>` (default 32mb 8mb 60):
/// bytes and seconds; 0 disables a limit.
pub static PUBSUB_OUTPUT_LIMITS: [std::sync::atomic::AtomicU64; 3] = [
    std::sync::atomic::AtomicU64::new(32 * 1024 * 1024),
    std::sync::atomic::AtomicU64::new(8 * 1024 * 1024),
    std::sync::atomic::AtomicU64::new(60),
];

/// The pubsub output-buffer limits now: (hard bytes, soft bytes, soft seconds).
pub fn pubsub_output_limits() -> (u64, u64, u64) {
    let l = |i: usize| PUBSUB_OUTPUT_LIMITS[i].load(std::sync::atomic::Ordering::Relaxed);
    (l(0), l(1), l(2))
}

/// Redis's `maxclients`: connections beyond it get `ERR max number of clients reached`.
pub static MAXCLIENTS: Tunable = Tunable::new("maxclients", None, Kind::Int, 1, LONG_MAX, 10000);
/// Redis's `timeout`: seconds a client may stay idle before it is closed (0: never).
pub static TIMEOUT: Tunable = Tunable::new("timeout", None, Kind::Int, 0, I32_MAX, 0);
/// Redis's `tcp-keepalive`: SO_KEEPALIVE interval in seconds for new connections (0: off).
pub static TCP_KEEPALIVE: Tunable = Tunable::new("tcp-keepalive", None, Kind::Int, 0, I32_MAX, 300);

/// A connection whose last this-many commands all had their key on one other core moves to that
/// core (0: never, the default). Ours, not Redis's. Why off by default: moving saves the
/// cross-core hop (10-25% less CPU per request for a hot key), but it gathers every client of a
/// hot key onto the one core owning it, while forwarding spreads their socket work over all
/// cores, which served hot-key pipeline-1 clients ~15% more requests a second here.
pub static MOVE_CONNECTIONS_AFTER: Tunable =
    Tunable::new("move-connections-after", None, Kind::Int, 0, I32_MAX, 0);

/// Redis's `client-output-buffer-limit normal <hard> <soft> <seconds>` (default 0 0 0: none):
/// bytes and seconds; 0 disables a limit.
pub static NORMAL_OUTPUT_LIMITS: [std::sync::atomic::AtomicU64; 3] = [
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
    std::sync::atomic::AtomicU64::new(0),
];

/// The normal clients' output-buffer limits now: (hard bytes, soft bytes, soft seconds).
pub fn normal_output_limits() -> (u64, u64, u64) {
    let l = |i: usize| NORMAL_OUTPUT_LIMITS[i].load(std::sync::atomic::Ordering::Relaxed);
    (l(0), l(1), l(2))
}

/// Redis's `protected-mode` (default yes): with no password, refuse clients that are not on a
/// loopback address.
pub static PROTECTED_MODE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Redis's `stop-writes-on-bgsave-error` (default yes): while the last background save failed
/// and save points are set, write commands and PING get MISCONF (see `Shared::disk_error`).
pub static STOP_WRITES_ON_BGSAVE_ERROR: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(true);

/// Redis's `requirepass`. Read on every AUTH and on every connection's first command, written
/// by start-up and CONFIG SET: a lock is cheap there. `None` (or empty) means no password.
static REQUIREPASS: std::sync::RwLock<Option<std::sync::Arc<[u8]>>> = std::sync::RwLock::new(None);

/// The password clients must give, if any.
pub fn requirepass() -> Option<std::sync::Arc<[u8]>> {
    REQUIREPASS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Sets (or clears, with an empty value) the password.
pub fn set_requirepass(pass: &[u8]) {
    *REQUIREPASS.write().unwrap_or_else(|e| e.into_inner()) =
        (!pass.is_empty()).then(|| std::sync::Arc::from(pass));
}

/// Redis's `maxmemory`: reported by CONFIG GET and INFO; nothing is evicted yet (the only
/// policy is noeviction), so it is a number for operators and tools, not a limit.
pub static MAXMEMORY: Tunable = Tunable::new("maxmemory", None, Kind::Memory, 0, LONG_MAX, 0);

/// Redis's `client-output-buffer-limit replica ...`: kept for CONFIG GET/REWRITE (there are no
/// replicas).
pub static REPLICA_OUTPUT_LIMITS: [std::sync::atomic::AtomicU64; 3] = [
    std::sync::atomic::AtomicU64::new(256 * 1024 * 1024),
    std::sync::atomic::AtomicU64::new(64 * 1024 * 1024),
    std::sync::atomic::AtomicU64::new(60),
];

/// The replica output-buffer limits: (hard bytes, soft bytes, soft seconds).
pub fn replica_output_limits() -> (u64, u64, u64) {
    let l = |i: usize| REPLICA_OUTPUT_LIMITS[i].load(std::sync::atomic::Ordering::Relaxed);
    (l(0), l(1), l(2))
}

/// The bulk length limit in force: the setting, capped by what a value cell can hold.
#[inline]
pub fn max_bulk_len() -> i64 {
    PROTO_MAX_BULK_LEN
        .get()
        .min(crate::keyspace::MAX_LEN as i64)
}

/// Every tunable, in the order CONFIG GET lists them.
pub fn all() -> [&'static Tunable; 14] {
    [
        &MAXCLIENTS,
        &TIMEOUT,
        &TCP_KEEPALIVE,
        &MAXMEMORY,
        &PROTO_MAX_BULK_LEN,
        &CLIENT_QUERY_BUFFER_LIMIT,
        &HASH_MAX_LISTPACK_ENTRIES,
        &HASH_MAX_LISTPACK_VALUE,
        &SET_MAX_INTSET_ENTRIES,
        &ZSET_MAX_LISTPACK_ENTRIES,
        &ZSET_MAX_LISTPACK_VALUE,
        &LIST_MAX_LISTPACK_SIZE,
        &LIST_COMPRESS_DEPTH,
        &MOVE_CONNECTIONS_AFTER,
    ]
}

/// The tunable called `name` (or by its alias).
pub fn find(name: &[u8]) -> Option<&'static Tunable> {
    all().into_iter().find(|t| t.is_named(name))
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb; any case). Only
/// non-negative values; `None` on anything else or overflow.
pub fn parse_memory(s: &[u8]) -> Option<i64> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let unit = s[digits..].to_ascii_lowercase();
    let mul: i64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => MB,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * MB,
        _ => return None,
    };
    let n: i64 = std::str::from_utf8(&s[..digits]).ok()?.parse().ok()?;
    n.checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_bounds() {
        let t = find(b"HASH-MAX-ZIPLIST-ENTRIES").unwrap();
        assert_eq!(t.name, "hash-max-listpack-entries");
        assert_eq!(t.parse(b"100"), Ok(100));
        assert!(t.parse(b"-1").unwrap_err().contains("between 0 and"));
        assert!(t.parse(b"x").unwrap_err().contains("integer"));
        assert_eq!(find(b"list-max-ziplist-size").unwrap().parse(b"-5"), Ok(-5));
        assert!(find(b"nope").is_none());
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory(b"10"), Some(10));
        assert_eq!(parse_memory(b"1kb"), Some(1024));
        assert_eq!(parse_memory(b"1K"), Some(1000));
        assert_eq!(parse_memory(b"512MB"), Some(512 * MB));
        assert_eq!(parse_memory(b"1gb"), Some(1024 * MB));
        assert_eq!(parse_memory(b""), None);
        assert_eq!(parse_memory(b"-1"), None);
        assert_eq!(parse_memory(b"1tb"), None);
        assert_eq!(parse_memory(b"99999999999999999999"), None);
    }
}

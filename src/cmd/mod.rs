//! The command table: the single source of truth for every command's name, arity, flags, key
//! positions, routing policy and handler.
//!
//! A handler is a plain synchronous function. Shard handlers see only one shard's data
//! ([`ShardCtx`]); connection handlers see only the connection's session and server-wide settings
//! ([`ConnCtx`]). Routing (which shard runs what, and how partial replies merge) is decided from the
//! table row alone, before any handler runs.

pub mod admin;
pub mod blocking;
pub mod client;
pub mod command;
pub mod docs;
pub mod hash;
pub mod keys;
pub mod list;
pub mod multi;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod string;
pub mod zset;

use crate::config::Config;
use crate::keyspace::Keyspace;
use crate::resp::{Argv, Proto, Reply};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Command flags (a subset of Redis's; more come with COMMAND INFO).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const FAST: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const LOADING: u32 = 1 << 6;
    pub const STALE: u32 = 1 << 7;
    pub const DENYOOM: u32 = 1 << 8;
    /// Not callable by clients (unknown command to them); used by [`crate::shard::Core::call`]
    /// for the steps of cross-shard commands.
    pub const INTERNAL: u32 = 1 << 9;
    /// May wait for other clients (BLPOP & co): the connection watches its socket meanwhile.
    pub const BLOCKING: u32 = 1 << 10;
    /// Refused inside MULTI (Redis's `no-multi`: SAVE, SHUTDOWN).
    pub const NO_MULTI: u32 = 1 << 11;
}

/// How partial replies from several shards become one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// Integers summed (DEL, EXISTS, UNLINK, DBSIZE).
    Sum,
    /// Every part must be `+OK`; the first error wins (MSET, FLUSHALL).
    AllOk,
    /// Each part is an array with one element per key it got; elements go back in argument order
    /// (MGET).
    InOrder,
    /// Arrays concatenated in shard order (KEYS).
    Concat,
}

/// Where a command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// No key: runs where the connection is (PING, ECHO, SELECT, CONFIG).
    Local,
    /// One key at argv[1]: runs on that key's owner.
    Key,
    /// Keys at `first`, `first + step`, … to the end; each key carries the `step - 1` arguments after
    /// it. Each owning shard runs the same command on its subset of keys; replies merge.
    Keys {
        first: usize,
        step: usize,
        merge: Merge,
    },
    /// Every shard runs it (keyless whole-keyspace commands); replies merge.
    All(Merge),
}

/// What one shard's handler may touch: its own keyspace, the connection's selected database, and
/// the time the command runs at (a parameter, so expiry is testable without sleeping).
pub struct ShardCtx<'a> {
    pub ks: &'a mut Keyspace,
    pub db: usize,
    pub now_ms: i64,
}

/// Per-connection state that commands may read or change.
#[derive(Debug, Default)]
pub struct Session {
    pub id: u64,
    pub db: usize,
    pub proto: Proto,
    /// Set by QUIT: the connection closes after this reply is written.
    pub close_after_reply: bool,
    pub name: Option<Vec<u8>>,
    /// Set by the connection when the client goes away while a blocking command waits.
    pub gone: std::rc::Rc<crate::blocking::Flag>,
    /// This connection's entry in its core's client registry (CLIENT LIST, KILL, UNBLOCK).
    pub client: std::rc::Rc<crate::clients::Client>,
    /// CLIENT REPLY OFF: no replies until CLIENT REPLY ON (Redis's CLIENT_REPLY_OFF).
    pub reply_off: bool,
    /// The current command's reply is dropped (CLIENT REPLY SKIP was the previous command).
    pub reply_skip: bool,
    /// CLIENT REPLY SKIP ran: the next command's reply is dropped.
    pub reply_skip_next: bool,
    /// MULTI is open: commands are queued until EXEC or DISCARD.
    pub multi: Option<Box<multi::Queued>>,
    /// Keys this client WATCHes (on which shards), until EXEC, DISCARD, UNWATCH or RESET.
    pub watch: Option<multi::Watching>,
    /// Watches to forget on their shards (after RESET); the connection sends the cleanup.
    pub stale_watches: Vec<multi::Watching>,
    /// The command runs inside EXEC: blocking commands must not block (Redis's DENY_BLOCKING).
    pub in_exec: bool,
    /// This connection's subscriptions and undelivered messages (once it subscribed).
    pub pubsub: Option<std::rc::Rc<crate::pubsub::Subscriber>>,
    /// Channels + patterns + shard channels subscribed (non-zero: the subscribed state).
    pub subscriptions: usize,
    /// Redis's `c->authenticated`: set at connect when no password is configured, by AUTH or
    /// HELLO AUTH, and reset by RESET. A password set later does not log anyone out.
    pub authenticated: bool,
}

/// What a connection-level handler sees.
pub struct ConnCtx<'a> {
    pub session: &'a mut Session,
    pub config: &'a Config,
    pub shared: &'a crate::shard::Shared,
    /// The port actually bound (differs from `config.port` when it was 0).
    pub port: u16,
    pub nshards: usize,
}

pub type ShardFn = fn(&mut ShardCtx<'_>, Argv<'_>, &mut Reply);
pub type ConnFn = fn(&mut ConnCtx<'_>, Argv<'_>, &mut Reply);
/// A command that runs on the connection's core and may wait on other shards (via
/// [`crate::shard::Core::call`]): cross-shard set algebra, moves between keys on different shards.
pub type AsyncFn = for<'a> fn(
    &'a std::rc::Rc<crate::shard::Core>,
    &'a mut Session,
    Argv<'a>,
    &'a mut Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    Shard(ShardFn),
    Conn(ConnFn),
    /// Server-wide commands that coordinate shards and wait (SAVE, INFO, SHUTDOWN): run by the
    /// connection, in order, once every earlier reply of its batch is in.
    Server(server::ServerCmd),
    /// Like `Server`: runs in order on the connection's core once earlier replies are in.
    Async(AsyncFn),
}

/// One row of the command table.
pub struct CommandSpec {
    /// Lower-case name, as Redis reports it.
    pub name: &'static str,
    /// Redis's rule: `N` means exactly N arguments (name included), `-N` at least N.
    pub arity: i32,
    pub flags: u32,
    /// First key position, last key position (negative counts from the end), step; 0 = no keys.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub route: Route,
    pub handler: Handler,
}

impl CommandSpec {
    /// The common row: one key at argv[1], routed to its owner.
    pub fn single_key(name: &'static str, arity: i32, flags: u32, f: ShardFn) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: 1,
            last_key: 1,
            step: 1,
            route: Route::Key,
            handler: Handler::Shard(f),
        }
    }

    /// Arity check by Redis's rule.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }
}

/// Every command we serve. Order does not matter; names must be unique and lower-case.
pub fn table() -> &'static [CommandSpec] {
    static TABLE: OnceLock<Vec<CommandSpec>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Vec::new();
        admin::register(&mut t);
        string::register(&mut t);
        keys::register(&mut t);
        list::register(&mut t);
        multi::register(&mut t);
        pubsub::register(&mut t);
        server::register(&mut t);
        hash::register(&mut t);
        set::register(&mut t);
        zset::register(&mut t);
        blocking::register(&mut t);
        client::register(&mut t);
        scripting::register(&mut t);
        command::register(&mut t);
        crate::cluster::register(&mut t);
        t
    })
}

/// Case-insensitive lookup; returns the command's index in [`table`].
pub fn lookup(name: &[u8]) -> Option<usize> {
    static INDEX: OnceLock<HashMap<Vec<u8>, usize, ahash::RandomState>> = OnceLock::new();
    let idx = INDEX.get_or_init(|| {
        table()
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes().to_vec(), i))
            .collect()
    });
    let mut lower = [0u8; 32];
    if name.len() > lower.len() {
        return None;
    }
    for (d, s) in lower.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    idx.get(&lower[..name.len()]).copied()
}

/// Redis's reply for an unknown command:
/// `ERR unknown command 'foo', with args beginning with: 'a' 'b' `.
pub fn unknown_command_error(argv: Argv<'_>, out: &mut Reply) {
    let mut msg = String::from("ERR unknown command '");
    push_truncated(&mut msg, argv.get(0));
    msg.push_str("', with args beginning with: ");
    for a in argv.tail(1) {
        if msg.len() >= 128 {
            break;
        }
        msg.push('\'');
        push_truncated(&mut msg, a);
        msg.push_str("' ");
    }
    out.error(&msg);
}

/// Redis's reply for an unknown subcommand of a container command (CONFIG, CLIENT, OBJECT…):
/// `ERR unknown subcommand 'x'. Try CONFIG HELP.` — the subcommand up to a NUL byte and at most
/// 128 bytes, as Redis's `%.128s` does.
pub fn unknown_subcommand(argv: Argv<'_>, out: &mut Reply) {
    let c_str = |s: &[u8]| -> Vec<u8> {
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        s[..end].to_vec()
    };
    let sub = c_str(argv.get(1));
    let mut cmd = c_str(argv.get(0));
    cmd.make_ascii_uppercase();
    let mut m = b"ERR unknown subcommand '".to_vec();
    m.extend_from_slice(&sub[..sub.len().min(128)]);
    m.extend_from_slice(b"'. Try ");
    m.extend_from_slice(&cmd);
    m.extend_from_slice(b" HELP.");
    out.error_bytes(&m);
}

/// Redis's arity error: `ERR wrong number of arguments for 'get' command`.
pub fn arity_error(name: &str, out: &mut Reply) {
    out.error(&format!(
        "ERR wrong number of arguments for '{}' command",
        name
    ));
}

/// Appends at most 128 bytes of `s` (Redis's `%.128s`), lossily as UTF-8.
fn push_truncated(msg: &mut String, s: &[u8]) {
    let s = &s[..s.len().min(128)];
    msg.push_str(&String::from_utf8_lossy(s));
}

/// Error texts shared by many commands, exactly as Redis words them.
pub mod err {
    pub const SYNTAX: &str = "ERR syntax error";
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const NO_SUCH_KEY: &str = "ERR no such key";
    pub const OUT_OF_RANGE: &str = "ERR index out of range";
    pub const DB_INDEX: &str = "ERR DB index is out of range";
}

/// Parses a whole argument as a signed 64-bit integer exactly as Redis's `string2ll` does
/// (no leading `+`, no spaces, no leading zeros except "0", fits i64).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    crate::resp::string2ll(s)
}

// Shared by the collection commands (HSCAN/SSCAN, HRANDFIELD/SRANDMEMBER/SPOP).

/// Redis's `parseScanCursorOrReply`: C `strtoul` on the argument up to its first NUL byte
/// (optional sign, a `-` wraps around as unsigned, an empty string is 0), with no leading space
/// and no trailing bytes, and overflow rejected.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    let s = &arg[..end];
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The positions one HSCAN call visits, highest first, and the cursor to return.
///
/// A small collection (at most `small` items) is returned whole with cursor 0, as Redis does for listpacks. A larger one is
/// walked downwards: cursor `c ≠ 0` means "positions below `c`" (0 starts at the end), so the
/// positions at or above the cursor are the visited ones. Removing a field moves only elements
/// from higher positions to lower ones (`swap_remove` moves the last element into the hole,
/// `shift_remove` shifts the tail down by one), so an element present throughout the scan either
/// stays in the unvisited part or is seen again: none is missed. New fields are appended at the
/// top, where a scan may or may not see them — as Redis allows.
pub(crate) fn scan_positions(
    len: usize,
    cursor: u64,
    count: usize,
    small: usize,
) -> (std::ops::Range<usize>, u64) {
    if len <= small {
        return (0..len, 0);
    }
    let top = match usize::try_from(cursor) {
        Ok(0) => len,
        Ok(c) => c.min(len),
        Err(_) => len,
    };
    let bottom = top.saturating_sub(count.max(1));
    (bottom..top, bottom as u64)
}

/// `count` distinct positions out of `len` (`count < len`), uniformly at random.
///
/// When most positions are wanted, a partial Fisher–Yates shuffle; otherwise rejection sampling
/// into a set, which needs memory for `count` positions only (the collection may be huge).
pub(crate) fn sample_distinct(len: usize, count: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    debug_assert!(count < len);
    if count.saturating_mul(3) > len {
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = rng.usize(i..len);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen =
            std::collections::HashSet::with_capacity_and_hasher(count, ahash::RandomState::new());
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let i = rng.usize(..len);
            if seen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

/// The `[MATCH pattern] [COUNT count]` options of HSCAN/SSCAN from `argv[from..]`: COUNT
/// (default 10) and the pattern (`None` for none or `*`), or Redis's error text.
pub(crate) fn parse_scan_options(
    argv: Argv<'_>,
    from: usize,
) -> Result<(usize, Option<&[u8]>), &'static str> {
    let mut count: i64 = 10;
    let mut pattern = None;
    let mut i = from;
    while i < argv.len() {
        let has_arg = argv.len() - i >= 2;
        if has_arg && string::opt_is(argv.get(i), "count") {
            match parse_i64(argv.get(i + 1)) {
                None => return Err(err::NOT_INTEGER),
                Some(c) if c < 1 => return Err(err::SYNTAX),
                Some(c) => count = c,
            }
        } else if has_arg && string::opt_is(argv.get(i), "match") {
            let p = argv.get(i + 1);
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(err::SYNTAX);
        }
        i += 2;
    }
    Ok((usize::try_from(count).unwrap_or(usize::MAX), pattern))
}

//! Generic keyspace commands: existence, deletion, type, TTLs, KEYS, SCAN, RANDOMKEY, RENAME,
//! COPY, MOVE, DUMP/RESTORE, OBJECT, MEMORY USAGE and SORT.
//!
//! Behaviour follows Redis 7.0's `db.c`, `expire.c`, `object.c` and `cluster.c` (DUMP/RESTORE).
//! Multi-key commands (EXISTS, DEL, UNLINK, TOUCH) run once per owning shard on that shard's
//! subset of the keys; the router sums the counts.
//!
//! Commands whose keys may live on different shards (RENAME, RENAMENX, COPY) and the keyless ones
//! that visit every shard (SCAN, RANDOMKEY) run on the connection's core (`Handler::Async`) and
//! drive internal steps on the owners. When one shard owns every key, one step does the whole
//! command there, atomically. Otherwise a value travels as a DUMP payload (an owned byte buffer)
//! with its deadline: taken from (RENAME) or read on (COPY) the source's owner, then stored by the
//! destination's owner. Each step is atomic but the whole is not: another client may briefly see
//! neither key during a cross-shard RENAME. MOVE never crosses shards (a key has the same owner
//! in every DB).
//!
//! SCAN cursors: the top 10 bits are the shard (up to 1024, the most `--shards` allows), the
//! low 54 bits that shard's table cursor for the client's DB (see `Keyspace::scan_step`: Redis's
//! reverse-binary cursor over blocks of home buckets, a function of each key's hash, so valid
//! across any resize or rehash). Shards are walked in order; 0 starts and ends.

use super::string::opt_is;
use super::{
    err, flags, parse_cursor, parse_i64, AsyncFn, CommandSpec, Handler, Merge, Route, Session,
    ShardCtx, ShardFn,
};
use crate::keyspace::{StrRef, Ttl, Value};
use crate::notify;
use crate::rdb;
use crate::resp::{decode_frame, Argv, CmdBatch, Frame, Proto, Reply};
use crate::shard::{shard_of, Core};
use crate::tx::join_all;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let key = CommandSpec::single_key;
    let multi = |name, flags, f| CommandSpec {
        name,
        arity: -2,
        flags,
        first_key: 1,
        last_key: -1,
        step: 1,
        route: Route::Keys {
            first: 1,
            step: 1,
            merge: Merge::Sum,
        },
        handler: Handler::Shard(f),
    };
    t.push(multi("exists", READONLY | FAST, exists));
    t.push(multi("del", WRITE, del));
    t.push(multi("unlink", WRITE | FAST, del));
    t.push(multi("touch", READONLY | FAST, touch));
    t.push(key("type", 2, READONLY | FAST, type_));
    t.push(key("ttl", 2, READONLY | FAST, ttl));
    t.push(key("pttl", 2, READONLY | FAST, pttl));
    t.push(key("expiretime", 2, READONLY | FAST, expiretime));
    t.push(key("pexpiretime", 2, READONLY | FAST, pexpiretime));
    t.push(key("expire", -3, WRITE | FAST, expire));
    t.push(key("pexpire", -3, WRITE | FAST, pexpire));
    t.push(key("expireat", -3, WRITE | FAST, expireat));
    t.push(key("pexpireat", -3, WRITE | FAST, pexpireat));
    t.push(key("persist", 2, WRITE | FAST, persist));
    t.push(CommandSpec {
        name: "keys",
        arity: 2,
        flags: READONLY,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::All(Merge::Concat),
        handler: Handler::Shard(keys),
    });
    t.push(key("move", 3, WRITE | FAST, move_));
    t.push(key("dump", 2, READONLY, dump));
    t.push(key("restore", -4, WRITE | DENYOOM, restore));

    let conn = |name, arity, flags, keys: (i32, i32, i32), f: AsyncFn| CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        route: Route::Local,
        handler: Handler::Async(f),
    };
    t.push(conn("scan", -2, READONLY, (0, 0, 0), scan));
    t.push(conn("randomkey", 1, READONLY, (0, 0, 0), randomkey));
    t.push(conn("rename", 3, WRITE, (1, 2, 1), rename));
    t.push(conn("renamenx", 3, WRITE | FAST, (1, 2, 1), renamenx));
    t.push(conn("copy", -3, WRITE | DENYOOM, (1, 2, 1), copy));
    t.push(conn("object", -2, READONLY, (2, 2, 1), object));
    t.push(conn("memory", -2, READONLY, (2, 2, 1), memory));
    t.push(conn("sort", -2, WRITE | DENYOOM, (1, 1, 1), sort));
    t.push(conn("sort_ro", -2, READONLY, (1, 1, 1), sort_ro));

    let internal = |name: &'static str, arity: i32, flags: u32, f: ShardFn| {
        CommandSpec::single_key(name, arity, flags | INTERNAL, f)
    };
    t.push(internal(SCAN_PART, 8, READONLY, scan_part));
    t.push(internal(RANDOM_PART, 1, READONLY, random_part));
    t.push(internal(TAKE_PART, 2, WRITE, take_part));
    t.push(internal(READ_PART, 2, READONLY, read_part));
    t.push(internal(PUT_PART, 5, WRITE | DENYOOM, put_part));
    t.push(internal(EXISTS_PART, 2, READONLY | FAST, exists_part));
    t.push(internal(RENAME_PART, 4, WRITE, rename_part));
    t.push(internal(COPY_PART, 5, WRITE | DENYOOM, copy_part));
    t.push(internal(OBJECT_PART, 3, READONLY, object_part));
    t.push(internal(MEMORY_PART, 3, READONLY, memory_part));
    t.push(internal(SORT_PART, -4, WRITE | DENYOOM, sort_part));
    t.push(internal(SORT_LOAD_PART, 2, READONLY, sort_load_part));
    t.push(internal(SORT_GET_PART, -3, READONLY, sort_get_part));
    t.push(internal(
        SORT_STORE_PART,
        -2,
        WRITE | DENYOOM,
        sort_store_part,
    ));
}

/// EXISTS key [key ...]: a key named twice counts twice.
fn exists(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let n = argv
        .tail(1)
        .filter(|k| ctx.ks.lookup_read(ctx.db, k, ctx.now_ms).is_some())
        .count();
    out.int(n as i64);
}

/// DEL / UNLINK key [key ...]: an already expired key is not counted as deleted.
///
/// UNLINK frees in the background in Redis; here values are dropped in place (a big value costs
/// its free time on this shard).
fn del(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let mut n = 0;
    for k in argv.tail(1) {
        if ctx.ks.remove(ctx.db, k, ctx.now_ms).is_some() {
            ctx.notify(notify::GENERIC, "del", k);
            n += 1;
        }
    }
    ctx.ks.add_dirty(n as u64);
    out.int(n as i64);
}

fn touch(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    exists(ctx, argv, out)
}

fn type_(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let name = ctx
        .ks
        .lookup_read(ctx.db, argv.get(1), ctx.now_ms)
        .map_or("none", |v| v.kind().name());
    out.simple(name);
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 when the key is missing, -1 without a TTL.
fn ttl_generic(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, ms: bool, abs: bool) {
    let key = argv.get(1);
    if ctx.ks.lookup_read(ctx.db, key, ctx.now_ms).is_none() {
        out.int(-2);
        return;
    }
    match ctx.ks.expire_at(ctx.db, key) {
        None => out.int(-1),
        Some(when) => {
            let t = if abs {
                when
            } else {
                when.saturating_sub(ctx.now_ms)
            }
            .max(0);
            // Rounded to the nearest second in unsigned arithmetic, which is what Redis's
            // compiled code yields even for a deadline near i64::MAX.
            out.int(if ms {
                t
            } else {
                ((t as u64 + 500) / 1000) as i64
            });
        }
    }
}

fn ttl(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    ttl_generic(ctx, argv, out, false, false)
}

fn pttl(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    ttl_generic(ctx, argv, out, true, false)
}

fn expiretime(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    ttl_generic(ctx, argv, out, false, true)
}

fn pexpiretime(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    ttl_generic(ctx, argv, out, true, true)
}

const EXP_NX: u8 = 1;
const EXP_XX: u8 = 2;
const EXP_GT: u8 = 4;
const EXP_LT: u8 = 8;

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]. `base` is `now` for the
/// relative forms and 0 for the absolute ones. A resulting time not in the future deletes the key.
fn expire_generic(
    ctx: &mut ShardCtx<'_>,
    argv: Argv<'_>,
    out: &mut Reply,
    base: i64,
    seconds: bool,
    cmd: &str,
) {
    // Options are checked before the time argument, as Redis does.
    let mut f = 0u8;
    for opt in argv.tail(3) {
        f |= if opt_is(opt, "nx") {
            EXP_NX
        } else if opt_is(opt, "xx") {
            EXP_XX
        } else if opt_is(opt, "gt") {
            EXP_GT
        } else if opt_is(opt, "lt") {
            EXP_LT
        } else {
            let end = opt.iter().position(|&b| b == 0).unwrap_or(opt.len());
            out.error(&format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(&opt[..end])
            ));
            return;
        };
    }
    if f & EXP_NX != 0 && f & (EXP_XX | EXP_GT | EXP_LT) != 0 {
        out.error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if f & EXP_GT != 0 && f & EXP_LT != 0 {
        out.error("ERR GT and LT options at the same time are not compatible");
        return;
    }
    let Some(mut when) = parse_i64(argv.get(2)) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            super::string::invalid_expire(out, cmd);
            return;
        }
        when *= 1000;
    }
    let Some(when) = when.checked_add(base) else {
        super::string::invalid_expire(out, cmd);
        return;
    };

    let key = argv.get(1);
    let (db, now) = (ctx.db, ctx.now_ms);
    if !ctx.ks.contains(db, key, now) {
        out.int(0);
        return;
    }
    if f != 0 {
        let current = ctx.ks.expire_at(db, key);
        let refused = (f & EXP_NX != 0 && current.is_some())
            || (f & EXP_XX != 0 && current.is_none())
            // No TTL counts as an infinite one: GT never beats it, LT always does.
            || (f & EXP_GT != 0 && current.is_none_or(|c| when <= c))
            || (f & EXP_LT != 0 && current.is_some_and(|c| when >= c));
        if refused {
            out.int(0);
            return;
        }
    }
    if when <= now {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    } else {
        ctx.ks.set_expire(db, key, when);
        ctx.notify(notify::GENERIC, "expire", key);
    }
    ctx.ks.add_dirty(1);
    out.int(1);
}

fn expire(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let now = ctx.now_ms;
    expire_generic(ctx, argv, out, now, true, "expire")
}

fn pexpire(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let now = ctx.now_ms;
    expire_generic(ctx, argv, out, now, false, "pexpire")
}

fn expireat(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    expire_generic(ctx, argv, out, 0, true, "expireat")
}

fn pexpireat(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    expire_generic(ctx, argv, out, 0, false, "pexpireat")
}

fn persist(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let key = argv.get(1);
    let done = ctx.ks.contains(ctx.db, key, ctx.now_ms) && ctx.ks.persist(ctx.db, key);
    ctx.ks.add_dirty(u64::from(done));
    if done {
        ctx.notify(notify::GENERIC, "persist", key);
    }
    out.int(i64::from(done));
}

/// KEYS pattern: this shard's matching keys that are not logically expired (none is deleted).
fn keys(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let pat = argv.get(1);
    let all = pat == b"*";
    let found: Vec<&[u8]> = ctx
        .ks
        .live_keys(ctx.db, ctx.now_ms)
        .filter(|k| all || string_match(pat, k, false))
        .collect();
    out.array(found.len());
    for k in found {
        out.bulk(k);
    }
}

// ---------------------------------------------------------------------------------------------
// SCAN, RANDOMKEY, RENAME, COPY, MOVE, DUMP/RESTORE, OBJECT
// ---------------------------------------------------------------------------------------------

// Internal shard-side steps. Clients get "unknown command" for them (`flags::INTERNAL`).
/// `__key-scan cursor count visits usepat pattern usetype type`: one shard's share of a SCAN
/// call; replies `[next cursor, keys seen, blocks visited, [keys]]`.
const SCAN_PART: &str = "__key-scan";
/// `__key-random`: `[keys in the DB, a random live key or nil]`.
const RANDOM_PART: &str = "__key-random";
/// `__key-take key`: removes the key; replies `[payload, deadline or -1]`, or nil.
const TAKE_PART: &str = "__key-take";
/// `__key-read key`: like `__key-take` but leaves the key (a read lookup, as COPY's).
const READ_PART: &str = "__key-read";
/// `__key-put key nx|replace deadline payload`: stores a payload; 1, or 0 when `nx` found the
/// key.
const PUT_PART: &str = "__key-put";
/// `__key-exists key`: 1 or 0, with lazy expiry but no hit/miss counting.
const EXISTS_PART: &str = "__key-exists";
/// `__key-rename src dst 0|1`: RENAME (1: RENAMENX) when one shard owns both keys.
const RENAME_PART: &str = "__key-rename";
/// `__key-copy src dst dstdb 0|1`: COPY (1: REPLACE) when one shard owns both keys.
const COPY_PART: &str = "__key-copy";
/// `__key-object subcommand key`: OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ on the key's owner.
const OBJECT_PART: &str = "__key-object";
/// `__key-memory key samples`: MEMORY USAGE on the key's owner (`samples` 0: every element).
const MEMORY_PART: &str = "__key-memory";

/// Bits of a SCAN cursor below the shard number (the shard's own table cursor, always below
/// `buckets / 16`): 10 bits are left for up to 1024 shards.
const SHARD_SHIFT: u32 = 54;
const TABLE_CURSOR_MASK: u64 = (1 << SHARD_SHIFT) - 1;

const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";
const ERR_SAME_OBJECT: &str = "ERR source and destination objects are the same";
const ERR_BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const ERR_BAD_TTL: &str = "ERR Invalid TTL value, must be >= 0";
const ERR_BAD_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
const ERR_BAD_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
const ERR_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const ERR_BAD_FORMAT: &str = "ERR Bad data format";
/// Redis's words under any policy but an LFU one (we never evict: `noeviction`).
const ERR_FREQ: &str =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
     Please note that when switching between policies at runtime LRU and LFU data will take some \
     time to adjust.";
const ERR_BAD_PART: &str = "ERR internal: unexpected reply from a shard";
/// `getIntFromObjectOrReply` for a number beyond a C `int`.
const ERR_INT_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";

/// Integers Redis shares (`OBJ_SHARED_INTEGERS`): their OBJECT REFCOUNT is `INT_MAX`.
const SHARED_INTEGERS: i64 = 10_000;
/// Longest string Redis stores as `embstr` (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_MAX: usize = 44;

type AsyncOut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Defines a `Handler::Async` entry point: boxes `$f(core, db, argv, out, extra args…)`.
macro_rules! async_cmd {
    ($name:ident => $f:ident($($arg:expr),*)) => {
        fn $name<'a>(
            core: &'a Rc<Core>,
            session: &'a mut Session,
            argv: Argv<'a>,
            out: &'a mut Reply,
        ) -> AsyncOut<'a> {
            Box::pin($f(core, session.db, argv, out $(, $arg)*))
        }
    };
}

async_cmd!(scan => scan_async());
async_cmd!(randomkey => randomkey_async());
async_cmd!(rename => rename_async(false));
async_cmd!(renamenx => rename_async(true));
async_cmd!(copy => copy_async());
async_cmd!(object => object_async());
async_cmd!(memory => memory_async());
async_cmd!(sort => sort_async(false));
async_cmd!(sort_ro => sort_async(true));

/// One whole reply frame, or `None` if the bytes are not exactly one.
fn frame(reply: &[u8]) -> Option<Frame> {
    match decode_frame(reply) {
        Ok(Some((f, n))) if n == reply.len() => Some(f),
        _ => None,
    }
}

/// Replies a shard's error reply as is, or an internal error if it was not one.
fn reply_failure(out: &mut Reply, reply: &[u8]) {
    if reply.first() == Some(&b'-') && reply.ends_with(b"\r\n") {
        out.raw(reply);
    } else {
        out.error(ERR_BAD_PART);
    }
}

fn int_frame(f: &Frame) -> Option<i64> {
    match f {
        Frame::Integer(v) => Some(*v),
        _ => None,
    }
}

/// A deadline as an argument or reply: -1 for none.
fn ttl_of(deadline: i64) -> Ttl {
    if deadline < 0 {
        Ttl::Clear
    } else {
        Ttl::At(deadline)
    }
}

// --- SCAN ----------------------------------------------------------------------------------

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: options checked as Redis does (cursor
/// first). About `count` keys are looked at (at most `10 * count + 1` visits, as Redis), moving
/// on to the next shard in the same call while the budget lasts.
async fn scan_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let Some(cursor) = parse_cursor(argv.get(1)) else {
        return out.error(ERR_INVALID_CURSOR);
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut typename: Option<&[u8]> = None;
    let mut i = 2;
    while i < argv.len() {
        let has_arg = argv.len() - i >= 2;
        let opt = argv.get(i);
        if has_arg && opt_is(opt, "count") {
            match parse_i64(argv.get(i + 1)) {
                None => return out.error(err::NOT_INTEGER),
                Some(c) if c < 1 => return out.error(err::SYNTAX),
                Some(c) => count = c,
            }
        } else if has_arg && opt_is(opt, "match") {
            let p = argv.get(i + 1);
            pattern = (p != b"*").then_some(p);
        } else if has_arg && opt_is(opt, "type") {
            typename = Some(argv.get(i + 1));
        } else {
            return out.error(err::SYNTAX);
        }
        i += 2;
    }
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    let nshards = core.nshards;
    let mut shard = (cursor >> SHARD_SHIFT) as usize;
    let mut table_cursor = cursor & TABLE_CURSOR_MASK;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let (mut seen, mut visits_left) = (0u64, count.saturating_mul(10).saturating_add(1));
    let itoa_u64 = |v: u64| itoa::Buffer::new().format(v).as_bytes().to_vec();
    let next = loop {
        if shard >= nshards {
            break 0;
        }
        let (pat_on, pat) = pattern.map_or((&b"0"[..], &b""[..]), |p| (&b"1"[..], p));
        let (type_on, typ) = typename.map_or((&b"0"[..], &b""[..]), |t| (&b"1"[..], t));
        let b = CmdBatch::from_args([
            SCAN_PART.as_bytes(),
            &itoa_u64(table_cursor),
            &itoa_u64(count - seen),
            &itoa_u64(visits_left),
            pat_on,
            pat,
            type_on,
            typ,
        ]);
        let reply = core.call(shard, db, Proto::Resp2, &b).await;
        let Some((part_next, part_seen, part_visits, part_keys)) = parse_scan_part(&reply) else {
            return reply_failure(out, &reply);
        };
        keys.extend(part_keys);
        seen = seen.saturating_add(part_seen);
        visits_left = visits_left.saturating_sub(part_visits);
        if part_next != 0 {
            break ((shard as u64) << SHARD_SHIFT) | (part_next & TABLE_CURSOR_MASK);
        }
        shard += 1;
        table_cursor = 0;
        if shard >= nshards {
            break 0;
        }
        if seen >= count || visits_left == 0 {
            break (shard as u64) << SHARD_SHIFT;
        }
    };
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(keys.len());
    for k in &keys {
        out.bulk(k);
    }
}

/// `[next, seen, visits, [keys…]]` from a `__key-scan` reply.
fn parse_scan_part(reply: &[u8]) -> Option<(u64, u64, u64, Vec<Vec<u8>>)> {
    let f = frame(reply)?;
    let items = f.as_items()?;
    let [next, seen, visits, keys] = items else {
        return None;
    };
    let num = |f: &Frame| int_frame(f).and_then(|v| u64::try_from(v).ok());
    let keys = keys
        .as_items()?
        .iter()
        .map(|k| match k {
            Frame::Bulk(b) => Some(b.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((num(next)?, num(seen)?, num(visits)?, keys))
}

/// Whether a TYPE filter (compared as C's `strcasecmp`, up to a NUL) names `kind`. An unknown
/// name matches nothing, as in Redis 7.0.
fn type_matches(filter: &[u8], kind: &str) -> bool {
    let end = filter.iter().position(|&b| b == 0).unwrap_or(filter.len());
    filter[..end].eq_ignore_ascii_case(kind.as_bytes())
}

/// `__key-scan`: one step of this shard's table for the DB; keys that do not match are dropped
/// here, expired ones that match the pattern are deleted (Redis's `expireIfNeeded`).
fn scan_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let num = |i: usize| parse_i64(argv.get(i)).and_then(|v| u64::try_from(v).ok());
    let (Some(cursor), Some(count), Some(visits)) = (num(1), num(2), num(3)) else {
        return out.error(ERR_BAD_PART);
    };
    let pattern = (argv.get(4) == b"1").then(|| argv.get(5));
    let typename = (argv.get(6) == b"1").then(|| argv.get(7));
    let (db, now) = (ctx.db, ctx.now_ms);
    let mut seen = 0u64;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut expired: Vec<Vec<u8>> = Vec::new();
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let max_visits = usize::try_from(visits.saturating_sub(1)).unwrap_or(usize::MAX);
    let (next, visited) = ctx
        .ks
        .scan_step(db, cursor, count, max_visits, |k, v, when| {
            seen += 1;
            if pattern.is_some_and(|p| !string_match(p, k, false)) {
                return;
            }
            if when.is_some_and(|w| now > w) {
                expired.push(k.to_vec());
            } else if typename.is_none_or(|t| type_matches(t, v.kind().name())) {
                found.push(k.to_vec());
            }
        });
    for k in &expired {
        ctx.ks.contains(db, k, now);
    }
    out.array(4);
    out.int(next as i64);
    out.int(seen as i64);
    out.int(visited as i64);
    out.array(found.len());
    for k in &found {
        out.bulk(k);
    }
}

// --- RANDOMKEY -----------------------------------------------------------------------------

/// RANDOMKEY: every shard proposes one live key; one proposal is picked with probability
/// proportional to its shard's key count, so each key is about equally likely.
async fn randomkey_async(core: &Rc<Core>, db: usize, _argv: Argv<'_>, out: &mut Reply) {
    let b = CmdBatch::from_args([RANDOM_PART.as_bytes()]);
    let replies = join_all(
        (0..core.nshards)
            .map(|s| core.call(s, db, Proto::Resp2, &b))
            .collect(),
    )
    .await;
    let mut picks: Vec<(u64, Vec<u8>)> = Vec::new();
    for r in &replies {
        let Some(f) = frame(r) else {
            return reply_failure(out, r);
        };
        match f.as_items() {
            Some([Frame::Integer(n), Frame::Bulk(k)]) => {
                picks.push(((*n).max(1) as u64, k.clone()));
            }
            Some([Frame::Integer(_), Frame::Null]) => {}
            _ => return reply_failure(out, r),
        }
    }
    let total: u64 = picks.iter().map(|p| p.0).sum();
    if total == 0 {
        return out.null();
    }
    let mut at = fastrand::u64(..total);
    for (n, k) in &picks {
        if at < *n {
            return out.bulk(k);
        }
        at -= n;
    }
    out.null();
}

fn random_part(ctx: &mut ShardCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    let n = ctx.ks.len(ctx.db);
    out.array(2);
    out.int(n as i64);
    match ctx.ks.random_key(ctx.db, ctx.now_ms) {
        Some(k) => out.bulk(&k),
        None => out.null(),
    }
}

// --- RENAME, RENAMENX ----------------------------------------------------------------------

/// RENAME / RENAMENX source destination. The TTL goes with the value. Checks in Redis's order:
/// a missing source is an error (even for the same name twice), then the same name is a no-op,
/// then RENAMENX answers 0 when the destination exists.
///
/// Across shards: the source is taken (removed) on its owner and stored on the destination's;
/// RENAMENX checks the destination first and, should it have appeared meanwhile, puts the
/// source back.
async fn rename_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply, nx: bool) {
    let (src, dst) = (argv.get(1), argv.get(2));
    let n = core.nshards;
    let (src_owner, dst_owner) = (shard_of(src, n), shard_of(dst, n));
    let nx_arg: &[u8] = if nx { b"1" } else { b"0" };
    if src_owner == dst_owner {
        let b = CmdBatch::from_args([RENAME_PART.as_bytes(), src, dst, nx_arg]);
        let reply = core.call(src_owner, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let call =
        |owner: usize, b: CmdBatch| async move { core.call(owner, db, Proto::Resp2, &b).await };
    let exists =
        |owner: usize, key: &[u8]| call(owner, CmdBatch::from_args([EXISTS_PART.as_bytes(), key]));
    if nx {
        let r = exists(dst_owner, dst).await;
        match frame(&r).as_ref().and_then(int_frame) {
            Some(0) => {}
            Some(_) => {
                let r = exists(src_owner, src).await;
                return match frame(&r).as_ref().and_then(int_frame) {
                    Some(0) => out.error(err::NO_SUCH_KEY),
                    Some(_) => out.int(0),
                    None => reply_failure(out, &r),
                };
            }
            None => return reply_failure(out, &r),
        }
    }
    let taken = call(src_owner, CmdBatch::from_args([TAKE_PART.as_bytes(), src])).await;
    let (payload, deadline) = match parse_payload(&taken) {
        Some(Some(p)) => p,
        Some(None) => return out.error(err::NO_SUCH_KEY),
        None => return reply_failure(out, &taken),
    };
    let deadline_arg = itoa::Buffer::new().format(deadline).as_bytes().to_vec();
    let mode: &[u8] = if nx { b"nx" } else { b"replace" };
    let put = |owner: usize, key: &[u8], mode: &[u8]| {
        call(
            owner,
            CmdBatch::from_args([PUT_PART.as_bytes(), key, mode, &deadline_arg, &payload]),
        )
    };
    let stored = put(dst_owner, dst, mode).await;
    match frame(&stored).as_ref().and_then(int_frame) {
        Some(1) if nx => out.int(1),
        Some(1) => out.ok(),
        Some(_) => {
            // RENAMENX lost a race with a writer of the destination: the source goes back.
            put(src_owner, src, b"back").await;
            out.int(0);
        }
        None => {
            put(src_owner, src, b"back").await;
            reply_failure(out, &stored);
        }
    }
}

/// `[payload, deadline]` from a `__key-take` / `__key-read` reply: `Some(None)` for nil.
fn parse_payload(reply: &[u8]) -> Option<Option<(Vec<u8>, i64)>> {
    match frame(reply)? {
        Frame::Null => Some(None),
        Frame::Array(items) => match items.as_slice() {
            [Frame::Bulk(p), Frame::Integer(d)] => Some(Some((p.clone(), *d))),
            _ => None,
        },
        _ => None,
    }
}

/// `__key-rename src dst nx`: RENAME/RENAMENX in place (same owner).
fn rename_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (src, dst, nx) = (argv.get(1), argv.get(2), argv.get(3) == b"1");
    let (db, now) = (ctx.db, ctx.now_ms);
    if !ctx.ks.contains(db, src, now) {
        return out.error(err::NO_SUCH_KEY);
    }
    if src == dst {
        return if nx { out.int(0) } else { out.ok() };
    }
    if nx && ctx.ks.contains(db, dst, now) {
        return out.int(0);
    }
    let deadline = ctx.ks.expire_at(db, src);
    let Some(v) = ctx.ks.remove(db, src, now) else {
        return out.error(err::NO_SUCH_KEY);
    };
    ctx.notify(notify::GENERIC, "rename_from", src);
    ctx.ks
        .set(db, dst, v, deadline.map_or(Ttl::Clear, Ttl::At), now);
    ctx.ks.add_dirty(1);
    ctx.notify(notify::GENERIC, "rename_to", dst);
    if nx {
        out.int(1)
    } else {
        out.ok()
    }
}

/// `__key-take key`: removes the key and replies its payload (uncompressed: it only crosses
/// cores) and deadline; nil when missing.
fn take_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    if !ctx.ks.contains(db, key, now) {
        return out.null();
    }
    let deadline = ctx.ks.expire_at(db, key).unwrap_or(-1);
    match ctx.ks.remove(db, key, now) {
        Some(v) => {
            // Only RENAME takes a key away (its cross-shard form).
            ctx.notify(notify::GENERIC, "rename_from", key);
            reply_payload(out, &v, deadline)
        }
        None => out.null(),
    }
}

/// `__key-read key`: the key's payload and deadline, looked up as a read (COPY's source).
fn read_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(v) = ctx.ks.lookup_read(db, key, now) else {
        return out.null();
    };
    let payload = dump_value(v, false);
    let deadline = ctx.ks.expire_at(db, key).unwrap_or(-1);
    out.array(2);
    out.bulk(&payload);
    out.int(deadline);
}

fn reply_payload(out: &mut Reply, v: &Value, deadline: i64) {
    out.array(2);
    out.bulk(&dump_value(v, false));
    out.int(deadline);
}

/// `__key-put key nx|replace deadline payload`: stores the value (1), or leaves an existing key
/// alone under `nx` (0).
fn put_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(deadline) = parse_i64(argv.get(3)) else {
        return out.error(ERR_BAD_PART);
    };
    let v = match load_value(argv.get(4)) {
        Ok(v) => v,
        Err(e) => return out.error(e),
    };
    let mode = argv.get(2);
    if mode.ends_with(b"nx") && ctx.ks.contains(db, key, now) {
        return out.int(0);
    }
    ctx.ks.set(db, key, v, ttl_of(deadline), now);
    ctx.ks.add_dirty(1);
    match mode {
        b"copy-nx" | b"copy-replace" => ctx.notify(notify::GENERIC, "copy_to", key),
        b"nx" | b"replace" => ctx.notify(notify::GENERIC, "rename_to", key),
        _ => {}
    }
    out.int(1);
}

/// `__key-exists key`.
fn exists_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let found = ctx.ks.contains(ctx.db, argv.get(1), ctx.now_ms);
    out.int(i64::from(found));
}

// --- COPY, MOVE ----------------------------------------------------------------------------

/// Redis's `getIntFromObjectOrReply` then `selectDb`: a DB number for MOVE and COPY's DB.
fn parse_db(arg: &[u8], databases: usize) -> Result<usize, &'static str> {
    let v = parse_i64(arg).ok_or(err::NOT_INTEGER)?;
    let v = i32::try_from(v).map_err(|_| ERR_INT_RANGE)?;
    usize::try_from(v)
        .ok()
        .filter(|&d| d < databases)
        .ok_or(err::DB_INDEX)
}

/// COPY source destination [DB destination-db] [REPLACE]: the TTL is copied too. Options are
/// checked first, then "same object", then the source (0 when missing), then the destination
/// (0 when it exists, unless REPLACE).
async fn copy_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let (src, dst) = (argv.get(1), argv.get(2));
    let databases = core.ks.borrow().databases();
    let (mut dst_db, mut replace) = (db, false);
    let mut j = 3;
    while j < argv.len() {
        let additional = argv.len() - j - 1;
        if opt_is(argv.get(j), "replace") {
            replace = true;
        } else if opt_is(argv.get(j), "db") && additional >= 1 {
            match parse_db(argv.get(j + 1), databases) {
                Ok(d) => dst_db = d,
                Err(e) => return out.error(e),
            }
            j += 1;
        } else {
            return out.error(err::SYNTAX);
        }
        j += 1;
    }
    if crate::cluster::enabled() && (db != 0 || dst_db != 0) {
        return out.error("ERR Copying to another database is not allowed in cluster mode");
    }
    if dst_db == db && src == dst {
        return out.error(ERR_SAME_OBJECT);
    }
    let n = core.nshards;
    let (src_owner, dst_owner) = (shard_of(src, n), shard_of(dst, n));
    let replace_arg: &[u8] = if replace { b"1" } else { b"0" };
    if src_owner == dst_owner {
        let dst_db_arg = itoa::Buffer::new().format(dst_db).as_bytes().to_vec();
        let b = CmdBatch::from_args([COPY_PART.as_bytes(), src, dst, &dst_db_arg, replace_arg]);
        let reply = core.call(src_owner, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let read = CmdBatch::from_args([READ_PART.as_bytes(), src]);
    let r = core.call(src_owner, db, Proto::Resp2, &read).await;
    let (payload, deadline) = match parse_payload(&r) {
        Some(Some(p)) => p,
        Some(None) => return out.int(0),
        None => return reply_failure(out, &r),
    };
    let mode: &[u8] = if replace { b"copy-replace" } else { b"copy-nx" };
    let deadline_arg = itoa::Buffer::new().format(deadline).as_bytes().to_vec();
    let put = CmdBatch::from_args([PUT_PART.as_bytes(), dst, mode, &deadline_arg, &payload]);
    let r = core.call(dst_owner, dst_db, Proto::Resp2, &put).await;
    match frame(&r).as_ref().and_then(int_frame) {
        Some(v) => out.int(v),
        None => reply_failure(out, &r),
    }
}

/// `__key-copy src dst dstdb replace`: COPY in place (same owner; the DB may differ).
fn copy_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (src, dst, replace) = (argv.get(1), argv.get(2), argv.get(4) == b"1");
    let (db, now) = (ctx.db, ctx.now_ms);
    let Ok(dst_db) = parse_db(argv.get(3), ctx.ks.databases()) else {
        return out.error(ERR_BAD_PART);
    };
    if ctx.ks.lookup_read(db, src, now).is_none() {
        return out.int(0);
    }
    let deadline = ctx.ks.expire_at(db, src);
    if !replace && ctx.ks.contains(dst_db, dst, now) {
        return out.int(0);
    }
    let Some(v) = ctx.ks.peek(db, src).cloned() else {
        return out.int(0);
    };
    ctx.ks
        .set(dst_db, dst, v, deadline.map_or(Ttl::Clear, Ttl::At), now);
    ctx.ks.add_dirty(1);
    notify::emit(notify::GENERIC, "copy_to", dst_db, dst);
    out.int(1);
}

/// MOVE key db: 1 when moved (with its TTL), 0 when the key is missing or `db` has it already.
/// Always in place: a key's owner is the same in every DB.
fn move_(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if crate::cluster::enabled() {
        return out.error("ERR MOVE is not allowed in cluster mode");
    }
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let dst_db = match parse_db(argv.get(2), ctx.ks.databases()) {
        Ok(d) => d,
        Err(e) => return out.error(e),
    };
    if dst_db == db {
        return out.error(ERR_SAME_OBJECT);
    }
    if !ctx.ks.contains(db, key, now) {
        return out.int(0);
    }
    let deadline = ctx.ks.expire_at(db, key);
    if ctx.ks.contains(dst_db, key, now) {
        return out.int(0);
    }
    let Some(v) = ctx.ks.remove(db, key, now) else {
        return out.int(0);
    };
    ctx.notify(notify::GENERIC, "move_from", key);
    ctx.ks
        .set(dst_db, key, v, deadline.map_or(Ttl::Clear, Ttl::At), now);
    ctx.ks.add_dirty(1);
    notify::emit(notify::GENERIC, "move_to", dst_db, key);
    out.int(1);
}

// --- DUMP, RESTORE -------------------------------------------------------------------------

/// A value as Redis 7.0's DUMP payload (see [`rdb::read_dump`]). `compress` is Redis's
/// `rdbcompression` (DUMP uses its default, yes; moves between shards skip the LZF work).
pub(crate) fn dump_value(v: &Value, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    match v.as_str() {
        Some(StrRef::Int(i)) => rdb::dump_int(&mut out, i, compress),
        Some(StrRef::Bytes(b)) => rdb::dump_string(&mut out, b, compress),
        None => {
            if let Some(l) = v.as_list() {
                rdb::dump_list(&mut out, l.len(), l.iter().map(|e| e.as_slice()), compress);
            } else if let Some(h) = v.as_hash() {
                let pairs = h.iter().map(|(f, v)| (f.as_slice(), v.as_slice()));
                rdb::dump_hash(&mut out, h.len(), pairs, compress);
            } else if let Some(s) = v.as_set() {
                rdb::dump_set(&mut out, s.len(), s.iter().map(|m| m.as_slice()), compress);
            } else if let Some(z) = v.as_zset() {
                // Redis writes a skiplist from the highest score down; a listpack ascending.
                if zset_encoding(z) == "skiplist" {
                    let top = z.len().saturating_sub(1);
                    rdb::dump_zset(&mut out, z.len(), z.iter_rev_from(top), compress);
                } else {
                    rdb::dump_zset(&mut out, z.len(), z.iter(), compress);
                }
            }
        }
    }
    rdb::dump_finish(&mut out);
    out
}

/// A DUMP payload as a value, or RESTORE's error text.
pub(crate) fn load_value(payload: &[u8]) -> Result<Value, &'static str> {
    use crate::keyspace::{Hash, List, Set, SmallBytes, Zset};
    let v = match rdb::read_dump(payload) {
        Ok(v) => v,
        Err(rdb::DumpError::Footer) => return Err(ERR_PAYLOAD),
        Err(rdb::DumpError::Format(_)) => return Err(ERR_BAD_FORMAT),
    };
    Ok(match v {
        rdb::RdbValue::Str(b) => Value::string(&b),
        rdb::RdbValue::Int(i) => Value::int(i),
        rdb::RdbValue::List(items) => {
            Value::list(items.iter().map(|e| SmallBytes::new(e)).collect::<List>())
        }
        rdb::RdbValue::Hash(pairs) => {
            let mut h = Hash::with_capacity_and_hasher(pairs.len(), ahash::RandomState::new());
            for (f, v) in &pairs {
                h.insert(SmallBytes::new(f), SmallBytes::new(v));
            }
            Value::hash(h)
        }
        rdb::RdbValue::Set(members) => {
            let mut s = Set::with_capacity_and_hasher(members.len(), ahash::RandomState::new());
            for m in &members {
                s.insert(SmallBytes::new(m));
            }
            Value::set(s)
        }
        rdb::RdbValue::ZSet(items) => {
            let mut z = Zset::with_capacity(items.len());
            for (m, score) in &items {
                if z.insert(m, *score).is_some() {
                    return Err(ERR_BAD_FORMAT);
                }
            }
            Value::zset(z)
        }
    })
}

/// DUMP key: the value as Redis 7.0 serializes it, or nil.
fn dump(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) {
        Some(v) => {
            let payload = dump_value(v, true);
            out.bulk(&payload);
        }
        None => out.null(),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], with
/// Redis's order of checks: options, then BUSYKEY, then the TTL, then the payload's footer, then
/// its contents. IDLETIME sets the key's access clock; FREQ is validated and ignored (no LFU
/// policy here, as Redis ignores it under an LRU one). A TTL
/// already in the past stores nothing (and deletes the old key under REPLACE), replying OK.
fn restore(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let (mut replace, mut absttl, mut idle, mut freq) = (false, false, None, false);
    let mut j = 4;
    while j < argv.len() {
        let additional = argv.len() - j - 1;
        let opt = argv.get(j);
        if opt_is(opt, "replace") {
            replace = true;
        } else if opt_is(opt, "absttl") {
            absttl = true;
        } else if opt_is(opt, "idletime") && additional >= 1 && !freq {
            match parse_i64(argv.get(j + 1)) {
                None => return out.error(err::NOT_INTEGER),
                Some(v) if v < 0 => return out.error(ERR_BAD_IDLETIME),
                Some(v) => idle = Some(v),
            }
            j += 1;
        } else if opt_is(opt, "freq") && additional >= 1 && idle.is_none() {
            match parse_i64(argv.get(j + 1)) {
                None => return out.error(err::NOT_INTEGER),
                Some(v) if !(0..=255).contains(&v) => return out.error(ERR_BAD_FREQ),
                Some(_) => freq = true,
            }
            j += 1;
        } else {
            return out.error(err::SYNTAX);
        }
        j += 1;
    }
    if !replace && ctx.ks.contains(db, key, now) {
        return out.error(ERR_BUSYKEY);
    }
    let mut ttl = match parse_i64(argv.get(2)) {
        None => return out.error(err::NOT_INTEGER),
        Some(t) if t < 0 => return out.error(ERR_BAD_TTL),
        Some(t) => t,
    };
    let v = match load_value(argv.get(3)) {
        Ok(v) => v,
        Err(e) => return out.error(e),
    };
    let deleted = replace && ctx.ks.remove(db, key, now).is_some();
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && ttl <= now {
        ctx.ks.add_dirty(u64::from(deleted));
        if deleted {
            ctx.notify(notify::GENERIC, "del", key);
        }
        return out.ok();
    }
    let policy = if ttl != 0 { Ttl::At(ttl) } else { Ttl::Clear };
    ctx.ks.set(db, key, v, policy, now);
    if let Some(secs) = idle {
        // Redis's objectSetLRUOrLFU: an idle time longer than the clock is "half-way in the
        // future" so the key looks oldest.
        let (clock, max) = (
            crate::keyspace::lru_clock(now),
            crate::keyspace::LRU_CLOCK_MAX,
        );
        let abs = i64::from(clock) - secs;
        let abs = if abs < 0 {
            (clock + max / 2) % max
        } else {
            abs as u32
        };
        ctx.ks.set_clock(db, key, abs);
    }
    ctx.ks.add_dirty(1);
    ctx.notify(notify::GENERIC, "restore", key);
    out.ok();
}

// --- OBJECT --------------------------------------------------------------------------------

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP: subcommand and arity errors as
/// Redis's container commands give them; the key's part runs on its owner.
async fn object_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    if opt_is(sub, "help") {
        if argv.len() != 2 {
            return super::arity_error("object|help", out);
        }
        out.array(OBJECT_HELP.len());
        for line in OBJECT_HELP {
            out.simple(line);
        }
        return;
    }
    let Some(name) = ["encoding", "refcount", "idletime", "freq"]
        .into_iter()
        .find(|n| opt_is(sub, n))
    else {
        return super::unknown_subcommand(argv, out);
    };
    if argv.len() != 3 {
        return super::arity_error(&format!("object|{name}"), out);
    }
    let key = argv.get(2);
    let b = CmdBatch::from_args([OBJECT_PART.as_bytes(), name.as_bytes(), key]);
    let reply = core
        .call(shard_of(key, core.nshards), db, out.proto, &b)
        .await;
    out.raw(&reply);
}

/// What Redis 7.0 would report as the encoding of a zset with these contents.
fn zset_encoding(z: &crate::keyspace::Zset) -> &'static str {
    if z.len() <= rdb::ZSET_MAX_LISTPACK_ENTRIES
        && z.iter()
            .all(|(m, _)| m.len() <= rdb::ZSET_MAX_LISTPACK_VALUE)
    {
        "listpack"
    } else {
        "skiplist"
    }
}

/// The encoding Redis 7.0 would report for a value with these contents, created the usual way
/// (SET, RPUSH, HSET, SADD, ZADD) and under the default size limits. Redis never converts
/// back, and APPEND/SETRANGE make a string `raw` there; we keep no such history, so after those
/// operations ours may name the compact encoding where Redis names the big one.
fn encoding(v: &Value) -> &'static str {
    if let Some(s) = v.as_str() {
        return match s {
            StrRef::Int(_) => "int",
            StrRef::Bytes(b) if b.len() <= 20 && parse_i64(b).is_some() => "int",
            StrRef::Bytes(b) if b.len() <= EMBSTR_MAX => "embstr",
            StrRef::Bytes(_) => "raw",
        };
    }
    if v.as_list().is_some() {
        // Redis 7.0 keeps every list in a quicklist (listpack lists came with 7.2).
        return "quicklist";
    }
    if let Some(h) = v.as_hash() {
        let small = h.len() <= rdb::HASH_MAX_LISTPACK_ENTRIES
            && h.iter().all(|(f, v)| {
                f.len() <= rdb::HASH_MAX_LISTPACK_VALUE && v.len() <= rdb::HASH_MAX_LISTPACK_VALUE
            });
        return if small { "listpack" } else { "hashtable" };
    }
    if let Some(s) = v.as_set() {
        let ints =
            s.len() <= rdb::SET_MAX_INTSET_ENTRIES && s.iter().all(|m| parse_i64(m).is_some());
        return if ints { "intset" } else { "hashtable" };
    }
    match v.as_zset() {
        Some(z) => zset_encoding(z),
        None => "unknown",
    }
}

/// OBJECT REFCOUNT: Redis shares the integers 0..9999 (refcount `INT_MAX`); every other value
/// has one reference.
fn refcount(v: &Value) -> i64 {
    match v.as_str().and_then(|s| match s {
        StrRef::Int(i) => Some(i),
        StrRef::Bytes(b) if b.len() <= 20 => parse_i64(b),
        StrRef::Bytes(_) => None,
    }) {
        Some(i) if (0..SHARED_INTEGERS).contains(&i) => i64::from(i32::MAX),
        _ => 1,
    }
}

/// `__key-object sub key`: nil for a missing key (whatever the subcommand), as Redis. Like
/// Redis's OBJECT, the lookup counts a hit or miss but neither touches the key nor raises a
/// `keymiss` event.
fn object_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    let now = ctx.now_ms;
    let Some((v, clock)) = ctx.ks.lookup_object(ctx.db, argv.get(2), now) else {
        return out.null();
    };
    match sub {
        b"encoding" => {
            let e = encoding(v);
            out.bulk(e.as_bytes());
        }
        b"refcount" => {
            let n = refcount(v);
            out.int(n);
        }
        // Seconds since the last access (we never evict, so the policy is never an LFU one).
        b"idletime" => {
            let idle = crate::keyspace::idle_ms(crate::keyspace::lru_clock(now), clock);
            out.int((idle / 1000) as i64);
        }
        _ => out.error(ERR_FREQ),
    }
}

// --- MEMORY --------------------------------------------------------------------------------

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Estimate the bytes <key> and its value take. Every element is counted;",
    "    <count> (0 = all) is validated but does not change the result.",
    "HELP",
    "    Print this help.",
];

/// Elements MEMORY USAGE looks at in a collection when SAMPLES is not given (Redis's
/// `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
const MEMORY_DEFAULT_SAMPLES: i64 = 5;

/// MEMORY USAGE key [SAMPLES count], MEMORY HELP. Options are checked before the key is looked at;
/// the estimate is computed on the key's owner.
async fn memory_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    if opt_is(sub, "help") {
        if argv.len() != 2 {
            return super::arity_error("memory|help", out);
        }
        out.array(MEMORY_HELP.len());
        for line in MEMORY_HELP {
            out.simple(line);
        }
        return;
    }
    if !opt_is(sub, "usage") {
        return super::unknown_subcommand(argv, out);
    }
    if argv.len() < 3 {
        return super::arity_error("memory|usage", out);
    }
    let mut samples = MEMORY_DEFAULT_SAMPLES;
    let mut j = 3;
    while j < argv.len() {
        if opt_is(argv.get(j), "samples") && j + 1 < argv.len() {
            match parse_i64(argv.get(j + 1)) {
                None => return out.error(err::NOT_INTEGER),
                Some(n) if n < 0 => return out.error(err::SYNTAX),
                Some(n) => samples = n,
            }
            j += 2;
        } else {
            return out.error(err::SYNTAX);
        }
    }
    let key = argv.get(2);
    let samples_arg = itoa::Buffer::new().format(samples).as_bytes().to_vec();
    let b = CmdBatch::from_args([MEMORY_PART.as_bytes(), key, &samples_arg]);
    let reply = core
        .call(shard_of(key, core.nshards), db, out.proto, &b)
        .await;
    out.raw(&reply);
}

/// Bytes a key costs in its table beyond its value: the 32-byte slot and its control byte, the
/// key's own heap block when it is not stored inline, and its deadline in the expiry index.
fn key_overhead(key: &[u8], has_ttl: bool) -> usize {
    const SLOT: usize = 32 + 1;
    // Inline up to 16 bytes unless the key ends with a zero byte (see `KeyBytes`).
    let key_heap = if key.len() <= 16 && key.last() != Some(&0) {
        0
    } else {
        key.len()
    };
    // An expiry index entry: hash, key cell, deadline and its index slot, plus a long key's copy.
    let ttl = if has_ttl {
        8 + 16 + 8 + 8 + if key.len() > 15 { key.len() } else { 0 }
    } else {
        0
    };
    SLOT + key_heap + ttl
}

/// `__key-memory key samples`: nil for a missing key. Like Redis's `dbFind`, a key whose TTL has
/// passed but that is not deleted yet is still measured.
///
/// Our estimate is exact rather than sampled: the value's heap footprint is summed over every
/// element (`Value::heap_size`), so SAMPLES only changes what is validated, not the result.
fn memory_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let key = argv.get(1);
    let Some(v) = ctx.ks.peek(ctx.db, key) else {
        return out.null();
    };
    let value = std::mem::size_of::<Value>() + v.heap_size();
    let has_ttl = ctx.ks.expire_at(ctx.db, key).is_some();
    out.int((key_overhead(key, has_ttl) + value) as i64);
}

// --- SORT ----------------------------------------------------------------------------------

/// `__key-sort nshards ro key [options]`: the whole SORT on the key's owner, atomically, when
/// every key its BY/GET patterns name is owned here too (and the caller checked STORE's
/// destination is); otherwise replies [`SORT_REMOTE`] and changes nothing.
const SORT_PART: &str = "__key-sort";
/// `__key-sortload key`: `[type, element…]` (type `none` for a missing key), or WRONGTYPE.
const SORT_LOAD_PART: &str = "__key-sortload";
/// `__key-sortget key field …`: for each pair, the string at `key` (empty `field`) or the
/// hash field `field` of `key`, nil when missing or of another type.
const SORT_GET_PART: &str = "__key-sortget";
/// `__key-sortstore dest item…`: replaces `dest` with a list of the items (deletes it when
/// there is none); replies the count.
const SORT_STORE_PART: &str = "__key-sortstore";
/// What [`SORT_PART`] replies when a pattern names a key of another shard.
const SORT_REMOTE: &str = "ERR internal: SORT needs keys of other shards";
const ERR_SORT_SCORE: &str = "ERR One or more scores can't be converted into double";

/// SORT's options, as Redis parses them (in order; a bad LIMIT number is `ERR value is not an
/// integer or out of range`, anything unknown a syntax error).
struct SortOpts<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT offset count (Redis's defaults: 0 and -1, i.e. everything).
    start: i64,
    count: i64,
    by: Option<&'a [u8]>,
    /// BY a pattern without `*`: the elements keep their order.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// Parses SORT options from `argv[from..]` (the key is at `from - 1`).
fn parse_sort<'a>(
    argv: Argv<'a>,
    from: usize,
    readonly: bool,
) -> Result<SortOpts<'a>, &'static str> {
    let mut o = SortOpts {
        desc: false,
        alpha: false,
        start: 0,
        count: -1,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = from;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let opt = argv.get(j);
        if opt_is(opt, "asc") {
            o.desc = false;
        } else if opt_is(opt, "desc") {
            o.desc = true;
        } else if opt_is(opt, "alpha") {
            o.alpha = true;
        } else if opt_is(opt, "limit") && left >= 2 {
            let (Some(start), Some(count)) =
                (parse_i64(argv.get(j + 1)), parse_i64(argv.get(j + 2)))
            else {
                return Err(err::NOT_INTEGER);
            };
            (o.start, o.count) = (start, count);
            j += 2;
        } else if !readonly && opt_is(opt, "store") && left >= 1 {
            o.store = Some(argv.get(j + 1));
            j += 1;
        } else if opt_is(opt, "by") && left >= 1 {
            let p = argv.get(j + 1);
            o.by = Some(p);
            o.dontsort = !c_str(p).contains(&b'*');
            // A pattern names keys of any slot: Redis Cluster refuses it (a constant BY is fine).
            if !o.dontsort && crate::cluster::enabled() {
                return Err("ERR BY option of SORT denied in Cluster mode.");
            }
            j += 1;
        } else if opt_is(opt, "get") && left >= 1 {
            if crate::cluster::enabled() {
                return Err("ERR GET option of SORT denied in Cluster mode.");
            }
            o.gets.push(argv.get(j + 1));
            j += 1;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes before the first NUL (patterns are C strings to Redis).
fn c_str(s: &[u8]) -> &[u8] {
    &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
}

/// A key a BY/GET pattern names, with the hash field it reads (`None`: the string value).
type PatternKey = (Vec<u8>, Option<Vec<u8>>);
/// Reads a BY/GET value: the string at a key, or a hash field of it; `None` when missing.
type SortLookup<'l> = dyn FnMut(&[u8], Option<&[u8]>) -> Option<Vec<u8>> + 'l;

/// What a BY/GET pattern names for one element.
#[derive(PartialEq, Eq, Hash)]
enum Deref {
    /// `#`: the element itself.
    Itself,
    /// No `*`: nothing (a fixed key is never looked up).
    Nothing,
    /// The string at this key, or (with `->field`) this hash field of it.
    Key(Vec<u8>, Option<Vec<u8>>),
}

/// Redis's `lookupKeyByPattern` substitution: the first `*` becomes the element; a `->` after it
/// followed by at least one byte names a hash field.
fn deref(pattern: &[u8], elem: &[u8]) -> Deref {
    let pat = c_str(pattern);
    if pat == b"#" {
        return Deref::Itself;
    }
    let Some(star) = pat.iter().position(|&b| b == b'*') else {
        return Deref::Nothing;
    };
    let after = &pat[star + 1..];
    let (postfix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(f) if f + 2 < after.len() => (&after[..f], Some(after[f + 2..].to_vec())),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + postfix.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    Deref::Key(key, field)
}

/// The elements of the value to sort, in its own order, and whether it is a set.
struct SortInput {
    elems: Vec<Vec<u8>>,
    is_set: bool,
}

/// The elements of a list, set or sorted set (`Ok(None)` when missing; `Err` another type).
fn sort_input(ctx: &mut ShardCtx<'_>, key: &[u8]) -> Result<Option<SortInput>, ()> {
    let Some(v) = ctx.ks.lookup_read(ctx.db, key, ctx.now_ms) else {
        return Ok(None);
    };
    let (elems, is_set): (Vec<Vec<u8>>, bool) = if let Some(l) = v.as_list() {
        (l.iter().map(|e| e.to_vec()).collect(), false)
    } else if let Some(s) = v.as_set() {
        (s.iter().map(|m| m.to_vec()).collect(), true)
    } else if let Some(z) = v.as_zset() {
        (z.iter().map(|(m, _)| m.to_vec()).collect(), false)
    } else {
        return Err(());
    };
    Ok(Some(SortInput { elems, is_set }))
}

/// SORT's numeric reading of a value: C `strtod` over the whole C string (leading space and an
/// empty string allowed), no trailing bytes, no overflow, no NaN.
fn sort_score(v: &[u8]) -> Option<f64> {
    let s = c_str(v);
    let (x, n, erange) = super::zset::strtod(s);
    (n == s.len() && !erange && !x.is_nan()).then_some(x)
}

/// Sorts `input` by `o` and returns the output items (one per element, or one per element and
/// GET pattern; `None` is a missing GET value), or the score error. `lookup` answers a
/// pattern's key (or hash field) for an element.
fn sort_items(
    input: SortInput,
    o: &SortOpts<'_>,
    lookup: &mut SortLookup<'_>,
) -> Result<Vec<Option<Vec<u8>>>, &'static str> {
    let SortInput { mut elems, is_set } = input;
    let (mut dontsort, mut alpha, mut by) = (o.dontsort, o.alpha, o.by);
    // A set has no order of its own: stored results are sorted (as strings) anyway.
    if dontsort && is_set && o.store.is_some() {
        (dontsort, alpha, by) = (false, true, None);
    }
    let mut get = |pattern: &[u8], elem: &[u8]| -> Option<Vec<u8>> {
        match deref(pattern, elem) {
            Deref::Itself => Some(elem.to_vec()),
            Deref::Nothing => None,
            Deref::Key(k, f) => lookup(&k, f.as_deref()),
        }
    };
    if dontsort {
        if o.desc && !is_set {
            elems.reverse();
        }
    } else {
        // Sort keys: the BY value (or the element), as a number unless ALPHA.
        enum SortKey {
            Num(f64),
            Text(Option<Vec<u8>>),
        }
        let mut bad_score = false;
        let mut keyed: Vec<(SortKey, Vec<u8>)> = elems
            .into_iter()
            .map(|e| {
                let byval = match by {
                    Some(p) => get(p, &e),
                    None => Some(e.clone()),
                };
                let k = if alpha {
                    SortKey::Text(byval)
                } else {
                    // A missing BY value sorts as 0.
                    SortKey::Num(match byval {
                        None => 0.0,
                        Some(v) => sort_score(&v).unwrap_or_else(|| {
                            bad_score = true;
                            0.0
                        }),
                    })
                };
                (k, e)
            })
            .collect();
        if bad_score {
            return Err(ERR_SORT_SCORE);
        }
        keyed.sort_by(|(ka, ea), (kb, eb)| {
            let c = match (ka, kb) {
                // Equal scores fall back to the elements, so the order is deterministic.
                (SortKey::Num(a), SortKey::Num(b)) => a
                    .partial_cmp(b)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| ea.cmp(eb)),
                // No BY: the elements themselves; a missing BY value sorts first.
                (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
                _ => std::cmp::Ordering::Equal,
            };
            if o.desc {
                c.reverse()
            } else {
                c
            }
        });
        elems = keyed.into_iter().map(|(_, e)| e).collect();
    }
    // LIMIT, clamped as Redis does.
    let len = elems.len() as i64;
    let mut start = o.start.max(0);
    let mut end = if o.count < 0 {
        len - 1
    } else {
        start.saturating_add(o.count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    let picked = if start <= end && start >= 0 {
        &elems[start as usize..=end as usize]
    } else {
        &elems[..0]
    };
    let mut items = Vec::with_capacity(picked.len() * o.gets.len().max(1));
    for e in picked {
        if o.gets.is_empty() {
            items.push(Some(e.clone()));
        }
        for p in &o.gets {
            items.push(get(p, e));
        }
    }
    Ok(items)
}

/// Replies the items as SORT does: an array (missing GET values are nil).
fn reply_sort_items(out: &mut Reply, items: &[Option<Vec<u8>>]) {
    out.array(items.len());
    for it in items {
        match it {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
}

/// STORE: `dest` becomes a list of the items (missing GET values as empty strings), or is
/// deleted when there is none. Returns the count.
fn sort_store(ctx: &mut ShardCtx<'_>, dest: &[u8], items: &[Option<Vec<u8>>]) -> i64 {
    let (db, now) = (ctx.db, ctx.now_ms);
    if items.is_empty() {
        if ctx.ks.remove(db, dest, now).is_some() {
            ctx.ks.add_dirty(1);
            ctx.notify(notify::GENERIC, "del", dest);
        }
        return 0;
    }
    let list: crate::keyspace::List = items
        .iter()
        .map(|it| crate::keyspace::SmallBytes::new(it.as_deref().unwrap_or(b"")))
        .collect();
    ctx.ks.set(db, dest, Value::list(list), Ttl::Clear, now);
    ctx.ks.add_dirty(items.len() as u64);
    ctx.notify(notify::LIST, "sortstore", dest);
    items.len() as i64
}

/// SORT / SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination].
///
/// In one atomic step on the key's owner when every key it reads or writes lives there;
/// otherwise it loads the elements, fetches the BY/GET values from their owners, sorts here and
/// stores on the destination's owner (each step atomic, the whole not).
async fn sort_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply, ro: bool) {
    let o = match parse_sort(argv, 2, ro) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let key = argv.get(1);
    let n = core.nshards;
    let owner = shard_of(key, n);
    if o.store.is_none_or(|d| shard_of(d, n) == owner) {
        let nshards = itoa::Buffer::new().format(n).as_bytes().to_vec();
        let ro_arg: &[u8] = if ro { b"1" } else { b"0" };
        let mut b = CmdBatch::new();
        b.push_arg(SORT_PART.as_bytes());
        b.push_arg(&nshards);
        b.push_arg(ro_arg);
        for a in argv.tail(1) {
            b.push_arg(a);
        }
        b.finish_cmd();
        let reply = core.call(owner, db, out.proto, &b).await;
        if reply != format!("-{SORT_REMOTE}\r\n").as_bytes() {
            return out.raw(&reply);
        }
    }
    // Load the elements.
    let b = CmdBatch::from_args([SORT_LOAD_PART.as_bytes(), key]);
    let r = core.call(owner, db, Proto::Resp2, &b).await;
    let input = match frame(&r) {
        Some(Frame::Array(items)) => {
            let mut it = items.into_iter();
            let is_set = matches!(it.next(), Some(Frame::Bulk(t)) if t == b"set");
            let elems: Option<Vec<Vec<u8>>> = it
                .map(|f| match f {
                    Frame::Bulk(b) => Some(b),
                    _ => None,
                })
                .collect();
            match elems {
                Some(elems) => SortInput { elems, is_set },
                None => return out.error(ERR_BAD_PART),
            }
        }
        _ => return reply_failure(out, &r),
    };
    // Every key the patterns name, fetched from its owner.
    let mut wanted: Vec<PatternKey> = Vec::new();
    {
        let mut seen = std::collections::HashSet::new();
        // A BY pattern without `*` names no key, so it adds nothing here.
        let patterns = o.by.into_iter().chain(o.gets.iter().copied());
        for p in patterns {
            for e in &input.elems {
                if let Deref::Key(k, f) = deref(p, e) {
                    if seen.insert((k.clone(), f.clone())) {
                        wanted.push((k, f));
                    }
                }
            }
        }
    }
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, (k, _)) in wanted.iter().enumerate() {
        let s = shard_of(k, n);
        match groups.iter_mut().find(|(o, _)| *o == s) {
            Some((_, g)) => g.push(i),
            None => groups.push((s, vec![i])),
        }
    }
    let batches: Vec<(usize, CmdBatch)> = groups
        .iter()
        .map(|(s, idx)| {
            let mut b = CmdBatch::new();
            b.push_arg(SORT_GET_PART.as_bytes());
            for &i in idx {
                b.push_arg(&wanted[i].0);
                b.push_arg(wanted[i].1.as_deref().unwrap_or(b""));
            }
            b.finish_cmd();
            (*s, b)
        })
        .collect();
    let replies = join_all(
        batches
            .iter()
            .map(|(s, b)| core.call(*s, db, Proto::Resp2, b))
            .collect(),
    )
    .await;
    let mut values: std::collections::HashMap<PatternKey, Option<Vec<u8>>> =
        std::collections::HashMap::new();
    for ((_, idx), r) in groups.iter().zip(&replies) {
        let Some(Frame::Array(items)) = frame(r) else {
            return reply_failure(out, r);
        };
        if items.len() != idx.len() {
            return out.error(ERR_BAD_PART);
        }
        for (&i, f) in idx.iter().zip(items) {
            let v = match f {
                Frame::Bulk(b) => Some(b),
                _ => None,
            };
            values.insert(wanted[i].clone(), v);
        }
    }
    let mut lookup = |k: &[u8], f: Option<&[u8]>| -> Option<Vec<u8>> {
        values
            .get(&(k.to_vec(), f.map(<[u8]>::to_vec)))
            .cloned()
            .flatten()
    };
    let items = match sort_items(input, &o, &mut lookup) {
        Ok(items) => items,
        Err(e) => return out.error(e),
    };
    let Some(dest) = o.store else {
        return reply_sort_items(out, &items);
    };
    let mut b = CmdBatch::new();
    b.push_arg(SORT_STORE_PART.as_bytes());
    b.push_arg(dest);
    for it in &items {
        b.push_arg(it.as_deref().unwrap_or(b""));
    }
    b.finish_cmd();
    let reply = core.call(shard_of(dest, n), db, out.proto, &b).await;
    out.raw(&reply);
}

/// A BY/GET value read on this shard: the string at `key`, or its hash field `field`.
fn sort_value(ctx: &mut ShardCtx<'_>, key: &[u8], field: Option<&[u8]>) -> Option<Vec<u8>> {
    let v = ctx.ks.lookup_read(ctx.db, key, ctx.now_ms)?;
    match field {
        None => v.as_str().map(|s| s.with_bytes(<[u8]>::to_vec)),
        Some(f) => v.as_hash()?.get(f).map(|x| x.to_vec()),
    }
}

/// `__key-sort nshards ro key [options]`
fn sort_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (Some(nshards), ro) = (
        parse_i64(argv.get(1)).and_then(|n| usize::try_from(n).ok()),
        argv.get(2) == b"1",
    ) else {
        return out.error(ERR_BAD_PART);
    };
    let key = argv.get(3);
    let o = match parse_sort(argv, 4, ro) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let me = shard_of(key, nshards);
    let input = match sort_input(ctx, key) {
        Ok(Some(i)) => i,
        Ok(None) => SortInput {
            elems: Vec::new(),
            is_set: false,
        },
        Err(()) => return out.error(err::WRONGTYPE),
    };
    let mut remote = false;
    let mut lookup = |k: &[u8], f: Option<&[u8]>| -> Option<Vec<u8>> {
        if shard_of(k, nshards) != me {
            remote = true;
            return None;
        }
        sort_value(ctx, k, f)
    };
    let result = sort_items(input, &o, &mut lookup);
    if remote {
        return out.error(SORT_REMOTE);
    }
    let items = match result {
        Ok(items) => items,
        Err(e) => return out.error(e),
    };
    match o.store {
        None => reply_sort_items(out, &items),
        Some(dest) => {
            let n = sort_store(ctx, dest, &items);
            out.int(n);
        }
    }
}

/// `__key-sortload key`
fn sort_load_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match sort_input(ctx, argv.get(1)) {
        Err(()) => out.error(err::WRONGTYPE),
        Ok(None) => {
            out.array(1);
            out.bulk(b"none");
        }
        Ok(Some(i)) => {
            out.array(1 + i.elems.len());
            out.bulk(if i.is_set { b"set" } else { b"list" });
            for e in &i.elems {
                out.bulk(e);
            }
        }
    }
}

/// `__key-sortget key field ...` (an empty field: the string at the key).
fn sort_get_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let pairs = (argv.len() - 1) / 2;
    out.array(pairs);
    for p in 0..pairs {
        let (k, f) = (argv.get(1 + 2 * p), argv.get(2 + 2 * p));
        match sort_value(ctx, k, (!f.is_empty()).then_some(f)) {
            Some(v) => out.bulk(&v),
            None => out.null(),
        }
    }
}

/// `__key-sortstore dest item ...`
fn sort_store_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let items: Vec<Option<Vec<u8>>> = argv.tail(2).map(|a| Some(a.to_vec())).collect();
    let n = sort_store(ctx, argv.get(1), &items);
    out.int(n);
}

/// Redis's glob matcher (`stringmatchlen`): `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges
/// allowed), and `\` escapes, with Redis's edge cases: an unclosed `[` class runs to the end of the
/// pattern, a trailing `\` matches itself, ranges compare bytes as signed chars (as C on x86).
///
/// Iterative with backtracking to the last `*` only, which is equivalent for globs (every other
/// token matches exactly one byte) and runs in O(pattern × string) with no recursion, so no
/// pattern can blow the stack or take exponential time.
pub fn string_match(pat: &[u8], s: &[u8], nocase: bool) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    // Pattern position right after the last `*`, and the string position it is tried at.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if i == s.len() {
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
            return p == pat.len();
        }
        if p < pat.len() {
            if pat[p] == b'*' {
                while p < pat.len() && pat[p] == b'*' {
                    p += 1;
                }
                if p == pat.len() {
                    return true;
                }
                star = Some((p, i));
                continue;
            }
            if let Some(next) = match_one(pat, p, s[i], nocase) {
                p = next;
                i += 1;
                continue;
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
}

/// Matches the single non-`*` token at `pat[p]` against byte `c`; returns the pattern position
/// after the token, or `None` on mismatch.
fn match_one(pat: &[u8], mut p: usize, c: u8, nocase: bool) -> Option<usize> {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    match pat[p] {
        b'?' => Some(p + 1),
        b'[' => {
            p += 1;
            let not = p < pat.len() && pat[p] == b'^';
            if not {
                p += 1;
            }
            let mut matched = false;
            loop {
                if p < pat.len() && pat[p] == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    if pat[p] == c {
                        matched = true;
                    }
                } else if p < pat.len() && pat[p] == b']' {
                    break;
                } else if p >= pat.len() {
                    // Unclosed class: it ends with the pattern.
                    p -= 1;
                    break;
                } else if pat.len() - p >= 3 && pat[p + 1] == b'-' {
                    // C compares (signed) chars, lowering only ASCII letters when nocase.
                    let lower = |v: i32| {
                        if nocase && (65..=90).contains(&v) {
                            v + 32
                        } else {
                            v
                        }
                    };
                    let (mut lo, mut hi) = (i32::from(pat[p] as i8), i32::from(pat[p + 2] as i8));
                    if lo > hi {
                        std::mem::swap(&mut lo, &mut hi);
                    }
                    let ch = lower(i32::from(c as i8));
                    p += 2;
                    if ch >= lower(lo) && ch <= lower(hi) {
                        matched = true;
                    }
                } else if eq(pat[p], c) {
                    matched = true;
                }
                p += 1;
            }
            if matched != not {
                Some(p + 1)
            } else {
                None
            }
        }
        b'\\' if pat.len() - p >= 2 => eq(pat[p + 1], c).then_some(p + 2),
        lit => eq(lit, c).then_some(p + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::string_match;
    use crate::cmd::string::tests::run;
    use crate::keyspace::Keyspace;

    macro_rules! t {
        ($ks:expr, $now:expr, [$($a:expr),*], $want:expr) => {
            assert_eq!(run($ks, $now, &[$(AsRef::<[u8]>::as_ref(&$a)),*]), $want, "{:?}", [$($a),*]);
        };
    }

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn glob_matches_like_redis() {
        // (pattern, string, expected) — checked against redis-server 7.0 KEYS.
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "hllo", true),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hello", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hallo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("foo\\", "foo\\", true),
            ("[abc", "a", true),
            ("[abc", "d", false),
            ("[", "[", false),
            ("[^", "x", true),
            ("[]", "]", false),
            ("[\\]]", "]", true),
            ("[a-]", "-", false),
            ("[a-]", "a", true),
            (
                "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("a*", "", false),
            ("*", "", true),
            ("**", "", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbYcZ", false),
            ("*c", "abcabc", true),
            ("user:*:name", "user:42:name", true),
            ("?", "", false),
        ];
        for &(p, s, want) in cases {
            assert_eq!(
                string_match(p.as_bytes(), s.as_bytes(), false),
                want,
                "{p:?} vs {s:?}"
            );
        }
        assert!(string_match(b"SAV*", b"save", true));
        assert!(string_match(b"[A-Z]ave", b"save", true));
        assert!(!string_match(b"SAV*", b"save", false));
        // Bytes >= 0x80 are negative chars in C: [\x01-\xff] covers -1..1 only.
        assert!(string_match(b"[\x01-\xff]", b"\x00", false));
        assert!(!string_match(b"[\x01-\xff]", b"a", false));
        assert!(string_match(b"[\x80-\xff]", b"\x90", false));
    }

    #[test]
    fn encodings_refcounts_and_payloads() {
        use super::{dump_value, encoding, load_value, refcount};
        use crate::keyspace::{Hash, List, Set, SmallBytes, Value, Zset};
        let s = |b: &[u8]| Value::string(b);
        assert_eq!(encoding(&s(b"123")), "int");
        assert_eq!(encoding(&Value::int(1 << 40)), "int");
        assert_eq!(encoding(&s(b"0123")), "embstr");
        assert_eq!(encoding(&s(&[b'x'; 44])), "embstr");
        assert_eq!(encoding(&s(&[b'x'; 45])), "raw");
        assert_eq!(refcount(&s(b"9999")), 2147483647);
        assert_eq!(refcount(&Value::int(0)), 2147483647);
        assert_eq!(refcount(&s(b"10000")), 1);
        assert_eq!(refcount(&s(b"-1")), 1);
        let list: List = [SmallBytes::new(b"a")].into_iter().collect();
        let mut hash = Hash::default();
        hash.insert(SmallBytes::new(b"f"), SmallBytes::new(b"v"));
        let mut set = Set::default();
        set.insert(SmallBytes::new(b"7"));
        let mut zset = Zset::new();
        zset.insert(b"m", 2.5);
        let values = [
            s(b"hello"),
            s(&[b'y'; 300]),
            Value::int(-5),
            Value::list(list),
            Value::hash(hash.clone()),
            Value::set(set.clone()),
            Value::zset(zset),
        ];
        let names = [
            "embstr",
            "raw",
            "int",
            "quicklist",
            "listpack",
            "intset",
            "listpack",
        ];
        for (v, want) in values.iter().zip(names) {
            assert_eq!(encoding(v), want);
            for compress in [false, true] {
                let back = load_value(&dump_value(v, compress)).unwrap();
                assert_eq!(format!("{back:?}"), format!("{v:?}"));
            }
        }
        hash.insert(SmallBytes::new(b"long"), SmallBytes::new(&[b'v'; 65]));
        assert_eq!(encoding(&Value::hash(hash)), "hashtable");
        set.insert(SmallBytes::new(b"x"));
        assert_eq!(encoding(&Value::set(set)), "hashtable");
        assert_eq!(load_value(b"junk").err(), Some(super::ERR_PAYLOAD));
    }

    #[test]
    fn glob_never_blows_up() {
        let pat = "*a".repeat(10_000) + "b";
        let s = "a".repeat(20_000);
        assert!(!string_match(pat.as_bytes(), s.as_bytes(), false));
        assert!(string_match(b"*", &[0xff; 10], false));
    }

    #[test]
    fn exists_del_unlink_touch_type() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["SET", "a", "1"], "+OK\r\n");
        t!(ks, NOW, ["SET", "b", "2"], "+OK\r\n");
        t!(ks, NOW, ["EXISTS", "a", "a", "b", "c"], ":3\r\n");
        t!(ks, NOW, ["TOUCH", "a", "c"], ":1\r\n");
        t!(ks, NOW, ["TYPE", "a"], "+string\r\n");
        t!(ks, NOW, ["TYPE", "c"], "+none\r\n");
        t!(ks, NOW, ["RPUSH", "l", "x"], ":1\r\n");
        t!(ks, NOW, ["TYPE", "l"], "+list\r\n");
        t!(ks, NOW, ["DEL", "a", "a", "c", "l"], ":2\r\n");
        t!(ks, NOW, ["UNLINK", "b"], ":1\r\n");
        t!(ks, NOW, ["EXISTS", "a", "b", "l"], ":0\r\n");
        t!(
            ks,
            NOW,
            ["DEL"],
            "-ERR wrong number of arguments for 'del' command\r\n"
        );
        t!(ks, NOW, ["SET", "", "zero-length key"], "+OK\r\n");
        t!(ks, NOW, ["EXISTS", ""], ":1\r\n");
        // An expired key is neither found nor counted as deleted.
        t!(ks, NOW, ["SET", "e", "v", "PX", "10"], "+OK\r\n");
        t!(ks, NOW + 11, ["DEL", "e"], ":0\r\n");
    }

    #[test]
    fn ttl_and_expire_family() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["TTL", "k"], ":-2\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":-2\r\n");
        t!(ks, NOW, ["EXPIRETIME", "k"], ":-2\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "10"], ":0\r\n");
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["TTL", "k"], ":-1\r\n");
        t!(ks, NOW, ["PEXPIRETIME", "k"], ":-1\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "10"], ":1\r\n");
        t!(ks, NOW, ["TTL", "k"], ":10\r\n");
        // Rounded to the nearest second: 4500 ms left is 5, 4499 ms is 4.
        t!(ks, NOW + 5_500, ["TTL", "k"], ":5\r\n");
        t!(ks, NOW + 5_501, ["TTL", "k"], ":4\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":10000\r\n");
        let at = NOW / 1000 * 1000 + 10_000;
        let secs = (at / 1000).to_string();
        t!(ks, NOW, ["EXPIREAT", "k", secs.as_str()], ":1\r\n");
        t!(ks, NOW, ["EXPIRETIME", "k"], format!(":{}\r\n", at / 1000));
        t!(ks, NOW, ["PEXPIRETIME", "k"], format!(":{at}\r\n"));
        t!(ks, NOW, ["PEXPIRE", "k", "1500"], ":1\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":1500\r\n");
        t!(ks, NOW, ["TTL", "k"], ":2\r\n");
        let pat = (NOW + 3000).to_string();
        t!(ks, NOW, ["PEXPIREAT", "k", pat.as_str()], ":1\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":3000\r\n");
        t!(ks, NOW + 3000, ["PTTL", "k"], ":0\r\n");
        t!(ks, NOW + 3001, ["PTTL", "k"], ":-2\r\n");
        // A time not in the future deletes the key.
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "-1"], ":1\r\n");
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["PEXPIRE", "k", "0"], ":1\r\n");
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["EXPIREAT", "k", "-9223372036854775"], ":1\r\n");
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["PEXPIRE", "k", "-9223372036854775808"], ":1\r\n");
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
    }

    #[test]
    fn expire_errors() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "abc"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "10", "foo"],
            "-ERR Unsupported option foo\r\n"
        );
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "abc", "foo"],
            "-ERR Unsupported option foo\r\n"
        );
        let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
        t!(ks, NOW, ["EXPIRE", "k", "10", "NX", "XX"], nx);
        t!(ks, NOW, ["EXPIRE", "k", "10", "gt", "nx"], nx);
        t!(ks, NOW, ["EXPIRE", "k", "10", "NX", "LT"], nx);
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "10", "GT", "LT"],
            "-ERR GT and LT options at the same time are not compatible\r\n"
        );
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "9223372036854776"],
            "-ERR invalid expire time in 'expire' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "-9223372036854776"],
            "-ERR invalid expire time in 'expire' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["EXPIRE", "k", "9223372036854775"],
            "-ERR invalid expire time in 'expire' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["PEXPIRE", "k", "9223372036854775807"],
            "-ERR invalid expire time in 'pexpire' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["EXPIREAT", "k", "9223372036854776"],
            "-ERR invalid expire time in 'expireat' command\r\n"
        );
        t!(ks, NOW, ["PEXPIREAT", "k", "9223372036854775807"], ":1\r\n");
        t!(ks, NOW, ["PEXPIRETIME", "k"], ":9223372036854775807\r\n");
        t!(ks, NOW, ["EXPIRETIME", "k"], ":9223372036854776\r\n");
        t!(
            ks,
            NOW,
            ["EXPIRE", "k"],
            "-ERR wrong number of arguments for 'expire' command\r\n"
        );
    }

    #[test]
    fn expire_nx_xx_gt_lt() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "100", "XX"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "100", "GT"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "100", "LT"], ":1\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "200", "NX"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "200", "XX"], ":1\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "100", "GT"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "200", "GT"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "300", "gt"], ":1\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "300", "LT"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "50", "xx", "lt"], ":1\r\n");
        t!(ks, NOW, ["TTL", "k"], ":50\r\n");
        t!(ks, NOW, ["PERSIST", "k"], ":1\r\n");
        t!(ks, NOW, ["PERSIST", "k"], ":0\r\n");
        t!(ks, NOW, ["PERSIST", "nokey"], ":0\r\n");
        t!(ks, NOW, ["EXPIRE", "k", "10", "NX"], ":1\r\n");
        t!(ks, NOW, ["EXPIRE", "nokey", "10", "NX"], ":0\r\n");
    }

    #[test]
    fn keys_lists_live_matches() {
        let ks = &mut Keyspace::new(1);
        for k in ["foo_a", "foo_b", "foo_c", "key_x", "key_y", "key_z"] {
            t!(ks, NOW, ["SET", k, "hello"], "+OK\r\n");
        }
        let reply = run(ks, NOW, &[b"KEYS", b"foo*"]);
        assert!(reply.starts_with("*3\r\n"), "{reply}");
        for k in ["foo_a", "foo_b", "foo_c"] {
            assert!(reply.contains(&format!("$5\r\n{k}\r\n")));
        }
        assert!(run(ks, NOW, &[b"KEYS", b"*"]).starts_with("*6\r\n"));
        t!(ks, NOW, ["KEYS", "nomatch*"], "*0\r\n");
        t!(ks, NOW, ["PEXPIRE", "key_x", "5"], ":1\r\n");
        assert!(run(ks, NOW + 6, &[b"KEYS", b"key*"]).starts_with("*2\r\n"));
        // KEYS skips the expired key but does not delete it.
        t!(ks, NOW + 6, ["DBSIZE"], ":6\r\n");
    }
}

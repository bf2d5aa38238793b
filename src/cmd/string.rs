//! String commands: GET/SET and friends, counters, ranges.
//!
//! Option parsing, the order of checks, and every reply and error follow Redis 7.0's
//! `t_string.c` (and `bitops.c` for SETBIT/GETBIT). INCRBYFLOAT computes in x87 80-bit extended
//! precision, like Redis's `long double` on x86-64, so its replies match byte for byte (see
//! [`ld`]).
//!
//! MSETNX and LCS name several keys and run on the connection's core (`Handler::Async`): when one
//! shard owns every key they run there in one step, atomically; otherwise each owner does its
//! part. MSETNX across shards first checks every owner for an existing key, then sets each
//! owner's keys: each step is atomic on its owner, the whole is not (another client may create
//! one of the keys in between, and then only the other owners' keys are set).

use super::{
    arity_error, err, flags, parse_i64, AsyncFn, CommandSpec, Handler, Merge, Route, Session,
    ShardCtx, ShardFn,
};
use crate::keyspace::{StrRef, Ttl, Value};
use crate::notify;
use crate::resp::{Argv, CmdBatch, Proto, Reply};
use crate::shard::{shard_of, Core};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const ERR_STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
const ERR_OFFSET_RANGE: &str = "ERR offset is out of range";
const ERR_DECR_OVERFLOW: &str = "ERR decrement would overflow";
const ERR_NAN_INF: &str = "ERR increment would produce NaN or Infinity";
const ERR_BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const ERR_BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const ERR_LCS_TYPE: &str = "ERR The specified keys must contain string values";
const ERR_LCS_BOTH: &str = "ERR If you want both the length and indexes, please just use IDX.";
const ERR_LCS_TOO_LONG: &str = "ERR String too long for LCS";
const ERR_LCS_MEMORY: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
const ERR_BAD_PART: &str = "ERR internal: unexpected reply from a shard";

// Internal shard-side steps (clients get "unknown command" for them: `flags::INTERNAL`).
/// `__str-msetnx key value [key value ...]`: sets them all when none exists; 1, else 0.
const MSETNX_PART: &str = "__str-msetnx";
/// `__str-count key [key ...]`: how many of the keys exist (no hit/miss counting).
const COUNT_PART: &str = "__str-count";
/// `__str-lcs key1 key2 [options]`: LCS when one shard owns both keys.
const LCS_PART: &str = "__str-lcs";
/// `__str-lcsval key`: the string at `key` for LCS across shards: a bulk string, nil when
/// missing, or LCS's type error.
const LCS_VALUE_PART: &str = "__str-lcsval";

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let key = CommandSpec::single_key;
    t.push(key("get", 2, READONLY | FAST, get));
    t.push(key("set", -3, WRITE | DENYOOM, set));
    t.push(key("getdel", 2, WRITE | FAST, getdel));
    t.push(key("getex", -2, WRITE | FAST, getex));
    t.push(key("getset", 3, WRITE | DENYOOM | FAST, getset));
    t.push(key("setnx", 3, WRITE | DENYOOM | FAST, setnx));
    t.push(key("setex", 4, WRITE | DENYOOM, setex));
    t.push(key("psetex", 4, WRITE | DENYOOM, psetex));
    t.push(key("append", 3, WRITE | DENYOOM | FAST, append));
    t.push(key("strlen", 2, READONLY | FAST, strlen));
    t.push(key("incr", 2, WRITE | DENYOOM | FAST, incr));
    t.push(key("decr", 2, WRITE | DENYOOM | FAST, decr));
    t.push(key("incrby", 3, WRITE | DENYOOM | FAST, incrby));
    t.push(key("decrby", 3, WRITE | DENYOOM | FAST, decrby));
    t.push(key("incrbyfloat", 3, WRITE | DENYOOM | FAST, incrbyfloat));
    t.push(key("setrange", 4, WRITE | DENYOOM, setrange));
    t.push(key("getrange", 4, READONLY, getrange));
    t.push(key("substr", 4, READONLY, getrange));
    t.push(CommandSpec {
        name: "mget",
        arity: -2,
        flags: READONLY | FAST,
        first_key: 1,
        last_key: -1,
        step: 1,
        route: Route::Keys {
            first: 1,
            step: 1,
            merge: Merge::InOrder,
        },
        handler: Handler::Shard(mget),
    });
    t.push(CommandSpec {
        name: "mset",
        arity: -3,
        flags: WRITE | DENYOOM,
        first_key: 1,
        last_key: -1,
        step: 2,
        route: Route::Keys {
            first: 1,
            step: 2,
            merge: Merge::AllOk,
        },
        handler: Handler::Shard(mset),
    });
    t.push(key("setbit", 4, WRITE | DENYOOM, setbit));
    t.push(key("getbit", 3, READONLY | FAST, getbit));
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
    t.push(conn("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), msetnx));
    t.push(conn("lcs", -3, READONLY, (1, 2, 1), lcs));
    let internal = |name: &'static str, arity: i32, flags: u32, f: ShardFn| {
        CommandSpec::single_key(name, arity, flags | INTERNAL, f)
    };
    t.push(internal(MSETNX_PART, -3, WRITE | DENYOOM, msetnx_part));
    t.push(internal(COUNT_PART, -2, READONLY, count_part));
    t.push(internal(LCS_PART, -3, READONLY, lcs_part));
    t.push(internal(LCS_VALUE_PART, 2, READONLY, lcs_value_part));
}

/// Replies with a stored string as a bulk string.
pub(crate) fn reply_str(out: &mut Reply, s: StrRef<'_>) {
    match s {
        StrRef::Bytes(b) => out.bulk(b),
        StrRef::Int(v) => out.bulk_int(v),
    }
}

/// Case-insensitive option match with C-string semantics: Redis compares option names with
/// `strcasecmp`/char tests, which stop at the first NUL byte.
pub(crate) fn opt_is(opt: &[u8], name: &str) -> bool {
    let end = opt.iter().position(|&b| b == 0).unwrap_or(opt.len());
    opt[..end].eq_ignore_ascii_case(name.as_bytes())
}

/// `ERR invalid expire time in '<cmd>' command`.
pub(crate) fn invalid_expire(out: &mut Reply, cmd: &str) {
    out.error(&format!("ERR invalid expire time in '{cmd}' command"));
}

// Flags of SET/GETEX options, as Redis's `OBJ_*` bits.
const NX: u32 = 1 << 0;
const XX: u32 = 1 << 1;
const EX: u32 = 1 << 2;
const PX: u32 = 1 << 3;
const KEEPTTL: u32 = 1 << 4;
const GET: u32 = 1 << 5;
const EXAT: u32 = 1 << 6;
const PXAT: u32 = 1 << 7;
const PERSIST: u32 = 1 << 8;

/// Parses SET (from argv[3]) or GETEX (from argv[2]) options exactly as Redis: an option that
/// conflicts with an earlier one is a syntax error; a repeated EX/PX/... replaces the earlier
/// argument. Returns the flags and the expire argument.
fn parse_set_options<'a>(argv: Argv<'a>, is_set: bool) -> Option<(u32, Option<&'a [u8]>)> {
    let mut f = 0u32;
    let mut expire = None;
    let mut j = if is_set { 3 } else { 2 };
    while j < argv.len() {
        let opt = argv.get(j);
        let has_next = j + 1 < argv.len();
        let timed = |f: u32, allowed_self: u32| {
            f & ((KEEPTTL | PERSIST | EX | EXAT | PX | PXAT) & !allowed_self) == 0
        };
        if opt_is(opt, "nx") && f & XX == 0 && is_set {
            f |= NX;
        } else if opt_is(opt, "xx") && f & NX == 0 && is_set {
            f |= XX;
        } else if opt_is(opt, "get") && is_set {
            f |= GET;
        } else if opt_is(opt, "keepttl") && f & (PERSIST | EX | EXAT | PX | PXAT) == 0 && is_set {
            f |= KEEPTTL;
        } else if opt_is(opt, "persist") && !is_set && f & (EX | EXAT | PX | PXAT | KEEPTTL) == 0 {
            f |= PERSIST;
        } else if has_next && opt_is(opt, "ex") && timed(f, EX) {
            f |= EX;
            expire = Some(argv.get(j + 1));
            j += 1;
        } else if has_next && opt_is(opt, "px") && timed(f, PX) {
            f |= PX;
            expire = Some(argv.get(j + 1));
            j += 1;
        } else if has_next && opt_is(opt, "exat") && timed(f, EXAT) {
            f |= EXAT;
            expire = Some(argv.get(j + 1));
            j += 1;
        } else if has_next && opt_is(opt, "pxat") && timed(f, PXAT) {
            f |= PXAT;
            expire = Some(argv.get(j + 1));
            j += 1;
        } else {
            return None;
        }
        j += 1;
    }
    Some((f, expire))
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute deadline in ms for an EX/PX/EXAT/PXAT
/// argument, or the error to reply (a non-positive value, or overflow, is an invalid expire time).
fn expire_deadline(
    arg: &[u8],
    seconds: bool,
    relative: bool,
    now_ms: i64,
    cmd: &str,
    out: &mut Reply,
) -> Option<i64> {
    let Some(mut v) = parse_i64(arg) else {
        out.error(err::NOT_INTEGER);
        return None;
    };
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        invalid_expire(out, cmd);
        return None;
    }
    if seconds {
        v *= 1000;
    }
    if relative {
        // Redis adds and then checks the sign: an overflow wraps negative and is rejected.
        v = v.wrapping_add(now_ms);
    }
    if v <= 0 {
        invalid_expire(out, cmd);
        return None;
    }
    Some(v)
}

/// `getGenericCommand`: replies with the string at `key` (or nil). Returns false after replying
/// WRONGTYPE.
fn get_generic(ctx: &mut ShardCtx<'_>, key: &[u8], out: &mut Reply) -> bool {
    match ctx.ks.lookup_read(ctx.db, key, ctx.now_ms) {
        None => out.null(),
        Some(v) => match v.as_str() {
            Some(s) => reply_str(out, s),
            None => {
                out.error(err::WRONGTYPE);
                return false;
            }
        },
    }
    true
}

fn get(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    get_generic(ctx, argv.get(1), out);
}

/// The shared body of SET, SETNX, SETEX, PSETEX (Redis's `setGenericCommand`).
#[allow(clippy::too_many_arguments)]
fn set_generic(
    ctx: &mut ShardCtx<'_>,
    f: u32,
    key: &[u8],
    val: &[u8],
    expire: Option<&[u8]>,
    cmd: &str,
    out: &mut Reply,
    ok_reply: fn(&mut Reply),
    abort_reply: fn(&mut Reply),
) {
    let deadline = match expire {
        Some(arg) => {
            let seconds = f & (EX | EXAT) != 0;
            let relative = f & (EX | PX) != 0;
            match expire_deadline(arg, seconds, relative, ctx.now_ms, cmd, out) {
                Some(d) => Some(d),
                None => return,
            }
        }
        None => None,
    };
    if f & GET != 0 && !get_generic(ctx, key, out) {
        return;
    }
    // Only NX/XX need to know whether the key exists; a plain SET overwrites either way, so it
    // skips that lookup (one hash probe instead of two on the hot path).
    let found = f & (NX | XX) != 0 && ctx.ks.contains(ctx.db, key, ctx.now_ms);
    if (f & NX != 0 && found) || (f & XX != 0 && !found) {
        if f & GET == 0 {
            abort_reply(out);
        }
        return;
    }
    let ttl = if f & KEEPTTL != 0 {
        Ttl::Keep
    } else if let Some(d) = deadline {
        Ttl::At(d)
    } else {
        Ttl::Clear
    };
    ctx.ks.set(ctx.db, key, Value::string(val), ttl, ctx.now_ms);
    ctx.ks.add_dirty(1);
    ctx.notify(notify::STRING, "set", key);
    if deadline.is_some() {
        ctx.notify(notify::GENERIC, "expire", key);
    }
    if f & GET == 0 {
        ok_reply(out);
    }
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn set(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some((f, expire)) = parse_set_options(argv, true) else {
        out.error(err::SYNTAX);
        return;
    };
    set_generic(
        ctx,
        f,
        argv.get(1),
        argv.get(2),
        expire,
        "set",
        out,
        Reply::ok,
        Reply::null,
    );
}

fn setnx(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    set_generic(
        ctx,
        NX,
        argv.get(1),
        argv.get(2),
        None,
        "setnx",
        out,
        |o| o.int(1),
        |o| o.int(0),
    );
}

fn setex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    set_generic(
        ctx,
        EX,
        argv.get(1),
        argv.get(3),
        Some(argv.get(2)),
        "setex",
        out,
        Reply::ok,
        Reply::null,
    );
}

fn psetex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    set_generic(
        ctx,
        PX,
        argv.get(1),
        argv.get(3),
        Some(argv.get(2)),
        "psetex",
        out,
        Reply::ok,
        Reply::null,
    );
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
fn getex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some((f, expire)) = parse_set_options(argv, false) else {
        out.error(err::SYNTAX);
        return;
    };
    let key = argv.get(1);
    let (db, now) = (ctx.db, ctx.now_ms);
    let Some(v) = ctx.ks.lookup_read(db, key, now) else {
        out.null();
        return;
    };
    let Some(s) = v.as_str() else {
        out.error(err::WRONGTYPE);
        return;
    };
    // The expire argument is validated only once the key is known to be a string, as in Redis.
    let deadline = match expire {
        Some(arg) => {
            let seconds = f & (EX | EXAT) != 0;
            let relative = f & (EX | PX) != 0;
            match expire_deadline(arg, seconds, relative, now, "getex", out) {
                Some(d) => Some(d),
                None => return,
            }
        }
        None => None,
    };
    reply_str(out, s);
    match deadline {
        // An absolute time already past deletes the key (Redis's `checkAlreadyExpired`).
        Some(d) if f & (EXAT | PXAT) != 0 && d <= now => {
            ctx.ks.remove(db, key, now);
            ctx.ks.add_dirty(1);
            ctx.notify(notify::GENERIC, "del", key);
        }
        Some(d) => {
            ctx.ks.set_expire(db, key, d);
            ctx.ks.add_dirty(1);
            ctx.notify(notify::GENERIC, "expire", key);
        }
        None if f & PERSIST != 0 => {
            let done = ctx.ks.persist(db, key);
            ctx.ks.add_dirty(u64::from(done));
            if done {
                ctx.notify(notify::GENERIC, "persist", key);
            }
        }
        None => {}
    }
}

fn getdel(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if get_generic(ctx, argv.get(1), out)
        && ctx.ks.remove(ctx.db, argv.get(1), ctx.now_ms).is_some()
    {
        ctx.ks.add_dirty(1);
        ctx.notify(notify::GENERIC, "del", argv.get(1));
    }
}

fn getset(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if get_generic(ctx, argv.get(1), out) {
        let v = Value::string(argv.get(2));
        ctx.ks.set(ctx.db, argv.get(1), v, Ttl::Clear, ctx.now_ms);
        ctx.ks.add_dirty(1);
        ctx.notify(notify::STRING, "set", argv.get(1));
    }
}

/// MGET key [key ...]: nil for missing keys and for keys of another type.
fn mget(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    out.array(argv.len() - 1);
    for key in argv.tail(1) {
        match ctx
            .ks
            .lookup_read(ctx.db, key, ctx.now_ms)
            .and_then(|v| v.as_str())
        {
            Some(s) => reply_str(out, s),
            None => out.null(),
        }
    }
}

/// MSET key value [key value ...]
fn mset(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if argv.len().is_multiple_of(2) {
        arity_error("mset", out);
        return;
    }
    for j in (1..argv.len()).step_by(2) {
        let v = Value::string(argv.get(j + 1));
        ctx.ks.set(ctx.db, argv.get(j), v, Ttl::Clear, ctx.now_ms);
        ctx.notify(notify::STRING, "set", argv.get(j));
    }
    ctx.ks.add_dirty((argv.len() / 2) as u64);
    out.ok();
}

/// Redis's `checkStringLength`: would a string of `size + append` bytes be too long?
fn too_long(size: usize, append: usize) -> bool {
    (size as u64).saturating_add(append as u64) > crate::tunables::max_bulk_len() as u64
}

/// Runs a read-modify-write command and counts one change when it succeeded (replied anything
/// but an error), as these commands do in Redis.
fn counting_one(
    ctx: &mut ShardCtx<'_>,
    out: &mut Reply,
    event: (&'static str, &[u8]),
    f: impl FnOnce(&mut ShardCtx<'_>, &mut Reply),
) {
    let mark = out.buf.len();
    f(ctx, out);
    if out.buf.get(mark) != Some(&b'-') {
        ctx.ks.add_dirty(1);
        ctx.notify(notify::STRING, event.0, event.1);
    }
}

fn append(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counting_one(ctx, out, ("append", argv.get(1)), |ctx, out| {
        append_inner(ctx, argv, out)
    })
}

fn incr_decr(ctx: &mut ShardCtx<'_>, key: &[u8], by: i64, out: &mut Reply) {
    counting_one(ctx, out, ("incrby", key), |ctx, out| {
        incr_decr_inner(ctx, key, by, out)
    })
}

fn incrbyfloat(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counting_one(ctx, out, ("incrbyfloat", argv.get(1)), |ctx, out| {
        incrbyfloat_inner(ctx, argv, out)
    })
}

/// SETRANGE changes something only with a non-empty value.
fn setrange(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if argv.get(3).is_empty() {
        setrange_inner(ctx, argv, out)
    } else {
        counting_one(ctx, out, ("setrange", argv.get(1)), |ctx, out| {
            setrange_inner(ctx, argv, out)
        })
    }
}

fn append_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, data) = (argv.get(1), argv.get(2));
    match ctx.ks.lookup_write(ctx.db, key, ctx.now_ms) {
        None => {
            ctx.ks
                .set(ctx.db, key, Value::string(data), Ttl::Clear, ctx.now_ms);
            out.int(data.len() as i64);
        }
        Some(v) => {
            let Some(s) = v.as_str() else {
                out.error(err::WRONGTYPE);
                return;
            };
            if too_long(s.len(), data.len()) {
                out.error(ERR_STRING_TOO_LONG);
                return;
            }
            match v.append(data) {
                Some(n) => out.int(n as i64),
                None => out.error(ERR_STRING_TOO_LONG),
            }
        }
    }
}

fn strlen(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) {
        None => out.int(0),
        Some(v) => match v.as_str() {
            Some(s) => out.int(s.len() as i64),
            None => out.error(err::WRONGTYPE),
        },
    }
}

/// The shared body of INCR/DECR/INCRBY/DECRBY. The TTL is kept, as Redis overwrites in place.
fn incr_decr_inner(ctx: &mut ShardCtx<'_>, key: &[u8], by: i64, out: &mut Reply) {
    match ctx.ks.lookup_write(ctx.db, key, ctx.now_ms) {
        None => {
            ctx.ks
                .set(ctx.db, key, Value::int(by), Ttl::Clear, ctx.now_ms);
            out.int(by);
        }
        Some(v) => {
            let Some(s) = v.as_str() else {
                out.error(err::WRONGTYPE);
                return;
            };
            let Some(cur) = s.as_i64() else {
                out.error(err::NOT_INTEGER);
                return;
            };
            let Some(n) = cur.checked_add(by) else {
                out.error(err::OVERFLOW);
                return;
            };
            v.set(Value::int(n));
            out.int(n);
        }
    }
}

fn incr(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    incr_decr(ctx, argv.get(1), 1, out);
}

fn decr(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    incr_decr(ctx, argv.get(1), -1, out);
}

fn incrby(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match parse_i64(argv.get(2)) {
        Some(by) => incr_decr(ctx, argv.get(1), by, out),
        None => out.error(err::NOT_INTEGER),
    }
}

fn decrby(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match parse_i64(argv.get(2)) {
        Some(i64::MIN) => out.error(ERR_DECR_OVERFLOW),
        Some(by) => incr_decr(ctx, argv.get(1), -by, out),
        None => out.error(err::NOT_INTEGER),
    }
}

/// INCRBYFLOAT key increment: in 80-bit extended precision, reply and stored value formatted as
/// Redis's `%.17Lf` with trailing zeros trimmed. Keeps the TTL.
fn incrbyfloat_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let key = argv.get(1);
    let (db, now) = (ctx.db, ctx.now_ms);
    let existing = ctx.ks.lookup_write(db, key, now);
    let cur = match &existing {
        None => ld::Ld::ZERO,
        Some(v) => {
            let Some(s) = v.as_str() else {
                out.error(err::WRONGTYPE);
                return;
            };
            let parsed = match s {
                StrRef::Int(i) => Some(ld::Ld::from_i64(i)),
                StrRef::Bytes(b) => ld::parse(b),
            };
            match parsed {
                Some(x) => x,
                None => {
                    out.error(err::NOT_FLOAT);
                    return;
                }
            }
        }
    };
    let Some(by) = ld::parse(argv.get(2)) else {
        out.error(err::NOT_FLOAT);
        return;
    };
    let sum = match ld::add(cur, by) {
        Some(s) if s.is_finite() => s,
        _ => {
            out.error(ERR_NAN_INF);
            return;
        }
    };
    let text = ld::format_human(sum);
    let new = Value::string(text.as_bytes());
    match existing {
        Some(v) => v.set(new),
        None => ctx.ks.set(db, key, new, Ttl::Clear, now),
    }
    out.bulk(text.as_bytes());
}

/// SETRANGE key offset value
fn setrange_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, data) = (argv.get(1), argv.get(3));
    let Some(offset) = parse_i64(argv.get(2)) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    if offset < 0 {
        out.error(ERR_OFFSET_RANGE);
        return;
    }
    // Non-negative i64; on 64-bit targets this is lossless, elsewhere it saturates into the
    // length check below.
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    match ctx.ks.lookup_write(ctx.db, key, ctx.now_ms) {
        None => {
            if data.is_empty() {
                out.int(0);
                return;
            }
            if too_long(offset, data.len()) {
                out.error(ERR_STRING_TOO_LONG);
                return;
            }
            let mut v = Value::string(b"");
            match v.set_range(offset, data) {
                Some(n) => {
                    ctx.ks.set(ctx.db, key, v, Ttl::Clear, ctx.now_ms);
                    out.int(n as i64);
                }
                None => out.error(ERR_STRING_TOO_LONG),
            }
        }
        Some(v) => {
            let Some(s) = v.as_str() else {
                out.error(err::WRONGTYPE);
                return;
            };
            if data.is_empty() {
                out.int(s.len() as i64);
                return;
            }
            if too_long(offset, data.len()) {
                out.error(ERR_STRING_TOO_LONG);
                return;
            }
            match v.set_range(offset, data) {
                Some(n) => out.int(n as i64),
                None => out.error(ERR_STRING_TOO_LONG),
            }
        }
    }
}

/// GETRANGE key start end (and its old name SUBSTR).
fn getrange(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (Some(mut start), Some(mut end)) = (parse_i64(argv.get(2)), parse_i64(argv.get(3))) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    let Some(v) = ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) else {
        out.bulk(b"");
        return;
    };
    let Some(s) = v.as_str() else {
        out.error(err::WRONGTYPE);
        return;
    };
    s.with_bytes(|b| {
        let len = b.len() as i64;
        if start < 0 && end < 0 && start > end {
            out.bulk(b"");
            return;
        }
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            out.bulk(b"");
        } else {
            out.bulk(&b[start as usize..=end as usize]);
        }
    });
}

// --- SETBIT, GETBIT ----------------------------------------------------------------------------

/// Redis's `getBitOffsetFromArgument` (plain form): a non-negative integer whose byte is below
/// `proto-max-bulk-len`.
fn bit_offset(arg: &[u8]) -> Option<u64> {
    let off = parse_i64(arg)?;
    (off >= 0 && (off >> 3) < crate::tunables::max_bulk_len()).then_some(off as u64)
}

/// SETBIT key offset value: the bit's previous value. A missing key becomes a string of zero bytes
/// long enough for the offset (even when clearing a bit); a shorter string is zero-padded.
fn setbit(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(off) = bit_offset(argv.get(2)) else {
        return out.error(ERR_BIT_OFFSET);
    };
    let on = match parse_i64(argv.get(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return out.error(ERR_BIT_VALUE),
    };
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let byte = (off >> 3) as usize;
    let mask = 1u8 << (7 - (off & 7));
    let updated = |old: u8| if on { old | mask } else { old & !mask };
    match ctx.ks.lookup_write(db, key, now) {
        None => {
            let mut v = Value::string(b"");
            if v.set_range(byte, &[updated(0)]).is_none() {
                return out.error(ERR_STRING_TOO_LONG);
            }
            ctx.ks.set(db, key, v, Ttl::Clear, now);
            ctx.ks.add_dirty(1);
            ctx.notify(notify::STRING, "setbit", key);
            out.int(0);
        }
        Some(v) => {
            let Some(s) = v.as_str() else {
                return out.error(err::WRONGTYPE);
            };
            let (len, old) = s.with_bytes(|b| (b.len(), b.get(byte).copied().unwrap_or(0)));
            let was = old & mask != 0;
            if byte >= len || was != on {
                if v.set_range(byte, &[updated(old)]).is_none() {
                    return out.error(ERR_STRING_TOO_LONG);
                }
                ctx.ks.add_dirty(1);
            }
            // Redis announces SETBIT even when the bit already had that value.
            ctx.notify(notify::STRING, "setbit", key);
            out.int(i64::from(was));
        }
    }
}

/// GETBIT key offset: 0 past the end of the string or for a missing key.
fn getbit(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(off) = bit_offset(argv.get(2)) else {
        return out.error(ERR_BIT_OFFSET);
    };
    let Some(v) = ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) else {
        return out.int(0);
    };
    let Some(s) = v.as_str() else {
        return out.error(err::WRONGTYPE);
    };
    let byte = (off >> 3) as usize;
    let bit = s.with_bytes(|b| {
        b.get(byte)
            .is_some_and(|&x| x & (1 << (7 - (off & 7))) != 0)
    });
    out.int(i64::from(bit));
}

// --- MSETNX, LCS -------------------------------------------------------------------------------

type AsyncOut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

fn msetnx<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(msetnx_async(core, session.db, argv, out))
}

fn lcs<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(lcs_async(core, session.db, argv, out))
}

/// Polls every future together (each `Core::call` forwards on its first poll, so the hops
/// overlap) and returns their outputs in order.
async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    futures_lite::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(outs.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outs.into_iter().flatten().collect()
}

/// The value of an integer reply.
fn int_reply(reply: &[u8]) -> Option<i64> {
    parse_i64(reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?)
}

/// Replies a shard's error reply as is, or an internal error if it was not one.
fn reply_failure(out: &mut Reply, reply: &[u8]) {
    if reply.first() == Some(&b'-') && reply.ends_with(b"\r\n") {
        out.raw(reply);
    } else {
        out.error(ERR_BAD_PART);
    }
}

/// MSETNX key value [key value ...]: 1 when every key was set, 0 (and nothing set) when any of
/// them existed.
async fn msetnx_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    if argv.len().is_multiple_of(2) {
        return arity_error("msetnx", out);
    }
    let n = core.nshards;
    // Pairs grouped by owner, in order of first appearance (a repeated key keeps its order, so
    // the last value wins as in Redis).
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for j in (1..argv.len()).step_by(2) {
        let owner = shard_of(argv.get(j), n);
        match groups.iter_mut().find(|(o, _)| *o == owner) {
            Some((_, g)) => g.push(j),
            None => groups.push((owner, vec![j])),
        }
    }
    let batch = |cmd: &str, pairs: &[usize], values: bool| {
        let mut b = CmdBatch::new();
        b.push_arg(cmd.as_bytes());
        for &j in pairs {
            b.push_arg(argv.get(j));
            if values {
                b.push_arg(argv.get(j + 1));
            }
        }
        b.finish_cmd();
        b
    };
    if let [(owner, pairs)] = groups.as_slice() {
        let b = batch(MSETNX_PART, pairs, true);
        let reply = core.call(*owner, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let checks: Vec<(usize, CmdBatch)> = groups
        .iter()
        .map(|(o, pairs)| (*o, batch(COUNT_PART, pairs, false)))
        .collect();
    let replies = join_all(
        checks
            .iter()
            .map(|(o, b)| core.call(*o, db, Proto::Resp2, b))
            .collect(),
    )
    .await;
    let mut found = 0;
    for r in &replies {
        match int_reply(r) {
            Some(c) => found += c,
            None => return reply_failure(out, r),
        }
    }
    if found > 0 {
        return out.int(0);
    }
    let sets: Vec<(usize, CmdBatch)> = groups
        .iter()
        .map(|(o, pairs)| (*o, batch(MSETNX_PART, pairs, true)))
        .collect();
    let replies = join_all(
        sets.iter()
            .map(|(o, b)| core.call(*o, db, Proto::Resp2, b))
            .collect(),
    )
    .await;
    let mut all = true;
    for r in &replies {
        match int_reply(r) {
            Some(set) => all &= set == 1,
            None => return reply_failure(out, r),
        }
    }
    out.int(i64::from(all));
}

/// `__str-msetnx key value ...`: MSETNX on this shard's keys, atomically.
fn msetnx_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (db, now) = (ctx.db, ctx.now_ms);
    if (1..argv.len())
        .step_by(2)
        .any(|j| ctx.ks.contains(db, argv.get(j), now))
    {
        return out.int(0);
    }
    for j in (1..argv.len()).step_by(2) {
        let v = Value::string(argv.get(j + 1));
        ctx.ks.set(db, argv.get(j), v, Ttl::Clear, now);
        ctx.notify(notify::STRING, "set", argv.get(j));
    }
    ctx.ks.add_dirty((argv.len() / 2) as u64);
    out.int(1);
}

/// `__str-count key ...`
fn count_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (db, now) = (ctx.db, ctx.now_ms);
    let n = argv.tail(1).filter(|k| ctx.ks.contains(db, k, now)).count();
    out.int(n as i64);
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]. A missing key is an empty string.
async fn lcs_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let (k1, k2) = (argv.get(1), argv.get(2));
    let n = core.nshards;
    let (o1, o2) = (shard_of(k1, n), shard_of(k2, n));
    if o1 == o2 {
        let mut b = CmdBatch::new();
        b.push_arg(LCS_PART.as_bytes());
        for a in argv.tail(1) {
            b.push_arg(a);
        }
        b.finish_cmd();
        let reply = core.call(o1, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let b1 = CmdBatch::from_args([LCS_VALUE_PART.as_bytes(), k1]);
    let b2 = CmdBatch::from_args([LCS_VALUE_PART.as_bytes(), k2]);
    let replies = join_all(vec![
        core.call(o1, db, Proto::Resp2, &b1),
        core.call(o2, db, Proto::Resp2, &b2),
    ])
    .await;
    let mut values: Vec<&[u8]> = Vec::with_capacity(2);
    for r in &replies {
        if r.first() == Some(&b'-') {
            return reply_failure(out, r);
        }
        match bulk_reply(r) {
            Some(v) => values.push(v.unwrap_or(b"")),
            None => return out.error(ERR_BAD_PART),
        }
    }
    lcs_reply(values[0], values[1], argv, out);
}

/// A RESP2 bulk string reply: `Some(None)` for nil.
fn bulk_reply(reply: &[u8]) -> Option<Option<&[u8]>> {
    if reply == b"$-1\r\n" {
        return Some(None);
    }
    let rest = reply.strip_prefix(b"$")?;
    let nl = rest.iter().position(|&b| b == b'\r')?;
    let len: usize = std::str::from_utf8(&rest[..nl]).ok()?.parse().ok()?;
    let body = rest.get(nl + 2..)?;
    (body.len() == len + 2 && body.ends_with(b"\r\n")).then(|| Some(&body[..len]))
}

/// The string LCS reads at `key`: `Ok(None)` when missing, `Err` for another type.
fn lcs_value<'k>(ctx: &'k mut ShardCtx<'_>, key: &[u8]) -> Result<Option<StrRef<'k>>, ()> {
    match ctx.ks.lookup_read(ctx.db, key, ctx.now_ms) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or(()),
    }
}

/// `__str-lcs key1 key2 [options]`: both keys' types are checked before the options, as Redis.
fn lcs_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let a = match lcs_value(ctx, argv.get(1)) {
        Ok(v) => v.map(|s| s.with_bytes(<[u8]>::to_vec)),
        Err(()) => return out.error(ERR_LCS_TYPE),
    };
    let b = match lcs_value(ctx, argv.get(2)) {
        Ok(v) => v.map(|s| s.with_bytes(<[u8]>::to_vec)),
        Err(()) => return out.error(ERR_LCS_TYPE),
    };
    lcs_reply(
        a.as_deref().unwrap_or(b""),
        b.as_deref().unwrap_or(b""),
        argv,
        out,
    );
}

/// `__str-lcsval key`
fn lcs_value_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match lcs_value(ctx, argv.get(1)) {
        Ok(None) => out.null(),
        Ok(Some(s)) => reply_str(out, s),
        Err(()) => out.error(ERR_LCS_TYPE),
    }
}

/// Parses LCS's options (from argv[3]) and replies for strings `a` and `b`: the common
/// subsequence itself, its length (LEN), or the matching ranges (IDX), found by the classic
/// dynamic-programming table and walked back from the end of both strings.
fn lcs_reply(a: &[u8], b: &[u8], argv: Argv<'_>, out: &mut Reply) {
    let (mut want_len, mut want_idx, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut j = 3;
    while j < argv.len() {
        let opt = argv.get(j);
        if opt_is(opt, "idx") {
            want_idx = true;
        } else if opt_is(opt, "len") {
            want_len = true;
        } else if opt_is(opt, "withmatchlen") {
            with_len = true;
        } else if opt_is(opt, "minmatchlen") && j + 1 < argv.len() {
            match parse_i64(argv.get(j + 1)) {
                Some(v) => min_len = v.max(0),
                None => return out.error(err::NOT_INTEGER),
            }
            j += 1;
        } else {
            return out.error(err::SYNTAX);
        }
        j += 1;
    }
    if want_idx && want_len {
        return out.error(ERR_LCS_BOTH);
    }
    if a.len() as u64 >= u64::from(u32::MAX) - 1 || b.len() as u64 >= u64::from(u32::MAX) - 1 {
        return out.error(ERR_LCS_TOO_LONG);
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(4) > crate::tunables::max_bulk_len() as u64 {
        return out.error(ERR_LCS_MEMORY);
    }
    // table[i * w + j]: the LCS length of a[..i] and b[..j].
    let w = b.len() + 1;
    let mut table = vec![0u32; (a.len() + 1) * w];
    for i in 1..=a.len() {
        for k in 1..=b.len() {
            table[i * w + k] = if a[i - 1] == b[k - 1] {
                table[(i - 1) * w + k - 1] + 1
            } else {
                table[(i - 1) * w + k].max(table[i * w + k - 1])
            };
        }
    }
    let total = table[a.len() * w + b.len()];
    if want_len {
        return out.int(i64::from(total));
    }
    // Walk back from the end; matched bytes fill `seq` from its end. Runs of consecutive matches
    // (in both strings) form ranges, reported from the last one to the first.
    let mut seq = vec![0u8; total as usize];
    let mut fill = seq.len();
    // A range being grown backwards: (a_start, a_end, b_start, b_end).
    let mut run: Option<(usize, usize, usize, usize)> = None;
    let mut ranges: Vec<(usize, usize, usize, usize)> = Vec::new();
    let (mut i, mut k) = (a.len(), b.len());
    while i > 0 && k > 0 {
        let close = if a[i - 1] == b[k - 1] {
            fill -= 1;
            seq[fill] = a[i - 1];
            let r = match run {
                Some((s1, e1, s2, e2)) if s1 == i && s2 == k => (s1 - 1, e1, s2 - 1, e2),
                _ => (i - 1, i - 1, k - 1, k - 1),
            };
            run = Some(r);
            i -= 1;
            k -= 1;
            // A range that reached the start of either string cannot grow any more.
            r.0 == 0 || r.2 == 0
        } else {
            if table[(i - 1) * w + k] > table[i * w + k - 1] {
                i -= 1;
            } else {
                k -= 1;
            }
            run.is_some()
        };
        if close {
            if let Some(r) = run.take() {
                if (r.1 - r.0 + 1) as i64 >= min_len {
                    ranges.push(r);
                }
            }
        }
    }
    if !want_idx {
        return out.bulk(&seq);
    }
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for (s1, e1, s2, e2) in ranges {
        out.array(if with_len { 3 } else { 2 });
        out.array(2);
        out.int(s1 as i64);
        out.int(e1 as i64);
        out.array(2);
        out.int(s2 as i64);
        out.int(e2 as i64);
        if with_len {
            out.int((e1 - s1 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(i64::from(total));
}

/// A software model of the x87 80-bit `long double` Redis uses for INCRBYFLOAT: a 64-bit
/// significand, 15-bit exponent, round-to-nearest-even.
///
/// Why: Redis parses with `strtold`, adds in `long double`, and prints with `%.17Lf`. Doing the
/// same in `f64` gives visibly different replies (`1 - 1.1` would print `-0.10000000000000009`
/// instead of Redis's `-0.1`). Parsing is exact (arbitrary-precision integers, correctly rounded),
/// accepts what glibc's `strtold` accepts (decimal, hex floats, `inf`/`infinity`), and rejects
/// what Redis's `string2ld` rejects (NaN, spaces, overflow, underflow to zero).
pub(crate) mod ld {
    use std::cmp::Ordering;

    /// Exponent of the smallest subnormal's only bit: values are multiples of 2^-16445.
    const MIN_ULP_EXP: i64 = -16445;
    /// Exponent of the leading bit of the largest finite value.
    const MAX_LEAD_EXP: i64 = 16383;
    /// Redis's `MAX_LONG_DOUBLE_CHARS`: longer inputs are rejected.
    const MAX_CHARS: usize = 5 * 1024;

    /// A finite value `±m·2^e` or an infinity.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Ld {
        Finite { neg: bool, m: u64, e: i64 },
        Inf(bool),
    }

    impl Ld {
        pub const ZERO: Ld = Ld::Finite {
            neg: false,
            m: 0,
            e: 0,
        };

        pub fn from_i64(v: i64) -> Ld {
            Ld::Finite {
                neg: v < 0,
                m: v.unsigned_abs(),
                e: 0,
            }
        }

        pub fn is_finite(&self) -> bool {
            matches!(self, Ld::Finite { .. })
        }
    }

    /// Rounds `(q + ε)·2^exp` (ε in [0,1) and nonzero iff `sticky`) to the format, nearest-even.
    /// Callers pass enough bits that the sticky part is below the rounding position.
    fn round(neg: bool, q: u128, exp: i64, sticky: bool) -> Ld {
        if q == 0 {
            return Ld::Finite { neg, m: 0, e: 0 };
        }
        let bits = 128 - i64::from(q.leading_zeros());
        let lead = exp + bits - 1;
        let mut ulp = (lead - 63).max(MIN_ULP_EXP);
        let drop = ulp - exp;
        let mut m: u128 = if drop <= 0 {
            q << (-drop).min(127)
        } else if drop > 128 {
            0
        } else {
            let (kept, rem, half) = if drop == 128 {
                (0, q, 1u128 << 127)
            } else {
                (q >> drop, q & ((1u128 << drop) - 1), 1u128 << (drop - 1))
            };
            let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
            kept + u128::from(up)
        };
        if m == 1u128 << 64 {
            m >>= 1;
            ulp += 1;
        }
        if m == 0 {
            return Ld::Finite { neg, m: 0, e: 0 };
        }
        let lead = ulp + 127 - i64::from(m.leading_zeros());
        if lead > MAX_LEAD_EXP {
            return Ld::Inf(neg);
        }
        Ld::Finite {
            neg,
            m: m as u64,
            e: ulp,
        }
    }

    /// `a + b` rounded; `None` for NaN (∞ − ∞).
    pub fn add(a: Ld, b: Ld) -> Option<Ld> {
        let (an, am, ae, bn, bm, be) = match (a, b) {
            (Ld::Inf(x), Ld::Inf(y)) => return if x == y { Some(a) } else { None },
            (Ld::Inf(_), _) => return Some(a),
            (_, Ld::Inf(_)) => return Some(b),
            (
                Ld::Finite {
                    neg: an,
                    m: am,
                    e: ae,
                },
                Ld::Finite {
                    neg: bn,
                    m: bm,
                    e: be,
                },
            ) => (an, am, ae, bn, bm, be),
        };
        if am == 0 {
            return Some(if bm == 0 {
                Ld::Finite {
                    neg: an && bn,
                    m: 0,
                    e: 0,
                }
            } else {
                b
            });
        }
        if bm == 0 {
            return Some(a);
        }
        // Normalize so the leading bit is bit 63; then `hi` is the operand with the larger exponent.
        let norm = |m: u64, e: i64| (m << m.leading_zeros(), e - i64::from(m.leading_zeros()));
        let (am, ae) = norm(am, ae);
        let (bm, be) = norm(bm, be);
        let ((hn, hm, he), (ln, lm, le)) = if ae >= be {
            ((an, am, ae), (bn, bm, be))
        } else {
            ((bn, bm, be), (an, am, ae))
        };
        // Work in units of 2^(he-63): hi is < 2^127, lo is aligned with a sticky bit.
        let base = he - 63;
        let hi = u128::from(hm) << 63;
        let (lo, sticky) = if le >= base {
            (u128::from(lm) << (le - base), false)
        } else {
            let sh = base - le;
            if sh >= 128 {
                (0, true)
            } else {
                let v = u128::from(lm);
                (v >> sh, v & ((1u128 << sh) - 1) != 0)
            }
        };
        if hn == ln {
            return Some(round(hn, hi + lo, base, sticky));
        }
        match hi.cmp(&lo) {
            Ordering::Equal => Some(Ld::ZERO),
            // With a sticky remainder, lo is really lo+ε, so hi-lo is really (hi-lo-1)+(1-ε).
            Ordering::Greater => Some(round(hn, hi - lo - u128::from(sticky), base, sticky)),
            Ordering::Less => Some(round(ln, lo - hi, base, false)),
        }
    }

    /// Redis's `string2ld`: the whole input must be a `strtold` number; NaN, leading space,
    /// overflow and underflow to zero are rejected.
    pub fn parse(s: &[u8]) -> Option<Ld> {
        if s.is_empty() || s.len() >= MAX_CHARS {
            return None;
        }
        if matches!(s[0], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
            return None;
        }
        let (neg, rest) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
            return Some(Ld::Inf(neg));
        }
        let r = if rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
            parse_hex(neg, &rest[2..])?
        } else {
            parse_dec(neg, rest)?
        };
        // An overflow (∞) or a nonzero input rounding to zero is an ERANGE Redis refuses; a
        // literal zero is fine.
        match r {
            Parsed::Zero => Some(Ld::Finite { neg, m: 0, e: 0 }),
            Parsed::Value(Ld::Inf(_) | Ld::Finite { m: 0, .. }) => None,
            Parsed::Value(x) => Some(x),
        }
    }

    /// A parsed number before range checks: a literal zero is told apart from an underflow.
    enum Parsed {
        Zero,
        Value(Ld),
    }

    /// Reads an optional sign and decimal digits (saturating) for an exponent; the whole rest
    /// must be consumed.
    fn parse_exp(s: &[u8]) -> Option<i64> {
        let (neg, d) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut v: i64 = 0;
        for &c in d {
            v = (v * 10 + i64::from(c - b'0')).min(1 << 40);
        }
        Some(if neg { -v } else { v })
    }

    /// Splits `int[.frac][<exp_char>exp]`; at least one mantissa digit is required.
    fn split_mantissa(
        s: &[u8],
        is_digit: fn(&u8) -> bool,
        exp_char: u8,
    ) -> Option<(&[u8], &[u8], i64)> {
        let int_len = s.iter().take_while(|c| is_digit(c)).count();
        let (int, mut rest) = s.split_at(int_len);
        let mut frac: &[u8] = &[];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| is_digit(c)).count();
            frac = &rest[1..1 + n];
            rest = &rest[1 + n..];
        }
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let exp = match rest.first() {
            None => 0,
            Some(&c) if c | 0x20 == exp_char => parse_exp(&rest[1..])?,
            Some(_) => return None,
        };
        Some((int, frac, exp))
    }

    fn parse_hex(neg: bool, s: &[u8]) -> Option<Parsed> {
        let (int, frac, p) = split_mantissa(s, u8::is_ascii_hexdigit, b'p')?;
        let mut q: u128 = 0;
        let mut sig = 0u32;
        let mut sticky = false;
        let mut exp = p - 4 * frac.len() as i64;
        for &c in int.iter().chain(frac) {
            let d = (c as char).to_digit(16).unwrap_or(0);
            if sig == 0 && d == 0 {
                continue;
            }
            if sig < 30 {
                q = (q << 4) | u128::from(d);
                sig += 1;
            } else {
                sticky |= d != 0;
                exp += 4;
            }
        }
        if q == 0 {
            return Some(Parsed::Zero);
        }
        Some(Parsed::Value(round(neg, q, exp, sticky)))
    }

    fn parse_dec(neg: bool, s: &[u8]) -> Option<Parsed> {
        let (int, frac, exp) = split_mantissa(s, u8::is_ascii_digit, b'e')?;
        // Significant digits without leading/trailing zeros; value = digits · 10^e10.
        let all = || int.iter().chain(frac.iter());
        let lead = all().take_while(|&&c| c == b'0').count();
        let total = int.len() + frac.len();
        if lead == total {
            return Some(Parsed::Zero);
        }
        let trail = all().rev().take_while(|&&c| c == b'0').count();
        let digits: Vec<u8> = all()
            .skip(lead)
            .take(total - lead - trail)
            .copied()
            .collect();
        let e10 = exp - frac.len() as i64 + trail as i64;
        let nd = digits.len() as i64;
        // Far outside the format's range (max ~1.19e4932, min subnormal ~3.6e-4951).
        if nd + e10 > 4934 {
            return Some(Parsed::Value(Ld::Inf(neg)));
        }
        if nd + e10 < -4952 {
            return Some(Parsed::Value(Ld::Finite { neg, m: 0, e: 0 }));
        }
        let mut a = Big::from_decimal(&digits);
        let mut d = Big::from_u64(1);
        if e10 >= 0 {
            a.mul_pow10(e10 as u64);
        } else {
            d.mul_pow10((-e10) as u64);
        }
        // Scale so the quotient has 66–67 bits: enough for 64 plus guard bits, sticky below.
        let s = 66 + d.bit_len() as i64 - a.bit_len() as i64;
        if s > 0 {
            a.shl(s as u64);
        } else {
            d.shl((-s) as u64);
        }
        let q = a.div_rem_small_quotient(&d);
        let sticky = !a.is_zero();
        Some(Parsed::Value(round(neg, q, -s, sticky)))
    }

    /// `%.17Lf` with trailing zeros (and a bare '.') removed, "-0" printed as "0", infinities as
    /// "inf"/"-inf": Redis's `ld2string(..., LD_STR_HUMAN)`.
    pub fn format_human(x: Ld) -> String {
        let (neg, m, e) = match x {
            Ld::Inf(n) => return if n { "-inf".into() } else { "inf".into() },
            Ld::Finite { neg, m, e } => (neg, m, e),
        };
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        if m == 0 {
            s.push('0');
        } else if e >= 0 {
            let mut b = Big::from_u64(m);
            b.shl(e as u64);
            s.push_str(&b.to_decimal());
        } else {
            const SCALE: u128 = 100_000_000_000_000_000; // 10^17
            let k = (-e) as u32;
            let p = u128::from(m) * SCALE; // < 2^121
            let n = if k >= 128 {
                0
            } else {
                let (kept, rem, half) = (p >> k, p & ((1u128 << k) - 1), 1u128 << (k - 1));
                kept + u128::from(rem > half || (rem == half && kept & 1 == 1))
            };
            let frac = format!("{:017}", n % SCALE);
            s.push_str(&(n / SCALE).to_string());
            let frac = frac.trim_end_matches('0');
            if !frac.is_empty() {
                s.push('.');
                s.push_str(frac);
            }
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }

    /// Just enough unsigned big-integer arithmetic for exact parsing and printing.
    #[derive(Clone, Debug)]
    struct Big(Vec<u32>); // little-endian limbs, no high zero limbs

    impl Big {
        fn from_u64(v: u64) -> Big {
            let mut b = Big(vec![v as u32, (v >> 32) as u32]);
            b.trim();
            b
        }

        fn trim(&mut self) {
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.0.is_empty()
        }

        fn mul_add_small(&mut self, mul: u32, add: u32) {
            let mut carry = u64::from(add);
            for l in &mut self.0 {
                let v = u64::from(*l) * u64::from(mul) + carry;
                *l = v as u32;
                carry = v >> 32;
            }
            if carry != 0 {
                self.0.push(carry as u32);
            }
        }

        fn from_decimal(digits: &[u8]) -> Big {
            let mut b = Big(Vec::new());
            for chunk in digits.chunks(9) {
                let v = chunk
                    .iter()
                    .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
                b.mul_add_small(10u32.pow(chunk.len() as u32), v);
            }
            b.trim();
            b
        }

        fn mul_pow10(&mut self, mut n: u64) {
            while n >= 9 {
                self.mul_add_small(1_000_000_000, 0);
                n -= 9;
            }
            if n > 0 {
                self.mul_add_small(10u32.pow(n as u32), 0);
            }
        }

        fn bit_len(&self) -> u64 {
            match self.0.last() {
                None => 0,
                Some(&top) => (self.0.len() as u64 - 1) * 32 + 32 - u64::from(top.leading_zeros()),
            }
        }

        fn shl(&mut self, bits: u64) {
            if self.is_zero() {
                return;
            }
            let limbs = (bits / 32) as usize;
            let r = (bits % 32) as u32;
            if r > 0 {
                let mut carry = 0u32;
                for l in &mut self.0 {
                    let v = (*l << r) | carry;
                    carry = *l >> (32 - r);
                    *l = v;
                }
                if carry != 0 {
                    self.0.push(carry);
                }
            }
            if limbs > 0 {
                self.0.splice(0..0, std::iter::repeat_n(0, limbs));
            }
        }

        fn shr1(&mut self) {
            let mut carry = 0u32;
            for l in self.0.iter_mut().rev() {
                let v = (*l >> 1) | (carry << 31);
                carry = *l & 1;
                *l = v;
            }
            self.trim();
        }

        fn cmp(&self, o: &Big) -> Ordering {
            self.0
                .len()
                .cmp(&o.0.len())
                .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
        }

        /// `self -= o`, requires `self >= o`.
        fn sub(&mut self, o: &Big) {
            let mut borrow = 0i64;
            for (i, l) in self.0.iter_mut().enumerate() {
                let v = i64::from(*l) - i64::from(o.0.get(i).copied().unwrap_or(0)) - borrow;
                borrow = i64::from(v < 0);
                *l = v.rem_euclid(1 << 32) as u32;
            }
            self.trim();
        }

        /// Replaces `self` by `self mod d` and returns `self / d`, which must be below 2^67
        /// (restoring division, one quotient bit per step).
        fn div_rem_small_quotient(&mut self, d: &Big) -> u128 {
            let mut sh = d.clone();
            sh.shl(66);
            let mut q = 0u128;
            for i in (0..=66).rev() {
                if self.cmp(&sh) != Ordering::Less {
                    self.sub(&sh);
                    q |= 1u128 << i;
                }
                sh.shr1();
            }
            q
        }

        fn div_small(&mut self, d: u32) -> u32 {
            let mut rem = 0u64;
            for l in self.0.iter_mut().rev() {
                let v = (rem << 32) | u64::from(*l);
                *l = (v / u64::from(d)) as u32;
                rem = v % u64::from(d);
            }
            self.trim();
            rem as u32
        }

        fn to_decimal(&self) -> String {
            let mut b = self.clone();
            let mut chunks = Vec::new();
            while !b.is_zero() {
                chunks.push(b.div_small(1_000_000_000));
            }
            let mut s = chunks
                .last()
                .map_or_else(|| "0".to_string(), |c| c.to_string());
            for c in chunks.iter().rev().skip(1) {
                s.push_str(&format!("{c:09}"));
            }
            s
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(a: &str, b: &str) -> String {
            let x = parse(a.as_bytes()).unwrap();
            let y = parse(b.as_bytes()).unwrap();
            format_human(add(x, y).unwrap())
        }

        #[test]
        fn matches_redis_long_double_replies() {
            // Expected values were produced by redis-server 7.0.15 (x86-64).
            assert_eq!(incr("10.5", "0.1"), "10.6");
            assert_eq!(incr("1", "-1.1"), "-0.1");
            assert_eq!(incr("0.1", "0.2"), "0.3");
            assert_eq!(incr("0.3", "0x10"), "16.3");
            assert_eq!(incr("5.0e3", "2.0e2"), "5200");
            assert_eq!(incr("0", "3.0e3"), "3000");
            assert_eq!(
                incr("3000", "1.23456789012345678901234"),
                "3001.23456789012345669"
            );
            assert_eq!(incr("1.5", "0X1P-2"), "1.75");
            assert_eq!(incr("1.75", ".5"), "2.25");
            assert_eq!(incr("2.25", "5."), "7.25");
            assert_eq!(incr("7.25", "+1"), "8.25");
            assert_eq!(incr("9223372036854775807", "1"), "9223372036854775808");
            assert_eq!(incr("0", "-0"), "0");
            assert_eq!(incr("1e300", "1e300"), "2000000000000000000017994648159118387741047888546581495876520164642531293192361871511698304167500994380700745017228549671807185112369345967826192521041497292574654271283687306588168510215212033579453305864740061102765895241989080589545563779241212358535223254194821301134374772211380178849830208012288");
        }

        #[test]
        fn single_values_print_like_redis() {
            let cases = [
                ("0.000003814697265625", "0.00000381469726562"),
                ("0.000011444091796875", "0.00001144409179688"),
                ("1e-17", "0.00000000000000001"),
                ("5e-18", "0"),
                ("5.0000000000000001e-18", "0.00000000000000001"),
                ("1.5e-17", "0.00000000000000002"),
                ("2.5e-17", "0.00000000000000002"),
                ("0x1p-58", "0"),
                ("0x1.8p-56", "0.00000000000000002"),
                (
                    "123456789012345678901234567890",
                    "123456789012345678899921813504",
                ),
                ("1e20", "100000000000000000000"),
                ("1e-10", "0.0000000001"),
                ("-1e-18", "0"),
                ("0x1p-16445", "0"),
                ("0x1.00000000000000008p0", "1"),
                (
                    "1.00000000000000000005421010862427522170037264004349708557128906250",
                    "1",
                ),
                ("0x.8", "0.5"),
                (".5e1", "5"),
                ("5e+0", "5"),
                ("00001.5000", "1.5"),
                ("0e999999", "0"),
                ("3.6e-4951", "0"),
                ("1.9e-4951", "0"),
            ];
            for (input, want) in cases {
                let x = parse(input.as_bytes()).unwrap_or_else(|| panic!("{input}"));
                assert_eq!(format_human(add(Ld::ZERO, x).unwrap()), want, "{input}");
            }
            let big = format_human(parse(b"0x1p16383").unwrap());
            assert!(big.starts_with("59486574767861588254287966331400356538172234354825511873633741061663067909024184345224429773630601"));
            assert_eq!(big.len(), 4932);
        }

        #[test]
        fn rejects_what_string2ld_rejects() {
            for bad in [
                "",
                " 1",
                "1 ",
                "nan",
                "NaN",
                "-nan",
                "abc",
                "1e",
                "1e+",
                "0x",
                "0x1p",
                ".",
                "e5",
                "1e5000",
                "1e-5000",
                "0x1p-16446",
                "1e-4951",
                "1.8e-4951",
                "1.2.3",
                "--1",
                "1\0",
                "infx",
                "0x1.2.3",
            ] {
                assert!(
                    parse(bad.as_bytes()).is_none(),
                    "{bad:?} should be rejected"
                );
            }
            assert_eq!(parse(b"inf"), Some(Ld::Inf(false)));
            assert_eq!(parse(b"-Infinity"), Some(Ld::Inf(true)));
            assert!(parse(&vec![b'1'; 5120]).is_none());
            assert!(parse(&vec![b'1'; 5000]).is_none(), "overflow");
            assert!(parse(&vec![b'1'; 4000]).is_some());
            let mut long = b"0.".to_vec();
            long.extend(std::iter::repeat_n(b'3', 5000));
            assert_eq!(format_human(parse(&long).unwrap()), "0.33333333333333333");
            assert_eq!(add(Ld::Inf(false), Ld::Inf(true)), None);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::ShardCtx;
    use crate::keyspace::Keyspace;
    use crate::resp::{CmdBatch, Proto, Reply};

    /// Runs one command through this module's table rows and returns the raw reply.
    pub(crate) fn run(ks: &mut Keyspace, now_ms: i64, args: &[&[u8]]) -> String {
        run_proto(ks, now_ms, args, Proto::Resp2)
    }

    pub(crate) fn run_proto(
        ks: &mut Keyspace,
        now_ms: i64,
        args: &[&[u8]],
        proto: Proto,
    ) -> String {
        let batch = CmdBatch::from_args(args.iter().copied());
        let argv = batch.get(0);
        let idx = crate::cmd::lookup(argv.get(0)).expect("known command");
        let spec = &crate::cmd::table()[idx];
        let mut out = Reply::new(proto);
        if !spec.arity_ok(argv.len()) {
            crate::cmd::arity_error(spec.name, &mut out);
        } else {
            let crate::cmd::Handler::Shard(f) = spec.handler else {
                panic!("not a shard command")
            };
            let mut ctx = ShardCtx { ks, db: 0, now_ms };
            f(&mut ctx, argv, &mut out);
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    macro_rules! t {
        ($ks:expr, $now:expr, [$($a:expr),*], $want:expr) => {
            assert_eq!(run($ks, $now, &[$(AsRef::<[u8]>::as_ref(&$a)),*]), $want, "{:?}", [$($a),*]);
        };
    }

    const NOW: i64 = 1_700_000_000_000;
    const WT: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    #[test]
    fn get_set_basics() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["GET", "k"], "$-1\r\n");
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(ks, NOW, ["get", "k"], "$1\r\nv\r\n");
        t!(ks, NOW, ["SET", "e", ""], "+OK\r\n");
        t!(ks, NOW, ["GET", "e"], "$0\r\n\r\n");
        let big = vec![b'x'; 100_000];
        assert_eq!(run(ks, NOW, &[b"SET", b"big", &big]), "+OK\r\n");
        assert_eq!(run(ks, NOW, &[b"STRLEN", b"big"]), ":100000\r\n");
        t!(ks, NOW, ["SET", "n", "12345678901234567890"], "+OK\r\n");
        t!(ks, NOW, ["GET", "n"], "$20\r\n12345678901234567890\r\n");
        t!(ks, NOW, ["SET", "n", "1234567890123456789"], "+OK\r\n");
        t!(ks, NOW, ["GET", "n"], "$19\r\n1234567890123456789\r\n");
        t!(ks, NOW, ["RPUSH", "l", "a"], ":1\r\n");
        t!(ks, NOW, ["GET", "l"], WT);
        t!(ks, NOW, ["SET", "l", "s"], "+OK\r\n");
        t!(ks, NOW, ["GET", "l"], "$1\r\ns\r\n");
        t!(
            ks,
            NOW,
            ["GET"],
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
    }

    #[test]
    fn set_options_and_errors() {
        let ks = &mut Keyspace::new(1);
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "NX", "XX"],
            "-ERR syntax error\r\n"
        );
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "XX", "NX"],
            "-ERR syntax error\r\n"
        );
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "EX", "10", "PX", "100"],
            "-ERR syntax error\r\n"
        );
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "KEEPTTL", "EX", "1"],
            "-ERR syntax error\r\n"
        );
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "EX", "1", "KEEPTTL"],
            "-ERR syntax error\r\n"
        );
        t!(ks, NOW, ["SET", "k", "v", "EX"], "-ERR syntax error\r\n");
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "PERSIST"],
            "-ERR syntax error\r\n"
        );
        t!(ks, NOW, ["SET", "k", "v", "foo"], "-ERR syntax error\r\n");
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "EX", "abc"],
            "-ERR value is not an integer or out of range\r\n"
        );
        let inv = "-ERR invalid expire time in 'set' command\r\n";
        t!(ks, NOW, ["SET", "k", "v", "EX", "0"], inv);
        t!(ks, NOW, ["SET", "k", "v", "EX", "-1"], inv);
        t!(ks, NOW, ["SET", "k", "v", "PX", "0"], inv);
        t!(ks, NOW, ["SET", "k", "v", "EXAT", "0"], inv);
        t!(ks, NOW, ["SET", "k", "v", "EX", "9223372036854776"], inv);
        t!(ks, NOW, ["SET", "k", "v", "EX", "9223372036854775"], inv);
        t!(ks, NOW, ["SET", "k", "v", "PX", "9223372036854775807"], inv);
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
        // A later EX replaces an earlier one.
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "ex", "10", "ex", "20"],
            "+OK\r\n"
        );
        t!(ks, NOW, ["TTL", "k"], ":20\r\n");
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "EXAT", "9223372036854775"],
            "+OK\r\n"
        );
        t!(ks, NOW, ["PEXPIRETIME", "k"], ":9223372036854775000\r\n");
        // PXAT in the past: set, then gone on the next access.
        t!(ks, NOW, ["SET", "k", "v", "PXAT", "1"], "+OK\r\n");
        t!(ks, NOW, ["GET", "k"], "$-1\r\n");
        // Options are case-insensitive and NUL-terminated like C strings.
        t!(ks, NOW, ["SET", "k", "v", "nX"], "+OK\r\n");
        t!(ks, NOW, ["SET", "k", "w", "Nx\0junk"], "$-1\r\n");
    }

    #[test]
    fn set_nx_xx_get_keepttl() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["SET", "k", "v", "XX"], "$-1\r\n");
        t!(ks, NOW, ["SET", "k", "v", "NX"], "+OK\r\n");
        t!(ks, NOW, ["SET", "k", "w", "NX"], "$-1\r\n");
        t!(ks, NOW, ["SET", "k", "w", "XX"], "+OK\r\n");
        t!(ks, NOW, ["SET", "k", "x", "GET"], "$1\r\nw\r\n");
        t!(ks, NOW, ["SET", "k", "y", "GET", "GET"], "$1\r\nx\r\n");
        t!(ks, NOW, ["SET", "k2", "v2", "GET"], "$-1\r\n");
        t!(ks, NOW, ["GET", "k2"], "$2\r\nv2\r\n");
        // NX with GET is allowed in 7.0: the old value is returned either way.
        t!(ks, NOW, ["SET", "k", "z", "NX", "GET"], "$1\r\ny\r\n");
        t!(ks, NOW, ["GET", "k"], "$1\r\ny\r\n");
        t!(ks, NOW, ["SET", "k3", "v3", "NX", "GET"], "$-1\r\n");
        t!(ks, NOW, ["GET", "k3"], "$2\r\nv3\r\n");
        t!(ks, NOW, ["SET", "k4", "v", "XX", "GET"], "$-1\r\n");
        t!(ks, NOW, ["EXISTS", "k4"], ":0\r\n");
        t!(ks, NOW, ["LPUSH", "l", "a"], ":1\r\n");
        t!(ks, NOW, ["SET", "l", "v", "GET"], WT);
        t!(ks, NOW, ["SET", "l", "v", "NX", "GET"], WT);
        // The expire is validated before GET looks at the type.
        t!(
            ks,
            NOW,
            ["SET", "l", "v", "XX", "GET", "EX", "0"],
            "-ERR invalid expire time in 'set' command\r\n"
        );
        t!(ks, NOW, ["SET", "k", "v", "EX", "100"], "+OK\r\n");
        t!(ks, NOW, ["SET", "k", "v2", "KEEPTTL"], "+OK\r\n");
        t!(ks, NOW, ["TTL", "k"], ":100\r\n");
        t!(ks, NOW, ["SET", "k", "v3"], "+OK\r\n");
        t!(ks, NOW, ["TTL", "k"], ":-1\r\n");
        t!(
            ks,
            NOW,
            ["SET", "k", "v", "PX", "1500", "GET"],
            "$2\r\nv3\r\n"
        );
        t!(ks, NOW, ["PTTL", "k"], ":1500\r\n");
        t!(ks, NOW + 1500, ["GET", "k"], "$1\r\nv\r\n");
        t!(ks, NOW + 1501, ["GET", "k"], "$-1\r\n");
    }

    #[test]
    fn setnx_setex_psetex_getset_getdel() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["SETNX", "k", "a"], ":1\r\n");
        t!(ks, NOW, ["SETNX", "k", "b"], ":0\r\n");
        t!(
            ks,
            NOW,
            ["SETEX", "k", "0", "v"],
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["PSETEX", "k", "-5", "v"],
            "-ERR invalid expire time in 'psetex' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["SETEX", "k", "abc", "v"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["SETEX", "k", "10", "v"], "+OK\r\n");
        t!(ks, NOW, ["TTL", "k"], ":10\r\n");
        t!(ks, NOW, ["PSETEX", "k", "2500", "w"], "+OK\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":2500\r\n");
        t!(ks, NOW, ["GETSET", "k", "x"], "$1\r\nw\r\n");
        t!(ks, NOW, ["TTL", "k"], ":-1\r\n");
        t!(ks, NOW, ["GETSET", "new", "x"], "$-1\r\n");
        t!(ks, NOW, ["GETDEL", "k"], "$1\r\nx\r\n");
        t!(ks, NOW, ["GETDEL", "k"], "$-1\r\n");
        t!(ks, NOW, ["RPUSH", "l", "a"], ":1\r\n");
        t!(ks, NOW, ["GETDEL", "l"], WT);
        t!(ks, NOW, ["GETSET", "l", "v"], WT);
        t!(ks, NOW, ["TYPE", "l"], "+list\r\n");
    }

    #[test]
    fn getex_options() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["GETEX", "nokey", "EX", "0"], "$-1\r\n");
        t!(ks, NOW, ["SET", "k", "v"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["GETEX", "k", "PERSIST", "EX", "10"],
            "-ERR syntax error\r\n"
        );
        t!(
            ks,
            NOW,
            ["GETEX", "k", "EX", "10", "PERSIST"],
            "-ERR syntax error\r\n"
        );
        t!(ks, NOW, ["GETEX", "k", "NX"], "-ERR syntax error\r\n");
        t!(ks, NOW, ["GETEX", "k", "KEEPTTL"], "-ERR syntax error\r\n");
        t!(
            ks,
            NOW,
            ["GETEX", "k", "EX", "0"],
            "-ERR invalid expire time in 'getex' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["GETEX", "k", "EX", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["GETEX", "k"], "$1\r\nv\r\n");
        t!(ks, NOW, ["GETEX", "k", "EX", "10"], "$1\r\nv\r\n");
        t!(ks, NOW, ["TTL", "k"], ":10\r\n");
        t!(ks, NOW, ["GETEX", "k", "PX", "500"], "$1\r\nv\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":500\r\n");
        t!(ks, NOW, ["GETEX", "k", "PERSIST"], "$1\r\nv\r\n");
        t!(ks, NOW, ["TTL", "k"], ":-1\r\n");
        let at = (NOW / 1000 + 100).to_string();
        t!(ks, NOW, ["GETEX", "k", "EXAT", at.as_str()], "$1\r\nv\r\n");
        t!(ks, NOW, ["TTL", "k"], ":100\r\n");
        let at = (NOW + 100).to_string();
        t!(ks, NOW, ["GETEX", "k", "PXAT", at.as_str()], "$1\r\nv\r\n");
        t!(ks, NOW, ["PTTL", "k"], ":100\r\n");
        // An absolute time in the past replies with the value, then deletes the key.
        t!(ks, NOW, ["GETEX", "k", "EXAT", "1"], "$1\r\nv\r\n");
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
        t!(ks, NOW, ["LPUSH", "l", "a"], ":1\r\n");
        t!(ks, NOW, ["GETEX", "l", "EX", "0"], WT);
    }

    #[test]
    fn mget_mset() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["MSET", "a", "1", "b", "2"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["MSET", "a", "1", "b"],
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        t!(
            ks,
            NOW,
            ["MSET", "a"],
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        t!(ks, NOW, ["LPUSH", "l", "x"], ":1\r\n");
        t!(
            ks,
            NOW,
            ["MGET", "a", "nokey", "l", "b", "a"],
            "*5\r\n$1\r\n1\r\n$-1\r\n$-1\r\n$1\r\n2\r\n$1\r\n1\r\n"
        );
        assert_eq!(
            run_proto(ks, NOW, &[b"MGET", b"a", b"x"], Proto::Resp3),
            "*2\r\n$1\r\n1\r\n_\r\n"
        );
        t!(ks, NOW, ["SET", "a", "v", "EX", "10"], "+OK\r\n");
        t!(ks, NOW, ["MSET", "a", "w"], "+OK\r\n");
        t!(ks, NOW, ["TTL", "a"], ":-1\r\n");
    }

    #[test]
    fn append_strlen() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["STRLEN", "k"], ":0\r\n");
        t!(ks, NOW, ["APPEND", "k", "foo"], ":3\r\n");
        t!(ks, NOW, ["APPEND", "k", "barbazquxquux!"], ":17\r\n");
        t!(ks, NOW, ["GET", "k"], "$17\r\nfoobarbazquxquux!\r\n");
        t!(ks, NOW, ["STRLEN", "k"], ":17\r\n");
        t!(ks, NOW, ["SET", "n", "10"], "+OK\r\n");
        t!(ks, NOW, ["INCR", "n"], ":11\r\n");
        t!(ks, NOW, ["APPEND", "n", "5"], ":3\r\n");
        t!(ks, NOW, ["GET", "n"], "$3\r\n115\r\n");
        t!(ks, NOW, ["STRLEN", "n"], ":3\r\n");
        t!(ks, NOW, ["SET", "t", "v", "EX", "100"], "+OK\r\n");
        t!(ks, NOW, ["APPEND", "t", "w"], ":2\r\n");
        t!(ks, NOW, ["TTL", "t"], ":100\r\n");
        t!(ks, NOW, ["LPUSH", "l", "x"], ":1\r\n");
        t!(ks, NOW, ["APPEND", "l", "x"], WT);
        t!(ks, NOW, ["STRLEN", "l"], WT);
        let mut expected = Vec::new();
        for i in 0..200 {
            let piece = format!("{i}-");
            expected.extend_from_slice(piece.as_bytes());
            run(ks, NOW, &[b"APPEND", b"grow", piece.as_bytes()]);
        }
        let mut want = format!("${}\r\n", expected.len()).into_bytes();
        want.extend_from_slice(&expected);
        want.extend_from_slice(b"\r\n");
        assert_eq!(run(ks, NOW, &[b"GET", b"grow"]).as_bytes(), &want[..]);
    }

    #[test]
    fn incr_family() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["INCR", "n"], ":1\r\n");
        t!(ks, NOW, ["INCR", "n"], ":2\r\n");
        t!(ks, NOW, ["DECR", "n"], ":1\r\n");
        t!(ks, NOW, ["INCRBY", "n", "17179869184"], ":17179869185\r\n");
        t!(ks, NOW, ["DECRBY", "n", "17179869185"], ":0\r\n");
        t!(
            ks,
            NOW,
            ["DECRBY", "n", "-9223372036854775808"],
            "-ERR decrement would overflow\r\n"
        );
        t!(
            ks,
            NOW,
            ["INCRBY", "n", "abc"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(
            ks,
            NOW,
            ["INCRBY", "n", "1.5"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["SET", "n", "9223372036854775807"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["INCR", "n"],
            "-ERR increment or decrement would overflow\r\n"
        );
        t!(ks, NOW, ["SET", "n", "-9223372036854775808"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["DECR", "n"],
            "-ERR increment or decrement would overflow\r\n"
        );
        t!(ks, NOW, ["INCRBY", "n", "9223372036854775807"], ":-1\r\n");
        for bad in [" 11", "11 ", " 11 ", "011", "+1", "1e3", "", "abc"] {
            t!(ks, NOW, ["SET", "s", bad], "+OK\r\n");
            t!(
                ks,
                NOW,
                ["INCR", "s"],
                "-ERR value is not an integer or out of range\r\n"
            );
        }
        t!(ks, NOW, ["LPUSH", "l", "x"], ":1\r\n");
        t!(ks, NOW, ["INCR", "l"], WT);
        t!(
            ks,
            NOW,
            ["INCRBY", "l", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["SET", "t", "5", "EX", "100"], "+OK\r\n");
        t!(ks, NOW, ["INCR", "t"], ":6\r\n");
        t!(ks, NOW, ["TTL", "t"], ":100\r\n");
        t!(ks, NOW, ["GET", "t"], "$1\r\n6\r\n");
    }

    #[test]
    fn incrbyfloat() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["INCRBYFLOAT", "f", "10.5"], "$4\r\n10.5\r\n");
        t!(ks, NOW, ["INCRBYFLOAT", "f", "0.1"], "$4\r\n10.6\r\n");
        t!(ks, NOW, ["GET", "f"], "$4\r\n10.6\r\n");
        t!(ks, NOW, ["SET", "f", "1"], "+OK\r\n");
        t!(ks, NOW, ["INCRBYFLOAT", "f", "-1.1"], "$4\r\n-0.1\r\n");
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "inf"],
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "+inf"],
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        for bad in ["nan", " 1", "1 ", "1e5000", "abc", ""] {
            t!(
                ks,
                NOW,
                ["INCRBYFLOAT", "f", bad],
                "-ERR value is not a valid float\r\n"
            );
        }
        t!(ks, NOW, ["SET", "f", "abc"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "1"],
            "-ERR value is not a valid float\r\n"
        );
        // A NUL inside the stored value makes it invalid (Redis's null-terminator test).
        t!(ks, NOW, ["SET", "f", "1"], "+OK\r\n");
        t!(ks, NOW, ["SETRANGE", "f", "2", "2"], ":3\r\n");
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "1"],
            "-ERR value is not a valid float\r\n"
        );
        t!(ks, NOW, ["SET", "f", "9223372036854775807"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "1"],
            "$19\r\n9223372036854775808\r\n"
        );
        t!(ks, NOW, ["DEL", "f"], ":1\r\n");
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "0.024390243902439025"],
            "$19\r\n0.02439024390243902\r\n"
        );
        t!(
            ks,
            NOW,
            ["INCRBYFLOAT", "f", "-0.024390243902439025"],
            "$1\r\n0\r\n"
        );
        t!(ks, NOW, ["LPUSH", "l", "x"], ":1\r\n");
        t!(ks, NOW, ["INCRBYFLOAT", "l", "1"], WT);
        t!(ks, NOW, ["SET", "t", "1.5", "EX", "100"], "+OK\r\n");
        t!(ks, NOW, ["INCRBYFLOAT", "t", "1"], "$3\r\n2.5\r\n");
        t!(ks, NOW, ["TTL", "t"], ":100\r\n");
    }

    #[test]
    fn setrange_getrange() {
        let ks = &mut Keyspace::new(1);
        t!(
            ks,
            NOW,
            ["SETRANGE", "k", "-1", "x"],
            "-ERR offset is out of range\r\n"
        );
        t!(
            ks,
            NOW,
            ["SETRANGE", "k", "x", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["SETRANGE", "k", "5", ""], ":0\r\n");
        t!(ks, NOW, ["EXISTS", "k"], ":0\r\n");
        t!(
            ks,
            NOW,
            ["SETRANGE", "k", "536870912", "x"],
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        t!(
            ks,
            NOW,
            ["SETRANGE", "k", "9223372036854775807", "x"],
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        t!(ks, NOW, ["SETRANGE", "k", "2", "ab"], ":4\r\n");
        t!(ks, NOW, ["GET", "k"], "$4\r\n\0\0ab\r\n");
        t!(ks, NOW, ["SETRANGE", "k", "0", "xyz"], ":4\r\n");
        t!(ks, NOW, ["GET", "k"], "$4\r\nxyzb\r\n");
        t!(ks, NOW, ["SETRANGE", "k", "1", ""], ":4\r\n");
        t!(ks, NOW, ["SET", "n", "1234"], "+OK\r\n");
        t!(ks, NOW, ["INCR", "n"], ":1235\r\n");
        t!(ks, NOW, ["SETRANGE", "n", "1", "9"], ":4\r\n");
        t!(ks, NOW, ["GET", "n"], "$4\r\n1935\r\n");
        t!(ks, NOW, ["LPUSH", "l", "x"], ":1\r\n");
        t!(ks, NOW, ["SETRANGE", "l", "0", ""], WT);
        t!(ks, NOW, ["SETRANGE", "l", "0", "x"], WT);

        t!(ks, NOW, ["SET", "s", "Hello World"], "+OK\r\n");
        t!(ks, NOW, ["GETRANGE", "s", "0", "4"], "$5\r\nHello\r\n");
        t!(ks, NOW, ["GETRANGE", "s", "-5", "-1"], "$5\r\nWorld\r\n");
        t!(
            ks,
            NOW,
            ["GETRANGE", "s", "0", "-1"],
            "$11\r\nHello World\r\n"
        );
        t!(ks, NOW, ["GETRANGE", "s", "-1", "-5"], "$0\r\n\r\n");
        t!(ks, NOW, ["GETRANGE", "s", "5", "3"], "$0\r\n\r\n");
        t!(ks, NOW, ["GETRANGE", "s", "-100", "2"], "$3\r\nHel\r\n");
        t!(
            ks,
            NOW,
            ["GETRANGE", "s", "0", "4294967297"],
            "$11\r\nHello World\r\n"
        );
        t!(
            ks,
            NOW,
            [
                "GETRANGE",
                "s",
                "-9223372036854775808",
                "9223372036854775807"
            ],
            "$11\r\nHello World\r\n"
        );
        t!(ks, NOW, ["GETRANGE", "s", "20", "30"], "$0\r\n\r\n");
        t!(ks, NOW, ["SUBSTR", "s", "6", "-1"], "$5\r\nWorld\r\n");
        t!(ks, NOW, ["GETRANGE", "nokey", "0", "-1"], "$0\r\n\r\n");
        t!(
            ks,
            NOW,
            ["GETRANGE", "nokey", "a", "-1"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["GETRANGE", "l", "0", "-1"], WT);
        t!(ks, NOW, ["SET", "e", ""], "+OK\r\n");
        t!(ks, NOW, ["GETRANGE", "e", "0", "-1"], "$0\r\n\r\n");
        t!(ks, NOW, ["GETRANGE", "n", "1", "2"], "$2\r\n93\r\n");
    }
}

//! List commands: push/pop at both ends, ranges, indexing, insertion, search, removal,
//! trimming, and moves between lists.
//!
//! Behaviour follows Redis 7.0's `t_list.c`, including the order of checks (for instance LINDEX
//! and LSET look the key up before parsing the index; LRANGE/LTRIM/LREM parse first; LPOS parses
//! every option before the lookup). A list emptied by a command is deleted. No reply size or
//! allocation is taken from a client number: counts and ranges are clamped to the list's length
//! first. A list is created only through `Keyspace::set`, which is where clients blocked on the
//! key (BLPOP & co) get woken.
//!
//! LMOVE/RPOPLPUSH and LMPOP may name keys on different shards. They run on the connection's core
//! (`Handler::Async`, as the set algebra does): when one shard owns every key they run there in one
//! atomic step (an internal `__list-…` command); otherwise they take one atomic step per owner.

use super::string::opt_is;
use super::{
    arity_error, err, flags, parse_i64, AsyncFn, CommandSpec, Handler, Route, Session, ShardCtx,
    ShardFn,
};
use crate::keyspace::{List, SmallBytes, Ttl, Value};
use crate::notify;
use crate::resp::{Argv, CmdBatch, Proto, Reply};
use crate::shard::{shard_of, Core};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const ERR_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const ERR_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from \
                             the second ... or use negative to start from the end of the list";
const ERR_COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const ERR_MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
const ERR_NUMKEYS: &str = "ERR numkeys should be greater than 0";
const ERR_MPOP_COUNT: &str = "ERR count should be greater than 0";
const ERR_BAD_PART: &str = "ERR internal: unexpected reply from a shard";

// Internal shard-side steps of LMOVE/RPOPLPUSH/LMPOP. Clients get "unknown command" for them
// (`flags::INTERNAL`).
/// `__list-move src dst left|right left|right`: a whole LMOVE when one shard owns both keys.
const MOVE: &str = "__list-move";
/// `__list-kind key`: 0 missing, 1 a list, 2 another type.
const KIND: &str = "__list-kind";
/// `__list-pop key left|right`: one element (a bulk), nil when missing, or WRONGTYPE.
const POP: &str = "__list-pop";
/// `__list-push key left|right element`: the new length, or WRONGTYPE. Counts no change: it is
/// the second half of a move whose pop counted it.
const PUSH: &str = "__list-push";
/// `__list-mpop key… left|right count`: LMPOP over keys this shard owns (the null array when all
/// are empty).
const MPOP: &str = "__list-mpop";

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let key = CommandSpec::single_key;
    t.push(key("lpush", -3, WRITE | DENYOOM | FAST, lpush));
    t.push(key("rpush", -3, WRITE | DENYOOM | FAST, rpush));
    t.push(key("lpushx", -3, WRITE | DENYOOM | FAST, lpushx));
    t.push(key("rpushx", -3, WRITE | DENYOOM | FAST, rpushx));
    t.push(key("lpop", -2, WRITE | FAST, lpop));
    t.push(key("rpop", -2, WRITE | FAST, rpop));
    t.push(key("llen", 2, READONLY | FAST, llen));
    t.push(key("lrange", 4, READONLY, lrange));
    t.push(key("lindex", 3, READONLY, lindex));
    t.push(key("lset", 4, WRITE | DENYOOM, lset));
    t.push(key("lrem", 4, WRITE, lrem));
    t.push(key("ltrim", 4, WRITE, ltrim));
    t.push(key("linsert", 5, WRITE | DENYOOM, linsert));
    t.push(key("lpos", -3, READONLY, lpos));

    let multi = |name: &'static str, arity: i32, flags: u32, keys: (i32, i32, i32), f: AsyncFn| {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            route: Route::Local,
            handler: Handler::Async(f),
        }
    };
    t.push(multi("lmove", 5, WRITE | DENYOOM, (1, 2, 1), lmove));
    t.push(multi("rpoplpush", 3, WRITE | DENYOOM, (1, 2, 1), rpoplpush));
    // Keys found through numkeys ("movablekeys"): Redis reports 0, 0, 0.
    t.push(multi("lmpop", -4, WRITE, (0, 0, 0), lmpop));

    let internal = |name: &'static str, arity: i32, flags: u32, f: ShardFn| {
        CommandSpec::single_key(name, arity, flags | INTERNAL, f)
    };
    t.push(internal(MOVE, 5, WRITE | DENYOOM, move_part));
    t.push(internal(KIND, 2, READONLY | FAST, kind_part));
    t.push(internal(POP, 3, WRITE | FAST, pop_part));
    t.push(internal(PUSH, 4, WRITE | DENYOOM | FAST, push_part));
    t.push(internal(MPOP, -4, WRITE, mpop_part));
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Head,
    Tail,
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX: `only_existing` is the X variants (0 when the key is missing).
fn push_generic(
    ctx: &mut ShardCtx<'_>,
    argv: Argv<'_>,
    out: &mut Reply,
    end: End,
    only_existing: bool,
) {
    let push = |l: &mut List| {
        for e in argv.tail(2) {
            match end {
                End::Head => l.push_front(SmallBytes::new(e)),
                End::Tail => l.push_back(SmallBytes::new(e)),
            }
        }
        l.len()
    };
    let key = argv.get(1);
    let event = push_event(end);
    match ctx.ks.lookup_write(ctx.db, key, ctx.now_ms) {
        Some(v) => match v.as_list_mut() {
            Some(l) => {
                out.int(push(l) as i64);
                ctx.ks.add_dirty((argv.len() - 2) as u64);
                ctx.notify(notify::LIST, event, key);
            }
            None => out.error(err::WRONGTYPE),
        },
        None if only_existing => out.int(0),
        None => {
            let mut l = List::with_capacity(argv.len() - 2);
            let n = push(&mut l);
            ctx.ks
                .set(ctx.db, key, Value::list(l), Ttl::Clear, ctx.now_ms);
            ctx.ks.add_dirty(n as u64);
            ctx.notify(notify::LIST, event, key);
            out.int(n as i64);
        }
    }
}

fn lpush(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    push_generic(ctx, argv, out, End::Head, false)
}

fn rpush(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    push_generic(ctx, argv, out, End::Tail, false)
}

fn lpushx(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    push_generic(ctx, argv, out, End::Head, true)
}

fn rpushx(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    push_generic(ctx, argv, out, End::Tail, true)
}

/// LPOP/RPOP key [count]. Without count: a bulk (nil if missing). With count: an array (nil
/// array if missing, empty array for count 0), at most the list's length.
fn pop_generic(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, end: End, name: &str) {
    if argv.len() > 3 {
        arity_error(name, out);
        return;
    }
    let count = if argv.len() == 3 {
        match parse_i64(argv.get(2)) {
            Some(c) if c >= 0 => Some(c),
            _ => {
                out.error(ERR_NOT_POSITIVE);
                return;
            }
        }
    } else {
        None
    };
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(v) = ctx.ks.lookup_write(db, key, now) else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return;
    };
    let Some(l) = v.as_list_mut() else {
        out.error(err::WRONGTYPE);
        return;
    };
    let pop = |l: &mut List| match end {
        End::Head => l.pop_front(),
        End::Tail => l.pop_back(),
    };
    let popped = match count {
        Some(0) => {
            out.array(0);
            return;
        }
        None => match pop(l) {
            Some(e) => {
                out.bulk(&e);
                1
            }
            None => {
                out.null();
                0
            }
        },
        Some(c) => {
            let n = usize::try_from(c).unwrap_or(usize::MAX).min(l.len());
            out.array(n);
            for _ in 0..n {
                if let Some(e) = pop(l) {
                    out.bulk(&e);
                }
            }
            n
        }
    };
    let empty = l.is_empty();
    ctx.ks.add_dirty(popped as u64);
    if popped > 0 {
        ctx.notify(notify::LIST, pop_event(end), key);
    }
    if empty {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
}

fn lpop(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    pop_generic(ctx, argv, out, End::Head, "lpop")
}

fn rpop(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    pop_generic(ctx, argv, out, End::Tail, "rpop")
}

fn llen(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) {
        None => out.int(0),
        Some(v) => match v.as_list() {
            Some(l) => out.int(l.len() as i64),
            None => out.error(err::WRONGTYPE),
        },
    }
}

/// Redis's range normalization: negative indexes count from the end; the result is an inclusive
/// `start..=end` within the list, or `None` when empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { start + len } else { start }.max(0);
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn lrange(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (Some(start), Some(end)) = (parse_i64(argv.get(2)), parse_i64(argv.get(3))) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    let Some(v) = ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) else {
        out.array(0);
        return;
    };
    let Some(l) = v.as_list() else {
        out.error(err::WRONGTYPE);
        return;
    };
    match clamp_range(start, end, l.len()) {
        None => out.array(0),
        Some((s, e)) => {
            out.array(e - s + 1);
            for x in l.range(s..=e) {
                out.bulk(x);
            }
        }
    }
}

/// The position of `index` (negative from the end) in a list of `len`, if inside it.
fn position(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(v) = ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) else {
        out.null();
        return;
    };
    let Some(l) = v.as_list() else {
        out.error(err::WRONGTYPE);
        return;
    };
    let Some(index) = parse_i64(argv.get(2)) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    match position(index, l.len()).and_then(|i| l.get(i)) {
        Some(e) => out.bulk(e),
        None => out.null(),
    }
}

fn lset(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(v) = ctx.ks.lookup_write(ctx.db, argv.get(1), ctx.now_ms) else {
        out.error(err::NO_SUCH_KEY);
        return;
    };
    let Some(l) = v.as_list_mut() else {
        out.error(err::WRONGTYPE);
        return;
    };
    let Some(index) = parse_i64(argv.get(2)) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    match position(index, l.len()).and_then(|i| l.get_mut(i)) {
        Some(e) => {
            *e = SmallBytes::new(argv.get(3));
            out.ok();
            ctx.ks.add_dirty(1);
            ctx.notify(notify::LIST, "lset", argv.get(1));
        }
        None => out.error(err::OUT_OF_RANGE),
    }
}

/// LREM key count element: count > 0 removes from the head, < 0 from the tail, 0 all.
fn lrem(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(count) = parse_i64(argv.get(2)) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    let (key, elem, db, now) = (argv.get(1), argv.get(3), ctx.db, ctx.now_ms);
    let Some(v) = ctx.ks.lookup_write(db, key, now) else {
        out.int(0);
        return;
    };
    let Some(l) = v.as_list_mut() else {
        out.error(err::WRONGTYPE);
        return;
    };
    let limit = match count.unsigned_abs() {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    // From the tail, the matches to remove are the last `limit`: skip the earlier ones.
    let mut skip = if count < 0 {
        l.iter()
            .filter(|e| e.as_slice() == elem)
            .count()
            .saturating_sub(limit)
    } else {
        0
    };
    let mut removed = 0usize;
    l.retain(|e| {
        if removed == limit || e.as_slice() != elem {
            return true;
        }
        if skip > 0 {
            skip -= 1;
            return true;
        }
        removed += 1;
        false
    });
    let empty = l.is_empty();
    ctx.ks.add_dirty(removed as u64);
    if removed > 0 {
        ctx.notify(notify::LIST, "lrem", key);
        if empty {
            ctx.ks.remove(db, key, now);
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    out.int(removed as i64);
}

fn ltrim(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (Some(start), Some(end)) = (parse_i64(argv.get(2)), parse_i64(argv.get(3))) else {
        out.error(err::NOT_INTEGER);
        return;
    };
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(v) = ctx.ks.lookup_write(db, key, now) else {
        out.ok();
        return;
    };
    let Some(l) = v.as_list_mut() else {
        out.error(err::WRONGTYPE);
        return;
    };
    let before = l.len();
    match clamp_range(start, end, l.len()) {
        None => l.clear(),
        Some((s, e)) => {
            l.truncate(e + 1);
            l.drain(..s);
        }
    }
    let (removed, empty) = (before - l.len(), l.is_empty());
    ctx.ks.add_dirty(removed as u64);
    // As Redis: announced even when nothing was trimmed.
    ctx.notify(notify::LIST, "ltrim", key);
    if empty {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
    out.ok();
}

/// `LEFT`/`RIGHT` (any case, up to a NUL byte as C's `strcasecmp` reads it).
fn parse_end(arg: &[u8]) -> Option<End> {
    if opt_is(arg, "left") {
        Some(End::Head)
    } else if opt_is(arg, "right") {
        Some(End::Tail)
    } else {
        None
    }
}

fn end_name(end: End) -> &'static [u8] {
    match end {
        End::Head => b"left",
        End::Tail => b"right",
    }
}

/// The event a push at `end` announces.
pub(crate) fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

/// The event a pop from `end` announces.
pub(crate) fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

fn pop_end(l: &mut List, end: End) -> Option<SmallBytes> {
    match end {
        End::Head => l.pop_front(),
        End::Tail => l.pop_back(),
    }
}

fn push_end(l: &mut List, end: End, e: SmallBytes) {
    match end {
        End::Head => l.push_front(e),
        End::Tail => l.push_back(e),
    }
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the pivot is absent, 0 when
/// the key is. The position word is checked before the key, as Redis does.
fn linsert(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let after = if opt_is(argv.get(2), "after") {
        true
    } else if opt_is(argv.get(2), "before") {
        false
    } else {
        return out.error(err::SYNTAX);
    };
    let (pivot, elem) = (argv.get(3), argv.get(4));
    let Some(v) = ctx.ks.lookup_write(ctx.db, argv.get(1), ctx.now_ms) else {
        return out.int(0);
    };
    let Some(l) = v.as_list_mut() else {
        return out.error(err::WRONGTYPE);
    };
    let Some(i) = l.iter().position(|e| e.as_slice() == pivot) else {
        return out.int(-1);
    };
    l.insert(i + usize::from(after), SmallBytes::new(elem));
    let len = l.len();
    ctx.ks.add_dirty(1);
    ctx.notify(notify::LIST, "linsert", argv.get(1));
    out.int(len as i64);
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
///
/// Every option is parsed (in order, the first error wins) before the key is looked up. Without
/// COUNT the reply is one index or nil; with it an array (empty when the key is missing). RANK
/// is negated with wrapping arithmetic as Redis 7.0's C does, so RANK -9223372036854775808
/// matches from the tail and, its COUNT test overflowing, returns every match like Redis.
fn lpos(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let elem = argv.get(2);
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let (opt, more) = (argv.get(j), j + 1 < argv.len());
        if more && opt_is(opt, "rank") {
            match parse_i64(argv.get(j + 1)) {
                None => return out.error(err::NOT_INTEGER),
                Some(0) => return out.error(ERR_RANK_ZERO),
                Some(r) => rank = r,
            }
        } else if more && opt_is(opt, "count") {
            match parse_i64(argv.get(j + 1)) {
                Some(c) if c >= 0 => count = Some(c),
                _ => return out.error(ERR_COUNT_NEGATIVE),
            }
        } else if more && opt_is(opt, "maxlen") {
            match parse_i64(argv.get(j + 1)) {
                Some(m) if m >= 0 => maxlen = m,
                _ => return out.error(ERR_MAXLEN_NEGATIVE),
            }
        } else {
            return out.error(err::SYNTAX);
        }
        j += 2;
    }
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let Some(v) = ctx.ks.lookup_read(ctx.db, argv.get(1), ctx.now_ms) else {
        return match count {
            Some(_) => out.array(0),
            None => out.null(),
        };
    };
    let Some(l) = v.as_list() else {
        return out.error(err::WRONGTYPE);
    };
    let len = l.len();
    let mut found = Vec::new();
    let mut matches = 0i64;
    for scanned in 0..len {
        if maxlen != 0 && scanned as u64 >= maxlen as u64 {
            break;
        }
        let at = if from_tail {
            len - 1 - scanned
        } else {
            scanned
        };
        if l[at].as_slice() != elem {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(at);
        match count {
            None => break,
            Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
            Some(_) => {}
        }
    }
    match count {
        Some(_) => {
            out.array(found.len());
            for at in found {
                out.int(at as i64);
            }
        }
        None => match found.first() {
            Some(&at) => out.int(at as i64),
            None => out.null(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Internal steps of the commands over several keys
// ---------------------------------------------------------------------------------------------

/// What a key holds, for the moves' type checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    List,
    Other,
}

/// A write lookup (no hit/miss stats, as Redis's `lookupKeyWrite`).
fn kind_of(ctx: &mut ShardCtx<'_>, key: &[u8]) -> Kind {
    match ctx.ks.lookup_write(ctx.db, key, ctx.now_ms) {
        None => Kind::Missing,
        Some(v) if v.as_list().is_some() => Kind::List,
        Some(_) => Kind::Other,
    }
}

/// Pops one element from `end` of the list at `key`, deleting the key when it empties. `Ok(None)`
/// when the key is missing, `Err` for another type. Counts no change (callers do).
fn pop_one(ctx: &mut ShardCtx<'_>, key: &[u8], end: End) -> Result<Option<SmallBytes>, ()> {
    let (db, now) = (ctx.db, ctx.now_ms);
    let Some(v) = ctx.ks.lookup_write(db, key, now) else {
        return Ok(None);
    };
    let l = v.as_list_mut().ok_or(())?;
    let e = pop_end(l, end);
    let empty = l.is_empty();
    if e.is_some() {
        ctx.notify(notify::LIST, pop_event(end), key);
    }
    if empty {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
    Ok(e)
}

/// Pushes `e` at `end` of the list at `key`, creating the list through `Keyspace::set` (which wakes
/// clients blocked on the key). The new length, or `Err` for another type. Counts no change.
fn push_one(ctx: &mut ShardCtx<'_>, key: &[u8], end: End, e: SmallBytes) -> Result<usize, ()> {
    let (db, now) = (ctx.db, ctx.now_ms);
    match ctx.ks.lookup_write(db, key, now) {
        Some(v) => {
            let l = v.as_list_mut().ok_or(())?;
            push_end(l, end, e);
            let n = l.len();
            ctx.notify(notify::LIST, push_event(end), key);
            Ok(n)
        }
        None => {
            let mut l = List::with_capacity(1);
            l.push_back(e);
            ctx.ks.set(db, key, Value::list(l), Ttl::Clear, now);
            ctx.notify(notify::LIST, push_event(end), key);
            Ok(1)
        }
    }
}

/// LMOVE with both keys on this shard, atomically, with Redis's checks in Redis's order: a
/// missing source is nil (whatever the destination), then the source's type, then the
/// destination's, and only then the pop. The same key rotates.
fn move_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (src, dst) = (argv.get(1), argv.get(2));
    let (Some(from), Some(to)) = (parse_end(argv.get(3)), parse_end(argv.get(4))) else {
        return out.error(err::SYNTAX);
    };
    match kind_of(ctx, src) {
        Kind::Missing => return out.null(),
        Kind::Other => return out.error(err::WRONGTYPE),
        Kind::List => {}
    }
    if src == dst {
        // Rotation in place: the key is never deleted (its TTL stays, no blocked client wakes).
        let Some(l) = ctx
            .ks
            .lookup_write(ctx.db, src, ctx.now_ms)
            .and_then(|v| v.as_list_mut())
        else {
            return out.null();
        };
        let Some(e) = pop_end(l, from) else {
            return out.null();
        };
        out.bulk(&e);
        push_end(l, to, e);
        ctx.ks.add_dirty(1);
        // Redis announces the push before the pop.
        ctx.notify(notify::LIST, push_event(to), src);
        ctx.notify(notify::LIST, pop_event(from), src);
        return;
    }
    if kind_of(ctx, dst) == Kind::Other {
        return out.error(err::WRONGTYPE);
    }
    let Ok(Some(e)) = pop_one(ctx, src, from) else {
        return out.null();
    };
    out.bulk(&e);
    if push_one(ctx, dst, to, e).is_ok() {
        ctx.ks.add_dirty(1);
    }
}

fn kind_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    out.int(match kind_of(ctx, argv.get(1)) {
        Kind::Missing => 0,
        Kind::List => 1,
        Kind::Other => 2,
    });
}

fn pop_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(end) = parse_end(argv.get(2)) else {
        return out.error(err::SYNTAX);
    };
    match pop_one(ctx, argv.get(1), end) {
        Err(()) => out.error(err::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(e)) => {
            ctx.ks.add_dirty(1);
            out.bulk(&e);
        }
    }
}

fn push_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(end) = parse_end(argv.get(2)) else {
        return out.error(err::SYNTAX);
    };
    match push_one(ctx, argv.get(1), end, SmallBytes::new(argv.get(3))) {
        Err(()) => out.error(err::WRONGTYPE),
        Ok(n) => out.int(n as i64),
    }
}

/// LMPOP over keys this shard owns (`key… side count`, already validated by the caller): pops up
/// to `count` from the first non-empty list and replies `[key, [elements]]`; WRONGTYPE if a key
/// before it holds another type; the null array when every list is missing.
fn mpop_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let n = argv.len();
    let (Some(end), Some(count)) = (parse_end(argv.get(n - 2)), parse_i64(argv.get(n - 1))) else {
        return out.error(err::SYNTAX);
    };
    let count = usize::try_from(count.max(1)).unwrap_or(usize::MAX);
    let (db, now) = (ctx.db, ctx.now_ms);
    for key in argv.iter().take(n - 2).skip(1) {
        let Some(v) = ctx.ks.lookup_write(db, key, now) else {
            continue;
        };
        let Some(l) = v.as_list_mut() else {
            return out.error(err::WRONGTYPE);
        };
        if l.is_empty() {
            continue;
        }
        let k = count.min(l.len());
        out.array(2);
        out.bulk(key);
        out.array(k);
        for _ in 0..k {
            if let Some(e) = pop_end(l, end) {
                out.bulk(&e);
            }
        }
        let empty = l.is_empty();
        ctx.ks.add_dirty(k as u64);
        ctx.notify(notify::LIST, pop_event(end), key);
        if empty {
            ctx.ks.remove(db, key, now);
            ctx.notify(notify::GENERIC, "del", key);
        }
        return;
    }
    out.null_array();
}

// ---------------------------------------------------------------------------------------------
// Commands over several keys (run on the connection's core)
// ---------------------------------------------------------------------------------------------

type AsyncOut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

fn lmove<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    let db = session.db;
    Box::pin(async move {
        let (Some(from), Some(to)) = (parse_end(argv.get(3)), parse_end(argv.get(4))) else {
            return out.error(err::SYNTAX);
        };
        move_async(core, db, out, argv.get(1), argv.get(2), from, to).await
    })
}

fn rpoplpush<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    let db = session.db;
    Box::pin(move_async(
        core,
        db,
        out,
        argv.get(1),
        argv.get(2),
        End::Tail,
        End::Head,
    ))
}

fn lmpop<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    let db = session.db;
    Box::pin(lmpop_async(core, db, argv, out))
}

/// The value of an integer reply.
fn int_reply(reply: &[u8]) -> Option<i64> {
    parse_i64(reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?)
}

/// A RESP2 bulk reply: `Some(Some(bytes))`, `Some(None)` for nil, `None` for anything else.
fn bulk_reply(reply: &[u8]) -> Option<Option<&[u8]>> {
    if reply == b"$-1\r\n" {
        return Some(None);
    }
    let rest = reply.strip_prefix(b"$")?;
    let eol = rest.iter().position(|&b| b == b'\r')?;
    let len: usize = std::str::from_utf8(&rest[..eol]).ok()?.parse().ok()?;
    let body = rest.get(eol + 2..)?;
    (body.len() == len.checked_add(2)? && body.ends_with(b"\r\n")).then(|| Some(&body[..len]))
}

/// Replies a shard's error reply as is, or an internal error if it was not one.
fn reply_failure(out: &mut Reply, reply: &[u8]) {
    if reply.first() == Some(&b'-') && reply.ends_with(b"\r\n") {
        out.raw(reply);
    } else {
        out.error(ERR_BAD_PART);
    }
}

/// LMOVE/RPOPLPUSH.
///
/// One owner: a single atomic step there. Across shards, steps each atomic on its owner: the
/// destination's type is checked first (WRONGTYPE before anything is popped; nil if the source is
/// missing, as Redis answers before looking at the destination), then one element is popped on
/// the source's owner and pushed on the destination's, so it moves exactly once. Should the
/// destination turn into another type between the check and the push (another client), the
/// element goes back to the end of the source it came from and WRONGTYPE is replied. Should the
/// source have turned into another type too, so that the element can go nowhere, it is replied
/// to the client as a successful move would be rather than dropped.
async fn move_async(
    core: &Rc<Core>,
    db: usize,
    out: &mut Reply,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) {
    let n = core.nshards;
    let (src_owner, dst_owner) = (shard_of(src, n), shard_of(dst, n));
    if src_owner == dst_owner {
        let b = CmdBatch::from_args([MOVE.as_bytes(), src, dst, end_name(from), end_name(to)]);
        let reply = core.call(src_owner, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let call =
        |owner: usize, b: CmdBatch| async move { core.call(owner, db, Proto::Resp2, &b).await };
    let src = Side {
        key: src,
        owner: src_owner,
        end: from,
    };
    let dst = Side {
        key: dst,
        owner: dst_owner,
        end: to,
    };
    move_across(call, out, src, dst).await
}

/// One end of a move: the key, its owner, and the end of the list taken from or pushed to.
#[derive(Clone, Copy)]
struct Side<'k> {
    key: &'k [u8],
    owner: usize,
    end: End,
}

/// The steps of a move between two owners (see [`move_async`]); `call(owner, command)` runs one
/// internal command on an owner and returns its RESP2 reply.
async fn move_across<F, Fut>(call: F, out: &mut Reply, src: Side<'_>, dst: Side<'_>)
where
    F: Fn(usize, CmdBatch) -> Fut,
    Fut: Future<Output = Vec<u8>>,
{
    let step = |side: Side<'_>, cmd: &str, elem: Option<&[u8]>| {
        let mut args = vec![cmd.as_bytes(), side.key];
        if cmd != KIND {
            args.push(end_name(side.end));
        }
        args.extend(elem);
        call(side.owner, CmdBatch::from_args(args))
    };
    let dst_kind = step(dst, KIND, None).await;
    match int_reply(&dst_kind) {
        None => return reply_failure(out, &dst_kind),
        Some(2) => {
            let src_kind = step(src, KIND, None).await;
            return match int_reply(&src_kind) {
                None => reply_failure(out, &src_kind),
                Some(0) => out.null(),
                Some(_) => out.error(err::WRONGTYPE),
            };
        }
        Some(_) => {}
    }
    let popped = step(src, POP, None).await;
    let elem = match bulk_reply(&popped) {
        None => return reply_failure(out, &popped),
        Some(None) => return out.null(),
        Some(Some(e)) => e,
    };
    let pushed = step(dst, PUSH, Some(elem)).await;
    if int_reply(&pushed).is_some() {
        return out.bulk(elem);
    }
    // The destination changed type since the check: put the element back where it came from.
    let back = step(src, PUSH, Some(elem)).await;
    if int_reply(&back).is_some() {
        reply_failure(out, &pushed);
    } else {
        out.bulk(elem);
    }
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: arguments checked in Redis's order
/// before any key is read; then the owners are asked in argument order (one step per run of
/// consecutive keys with the same owner) until one pops. Each step is atomic on its owner, the
/// whole is not across owners: a list filled on an owner already asked is not seen this time.
async fn lmpop_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let numkeys = match parse_i64(argv.get(1)) {
        Some(k) if k >= 1 => k,
        _ => return out.error(ERR_NUMKEYS),
    };
    // Redis's where_idx; past the arguments (however large numkeys is) is a syntax error.
    let side_at = match usize::try_from(numkeys).ok().and_then(|k| k.checked_add(2)) {
        Some(i) if i < argv.len() => i,
        _ => return out.error(err::SYNTAX),
    };
    let Some(end) = parse_end(argv.get(side_at)) else {
        return out.error(err::SYNTAX);
    };
    let mut count = None;
    let mut j = side_at + 1;
    while j < argv.len() {
        if count.is_none() && j + 1 < argv.len() && opt_is(argv.get(j), "count") {
            match parse_i64(argv.get(j + 1)) {
                Some(c) if c >= 1 => count = Some(c),
                _ => return out.error(ERR_MPOP_COUNT),
            }
            j += 2;
        } else {
            return out.error(err::SYNTAX);
        }
    }
    let count = itoa::Buffer::new().format(count.unwrap_or(1)).to_owned();
    let keys: Vec<&[u8]> = argv.iter().skip(2).take(side_at - 2).collect();
    let mut rest = &keys[..];
    while let Some(first) = rest.first() {
        let owner = shard_of(first, core.nshards);
        let run = rest
            .iter()
            .take_while(|k| shard_of(k, core.nshards) == owner)
            .count();
        let args = std::iter::once(MPOP.as_bytes())
            .chain(rest[..run].iter().copied())
            .chain([end_name(end), count.as_bytes()]);
        let reply = core
            .call(owner, db, out.proto, &CmdBatch::from_args(args))
            .await;
        if reply != b"*-1\r\n" && reply != b"_\r\n" {
            return out.raw(&reply);
        }
        rest = &rest[run..];
    }
    out.null_array();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::string::tests::{run, run_proto};
    use crate::keyspace::Keyspace;
    use std::cell::RefCell;

    macro_rules! t {
        ($ks:expr, $now:expr, [$($a:expr),*], $want:expr) => {
            assert_eq!(run($ks, $now, &[$(AsRef::<[u8]>::as_ref(&$a)),*]), $want, "{:?}", [$($a),*]);
        };
    }

    const NOW: i64 = 1_700_000_000_000;
    const WT: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

    fn arr(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
        }
        s
    }

    #[test]
    fn push_and_range() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["LPUSHX", "l", "a"], ":0\r\n");
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["LPUSH", "l", "a", "b", "c"], ":3\r\n");
        t!(
            ks,
            NOW,
            ["RPUSH", "l", "d", "a-long-element-over-15-bytes"],
            ":5\r\n"
        );
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "0", "-1"],
            arr(&["c", "b", "a", "d", "a-long-element-over-15-bytes"])
        );
        t!(ks, NOW, ["LPUSHX", "l", "z"], ":6\r\n");
        t!(ks, NOW, ["RPUSHX", "l", "y"], ":7\r\n");
        t!(ks, NOW, ["LLEN", "l"], ":7\r\n");
        t!(ks, NOW, ["LRANGE", "l", "1", "2"], arr(&["c", "b"]));
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "-2", "-1"],
            arr(&["a-long-element-over-15-bytes", "y"])
        );
        t!(ks, NOW, ["LRANGE", "l", "-100", "1"], arr(&["z", "c"]));
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "5", "99999999999"],
            arr(&["a-long-element-over-15-bytes", "y"])
        );
        t!(ks, NOW, ["LRANGE", "l", "3", "2"], "*0\r\n");
        t!(ks, NOW, ["LRANGE", "l", "7", "10"], "*0\r\n");
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
            run(ks, NOW, &[b"LRANGE", b"l", b"0", b"-1"])
        );
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "x", "1"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["LRANGE", "nokey", "0", "-1"], "*0\r\n");
        t!(ks, NOW, ["LLEN", "nokey"], ":0\r\n");
        t!(ks, NOW, ["SET", "s", "x"], "+OK\r\n");
        t!(ks, NOW, ["LPUSH", "s", "a"], WT);
        t!(ks, NOW, ["RPUSHX", "s", "a"], WT);
        t!(ks, NOW, ["LLEN", "s"], WT);
        t!(ks, NOW, ["LRANGE", "s", "0", "-1"], WT);
        t!(
            ks,
            NOW,
            ["LRANGE", "s", "x", "-1"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(
            ks,
            NOW,
            ["LPUSH", "l"],
            "-ERR wrong number of arguments for 'lpush' command\r\n"
        );
    }

    #[test]
    fn pop_with_and_without_count() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["LPOP", "l"], "$-1\r\n");
        t!(ks, NOW, ["LPOP", "l", "0"], "*-1\r\n");
        t!(ks, NOW, ["RPOP", "l", "1"], "*-1\r\n");
        assert_eq!(
            run_proto(ks, NOW, &[b"LPOP", b"l", b"1"], Proto::Resp3),
            "_\r\n"
        );
        t!(
            ks,
            NOW,
            ["LPOP", "l", "-1"],
            "-ERR value is out of range, must be positive\r\n"
        );
        t!(
            ks,
            NOW,
            ["LPOP", "l", "abc"],
            "-ERR value is out of range, must be positive\r\n"
        );
        t!(
            ks,
            NOW,
            ["LPOP", "l", "1", "2"],
            "-ERR wrong number of arguments for 'lpop' command\r\n"
        );
        t!(ks, NOW, ["RPUSH", "l", "a", "b", "c", "d", "e"], ":5\r\n");
        t!(ks, NOW, ["LPOP", "l", "0"], "*0\r\n");
        t!(ks, NOW, ["LPOP", "l"], "$1\r\na\r\n");
        t!(ks, NOW, ["RPOP", "l"], "$1\r\ne\r\n");
        t!(ks, NOW, ["RPOP", "l", "2"], arr(&["d", "c"]));
        t!(ks, NOW, ["RPUSH", "l", "x", "y"], ":3\r\n");
        t!(
            ks,
            NOW,
            ["LPOP", "l", "9223372036854775807"],
            arr(&["b", "x", "y"])
        );
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["RPUSH", "l", "only"], ":1\r\n");
        t!(ks, NOW, ["RPOP", "l"], "$4\r\nonly\r\n");
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["SET", "s", "x"], "+OK\r\n");
        t!(ks, NOW, ["LPOP", "s"], WT);
        t!(ks, NOW, ["LPOP", "s", "0"], WT);
    }

    #[test]
    fn lindex_lset() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["LINDEX", "nol", "abc"], "$-1\r\n");
        t!(ks, NOW, ["LSET", "nol", "0", "x"], "-ERR no such key\r\n");
        t!(ks, NOW, ["LSET", "nol", "abc", "x"], "-ERR no such key\r\n");
        t!(ks, NOW, ["RPUSH", "l", "a", "b", "c"], ":3\r\n");
        t!(ks, NOW, ["LINDEX", "l", "0"], "$1\r\na\r\n");
        t!(ks, NOW, ["LINDEX", "l", "-1"], "$1\r\nc\r\n");
        t!(ks, NOW, ["LINDEX", "l", "3"], "$-1\r\n");
        t!(ks, NOW, ["LINDEX", "l", "-4"], "$-1\r\n");
        t!(ks, NOW, ["LINDEX", "l", "-9223372036854775808"], "$-1\r\n");
        t!(
            ks,
            NOW,
            ["LINDEX", "l", "abc"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["LSET", "l", "1", "B"], "+OK\r\n");
        t!(ks, NOW, ["LSET", "l", "-1", "C"], "+OK\r\n");
        t!(
            ks,
            NOW,
            ["LSET", "l", "3", "x"],
            "-ERR index out of range\r\n"
        );
        t!(
            ks,
            NOW,
            ["LSET", "l", "abc", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["LRANGE", "l", "0", "-1"], arr(&["a", "B", "C"]));
        t!(ks, NOW, ["SET", "s", "x"], "+OK\r\n");
        t!(ks, NOW, ["LINDEX", "s", "abc"], WT);
        t!(ks, NOW, ["LSET", "s", "abc", "x"], WT);
    }

    #[test]
    fn lrem() {
        let ks = &mut Keyspace::new(1);
        t!(
            ks,
            NOW,
            ["LREM", "nol", "x", "a"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["LREM", "nol", "0", "a"], ":0\r\n");
        t!(
            ks,
            NOW,
            ["RPUSH", "l", "a", "b", "a", "c", "a", "b"],
            ":6\r\n"
        );
        t!(ks, NOW, ["LREM", "l", "1", "a"], ":1\r\n");
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "0", "-1"],
            arr(&["b", "a", "c", "a", "b"])
        );
        t!(ks, NOW, ["LREM", "l", "-1", "b"], ":1\r\n");
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "0", "-1"],
            arr(&["b", "a", "c", "a"])
        );
        t!(ks, NOW, ["RPUSH", "l", "a", "d"], ":6\r\n");
        t!(ks, NOW, ["LREM", "l", "-2", "a"], ":2\r\n");
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "0", "-1"],
            arr(&["b", "a", "c", "d"])
        );
        t!(ks, NOW, ["LREM", "l", "0", "zz"], ":0\r\n");
        t!(ks, NOW, ["RPUSH", "l", "a", "a"], ":6\r\n");
        t!(ks, NOW, ["LREM", "l", "0", "a"], ":3\r\n");
        t!(
            ks,
            NOW,
            ["LREM", "l", "-9223372036854775808", "b"],
            ":1\r\n"
        );
        t!(ks, NOW, ["LREM", "l", "9223372036854775807", "c"], ":1\r\n");
        t!(ks, NOW, ["LREM", "l", "1", "d"], ":1\r\n");
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["SET", "s", "x"], "+OK\r\n");
        t!(ks, NOW, ["LREM", "s", "0", "x"], WT);
    }

    #[test]
    fn ltrim() {
        let ks = &mut Keyspace::new(1);
        t!(
            ks,
            NOW,
            ["LTRIM", "nol", "0", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, NOW, ["LTRIM", "nol", "0", "1"], "+OK\r\n");
        t!(ks, NOW, ["RPUSH", "l", "1", "2", "3", "4", "5"], ":5\r\n");
        t!(ks, NOW, ["LTRIM", "l", "1", "-2"], "+OK\r\n");
        t!(ks, NOW, ["LRANGE", "l", "0", "-1"], arr(&["2", "3", "4"]));
        t!(ks, NOW, ["LTRIM", "l", "-100", "100"], "+OK\r\n");
        t!(ks, NOW, ["LLEN", "l"], ":3\r\n");
        t!(ks, NOW, ["LTRIM", "l", "1", "1"], "+OK\r\n");
        t!(ks, NOW, ["LRANGE", "l", "0", "-1"], arr(&["3"]));
        t!(ks, NOW, ["LTRIM", "l", "1", "0"], "+OK\r\n");
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["RPUSH", "l", "a"], ":1\r\n");
        t!(
            ks,
            NOW,
            ["LTRIM", "l", "-9223372036854775808", "-9223372036854775808"],
            "+OK\r\n"
        );
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["SET", "s", "x"], "+OK\r\n");
        t!(ks, NOW, ["LTRIM", "s", "0", "1"], WT);
    }

    #[test]
    fn list_ttl_and_expiry() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["RPUSH", "l", "a", "b"], ":2\r\n");
        t!(ks, NOW, ["PEXPIRE", "l", "100"], ":1\r\n");
        t!(ks, NOW, ["RPUSH", "l", "c"], ":3\r\n");
        t!(ks, NOW, ["PTTL", "l"], ":100\r\n");
        t!(ks, NOW + 101, ["LLEN", "l"], ":0\r\n");
        t!(ks, NOW + 101, ["RPUSHX", "l", "c"], ":0\r\n");
    }

    #[test]
    fn internal_steps() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["__list-kind", "l"], ":0\r\n");
        t!(ks, NOW, ["__list-pop", "l", "left"], "$-1\r\n");
        t!(ks, NOW, ["__list-push", "l", "right", "a"], ":1\r\n");
        t!(ks, NOW, ["__list-push", "l", "LEFT", "b"], ":2\r\n");
        t!(ks, NOW, ["__list-kind", "l"], ":1\r\n");
        t!(ks, NOW, ["__list-pop", "l", "right"], "$1\r\na\r\n");
        t!(
            ks,
            NOW,
            ["__list-pop", "l", "middle"],
            "-ERR syntax error\r\n"
        );
        t!(ks, NOW, ["__list-pop", "l", "left"], "$1\r\nb\r\n");
        t!(ks, NOW, ["EXISTS", "l"], ":0\r\n");
        t!(ks, NOW, ["SET", "s", "v"], "+OK\r\n");
        t!(ks, NOW, ["__list-kind", "s"], ":2\r\n");
        t!(ks, NOW, ["__list-pop", "s", "left"], WT);
        t!(ks, NOW, ["__list-push", "s", "left", "x"], WT);
        t!(ks, NOW, ["RPUSH", "a", "1", "2", "3"], ":3\r\n");
        t!(ks, NOW, ["__list-mpop", "none", "right", "2"], "*-1\r\n");
        assert_eq!(
            run_proto(
                ks,
                NOW,
                &[b"__list-mpop", b"none", b"left", b"1"],
                Proto::Resp3
            ),
            "_\r\n"
        );
        t!(
            ks,
            NOW,
            ["__list-mpop", "none", "a", "s", "right", "2"],
            "*2\r\n$1\r\na\r\n".to_string() + &arr(&["3", "2"])
        );
        t!(ks, NOW, ["__list-mpop", "none", "s", "a", "left", "2"], WT);
        t!(
            ks,
            NOW,
            ["__list-mpop", "a", "left", "9223372036854775807"],
            "*2\r\n$1\r\na\r\n".to_string() + &arr(&["1"])
        );
        t!(ks, NOW, ["EXISTS", "a"], ":0\r\n");
        // The one-shard LMOVE: checks in Redis's order, rotation in place.
        t!(
            ks,
            NOW,
            ["__list-move", "none", "s", "left", "left"],
            "$-1\r\n"
        );
        t!(ks, NOW, ["__list-move", "s", "none", "left", "left"], WT);
        t!(ks, NOW, ["RPUSH", "a", "1", "2"], ":2\r\n");
        t!(ks, NOW, ["__list-move", "a", "s", "left", "left"], WT);
        t!(
            ks,
            NOW,
            ["__list-move", "a", "a", "left", "right"],
            "$1\r\n1\r\n"
        );
        t!(
            ks,
            NOW,
            ["__list-move", "a", "b", "left", "right"],
            "$1\r\n2\r\n"
        );
        t!(
            ks,
            NOW,
            ["__list-move", "a", "b", "left", "left"],
            "$1\r\n1\r\n"
        );
        t!(ks, NOW, ["EXISTS", "a"], ":0\r\n");
        t!(ks, NOW, ["LRANGE", "b", "0", "-1"], arr(&["1", "2"]));
    }

    #[test]
    fn linsert_and_lpos() {
        let ks = &mut Keyspace::new(1);
        t!(ks, NOW, ["RPUSH", "l", "a", "b", "a"], ":3\r\n");
        t!(ks, NOW, ["LINSERT", "l", "after\0x", "a", "c"], ":4\r\n");
        t!(ks, NOW, ["LINSERT", "l", "BEFORE", "a", "z"], ":5\r\n");
        t!(
            ks,
            NOW,
            ["LRANGE", "l", "0", "-1"],
            arr(&["z", "a", "c", "b", "a"])
        );
        t!(ks, NOW, ["LPOS", "l", "a", "RANK", "-1"], ":4\r\n");
        t!(
            ks,
            NOW,
            ["LPOS", "l", "a", "COUNT", "0"],
            "*2\r\n:1\r\n:4\r\n"
        );
        assert_eq!(
            run_proto(ks, NOW, &[b"LPOS", b"l", b"q"], Proto::Resp3),
            "_\r\n"
        );
        t!(
            ks,
            NOW,
            [
                "LPOS",
                "l",
                "a",
                "RANK",
                "-9223372036854775808",
                "COUNT",
                "1"
            ],
            "*2\r\n:4\r\n:1\r\n"
        );
        t!(
            ks,
            NOW,
            [
                "LPOS",
                "l",
                "a",
                "MAXLEN",
                "9223372036854775807",
                "COUNT",
                "9223372036854775807"
            ],
            "*2\r\n:1\r\n:4\r\n"
        );
    }

    /// Runs the cross-shard move steps against one keyspace; `before(ks, args)` runs ahead of each
    /// step, so a test can change keys between steps as another client could.
    fn across(
        ks: &RefCell<Keyspace>,
        src: &str,
        dst: &str,
        before: impl Fn(&mut Keyspace, &[Vec<u8>]),
    ) -> String {
        let call = |_owner: usize, b: CmdBatch| {
            let args = b.get(0).to_vec();
            let mut k = ks.borrow_mut();
            before(&mut k, &args);
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            let reply = run(&mut k, NOW, &refs).into_bytes();
            async move { reply }
        };
        let src = Side {
            key: src.as_bytes(),
            owner: 0,
            end: End::Head,
        };
        let dst = Side {
            key: dst.as_bytes(),
            owner: 1,
            end: End::Tail,
        };
        let mut out = Reply::new(Proto::Resp2);
        futures_lite::future::block_on(move_across(call, &mut out, src, dst));
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn move_across_steps_and_races() {
        let ks = RefCell::new(Keyspace::new(1));
        let x = |args: &[&str]| {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            run(&mut ks.borrow_mut(), NOW, &args)
        };
        let nothing = |_: &mut Keyspace, _: &[Vec<u8>]| {};
        assert_eq!(across(&ks, "src", "dst", nothing), "$-1\r\n");
        x(&["RPUSH", "src", "a", "b"]);
        assert_eq!(across(&ks, "src", "dst", nothing), "$1\r\na\r\n");
        assert_eq!(x(&["LRANGE", "dst", "0", "-1"]), arr(&["a"]));
        x(&["SET", "str", "v"]);
        assert_eq!(across(&ks, "src", "str", nothing), WT);
        assert_eq!(across(&ks, "str", "dst", nothing), WT);
        assert_eq!(across(&ks, "none", "str", nothing), "$-1\r\n");
        assert_eq!(x(&["LRANGE", "src", "0", "-1"]), arr(&["b"]));
        // The destination turns into a string between the check and the push: the element goes
        // back to the head it came from (the emptied source is recreated) and WRONGTYPE is replied.
        let spoil = |keys: &'static [&'static str]| {
            move |k: &mut Keyspace, args: &[Vec<u8>]| {
                if args[0] == PUSH.as_bytes() && args[1] == b"dst" {
                    for key in keys {
                        k.set(
                            0,
                            key.as_bytes(),
                            Value::string(b"spoiled"),
                            Ttl::Clear,
                            NOW,
                        );
                    }
                }
            }
        };
        assert_eq!(across(&ks, "src", "dst", spoil(&["dst"])), WT);
        assert_eq!(x(&["LRANGE", "src", "0", "-1"]), arr(&["b"]));
        assert_eq!(x(&["GET", "dst"]), "$7\r\nspoiled\r\n");
        // Both keys spoiled: the element cannot go anywhere, so the client gets it.
        x(&["DEL", "dst"]);
        assert_eq!(
            across(&ks, "src", "dst", spoil(&["dst", "src"])),
            "$1\r\nb\r\n"
        );
        assert_eq!(x(&["GET", "src"]), "$7\r\nspoiled\r\n");
    }
}

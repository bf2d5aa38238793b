//! Set commands: unordered collections of unique binary-safe members.
//!
//! Behaviour follows Redis 7.0's `t_set.c`, including the order of checks (SPOP and SRANDMEMBER
//! parse their count before the lookup; SSCAN parses its cursor first but its options only once
//! the key is known to be a set; SINTERCARD validates `numkeys` and `LIMIT` before any key is
//! looked at). A set emptied by a command is deleted, and a failed write never leaves an empty
//! set behind.
//!
//! A set is an `IndexSet` in insertion order. Small sets (≤ 128 members, the bound hashes use too)
//! keep that order across deletes; for larger ones the order is unspecified anyway (Redis's is a
//! hash table's), so deletes use the O(1) `swap_remove`.
//!
//! Commands over several keys (SINTER, SUNION, SDIFF, SINTERCARD, the *STORE variants, SMOVE)
//! run on the connection's core (`Handler::Async`): when every key is owned by one shard they run
//! there in one step, atomically, through an internal shard command; otherwise each owner computes
//! the partial result of its own keys, the connection combines them, and a *STORE writes the
//! destination on its owner with a final step.

use super::keys::string_match;
use super::string::opt_is;
use super::{
    err, flags, parse_i64, AsyncFn, CommandSpec, Handler, Route, Session, ShardCtx, ShardFn,
};
use super::{parse_cursor, parse_scan_options, sample_distinct, scan_positions};
use crate::keyspace::{Set, SmallBytes, Ttl, Value};
use crate::notify;
use crate::resp::{Argv, CmdBatch, Proto, Reply};
use crate::shard::{shard_of, Core};
use crate::tx::join_all;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const ERR_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const ERR_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const ERR_OUT_OF_RANGE: &str = "ERR value is out of range";
const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";
const ERR_NUMKEYS: &str = "ERR numkeys should be greater than 0";
const ERR_NUMKEYS_ARGS: &str = "ERR Number of keys can't be greater than number of args";
const ERR_LIMIT: &str = "ERR LIMIT can't be negative";
const ERR_BAD_PART: &str = "ERR internal: unexpected reply from a shard";

/// Up to this many members a set behaves like Redis's compact encodings (an intset): order kept on
/// delete and SSCAN returns everything at once.
const SMALL_SET: usize = 128;

/// Our own bound on the items of one SRANDMEMBER reply with a negative count. Redis has none and
/// would build a reply of any size (until memory runs out); we answer `ERR value is out of range`
/// past this instead, since a reply is buffered whole before it is written (as HRANDFIELD does).
const MAX_RANDOM_ITEMS: u64 = 1 << 24;

// Internal shard-side steps of the multi-key commands. Clients get "unknown command" for them
// (`flags::INTERNAL`); the `__` prefix and the dash keep them clear of any real command name.
/// `__sset-inter key…`: SINTER of keys this shard owns (a set reply).
const INTER: &str = "__sset-inter";
/// `__sset-union key…`: SUNION of keys this shard owns.
const UNION: &str = "__sset-union";
/// `__sset-diff key…`: SDIFF of keys this shard owns.
const DIFF: &str = "__sset-diff";
/// `__sset-intercard limit key…`: SINTERCARD with already validated arguments.
const INTERCARD: &str = "__sset-intercard";
/// `__sset-store inter|union|diff dest key…`: a whole *STORE when this shard owns every key.
const STORE: &str = "__sset-store";
/// `__sset-replace dest member…`: replaces `dest` with these members (deletes it when none).
const REPLACE: &str = "__sset-replace";
/// `__sset-smove src dst member`: SMOVE when this shard owns both keys.
const SMOVE: &str = "__sset-smove";
/// `__sset-kind key`: 0 missing, 1 a set, 2 another type.
const KIND: &str = "__sset-kind";

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let key = CommandSpec::single_key;
    t.push(key("sadd", -3, WRITE | DENYOOM | FAST, sadd));
    t.push(key("srem", -3, WRITE | FAST, srem));
    t.push(key("smembers", 2, READONLY, smembers));
    t.push(key("sismember", 3, READONLY | FAST, sismember));
    t.push(key("smismember", -3, READONLY | FAST, smismember));
    t.push(key("scard", 2, READONLY | FAST, scard));
    t.push(key("spop", -2, WRITE | FAST, spop));
    t.push(key("srandmember", -2, READONLY, srandmember));
    t.push(key("sscan", -3, READONLY, sscan));

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
    t.push(multi("smove", 4, WRITE | FAST, (1, 2, 1), smove));
    t.push(multi("sinter", -2, READONLY, (1, -1, 1), sinter));
    t.push(multi("sunion", -2, READONLY, (1, -1, 1), sunion));
    t.push(multi("sdiff", -2, READONLY, (1, -1, 1), sdiff));
    // Keys found through numkeys ("movablekeys"): Redis reports 0, 0, 0.
    t.push(multi("sintercard", -3, READONLY, (0, 0, 0), sintercard));
    t.push(multi(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        sinterstore,
    ));
    t.push(multi(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        sunionstore,
    ));
    t.push(multi(
        "sdiffstore",
        -3,
        WRITE | DENYOOM,
        (1, -1, 1),
        sdiffstore,
    ));

    let internal = |name: &'static str, arity: i32, flags: u32, f: ShardFn| {
        CommandSpec::single_key(name, arity, flags | INTERNAL, f)
    };
    t.push(internal(INTER, -2, READONLY, inter_part));
    t.push(internal(UNION, -2, READONLY, union_part));
    t.push(internal(DIFF, -2, READONLY, diff_part));
    t.push(internal(INTERCARD, -3, READONLY, intercard_part));
    t.push(internal(STORE, -4, WRITE | DENYOOM, store_part));
    t.push(internal(REPLACE, -3, WRITE | DENYOOM, replace_part));
    t.push(internal(SMOVE, 4, WRITE | FAST, smove_part));
    t.push(internal(KIND, 2, READONLY | FAST, kind_part));
}

// ---------------------------------------------------------------------------------------------
// Single-key commands
// ---------------------------------------------------------------------------------------------

/// The key holds another type.
struct WrongType;

fn new_set(capacity: usize) -> Set {
    Set::with_capacity_and_hasher(capacity, ahash::RandomState::new())
}

/// The set at `key` for reading: `Ok(None)` when missing. An empty set (never stored, but never
/// trusted either: random picks would divide by zero) reads as missing.
fn read<'c>(ctx: &'c mut ShardCtx<'_>, key: &[u8]) -> Result<Option<&'c Set>, WrongType> {
    match ctx.ks.lookup_read(ctx.db, key, ctx.now_ms) {
        None => Ok(None),
        Some(v) => match v.as_set() {
            Some(s) => Ok((!s.is_empty()).then_some(s)),
            None => Err(WrongType),
        },
    }
}

/// Removes `member`: order-keeping in small sets, O(1) in large ones.
fn remove_member(s: &mut Set, member: &[u8]) -> bool {
    if s.len() <= SMALL_SET {
        s.shift_remove(member)
    } else {
        s.swap_remove(member)
    }
}

/// Removes the member at position `i`, with the same rule as [`remove_member`].
fn remove_index(s: &mut Set, i: usize) -> Option<SmallBytes> {
    if s.len() <= SMALL_SET {
        s.shift_remove_index(i)
    } else {
        s.swap_remove_index(i)
    }
}

/// Inserts `member` unless present (no allocation for a member already there); true if added.
fn add_member(s: &mut Set, member: &[u8]) -> bool {
    !s.contains(member) && s.insert(SmallBytes::new(member))
}

/// How many changes a reply reports, counted as Redis counts them for the set commands: the
/// integer of SADD/SREM/SMOVE, the members SPOP popped, one for a *STORE (whatever its size).
fn changes_in(reply: &[u8], store: bool) -> u64 {
    match reply.first() {
        None | Some(b'-') => 0,
        _ if store => 1,
        Some(b':') => int_reply(reply).map_or(0, |n| n.max(0) as u64),
        Some(b'$') => u64::from(!reply.starts_with(b"$-1")),
        Some(b'*' | b'~') => reply[1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u64, |n, c| n * 10 + u64::from(c - b'0')),
        _ => 0,
    }
}

/// Runs a writing handler and adds the changes its reply reports to the shard's counter.
fn counted(
    ctx: &mut ShardCtx<'_>,
    out: &mut Reply,
    store: bool,
    f: impl FnOnce(&mut ShardCtx<'_>, &mut Reply),
) {
    let mark = out.buf.len();
    f(ctx, out);
    let n = changes_in(&out.buf[mark..], store);
    ctx.ks.add_dirty(n);
}

fn sadd(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counted(ctx, out, false, |ctx, out| sadd_inner(ctx, argv, out))
}

fn srem(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counted(ctx, out, false, |ctx, out| srem_inner(ctx, argv, out))
}

fn spop(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counted(ctx, out, false, |ctx, out| spop_inner(ctx, argv, out))
}

fn smove_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counted(ctx, out, false, |ctx, out| smove_part_inner(ctx, argv, out))
}

fn store_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counted(ctx, out, true, |ctx, out| store_part_inner(ctx, argv, out))
}

fn replace_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    counted(ctx, out, true, |ctx, out| {
        replace_part_inner(ctx, argv, out)
    })
}

fn sadd_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let add = |s: &mut Set| argv.tail(2).filter(|m| add_member(s, m)).count() as i64;
    let added = match ctx.ks.lookup_write(db, key, now) {
        Some(slot) => match slot.as_set_mut() {
            Some(s) => add(s),
            None => return out.error(err::WRONGTYPE),
        },
        None => {
            let mut s = new_set(argv.len() - 2);
            let n = add(&mut s);
            ctx.ks.set(db, key, Value::set(s), Ttl::Clear, now);
            n
        }
    };
    if added > 0 {
        ctx.notify(notify::SET, "sadd", key);
    }
    out.int(added);
}

fn srem_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(slot) = ctx.ks.lookup_write(db, key, now) else {
        return out.int(0);
    };
    let Some(s) = slot.as_set_mut() else {
        return out.error(err::WRONGTYPE);
    };
    let mut removed = 0i64;
    for m in argv.tail(2) {
        if remove_member(s, m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let empty = s.is_empty();
    if removed > 0 {
        ctx.notify(notify::SET, "srem", key);
        if empty {
            ctx.ks.remove(db, key, now);
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    out.int(removed);
}

/// Replies members as a set (RESP3 `~`, RESP2 array), as SMEMBERS/SINTER/SUNION/SDIFF do.
fn reply_members<'m>(out: &mut Reply, len: usize, members: impl Iterator<Item = &'m [u8]>) {
    out.set(len);
    for m in members {
        out.bulk(m);
    }
}

fn smembers(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(None) => out.set(0),
        Ok(Some(s)) => reply_members(out, s.len(), s.iter().map(|m| m.as_slice())),
    }
}

fn sismember(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(s) => out.int(i64::from(s.is_some_and(|s| s.contains(argv.get(2))))),
    }
}

/// SMISMEMBER: a missing key is an empty set (all zeros), not an empty reply.
fn smismember(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let s = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(s) => s,
    };
    out.array(argv.len() - 2);
    for m in argv.tail(2) {
        out.int(i64::from(s.is_some_and(|s| s.contains(m))));
    }
}

fn scard(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(s) => out.int(s.map_or(0, |s| s.len()) as i64),
    }
}

/// SPOP key [count]. Without count: one random member as a bulk (nil if missing). With count: a
/// set of distinct members (empty set if missing), the whole set (and the key deleted) when the
/// count reaches its size.
fn spop_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if argv.len() > 3 {
        return out.error(err::SYNTAX);
    }
    let count = if argv.len() == 3 {
        match parse_i64(argv.get(2)) {
            Some(c) if c >= 0 => Some(c.unsigned_abs()),
            _ => return out.error(ERR_NOT_POSITIVE),
        }
    } else {
        None
    };
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(slot) = ctx.ks.lookup_write(db, key, now) else {
        return match count {
            Some(_) => out.set(0),
            None => out.null(),
        };
    };
    let Some(s) = slot.as_set_mut() else {
        return out.error(err::WRONGTYPE);
    };
    let mut rng = fastrand::Rng::new();
    let len = s.len();
    if len > 0 && count != Some(0) {
        // Redis announces the pop before the members go (and "del" after, when emptied).
        notify::emit(notify::SET, "spop", db, key);
    }
    let emptied = match count {
        None if len == 0 => {
            out.null();
            true
        }
        None => {
            match remove_index(s, rng.usize(..len)) {
                Some(m) => out.bulk(&m),
                None => out.null(),
            }
            s.is_empty()
        }
        Some(0) => {
            out.set(0);
            false
        }
        // The whole set: reply it as it stands and drop the key.
        Some(c) if c >= len as u64 => {
            reply_members(out, len, s.iter().map(|m| m.as_slice()));
            true
        }
        // Fewer than the size: never empties the set.
        Some(c) => {
            out.set(c as usize);
            for _ in 0..c {
                if let Some(m) = remove_index(s, rng.usize(..s.len())) {
                    out.bulk(&m);
                }
            }
            false
        }
    };
    if emptied {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// The member at position `i` (empty if out of range, which callers never ask for).
fn pick(s: &Set, i: usize) -> &[u8] {
    s.get_index(i).map_or(&b""[..], |m| m.as_slice())
}

/// SRANDMEMBER key [count]: a positive count gives distinct members (at most the set's size), a
/// negative one exactly |count| members that may repeat. With a count the reply is an array (not
/// a set, even in RESP3: it may repeat), as Redis 7.0.
fn srandmember(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if argv.len() > 3 {
        return out.error(err::SYNTAX);
    }
    let count = if argv.len() == 3 {
        match parse_i64(argv.get(2)) {
            None => return out.error(err::NOT_INTEGER),
            Some(i64::MIN) => return out.error(ERR_COUNT_RANGE),
            Some(c) => Some(c),
        }
    } else {
        None
    };
    let s = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(s) => s,
    };
    let mut rng = fastrand::Rng::new();
    let Some(count) = count else {
        return match s {
            Some(s) => out.bulk(pick(s, rng.usize(..s.len()))),
            None => out.null(),
        };
    };
    let Some(s) = s.filter(|_| count != 0) else {
        return out.array(0);
    };
    let len = s.len();
    if count < 0 || count == 1 {
        let n = count.unsigned_abs();
        if n > MAX_RANDOM_ITEMS {
            return out.error(ERR_OUT_OF_RANGE);
        }
        out.array(n as usize);
        for _ in 0..n {
            out.bulk(pick(s, rng.usize(..len)));
        }
        return;
    }
    let n = usize::try_from(count).unwrap_or(usize::MAX);
    if n >= len {
        out.array(len);
        for m in s {
            out.bulk(m);
        }
        return;
    }
    out.array(n);
    for i in sample_distinct(len, n, &mut rng) {
        out.bulk(pick(s, i));
    }
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]: members, the cursor as a bulk string.
fn sscan(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(cursor) = parse_cursor(argv.get(2)) else {
        return out.error(ERR_INVALID_CURSOR);
    };
    let s = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return;
        }
        Ok(Some(s)) => s,
    };
    let (count, pattern) = match parse_scan_options(argv, 3) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let (range, next) = scan_positions(s.len(), cursor, count, SMALL_SET);
    let keep = |m: &&SmallBytes| pattern.is_none_or(|p| string_match(p, m, false));
    // Small sets go in order; larger ones downwards, as the cursor walks.
    let picked: Vec<&SmallBytes> = if s.len() <= SMALL_SET {
        range.filter_map(|i| s.get_index(i)).filter(keep).collect()
    } else {
        range
            .rev()
            .filter_map(|i| s.get_index(i))
            .filter(keep)
            .collect()
    };
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(picked.len());
    for m in picked {
        out.bulk(m);
    }
}

// ---------------------------------------------------------------------------------------------
// Set algebra on one shard (the internal steps)
// ---------------------------------------------------------------------------------------------

/// A set operation over several keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Inter => "inter",
            Op::Union => "union",
            Op::Diff => "diff",
        }
    }

    fn parse(s: &[u8]) -> Option<Op> {
        [Op::Inter, Op::Union, Op::Diff]
            .into_iter()
            .find(|op| op.name().as_bytes() == s)
    }

    /// The keyspace event of the STORE form.
    fn store_event(self) -> &'static str {
        match self {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        }
    }

    /// The internal command computing this operation over one shard's keys.
    fn part_cmd(self) -> &'static str {
        match self {
            Op::Inter => INTER,
            Op::Union => UNION,
            Op::Diff => DIFF,
        }
    }
}

/// Computes `op` over `keys`, all owned by this shard. WRONGTYPE if any key holds another type,
/// even after a missing key (Redis looks every key up before computing).
///
/// Sets are read one at a time (the keyspace lends one value at a time), so the intersection
/// starts from a copy of the smallest set and filters it through the others: O(smallest × keys),
/// like Redis. That takes a first pass for the sizes, so SINTER counts two keyspace hits per key.
fn compute(ctx: &mut ShardCtx<'_>, op: Op, keys: &[&[u8]]) -> Result<Set, WrongType> {
    match op {
        Op::Inter => {
            let mut sizes = Vec::with_capacity(keys.len());
            let mut missing = false;
            for (i, k) in keys.iter().enumerate() {
                match read(ctx, k)? {
                    None => missing = true,
                    Some(s) => sizes.push((s.len(), i)),
                }
            }
            if missing || sizes.is_empty() {
                return Ok(new_set(0));
            }
            sizes.sort_unstable();
            let smallest = keys[sizes[0].1];
            let Some(mut acc) = read(ctx, smallest)?.cloned() else {
                return Ok(new_set(0));
            };
            for &(_, i) in &sizes[1..] {
                if acc.is_empty() {
                    break;
                }
                if keys[i] == smallest {
                    continue;
                }
                match read(ctx, keys[i])? {
                    Some(s) => acc.retain(|m| s.contains(m.as_slice())),
                    None => acc.clear(),
                }
            }
            Ok(acc)
        }
        Op::Union => {
            let mut acc: Option<Set> = None;
            for k in keys {
                let Some(s) = read(ctx, k)? else { continue };
                match &mut acc {
                    None => acc = Some(s.clone()),
                    Some(a) => {
                        for m in s {
                            add_member(a, m);
                        }
                    }
                }
            }
            Ok(acc.unwrap_or_else(|| new_set(0)))
        }
        Op::Diff => {
            let Some((first, rest)) = keys.split_first() else {
                return Ok(new_set(0));
            };
            let mut acc = read(ctx, first)?.cloned().unwrap_or_else(|| new_set(0));
            for k in rest {
                let Some(s) = read(ctx, k)? else { continue };
                if s.len() < acc.len() {
                    for m in s {
                        acc.swap_remove(m.as_slice());
                    }
                } else {
                    acc.retain(|m| !s.contains(m.as_slice()));
                }
            }
            Ok(acc)
        }
    }
}

fn op_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, op: Op) {
    let keys: Vec<&[u8]> = argv.tail(1).collect();
    match compute(ctx, op, &keys) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(s) => reply_members(out, s.len(), s.iter().map(|m| m.as_slice())),
    }
}

fn inter_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    op_part(ctx, argv, out, Op::Inter)
}

fn union_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    op_part(ctx, argv, out, Op::Union)
}

fn diff_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    op_part(ctx, argv, out, Op::Diff)
}

/// The cardinality SINTERCARD replies: `limit` 0 means no limit.
fn capped(len: usize, limit: u64) -> i64 {
    let len = len as u64;
    let n = if limit > 0 { len.min(limit) } else { len };
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn intercard_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let limit = parse_i64(argv.get(1)).unwrap_or(0).max(0).unsigned_abs();
    let keys: Vec<&[u8]> = argv.tail(2).collect();
    match compute(ctx, Op::Inter, &keys) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(s) => out.int(capped(s.len(), limit)),
    }
}

/// Stores `s` at `dest` whatever it held (its TTL cleared), or deletes `dest` when `s` is empty;
/// replies the size, as the *STORE commands do.
fn store_set(ctx: &mut ShardCtx<'_>, op: Op, dest: &[u8], s: Set, out: &mut Reply) {
    let n = s.len();
    if n == 0 {
        if ctx.ks.remove(ctx.db, dest, ctx.now_ms).is_some() {
            ctx.notify(notify::GENERIC, "del", dest);
        }
    } else {
        ctx.ks
            .set(ctx.db, dest, Value::set(s), Ttl::Clear, ctx.now_ms);
        ctx.notify(notify::SET, op.store_event(), dest);
    }
    out.int(n as i64);
}

fn store_part_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(op) = Op::parse(argv.get(1)) else {
        return out.error(err::SYNTAX);
    };
    let keys: Vec<&[u8]> = argv.tail(3).collect();
    match compute(ctx, op, &keys) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(s) => store_set(ctx, op, argv.get(2), s, out),
    }
}

/// `__sset-replace op dest member…`: a *STORE computed across shards, stored.
fn replace_part_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(op) = Op::parse(argv.get(1)) else {
        return out.error(err::SYNTAX);
    };
    let mut s = new_set(argv.len().saturating_sub(3));
    for m in argv.tail(3) {
        add_member(&mut s, m);
    }
    store_set(ctx, op, argv.get(2), s, out);
}

/// SMOVE with both keys on this shard: Redis's checks in Redis's order (a missing source is 0
/// even when the destination has the wrong type).
fn smove_part_inner(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (src, dst, member, db, now) = (argv.get(1), argv.get(2), argv.get(3), ctx.db, ctx.now_ms);
    match ctx.ks.lookup_write(db, src, now) {
        None => return out.int(0),
        Some(v) if v.as_set().is_none() => return out.error(err::WRONGTYPE),
        Some(_) => {}
    }
    // The destination is only read here: it counts as modified (WATCH) only if the member is
    // added to it below, as Redis signals it.
    let dst_not_set =
        ctx.ks.contains(db, dst, now) && ctx.ks.peek(db, dst).is_some_and(|v| v.as_set().is_none());
    if dst_not_set {
        return out.error(err::WRONGTYPE);
    }
    let Some(s) = ctx
        .ks
        .lookup_write(db, src, now)
        .and_then(|v| v.as_set_mut())
    else {
        return out.int(0);
    };
    if src == dst {
        return out.int(i64::from(s.contains(member)));
    }
    if !remove_member(s, member) {
        return out.int(0);
    }
    let empty = s.is_empty();
    ctx.notify(notify::SET, "srem", src);
    if empty {
        ctx.ks.remove(db, src, now);
        ctx.notify(notify::GENERIC, "del", src);
    }
    let in_dst = ctx
        .ks
        .peek(db, dst)
        .and_then(|v| v.as_set())
        .is_some_and(|d| d.contains(member));
    if in_dst {
        return out.int(1);
    }
    match ctx
        .ks
        .lookup_write(db, dst, now)
        .and_then(|v| v.as_set_mut())
    {
        Some(d) => {
            add_member(d, member);
        }
        None => {
            let mut d = new_set(1);
            add_member(&mut d, member);
            ctx.ks.set(db, dst, Value::set(d), Ttl::Clear, now);
        }
    }
    ctx.notify(notify::SET, "sadd", dst);
    out.int(1);
}

fn kind_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    out.int(match read(ctx, argv.get(1)) {
        Ok(None) => 0,
        Ok(Some(_)) => 1,
        Err(WrongType) => 2,
    });
}

// ---------------------------------------------------------------------------------------------
// Multi-key commands (run on the connection's core)
// ---------------------------------------------------------------------------------------------

type AsyncOut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// What a set-algebra command does with its result.
#[derive(Clone, Copy)]
enum Want<'a> {
    /// Reply the members (SINTER, SUNION, SDIFF).
    Members,
    /// Reply the size, capped by a limit when non-zero (SINTERCARD).
    Card(u64),
    /// Store at this key and reply the size (*STORE).
    Store(&'a [u8]),
}

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

async_cmd!(sinter => algebra(Op::Inter, false));
async_cmd!(sunion => algebra(Op::Union, false));
async_cmd!(sdiff => algebra(Op::Diff, false));
async_cmd!(sinterstore => algebra(Op::Inter, true));
async_cmd!(sunionstore => algebra(Op::Union, true));
async_cmd!(sdiffstore => algebra(Op::Diff, true));
async_cmd!(sintercard => sintercard_async());
async_cmd!(smove => smove_async());

/// SINTER/SUNION/SDIFF (`store` false: keys from argv[1]) and their *STORE forms (destination at
/// argv[1], keys from argv[2]).
async fn algebra(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply, op: Op, store: bool) {
    let (want, first) = if store {
        (Want::Store(argv.get(1)), 2)
    } else {
        (Want::Members, 1)
    };
    let keys: Vec<&[u8]> = argv.tail(first).collect();
    run_algebra(core, db, out, op, &keys, want).await
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]: arguments checked before any key is read.
async fn sintercard_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let numkeys = match parse_i64(argv.get(1)) {
        Some(n) if n >= 1 => n.unsigned_abs(),
        _ => return out.error(ERR_NUMKEYS),
    };
    if numkeys > (argv.len() - 2) as u64 {
        return out.error(ERR_NUMKEYS_ARGS);
    }
    let numkeys = numkeys as usize;
    let mut limit = 0u64;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if opt_is(argv.get(j), "limit") && j + 1 < argv.len() {
            match parse_i64(argv.get(j + 1)) {
                Some(l) if l >= 0 => limit = l.unsigned_abs(),
                _ => return out.error(ERR_LIMIT),
            }
            j += 2;
        } else {
            return out.error(err::SYNTAX);
        }
    }
    let keys: Vec<&[u8]> = argv.tail(2).take(numkeys).collect();
    run_algebra(core, db, out, Op::Inter, &keys, Want::Card(limit)).await
}

/// Runs a set-algebra command: in one atomic step when one shard owns every key (the
/// destination included), otherwise by combining each owner's partial result.
async fn run_algebra(
    core: &Rc<Core>,
    db: usize,
    out: &mut Reply,
    op: Op,
    keys: &[&[u8]],
    want: Want<'_>,
) {
    let n = core.nshards;
    let owner = shard_of(keys[0], n);
    let one_owner = keys.iter().all(|k| shard_of(k, n) == owner)
        && match want {
            Want::Store(dest) => shard_of(dest, n) == owner,
            _ => true,
        };
    if !one_owner {
        return gathered(core, db, out, op, keys, want).await;
    }
    let mut b = CmdBatch::new();
    match want {
        Want::Members => b.push_arg(op.part_cmd().as_bytes()),
        Want::Card(limit) => {
            b.push_arg(INTERCARD.as_bytes());
            b.push_arg(itoa::Buffer::new().format(limit).as_bytes());
        }
        Want::Store(dest) => {
            b.push_arg(STORE.as_bytes());
            b.push_arg(op.name().as_bytes());
            b.push_arg(dest);
        }
    }
    for k in keys {
        b.push_arg(k);
    }
    b.finish_cmd();
    let reply = core.call(owner, db, out.proto, &b).await;
    out.raw(&reply);
}

/// The members of a RESP2 array of bulk strings (what the partial steps reply), borrowed from it.
fn parse_members(buf: &[u8]) -> Option<Vec<&[u8]>> {
    fn line(buf: &[u8], at: usize, tag: u8) -> Option<(usize, usize)> {
        if buf.get(at) != Some(&tag) {
            return None;
        }
        let end = at + 1 + buf.get(at + 1..)?.iter().position(|&b| b == b'\r')?;
        let n = std::str::from_utf8(&buf[at + 1..end]).ok()?.parse().ok()?;
        Some((n, end + 2))
    }
    let (n, mut at) = line(buf, 0, b'*')?;
    // Every element takes at least 6 bytes: never trust the count for capacity.
    let mut members = Vec::with_capacity(n.min(buf.len() / 6));
    for _ in 0..n {
        let (len, start) = line(buf, at, b'$')?;
        members.push(buf.get(start..start.checked_add(len)?)?);
        at = start + len + 2;
    }
    (at == buf.len()).then_some(members)
}

/// Replies a shard's error reply as is, or an internal error if it was not one.
fn reply_failure(out: &mut Reply, reply: &[u8]) {
    if reply.first() == Some(&b'-') && reply.ends_with(b"\r\n") {
        out.raw(reply);
    } else {
        out.error(ERR_BAD_PART);
    }
}

/// Keys grouped by owner, in order of first appearance (so the first group holds `keys[0]`).
fn group_by_owner<'k>(keys: &[&'k [u8]], nshards: usize) -> Vec<(usize, Vec<&'k [u8]>)> {
    let mut groups: Vec<(usize, Vec<&[u8]>)> = Vec::new();
    for &k in keys {
        let owner = shard_of(k, nshards);
        match groups.iter_mut().find(|(o, _)| *o == owner) {
            Some((_, g)) => g.push(k),
            None => groups.push((owner, vec![k])),
        }
    }
    groups
}

/// Combines per-owner partial results. For `Diff`, `parts[0]` is the first key's owner's
/// difference and the rest are unions of the other owners' keys:
/// A − (B ∪ C ∪ …) = (A − local others) − (remote unions).
fn combine<'r>(op: Op, parts: &[Vec<&'r [u8]>]) -> Vec<&'r [u8]> {
    type Members<'r> = indexmap::IndexSet<&'r [u8], ahash::RandomState>;
    let collect = |ps: &[Vec<&'r [u8]>]| -> Members<'r> { ps.iter().flatten().copied().collect() };
    match op {
        Op::Union => collect(parts).into_iter().collect(),
        Op::Diff => match parts.split_first() {
            None => Vec::new(),
            Some((base, rest)) => {
                let minus = collect(rest);
                base.iter()
                    .copied()
                    .filter(|m| !minus.contains(m))
                    .collect()
            }
        },
        Op::Inter => {
            let Some(small) = (0..parts.len()).min_by_key(|&i| parts[i].len()) else {
                return Vec::new();
            };
            if parts[small].is_empty() {
                return Vec::new();
            }
            let others: Vec<Members<'r>> = (0..parts.len())
                .filter(|&i| i != small)
                .map(|i| collect(&parts[i..i + 1]))
                .collect();
            parts[small]
                .iter()
                .copied()
                .filter(|m| others.iter().all(|o| o.contains(m)))
                .collect()
        }
    }
}

/// The cross-shard path: each owner computes its keys' part (all concurrently), this core combines
/// them, and a *STORE then replaces the destination on its owner.
async fn gathered(
    core: &Rc<Core>,
    db: usize,
    out: &mut Reply,
    op: Op,
    keys: &[&[u8]],
    want: Want<'_>,
) {
    let groups = group_by_owner(keys, core.nshards);
    let batches: Vec<(usize, CmdBatch)> = groups
        .iter()
        .enumerate()
        .map(|(i, (owner, ks))| {
            let cmd = match op {
                Op::Diff if i > 0 => UNION,
                op => op.part_cmd(),
            };
            let b = CmdBatch::from_args(std::iter::once(cmd.as_bytes()).chain(ks.iter().copied()));
            (*owner, b)
        })
        .collect();
    let replies = join_all(
        batches
            .iter()
            .map(|(owner, b)| core.call(*owner, db, Proto::Resp2, b))
            .collect(),
    )
    .await;
    if let Some(bad) = replies.iter().find(|r| parse_members(r).is_none()) {
        return reply_failure(out, bad);
    }
    let parts: Vec<Vec<&[u8]>> = replies.iter().filter_map(|r| parse_members(r)).collect();
    let result = combine(op, &parts);
    match want {
        Want::Members => reply_members(out, result.len(), result.iter().copied()),
        Want::Card(limit) => out.int(capped(result.len(), limit)),
        Want::Store(dest) => {
            let b = CmdBatch::from_args(
                [REPLACE.as_bytes(), op.name().as_bytes(), dest]
                    .into_iter()
                    .chain(result.iter().copied()),
            );
            let reply = core
                .call(shard_of(dest, core.nshards), db, out.proto, &b)
                .await;
            out.raw(&reply);
        }
    }
}

/// The value of an integer reply.
fn int_reply(reply: &[u8]) -> Option<i64> {
    let body = reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    parse_i64(body)
}

/// SMOVE source destination member.
///
/// Across shards it takes steps, each atomic on its owner: check the destination's type, SREM on
/// the source's owner, and SADD on the destination's owner only if the SREM removed the member,
/// so the member moves exactly once. Should the destination become another type between the check
/// and the SADD (another client), the member is put back and WRONGTYPE replied.
async fn smove_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let (src, dst, member) = (argv.get(1), argv.get(2), argv.get(3));
    let (n, proto) = (core.nshards, out.proto);
    let (src_owner, dst_owner) = (shard_of(src, n), shard_of(dst, n));
    let call = |owner: usize, cmd: &str, key: &[u8]| {
        let b = CmdBatch::from_args([cmd.as_bytes(), key, member]);
        async move { core.call(owner, db, proto, &b).await }
    };
    if src_owner == dst_owner {
        let b = CmdBatch::from_args([SMOVE.as_bytes(), src, dst, member]);
        let reply = core.call(src_owner, db, proto, &b).await;
        return out.raw(&reply);
    }
    let kind = |owner: usize, key: &[u8]| {
        let b = CmdBatch::from_args([KIND.as_bytes(), key]);
        async move { core.call(owner, db, proto, &b).await }
    };
    let dst_kind = kind(dst_owner, dst).await;
    match int_reply(&dst_kind) {
        None => return reply_failure(out, &dst_kind),
        Some(2) => {
            // Redis answers 0 for a missing source before it looks at the destination's type.
            let src_kind = kind(src_owner, src).await;
            return match int_reply(&src_kind) {
                None => reply_failure(out, &src_kind),
                Some(0) => out.int(0),
                Some(_) => out.error(err::WRONGTYPE),
            };
        }
        Some(_) => {}
    }
    let removed = call(src_owner, "srem", src).await;
    match int_reply(&removed) {
        None => return reply_failure(out, &removed),
        Some(1) => {}
        Some(_) => return out.int(0),
    }
    let added = call(dst_owner, "sadd", dst).await;
    if int_reply(&added).is_some() {
        return out.int(1);
    }
    let _ = call(src_owner, "sadd", src).await;
    reply_failure(out, &added);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::string::tests::{run, run_proto};
    use crate::keyspace::Keyspace;

    macro_rules! t {
        ($ks:expr, [$($a:expr),*], $want:expr) => {
            assert_eq!(run($ks, NOW, &[$(AsRef::<[u8]>::as_ref(&$a)),*]), $want, "{:?}", [$($a),*]);
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

    /// The members of a RESP2 array reply, sorted.
    fn members(reply: &str) -> Vec<String> {
        let mut v: Vec<String> = parse_members(reply.as_bytes())
            .unwrap_or_else(|| panic!("not an array of bulks: {reply:?}"))
            .into_iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn add_remove_and_read() {
        let ks = &mut Keyspace::new(1);
        t!(ks, ["SADD", "s", "a", "b", "a"], ":2\r\n");
        t!(ks, ["SADD", "s", "b", "c"], ":1\r\n");
        t!(ks, ["SMEMBERS", "s"], arr(&["a", "b", "c"]));
        t!(ks, ["SCARD", "s"], ":3\r\n");
        t!(ks, ["SISMEMBER", "s", "b"], ":1\r\n");
        t!(ks, ["SISMEMBER", "s", "z"], ":0\r\n");
        t!(ks, ["SMISMEMBER", "s", "z", "a"], "*2\r\n:0\r\n:1\r\n");
        t!(ks, ["SMISMEMBER", "nokey", "a"], "*1\r\n:0\r\n");
        t!(ks, ["SREM", "s", "b", "z", "b"], ":1\r\n");
        t!(ks, ["SMEMBERS", "s"], arr(&["a", "c"]));
        t!(ks, ["SREM", "s", "a", "c", "x"], ":2\r\n");
        t!(ks, ["EXISTS", "s"], ":0\r\n");
        t!(ks, ["SMEMBERS", "s"], "*0\r\n");
        t!(ks, ["SCARD", "s"], ":0\r\n");
        t!(ks, ["SREM", "s", "a"], ":0\r\n");
        assert_eq!(
            run_proto(ks, NOW, &[b"SMEMBERS", b"s"], Proto::Resp3),
            "~0\r\n"
        );
        t!(ks, ["SADD", "s", "x"], ":1\r\n");
        assert_eq!(
            run_proto(ks, NOW, &[b"SMEMBERS", b"s"], Proto::Resp3),
            "~1\r\n$1\r\nx\r\n"
        );
        t!(ks, ["TYPE", "s"], "+set\r\n");
        t!(ks, ["SET", "str", "v"], "+OK\r\n");
        for cmd in [
            &["SADD", "str", "a"][..],
            &["SREM", "str", "a"],
            &["SMEMBERS", "str"],
            &["SISMEMBER", "str", "a"],
            &["SMISMEMBER", "str", "a"],
            &["SCARD", "str"],
            &["SPOP", "str"],
            &["SPOP", "str", "0"],
            &["SRANDMEMBER", "str"],
            &["SRANDMEMBER", "str", "0"],
            &["SSCAN", "str", "0"],
            &["SSCAN", "str", "0", "bad"],
        ] {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            assert_eq!(run(ks, NOW, &args), WT, "{cmd:?}");
        }
        t!(
            ks,
            ["SADD", "s"],
            "-ERR wrong number of arguments for 'sadd' command\r\n"
        );
    }

    #[test]
    fn spop_replies_and_distinctness() {
        let ks = &mut Keyspace::new(1);
        t!(ks, ["SPOP", "s"], "$-1\r\n");
        t!(ks, ["SPOP", "s", "3"], "*0\r\n");
        assert_eq!(
            run_proto(ks, NOW, &[b"SPOP", b"s", b"3"], Proto::Resp3),
            "~0\r\n"
        );
        t!(
            ks,
            ["SPOP", "s", "-1"],
            "-ERR value is out of range, must be positive\r\n"
        );
        t!(
            ks,
            ["SPOP", "s", "x"],
            "-ERR value is out of range, must be positive\r\n"
        );
        t!(ks, ["SPOP", "s", "1", "2"], "-ERR syntax error\r\n");
        // Large enough for both the shifting and the swapping removal.
        for size in [10usize, 300] {
            let all: Vec<String> = (0..size).map(|i| format!("m{i}")).collect();
            let mut args: Vec<&[u8]> = vec![b"SADD", b"s"];
            args.extend(all.iter().map(|m| m.as_bytes()));
            assert_eq!(run(ks, NOW, &args), format!(":{size}\r\n"));
            t!(ks, ["SPOP", "s", "0"], "*0\r\n");
            let got = members(&run(ks, NOW, &[b"SPOP", b"s", b"4"]));
            assert_eq!(got.len(), 4);
            assert!(got.windows(2).all(|w| w[0] != w[1]), "distinct: {got:?}");
            for m in &got {
                assert!(all.contains(m));
                t!(ks, ["SISMEMBER", "s", m], ":0\r\n");
            }
            assert_eq!(
                run(ks, NOW, &[b"SCARD", b"s"]),
                format!(":{}\r\n", size - 4)
            );
            let one = run(ks, NOW, &[b"SPOP", b"s"]);
            assert!(one.starts_with('$'), "{one}");
            let rest = members(&run(ks, NOW, &[b"SPOP", b"s", b"100000"]));
            assert_eq!(rest.len(), size - 5);
            t!(ks, ["EXISTS", "s"], ":0\r\n");
        }
        t!(ks, ["SADD", "s", "only"], ":1\r\n");
        t!(ks, ["SPOP", "s"], "$4\r\nonly\r\n");
        t!(ks, ["EXISTS", "s"], ":0\r\n");
        t!(ks, ["SADD", "s", "a", "b"], ":2\r\n");
        assert!(run_proto(ks, NOW, &[b"SPOP", b"s", b"2"], Proto::Resp3).starts_with("~2\r\n"));
        t!(ks, ["EXISTS", "s"], ":0\r\n");
    }

    #[test]
    fn srandmember_counts() {
        let ks = &mut Keyspace::new(1);
        t!(ks, ["SRANDMEMBER", "s"], "$-1\r\n");
        t!(ks, ["SRANDMEMBER", "s", "5"], "*0\r\n");
        t!(ks, ["SRANDMEMBER", "s", "-5"], "*0\r\n");
        t!(
            ks,
            ["SRANDMEMBER", "s", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(
            ks,
            ["SRANDMEMBER", "s", "-9223372036854775808"],
            format!("-{ERR_COUNT_RANGE}\r\n")
        );
        t!(ks, ["SRANDMEMBER", "s", "1", "2"], "-ERR syntax error\r\n");
        let all: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
        let mut args: Vec<&[u8]> = vec![b"SADD", b"s"];
        args.extend(all.iter().map(|m| m.as_bytes()));
        run(ks, NOW, &args);
        t!(ks, ["SRANDMEMBER", "s", "0"], "*0\r\n");
        // Both sampling strategies (few of many, most of many) give distinct members.
        for n in [1usize, 5, 30, 39] {
            let got = members(&run(
                ks,
                NOW,
                &[b"SRANDMEMBER", b"s", n.to_string().as_bytes()],
            ));
            assert_eq!(got.len(), n);
            assert!(got.windows(2).all(|w| w[0] != w[1]), "distinct: {got:?}");
            assert!(got.iter().all(|m| all.contains(m)));
        }
        assert_eq!(members(&run(ks, NOW, &[b"SRANDMEMBER", b"s", b"40"])), {
            let mut a = all.clone();
            a.sort();
            a
        });
        assert_eq!(
            members(&run(ks, NOW, &[b"SRANDMEMBER", b"s", b"1000"])).len(),
            40
        );
        // Negative: exactly |count|, repeats allowed; an array even in RESP3.
        let got = members(&run(ks, NOW, &[b"SRANDMEMBER", b"s", b"-100"]));
        assert_eq!(got.len(), 100);
        assert!(got.iter().all(|m| all.contains(m)));
        assert!(
            run_proto(ks, NOW, &[b"SRANDMEMBER", b"s", b"-3"], Proto::Resp3).starts_with("*3\r\n")
        );
        t!(
            ks,
            ["SRANDMEMBER", "s", "-9223372036854775807"],
            "-ERR value is out of range\r\n"
        );
        t!(ks, ["SCARD", "s"], ":40\r\n");
        let mut rng = fastrand::Rng::with_seed(7);
        for (len, count) in [(10, 9), (1000, 3), (1000, 999), (4, 1)] {
            let mut got = sample_distinct(len, count, &mut rng);
            got.sort_unstable();
            got.dedup();
            assert_eq!(got.len(), count);
            assert!(got.iter().all(|&i| i < len));
        }
    }

    #[test]
    fn sscan_small_and_options() {
        let ks = &mut Keyspace::new(1);
        t!(ks, ["SSCAN", "s", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
        t!(ks, ["SSCAN", "s", "x"], "-ERR invalid cursor\r\n");
        t!(ks, ["SSCAN", "s", " 1"], "-ERR invalid cursor\r\n");
        t!(
            ks,
            ["SSCAN", "s", "18446744073709551616"],
            "-ERR invalid cursor\r\n"
        );
        // Options are only parsed for an existing set.
        t!(ks, ["SSCAN", "s", "0", "bogus"], "*2\r\n$1\r\n0\r\n*0\r\n");
        t!(ks, ["SADD", "s", "apple", "banana", "avocado"], ":3\r\n");
        t!(
            ks,
            ["SSCAN", "s", "0"],
            "*2\r\n$1\r\n0\r\n".to_string() + &arr(&["apple", "banana", "avocado"])
        );
        t!(
            ks,
            ["SSCAN", "s", "0", "MATCH", "a*", "COUNT", "1"],
            "*2\r\n$1\r\n0\r\n".to_string() + &arr(&["apple", "avocado"])
        );
        t!(
            ks,
            ["SSCAN", "s", "0", "COUNT", "0"],
            "-ERR syntax error\r\n"
        );
        t!(
            ks,
            ["SSCAN", "s", "0", "COUNT", "x"],
            "-ERR value is not an integer or out of range\r\n"
        );
        t!(ks, ["SSCAN", "s", "0", "MATCH"], "-ERR syntax error\r\n");
        t!(
            ks,
            ["SSCAN", "s", "0", "TYPE", "set"],
            "-ERR syntax error\r\n"
        );
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"12\0junk"), Some(12));
    }

    /// One SSCAN call: (next cursor, members).
    fn sscan_once(ks: &mut Keyspace, cursor: u64, count: usize) -> (u64, Vec<String>) {
        let c = cursor.to_string();
        let n = count.to_string();
        let reply = run(
            ks,
            NOW,
            &[b"SSCAN", b"big", c.as_bytes(), b"COUNT", n.as_bytes()],
        );
        // *2 $<len> <cursor> *<n> ...
        let rest = reply.strip_prefix("*2\r\n$").expect("scan reply");
        let (_, rest) = rest.split_once("\r\n").expect("cursor length");
        let (cursor, rest) = rest.split_once("\r\n").expect("cursor");
        (cursor.parse().expect("cursor number"), members(rest))
    }

    #[test]
    fn sscan_guarantee_under_deletes_and_inserts() {
        let ks = &mut Keyspace::new(1);
        let mut rng = fastrand::Rng::with_seed(42);
        let n = 2000;
        let all: Vec<String> = (0..n).map(|i| format!("member:{i}")).collect();
        let mut args: Vec<&[u8]> = vec![b"SADD", b"big"];
        args.extend(all.iter().map(|m| m.as_bytes()));
        run(ks, NOW, &args);
        let mut deleted = std::collections::HashSet::new();
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0u64;
        let mut calls = 0;
        let mut added = 0;
        loop {
            let (next, got) = sscan_once(ks, cursor, 1 + rng.usize(..20));
            seen.extend(got);
            cursor = next;
            calls += 1;
            assert!(calls < 10 * n, "scan did not finish");
            if cursor == 0 {
                break;
            }
            // Delete a few random members (swap_remove moves the last one around) and add some.
            for _ in 0..3 {
                let m = &all[rng.usize(..n)];
                if run(ks, NOW, &[b"SREM", b"big", m.as_bytes()]) == ":1\r\n" {
                    deleted.insert(m.clone());
                }
            }
            let new = format!("new:{added}");
            added += 1;
            run(ks, NOW, &[b"SADD", b"big", new.as_bytes()]);
        }
        for m in all.iter().filter(|m| !deleted.contains(*m)) {
            assert!(
                seen.contains(m),
                "{m} present throughout but never returned"
            );
        }
        assert!(!deleted.is_empty());
    }

    #[test]
    fn scan_positions_walk_down() {
        assert_eq!(scan_positions(100, 0, 10, SMALL_SET), (0..100, 0));
        assert_eq!(scan_positions(1000, 0, 10, SMALL_SET), (990..1000, 990));
        assert_eq!(scan_positions(1000, 990, 10, SMALL_SET), (980..990, 980));
        assert_eq!(scan_positions(1000, 5, 10, SMALL_SET), (0..5, 0));
        assert_eq!(scan_positions(500, 990, 10, SMALL_SET), (490..500, 490));
        assert_eq!(
            scan_positions(1000, u64::MAX, 10, SMALL_SET),
            (990..1000, 990)
        );
    }

    #[test]
    fn combine_partials() {
        let p = |v: &[&'static str]| v.iter().map(|s| s.as_bytes()).collect::<Vec<&[u8]>>();
        let sorted = |v: Vec<&[u8]>| {
            let mut v: Vec<String> = v
                .iter()
                .map(|m| String::from_utf8_lossy(m).into())
                .collect();
            v.sort();
            v
        };
        let parts = [
            p(&["a", "b", "c"]),
            p(&["b", "c", "d"]),
            p(&["c", "b", "x"]),
        ];
        assert_eq!(sorted(combine(Op::Inter, &parts)), ["b", "c"]);
        assert_eq!(
            sorted(combine(Op::Union, &parts)),
            ["a", "b", "c", "d", "x"]
        );
        assert_eq!(sorted(combine(Op::Diff, &parts)), ["a"]);
        assert!(combine(Op::Inter, &[p(&["a"]), p(&[])]).is_empty());
        assert_eq!(sorted(combine(Op::Diff, &[p(&["a", "b"])])), ["a", "b"]);
        assert!(combine(Op::Union, &[]).is_empty());
    }

    #[test]
    fn parse_members_is_strict() {
        assert_eq!(parse_members(b"*0\r\n"), Some(vec![]));
        assert_eq!(
            parse_members(b"*2\r\n$1\r\na\r\n$0\r\n\r\n"),
            Some(vec![&b"a"[..], &b""[..]])
        );
        assert_eq!(parse_members(b"~1\r\n$1\r\na\r\n"), None);
        assert_eq!(parse_members(b"*2\r\n$1\r\na\r\n"), None);
        assert_eq!(parse_members(b"*1\r\n$5\r\na\r\n"), None);
        assert_eq!(parse_members(b"-WRONGTYPE x\r\n"), None);
        assert_eq!(int_reply(b":12\r\n"), Some(12));
        assert_eq!(int_reply(b"-ERR\r\n"), None);
    }

    /// A one-shard core: every `Core::call` runs in place, so the async commands run to completion
    /// under a plain `block_on`.
    fn core() -> Rc<Core> {
        use clap::Parser;
        let config = std::sync::Arc::new(crate::config::Config::parse_from(["redis-lite"]));
        let shared = std::sync::Arc::new(crate::shard::Shared::new(
            1,
            &config,
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        ));
        Rc::new(Core::new(0, config, shared, Keyspace::new(16), None, None))
    }

    /// Runs any command the way a connection would (arity, then its handler).
    fn exec(core: &Rc<Core>, proto: Proto, args: &[&str]) -> String {
        let batch = CmdBatch::from_args(args.iter().map(|a| a.as_bytes()));
        let argv = batch.get(0);
        let idx = crate::cmd::lookup(argv.get(0)).expect("known command");
        let spec = &crate::cmd::table()[idx];
        let mut out = Reply::new(proto);
        let mut session = Session {
            proto,
            ..Session::default()
        };
        core.tick();
        if !spec.arity_ok(argv.len()) {
            crate::cmd::arity_error(spec.name, &mut out);
        } else {
            match spec.handler {
                Handler::Async(f) => {
                    futures_lite::future::block_on(f(core, &mut session, argv, &mut out))
                }
                Handler::Shard(_) => {
                    core.exec(idx, 0, argv, &mut out);
                }
                _ => panic!("not a set or key command"),
            }
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// The cross-shard path forced on one shard (the combining logic, without real hops).
    fn exec_gathered(core: &Rc<Core>, op: Op, keys: &[&str], want: Want<'_>) -> String {
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        let mut out = Reply::new(Proto::Resp2);
        futures_lite::future::block_on(gathered(core, 0, &mut out, op, &keys, want));
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn algebra_one_shard() {
        let c = &core();
        let r2 = Proto::Resp2;
        let x = |args: &[&str]| exec(c, r2, args);
        assert_eq!(x(&["SADD", "a", "1", "2", "3", "4"]), ":4\r\n");
        assert_eq!(x(&["SADD", "b", "3", "4", "5"]), ":3\r\n");
        assert_eq!(x(&["SADD", "c", "4", "5", "6"]), ":3\r\n");
        assert_eq!(members(&x(&["SINTER", "a", "b"])), ["3", "4"]);
        assert_eq!(members(&x(&["SINTER", "a", "b", "c"])), ["4"]);
        assert_eq!(members(&x(&["SINTER", "a", "nokey"])), Vec::<String>::new());
        assert_eq!(members(&x(&["SINTER", "a", "a"])), ["1", "2", "3", "4"]);
        assert_eq!(
            members(&x(&["SUNION", "a", "c", "nokey"])),
            ["1", "2", "3", "4", "5", "6"]
        );
        assert_eq!(members(&x(&["SDIFF", "a", "b"])), ["1", "2"]);
        assert_eq!(members(&x(&["SDIFF", "a", "nokey", "c"])), ["1", "2", "3"]);
        assert_eq!(members(&x(&["SDIFF", "a", "b", "a"])), Vec::<String>::new());
        assert_eq!(members(&x(&["SDIFF", "nokey", "a"])), Vec::<String>::new());
        assert_eq!(exec(c, Proto::Resp3, &["SINTER", "a", "nokey"]), "~0\r\n");
        assert!(exec(c, Proto::Resp3, &["SUNION", "a"]).starts_with("~4\r\n"));
        assert!(exec(c, Proto::Resp3, &["SDIFF", "a", "b"]).starts_with("~2\r\n"));
        assert_eq!(x(&["SINTERCARD", "2", "a", "b"]), ":2\r\n");
        assert_eq!(x(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), ":1\r\n");
        assert_eq!(x(&["SINTERCARD", "2", "a", "b", "limit", "0"]), ":2\r\n");
        assert_eq!(x(&["SINTERCARD", "1", "a", "LIMIT", "10"]), ":4\r\n");
        assert_eq!(x(&["SINTERCARD", "0", "a"]), format!("-{ERR_NUMKEYS}\r\n"));
        assert_eq!(x(&["SINTERCARD", "x", "a"]), format!("-{ERR_NUMKEYS}\r\n"));
        assert_eq!(
            x(&["SINTERCARD", "3", "a", "b"]),
            format!("-{ERR_NUMKEYS_ARGS}\r\n")
        );
        assert_eq!(
            x(&["SINTERCARD", "1", "a", "LIMIT", "-1"]),
            format!("-{ERR_LIMIT}\r\n")
        );
        assert_eq!(
            x(&["SINTERCARD", "1", "a", "LIMIT"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(x(&["SINTERCARD", "1", "a", "b"]), "-ERR syntax error\r\n");
        // *STORE replaces any type, clears the TTL, deletes the destination when empty.
        assert_eq!(x(&["SET", "d", "string"]), "+OK\r\n");
        assert_eq!(x(&["EXPIRE", "d", "100"]), ":1\r\n");
        assert_eq!(x(&["SINTERSTORE", "d", "a", "b"]), ":2\r\n");
        assert_eq!(x(&["TTL", "d"]), ":-1\r\n");
        assert_eq!(members(&x(&["SMEMBERS", "d"])), ["3", "4"]);
        assert_eq!(x(&["SUNIONSTORE", "d", "d", "c"]), ":4\r\n");
        assert_eq!(x(&["SDIFFSTORE", "d", "d", "c"]), ":1\r\n");
        assert_eq!(members(&x(&["SMEMBERS", "d"])), ["3"]);
        assert_eq!(x(&["SINTERSTORE", "d", "a", "nokey"]), ":0\r\n");
        assert_eq!(x(&["EXISTS", "d"]), ":0\r\n");
        // WRONGTYPE wins even after a missing key, and nothing is stored.
        assert_eq!(x(&["SET", "str", "v"]), "+OK\r\n");
        for cmd in [
            &["SINTER", "nokey", "str"][..],
            &["SUNION", "a", "str"],
            &["SDIFF", "nokey", "str"],
            &["SDIFF", "str", "a"],
            &["SINTERCARD", "2", "nokey", "str"],
            &["SINTERSTORE", "d", "nokey", "str"],
            &["SUNIONSTORE", "d", "str"],
            &["SDIFFSTORE", "d", "a", "str"],
        ] {
            assert_eq!(x(cmd), WT, "{cmd:?}");
        }
        assert_eq!(x(&["EXISTS", "d"]), ":0\r\n");
        assert_eq!(x(&["SINTERSTORE", "str", "a"]), ":4\r\n");
        assert_eq!(x(&["TYPE", "str"]), "+set\r\n");
        // Internal steps are invisible to clients only through the router; here they exist.
        assert!(crate::cmd::table()
            .iter()
            .filter(|s| s.name.starts_with("__sset-"))
            .all(|s| s.flags & flags::INTERNAL != 0));
    }

    #[test]
    fn smove_one_shard() {
        let c = &core();
        let x = |args: &[&str]| exec(c, Proto::Resp2, args);
        assert_eq!(x(&["SMOVE", "src", "dst", "m"]), ":0\r\n");
        assert_eq!(x(&["SET", "str", "v"]), "+OK\r\n");
        // A missing source answers 0 before the destination's type is checked.
        assert_eq!(x(&["SMOVE", "nosrc", "str", "m"]), ":0\r\n");
        assert_eq!(x(&["SADD", "src", "m", "n"]), ":2\r\n");
        assert_eq!(x(&["SMOVE", "src", "str", "m"]), WT);
        assert_eq!(x(&["SMOVE", "str", "src", "m"]), WT);
        assert_eq!(x(&["SMOVE", "src", "src", "m"]), ":1\r\n");
        assert_eq!(x(&["SMOVE", "src", "src", "zz"]), ":0\r\n");
        assert_eq!(x(&["SMOVE", "src", "dst", "zz"]), ":0\r\n");
        assert_eq!(x(&["EXISTS", "dst"]), ":0\r\n");
        assert_eq!(x(&["SMOVE", "src", "dst", "m"]), ":1\r\n");
        assert_eq!(x(&["SADD", "dst", "n"]), ":1\r\n");
        assert_eq!(x(&["SMOVE", "src", "dst", "n"]), ":1\r\n");
        assert_eq!(x(&["EXISTS", "src"]), ":0\r\n");
        assert_eq!(members(&x(&["SMEMBERS", "dst"])), ["m", "n"]);
    }

    #[test]
    fn gathered_path_matches_one_step() {
        let c = &core();
        let x = |args: &[&str]| exec(c, Proto::Resp2, args);
        x(&["SADD", "a", "1", "2", "3", "4"]);
        x(&["SADD", "b", "3", "4", "5"]);
        x(&["SET", "str", "v"]);
        assert_eq!(
            members(&exec_gathered(c, Op::Inter, &["a", "b"], Want::Members)),
            ["3", "4"]
        );
        assert_eq!(
            members(&exec_gathered(
                c,
                Op::Union,
                &["a", "b", "nokey"],
                Want::Members
            )),
            ["1", "2", "3", "4", "5"]
        );
        assert_eq!(
            members(&exec_gathered(c, Op::Diff, &["a", "b"], Want::Members)),
            ["1", "2"]
        );
        assert_eq!(
            exec_gathered(c, Op::Inter, &["a", "b"], Want::Card(1)),
            ":1\r\n"
        );
        assert_eq!(
            exec_gathered(c, Op::Inter, &["nokey", "str"], Want::Members),
            WT
        );
        assert_eq!(
            exec_gathered(c, Op::Union, &["a", "b"], Want::Store(b"str")),
            ":5\r\n"
        );
        assert_eq!(x(&["TYPE", "str"]), "+set\r\n");
        assert_eq!(
            exec_gathered(c, Op::Inter, &["a", "nokey"], Want::Store(b"str")),
            ":0\r\n"
        );
        assert_eq!(x(&["EXISTS", "str"]), ":0\r\n");
    }
}

//! Hash commands: field/value maps under one key.
//!
//! Behaviour follows Redis 7.0's `t_hash.c`, including the order of checks (HINCRBY and
//! HINCRBYFLOAT parse the increment before looking the key up; HSCAN parses its cursor first but
//! its options only once the key is known to be a hash; HRANDFIELD validates its count before the
//! lookup). A hash emptied by HDEL is deleted, and a failed write never leaves an empty hash.
//!
//! A hash is an `IndexMap` in insertion order, like Redis's listpack for small hashes. Small
//! hashes (≤ 512 fields, Redis's `hash-max-listpack-entries`) keep that order across deletes; for
//! larger ones Redis's order is unspecified anyway, so deletes use the O(1) `swap_remove`.

use super::keys::string_match;
use super::string::{ld, opt_is};
use super::{arity_error, err, flags, parse_i64, CommandSpec, ShardCtx};
use super::{parse_cursor, parse_scan_options, sample_distinct, scan_positions};
use crate::keyspace::{Hash, SmallBytes, Ttl, Value};
use crate::notify;
use crate::resp::{Argv, Proto, Reply};

const ERR_HASH_NOT_INT: &str = "ERR hash value is not an integer";
const ERR_HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
const ERR_INCR_NAN_INF: &str = "ERR value is NaN or Infinity";
const ERR_RESULT_NAN_INF: &str = "ERR increment would produce NaN or Infinity";
const ERR_OUT_OF_RANGE: &str = "ERR value is out of range";
const ERR_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";

/// Redis 7.0's default `hash-max-listpack-entries` (512, shared with SAVE's encoding choice): up
/// to this many fields a hash behaves like a listpack (order kept on delete, HSCAN returns
/// everything at once).
const SMALL_HASH: usize = crate::rdb::HASH_MAX_LISTPACK_ENTRIES;

/// Our own bound on the items of one HRANDFIELD reply with a negative count. Redis has none and
/// would build a reply of any size (until memory runs out); we answer `ERR value is out of range`
/// past this instead, since a reply is buffered whole before it is written.
const MAX_RANDOM_ITEMS: u64 = 1 << 24;

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let key = CommandSpec::single_key;
    t.push(key("hset", -4, WRITE | DENYOOM | FAST, hset));
    t.push(key("hmset", -4, WRITE | DENYOOM | FAST, hmset));
    t.push(key("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx));
    t.push(key("hget", 3, READONLY | FAST, hget));
    t.push(key("hmget", -3, READONLY | FAST, hmget));
    t.push(key("hdel", -3, WRITE | FAST, hdel));
    t.push(key("hlen", 2, READONLY | FAST, hlen));
    t.push(key("hstrlen", 3, READONLY | FAST, hstrlen));
    t.push(key("hexists", 3, READONLY | FAST, hexists));
    t.push(key("hkeys", 2, READONLY, hkeys));
    t.push(key("hvals", 2, READONLY, hvals));
    t.push(key("hgetall", 2, READONLY, hgetall));
    t.push(key("hincrby", 4, WRITE | DENYOOM | FAST, hincrby));
    t.push(key("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat));
    t.push(key("hrandfield", -2, READONLY, hrandfield));
    t.push(key("hscan", -3, READONLY, hscan));
}

/// The key holds another type.
struct WrongType;

fn new_hash(capacity: usize) -> Hash {
    Hash::with_capacity_and_hasher(capacity, ahash::RandomState::new())
}

/// The hash at `key` for reading: `Ok(None)` when missing.
fn read<'c>(ctx: &'c mut ShardCtx<'_>, key: &[u8]) -> Result<Option<&'c Hash>, WrongType> {
    match ctx.ks.lookup_read(ctx.db, key, ctx.now_ms) {
        None => Ok(None),
        Some(v) => v.as_hash().map(Some).ok_or(WrongType),
    }
}

/// Runs `f` on the hash at `key`, creating it when missing (Redis's
/// `hashTypeLookupWriteOrCreate`). A new hash is stored only if `f` left it non-empty, so a
/// command that fails on a new key leaves no trace.
fn upsert<R>(
    ctx: &mut ShardCtx<'_>,
    key: &[u8],
    capacity: usize,
    f: impl FnOnce(&mut Hash) -> R,
) -> Result<R, WrongType> {
    let (db, now) = (ctx.db, ctx.now_ms);
    match ctx.ks.lookup_write(db, key, now) {
        Some(slot) => slot.as_hash_mut().map(f).ok_or(WrongType),
        None => {
            let mut h = new_hash(capacity);
            let r = f(&mut h);
            if !h.is_empty() {
                ctx.ks.set(db, key, Value::hash(h), Ttl::Clear, now);
            }
            Ok(r)
        }
    }
}

/// Sets `field` to `value`, keeping the field's position if it exists; true if it was new.
fn set_field(h: &mut Hash, field: &[u8], value: &[u8]) -> bool {
    match h.get_mut(field) {
        Some(v) => {
            *v = SmallBytes::new(value);
            false
        }
        None => {
            h.insert(SmallBytes::new(field), SmallBytes::new(value));
            true
        }
    }
}

/// HSET (replies the number of new fields) and the deprecated HMSET (replies OK).
fn hset_generic(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, name: &str) {
    if argv.len() % 2 == 1 {
        arity_error(name, out);
        return;
    }
    let pairs = (argv.len() - 2) / 2;
    let r = upsert(ctx, argv.get(1), pairs, |h| {
        (0..pairs)
            .filter(|i| set_field(h, argv.get(2 + 2 * i), argv.get(3 + 2 * i)))
            .count()
    });
    if r.is_ok() {
        // Redis counts every pair written, new or not.
        ctx.ks.add_dirty(pairs as u64);
        ctx.notify(notify::HASH, "hset", argv.get(1));
    }
    match r {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(_) if name == "hmset" => out.ok(),
        Ok(created) => out.int(created as i64),
    }
}

fn hset(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    hset_generic(ctx, argv, out, "hset")
}

fn hmset(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    hset_generic(ctx, argv, out, "hmset")
}

fn hsetnx(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (field, value) = (argv.get(2), argv.get(3));
    let r = upsert(ctx, argv.get(1), 1, |h| {
        !h.contains_key(field) && set_field(h, field, value)
    });
    if let Ok(true) = r {
        ctx.ks.add_dirty(1);
        ctx.notify(notify::HASH, "hset", argv.get(1));
    }
    match r {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(set) => out.int(i64::from(set)),
    }
}

fn hget(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(h) => match h.and_then(|h| h.get(argv.get(2))) {
            Some(v) => out.bulk(v),
            None => out.null(),
        },
    }
}

/// HMGET: a missing key is an empty hash (all nils), not a nil reply.
fn hmget(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let h = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(h) => h,
    };
    out.array(argv.len() - 2);
    for field in argv.tail(2) {
        match h.and_then(|h| h.get(field)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
}

fn hdel(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(slot) = ctx.ks.lookup_write(db, key, now) else {
        return out.int(0);
    };
    let Some(h) = slot.as_hash_mut() else {
        return out.error(err::WRONGTYPE);
    };
    let mut deleted = 0i64;
    for field in argv.tail(2) {
        let removed = if h.len() <= SMALL_HASH {
            h.shift_remove(field)
        } else {
            h.swap_remove(field)
        };
        deleted += i64::from(removed.is_some());
        if h.is_empty() {
            break;
        }
    }
    let empty = h.is_empty();
    ctx.ks.add_dirty(deleted as u64);
    if deleted > 0 {
        ctx.notify(notify::HASH, "hdel", key);
    }
    if empty {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
    out.int(deleted);
}

/// The shape of HLEN/HSTRLEN/HEXISTS: an integer computed from the hash, 0 for a missing key.
fn int_of(ctx: &mut ShardCtx<'_>, key: &[u8], out: &mut Reply, f: impl FnOnce(&Hash) -> usize) {
    match read(ctx, key) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(None) => out.int(0),
        Ok(Some(h)) => out.int(f(h) as i64),
    }
}

fn hlen(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    int_of(ctx, argv.get(1), out, |h| h.len())
}

fn hstrlen(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let field = argv.get(2);
    int_of(ctx, argv.get(1), out, |h| {
        h.get(field).map_or(0, |v| v.len())
    })
}

fn hexists(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let field = argv.get(2);
    int_of(ctx, argv.get(1), out, |h| {
        usize::from(h.contains_key(field))
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Keys,
    Vals,
    Both,
}

/// HKEYS/HVALS (arrays) and HGETALL (a map: RESP3 `%`, RESP2 flat array), in hash order.
fn getall_generic(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, part: Part) {
    let h = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(h) => h,
    };
    let len = h.map_or(0, |h| h.len());
    match part {
        Part::Both => out.map(len),
        _ => out.array(len),
    }
    for (k, v) in h.into_iter().flatten() {
        if part != Part::Vals {
            out.bulk(k);
        }
        if part != Part::Keys {
            out.bulk(v);
        }
    }
}

fn hkeys(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    getall_generic(ctx, argv, out, Part::Keys)
}

fn hvals(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    getall_generic(ctx, argv, out, Part::Vals)
}

fn hgetall(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    getall_generic(ctx, argv, out, Part::Both)
}

fn hincrby(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(by) = parse_i64(argv.get(3)) else {
        return out.error(err::NOT_INTEGER);
    };
    let field = argv.get(2);
    let r = upsert(ctx, argv.get(1), 1, |h| {
        let cur = match h.get(field) {
            None => 0,
            Some(v) => parse_i64(v).ok_or(ERR_HASH_NOT_INT)?,
        };
        let n = cur.checked_add(by).ok_or(err::OVERFLOW)?;
        set_field(h, field, itoa::Buffer::new().format(n).as_bytes());
        Ok(n)
    });
    if let Ok(Ok(_)) = r {
        ctx.ks.add_dirty(1);
        ctx.notify(notify::HASH, "hincrby", argv.get(1));
    }
    match r {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(Err(e)) => out.error(e),
        Ok(Ok(n)) => out.int(n),
    }
}

/// HINCRBYFLOAT: in x87 extended precision and formatted as Redis's `%.17Lf` (trimmed), with
/// INCRBYFLOAT's helpers, so replies match Redis digit for digit.
fn hincrbyfloat(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let by = match ld::parse(argv.get(3)) {
        None => return out.error(err::NOT_FLOAT),
        Some(x) if !x.is_finite() => return out.error(ERR_INCR_NAN_INF),
        Some(x) => x,
    };
    let field = argv.get(2);
    let r = upsert(ctx, argv.get(1), 1, |h| {
        let cur = match h.get(field) {
            None => ld::Ld::ZERO,
            Some(v) => ld::parse(v).ok_or(ERR_HASH_NOT_FLOAT)?,
        };
        let sum = match ld::add(cur, by) {
            Some(s) if s.is_finite() => s,
            _ => return Err(ERR_RESULT_NAN_INF),
        };
        let text = ld::format_human(sum);
        set_field(h, field, text.as_bytes());
        Ok(text)
    });
    if let Ok(Ok(_)) = r {
        ctx.ks.add_dirty(1);
        ctx.notify(notify::HASH, "hincrbyfloat", argv.get(1));
    }
    match r {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(Err(e)) => out.error(e),
        Ok(Ok(text)) => out.bulk(text.as_bytes()),
    }
}

/// One HRANDFIELD item: the field, or with values a pair (RESP3: a 2-element array; RESP2: flat).
fn reply_pair(out: &mut Reply, h: &Hash, i: usize, withvalues: bool) {
    let Some((k, v)) = h.get_index(i) else {
        return;
    };
    if withvalues && out.proto == Proto::Resp3 {
        out.array(2);
    }
    out.bulk(k);
    if withvalues {
        out.bulk(v);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]: a positive count gives distinct fields (at most the
/// hash's size), a negative one exactly |count| fields that may repeat.
fn hrandfield(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let mut withvalues = false;
    let mut count = None;
    if argv.len() >= 3 {
        let c = match parse_i64(argv.get(2)) {
            None => return out.error(err::NOT_INTEGER),
            Some(i64::MIN) => return out.error(ERR_COUNT_RANGE),
            Some(c) => c,
        };
        if argv.len() > 4 || (argv.len() == 4 && !opt_is(argv.get(3), "withvalues")) {
            return out.error(err::SYNTAX);
        }
        if argv.len() == 4 {
            withvalues = true;
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&c) {
                return out.error(ERR_OUT_OF_RANGE);
            }
        }
        count = Some(c);
    }
    let h = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(h) => h,
    };
    let mut rng = fastrand::Rng::new();
    let Some(count) = count else {
        match h {
            Some(h) if !h.is_empty() => reply_pair(out, h, rng.usize(..h.len()), false),
            _ => out.null(),
        }
        return;
    };
    let Some(h) = h.filter(|h| !h.is_empty() && count != 0) else {
        return out.array(0);
    };
    let per_item = if withvalues && out.proto == Proto::Resp2 {
        2
    } else {
        1
    };
    let len = h.len();
    if count < 0 {
        let n = count.unsigned_abs();
        if n > MAX_RANDOM_ITEMS {
            return out.error(ERR_OUT_OF_RANGE);
        }
        let n = n as usize;
        out.array(n * per_item);
        for _ in 0..n {
            reply_pair(out, h, rng.usize(..len), withvalues);
        }
        return;
    }
    let n = usize::try_from(count).unwrap_or(usize::MAX);
    if n >= len {
        out.array(len * per_item);
        for i in 0..len {
            reply_pair(out, h, i, withvalues);
        }
        return;
    }
    out.array(n * per_item);
    for i in sample_distinct(len, n, &mut rng) {
        reply_pair(out, h, i, withvalues);
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]: field/value pairs, the cursor as a bulk string.
fn hscan(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(cursor) = parse_cursor(argv.get(2)) else {
        return out.error(ERR_INVALID_CURSOR);
    };
    let h = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return;
        }
        Ok(Some(h)) => h,
    };
    let (count, pattern) = match parse_scan_options(argv, 3) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let (range, next) = scan_positions(h.len(), cursor, count, SMALL_HASH);
    let small = h.len() <= SMALL_HASH;
    // Small hashes go in order (like a listpack); larger ones downwards, as the cursor walks.
    let picked: Vec<usize> = {
        let keep = |&i: &usize| {
            pattern.is_none_or(|p| {
                h.get_index(i)
                    .is_some_and(|(k, _)| string_match(p, k, false))
            })
        };
        if small {
            range.filter(keep).collect()
        } else {
            range.rev().filter(keep).collect()
        }
    };
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(picked.len() * 2);
    // Flat field/value pairs in RESP3 too, as Redis.
    for (k, v) in picked.into_iter().filter_map(|i| h.get_index(i)) {
        out.bulk(k);
        out.bulk(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::string::tests::{run, run_proto};
    use crate::keyspace::Keyspace;

    const NOW: i64 = 1_700_000_000_000;

    fn r3(ks: &mut Keyspace, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        run_proto(ks, NOW, &args, Proto::Resp3)
    }

    fn r2(ks: &mut Keyspace, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        run(ks, NOW, &args)
    }

    fn hash_of(n: usize) -> Hash {
        let mut h = new_hash(n);
        for i in 0..n {
            h.insert(
                SmallBytes::new(format!("f{i}").as_bytes()),
                SmallBytes::new(b"v"),
            );
        }
        h
    }

    #[test]
    fn resp3_encodings() {
        let ks = &mut Keyspace::new(1);
        assert_eq!(r3(ks, &["HGETALL", "h"]), "%0\r\n");
        assert_eq!(r2(ks, &["HGETALL", "h"]), "*0\r\n");
        assert_eq!(r3(ks, &["HGET", "h", "a"]), "_\r\n");
        assert_eq!(r3(ks, &["HRANDFIELD", "h"]), "_\r\n");
        assert_eq!(r3(ks, &["HRANDFIELD", "h", "3", "WITHVALUES"]), "*0\r\n");
        assert_eq!(r3(ks, &["HMGET", "h", "a", "b"]), "*2\r\n_\r\n_\r\n");
        assert_eq!(r3(ks, &["HSCAN", "h", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(r3(ks, &["HSET", "h", "a", "1", "b", "2"]), ":2\r\n");
        assert_eq!(
            r3(ks, &["HGETALL", "h"]),
            "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            r2(ks, &["HGETALL", "h"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(r3(ks, &["HKEYS", "h"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        // HRANDFIELD WITHVALUES: RESP3 nests pairs, RESP2 is flat.
        assert_eq!(
            r3(ks, &["HRANDFIELD", "h", "5", "WITHVALUES"]),
            "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(
            r2(ks, &["HRANDFIELD", "h", "5", "WITHVALUES"]),
            "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        let neg = r3(ks, &["HRANDFIELD", "h", "-3", "WITHVALUES"]);
        assert!(neg.starts_with("*3\r\n*2\r\n$1\r\n"), "{neg:?}");
        assert_eq!(neg.matches("*2\r\n").count(), 3);
        let one = r3(ks, &["HRANDFIELD", "h", "1", "WITHVALUES"]);
        assert!(one.starts_with("*1\r\n*2\r\n"), "{one:?}");
        // HSCAN stays flat in RESP3.
        assert_eq!(
            r3(ks, &["HSCAN", "h", "0"]),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
    }

    #[test]
    fn hdel_keeps_order_of_small_hashes_only() {
        let ks = &mut Keyspace::new(1);
        assert_eq!(
            r2(ks, &["HSET", "h", "a", "1", "b", "2", "c", "3"]),
            ":3\r\n"
        );
        assert_eq!(r2(ks, &["HDEL", "h", "a"]), ":1\r\n");
        assert_eq!(r2(ks, &["HKEYS", "h"]), "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
        // Above 512 fields a delete moves the last field into the hole.
        let mut args = vec!["HSET".to_string(), "big".into()];
        for i in 0..600 {
            args.push(format!("f{i}"));
            args.push("v".into());
        }
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        assert_eq!(r2(ks, &args), ":600\r\n");
        assert_eq!(r2(ks, &["HDEL", "big", "f0", "nope"]), ":1\r\n");
        let v = ks.lookup_read(0, b"big", NOW).unwrap();
        let h = v.as_hash().unwrap();
        assert_eq!(h.get_index(0).unwrap().0.as_slice(), b"f599");
        assert_eq!(h.len(), 599);
        // Emptying deletes the key; a later field in the same HDEL is not counted twice.
        assert_eq!(r2(ks, &["HDEL", "h", "b", "c", "b"]), ":2\r\n");
        assert_eq!(r2(ks, &["EXISTS", "h"]), ":0\r\n");
    }

    #[test]
    fn random_reply_bound() {
        let ks = &mut Keyspace::new(1);
        assert_eq!(r2(ks, &["HSET", "h", "a", "1"]), ":1\r\n");
        let over = format!("-{}", MAX_RANDOM_ITEMS + 1);
        assert_eq!(
            r2(ks, &["HRANDFIELD", "h", &over]),
            "-ERR value is out of range\r\n"
        );
        // A missing key or a positive count never hits it.
        assert_eq!(r2(ks, &["HRANDFIELD", "nokey", &over]), "*0\r\n");
        assert_eq!(
            r2(ks, &["HRANDFIELD", "h", "9223372036854775807"]),
            "*1\r\n$1\r\na\r\n"
        );
    }

    #[test]
    fn parse_cursor_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"12\0junk"), Some(12));
        assert_eq!(parse_cursor(b"\0junk"), Some(0));
        for bad in [
            &b"18446744073709551616"[..],
            b"-18446744073709551616",
            b" 1",
            b"1 ",
            b"+",
            b"-",
            b"x",
            b"1.5",
            b"0x1",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn scan_positions_walk_down() {
        assert_eq!(scan_positions(512, 0, 10, SMALL_HASH), (0..512, 0));
        assert_eq!(scan_positions(100, 55, 10, SMALL_HASH), (0..100, 0));
        assert_eq!(scan_positions(1000, 0, 10, SMALL_HASH), (990..1000, 990));
        assert_eq!(scan_positions(1000, 990, 10, SMALL_HASH), (980..990, 980));
        assert_eq!(scan_positions(1000, 5, 10, SMALL_HASH), (0..5, 0));
        // A cursor past the (shrunk) hash is clamped; a huge COUNT takes the rest.
        assert_eq!(scan_positions(600, 990, 10, SMALL_HASH), (590..600, 590));
        assert_eq!(
            scan_positions(600, u64::MAX, 10, SMALL_HASH),
            (590..600, 590)
        );
        assert_eq!(
            scan_positions(600, 300, usize::MAX, SMALL_HASH),
            (0..300, 0)
        );
    }

    /// Scans `h` to the end while `mutate` changes it between calls; returns every field seen.
    fn scan_all(
        h: &mut Hash,
        count: usize,
        mut mutate: impl FnMut(&mut Hash, usize),
    ) -> std::collections::HashSet<Vec<u8>> {
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0u64;
        for step in 0..100_000 {
            let (range, next) = scan_positions(h.len(), cursor, count, SMALL_HASH);
            for i in range.rev() {
                seen.insert(h.get_index(i).unwrap().0.to_vec());
            }
            if next == 0 {
                return seen;
            }
            cursor = next;
            mutate(h, step);
        }
        panic!("scan did not end");
    }

    #[test]
    fn scan_survives_concurrent_deletes_and_inserts() {
        for seed in 0..200u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let n = rng.usize(SMALL_HASH + 1..3000);
            let mut h = hash_of(n);
            // Fields never deleted must be seen; deletes use HDEL's rule (shift when small).
            let protected: Vec<Vec<u8>> = (0..n)
                .filter(|_| rng.bool())
                .map(|i| format!("f{i}").into_bytes())
                .collect();
            let is_protected: std::collections::HashSet<&[u8]> =
                protected.iter().map(|p| p.as_slice()).collect();
            let count = rng.usize(1..50);
            let mut fresh = n;
            let seen = scan_all(&mut h, count, |h, _| {
                for _ in 0..rng.usize(0..30) {
                    if h.is_empty() {
                        break;
                    }
                    let i = rng.usize(..h.len());
                    let k = h.get_index(i).unwrap().0.to_vec();
                    if is_protected.contains(k.as_slice()) {
                        continue;
                    }
                    if h.len() <= SMALL_HASH {
                        h.shift_remove(k.as_slice());
                    } else {
                        h.swap_remove(k.as_slice());
                    }
                }
                for _ in 0..rng.usize(0..5) {
                    h.insert(
                        SmallBytes::new(format!("f{fresh}").as_bytes()),
                        SmallBytes::new(b"v"),
                    );
                    fresh += 1;
                }
            });
            for p in &protected {
                assert!(seen.contains(p), "seed {seed}: {p:?} missed");
            }
        }
    }

    #[test]
    fn sample_distinct_is_distinct_and_covers() {
        let mut rng = fastrand::Rng::with_seed(7);
        for (len, count) in [
            (2, 1),
            (10, 9),
            (10, 3),
            (1000, 10),
            (1000, 400),
            (1000, 999),
        ] {
            let mut hits = vec![0u32; len];
            for _ in 0..200 {
                let s = sample_distinct(len, count, &mut rng);
                assert_eq!(s.len(), count);
                let uniq: std::collections::HashSet<_> = s.iter().collect();
                assert_eq!(uniq.len(), count, "{len}/{count}");
                for i in s {
                    hits[i] += 1;
                }
            }
            if len <= 10 {
                assert!(hits.iter().all(|&h| h > 0), "{len}/{count}: {hits:?}");
            }
        }
    }

    #[test]
    fn failed_increments_leave_no_key() {
        let ks = &mut Keyspace::new(1);
        assert_eq!(
            r2(ks, &["HINCRBY", "h", "f", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            r2(ks, &["HINCRBYFLOAT", "h", "f", "inf"]),
            "-ERR value is NaN or Infinity\r\n"
        );
        assert_eq!(r2(ks, &["EXISTS", "h"]), ":0\r\n");
        assert_eq!(r2(ks, &["HINCRBYFLOAT", "h", "f", "-0.0"]), "$1\r\n0\r\n");
        assert_eq!(r2(ks, &["HGETALL", "h"]), "*2\r\n$1\r\nf\r\n$1\r\n0\r\n");
    }
}

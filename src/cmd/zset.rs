//! Sorted-set commands: members with scores, ordered by (score, member).
//!
//! Behaviour follows Redis 7.0's `t_zset.c`, including the order of checks (ZADD parses every
//! score before the lookup; the range commands parse options, then the range, then look the key
//! up; ZUNION & co look every key up before they parse their options). A sorted set emptied by a
//! command is deleted, and a failed write never leaves an empty one behind.
//!
//! Redis keeps small sorted sets (≤ 128 members of ≤ 64 bytes) as listpacks, where a score is
//! text: a -0 score becomes 0 there, and ZSCAN returns the whole set at once with scores as the
//! listpack holds them. Our [`Zset`] has one encoding, so both are mimicked by looking at the
//! set's size ([`listpack_like`]).
//!
//! Commands over several keys (ZUNION/ZINTER/ZDIFF, their *STORE forms, ZINTERCARD, ZRANGESTORE,
//! ZMPOP) run on the connection's core (`Handler::Async`): when one shard owns every key they run
//! there in one atomic step through an internal command; otherwise each owner dumps its keys'
//! contents, the connection computes the result, and a store writes the destination on its owner
//! with a final step.

use super::keys::string_match;
use super::string::opt_is;
use super::{
    err, flags, parse_i64, AsyncFn, CommandSpec, Handler, Route, Session, ShardCtx, ShardFn,
};
use super::{parse_cursor, parse_scan_options, sample_distinct, scan_positions};
use crate::keyspace::{Set, SmallBytes, Ttl, Value, Zset};
use crate::notify;
use crate::rdb::{ZSET_MAX_LISTPACK_ENTRIES, ZSET_MAX_LISTPACK_VALUE};
use crate::resp::{format_double, Argv, CmdBatch, Proto, Reply};
use crate::shard::{shard_of, Core};
use crate::tx::join_all;
use crate::zset::cmp_entries;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const ERR_NAN: &str = "ERR resulting score is not a number (NaN)";
const ERR_XX_NX: &str = "ERR XX and NX options at the same time are not compatible";
const ERR_GT_LT_NX: &str = "ERR GT, LT, and/or NX options at the same time are not compatible";
const ERR_INCR_PAIR: &str = "ERR INCR option supports a single increment-element pair";
const ERR_MINMAX_FLOAT: &str = "ERR min or max is not a float";
const ERR_MINMAX_LEX: &str = "ERR min or max not valid string range item";
const ERR_LIMIT_RANK: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
const ERR_WITHSCORES_LEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
const ERR_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
const ERR_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const ERR_OUT_OF_RANGE: &str = "ERR value is out of range";
const ERR_INVALID_CURSOR: &str = "ERR invalid cursor";
const ERR_WEIGHT: &str = "ERR weight value is not a float";
const ERR_LIMIT_NEG: &str = "ERR LIMIT can't be negative";
const ERR_NUMKEYS_POS: &str = "ERR numkeys should be greater than 0";
const ERR_COUNT_POS: &str = "ERR count should be greater than 0";
const ERR_BAD_PART: &str = "ERR internal: unexpected reply from a shard";

/// Our own bound on the items of one ZRANDMEMBER reply with a negative count. Redis has none and
/// would build a reply of any size; we answer `ERR value is out of range` past this instead, as
/// HRANDFIELD and SRANDMEMBER do, since a reply is buffered whole before it is written.
const MAX_RANDOM_ITEMS: u64 = 1 << 24;

// Internal shard-side steps of the multi-key commands. Clients get "unknown command" for them
// (`flags::INTERNAL`).
/// `__zset-algebra <zunion|zinter|…> <the command's arguments>`: the whole command, when this
/// shard owns every key.
const ALGEBRA: &str = "__zset-algebra";
/// `__zset-dump key…`: each key's members and scores (see [`dump_part`]), or WRONGTYPE.
const DUMP: &str = "__zset-dump";
/// `__zset-check key…`: 1 if a key holds neither a set nor a sorted set (WRONGTYPE), else 0.
const CHECK: &str = "__zset-check";
/// `__zset-replace dest (member score8)…`: replaces `dest` with these pairs (deletes it when none).
const REPLACE: &str = "__zset-replace";
/// `__zset-rangestore dst src min max [options]`: ZRANGESTORE when one shard owns both keys.
const RANGESTORE: &str = "__zset-rangestore";
/// `__zset-rangedump src min max [options]`: ZRANGESTORE's range of `src`, dumped as pairs.
const RANGEDUMP: &str = "__zset-rangedump";
/// `__zset-mpop MIN|MAX count key…`: ZMPOP over keys this shard owns.
const MPOP: &str = "__zset-mpop";

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let key = CommandSpec::single_key;
    t.push(key("zadd", -4, WRITE | DENYOOM | FAST, zadd));
    t.push(key("zincrby", 4, WRITE | DENYOOM | FAST, zincrby));
    t.push(key("zrem", -3, WRITE | FAST, zrem));
    t.push(key("zcard", 2, READONLY | FAST, zcard));
    t.push(key("zscore", 3, READONLY | FAST, zscore));
    t.push(key("zmscore", -3, READONLY | FAST, zmscore));
    t.push(key("zrank", 3, READONLY | FAST, zrank));
    t.push(key("zrevrank", 3, READONLY | FAST, zrevrank));
    t.push(key("zcount", 4, READONLY | FAST, zcount));
    t.push(key("zlexcount", 4, READONLY | FAST, zlexcount));
    t.push(key("zrange", -4, READONLY, zrange));
    t.push(key("zrangebyscore", -4, READONLY, zrangebyscore));
    t.push(key("zrevrange", -4, READONLY, zrevrange));
    t.push(key("zrevrangebyscore", -4, READONLY, zrevrangebyscore));
    t.push(key("zrangebylex", -4, READONLY, zrangebylex));
    t.push(key("zrevrangebylex", -4, READONLY, zrevrangebylex));
    t.push(key("zpopmin", -2, WRITE | FAST, zpopmin));
    t.push(key("zpopmax", -2, WRITE | FAST, zpopmax));
    t.push(key("zremrangebyrank", 4, WRITE, zremrangebyrank));
    t.push(key("zremrangebyscore", 4, WRITE, zremrangebyscore));
    t.push(key("zremrangebylex", 4, WRITE, zremrangebylex));
    t.push(key("zrandmember", -2, READONLY, zrandmember));
    t.push(key("zscan", -3, READONLY, zscan));

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
    // Key positions as Redis reports them; keys found through numkeys ("movablekeys") are 0, 0, 0
    // except for the *STORE forms, whose destination is at 1.
    t.push(multi(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        (1, 2, 1),
        zrangestore,
    ));
    t.push(multi("zmpop", -4, WRITE, (0, 0, 0), zmpop));
    t.push(multi(
        "zunionstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        zunionstore,
    ));
    t.push(multi(
        "zinterstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        zinterstore,
    ));
    t.push(multi(
        "zdiffstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        zdiffstore,
    ));
    t.push(multi("zunion", -3, READONLY, (0, 0, 0), zunion));
    t.push(multi("zinter", -3, READONLY, (0, 0, 0), zinter));
    t.push(multi("zdiff", -3, READONLY, (0, 0, 0), zdiff));
    t.push(multi("zintercard", -3, READONLY, (0, 0, 0), zintercard));

    let internal = |name: &'static str, arity: i32, flags: u32, f: ShardFn| {
        CommandSpec::single_key(name, arity, flags | INTERNAL, f)
    };
    t.push(internal(ALGEBRA, -3, WRITE | DENYOOM, algebra_part));
    t.push(internal(DUMP, -2, READONLY, dump_part));
    t.push(internal(CHECK, -2, READONLY, check_part));
    t.push(internal(REPLACE, -3, WRITE | DENYOOM, replace_part));
    t.push(internal(RANGESTORE, -5, WRITE | DENYOOM, rangestore_part));
    t.push(internal(RANGEDUMP, -4, READONLY, rangedump_part));
    t.push(internal(MPOP, -4, WRITE, mpop_part));
}

// ---------------------------------------------------------------------------------------------
// Numbers: Redis's parsing (strtod) and printing (d2string)
// ---------------------------------------------------------------------------------------------

/// C's `isspace` in the C locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// glibc's `strtod` on `s`: the value of the longest prefix that is a number (after leading white
/// space: a decimal or hexadecimal float, "inf"/"infinity" or "nan"/"nan(...)", any case,
/// optionally signed), how many bytes that prefix takes (0 when there is no number), and whether
/// it over- or underflowed (`ERANGE` with ±HUGE_VAL or zero). Decimals are correctly rounded.
pub(crate) fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let signed = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];
    let starts = |p: &[u8]| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"inf") {
        let n = if starts(b"infinity") { 8 } else { 3 };
        return (signed(f64::INFINITY), i + n, false);
    }
    if starts(b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let inner = rest[4..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if rest.get(4 + inner) == Some(&b')') {
                n = 5 + inner;
            }
        }
        return (f64::NAN, i + n, false);
    }
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        return match hex_float(&rest[2..]) {
            Some((v, n, nonzero)) => (
                signed(v),
                i + 2 + n,
                v.is_infinite() || (v == 0.0 && nonzero),
            ),
            // Only the "0" is a number.
            None => (signed(0.0), i + 1, false),
        };
    }
    let digits = |from: usize| {
        rest[from.min(rest.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let int_digits = digits(0);
    let mut j = int_digits;
    let mut frac_digits = 0;
    if rest.get(j) == Some(&b'.') {
        frac_digits = digits(j + 1);
        j += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return (0.0, 0, false);
    }
    let nonzero = rest[..j].iter().any(|c| (b'1'..=b'9').contains(c));
    if j < rest.len() && (rest[j] | 0x20) == b'e' {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        let exp_digits = digits(k);
        if exp_digits > 0 {
            j = k + exp_digits;
        }
    }
    // The prefix is ASCII digits, '.', 'e' and a sign: a form Rust's parser accepts.
    let v = std::str::from_utf8(&rest[..j])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(0.0);
    (signed(v), i + j, v.is_infinite() || (v == 0.0 && nonzero))
}

/// The hexadecimal float after "0x" (digits, an optional '.' and digits, an optional p-exponent):
/// its value, the bytes taken and whether any digit was nonzero; `None` when no hex digit follows.
fn hex_float(s: &[u8]) -> Option<(f64, usize, bool)> {
    let hex = |c: u8| (c as char).to_digit(16).map(u64::from);
    // Up to 15 significant hex digits (60 bits); later ones only matter as a sticky bit.
    let (mut mant, mut sig, mut exp2, mut sticky, mut any) = (0u64, 0, 0i64, false, false);
    let mut j = 0;
    let mut frac = false;
    while let Some(&c) = s.get(j) {
        if c == b'.' && !frac {
            frac = true;
        } else {
            let Some(d) = hex(c) else { break };
            any = true;
            if mant == 0 && d == 0 {
                if frac {
                    exp2 -= 4;
                }
            } else if sig < 15 {
                mant = (mant << 4) | d;
                sig += 1;
                if frac {
                    exp2 -= 4;
                }
            } else {
                sticky |= d != 0;
                if !frac {
                    exp2 += 4;
                }
            }
        }
        j += 1;
    }
    if !any {
        return None;
    }
    if j < s.len() && (s[j] | 0x20) == b'p' {
        let mut k = j + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let n = s[k.min(s.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n > 0 {
            let e = s[k..k + n]
                .iter()
                .fold(0i64, |e, &c| (e * 10 + i64::from(c - b'0')).min(1 << 20));
            exp2 += if neg { -e } else { e };
            j = k + n;
        }
    }
    // One extra low bit carries the sticky digits into the (correctly rounded) conversion.
    let mut v = ((mant << 1) | u64::from(sticky)) as f64;
    let mut e = exp2.clamp(-4000, 4000) - 1;
    while e > 0 {
        let step = e.min(1000);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = (-e).min(1000);
        v /= 2f64.powi(step as i32);
        e += step;
    }
    Some((v, j, mant != 0 || sticky))
}

/// Redis's `string2d` (ZADD scores, ZINCRBY increments, WEIGHTS): the whole argument must be a
/// `strtod` number; empty, leading space, NaN, overflow and underflow to zero are rejected.
fn parse_score(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&c| is_c_space(c)) {
        return None;
    }
    let (v, n, erange) = strtod(s);
    (n == s.len() && !erange && !v.is_nan()).then_some(v)
}

/// One end of a score range as `zslParseRange` reads it: an optional "(" (exclusive), then
/// `strtod` up to the first NUL (so "" is 0 and overflow is ±inf); NaN is refused.
fn parse_score_bound(s: &[u8]) -> Option<(f64, bool)> {
    let (body, ex) = match s.first() {
        Some(b'(') => (&s[1..], true),
        _ => (s, false),
    };
    let (v, n, _) = strtod(body);
    let whole = n == body.len() || body[n] == 0;
    (whole && !v.is_nan()).then_some((v, ex))
}

/// `d2string`: how a listpack holds a score (integers in ±2^62 as integers, else `%.17g`).
/// Only small sets are listpacks, and those never hold -0 (see [`put`]), so zero is "0".
fn d2string(v: f64) -> Vec<u8> {
    const LIMIT: f64 = 4611686018427387904.0; // 2^62, Redis's (double)(LLONG_MAX/2)
    if v == 0.0 {
        return b"0".to_vec();
    }
    if v.fract() == 0.0 && (-LIMIT..=LIMIT).contains(&v) {
        return itoa::Buffer::new().format(v as i64).as_bytes().to_vec();
    }
    format_double(v).into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------------------------

/// A score interval (`zrangespec`).
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_score_bound(min)?;
        let (max, maxex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// The ascending ranks `lo..hi` of the members in range (`hi <= lo` when there are none).
    fn ranks(&self, z: &Zset) -> (usize, usize) {
        let lo = z.partition_point(|_, s| !self.gte_min(s));
        let hi = z.partition_point(|_, s| self.lte_max(s));
        (lo, hi)
    }
}

/// One end of a lex range: "-" and "+" are below and above every member.
#[derive(Clone, Copy, Debug)]
enum Lex<'a> {
    Min,
    Max,
    Incl(&'a [u8]),
    Excl(&'a [u8]),
}

/// A member interval (`zlexrangespec`). As in Redis it is only meaningful when every score is
/// equal; otherwise the answer is some (unspecified) slice of the set.
#[derive(Clone, Copy, Debug)]
struct LexRange<'a> {
    min: Lex<'a>,
    max: Lex<'a>,
}

impl<'a> LexRange<'a> {
    /// `zslParseLexRangeItem` on both ends: "+"/"-" alone (up to a NUL), or "(" / "[" then the
    /// member bytes.
    fn parse(min: &'a [u8], max: &'a [u8]) -> Option<LexRange<'a>> {
        fn item(s: &[u8]) -> Option<Lex<'_>> {
            match *s.first()? {
                b'+' => (s.len() == 1 || s[1] == 0).then_some(Lex::Max),
                b'-' => (s.len() == 1 || s[1] == 0).then_some(Lex::Min),
                b'(' => Some(Lex::Excl(&s[1..])),
                b'[' => Some(Lex::Incl(&s[1..])),
                _ => None,
            }
        }
        Some(LexRange {
            min: item(min)?,
            max: item(max)?,
        })
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        match self.min {
            Lex::Min => true,
            Lex::Max => false,
            Lex::Incl(b) => m >= b,
            Lex::Excl(b) => m > b,
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        match self.max {
            Lex::Min => false,
            Lex::Max => true,
            Lex::Incl(b) => m <= b,
            Lex::Excl(b) => m < b,
        }
    }

    fn ranks(&self, z: &Zset) -> (usize, usize) {
        let lo = z.partition_point(|m, _| !self.gte_min(m));
        let hi = z.partition_point(|m, _| self.lte_max(m));
        (lo, hi)
    }
}

/// Redis's rank normalization (negative from the end, clamped): the inclusive ranks, or `None`
/// for an empty range.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let (mut s, mut e) = (start, end);
    if s < 0 {
        s += len;
    }
    if e < 0 {
        e += len;
    }
    s = s.max(0);
    if s > e || s >= len {
        return None;
    }
    e = e.min(len - 1);
    Some((s as usize, e as usize))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    Auto,
    Fwd,
    Rev,
}

#[derive(Clone, Copy, Debug)]
enum Bounds<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

/// A parsed ZRANGE-family request.
#[derive(Clone, Copy, Debug)]
struct RangeSpec<'a> {
    bounds: Bounds<'a>,
    rev: bool,
    withscores: bool,
    offset: i64,
    /// Negative: no limit.
    limit: i64,
}

/// Redis's `zrangeGenericCommand` parsing of `<key> <min> <max> [options]` with the key at
/// `args[k]`: the options first (in order, LIMIT's integers as they come), then the conflicts,
/// then the range itself.
fn parse_range<'a>(
    args: &[&'a [u8]],
    k: usize,
    store: bool,
    mut rt: RangeType,
    mut dir: Dir,
) -> Result<RangeSpec<'a>, &'static str> {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = k + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if !store && opt_is(a, "withscores") {
            withscores = true;
        } else if opt_is(a, "limit") && left >= 2 {
            offset = parse_i64(args[j + 1]).ok_or(err::NOT_INTEGER)?;
            limit = parse_i64(args[j + 2]).ok_or(err::NOT_INTEGER)?;
            j += 2;
        } else if dir == Dir::Auto && opt_is(a, "rev") {
            dir = Dir::Rev;
        } else if rt == RangeType::Auto && opt_is(a, "bylex") {
            rt = RangeType::Lex;
        } else if rt == RangeType::Auto && opt_is(a, "byscore") {
            rt = RangeType::Score;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    if rt == RangeType::Auto {
        rt = RangeType::Rank;
    }
    let rev = dir == Dir::Rev;
    // Redis only objects to a LIMIT whose count is not -1.
    if limit != -1 && rt == RangeType::Rank {
        return Err(ERR_LIMIT_RANK);
    }
    if withscores && rt == RangeType::Lex {
        return Err(ERR_WITHSCORES_LEX);
    }
    let (mut lo, mut hi) = (args[k + 1], args[k + 2]);
    if rev && rt != RangeType::Rank {
        // Given as max, min.
        std::mem::swap(&mut lo, &mut hi);
    }
    let bounds = match rt {
        RangeType::Score => Bounds::Score(ScoreRange::parse(lo, hi).ok_or(ERR_MINMAX_FLOAT)?),
        RangeType::Lex => Bounds::Lex(LexRange::parse(lo, hi).ok_or(ERR_MINMAX_LEX)?),
        _ => Bounds::Rank(
            parse_i64(lo).ok_or(err::NOT_INTEGER)?,
            parse_i64(hi).ok_or(err::NOT_INTEGER)?,
        ),
    };
    Ok(RangeSpec {
        bounds,
        rev,
        withscores,
        offset,
        limit,
    })
}

/// Where a range starts (an ascending rank) and how many members it has, walking up or (`rev`)
/// down from there. LIMIT applies to score and lex ranges: a negative offset selects nothing, as
/// Redis's walk past the end does; a negative count means no limit.
fn select(z: &Zset, spec: &RangeSpec<'_>) -> (usize, usize) {
    let (lo, hi) = match spec.bounds {
        Bounds::Rank(start, end) => {
            return match rank_span(start, end, z.len()) {
                None => (0, 0),
                Some((s, e)) if spec.rev => (z.len() - 1 - s, e - s + 1),
                Some((s, e)) => (s, e - s + 1),
            };
        }
        Bounds::Score(r) => r.ranks(z),
        Bounds::Lex(r) => r.ranks(z),
    };
    let n = hi.saturating_sub(lo) as u64;
    let Ok(offset) = u64::try_from(spec.offset) else {
        return (0, 0);
    };
    if offset >= n {
        return (0, 0);
    }
    let avail = n - offset;
    let count = u64::try_from(spec.limit).map_or(avail, |l| l.min(avail)) as usize;
    let offset = offset as usize;
    if spec.rev {
        (hi - 1 - offset, count)
    } else {
        (lo + offset, count)
    }
}

/// Calls `f` on `count` members from ascending rank `first`, upwards or (`rev`) downwards.
fn for_range<'z>(
    z: &'z Zset,
    first: usize,
    count: usize,
    rev: bool,
    mut f: impl FnMut(&'z [u8], f64),
) {
    if count == 0 {
        return;
    }
    if rev {
        for (m, s) in z.iter_rev_from(first).take(count) {
            f(m, s);
        }
    } else {
        for (m, s) in z.iter_from(first).take(count) {
            f(m, s);
        }
    }
}

/// The header of a reply of `n` members, with scores if asked: RESP2 flat, RESP3 pairs.
fn pairs_header(out: &mut Reply, n: usize, withscores: bool) {
    if withscores && out.proto == Proto::Resp2 {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

/// One member of such a reply.
fn pair_item(out: &mut Reply, m: &[u8], s: f64, withscores: bool) {
    if withscores && out.proto == Proto::Resp3 {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// The key holds another type.
struct WrongType;

/// The sorted set at `key` for reading: `Ok(None)` when missing (an empty one, never stored,
/// reads as missing too).
fn read<'c>(ctx: &'c mut ShardCtx<'_>, key: &[u8]) -> Result<Option<&'c Zset>, WrongType> {
    match ctx.ks.lookup_read(ctx.db, key, ctx.now_ms) {
        None => Ok(None),
        Some(v) => match v.as_zset() {
            Some(z) => Ok((!z.is_empty()).then_some(z)),
            None => Err(WrongType),
        },
    }
}

/// Would Redis keep this set as a listpack (≤ 128 members, none longer than 64 bytes)?
fn listpack_like(z: &Zset) -> bool {
    z.len() <= ZSET_MAX_LISTPACK_ENTRIES
        && z.iter().all(|(m, _)| m.len() <= ZSET_MAX_LISTPACK_VALUE)
}

/// Inserts or updates `member`. A -0 score is stored as 0 when the set is listpack-sized after
/// the insert: Redis keeps a listpack's scores as text, where the sign of zero is lost.
fn put(z: &mut Zset, member: &[u8], score: f64) {
    let neg_zero = score == 0.0 && score.is_sign_negative();
    let score = if neg_zero
        && member.len() <= ZSET_MAX_LISTPACK_VALUE
        && z.len() + usize::from(z.score(member).is_none()) <= ZSET_MAX_LISTPACK_ENTRIES
        && listpack_like(z)
    {
        0.0
    } else {
        score
    };
    z.insert(member, score);
}

/// A new sorted set from distinct pairs, as a *STORE builds its destination (a listpack-sized
/// result loses the sign of its zeros, as in Redis).
fn build_zset<M: std::borrow::Borrow<[u8]>>(pairs: &[(M, f64)]) -> Zset {
    let small = pairs.len() <= ZSET_MAX_LISTPACK_ENTRIES
        && pairs
            .iter()
            .all(|(m, _)| m.borrow().len() <= ZSET_MAX_LISTPACK_VALUE);
    let mut z = Zset::with_capacity(pairs.len());
    for (m, s) in pairs {
        let s = if small && *s == 0.0 { 0.0 } else { *s };
        z.insert(m.borrow(), s);
    }
    z
}

/// Stores `z` at `dest` whatever it held (its TTL cleared), or deletes `dest` when `z` is empty;
/// replies the size. One change either way (none when nothing was deleted), as Redis counts.
fn store_zset(ctx: &mut ShardCtx<'_>, event: &'static str, dest: &[u8], z: Zset, out: &mut Reply) {
    let n = z.len();
    if n > 0 {
        ctx.ks
            .set(ctx.db, dest, Value::zset(z), Ttl::Clear, ctx.now_ms);
        ctx.ks.add_dirty(1);
        ctx.notify(notify::ZSET, event, dest);
    } else if ctx.ks.remove(ctx.db, dest, ctx.now_ms).is_some() {
        ctx.ks.add_dirty(1);
        ctx.notify(notify::GENERIC, "del", dest);
    }
    out.int(n as i64);
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AddOut {
    /// Nothing done (NX/XX/GT/LT said no).
    Nop,
    Added,
    Updated,
    /// Processed, score unchanged.
    Same,
}

/// Redis's `zsetAdd`: the outcome and the member's new score, or `Err` for a NaN increment.
fn zadd_one(z: &mut Zset, score: f64, member: &[u8], f: AddFlags) -> Result<(AddOut, f64), ()> {
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return Ok((AddOut::Nop, score));
            }
            let mut score = score;
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return Err(());
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return Ok((AddOut::Nop, score));
            }
            if score != cur {
                put(z, member, score);
                Ok((AddOut::Updated, score))
            } else {
                Ok((AddOut::Same, score))
            }
        }
        None if !f.xx => {
            put(z, member, score);
            Ok((AddOut::Added, score))
        }
        None => Ok((AddOut::Nop, score)),
    }
}

fn zadd(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zadd_generic(ctx, argv, out, false)
}

fn zincrby(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zadd_generic(ctx, argv, out, true)
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …], and ZINCRBY (ZADD INCR
/// with its own arity): options, then the pair count, the conflicts, every score, the lookup.
fn zadd_generic(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, zincrby: bool) {
    let mut f = AddFlags {
        incr: zincrby,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut idx = 2;
    while idx < argv.len() {
        let o = argv.get(idx);
        if opt_is(o, "nx") {
            f.nx = true;
        } else if opt_is(o, "xx") {
            f.xx = true;
        } else if opt_is(o, "ch") {
            ch = true;
        } else if opt_is(o, "incr") {
            f.incr = true;
        } else if opt_is(o, "gt") {
            f.gt = true;
        } else if opt_is(o, "lt") {
            f.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = argv.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return out.error(err::SYNTAX);
    }
    let n = elements / 2;
    if f.nx && f.xx {
        return out.error(ERR_XX_NX);
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return out.error(ERR_GT_LT_NX);
    }
    if f.incr && n > 1 {
        return out.error(ERR_INCR_PAIR);
    }
    let mut scores = Vec::with_capacity(n);
    for j in 0..n {
        match parse_score(argv.get(idx + 2 * j)) {
            Some(s) => scores.push(s),
            None => return out.error(err::NOT_FLOAT),
        }
    }
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let mut fresh: Option<Zset> = None;
    let z = match ctx.ks.lookup_write(db, key, now) {
        Some(slot) => match slot.as_zset_mut() {
            Some(z) => z,
            None => return out.error(err::WRONGTYPE),
        },
        // No key and XX: nothing to do.
        None if f.xx => {
            return if f.incr { out.null() } else { out.int(0) };
        }
        None => fresh.insert(Zset::with_capacity(n)),
    };
    let (mut added, mut updated, mut processed) = (0u64, 0u64, 0u64);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        match zadd_one(z, score, argv.get(idx + 2 * j + 1), f) {
            Err(()) => {
                nan = true;
                break;
            }
            Ok((o, s)) => {
                added += u64::from(o == AddOut::Added);
                updated += u64::from(o == AddOut::Updated);
                processed += u64::from(o != AddOut::Nop);
                last = s;
            }
        }
    }
    if let Some(z) = fresh {
        if !z.is_empty() {
            ctx.ks.set(db, key, Value::zset(z), Ttl::Clear, now);
        }
    }
    if nan {
        // Redis skips its change count on this error (only INCR, one pair, can get here).
        return out.error(ERR_NAN);
    }
    ctx.ks.add_dirty(added + updated);
    if added + updated > 0 {
        ctx.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if f.incr {
        if processed > 0 {
            out.double(last);
        } else {
            out.null();
        }
    } else {
        out.int((if ch { added + updated } else { added }) as i64);
    }
}

fn zrem(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(slot) = ctx.ks.lookup_write(db, key, now) else {
        return out.int(0);
    };
    let Some(z) = slot.as_zset_mut() else {
        return out.error(err::WRONGTYPE);
    };
    let mut deleted = 0u64;
    for m in argv.tail(2) {
        deleted += u64::from(z.remove(m).is_some());
        if z.is_empty() {
            break;
        }
    }
    let empty = z.is_empty();
    if deleted > 0 {
        ctx.notify(notify::ZSET, "zrem", key);
        if empty {
            ctx.ks.remove(db, key, now);
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.ks.add_dirty(deleted);
    out.int(deleted as i64);
}

// ---------------------------------------------------------------------------------------------
// Reads: ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT
// ---------------------------------------------------------------------------------------------

fn zcard(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(z) => out.int(z.map_or(0, |z| z.len()) as i64),
    }
}

fn zscore(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(z) => match z.and_then(|z| z.score(argv.get(2))) {
            Some(s) => out.double(s),
            None => out.null(),
        },
    }
}

/// ZMSCORE: a missing key is an empty set (all nils).
fn zmscore(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let z = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(z) => z,
    };
    out.array(argv.len() - 2);
    for m in argv.tail(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
}

fn rank_generic(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, rev: bool) {
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(z) => match z.and_then(|z| Some((z.rank(argv.get(2))?, z.len()))) {
            Some((r, len)) => out.int((if rev { len - 1 - r } else { r }) as i64),
            None => out.null(),
        },
    }
}

fn zrank(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    rank_generic(ctx, argv, out, false)
}

fn zrevrank(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    rank_generic(ctx, argv, out, true)
}

/// ZCOUNT: the range is parsed before the lookup.
fn zcount(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(r) = ScoreRange::parse(argv.get(2), argv.get(3)) else {
        return out.error(ERR_MINMAX_FLOAT);
    };
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(z) => out.int(z.map_or(0, |z| {
            let (lo, hi) = r.ranks(z);
            hi.saturating_sub(lo)
        }) as i64),
    }
}

fn zlexcount(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(r) = LexRange::parse(argv.get(2), argv.get(3)) else {
        return out.error(ERR_MINMAX_LEX);
    };
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(z) => out.int(z.map_or(0, |z| {
            let (lo, hi) = r.ranks(z);
            hi.saturating_sub(lo)
        }) as i64),
    }
}

// ---------------------------------------------------------------------------------------------
// The ZRANGE family
// ---------------------------------------------------------------------------------------------

/// What a range command does with its range.
#[derive(Clone, Copy)]
enum RangeOut<'a> {
    /// Reply the members (ZRANGE & co).
    Client,
    /// Store them at this key and reply the count (ZRANGESTORE on one shard).
    Store(&'a [u8]),
    /// Reply them as a dump of pairs (ZRANGESTORE's source step across shards).
    Dump,
}

/// Redis's `zrangeGenericCommand` with the source key at `args[k]`.
fn range_generic(
    ctx: &mut ShardCtx<'_>,
    args: &[&[u8]],
    k: usize,
    rt: RangeType,
    dir: Dir,
    to: RangeOut<'_>,
    out: &mut Reply,
) {
    let store = !matches!(to, RangeOut::Client);
    let spec = match parse_range(args, k, store, rt, dir) {
        Ok(s) => s,
        Err(e) => return out.error(e),
    };
    let z = match read(ctx, args[k]) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(z) => z,
    };
    let (first, count) = z.map_or((0, 0), |z| select(z, &spec));
    match to {
        RangeOut::Client => {
            let withscores = spec.withscores;
            pairs_header(out, count, withscores);
            if let Some(z) = z {
                for_range(z, first, count, spec.rev, |m, s| {
                    pair_item(out, m, s, withscores)
                });
            }
        }
        RangeOut::Dump => {
            out.array(count * 2);
            if let Some(z) = z {
                for_range(z, first, count, spec.rev, |m, s| dump_pair(out, m, s));
            }
        }
        RangeOut::Store(dest) => {
            let built = match z {
                None => Zset::new(),
                Some(z) => {
                    let mut pairs = Vec::with_capacity(count);
                    for_range(z, first, count, spec.rev, |m, s| pairs.push((m, s)));
                    build_zset(&pairs)
                }
            };
            store_zset(ctx, "zrangestore", dest, built, out);
        }
    }
}

fn range_cmd(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, rt: RangeType, dir: Dir) {
    let args: Vec<&[u8]> = argv.iter().collect();
    range_generic(ctx, &args, 1, rt, dir, RangeOut::Client, out)
}

fn zrange(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    range_cmd(ctx, argv, out, RangeType::Auto, Dir::Auto)
}

fn zrevrange(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    range_cmd(ctx, argv, out, RangeType::Rank, Dir::Rev)
}

fn zrangebyscore(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    range_cmd(ctx, argv, out, RangeType::Score, Dir::Fwd)
}

fn zrevrangebyscore(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    range_cmd(ctx, argv, out, RangeType::Score, Dir::Rev)
}

fn zrangebylex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    range_cmd(ctx, argv, out, RangeType::Lex, Dir::Fwd)
}

fn zrevrangebylex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    range_cmd(ctx, argv, out, RangeType::Lex, Dir::Rev)
}

/// `__zset-rangestore dst src min max [options]`: ZRANGESTORE, both keys here.
fn rangestore_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let args: Vec<&[u8]> = argv.iter().collect();
    let dest = args[1];
    range_generic(
        ctx,
        &args,
        2,
        RangeType::Auto,
        Dir::Auto,
        RangeOut::Store(dest),
        out,
    )
}

/// `__zset-rangedump src min max [options]`: ZRANGESTORE's source half.
fn rangedump_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let args: Vec<&[u8]> = argv.iter().collect();
    range_generic(
        ctx,
        &args,
        1,
        RangeType::Auto,
        Dir::Auto,
        RangeOut::Dump,
        out,
    )
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX
// ---------------------------------------------------------------------------------------------

fn zremrange(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, rt: RangeType) {
    let (lo_arg, hi_arg) = (argv.get(2), argv.get(3));
    let bounds = match rt {
        RangeType::Score => match ScoreRange::parse(lo_arg, hi_arg) {
            Some(r) => Bounds::Score(r),
            None => return out.error(ERR_MINMAX_FLOAT),
        },
        RangeType::Lex => match LexRange::parse(lo_arg, hi_arg) {
            Some(r) => Bounds::Lex(r),
            None => return out.error(ERR_MINMAX_LEX),
        },
        _ => match (parse_i64(lo_arg), parse_i64(hi_arg)) {
            (Some(s), Some(e)) => Bounds::Rank(s, e),
            _ => return out.error(err::NOT_INTEGER),
        },
    };
    let (key, db, now) = (argv.get(1), ctx.db, ctx.now_ms);
    let Some(slot) = ctx.ks.lookup_write(db, key, now) else {
        return out.int(0);
    };
    let Some(z) = slot.as_zset_mut() else {
        return out.error(err::WRONGTYPE);
    };
    let (lo, hi) = match bounds {
        Bounds::Rank(s, e) => match rank_span(s, e, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => return out.int(0),
        },
        Bounds::Score(r) => r.ranks(z),
        Bounds::Lex(r) => r.ranks(z),
    };
    let deleted = if hi > lo {
        z.remove_rank_range(lo, hi)
    } else {
        0
    };
    let empty = z.is_empty();
    if deleted > 0 {
        let event = match rt {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        ctx.notify(notify::ZSET, event, key);
        if empty {
            ctx.ks.remove(db, key, now);
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.ks.add_dirty(deleted as u64);
    out.int(deleted as i64);
}

fn zremrangebyrank(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zremrange(ctx, argv, out, RangeType::Rank)
}

fn zremrangebyscore(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zremrange(ctx, argv, out, RangeType::Score)
}

fn zremrangebylex(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zremrange(ctx, argv, out, RangeType::Lex)
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP's shard step
// ---------------------------------------------------------------------------------------------

/// How a pop replies (Redis's `genericZpopCommand` flags).
#[derive(Clone, Copy)]
struct PopShape {
    /// [member, score] pairs nested (RESP3 with a count; ZMPOP always).
    nested: bool,
    /// The key's name first (ZMPOP: `[key, [pairs]]`).
    emitkey: bool,
    /// Nothing to pop: a null array rather than an empty one.
    nil_when_empty: bool,
}

/// Pops from the first of `keys` that exists (WRONGTYPE if that one is not a sorted set):
/// `count` members (`None`: one, plain), lowest or (`max`) highest first.
fn zpop_generic(
    ctx: &mut ShardCtx<'_>,
    keys: &[&[u8]],
    max: bool,
    count: Option<u64>,
    shape: PopShape,
    out: &mut Reply,
) {
    let (db, now) = (ctx.db, ctx.now_ms);
    let mut found = None;
    for &k in keys {
        match ctx.ks.lookup_write(db, k, now) {
            None => continue,
            Some(slot) if slot.as_zset().is_none() => return out.error(err::WRONGTYPE),
            Some(_) => {
                found = Some(k);
                break;
            }
        }
    }
    let Some(key) = found else {
        return if shape.nil_when_empty {
            out.null_array()
        } else {
            out.array(0)
        };
    };
    if count == Some(0) {
        return out.array(0);
    }
    let Some(z) = ctx
        .ks
        .lookup_write(db, key, now)
        .and_then(|s| s.as_zset_mut())
    else {
        return out.array(0);
    };
    let len = z.len();
    let n = count.unwrap_or(1).min(len as u64) as usize;
    match (shape.nested, shape.emitkey) {
        (false, false) => out.array(n * 2),
        (true, false) => out.array(n),
        (false, true) => {
            out.array(n * 2 + 1);
            out.bulk(key);
        }
        (true, true) => {
            out.array(2);
            out.bulk(key);
            out.array(n);
        }
    }
    let (first, start) = if max {
        (len.saturating_sub(1), len - n)
    } else {
        (0, 0)
    };
    for_range(z, first, n, max, |m, s| {
        if shape.nested {
            out.array(2);
        }
        out.bulk(m);
        out.double(s);
    });
    z.remove_rank_range(start, start + n);
    let empty = z.is_empty();
    ctx.ks.add_dirty(n as u64);
    if n > 0 {
        ctx.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    }
    if empty {
        ctx.ks.remove(db, key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
}

/// ZPOPMIN/ZPOPMAX key [count]: a flat array, except RESP3 with a count (pairs).
fn zpop_cmd(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply, max: bool) {
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
    let shape = PopShape {
        nested: out.proto == Proto::Resp3 && count.is_some(),
        emitkey: false,
        nil_when_empty: false,
    };
    zpop_generic(ctx, &[argv.get(1)], max, count, shape, out)
}

fn zpopmin(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zpop_cmd(ctx, argv, out, false)
}

fn zpopmax(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    zpop_cmd(ctx, argv, out, true)
}

/// `__zset-mpop MIN|MAX count key…`: ZMPOP over keys this shard owns (already validated).
fn mpop_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let max = opt_is(argv.get(1), "max");
    let count = parse_i64(argv.get(2)).unwrap_or(1).max(1).unsigned_abs();
    let keys: Vec<&[u8]> = argv.tail(3).collect();
    let shape = PopShape {
        nested: true,
        emitkey: true,
        nil_when_empty: true,
    };
    zpop_generic(ctx, &keys, max, Some(count), shape, out)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------------------------

/// ZRANDMEMBER key [count [WITHSCORES]]: the count is checked before the lookup.
fn zrandmember(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if argv.len() >= 3 {
        let l = match parse_i64(argv.get(2)) {
            None => return out.error(err::NOT_INTEGER),
            Some(i64::MIN) => return out.error(ERR_COUNT_RANGE),
            Some(c) => c,
        };
        if argv.len() > 4 || (argv.len() == 4 && !opt_is(argv.get(3), "withscores")) {
            return out.error(err::SYNTAX);
        }
        let withscores = argv.len() == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return out.error(ERR_OUT_OF_RANGE);
        }
        return zrandmember_count(ctx, argv.get(1), l, withscores, out);
    }
    match read(ctx, argv.get(1)) {
        Err(WrongType) => out.error(err::WRONGTYPE),
        Ok(None) => out.null(),
        Ok(Some(z)) => {
            let i = fastrand::usize(..z.len());
            match z.by_position(i) {
                Some((m, _)) => out.bulk(m),
                None => out.null(),
            }
        }
    }
}

/// A positive count gives distinct members (at most the set's size; the whole set comes
/// highest first, as Redis iterates it), a negative one exactly |count| that may repeat.
fn zrandmember_count(
    ctx: &mut ShardCtx<'_>,
    key: &[u8],
    l: i64,
    withscores: bool,
    out: &mut Reply,
) {
    let z = match read(ctx, key) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(None) => return out.array(0),
        Ok(Some(z)) => z,
    };
    let count = l.unsigned_abs();
    if count == 0 {
        return out.array(0);
    }
    let mut rng = fastrand::Rng::new();
    let len = z.len();
    let item = |out: &mut Reply, i: usize| {
        if let Some((m, s)) = z.by_position(i) {
            pair_item(out, m, s, withscores);
        }
    };
    if l < 0 || count == 1 {
        if count > MAX_RANDOM_ITEMS {
            return out.error(ERR_OUT_OF_RANGE);
        }
        pairs_header(out, count as usize, withscores);
        for _ in 0..count {
            item(out, rng.usize(..len));
        }
        return;
    }
    if count >= len as u64 {
        pairs_header(out, len, withscores);
        for_range(z, len - 1, len, true, |m, s| {
            pair_item(out, m, s, withscores)
        });
        return;
    }
    let n = count as usize;
    pairs_header(out, n, withscores);
    for i in sample_distinct(len, n, &mut rng) {
        item(out, i);
    }
}

/// The members one ZSCAN call returns, with their scores' text.
type Scanned<'z> = Vec<(&'z [u8], Vec<u8>)>;

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: member/score pairs (scores as bulk strings in
/// RESP3 too). A listpack-sized set comes whole, in order, with its scores as a listpack holds
/// them; a larger one is walked down its positions like HSCAN/SSCAN.
fn zscan(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(cursor) = parse_cursor(argv.get(2)) else {
        return out.error(ERR_INVALID_CURSOR);
    };
    let z = match read(ctx, argv.get(1)) {
        Err(WrongType) => return out.error(err::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return;
        }
        Ok(Some(z)) => z,
    };
    let (count, pattern) = match parse_scan_options(argv, 3) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let keep = |m: &[u8]| pattern.is_none_or(|p| string_match(p, m, false));
    let (picked, next): (Scanned<'_>, u64) = if listpack_like(z) {
        let all = z.iter().filter(|(m, _)| keep(m));
        (all.map(|(m, s)| (m, d2string(s))).collect(), 0)
    } else {
        let (range, next) = scan_positions(z.len(), cursor, count, 0);
        let picked = range
            .rev()
            .filter_map(|i| z.by_position(i))
            .filter(|(m, _)| keep(m))
            .map(|(m, s)| (m, format_double(s).into_bytes()))
            .collect();
        (picked, next)
    };
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(picked.len() * 2);
    for (m, s) in picked {
        out.bulk(m);
        out.bulk(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, ZINTERCARD and the *STORE forms: the computation
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// One of the seven commands built on `zunionInterDiffGenericCommand`.
#[derive(Clone, Copy, Debug)]
struct AlgCmd {
    name: &'static str,
    op: Op,
    store: bool,
    /// ZINTERCARD: only the size.
    card: bool,
}

const ALG_CMDS: [AlgCmd; 7] = [
    AlgCmd {
        name: "zunion",
        op: Op::Union,
        store: false,
        card: false,
    },
    AlgCmd {
        name: "zinter",
        op: Op::Inter,
        store: false,
        card: false,
    },
    AlgCmd {
        name: "zdiff",
        op: Op::Diff,
        store: false,
        card: false,
    },
    AlgCmd {
        name: "zintercard",
        op: Op::Inter,
        store: false,
        card: true,
    },
    AlgCmd {
        name: "zunionstore",
        op: Op::Union,
        store: true,
        card: false,
    },
    AlgCmd {
        name: "zinterstore",
        op: Op::Inter,
        store: true,
        card: false,
    },
    AlgCmd {
        name: "zdiffstore",
        op: Op::Diff,
        store: true,
        card: false,
    },
];

fn alg_cmd(name: &[u8]) -> Option<AlgCmd> {
    ALG_CMDS
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
        .copied()
}

/// The options after the keys.
#[derive(Clone, Debug)]
struct AlgOpts {
    weights: Vec<f64>,
    agg: Agg,
    withscores: bool,
    /// ZINTERCARD's LIMIT; 0 is none.
    limit: u64,
}

/// `args` is the command as the client sent it (`args[0]` its name). Returns the destination
/// (*STORE), the index of the first key and the number of keys, or Redis's error.
fn parse_alg_keys<'a>(
    args: &[&'a [u8]],
    c: AlgCmd,
) -> Result<(Option<&'a [u8]>, usize, usize), String> {
    let ni = if c.store { 2 } else { 1 };
    let Some(arg) = args.get(ni) else {
        return Err(err::SYNTAX.to_string());
    };
    let setnum = parse_i64(arg).ok_or_else(|| err::NOT_INTEGER.to_string())?;
    if setnum < 1 {
        return Err(format!(
            "ERR at least 1 input key is needed for '{}' command",
            c.name
        ));
    }
    if setnum.unsigned_abs() > (args.len() - (ni + 1)) as u64 {
        return Err(err::SYNTAX.to_string());
    }
    let dest = if c.store { Some(args[1]) } else { None };
    Ok((dest, ni + 1, setnum as usize))
}

/// The options from `args[j..]`, in Redis's order of checks.
fn parse_alg_opts(
    args: &[&[u8]],
    mut j: usize,
    setnum: usize,
    c: AlgCmd,
) -> Result<AlgOpts, &'static str> {
    let mut o = AlgOpts {
        weights: vec![1.0; setnum],
        agg: Agg::Sum,
        withscores: false,
        limit: 0,
    };
    let weighted = c.op != Op::Diff && !c.card;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args[j];
        if weighted && remaining > setnum && opt_is(a, "weights") {
            j += 1;
            for w in o.weights.iter_mut() {
                *w = parse_score(args[j]).ok_or(ERR_WEIGHT)?;
                j += 1;
            }
        } else if weighted && remaining >= 2 && opt_is(a, "aggregate") {
            let v = args[j + 1];
            o.agg = if opt_is(v, "sum") {
                Agg::Sum
            } else if opt_is(v, "min") {
                Agg::Min
            } else if opt_is(v, "max") {
                Agg::Max
            } else {
                return Err(err::SYNTAX);
            };
            j += 2;
        } else if !c.store && !c.card && opt_is(a, "withscores") {
            o.withscores = true;
            j += 1;
        } else if c.card && remaining >= 2 && opt_is(a, "limit") {
            o.limit = match parse_i64(args[j + 1]) {
                Some(l) if l >= 0 => l.unsigned_abs(),
                _ => return Err(ERR_LIMIT_NEG),
            };
            j += 2;
        } else {
            return Err(err::SYNTAX);
        }
    }
    Ok(o)
}

/// `zunionInterAggregate`: SUM turns NaN (inf + -inf) into 0; MIN/MAX keep the first of equals.
fn aggregate(t: &mut f64, v: f64, agg: Agg) {
    match agg {
        Agg::Sum => {
            *t += v;
            if t.is_nan() {
                *t = 0.0;
            }
        }
        Agg::Min => {
            if v < *t {
                *t = v;
            }
        }
        Agg::Max => {
            if v > *t {
                *t = v;
            }
        }
    }
}

/// A gathered source: member → score.
type Pairs<'a> = indexmap::IndexMap<&'a [u8], f64, ahash::RandomState>;
/// The result being built: member → score.
type Acc = indexmap::IndexMap<SmallBytes, f64, ahash::RandomState>;

/// One input of the computation: a plain set counts as scores of 1.
#[derive(Clone, Copy)]
enum Src<'a> {
    Missing,
    Z(&'a Zset),
    S(&'a Set),
    Map(&'a Pairs<'a>),
}

impl<'a> Src<'a> {
    fn of(v: Option<&'a Value>) -> Src<'a> {
        match v {
            None => Src::Missing,
            Some(v) => match (v.as_zset(), v.as_set()) {
                (Some(z), _) => Src::Z(z),
                (_, Some(s)) => Src::S(s),
                _ => Src::Missing,
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
            Src::Map(p) => p.len(),
        }
    }

    fn for_each(&self, f: &mut dyn FnMut(&[u8], f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Src::S(s) => s.iter().for_each(|m| f(m, 1.0)),
            Src::Map(p) => p.iter().for_each(|(m, s)| f(m, *s)),
        }
    }

    fn find(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
            Src::Map(p) => p.get(m).copied(),
        }
    }
}

/// Lends the inputs one at a time (a shard's keyspace lends one value at a time).
trait Sources {
    fn with(&mut self, i: usize, f: &mut dyn FnMut(Src<'_>));
}

/// Inputs read from this shard's keyspace.
struct InPlace<'c, 'k, 'a> {
    ctx: &'c mut ShardCtx<'k>,
    keys: &'c [&'a [u8]],
}

impl Sources for InPlace<'_, '_, '_> {
    fn with(&mut self, i: usize, f: &mut dyn FnMut(Src<'_>)) {
        let (db, now) = (self.ctx.db, self.ctx.now_ms);
        f(Src::of(self.ctx.ks.lookup_read(db, self.keys[i], now)))
    }
}

/// Inputs gathered from their owners (`None`: missing).
struct Gathered<'g, 'a> {
    srcs: Vec<Option<&'g Pairs<'a>>>,
}

impl Sources for Gathered<'_, '_> {
    fn with(&mut self, i: usize, f: &mut dyn FnMut(Src<'_>)) {
        f(match self.srcs.get(i).copied().flatten() {
            Some(p) => Src::Map(p),
            None => Src::Missing,
        })
    }
}

/// `zunionInterDiffGenericCommand`'s computation over inputs of these sizes. Union and
/// intersection take the inputs from the smallest (a stable sort, as glibc's `qsort`), so sums
/// add up in Redis's order; a weighted score that is NaN (inf × 0) counts as 0.
fn algebra(op: Op, o: &AlgOpts, sizes: &[usize], srcs: &mut dyn Sources) -> Acc {
    let mut acc = Acc::default();
    let Some(&first_size) = sizes.first() else {
        return acc;
    };
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    if op != Op::Diff {
        order.sort_by_key(|&i| sizes[i]);
    }
    match op {
        Op::Inter => {
            let first = order[0];
            if sizes[first] == 0 {
                return acc;
            }
            acc.reserve(sizes[first]);
            let w = o.weights[first];
            srcs.with(first, &mut |s| {
                s.for_each(&mut |m, sc| {
                    let mut v = w * sc;
                    if v.is_nan() {
                        v = 0.0;
                    }
                    acc.insert(SmallBytes::new(m), v);
                })
            });
            for &j in &order[1..] {
                if acc.is_empty() {
                    break;
                }
                let w = o.weights[j];
                srcs.with(j, &mut |s| {
                    acc.retain(|m, t| match s.find(m.as_slice()) {
                        Some(x) => {
                            aggregate(t, x * w, o.agg);
                            true
                        }
                        None => false,
                    })
                });
            }
        }
        Op::Union => {
            acc.reserve(order.last().map_or(0, |&i| sizes[i]));
            for &i in &order {
                if sizes[i] == 0 {
                    continue;
                }
                let w = o.weights[i];
                srcs.with(i, &mut |s| {
                    s.for_each(&mut |m, sc| {
                        let mut v = w * sc;
                        if v.is_nan() {
                            v = 0.0;
                        }
                        match acc.get_mut(m) {
                            Some(t) => aggregate(t, v, o.agg),
                            None => {
                                acc.insert(SmallBytes::new(m), v);
                            }
                        }
                    })
                });
            }
        }
        Op::Diff => {
            if first_size == 0 {
                return acc;
            }
            acc.reserve(first_size);
            srcs.with(0, &mut |s| {
                s.for_each(&mut |m, sc| {
                    acc.insert(SmallBytes::new(m), sc);
                })
            });
            for (j, &size) in sizes.iter().enumerate().skip(1) {
                if acc.is_empty() {
                    break;
                }
                if size == 0 {
                    continue;
                }
                srcs.with(j, &mut |s| {
                    if s.len() < acc.len() {
                        s.for_each(&mut |m, _| {
                            acc.swap_remove(m);
                        });
                    } else {
                        acc.retain(|m, _| s.find(m.as_slice()).is_none());
                    }
                });
            }
        }
    }
    acc
}

/// Replies a computed result: the size (ZINTERCARD, capped by its limit) or the members in
/// order, with scores if asked.
fn reply_acc(out: &mut Reply, acc: Acc, c: AlgCmd, o: &AlgOpts) {
    if c.card {
        let n = acc.len() as u64;
        let n = if o.limit > 0 { n.min(o.limit) } else { n };
        return out.int(n as i64);
    }
    let mut v: Vec<(SmallBytes, f64)> = acc.into_iter().collect();
    v.sort_unstable_by(|a, b| cmp_entries((a.0.as_slice(), a.1), (b.0.as_slice(), b.1)));
    pairs_header(out, v.len(), o.withscores);
    for (m, s) in &v {
        pair_item(out, m, *s, o.withscores);
    }
}

/// `__zset-algebra <name> <arguments>`: the whole command on this shard, as Redis runs it
/// (numkeys, then every key looked up, then the options).
fn algebra_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let args: Vec<&[u8]> = argv.tail(1).collect();
    let Some(c) = alg_cmd(args[0]) else {
        return out.error(err::SYNTAX);
    };
    let (dest, k0, n) = match parse_alg_keys(&args, c) {
        Ok(x) => x,
        Err(e) => return out.error(&e),
    };
    let keys = &args[k0..k0 + n];
    let mut sizes = Vec::with_capacity(n);
    for k in keys {
        match ctx.ks.lookup_read(ctx.db, k, ctx.now_ms) {
            None => sizes.push(0),
            Some(v) => match Src::of(Some(v)) {
                Src::Missing => return out.error(err::WRONGTYPE),
                s => sizes.push(s.len()),
            },
        }
    }
    let o = match parse_alg_opts(&args, k0 + n, n, c) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let acc = algebra(
        c.op,
        &o,
        &sizes,
        &mut InPlace {
            ctx: &mut *ctx,
            keys,
        },
    );
    match dest {
        Some(dest) => {
            let pairs: Vec<(SmallBytes, f64)> = acc.into_iter().collect();
            store_zset(ctx, c.name, dest, build_zset(&pairs), out);
        }
        None => reply_acc(out, acc, c, &o),
    }
}

/// One pair of a dump: the member, then the score's 8 bytes (little-endian: exact, no parsing).
fn dump_pair(out: &mut Reply, m: &[u8], s: f64) {
    out.bulk(m);
    out.bulk(&s.to_le_bytes());
}

/// `__zset-dump key…`: an array with one entry per key: a null array when missing, else the
/// member/score pairs of the set or sorted set (a set's scores are 1); WRONGTYPE if a key holds
/// another type.
fn dump_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let mark = out.buf.len();
    out.array(argv.len() - 1);
    for k in argv.tail(1) {
        let Some(v) = ctx.ks.lookup_read(ctx.db, k, ctx.now_ms) else {
            out.null_array();
            continue;
        };
        match Src::of(Some(v)) {
            Src::Missing => {
                out.buf.truncate(mark);
                return out.error(err::WRONGTYPE);
            }
            s => {
                out.array(s.len() * 2);
                s.for_each(&mut |m, sc| dump_pair(out, m, sc));
            }
        }
    }
}

/// `__zset-check key…`: 1 if a key holds neither a set nor a sorted set, else 0.
fn check_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    for k in argv.tail(1) {
        if let Some(v) = ctx.ks.lookup_read(ctx.db, k, ctx.now_ms) {
            if matches!(Src::of(Some(v)), Src::Missing) {
                return out.int(1);
            }
        }
    }
    out.int(0)
}

/// `__zset-replace command dest (member score8)…`: a *STORE computed across shards, stored
/// (`command` names its keyspace event).
fn replace_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let rest = argv.len() - 3;
    if !rest.is_multiple_of(2) {
        return out.error(ERR_BAD_PART);
    }
    let event = match ALG_CMDS.iter().find(|c| c.name.as_bytes() == argv.get(1)) {
        Some(c) => c.name,
        None => "zrangestore",
    };
    let mut pairs = Vec::with_capacity(rest / 2);
    for i in 0..rest / 2 {
        match score_of(argv.get(4 + 2 * i)) {
            Some(s) => pairs.push((argv.get(3 + 2 * i), s)),
            None => return out.error(ERR_BAD_PART),
        }
    }
    store_zset(ctx, event, argv.get(2), build_zset(&pairs), out);
}

/// A dumped score (8 little-endian bytes, never NaN).
fn score_of(b: &[u8]) -> Option<f64> {
    let s = f64::from_le_bytes(b.try_into().ok()?);
    (!s.is_nan()).then_some(s)
}

// ---------------------------------------------------------------------------------------------
// Reading dumps (on the connection's core)
// ---------------------------------------------------------------------------------------------

/// A cursor over a RESP2 reply made of arrays and bulk strings.
struct Cursor<'b> {
    buf: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    /// The number after `tag` on the current line.
    fn header(&mut self, tag: u8) -> Option<i64> {
        if self.buf.get(self.at) != Some(&tag) {
            return None;
        }
        let start = self.at + 1;
        let len = self.buf.get(start..)?.iter().position(|&b| b == b'\r')?;
        let n = parse_i64(&self.buf[start..start + len])?;
        self.at = start + len + 2;
        Some(n)
    }

    fn bulk(&mut self) -> Option<&'b [u8]> {
        let len = usize::try_from(self.header(b'$')?).ok()?;
        let end = self.at.checked_add(len)?;
        let b = self.buf.get(self.at..end)?;
        self.at = end + 2;
        Some(b)
    }

    /// `*2n` then n (member, score) bulks.
    fn pairs(&mut self) -> Option<Vec<(&'b [u8], f64)>> {
        let n = usize::try_from(self.header(b'*')?).ok()?;
        if n % 2 != 0 {
            return None;
        }
        // Never trust a count for capacity: every pair takes at least 15 bytes.
        let mut v = Vec::with_capacity((n / 2).min(self.buf.len() / 15));
        for _ in 0..n / 2 {
            let m = self.bulk()?;
            v.push((m, score_of(self.bulk()?)?));
        }
        Some(v)
    }

    fn done(&self) -> bool {
        self.at == self.buf.len()
    }
}

/// A range dump (`*2n` pairs), all of `buf`.
fn parse_pairs(buf: &[u8]) -> Option<Vec<(&[u8], f64)>> {
    let mut c = Cursor { buf, at: 0 };
    let v = c.pairs()?;
    c.done().then_some(v)
}

/// A key dump: per key, `None` when missing, else its pairs.
fn parse_dump(buf: &[u8]) -> Option<Vec<Option<Pairs<'_>>>> {
    let mut c = Cursor { buf, at: 0 };
    let n = usize::try_from(c.header(b'*')?).ok()?;
    let mut keys = Vec::with_capacity(n.min(buf.len() / 4));
    for _ in 0..n {
        if c.buf.get(c.at..c.at + 5) == Some(b"*-1\r\n") {
            c.at += 5;
            keys.push(None);
            continue;
        }
        let pairs = c.pairs()?;
        let mut map = Pairs::with_capacity_and_hasher(pairs.len(), ahash::RandomState::new());
        map.extend(pairs);
        keys.push(Some(map));
    }
    c.done().then_some(keys)
}

// ---------------------------------------------------------------------------------------------
// Multi-key commands (run on the connection's core)
// ---------------------------------------------------------------------------------------------

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

async_cmd!(zunion => algebra_async(ALG_CMDS[0]));
async_cmd!(zinter => algebra_async(ALG_CMDS[1]));
async_cmd!(zdiff => algebra_async(ALG_CMDS[2]));
async_cmd!(zintercard => algebra_async(ALG_CMDS[3]));
async_cmd!(zunionstore => algebra_async(ALG_CMDS[4]));
async_cmd!(zinterstore => algebra_async(ALG_CMDS[5]));
async_cmd!(zdiffstore => algebra_async(ALG_CMDS[6]));
async_cmd!(zrangestore => zrangestore_async());
async_cmd!(zmpop => zmpop_async());

/// Distinct keys grouped by owner, in order of first appearance.
fn group_by_owner<'k>(keys: &[&'k [u8]], nshards: usize) -> Vec<(usize, Vec<&'k [u8]>)> {
    let mut seen = std::collections::HashSet::with_hasher(ahash::RandomState::new());
    let mut groups: Vec<(usize, Vec<&[u8]>)> = Vec::new();
    for &k in keys {
        if !seen.insert(k) {
            continue;
        }
        let owner = shard_of(k, nshards);
        match groups.iter_mut().find(|(o, _)| *o == owner) {
            Some((_, g)) => g.push(k),
            None => groups.push((owner, vec![k])),
        }
    }
    groups
}

/// Replies a shard's error reply as is, or an internal error if it was not one.
fn reply_failure(out: &mut Reply, reply: &[u8]) {
    if reply.first() == Some(&b'-') && reply.ends_with(b"\r\n") {
        out.raw(reply);
    } else {
        out.error(ERR_BAD_PART);
    }
}

/// A command made of `name` and `args`.
fn batch<'x>(name: &'x str, args: impl IntoIterator<Item = &'x [u8]>) -> CmdBatch {
    CmdBatch::from_args(std::iter::once(name.as_bytes()).chain(args))
}

/// The `__zset-replace` command storing `pairs` at `dest`.
fn replace_batch<M: std::borrow::Borrow<[u8]>>(
    command: &str,
    dest: &[u8],
    pairs: &[(M, f64)],
) -> CmdBatch {
    let mut b = CmdBatch::new();
    b.push_arg(REPLACE.as_bytes());
    b.push_arg(command.as_bytes());
    b.push_arg(dest);
    for (m, s) in pairs {
        b.push_arg(m.borrow());
        b.push_arg(&s.to_le_bytes());
    }
    b.finish_cmd();
    b
}

/// ZUNION & co. On one owner: the whole command there. Otherwise: the options are parsed here
/// (on an error, the keys' types are checked first, as Redis looks keys up before parsing
/// options), each owner dumps its keys, the result is computed here and a *STORE replaces the
/// destination on its owner.
async fn algebra_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply, c: AlgCmd) {
    let args: Vec<&[u8]> = argv.iter().collect();
    let (dest, k0, n) = match parse_alg_keys(&args, c) {
        Ok(x) => x,
        Err(e) => return out.error(&e),
    };
    let keys = &args[k0..k0 + n];
    let nsh = core.nshards;
    let owner = shard_of(keys[0], nsh);
    if keys.iter().all(|k| shard_of(k, nsh) == owner)
        && dest.is_none_or(|d| shard_of(d, nsh) == owner)
    {
        let b = batch(ALGEBRA, args.iter().copied());
        let reply = core.call(owner, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let groups = group_by_owner(keys, nsh);
    let o = match parse_alg_opts(&args, k0 + n, n, c) {
        Ok(o) => o,
        Err(e) => {
            let checks: Vec<(usize, CmdBatch)> = groups
                .iter()
                .map(|(o, ks)| (*o, batch(CHECK, ks.iter().copied())))
                .collect();
            let replies = join_all(
                checks
                    .iter()
                    .map(|(o, b)| core.call(*o, db, Proto::Resp2, b))
                    .collect(),
            )
            .await;
            for r in &replies {
                match r.as_slice() {
                    b":0\r\n" => {}
                    b":1\r\n" => return out.error(err::WRONGTYPE),
                    other => return reply_failure(out, other),
                }
            }
            return out.error(e);
        }
    };
    let dumps: Vec<(usize, CmdBatch)> = groups
        .iter()
        .map(|(o, ks)| (*o, batch(DUMP, ks.iter().copied())))
        .collect();
    let replies = join_all(
        dumps
            .iter()
            .map(|(o, b)| core.call(*o, db, Proto::Resp2, b))
            .collect(),
    )
    .await;
    if let Some(bad) = replies.iter().find(|r| r.first() == Some(&b'-')) {
        return reply_failure(out, bad);
    }
    let mut by_key: std::collections::HashMap<&[u8], Option<Pairs<'_>>, ahash::RandomState> =
        std::collections::HashMap::default();
    for ((_, ks), r) in groups.iter().zip(&replies) {
        let Some(parts) = parse_dump(r).filter(|p| p.len() == ks.len()) else {
            return out.error(ERR_BAD_PART);
        };
        by_key.extend(ks.iter().copied().zip(parts));
    }
    let srcs: Vec<Option<&Pairs<'_>>> = keys
        .iter()
        .map(|k| by_key.get(k).and_then(|p| p.as_ref()))
        .collect();
    let sizes: Vec<usize> = srcs.iter().map(|p| p.map_or(0, |p| p.len())).collect();
    let acc = algebra(c.op, &o, &sizes, &mut Gathered { srcs });
    match dest {
        Some(dest) => {
            let pairs: Vec<(SmallBytes, f64)> = acc.into_iter().collect();
            let b = replace_batch(c.name, dest, &pairs);
            drop(pairs);
            let reply = core.call(shard_of(dest, nsh), db, out.proto, &b).await;
            out.raw(&reply);
        }
        None => reply_acc(out, acc, c, &o),
    }
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]: in one step when one
/// shard owns both keys; otherwise the source's owner computes the range (and every error) and
/// the destination's owner stores it.
async fn zrangestore_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let (dst, src) = (argv.get(1), argv.get(2));
    let nsh = core.nshards;
    let (dst_owner, src_owner) = (shard_of(dst, nsh), shard_of(src, nsh));
    if dst_owner == src_owner {
        let b = batch(RANGESTORE, argv.tail(1));
        let reply = core.call(src_owner, db, out.proto, &b).await;
        return out.raw(&reply);
    }
    let b = batch(RANGEDUMP, argv.tail(2));
    let dump = core.call(src_owner, db, Proto::Resp2, &b).await;
    let Some(pairs) = parse_pairs(&dump) else {
        return reply_failure(out, &dump);
    };
    let b = replace_batch("zrangestore", dst, &pairs);
    let reply = core.call(dst_owner, db, out.proto, &b).await;
    out.raw(&reply);
}

/// ZMPOP numkeys key [key …] MIN|MAX [COUNT count]. The keys are tried in argument order, each
/// run of consecutive keys with one owner in one atomic step there: the first key that exists
/// wins (WRONGTYPE if it is not a sorted set).
async fn zmpop_async(core: &Rc<Core>, db: usize, argv: Argv<'_>, out: &mut Reply) {
    let numkeys = match parse_i64(argv.get(1)) {
        Some(n) if n >= 1 => n.unsigned_abs(),
        _ => return out.error(ERR_NUMKEYS_POS),
    };
    let argc = argv.len() as u64;
    let where_idx = numkeys.saturating_add(2);
    if where_idx >= argc {
        return out.error(err::SYNTAX);
    }
    let where_idx = where_idx as usize;
    let w = argv.get(where_idx);
    let max = if opt_is(w, "min") {
        false
    } else if opt_is(w, "max") {
        true
    } else {
        return out.error(err::SYNTAX);
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count.is_none() && opt_is(argv.get(j), "count") && more > 0 {
            j += 1;
            match parse_i64(argv.get(j)) {
                Some(c) if c >= 1 => count = Some(c),
                _ => return out.error(ERR_COUNT_POS),
            }
        } else {
            return out.error(err::SYNTAX);
        }
        j += 1;
    }
    let count = itoa::Buffer::new().format(count.unwrap_or(1)).to_owned();
    let keys: Vec<&[u8]> = argv.tail(2).take(where_idx - 2).collect();
    let nsh = core.nshards;
    let side: &[u8] = if max { b"MAX" } else { b"MIN" };
    let mut i = 0;
    while i < keys.len() {
        let owner = shard_of(keys[i], nsh);
        let run = keys[i..]
            .iter()
            .take_while(|k| shard_of(k, nsh) == owner)
            .count();
        let b = batch(
            MPOP,
            [side, count.as_bytes()]
                .into_iter()
                .chain(keys[i..i + run].iter().copied()),
        );
        let reply = core.call(owner, db, out.proto, &b).await;
        let none: &[u8] = match out.proto {
            Proto::Resp2 => b"*-1\r\n",
            Proto::Resp3 => b"_\r\n",
        };
        if reply != none {
            return out.raw(&reply);
        }
        i += run;
    }
    out.null_array();
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::keyspace::Keyspace;

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

    /// Runs any command the way a connection would (arity, then its handler); the raw reply.
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
                _ => panic!("not a data command"),
            }
        }
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// Replies byte for byte as redis-server 7.0.15 gives them after `HELLO 3`.
    #[test]
    fn resp3_replies_like_redis() {
        let c = &core();
        let x = |args: &[&str]| exec(c, Proto::Resp3, args);
        assert_eq!(x(&["ZADD", "p", "1", "a", "2", "b", "3", "c"]), ":3\r\n");
        let all = "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n";
        assert_eq!(x(&["ZRANGE", "p", "0", "-1", "WITHSCORES"]), all);
        assert_eq!(x(&["ZUNION", "1", "p", "WITHSCORES"]), all);
        assert_eq!(
            x(&["ZRANDMEMBER", "p", "5", "WITHSCORES"]),
            "*3\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"
        );
        assert_eq!(
            x(&["ZSCAN", "p", "0"]),
            "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            x(&["ZINTER", "1", "p"]),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
        assert_eq!(x(&["ZRANGEBYSCORE", "p", "5", "6", "WITHSCORES"]), "*0\r\n");
        assert_eq!(x(&["ZINTERCARD", "1", "p"]), ":3\r\n");
        assert_eq!(x(&["ZPOPMIN", "p"]), "*2\r\n$1\r\na\r\n,1\r\n");
        assert_eq!(x(&["ZPOPMIN", "p", "1"]), "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n");
        assert_eq!(
            x(&["ZMPOP", "1", "p", "MAX"]),
            "*2\r\n$1\r\np\r\n*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"
        );
        assert_eq!(x(&["ZMPOP", "1", "nokey", "MAX"]), "_\r\n");
        assert_eq!(x(&["ZINCRBY", "p", "1.5", "b"]), ",1.5\r\n");
        assert_eq!(x(&["ZSCORE", "p", "b"]), ",1.5\r\n");
        assert_eq!(x(&["ZADD", "p", "INCR", "1", "b"]), ",2.5\r\n");
        assert_eq!(x(&["ZADD", "p", "NX", "INCR", "1", "b"]), "_\r\n");
        assert_eq!(x(&["ZMSCORE", "p", "b", "zz"]), "*2\r\n,2.5\r\n_\r\n");
        assert_eq!(x(&["ZPOPMIN", "nokey"]), "*0\r\n");
        assert_eq!(x(&["ZPOPMIN", "nokey", "2"]), "*0\r\n");
        assert_eq!(x(&["ZPOPMIN", "p", "0"]), "*0\r\n");
        assert_eq!(x(&["ZRANDMEMBER", "nokey"]), "_\r\n");
        assert_eq!(x(&["ZRANK", "nokey", "a"]), "_\r\n");
        assert_eq!(x(&["ZSCAN", "nokey", "0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
        assert_eq!(x(&["ZADD", "p", "inf", "i", "-inf", "j"]), ":2\r\n");
        assert_eq!(
            x(&["ZRANGE", "p", "0", "-1", "WITHSCORES"]),
            "*3\r\n*2\r\n$1\r\nj\r\n,-inf\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\ni\r\n,inf\r\n"
        );
        assert_eq!(
            x(&["ZPOPMAX", "p", "10"]),
            "*3\r\n*2\r\n$1\r\ni\r\n,inf\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\nj\r\n,-inf\r\n"
        );
        assert_eq!(x(&["EXISTS", "p"]), ":0\r\n");
        // RESP2 for comparison: flat, scores as bulk strings, nulls as $-1 / *-1.
        let y = |args: &[&str]| exec(c, Proto::Resp2, args);
        assert_eq!(y(&["ZADD", "q", "1", "a"]), ":1\r\n");
        assert_eq!(
            y(&["ZRANGE", "q", "0", "-1", "WITHSCORES"]),
            "*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(y(&["ZSCORE", "q", "x"]), "$-1\r\n");
        assert_eq!(y(&["ZMPOP", "1", "nokey", "MIN"]), "*-1\r\n");
    }

    /// The dirty counter moves as Redis's `server.dirty` does.
    #[test]
    fn changes_are_counted_like_redis() {
        let c = &core();
        let x = |args: &[&str]| exec(c, Proto::Resp2, args);
        let dirty = || c.ks.borrow().dirty();
        let d0 = dirty();
        x(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
        assert_eq!(dirty() - d0, 3);
        x(&["ZADD", "z", "CH", "1", "a", "5", "b"]);
        assert_eq!(dirty() - d0, 4);
        x(&["ZREM", "z", "a", "nope"]);
        assert_eq!(dirty() - d0, 5);
        x(&["ZPOPMIN", "z", "5"]);
        assert_eq!(dirty() - d0, 7);
        x(&["ZUNIONSTORE", "d", "1", "nokey"]);
        assert_eq!(dirty() - d0, 7);
        x(&["ZADD", "z", "1", "a", "2", "b"]);
        x(&["ZUNIONSTORE", "d", "1", "z"]);
        assert_eq!(dirty() - d0, 10);
        x(&["ZINTERSTORE", "d", "2", "z", "nokey"]);
        assert_eq!(dirty() - d0, 11);
        x(&["ZREMRANGEBYSCORE", "z", "-inf", "inf"]);
        assert_eq!(dirty() - d0, 13);
    }

    /// Lex ranges over unequal scores are unspecified in Redis; here they must merely not fail,
    /// whatever the bounds or limits.
    #[test]
    fn odd_inputs_never_panic() {
        let c = &core();
        let x = |args: &[&str]| exec(c, Proto::Resp2, args);
        let mut add = vec!["ZADD", "m"];
        let pairs: Vec<(String, String)> = (0..300)
            .map(|i| {
                (
                    ((i * 7919) % 101).to_string(),
                    format!("k{:03}", (i * 31) % 300),
                )
            })
            .collect();
        for (s, m) in &pairs {
            add.push(s);
            add.push(m);
        }
        x(&add);
        let big = "9223372036854775807";
        let small = "-9223372036854775808";
        for (lo, hi) in [("-", "+"), ("[k1", "(k2"), ("(k299", "[k0"), ("+", "-")] {
            for cmd in ["ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT"] {
                let r = x(&[cmd, "m", lo, hi]);
                assert!(!r.starts_with('-'), "{cmd} {lo} {hi}: {r}");
            }
            for (o, n) in [("0", big), (big, big), (small, "1"), ("5", small)] {
                let r = x(&["ZRANGEBYLEX", "m", lo, hi, "LIMIT", o, n]);
                assert!(!r.starts_with('-'), "{r}");
                let r = x(&["ZRANGE", "m", "-inf", "+inf", "BYSCORE", "LIMIT", o, n]);
                assert!(!r.starts_with('-'), "{r}");
            }
        }
        for (s, e) in [
            (small, big),
            (big, small),
            (small, small),
            (big, big),
            ("-1", "0"),
        ] {
            assert!(x(&["ZRANGE", "m", s, e, "REV", "WITHSCORES"]).starts_with('*'));
        }
        assert!(x(&["ZREMRANGEBYLEX", "m", "[k1", "(k2"]).starts_with(':'));
        assert!(x(&["ZREMRANGEBYRANK", "m", small, big]).starts_with(':'));
        assert_eq!(x(&["EXISTS", "m"]), ":0\r\n");
        assert_eq!(x(&["ZPOPMIN", "m", big]), "*0\r\n");
        assert_eq!(x(&["ZMPOP", big, "m", "MIN"]), "-ERR syntax error\r\n");
        assert_eq!(x(&["ZUNION", big, "m"]), "-ERR syntax error\r\n");
        assert_eq!(
            x(&["ZRANDMEMBER", "m", small]),
            format!("-{ERR_COUNT_RANGE}\r\n")
        );
    }

    #[test]
    fn strtod_like_glibc() {
        let full = |s: &str| {
            let (v, n, e) = strtod(s.as_bytes());
            (v, n == s.len(), e)
        };
        assert_eq!(full("1.5"), (1.5, true, false));
        assert_eq!(full("  -2e3"), (-2000.0, true, false));
        assert_eq!(full(".5"), (0.5, true, false));
        assert_eq!(full("5."), (5.0, true, false));
        assert_eq!(full("+inf"), (f64::INFINITY, true, false));
        assert_eq!(full("-Infinity"), (f64::NEG_INFINITY, true, false));
        assert_eq!(full("0x10"), (16.0, true, false));
        assert_eq!(full("0x1.8p1"), (3.0, true, false));
        assert_eq!(full("0X.8"), (0.5, true, false));
        assert_eq!(full("1e400"), (f64::INFINITY, true, true));
        assert_eq!(full("1e-400"), (0.0, true, true));
        assert_eq!(full("0e-400"), (0.0, true, false));
        assert!(full("4.9e-324").1);
        assert!(!full("4.9e-324").2);
        assert_eq!(strtod(b"1e"), (1.0, 1, false));
        assert_eq!(strtod(b"1e+"), (1.0, 1, false));
        assert_eq!(strtod(b"0x"), (0.0, 1, false));
        assert_eq!(strtod(b"0xg"), (0.0, 1, false));
        assert_eq!(strtod(b"0x1p"), (1.0, 3, false));
        assert_eq!(strtod(b""), (0.0, 0, false));
        assert_eq!(strtod(b"  "), (0.0, 0, false));
        assert_eq!(strtod(b"-"), (0.0, 0, false));
        assert_eq!(strtod(b"."), (0.0, 0, false));
        assert_eq!(strtod(b"inx"), (0.0, 0, false));
        assert_eq!(strtod(b"12\0x"), (12.0, 2, false));
        assert!(strtod(b"nan").0.is_nan());
        assert_eq!(strtod(b"nan(12)").1, 7);
        assert_eq!(strtod(b"nan(12").1, 3);
        assert_eq!(strtod(b"1e99999999999999999999").0, f64::INFINITY);
        assert_eq!(strtod(b"1e-99999999999999999999").0, 0.0);
        assert_eq!(
            strtod(b"0x1.fffffffffffff8p1023"),
            (f64::INFINITY, 23, true)
        );
    }

    #[test]
    fn score_parsing_rules() {
        assert_eq!(parse_score(b"1"), Some(1.0));
        assert_eq!(parse_score(b"-0"), Some(-0.0));
        assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"1\0",
            b"x",
        ] {
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
        // Range ends: strtod up to a NUL, "(" exclusive, space and overflow allowed.
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 5"), Some((5.0, false)));
        assert_eq!(parse_score_bound(b"(1e400"), Some((f64::INFINITY, true)));
        assert_eq!(parse_score_bound(b"3\0junk"), Some((3.0, false)));
        assert_eq!(parse_score_bound(b"nan"), None);
        assert_eq!(parse_score_bound(b"[1"), None);
        assert_eq!(parse_score_bound(b" "), None);
    }

    #[test]
    fn d2string_like_listpack() {
        assert_eq!(d2string(1e17), b"100000000000000000");
        assert_eq!(d2string(-0.0), b"0");
        assert_eq!(d2string(1.5), b"1.5");
        assert_eq!(d2string(4611686018427387904.0), b"4611686018427387904");
        assert_eq!(d2string(9223372036854775808.0), b"9.2233720368547758e+18");
        assert_eq!(d2string(f64::NEG_INFINITY), b"-inf");
    }

    #[test]
    fn lex_items() {
        assert!(LexRange::parse(b"-", b"+").is_some());
        assert!(LexRange::parse(b"-x", b"+").is_none());
        assert!(LexRange::parse(b"-\0x", b"+").is_some());
        assert!(LexRange::parse(b"", b"+").is_none());
        assert!(LexRange::parse(b"a", b"+").is_none());
        let r = LexRange::parse(b"(a", b"[c").unwrap();
        assert!(!r.gte_min(b"a") && r.gte_min(b"b") && r.lte_max(b"c") && !r.lte_max(b"ca"));
    }

    #[test]
    fn rank_spans() {
        assert_eq!(rank_span(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_span(-100, 100, 3), Some((0, 2)));
        assert_eq!(rank_span(2, 1, 3), None);
        assert_eq!(rank_span(3, 5, 3), None);
        assert_eq!(rank_span(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(rank_span(0, i64::MIN, 3), None);
        assert_eq!(rank_span(0, 0, 0), None);
    }

    #[test]
    fn dumps_round_trip() {
        let mut r = Reply::new(Proto::Resp2);
        r.array(3);
        r.array(4);
        dump_pair(&mut r, b"a", 1.5);
        dump_pair(&mut r, b"", f64::NEG_INFINITY);
        r.null_array();
        r.array(0);
        let d = parse_dump(&r.buf).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(
            d[0].as_ref().unwrap().get(&b""[..]),
            Some(&f64::NEG_INFINITY)
        );
        assert!(d[1].is_none());
        assert!(d[2].as_ref().unwrap().is_empty());
        assert!(parse_dump(&r.buf[..r.buf.len() - 1]).is_none());
        assert!(parse_dump(b"*1\r\n*2\r\n$1\r\na\r\n$1\r\nx\r\n").is_none());
        assert!(parse_pairs(b"*9999999999\r\n").is_none());
        assert_eq!(parse_pairs(b"*0\r\n"), Some(vec![]));
    }
}

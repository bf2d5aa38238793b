//! List commands: push/pop at both ends, ranges, indexing, removal and trimming.
//!
//! Behaviour follows Redis 7.0's `t_list.c`, including the order of checks (for instance LINDEX
//! and LSET look the key up before parsing the index; LRANGE/LTRIM/LREM parse first). A list
//! emptied by a command is deleted. No reply size or allocation is taken from a client number:
//! counts and ranges are clamped to the list's length first.

use super::{arity_error, err, flags, parse_i64, CommandSpec, ShardCtx};
use crate::keyspace::{List, SmallBytes, Ttl, Value};
use crate::resp::{Argv, Reply};

const ERR_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

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
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
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
    match ctx.ks.lookup_write(ctx.db, key, ctx.now_ms) {
        Some(v) => match v.as_list_mut() {
            Some(l) => {
                out.int(push(l) as i64);
                ctx.ks.add_dirty((argv.len() - 2) as u64);
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
    if empty {
        ctx.ks.remove(db, key, now);
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
    if empty {
        ctx.ks.remove(db, key, now);
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
    if empty {
        ctx.ks.remove(db, key, now);
    }
    out.ok();
}

#[cfg(test)]
mod tests {
    use crate::cmd::string::tests::{run, run_proto};
    use crate::keyspace::Keyspace;
    use crate::resp::Proto;

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
}

//! Generic keyspace commands: existence, deletion, type, TTLs and KEYS.
//!
//! Behaviour follows Redis 7.0's `db.c` and `expire.c`. Multi-key commands (EXISTS, DEL, UNLINK,
//! TOUCH) run once per owning shard on that shard's subset of the keys; the router sums the counts.

use super::string::opt_is;
use super::{err, flags, parse_i64, CommandSpec, Handler, Merge, Route, ShardCtx};
use crate::resp::{Argv, Reply};

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
    let n = argv
        .tail(1)
        .filter(|k| ctx.ks.remove(ctx.db, k, ctx.now_ms).is_some())
        .count();
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
    } else {
        ctx.ks.set_expire(db, key, when);
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

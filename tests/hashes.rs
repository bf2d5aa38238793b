//! Hash commands: replies and errors exactly as Redis 7.0 gives them.
//!
//! Every test also passes against the real server (`REDIS_LITE_TEST_REDIS=1`), so orders are only
//! asserted where Redis defines them (small hashes, kept in insertion order like a listpack);
//! large hashes are compared as sets.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};

fn hgetall(c: &mut Conn, key: &str) -> Reply {
    c.cmd(&["HGETALL", key])
}

/// A flat field/value array as a map (panics on an odd length or duplicate field).
fn pairs(r: &Reply) -> BTreeMap<String, String> {
    let items = r.strings();
    assert_eq!(items.len() % 2, 0, "odd field/value array {r:?}");
    let mut m = BTreeMap::new();
    for p in items.chunks(2) {
        assert!(m.insert(p[0].clone(), p[1].clone()).is_none(), "dup {p:?}");
    }
    m
}

const NOT_FLOAT: &str = "ERR value is not a valid float";
const HASH_NOT_INT: &str = "ERR hash value is not an integer";
const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";

#[test]
fn hset_hget_and_friends() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HSET", "h", "a", "1"]), int(1));
    assert_eq!(c.cmd(&["TYPE", "h"]), simple("hash"));
    // New fields counted; updates and a field repeated in one call are not.
    assert_eq!(c.cmd(&["HSET", "h", "a", "2", "b", "3", "c", "4"]), int(2));
    assert_eq!(c.cmd(&["HSET", "h", "d", "x", "d", "y"]), int(1));
    assert_eq!(c.cmd(&["HGET", "h", "a"]), bulk("2"));
    assert_eq!(c.cmd(&["HGET", "h", "d"]), bulk("y"));
    assert_eq!(c.cmd(&["HGET", "h", "zz"]), nil());
    assert_eq!(c.cmd(&["HGET", "nokey", "a"]), nil());
    assert_eq!(c.cmd(&["HLEN", "h"]), int(4));
    assert_eq!(c.cmd(&["HLEN", "nokey"]), int(0));
    assert_eq!(c.cmd(&["HEXISTS", "h", "b"]), int(1));
    assert_eq!(c.cmd(&["HEXISTS", "h", "B"]), int(0));
    assert_eq!(c.cmd(&["HEXISTS", "nokey", "b"]), int(0));
    // HMSET replies OK.
    assert_eq!(c.cmd(&["HMSET", "h", "e", "5", "a", "6"]), ok());
    assert_eq!(c.cmd(&["HGET", "h", "a"]), bulk("6"));
    assert_eq!(c.cmd(&["HMSET", "m", "f", "v"]), ok());
    assert_eq!(c.cmd(&["HGETALL", "m"]), bulks(&["f", "v"]));
    // HSETNX only sets a missing field (creating the key if needed).
    assert_eq!(c.cmd(&["HSETNX", "h", "a", "nope"]), int(0));
    assert_eq!(c.cmd(&["HGET", "h", "a"]), bulk("6"));
    assert_eq!(c.cmd(&["HSETNX", "h", "n", "new"]), int(1));
    assert_eq!(c.cmd(&["HGET", "h", "n"]), bulk("new"));
    assert_eq!(c.cmd(&["HSETNX", "nx", "f", "v"]), int(1));
    assert_eq!(c.cmd(&["HGETALL", "nx"]), bulks(&["f", "v"]));
    // HSTRLEN: the value's length (integers included), 0 for a missing field or key.
    assert_eq!(c.cmd(&["HSET", "h", "num", "-12345", "empty", ""]), int(2));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "num"]), int(6));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "n"]), int(3));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "empty"]), int(0));
    assert_eq!(c.cmd(&["HGET", "h", "empty"]), bulk(""));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "zz"]), int(0));
    assert_eq!(c.cmd(&["HSTRLEN", "nokey", "zz"]), int(0));
    // Binary-safe fields and values, including empty ones.
    assert_eq!(c.cmd(&["HSET", "bin", "", "\r\n\0x", "\0", ""]), int(2));
    assert_eq!(c.cmd(&["HGET", "bin", ""]), bulk("\r\n\0x"));
    assert_eq!(c.cmd(&["HGET", "bin", "\0"]), bulk(""));
    assert_eq!(c.cmd(&["HEXISTS", "bin", "\0"]), int(1));
    assert_eq!(c.cmd(&["HEXISTS", "bin", "\0\0"]), int(0));
    // Large values.
    let big = "v".repeat(100_000);
    assert_eq!(c.cmd(&["HSET", "h", "big", &big]), int(1));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "big"]), int(100_000));
    assert_eq!(c.cmd(&["HGET", "h", "big"]), bulk(&big));
    let long_field = "f".repeat(70_000);
    assert_eq!(c.cmd(&["HSET", "h", &long_field, "1"]), int(1));
    assert_eq!(c.cmd(&["HGET", "h", &long_field]), bulk("1"));
}

#[test]
fn arity_errors() {
    let s = Server::new();
    let mut c = s.conn();
    // Odd field/value lists are arity errors, checked before the key.
    assert_eq!(c.cmd(&["SET", "s", "x"]), ok());
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b"]), arity_err("hset"));
    assert_eq!(c.cmd(&["HSET", "s", "a", "1", "b"]), arity_err("hset"));
    assert_eq!(c.cmd(&["HMSET", "h", "a", "1", "b"]), arity_err("hmset"));
    assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
    for (cmd, args) in [
        ("hset", &["h", "a"][..]),
        ("hmset", &["h", "a"]),
        ("hsetnx", &["h", "a"]),
        ("hsetnx", &["h", "a", "b", "c"]),
        ("hget", &["h"]),
        ("hget", &["h", "a", "b"]),
        ("hmget", &["h"]),
        ("hdel", &["h"]),
        ("hlen", &[]),
        ("hlen", &["h", "a"]),
        ("hstrlen", &["h"]),
        ("hexists", &["h"]),
        ("hkeys", &["h", "x"]),
        ("hvals", &["h", "x"]),
        ("hgetall", &[]),
        ("hincrby", &["h", "f"]),
        ("hincrbyfloat", &["h", "f"]),
        ("hincrbyfloat", &["h", "f", "1", "2"]),
        ("hrandfield", &[]),
        ("hscan", &["h"]),
    ] {
        let mut argv = vec![cmd.to_uppercase()];
        argv.extend(args.iter().map(|a| a.to_string()));
        assert_eq!(c.cmd(&argv), arity_err(cmd), "{argv:?}");
    }
}

#[test]
fn hmget_missing_key_and_fields() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HMGET", "h", "a", "b"]), arr(vec![nil(), nil()]));
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "c", "3"]), int(2));
    assert_eq!(
        c.cmd(&["HMGET", "h", "a", "b", "c", "a"]),
        arr(vec![bulk("1"), nil(), bulk("3"), bulk("1")])
    );
}

#[test]
fn hdel_and_empty_key_deletion() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HDEL", "h", "a"]), int(0));
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3"]), int(3));
    // Duplicates and missing fields count once / not at all.
    assert_eq!(c.cmd(&["HDEL", "h", "a", "a", "zz"]), int(1));
    assert_eq!(c.cmd(&["HLEN", "h"]), int(2));
    assert_eq!(c.cmd(&["HDEL", "h", "b", "c", "zz"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
    assert_eq!(c.cmd(&["TYPE", "h"]), simple("none"));
    assert_eq!(c.cmd(&["HGETALL", "h"]), empty());
    // The key may then be reused as another type.
    assert_eq!(c.cmd(&["SET", "h", "x"]), ok());
    assert_eq!(c.cmd(&["GET", "h"]), bulk("x"));
    // A key with a TTL: HSET keeps it; an emptied and re-created hash has none.
    assert_eq!(c.cmd(&["HSET", "t", "a", "1"]), int(1));
    assert_eq!(c.cmd(&["EXPIRE", "t", "1000"]), int(1));
    assert_eq!(c.cmd(&["HSET", "t", "b", "2"]), int(1));
    assert_eq!(c.cmd(&["HINCRBY", "t", "c", "1"]), int(1));
    assert_eq!(c.cmd(&["HDEL", "t", "a"]), int(1));
    let ttl = c.cmd(&["TTL", "t"]).int();
    assert!(ttl > 0 && ttl <= 1000, "ttl {ttl}");
    assert_eq!(c.cmd(&["HDEL", "t", "b", "c"]), int(2));
    assert_eq!(c.cmd(&["HSET", "t", "a", "1"]), int(1));
    assert_eq!(c.cmd(&["TTL", "t"]), int(-1));
}

#[test]
fn hkeys_hvals_hgetall_in_order() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HKEYS", "h"]), empty());
    assert_eq!(c.cmd(&["HVALS", "h"]), empty());
    assert_eq!(hgetall(&mut c, "h"), empty());
    assert_eq!(
        c.cmd(&["HSET", "h", "z", "1", "a", "2", "m", "3", "b", "4"]),
        int(4)
    );
    // Small hashes keep insertion order; an update keeps the field's place, a delete closes
    // the gap.
    assert_eq!(c.cmd(&["HSET", "h", "z", "9"]), int(0));
    assert_eq!(c.cmd(&["HDEL", "h", "a"]), int(1));
    assert_eq!(c.cmd(&["HSET", "h", "a", "5"]), int(1));
    assert_eq!(c.cmd(&["HKEYS", "h"]), bulks(&["z", "m", "b", "a"]));
    assert_eq!(c.cmd(&["HVALS", "h"]), bulks(&["9", "3", "4", "5"]));
    assert_eq!(
        hgetall(&mut c, "h"),
        bulks(&["z", "9", "m", "3", "b", "4", "a", "5"])
    );
    // A large hash: every field once (order is Redis's business).
    let mut args = vec!["HSET".to_string(), "big".into()];
    for i in 0..500 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(c.cmd(&args), int(500));
    let all = pairs(&hgetall(&mut c, "big"));
    assert_eq!(all.len(), 500);
    assert!((0..500).all(|i| all[&format!("f{i}")] == format!("v{i}")));
    let keys: BTreeSet<String> = c.cmd(&["HKEYS", "big"]).strings().into_iter().collect();
    assert_eq!(keys, all.keys().cloned().collect());
    let vals: BTreeSet<String> = c.cmd(&["HVALS", "big"]).strings().into_iter().collect();
    assert_eq!(vals, all.values().cloned().collect());
    // Deleting 450 of them.
    let mut del = vec!["HDEL".to_string(), "big".into()];
    del.extend((0..450).map(|i| format!("f{i}")));
    assert_eq!(c.cmd(&del), int(450));
    assert_eq!(c.cmd(&["HLEN", "big"]), int(50));
    let rest: BTreeSet<String> = c.cmd(&["HKEYS", "big"]).strings().into_iter().collect();
    assert_eq!(rest, (450..500).map(|i| format!("f{i}")).collect());
}

#[test]
fn hincrby() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "-7"]), int(-2));
    assert_eq!(c.cmd(&["HGET", "h", "n"]), bulk("-2"));
    assert_eq!(c.cmd(&["HINCRBY", "h", "m", "0"]), int(0));
    assert_eq!(c.cmd(&["HGET", "h", "m"]), bulk("0"));
    assert_eq!(c.cmd(&["HSET", "h", "x", "10"]), int(1));
    assert_eq!(c.cmd(&["HINCRBY", "h", "x", "1"]), int(11));
    // Limits.
    assert_eq!(
        c.cmd(&[
            "HSET",
            "h",
            "max",
            "9223372036854775807",
            "min",
            "-9223372036854775808"
        ]),
        int(2)
    );
    assert_eq!(c.cmd(&["HINCRBY", "h", "max", "1"]), err(OVERFLOW));
    assert_eq!(c.cmd(&["HINCRBY", "h", "min", "-1"]), err(OVERFLOW));
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "min", "9223372036854775807"]),
        int(-1)
    );
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "max", "-9223372036854775808"]),
        int(-1)
    );
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "z", "-9223372036854775808"]),
        int(i64::MIN)
    );
    // Values that are not integers.
    for v in [
        "1.5",
        " 1",
        "1 ",
        "+1",
        "",
        "abc",
        "01",
        "99999999999999999999",
    ] {
        assert!(!c.cmd(&["HSET", "h", "bad", v]).is_error());
        assert_eq!(
            c.cmd(&["HINCRBY", "h", "bad", "1"]),
            err(HASH_NOT_INT),
            "{v:?}"
        );
        assert_eq!(c.cmd(&["HGET", "h", "bad"]), bulk(v));
    }
    // A bad increment is refused before the key is even looked at.
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "1.0"]), err(NOT_INT));
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "n", "9223372036854775808"]),
        err(NOT_INT)
    );
    assert_eq!(c.cmd(&["SET", "s", "x"]), ok());
    assert_eq!(c.cmd(&["HINCRBY", "s", "n", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["HINCRBY", "s", "n", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["HINCRBY", "new", "n", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["EXISTS", "new"]), int(0));
}

const OVERFLOW: &str = "ERR increment or decrement would overflow";

/// 1e300 in x87 extended precision, printed in full by `%.17Lf`.
const E300: &str = "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144";

#[test]
fn hincrbyfloat_digit_exact() {
    let s = Server::new();
    let mut c = s.conn();
    for (field, incr, want) in [
        ("a", "0.1", "0.1"),
        ("a", "0.2", "0.3"),
        ("b", "1", "1"),
        ("b", "-1.1", "-0.1"),
        ("c", "10.5", "10.5"),
        ("c", "0.1", "10.6"),
        ("c", "-10.6", "0"),
        ("d", "5.0e3", "5000"),
        ("e", "0x1p-3", "0.125"),
        ("f", "3.0000000000000000001", "3"),
        ("g", "1.23456789012345678", "1.23456789012345678"),
        ("h", "1e-20", "0"),
        ("i", "-0.0", "0"),
        ("j", "1e30", "1000000000000000000024696061952"),
        ("k", "1.7976931348623157e308", "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384"),
    ] {
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", field, incr]),
            bulk(want),
            "{field} += {incr}"
        );
        assert_eq!(c.cmd(&["HGET", "h", field]), bulk(want));
    }
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "z", "1e300"]), bulk(E300));
    // Existing values in other spellings.
    assert_eq!(
        c.cmd(&["HSET", "h", "int", "17", "exp", "1.5e2", "hex", "0x10"]),
        int(3)
    );
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "int", "0.25"]), bulk("17.25"));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "exp", "1"]), bulk("151"));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "hex", "1"]), bulk("17"));
    assert_eq!(c.cmd(&["HINCRBY", "h", "exp", "1"]), int(152));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "new", "2"]), bulk("2"));
    assert_eq!(c.cmd(&["HINCRBY", "h", "new", "1"]), int(3));
    // Errors.
    for v in ["abc", " 1", "1 ", "", "nan", "1.5x"] {
        assert!(!c.cmd(&["HSET", "h", "bad", v]).is_error());
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", "bad", "1"]),
            err(HASH_NOT_FLOAT),
            "{v:?}"
        );
    }
    for incr in ["abc", "nan", "", " 1", "1e5000"] {
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", "a", incr]),
            err(NOT_FLOAT),
            "{incr:?}"
        );
    }
    for incr in ["inf", "-inf", "+Infinity"] {
        assert_eq!(
            c.cmd(&["HINCRBYFLOAT", "h", "a", incr]),
            err("ERR value is NaN or Infinity")
        );
    }
    assert_eq!(
        c.cmd(&["HSET", "h", "huge", "1.1e4932", "inf", "inf"]),
        int(2)
    );
    let nan_inf = err("ERR increment would produce NaN or Infinity");
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "huge", "1.1e4932"]), nan_inf);
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "inf", "1"]), nan_inf);
    assert_eq!(c.cmd(&["HGET", "h", "huge"]), bulk("1.1e4932"));
    assert_eq!(c.cmd(&["HGET", "h", "a"]), bulk("0.3"));
    // Increment checked before the key; WRONGTYPE after.
    assert_eq!(c.cmd(&["SET", "s", "x"]), ok());
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "s", "a", "x"]), err(NOT_FLOAT));
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "s", "a", "inf"]),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "s", "a", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "new", "a", "x"]), err(NOT_FLOAT));
    assert_eq!(c.cmd(&["EXISTS", "new"]), int(0));
}

#[test]
fn hrandfield() {
    let s = Server::new();
    let mut c = s.conn();
    // Missing key.
    assert_eq!(c.cmd(&["HRANDFIELD", "h"]), nil());
    assert_eq!(c.cmd(&["HRANDFIELD", "h", "5"]), empty());
    assert_eq!(c.cmd(&["HRANDFIELD", "h", "-5", "WITHVALUES"]), empty());
    let fields: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
    let mut args = vec!["HSET".to_string(), "h".into()];
    for f in &fields {
        args.push(f.clone());
        args.push(format!("v-{f}"));
    }
    assert_eq!(c.cmd(&args), int(20));
    let known: HashSet<&String> = fields.iter().collect();
    for _ in 0..20 {
        let f = c.cmd(&["HRANDFIELD", "h"]).text();
        assert!(known.contains(&f), "{f}");
    }
    assert_eq!(c.cmd(&["HRANDFIELD", "h", "0"]), empty());
    assert_eq!(c.cmd(&["HRANDFIELD", "h", "0", "WITHVALUES"]), empty());
    // Positive counts: distinct fields, at most the hash's size.
    for n in [1usize, 5, 7, 19, 20, 21, 1000] {
        let got = c.cmd(&["HRANDFIELD", "h", &n.to_string()]).strings();
        assert_eq!(got.len(), n.min(20), "count {n}");
        let uniq: HashSet<&String> = got.iter().collect();
        assert_eq!(uniq.len(), got.len(), "count {n}: {got:?}");
        assert!(got.iter().all(|f| known.contains(f)));
        let wv = c.cmd(&["HRANDFIELD", "h", &n.to_string(), "withvalues"]);
        let m = pairs(&wv);
        assert_eq!(m.len(), n.min(20));
        assert!(m.iter().all(|(k, v)| *v == format!("v-{k}")));
    }
    // Negative counts: exactly |count| fields, repeats allowed.
    for n in [1usize, 3, 20, 100] {
        let got = c.cmd(&["HRANDFIELD", "h", &format!("-{n}")]).strings();
        assert_eq!(got.len(), n);
        assert!(got.iter().all(|f| known.contains(f)));
        let wv = c
            .cmd(&["HRANDFIELD", "h", &format!("-{n}"), "WITHVALUES"])
            .strings();
        assert_eq!(wv.len(), 2 * n);
        assert!(wv.chunks(2).all(|p| p[1] == format!("v-{}", p[0])));
    }
    let many = c.cmd(&["HRANDFIELD", "h", "-2000"]).strings();
    assert_eq!(many.len(), 2000);
    let uniq: HashSet<&String> = many.iter().collect();
    assert!(
        uniq.len() > 1,
        "2000 draws from 20 fields were all the same"
    );
    // A large hash.
    let mut args = vec!["HSET".to_string(), "big".into()];
    for i in 0..1000 {
        args.push(format!("b{i}"));
        args.push(i.to_string());
    }
    assert_eq!(c.cmd(&args), int(1000));
    for n in [10usize, 400, 999] {
        let m = pairs(&c.cmd(&["HRANDFIELD", "big", &n.to_string(), "WITHVALUES"]));
        assert_eq!(m.len(), n);
        assert!(m.iter().all(|(k, v)| *k == format!("b{v}")));
    }
    // One field.
    assert_eq!(c.cmd(&["HSET", "one", "f", "v"]), int(1));
    assert_eq!(c.cmd(&["HRANDFIELD", "one"]), bulk("f"));
    assert_eq!(
        c.cmd(&["HRANDFIELD", "one", "5", "WITHVALUES"]),
        bulks(&["f", "v"])
    );
    assert_eq!(c.cmd(&["HRANDFIELD", "one", "-3"]), bulks(&["f", "f", "f"]));
}

#[test]
fn hrandfield_errors() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HSET", "h", "a", "1"]), int(1));
    assert_eq!(c.cmd(&["SET", "s", "x"]), ok());
    let range = err(
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
    let out_of_range = err("ERR value is out of range");
    // Count errors come before the key lookup (so before WRONGTYPE).
    for key in ["h", "s", "nokey"] {
        assert_eq!(c.cmd(&["HRANDFIELD", key, "x"]), err(NOT_INT));
        assert_eq!(c.cmd(&["HRANDFIELD", key, "1.5"]), err(NOT_INT));
        assert_eq!(
            c.cmd(&["HRANDFIELD", key, "9223372036854775808"]),
            err(NOT_INT)
        );
        assert_eq!(c.cmd(&["HRANDFIELD", key, "-9223372036854775808"]), range);
        assert_eq!(c.cmd(&["HRANDFIELD", key, "1", "withvalue"]), err(SYNTAX));
        assert_eq!(
            c.cmd(&["HRANDFIELD", key, "1", "WITHVALUES", "x"]),
            err(SYNTAX)
        );
        assert_eq!(c.cmd(&["HRANDFIELD", key, "x", "y", "z"]), err(NOT_INT));
        assert_eq!(
            c.cmd(&["HRANDFIELD", key, "-4611686018427387904", "WITHVALUES"]),
            out_of_range
        );
        assert_eq!(
            c.cmd(&["HRANDFIELD", key, "4611686018427387904", "WITHVALUES"]),
            out_of_range
        );
    }
    // Within range: a positive count is capped by the hash's size.
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"]),
        bulks(&["a", "1"])
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "9223372036854775807"]),
        bulks(&["a"])
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "nokey", "-4611686018427387903", "WITHVALUES"]),
        empty()
    );
    assert_eq!(c.cmd(&["HRANDFIELD", "s"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["HRANDFIELD", "s", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["HRANDFIELD", "s", "0"]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["HRANDFIELD", "s", "-1", "WITHVALUES"]),
        err(WRONGTYPE)
    );
}

/// The cursor and the flat field/value array of one HSCAN reply.
fn scan_reply(r: &Reply) -> (String, Vec<String>) {
    let items = r.items();
    assert_eq!(items.len(), 2, "{r:?}");
    (items[0].text(), items[1].strings())
}

#[test]
fn hscan_small_hash_and_options() {
    let s = Server::new();
    let mut c = s.conn();
    let empty_scan = arr(vec![bulk("0"), empty()]);
    assert_eq!(c.cmd(&["HSCAN", "h", "0"]), empty_scan);
    // Options are only parsed once the key is known to be a hash.
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "COUNT", "0"]), empty_scan);
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "bogus"]), empty_scan);
    assert_eq!(
        c.cmd(&["HSET", "h", "a1", "1", "b1", "2", "a2", "3", "c", "4"]),
        int(4)
    );
    // A small hash comes back whole, in order, with cursor 0, whatever COUNT says.
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0"]),
        arr(vec![
            bulk("0"),
            bulks(&["a1", "1", "b1", "2", "a2", "3", "c", "4"])
        ])
    );
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "COUNT", "1"]),
        arr(vec![
            bulk("0"),
            bulks(&["a1", "1", "b1", "2", "a2", "3", "c", "4"])
        ])
    );
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "match", "a*"]),
        arr(vec![bulk("0"), bulks(&["a1", "1", "a2", "3"])])
    );
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "MATCH", "x*", "COUNT", "100"]),
        arr(vec![bulk("0"), empty()])
    );
    // The last MATCH / COUNT wins.
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "MATCH", "x*", "MATCH", "?1", "COUNT", "5", "COUNT", "7"]),
        arr(vec![bulk("0"), bulks(&["a1", "1", "b1", "2"])])
    );
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "MATCH", "[ab]1"]),
        arr(vec![bulk("0"), bulks(&["a1", "1", "b1", "2"])])
    );
    // MATCH filters fields, not values.
    assert_eq!(
        c.cmd(&["HSCAN", "h", "0", "MATCH", "4"]),
        arr(vec![bulk("0"), empty()])
    );
    // Cursors strtoul accepts.
    for cur in ["", "-0", "+0", "00", "7", "-1", "18446744073709551615"] {
        let (next, items) = scan_reply(&c.cmd(&["HSCAN", "h", cur]));
        assert_eq!((next.as_str(), items.len()), ("0", 8), "cursor {cur:?}");
    }
    let bad_cursor = err("ERR invalid cursor");
    for cur in [
        " 1",
        "1 ",
        "x",
        "+",
        "-",
        "1.0",
        "18446744073709551616",
        "0x10",
    ] {
        assert_eq!(c.cmd(&["HSCAN", "h", cur]), bad_cursor, "cursor {cur:?}");
        assert_eq!(c.cmd(&["HSCAN", "nokey", cur]), bad_cursor);
    }
    // Option errors.
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "COUNT", "0"]), err(SYNTAX));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "COUNT", "-1"]), err(SYNTAX));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "COUNT", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "COUNT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "MATCH"]), err(SYNTAX));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "TYPE", "string"]), err(SYNTAX));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "NOVALUES"]), err(SYNTAX));
    assert_eq!(c.cmd(&["HSCAN", "h", "0", "COUNT", "1", "x"]), err(SYNTAX));
    // Type and cursor checks.
    assert_eq!(c.cmd(&["SET", "s", "x"]), ok());
    assert_eq!(c.cmd(&["HSCAN", "s", "0"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["HSCAN", "s", "0", "COUNT", "0"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["HSCAN", "s", "x"]), bad_cursor);
}

/// Runs a full HSCAN of `key`, calling `between(step)` after each call; returns every field seen
/// (with its multiplicity) and checks each pair's value with `value_of`.
fn full_scan(
    c: &mut Conn,
    key: &str,
    extra: &[&str],
    mut between: impl FnMut(&mut Conn, usize),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    for step in 0..100_000 {
        let mut args = vec!["HSCAN", key, &cursor];
        args.extend_from_slice(extra);
        let (next, items) = scan_reply(&c.cmd(&args));
        for p in items.chunks(2) {
            assert_eq!(p[1], format!("v{}", &p[0][1..]), "pair {p:?}");
            seen.push(p[0].clone());
        }
        if next == "0" {
            return seen;
        }
        cursor = next;
        between(c, step);
    }
    panic!("HSCAN did not finish");
}

#[test]
fn hscan_large_hash_full_iteration_with_deletes() {
    let s = Server::new();
    let mut c = s.conn();
    let mut args = vec!["HSET".to_string(), "h".into()];
    for i in 0..1000 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
    }
    assert_eq!(c.cmd(&args), int(1000));
    // Undisturbed: every field at least once, nothing else.
    let seen = full_scan(&mut c, "h", &[], |_, _| {});
    let uniq: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(uniq.len(), 1000);
    let seen = full_scan(&mut c, "h", &["COUNT", "1000"], |_, _| {});
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 1000);
    let seen = full_scan(&mut c, "h", &["COUNT", "1"], |_, _| {});
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 1000);
    // MATCH with a large hash: only matching fields, all of them.
    let seen = full_scan(&mut c, "h", &["MATCH", "f1*", "COUNT", "50"], |_, _| {});
    let want: BTreeSet<String> = (0..1000)
        .map(|i| format!("f{i}"))
        .filter(|f| f.starts_with("f1"))
        .collect();
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), want);

    // Deletes (and some inserts) between calls: odd fields below 600 are deleted as the scan
    // goes; every field never deleted must still be returned.
    let mut next_del = 1;
    let mut added = 0;
    let seen = full_scan(&mut c, "h", &["COUNT", "20"], |c, step| {
        for _ in 0..10 {
            if next_del < 600 {
                assert_eq!(c.cmd(&["HDEL", "h", &format!("f{next_del}")]), int(1));
                next_del += 2;
            }
        }
        if step % 3 == 0 {
            let i = 1000 + added;
            added += 1;
            assert_eq!(
                c.cmd(&["HSET", "h", &format!("f{i}"), &format!("v{i}")]),
                int(1)
            );
        }
    });
    let seen: BTreeSet<String> = seen.into_iter().collect();
    for i in 0..1000 {
        let kept = i >= 600 || i % 2 == 0 || i >= next_del;
        if kept {
            assert!(seen.contains(&format!("f{i}")), "f{i} never returned");
        }
    }
    // Delete everything but a few, then scan what is left.
    let mut del = vec!["HDEL".to_string(), "h".into()];
    del.extend((0..2000).filter(|i| i % 100 != 0).map(|i| format!("f{i}")));
    c.cmd(&del).int();
    let left: BTreeSet<String> = full_scan(&mut c, "h", &[], |_, _| {}).into_iter().collect();
    let want: BTreeSet<String> = c.cmd(&["HKEYS", "h"]).strings().into_iter().collect();
    assert_eq!(left, want);
    assert!((0..1000)
        .step_by(100)
        .all(|i| want.contains(&format!("f{i}"))));
    assert_eq!(c.cmd(&["HLEN", "h"]), int(want.len() as i64));
}

#[test]
fn wrongtype_both_ways() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "s", "x"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l", "x"]), int(1));
    for key in ["s", "l"] {
        for args in [
            &["HSET", key, "f", "v"][..],
            &["HMSET", key, "f", "v"],
            &["HSETNX", key, "f", "v"],
            &["HGET", key, "f"],
            &["HMGET", key, "f", "g"],
            &["HDEL", key, "f"],
            &["HLEN", key],
            &["HSTRLEN", key, "f"],
            &["HEXISTS", key, "f"],
            &["HKEYS", key],
            &["HVALS", key],
            &["HGETALL", key],
            &["HINCRBY", key, "f", "1"],
            &["HINCRBYFLOAT", key, "f", "1"],
            &["HRANDFIELD", key],
            &["HRANDFIELD", key, "2", "WITHVALUES"],
            &["HSCAN", key, "0"],
        ] {
            assert_eq!(c.cmd(args), err(WRONGTYPE), "{args:?}");
        }
    }
    assert_eq!(c.cmd(&["GET", "s"]), bulk("x"));
    assert_eq!(c.cmd(&["LLEN", "l"]), int(1));
    // And the other way round.
    assert_eq!(c.cmd(&["HSET", "h", "f", "1"]), int(1));
    for args in [
        &["GET", "h"][..],
        &["APPEND", "h", "x"],
        &["INCR", "h"],
        &["INCRBYFLOAT", "h", "1"],
        &["STRLEN", "h"],
        &["GETRANGE", "h", "0", "1"],
        &["LPUSH", "h", "x"],
        &["RPUSH", "h", "x"],
        &["LPOP", "h"],
        &["LLEN", "h"],
        &["LRANGE", "h", "0", "-1"],
    ] {
        assert_eq!(c.cmd(args), err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(c.cmd(&["HGETALL", "h"]), bulks(&["f", "1"]));
    // SET overwrites any type.
    assert_eq!(c.cmd(&["SET", "h", "now a string"]), ok());
    assert_eq!(c.cmd(&["TYPE", "h"]), simple("string"));
}

#[test]
fn hashes_on_both_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let keys = keys_per_shard("hash:", 2, 4);
    let all: Vec<&String> = keys.iter().flatten().collect();
    for (i, k) in all.iter().enumerate() {
        assert_eq!(c.cmd(&["HSET", k, "field", &i.to_string(), "k", k]), int(2));
        assert_eq!(c.cmd(&["HINCRBY", k, "field", "100"]), int(i as i64 + 100));
    }
    for (i, k) in all.iter().enumerate() {
        assert_eq!(c.cmd(&["TYPE", k]), simple("hash"));
        assert_eq!(
            hgetall(&mut c, k),
            bulks(&["field", &(i + 100).to_string(), "k", k])
        );
    }
    // Multi-key commands across shards see hashes too.
    let mut exists = vec!["EXISTS"];
    exists.extend(all.iter().map(|k| k.as_str()));
    assert_eq!(c.cmd(&exists), int(all.len() as i64));
    let mut del = vec!["DEL"];
    del.extend(all.iter().take(3).map(|k| k.as_str()));
    assert_eq!(c.cmd(&del), int(3));
    assert_eq!(c.cmd(&exists), int(all.len() as i64 - 3));
    // Pipelined writes to both shards come back in order.
    let mut batch = Vec::new();
    for k in &all {
        encode_cmd_into(&["HSET", k, "p", "1"], &mut batch);
        encode_cmd_into(&["HLEN", k], &mut batch);
    }
    c.send(&batch);
    for (i, _) in all.iter().enumerate() {
        let created = c.read_reply();
        let len = c.read_reply();
        if i < 3 {
            assert_eq!((created, len), (int(1), int(1)));
        } else {
            assert_eq!((created, len), (int(1), int(3)));
        }
    }
}

#[test]
fn listpack_sized_hashes_keep_order_and_scan_at_once() {
    // Up to 512 fields (Redis 7.0's hash-max-listpack-entries) with short values: insertion
    // order everywhere, deletes close the gap, HSCAN returns everything with cursor 0.
    let s = Server::new();
    let mut c = s.conn();
    let mut args = vec!["HSET".to_string(), "h".into()];
    let mut order = Vec::new();
    for i in (0..512).rev() {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
        order.push(format!("f{i}"));
    }
    assert_eq!(c.cmd(&args), int(512));
    assert_eq!(c.cmd(&["HKEYS", "h"]).strings(), order);
    let mut del = vec!["HDEL".to_string(), "h".into()];
    del.extend((0..512).step_by(3).map(|i| format!("f{i}")));
    assert_eq!(c.cmd(&del), int(171));
    order.retain(|f| f[1..].parse::<usize>().unwrap() % 3 != 0);
    assert_eq!(c.cmd(&["HKEYS", "h"]).strings(), order);
    let (cursor, items) = scan_reply(&c.cmd(&["HSCAN", "h", "0", "COUNT", "5"]));
    assert_eq!(cursor, "0");
    let fields: Vec<String> = items.chunks(2).map(|p| p[0].clone()).collect();
    assert_eq!(fields, order);
    let vals: Vec<String> = c.cmd(&["HVALS", "h"]).strings();
    assert!(vals.iter().zip(&order).all(|(v, f)| v[1..] == f[1..]));
}

//! Sorted-set commands: replies, reply order and errors exactly as Redis 7.0 gives them, with keys
//! on one shard and spread over shards. Run with `REDIS_LITE_TEST_REDIS=1` to check the
//! expectations against the real redis-server.

mod common;

use common::*;

const NOT_FLOAT: &str = "ERR value is not a valid float";
const MINMAX_FLOAT: &str = "ERR min or max is not a float";
const MINMAX_LEX: &str = "ERR min or max not valid string range item";

/// An array of bulk strings.
fn b(v: &[&str]) -> Reply {
    bulks(v)
}

fn d(s: &str) -> Reply {
    Reply::Double(s.to_string())
}

/// RESP3 [member, score] pairs.
fn pairs3(v: &[(&str, &str)]) -> Reply {
    arr(v.iter().map(|(m, s)| arr(vec![bulk(m), d(s)])).collect())
}

/// Two keys owned by different shards (of 2), and a third on the first one's shard.
fn spread(prefix: &str) -> (String, String, String) {
    let ks = keys_per_shard(prefix, 2, 2);
    (ks[0][0].clone(), ks[1][0].clone(), ks[0][1].clone())
}

fn sorted(r: &Reply) -> Vec<String> {
    let mut v = r.strings();
    v.sort();
    v
}

#[test]
fn zadd_basics_and_options() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b", "1", "a"]), int(2));
    assert_eq!(c.cmd(&["TYPE", "z"]), simple("zset"));
    assert_eq!(c.cmd(&["ZCARD", "z"]), int(2));
    // The last score of a repeated member wins; CH counts changed scores too.
    assert_eq!(
        c.cmd(&["ZADD", "z", "CH", "5", "a", "3", "c", "5", "a"]),
        int(2)
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("5"));
    assert_eq!(c.cmd(&["ZADD", "z", "5", "a"]), int(0));
    assert_eq!(c.cmd(&["ZADD", "z", "ch", "5", "a"]), int(0));
    // NX: only new members; XX: only existing ones.
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "100", "a", "4", "d"]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("5"));
    assert_eq!(
        c.cmd(&["ZADD", "z", "XX", "CH", "6", "a", "7", "e"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("6"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "e"]), nil());
    // GT/LT update only upwards/downwards, and still add new members.
    assert_eq!(
        c.cmd(&["ZADD", "z", "GT", "CH", "1", "a", "9", "b", "1", "f"]),
        int(2)
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("6"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), bulk("9"));
    assert_eq!(
        c.cmd(&["ZADD", "z", "LT", "CH", "0", "a", "10", "b"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("0"));
    assert_eq!(
        c.cmd(&["ZADD", "z", "XX", "GT", "CH", "1", "a", "1", "new"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "new"]), nil());
    // XX on a missing key creates nothing.
    assert_eq!(c.cmd(&["ZADD", "nokey", "XX", "1", "a"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), int(0));
    assert_eq!(c.cmd(&["ZADD", "nokey", "XX", "INCR", "1", "a"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), int(0));
    // Options are case-insensitive and may repeat; a member may look like an option.
    assert_eq!(c.cmd(&["ZADD", "o", "nx", "Nx", "1", "xx"]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "o", "xx"]), bulk("1"));
}

#[test]
fn zadd_errors() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZADD", "z"]), arity_err("zadd"));
    assert_eq!(c.cmd(&["ZADD", "z", "1"]), arity_err("zadd"));
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "XX"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "CH", "1"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZADD", "z", "NX", "XX", "1", "a"]),
        err("ERR XX and NX options at the same time are not compatible")
    );
    let gtlt = err("ERR GT, LT, and/or NX options at the same time are not compatible");
    assert_eq!(c.cmd(&["ZADD", "z", "GT", "LT", "1", "a"]), gtlt);
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "GT", "1", "a"]), gtlt);
    assert_eq!(c.cmd(&["ZADD", "z", "LT", "NX", "1", "a"]), gtlt);
    assert_eq!(
        c.cmd(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        err("ERR INCR option supports a single increment-element pair")
    );
    // Conflicts are reported before bad scores; every score is checked before anything is added.
    assert_eq!(
        c.cmd(&["ZADD", "z", "NX", "XX", "x", "a"]),
        err("ERR XX and NX options at the same time are not compatible")
    );
    for bad in [
        "x", "nan", "", " 1", "1 ", "1e400", "-1e400", "1e-400", "1.5x", "--1",
    ] {
        assert_eq!(
            c.cmd(&["ZADD", "z", "1", "a", bad, "b"]),
            err(NOT_FLOAT),
            "{bad:?}"
        );
    }
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    // What strtod takes: exponents, hex, infinities, leading '+', a tiny subnormal.
    assert_eq!(
        c.cmd(&[
            "ZADD",
            "z",
            "1e2",
            "a",
            "0x10",
            "b",
            "+inf",
            "c",
            "-Infinity",
            "d",
            "+.5",
            "e",
            "4.9e-324",
            "f"
        ]),
        int(6)
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        b(&[
            "d",
            "-inf",
            "f",
            "4.9406564584124654e-324",
            "e",
            "0.5",
            "b",
            "16",
            "a",
            "100",
            "c",
            "inf"
        ])
    );
    // inf + -inf is NaN: an error, and the member keeps its score.
    assert_eq!(
        c.cmd(&["ZADD", "z", "INCR", "-inf", "c"]),
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(
        c.cmd(&["ZINCRBY", "z", "-inf", "c"]),
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "c"]), bulk("inf"));
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZADD", "str", "1", "a"]), err(WRONGTYPE));
    // Score errors come before the type check.
    assert_eq!(c.cmd(&["ZADD", "str", "x", "a"]), err(NOT_FLOAT));
}

#[test]
fn zadd_incr_and_zincrby() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZINCRBY", "z", "2.5", "a"]), bulk("2.5"));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "-1", "a"]), bulk("1.5"));
    assert_eq!(c.cmd(&["ZADD", "z", "INCR", "10", "a"]), bulk("11.5"));
    assert_eq!(
        c.cmd(&["ZADD", "z", "INCR", "0.1", "b"]),
        bulk("0.10000000000000001")
    );
    // INCR that NX/XX/GT/LT refuse replies nil.
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "INCR", "1", "a"]), nil());
    assert_eq!(c.cmd(&["ZADD", "z", "XX", "INCR", "1", "zz"]), nil());
    assert_eq!(c.cmd(&["ZADD", "z", "GT", "INCR", "-1", "a"]), nil());
    assert_eq!(c.cmd(&["ZADD", "z", "LT", "INCR", "1", "a"]), nil());
    assert_eq!(c.cmd(&["ZADD", "z", "GT", "INCR", "1", "a"]), bulk("12.5"));
    assert_eq!(c.cmd(&["ZADD", "z", "XX", "INCR", "0", "a"]), bulk("12.5"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "zz"]), nil());
    assert_eq!(c.cmd(&["ZINCRBY", "z", "x", "a"]), err(NOT_FLOAT));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "1"]), arity_err("zincrby"));
    assert_eq!(
        c.cmd(&["ZINCRBY", "z", "1", "a", "b"]),
        arity_err("zincrby")
    );
    // ZINCRBY is ZADD INCR underneath: an option name as the increment is a syntax error.
    assert_eq!(c.cmd(&["ZINCRBY", "z", "nx", "a"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "1e17", "big"]), bulk("1e+17"));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "inf", "big"]), bulk("inf"));
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZINCRBY", "str", "1", "a"]), err(WRONGTYPE));
}

#[test]
fn score_formatting() {
    let s = Server::new();
    let mut c = s.conn();
    let cases = [
        ("3", "3"),
        ("3.0", "3"),
        ("-2.5", "-2.5"),
        ("0.1", "0.10000000000000001"),
        ("1e17", "1e+17"),
        ("123456789012345678", "1.2345678901234568e+17"),
        ("9007199254740993", "9007199254740992"),
        ("1e-5", "1.0000000000000001e-05"),
        ("0.0001", "0.0001"),
        ("1.5e300", "1.5000000000000001e+300"),
        ("-inf", "-inf"),
        ("inf", "inf"),
    ];
    for (i, (input, _)) in cases.iter().enumerate() {
        assert_eq!(c.cmd(&["ZADD", "z", input, &format!("m{i:02}")]), int(1));
    }
    for (i, (input, want)) in cases.iter().enumerate() {
        assert_eq!(
            c.cmd(&["ZSCORE", "z", &format!("m{i:02}")]),
            bulk(want),
            "{input}"
        );
    }
}

#[test]
fn negative_zero() {
    let s = Server::new();
    let mut c = s.conn();
    // A listpack-sized set stores -0 as 0, but ZINCRBY still replies the computed -0.
    assert_eq!(c.cmd(&["ZADD", "small", "-0", "a"]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "small", "a"]), bulk("0"));
    assert_eq!(c.cmd(&["ZINCRBY", "small", "-0", "b"]), bulk("-0"));
    assert_eq!(c.cmd(&["ZSCORE", "small", "b"]), bulk("0"));
    assert_eq!(c.cmd(&["ZADD", "small", "0", "a"]), int(0));
    // A set with a long member is no listpack: -0 stays.
    let long = "x".repeat(65);
    assert_eq!(c.cmd(&["ZADD", "long", "-0", &long]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "long", &long]), bulk("-0"));
    assert_eq!(
        c.cmd(&["ZUNION", "1", "long", "WITHSCORES"]),
        b(&[&long, "-0"])
    );
    // Nor is a set of more than 128 members.
    let mut cmd = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..129 {
        cmd.push(i.to_string());
        cmd.push(format!("m{i}"));
    }
    assert_eq!(c.cmd(&cmd), int(129));
    assert_eq!(c.cmd(&["ZADD", "big", "-0", "neg"]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "big", "neg"]), bulk("-0"));
    // A stored result of listpack size loses the sign; a bigger one keeps it.
    assert_eq!(c.cmd(&["ZUNIONSTORE", "u", "1", "long"]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "u", &long]), bulk("-0"));
    assert_eq!(c.cmd(&["ZRANGESTORE", "r", "big", "0", "3"]), int(4));
    assert_eq!(c.cmd(&["ZSCORE", "r", "neg"]), bulk("0"));
    assert_eq!(c.cmd(&["ZUNIONSTORE", "u", "1", "big"]), int(130));
    assert_eq!(c.cmd(&["ZSCORE", "u", "neg"]), bulk("-0"));
}

#[test]
fn zrem_and_emptied_keys() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZREM", "z", "a"]), int(0));
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]), int(3));
    assert_eq!(c.cmd(&["ZREM", "z", "a", "x", "a"]), int(1));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), b(&["b", "c"]));
    assert_eq!(c.cmd(&["ZREM", "z", "b", "c", "d"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    assert_eq!(c.cmd(&["ZREM", "z"]), arity_err("zrem"));
    // Every way of removing the last member deletes the key.
    let fill = |c: &mut Conn| assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
    fill(&mut c);
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "5"]), b(&["a", "1", "b", "2"]));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    fill(&mut c);
    assert_eq!(c.cmd(&["ZPOPMAX", "z"]), b(&["b", "2"]));
    assert_eq!(c.cmd(&["ZPOPMAX", "z"]), b(&["a", "1"]));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    fill(&mut c);
    assert_eq!(
        c.cmd(&["ZMPOP", "1", "z", "MIN", "COUNT", "10"]),
        arr(vec![bulk("z"), arr(vec![b(&["a", "1"]), b(&["b", "2"])])])
    );
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    fill(&mut c);
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "0", "-1"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    fill(&mut c);
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    fill(&mut c);
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "-", "+"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    // ZINCRBY to a new key, ZREM it: gone.
    assert_eq!(c.cmd(&["ZINCRBY", "z", "1", "a"]), bulk("1"));
    assert_eq!(c.cmd(&["ZREM", "z", "a"]), int(1));
    assert_eq!(c.cmd(&["TYPE", "z"]), simple("none"));
}

#[test]
fn reads() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZCARD", "z"]), int(0));
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), nil());
    assert_eq!(c.cmd(&["ZMSCORE", "z", "a", "b"]), arr(vec![nil(), nil()]));
    assert_eq!(c.cmd(&["ZRANK", "z", "a"]), nil());
    assert_eq!(c.cmd(&["ZREVRANK", "z", "a"]), nil());
    // Ties order by member bytes.
    assert_eq!(
        c.cmd(&["ZADD", "z", "1", "b", "1", "a", "0", "z", "1", "B", "2", ""]),
        int(5)
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1"]),
        b(&["z", "B", "a", "b", ""])
    );
    assert_eq!(c.cmd(&["ZRANK", "z", "z"]), int(0));
    assert_eq!(c.cmd(&["ZRANK", "z", "a"]), int(2));
    assert_eq!(c.cmd(&["ZREVRANK", "z", "a"]), int(2));
    assert_eq!(c.cmd(&["ZREVRANK", "z", ""]), int(0));
    assert_eq!(c.cmd(&["ZRANK", "z", "nope"]), nil());
    assert_eq!(
        c.cmd(&["ZMSCORE", "z", "b", "nope", ""]),
        arr(vec![bulk("1"), nil(), bulk("2")])
    );
    assert_eq!(c.cmd(&["ZCARD", "z"]), int(5));
    assert_eq!(c.cmd(&["ZCARD"]), arity_err("zcard"));
    assert_eq!(c.cmd(&["ZSCORE", "z"]), arity_err("zscore"));
    assert_eq!(c.cmd(&["ZMSCORE", "z"]), arity_err("zmscore"));
    // 7.0 has no WITHSCORE for ZRANK.
    assert_eq!(c.cmd(&["ZRANK", "z", "a", "WITHSCORE"]), arity_err("zrank"));
    assert_eq!(c.cmd(&["ZREVRANK", "z"]), arity_err("zrevrank"));
}

#[test]
fn zcount_and_zlexcount() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZCOUNT", "z", "-inf", "+inf"]), int(0));
    assert_eq!(
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "-inf", "n", "inf", "p"]),
        int(5)
    );
    assert_eq!(c.cmd(&["ZCOUNT", "z", "-inf", "+inf"]), int(5));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "1", "3"]), int(3));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(1", "3"]), int(2));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(1", "(3"]), int(1));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(-inf", "(inf"]), int(3));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "3", "1"]), int(0));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(2", "(2"]), int(0));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "2", "2"]), int(1));
    // strtod rules: space before, "" is 0, overflow is infinity.
    assert_eq!(c.cmd(&["ZCOUNT", "z", " 2", "1e400"]), int(3));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "", "("]), int(0));
    for bad in ["x", "nan", "[1", "1x", "2 ", " "] {
        assert_eq!(
            c.cmd(&["ZCOUNT", "z", bad, "3"]),
            err(MINMAX_FLOAT),
            "{bad:?}"
        );
        assert_eq!(
            c.cmd(&["ZCOUNT", "z", "1", bad]),
            err(MINMAX_FLOAT),
            "{bad:?}"
        );
    }
    // The range is checked before the key.
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZCOUNT", "str", "x", "1"]), err(MINMAX_FLOAT));
    assert_eq!(c.cmd(&["ZCOUNT", "str", "0", "1"]), err(WRONGTYPE));

    assert_eq!(
        c.cmd(&["ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]),
        int(5)
    );
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "-", "+"]), int(5));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "[b", "[d"]), int(3));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "(b", "(d"]), int(1));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "[b", "(b"]), int(0));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "[d", "[b"]), int(0));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "+", "-"]), int(0));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "-", "-"]), int(0));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "+", "+"]), int(0));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "l", "[", "(c"]), int(2));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "nokey", "-", "+"]), int(0));
    for bad in ["a", "", "+a", "-a", "1"] {
        assert_eq!(
            c.cmd(&["ZLEXCOUNT", "l", bad, "+"]),
            err(MINMAX_LEX),
            "{bad:?}"
        );
        assert_eq!(
            c.cmd(&["ZLEXCOUNT", "l", "-", bad]),
            err(MINMAX_LEX),
            "{bad:?}"
        );
    }
    assert_eq!(c.cmd(&["ZLEXCOUNT", "str", "x", "+"]), err(MINMAX_LEX));
    assert_eq!(c.cmd(&["ZLEXCOUNT", "str", "-", "+"]), err(WRONGTYPE));
}

/// z: a=1 b=2 c=3 d=4 e=5.
fn five(c: &mut Conn) {
    assert_eq!(
        c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]),
        int(5)
    );
}

#[test]
fn zrange_by_rank() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), empty());
    five(&mut c);
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1"]),
        b(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(c.cmd(&["ZRANGE", "z", "1", "2"]), b(&["b", "c"]));
    assert_eq!(c.cmd(&["ZRANGE", "z", "-2", "-1"]), b(&["d", "e"]));
    assert_eq!(c.cmd(&["ZRANGE", "z", "-100", "1"]), b(&["a", "b"]));
    assert_eq!(c.cmd(&["ZRANGE", "z", "3", "100"]), b(&["d", "e"]));
    assert_eq!(c.cmd(&["ZRANGE", "z", "3", "2"]), empty());
    assert_eq!(c.cmd(&["ZRANGE", "z", "5", "10"]), empty());
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-6"]), empty());
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "-9223372036854775808", "9223372036854775807"]),
        b(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        b(&["a", "1", "b", "2"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "REV", "withscores"]),
        b(&["e", "5", "d", "4"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGE", "z", "0", "-1"]),
        b(&["e", "d", "c", "b", "a"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGE", "z", "1", "2", "WITHSCORES"]),
        b(&["d", "4", "c", "3"])
    );
    assert_eq!(c.cmd(&["ZREVRANGE", "z", "-1", "-1"]), b(&["a"]));
    assert_eq!(c.cmd(&["ZREVRANGE", "z", "4", "9"]), b(&["a"]));
    // Errors: integers, options.
    assert_eq!(c.cmd(&["ZRANGE", "z", "a", "1"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1.5"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "bogus"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "REV", "REV"]), err(SYNTAX));
    let limit = err(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]), limit);
    // A count of -1 is what Redis takes for "no LIMIT".
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "LIMIT", "5", "-1"]),
        b(&["a", "b"])
    );
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "LIMIT", "0"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "LIMIT", "x", "1"]),
        err(NOT_INT)
    );
    assert_eq!(c.cmd(&["ZREVRANGE", "z", "0", "1", "REV"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZREVRANGE", "z", "0", "1", "BYSCORE"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        limit
    );
    assert_eq!(c.cmd(&["ZRANGE", "z", "0"]), arity_err("zrange"));
    assert_eq!(c.cmd(&["ZREVRANGE", "z", "0"]), arity_err("zrevrange"));
    // Options are parsed before the range, the range before the key.
    assert_eq!(c.cmd(&["ZRANGE", "z", "x", "1", "bogus"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZRANGE", "str", "x", "1"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZRANGE", "str", "0", "1"]), err(WRONGTYPE));
}

#[test]
fn zrange_by_score() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf"]), empty());
    five(&mut c);
    assert_eq!(
        c.cmd(&["ZADD", "z", "2", "bb", "-inf", "lo", "+inf", "hi"]),
        int(3)
    );
    let all = ["lo", "a", "b", "bb", "c", "d", "e", "hi"];
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf"]), b(&all));
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "2", "3"]),
        b(&["b", "bb", "c"])
    );
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "(2", "3"]), b(&["c"]));
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "2", "(3"]), b(&["b", "bb"]));
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "(-inf", "(+inf"]),
        b(&all[1..7])
    );
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "3", "2"]), empty());
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "(3", "3"]), empty());
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"]),
        b(&["b", "2", "bb", "2", "c", "3"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "z", "3", "2"]),
        b(&["c", "bb", "b"])
    );
    assert_eq!(c.cmd(&["ZREVRANGEBYSCORE", "z", "2", "3"]), empty());
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "z", "(3", "-inf", "WITHSCORES"]),
        b(&["bb", "2", "b", "2", "a", "1", "lo", "-inf"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "2", "3", "BYSCORE"]),
        b(&["b", "bb", "c"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "3", "2", "BYSCORE", "REV"]),
        b(&["c", "bb", "b"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "+inf", "5", "REV", "BYSCORE", "WITHSCORES"]),
        b(&["hi", "inf", "e", "5"])
    );
    // LIMIT offset count.
    let q = |c: &mut Conn, off: &str, cnt: &str| {
        c.cmd(&["ZRANGEBYSCORE", "z", "1", "5", "LIMIT", off, cnt])
    };
    assert_eq!(q(&mut c, "0", "2"), b(&["a", "b"]));
    assert_eq!(q(&mut c, "2", "2"), b(&["bb", "c"]));
    assert_eq!(q(&mut c, "5", "10"), b(&["e"]));
    assert_eq!(q(&mut c, "6", "10"), empty());
    assert_eq!(q(&mut c, "100", "1"), empty());
    assert_eq!(q(&mut c, "1", "0"), empty());
    assert_eq!(q(&mut c, "1", "-1"), b(&["b", "bb", "c", "d", "e"]));
    assert_eq!(q(&mut c, "1", "-5"), b(&["b", "bb", "c", "d", "e"]));
    assert_eq!(q(&mut c, "-1", "2"), empty());
    assert_eq!(
        q(&mut c, "9223372036854775807", "9223372036854775807"),
        empty()
    );
    assert_eq!(
        q(&mut c, "0", "9223372036854775807"),
        b(&["a", "b", "bb", "c", "d", "e"])
    );
    assert_eq!(q(&mut c, "-9223372036854775808", "1"), empty());
    assert_eq!(q(&mut c, "x", "1"), err(NOT_INT));
    assert_eq!(q(&mut c, "1", "1.0"), err(NOT_INT));
    assert_eq!(
        c.cmd(&[
            "ZREVRANGEBYSCORE",
            "z",
            "5",
            "1",
            "LIMIT",
            "1",
            "3",
            "WITHSCORES"
        ]),
        b(&["d", "4", "c", "3", "bb", "2"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "5", "1", "BYSCORE", "REV", "LIMIT", "4", "5"]),
        b(&["b", "a"])
    );
    // LIMIT may come before or after WITHSCORES, and repeat (the last wins).
    assert_eq!(
        c.cmd(&[
            "ZRANGEBYSCORE",
            "z",
            "1",
            "5",
            "LIMIT",
            "0",
            "1",
            "WITHSCORES",
            "LIMIT",
            "1",
            "1"
        ]),
        b(&["b", "2"])
    );
    // Errors.
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "x", "1"]), err(MINMAX_FLOAT));
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "1", "nan"]),
        err(MINMAX_FLOAT)
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "[a", "1", "BYSCORE"]),
        err(MINMAX_FLOAT)
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "1"]),
        err(SYNTAX)
    );
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "z", "1", "2", "REV"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "1", "2", "BYSCORE"]),
        err(SYNTAX)
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "1", "2", "BYSCORE", "BYLEX"]),
        err(SYNTAX)
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "z", "1", "2", "REV"]),
        err(SYNTAX)
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "1"]),
        arity_err("zrangebyscore")
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "z", "1"]),
        arity_err("zrevrangebyscore")
    );
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "str", "x", "1"]),
        err(MINMAX_FLOAT)
    );
    assert_eq!(c.cmd(&["ZRANGEBYSCORE", "str", "0", "1"]), err(WRONGTYPE));
}

#[test]
fn zrange_by_lex() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-", "+"]), empty());
    assert_eq!(
        c.cmd(&[
            "ZADD", "z", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant", "0",
            "foo", "0", "", "0", "b"
        ]),
        int(8)
    );
    let all = ["", "alpha", "b", "bar", "cool", "down", "elephant", "foo"];
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-", "+"]), b(&all));
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "[b", "(d"]),
        b(&["b", "bar", "cool"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "(b", "[down"]),
        b(&["bar", "cool", "down"])
    );
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "[", "(b"]), b(&["", "alpha"]));
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "(", "(b"]), b(&["alpha"]));
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "[e", "+"]),
        b(&["elephant", "foo"])
    );
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "+", "-"]), empty());
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "[d", "[b"]), empty());
    assert_eq!(
        c.cmd(&["ZREVRANGEBYLEX", "z", "+", "-"]),
        b(&["foo", "elephant", "down", "cool", "bar", "b", "alpha", ""])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYLEX", "z", "(d", "[b"]),
        b(&["cool", "bar", "b"])
    );
    assert_eq!(c.cmd(&["ZREVRANGEBYLEX", "z", "[b", "(d"]), empty());
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "[b", "(d", "BYLEX"]),
        b(&["b", "bar", "cool"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "(d", "[b", "BYLEX", "REV"]),
        b(&["cool", "bar", "b"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "2", "3"]),
        b(&["b", "bar", "cool"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "7", "3"]),
        b(&["foo"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "8", "3"]),
        empty()
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "-1", "3"]),
        empty()
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "z", "[c", "+", "LIMIT", "1", "-1"]),
        b(&["down", "elephant", "foo"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "1", "2"]),
        b(&["elephant", "down"])
    );
    let ws = err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]), ws);
    assert_eq!(c.cmd(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]), ws);
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "a", "+"]), err(MINMAX_LEX));
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-", "+x"]), err(MINMAX_LEX));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1", "BYLEX"]), err(MINMAX_LEX));
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-", "+", "BYLEX"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "z", "-"]), arity_err("zrangebylex"));
    assert_eq!(
        c.cmd(&["ZREVRANGEBYLEX", "z", "-"]),
        arity_err("zrevrangebylex")
    );
    assert_eq!(c.cmd(&["HSET", "h", "f", "v"]), int(1));
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "h", "-", "+"]), err(WRONGTYPE));
}

#[test]
fn zremrange() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "0", "-1"]), int(0));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "x", "-1"]), err(NOT_INT));
    five(&mut c);
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "3", "2"]), int(0));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "5", "9"]), int(0));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "-2", "100"]), int(2));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), b(&["a", "b", "c"]));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "1", "1"]), int(1));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), b(&["a", "c"]));
    assert_eq!(c.cmd(&["DEL", "z"]), int(1));
    five(&mut c);
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "(1", "(3"]), int(1));
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "4", "+inf"]), int(2));
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "3", "1"]), int(0));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), b(&["a", "c"]));
    assert_eq!(
        c.cmd(&["ZREMRANGEBYSCORE", "z", "x", "1"]),
        err(MINMAX_FLOAT)
    );
    assert_eq!(c.cmd(&["DEL", "z"]), int(1));
    assert_eq!(
        c.cmd(&["ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d"]),
        int(4)
    );
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "(a", "[c"]), int(2));
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "[c", "[b"]), int(0));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), b(&["a", "d"]));
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "z", "a", "+"]), err(MINMAX_LEX));
    assert_eq!(
        c.cmd(&["ZREMRANGEBYLEX", "z", "-"]),
        arity_err("zremrangebylex")
    );
    assert_eq!(
        c.cmd(&["ZREMRANGEBYSCORE", "z", "-", "+", "x"]),
        arity_err("zremrangebyscore")
    );
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    // Range errors before the type check; a missing key is 0 whatever the range.
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "str", "x", "1"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "str", "0", "1"]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["ZREMRANGEBYSCORE", "str", "0", "1"]),
        err(WRONGTYPE)
    );
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "str", "-", "+"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "nokey", "+", "-"]), int(0));
}

#[test]
fn zpop() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZPOPMIN", "z"]), empty());
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "3"]), empty());
    let positive = err("ERR value is out of range, must be positive");
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "-1"]), positive);
    assert_eq!(c.cmd(&["ZPOPMAX", "z", "x"]), positive);
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "1", "2"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZPOPMIN"]), arity_err("zpopmin"));
    five(&mut c);
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "0"]), empty());
    assert_eq!(c.cmd(&["ZPOPMIN", "z"]), b(&["a", "1"]));
    assert_eq!(c.cmd(&["ZPOPMAX", "z"]), b(&["e", "5"]));
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "1"]), b(&["b", "2"]));
    assert_eq!(c.cmd(&["ZPOPMAX", "z", "2"]), b(&["d", "4", "c", "3"]));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    five(&mut c);
    assert_eq!(
        c.cmd(&["ZPOPMAX", "z", "9223372036854775807"]),
        b(&["e", "5", "d", "4", "c", "3", "b", "2", "a", "1"])
    );
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZPOPMIN", "str"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["ZPOPMIN", "str", "0"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["ZPOPMIN", "str", "-1"]), positive);
}

#[test]
fn zmpop_one_shard() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, _, a2) = spread("mp:");
    assert_eq!(c.cmd(&["ZMPOP", "1", &a, "MIN"]), Reply::NilArray);
    assert_eq!(c.cmd(&["ZADD", &a2, "1", "x", "2", "y", "3", "z"]), int(3));
    assert_eq!(
        c.cmd(&["ZMPOP", "2", &a, &a2, "MIN"]),
        arr(vec![bulk(&a2), arr(vec![b(&["x", "1"])])])
    );
    assert_eq!(
        c.cmd(&["ZMPOP", "2", &a, &a2, "max", "count", "5"]),
        arr(vec![bulk(&a2), arr(vec![b(&["z", "3"]), b(&["y", "2"])])])
    );
    assert_eq!(c.cmd(&["EXISTS", &a2]), int(0));
    // Errors: numkeys, where, COUNT.
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(c.cmd(&["ZMPOP", "0", &a, "MIN"]), numkeys);
    assert_eq!(c.cmd(&["ZMPOP", "-1", &a, "MIN"]), numkeys);
    assert_eq!(c.cmd(&["ZMPOP", "x", &a, "MIN"]), numkeys);
    assert_eq!(c.cmd(&["ZMPOP", "2", &a, "MIN"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZMPOP", "1", &a, "MIDDLE"]), err(SYNTAX));
    let count = err("ERR count should be greater than 0");
    assert_eq!(c.cmd(&["ZMPOP", "1", &a, "MIN", "COUNT", "0"]), count);
    assert_eq!(c.cmd(&["ZMPOP", "1", &a, "MIN", "COUNT", "x"]), count);
    assert_eq!(c.cmd(&["ZMPOP", "1", &a, "MIN", "COUNT"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZMPOP", "1", &a, "MIN", "COUNT", "1", "COUNT", "1"]),
        err(SYNTAX)
    );
    assert_eq!(c.cmd(&["ZMPOP", "1", &a, "MIN", "extra"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZMPOP", "1", &a]), arity_err("zmpop"));
    // The first key that exists decides, even when it is not a sorted set.
    assert_eq!(c.cmd(&["SET", &a, "v"]), ok());
    assert_eq!(c.cmd(&["ZADD", &a2, "1", "x"]), int(1));
    assert_eq!(c.cmd(&["ZMPOP", "2", &a, &a2, "MIN"]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["ZMPOP", "2", &a2, &a, "MIN"]),
        arr(vec![bulk(&a2), arr(vec![b(&["x", "1"])])])
    );
}

#[test]
fn zmpop_across_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (a, b2, a2) = spread("xmp:");
    assert_eq!(c.cmd(&["ZMPOP", "3", &a, &b2, &a2, "MAX"]), Reply::NilArray);
    assert_eq!(c.cmd(&["ZADD", &a2, "1", "x", "2", "y"]), int(2));
    assert_eq!(c.cmd(&["ZADD", &b2, "5", "p", "6", "q"]), int(2));
    // Argument order decides, not shard order.
    assert_eq!(
        c.cmd(&["ZMPOP", "3", &a, &b2, &a2, "MAX"]),
        arr(vec![bulk(&b2), arr(vec![b(&["q", "6"])])])
    );
    assert_eq!(
        c.cmd(&["ZMPOP", "3", &a, &a2, &b2, "MIN", "COUNT", "10"]),
        arr(vec![bulk(&a2), arr(vec![b(&["x", "1"]), b(&["y", "2"])])])
    );
    assert_eq!(c.cmd(&["EXISTS", &a2]), int(0));
    assert_eq!(
        c.cmd(&["ZMPOP", "3", &a, &a2, &b2, "MIN", "COUNT", "10"]),
        arr(vec![bulk(&b2), arr(vec![b(&["p", "5"])])])
    );
    assert_eq!(c.cmd(&["ZMPOP", "3", &a, &a2, &b2, "MIN"]), Reply::NilArray);
    assert_eq!(c.cmd(&["RPUSH", &b2, "v"]), int(1));
    assert_eq!(c.cmd(&["ZADD", &a2, "1", "x"]), int(1));
    assert_eq!(c.cmd(&["ZMPOP", "3", &a, &b2, &a2, "MIN"]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["ZMPOP", "3", &a, &a2, &b2, "MIN"]),
        arr(vec![bulk(&a2), arr(vec![b(&["x", "1"])])])
    );
}

#[test]
fn zrandmember() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z"]), nil());
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "3"]), empty());
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "-3", "WITHSCORES"]), empty());
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "x"]), err(NOT_INT));
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "1", "WITHSCORE"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"]),
        err(SYNTAX)
    );
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES"]),
        err("ERR value is out of range")
    );
    five(&mut c);
    let all = ["a", "b", "c", "d", "e"];
    let one = c.cmd(&["ZRANDMEMBER", "z"]).text();
    assert!(all.contains(&one.as_str()));
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "0"]), empty());
    // The whole set when the count reaches its size: highest first, as Redis walks it.
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "5"]),
        b(&["e", "d", "c", "b", "a"])
    );
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "100", "WITHSCORES"]),
        b(&["e", "5", "d", "4", "c", "3", "b", "2", "a", "1"])
    );
    for n in [1, 2, 4] {
        let got = c.cmd(&["ZRANDMEMBER", "z", &n.to_string()]).strings();
        let mut dedup = got.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), n, "{got:?}");
        assert!(got.iter().all(|m| all.contains(&m.as_str())));
    }
    let got = c.cmd(&["ZRANDMEMBER", "z", "-20", "WITHSCORES"]).strings();
    assert_eq!(got.len(), 40);
    for p in got.chunks(2) {
        let i = all.iter().position(|m| *m == p[0]).expect("a member");
        assert_eq!(p[1], (i + 1).to_string());
    }
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZRANDMEMBER", "str"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["ZRANDMEMBER", "str", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["ZRANDMEMBER", "str", "x"]), err(NOT_INT));
}

#[test]
fn zrandmember_huge_negative_count_is_bounded() {
    skip_on_real_redis!();
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a"]), int(1));
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "-9223372036854775807"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "9223372036854775807"]),
        b(&["a"])
    );
}

#[test]
fn zscan_small_and_options() {
    let s = Server::new();
    let mut c = s.conn();
    let scan0 = |items: Reply| arr(vec![bulk("0"), items]);
    assert_eq!(c.cmd(&["ZSCAN", "z", "0"]), scan0(empty()));
    assert_eq!(c.cmd(&["ZSCAN", "z", "x"]), err("ERR invalid cursor"));
    // Options are only parsed for an existing key.
    assert_eq!(c.cmd(&["ZSCAN", "z", "0", "bogus"]), scan0(empty()));
    assert_eq!(
        c.cmd(&["ZADD", "z", "2", "b", "1e17", "big", "1.5", "a", "-inf", "n"]),
        int(4)
    );
    // A small set comes whole, in order, scores as a listpack holds them.
    assert_eq!(
        c.cmd(&["ZSCAN", "z", "0"]),
        scan0(b(&[
            "n",
            "-inf",
            "a",
            "1.5",
            "b",
            "2",
            "big",
            "100000000000000000"
        ]))
    );
    assert_eq!(
        c.cmd(&["ZSCAN", "z", "0", "MATCH", "b*", "COUNT", "1"]),
        scan0(b(&["b", "2", "big", "100000000000000000"]))
    );
    assert_eq!(c.cmd(&["ZSCAN", "z", "0", "COUNT", "0"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZSCAN", "z", "0", "COUNT", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZSCAN", "z", "0", "MATCH"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZSCAN", "z"]), arity_err("zscan"));
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["ZSCAN", "str", "0"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["ZSCAN", "str", "x"]), err("ERR invalid cursor"));
}

#[test]
fn zscan_large_full_iteration() {
    let s = Server::new();
    let mut c = s.conn();
    let n = 1000;
    let mut cmd = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..n {
        cmd.push(format!("{}.5", i));
        cmd.push(format!("m{i}"));
    }
    assert_eq!(c.cmd(&cmd), int(n));
    let mut seen = std::collections::HashMap::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let r = c.cmd(&["ZSCAN", "big", &cursor, "COUNT", "37"]);
        let items = r.items();
        cursor = items[0].text();
        for p in items[1].strings().chunks(2) {
            seen.insert(p[0].clone(), p[1].clone());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0");
    assert_eq!(seen.len(), n as usize);
    assert_eq!(seen["m7"], "7.5");
    // A long member makes even a small set walk by cursor.
    let long = "y".repeat(65);
    assert_eq!(c.cmd(&["ZADD", "lz", "1", &long, "2", "short"]), int(2));
    let mut got = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..100 {
        let r = c.cmd(&["ZSCAN", "lz", &cursor, "MATCH", "s*"]);
        cursor = r.items()[0].text();
        got.extend(r.items()[1].strings());
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(got, vec!["short".to_string(), "2".to_string()]);
}

#[test]
fn resp3_shapes() {
    let s = Server::new();
    let mut c = s.conn();
    // redis-lite may not speak HELLO yet; its RESP3 encodings are unit-tested in src/cmd/zset.rs.
    match c.cmd(&["HELLO", "3"]) {
        Reply::Map(_) => {}
        other if other.is_error() && !real_redis() => {
            eprintln!("skipped: no HELLO 3 ({other:?})");
            return;
        }
        other => panic!("HELLO 3: {other:?}"),
    }
    five(&mut c);
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), d("1"));
    assert_eq!(c.cmd(&["ZSCORE", "z", "zz"]), nil());
    assert_eq!(
        c.cmd(&["ZMSCORE", "z", "b", "zz"]),
        arr(vec![d("2"), nil()])
    );
    assert_eq!(c.cmd(&["ZINCRBY", "z", "0.5", "a"]), d("1.5"));
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "INCR", "1", "a"]), nil());
    assert_eq!(c.cmd(&["ZRANK", "z", "zz"]), nil());
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1"]), b(&["a", "b"]));
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        pairs3(&[("a", "1.5"), ("b", "2")])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "z", "+inf", "4", "WITHSCORES"]),
        pairs3(&[("e", "5"), ("d", "4")])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "9", "10", "WITHSCORES"]),
        empty()
    );
    // ZPOP*: flat without a count, pairs with one.
    assert_eq!(c.cmd(&["ZPOPMIN", "z"]), arr(vec![bulk("a"), d("1.5")]));
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "1"]), pairs3(&[("b", "2")]));
    assert_eq!(c.cmd(&["ZPOPMAX", "z", "0"]), empty());
    assert_eq!(c.cmd(&["ZPOPMAX", "nokey"]), empty());
    assert_eq!(
        c.cmd(&["ZMPOP", "1", "z", "MAX"]),
        arr(vec![bulk("z"), pairs3(&[("e", "5")])])
    );
    assert_eq!(c.cmd(&["ZMPOP", "1", "nokey", "MAX"]), nil());
    assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey"]), nil());
    assert_eq!(
        c.cmd(&["ZRANDMEMBER", "z", "5", "WITHSCORES"]),
        pairs3(&[("d", "4"), ("c", "3")])
    );
    let neg = c.cmd(&["ZRANDMEMBER", "z", "-3", "WITHSCORES"]);
    assert_eq!(neg.items().len(), 3);
    assert!(neg.items().iter().all(|p| p.items().len() == 2));
    // ZSCAN stays flat, scores as bulk strings.
    assert_eq!(
        c.cmd(&["ZSCAN", "z", "0"]),
        arr(vec![bulk("0"), b(&["c", "3", "d", "4"])])
    );
    assert_eq!(
        c.cmd(&["ZUNION", "1", "z", "WITHSCORES"]),
        pairs3(&[("c", "3"), ("d", "4")])
    );
    assert_eq!(c.cmd(&["ZADD", "z", "-inf", "lo"]), int(1));
    assert_eq!(
        c.cmd(&["ZINTER", "1", "z", "WITHSCORES"]),
        pairs3(&[("lo", "-inf"), ("c", "3"), ("d", "4")])
    );
    assert_eq!(c.cmd(&["ZDIFF", "1", "z"]), b(&["lo", "c", "d"]));
}

#[test]
fn algebra_on_one_shard() {
    let s = Server::new();
    let mut c = s.conn();
    let k = |n: &str| format!("{{t}}{n}");
    let (za, zb, st, dst) = (k("a"), k("b"), k("s"), k("d"));
    assert_eq!(c.cmd(&["ZADD", &za, "1", "a", "2", "b", "3", "c"]), int(3));
    assert_eq!(
        c.cmd(&["ZADD", &zb, "10", "b", "20", "c", "30", "d"]),
        int(3)
    );
    assert_eq!(c.cmd(&["SADD", &st, "c", "d", "x"]), int(3));
    assert_eq!(
        c.cmd(&["ZUNION", "2", &za, &zb, "WITHSCORES"]),
        b(&["a", "1", "b", "12", "c", "23", "d", "30"])
    );
    assert_eq!(
        c.cmd(&[
            "ZUNION",
            "3",
            &za,
            &zb,
            &st,
            "WEIGHTS",
            "2",
            "1",
            "100",
            "AGGREGATE",
            "MAX",
            "WITHSCORES"
        ]),
        b(&["a", "2", "b", "10", "c", "100", "d", "100", "x", "100"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "2", &za, &zb, "AGGREGATE", "min", "WITHSCORES"]),
        b(&["b", "2", "c", "3"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "3", &za, &zb, &st, "WITHSCORES"]),
        b(&["c", "24"])
    );
    assert_eq!(c.cmd(&["ZINTER", "2", &za, "nokey"]), empty());
    assert_eq!(
        c.cmd(&["ZINTER", "2", &za, &za, "WITHSCORES"]),
        b(&["a", "2", "b", "4", "c", "6"])
    );
    assert_eq!(
        c.cmd(&["ZDIFF", "2", &za, &zb, "WITHSCORES"]),
        b(&["a", "1"])
    );
    assert_eq!(c.cmd(&["ZDIFF", "2", &zb, &st]), b(&["b"]));
    assert_eq!(c.cmd(&["ZDIFF", "2", &za, &za]), empty());
    assert_eq!(c.cmd(&["ZDIFF", "1", "nokey"]), empty());
    assert_eq!(
        c.cmd(&["ZDIFF", "2", &st, &za, "WITHSCORES"]),
        b(&["d", "1", "x", "1"])
    );
    assert_eq!(c.cmd(&["ZINTERCARD", "2", &za, &zb]), int(2));
    assert_eq!(c.cmd(&["ZINTERCARD", "2", &za, &zb, "LIMIT", "1"]), int(1));
    assert_eq!(c.cmd(&["ZINTERCARD", "2", &za, &zb, "LIMIT", "0"]), int(2));
    assert_eq!(c.cmd(&["ZINTERCARD", "3", &za, &zb, &st]), int(1));
    // Stores: replies the size, replaces any type, drops the TTL, deletes on empty.
    assert_eq!(c.cmd(&["SET", &dst, "v", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["ZUNIONSTORE", &dst, "2", &za, &zb]), int(4));
    assert_eq!(c.cmd(&["TTL", &dst]), int(-1));
    assert_eq!(
        c.cmd(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
        b(&["a", "1", "b", "12", "c", "23", "d", "30"])
    );
    assert_eq!(
        c.cmd(&["ZINTERSTORE", &dst, "2", &dst, &za, "WEIGHTS", "1", "-1"]),
        int(3)
    );
    assert_eq!(
        c.cmd(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
        b(&["a", "0", "b", "10", "c", "20"])
    );
    assert_eq!(c.cmd(&["ZDIFFSTORE", &dst, "2", &dst, &zb]), int(1));
    assert_eq!(c.cmd(&["ZRANGE", &dst, "0", "-1"]), b(&["a"]));
    assert_eq!(c.cmd(&["ZINTERSTORE", &dst, "2", &za, "nokey"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", &dst]), int(0));
    assert_eq!(c.cmd(&["ZDIFFSTORE", &dst, "1", "nokey"]), int(0));
    // inf + -inf sums to 0; inf × 0 weighs 0.
    let (i1, i2) = (k("i1"), k("i2"));
    assert_eq!(c.cmd(&["ZADD", &i1, "inf", "m", "1", "n"]), int(2));
    assert_eq!(c.cmd(&["ZADD", &i2, "-inf", "m", "inf", "n"]), int(2));
    assert_eq!(
        c.cmd(&["ZUNION", "2", &i1, &i2, "WITHSCORES"]),
        b(&["m", "0", "n", "inf"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "2", &i1, &i2, "WITHSCORES"]),
        b(&["m", "0", "n", "inf"])
    );
    assert_eq!(
        c.cmd(&["ZUNION", "2", &i1, &i2, "WEIGHTS", "0", "1", "WITHSCORES"]),
        b(&["m", "-inf", "n", "inf"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "2", &i1, &i2, "WEIGHTS", "0", "0", "WITHSCORES"]),
        b(&["m", "0", "n", "0"])
    );
    assert_eq!(
        c.cmd(&["ZUNION", "2", &i1, &i2, "AGGREGATE", "MIN", "WITHSCORES"]),
        b(&["m", "-inf", "n", "1"])
    );
    assert_eq!(
        c.cmd(&[
            "ZUNION",
            "2",
            &i1,
            &i2,
            "WEIGHTS",
            "inf",
            "-1",
            "WITHSCORES"
        ]),
        b(&["n", "0", "m", "inf"])
    );
}

#[test]
fn algebra_arguments() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZADD", "a", "1", "x"]), int(1));
    for (cmd, name) in [
        (&["ZUNION", "0", "a"][..], "zunion"),
        (&["ZINTER", "-1", "a"], "zinter"),
        (&["ZDIFF", "0", "a"], "zdiff"),
        (&["ZINTERCARD", "0", "a"], "zintercard"),
        (&["ZUNIONSTORE", "d", "0", "a"], "zunionstore"),
        (&["ZINTERSTORE", "d", "0", "a"], "zinterstore"),
        (&["ZDIFFSTORE", "d", "0", "a"], "zdiffstore"),
    ] {
        assert_eq!(
            c.cmd(cmd),
            err(&format!(
                "ERR at least 1 input key is needed for '{name}' command"
            ))
        );
    }
    assert_eq!(c.cmd(&["ZUNION", "x", "a"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZINTERCARD", "x", "a"]), err(NOT_INT));
    assert_eq!(c.cmd(&["ZUNION", "2", "a"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZUNIONSTORE", "d", "3", "a", "b"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZUNION", "1", "a", "WEIGHTS"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZUNION", "2", "a", "b", "WEIGHTS", "1"]),
        err(SYNTAX)
    );
    assert_eq!(
        c.cmd(&["ZUNION", "1", "a", "WEIGHTS", "x"]),
        err("ERR weight value is not a float")
    );
    assert_eq!(
        c.cmd(&["ZUNION", "1", "a", "WEIGHTS", "nan"]),
        err("ERR weight value is not a float")
    );
    assert_eq!(
        c.cmd(&["ZUNION", "1", "a", "AGGREGATE", "avg"]),
        err(SYNTAX)
    );
    assert_eq!(c.cmd(&["ZUNION", "1", "a", "AGGREGATE"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZUNIONSTORE", "d", "1", "a", "WITHSCORES"]),
        err(SYNTAX)
    );
    assert_eq!(c.cmd(&["ZDIFF", "1", "a", "WEIGHTS", "1"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZDIFF", "1", "a", "AGGREGATE", "SUM"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZINTERCARD", "1", "a", "WITHSCORES"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZINTERCARD", "1", "a", "LIMIT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZINTER", "1", "a", "LIMIT", "1"]), err(SYNTAX));
    let neg = err("ERR LIMIT can't be negative");
    assert_eq!(c.cmd(&["ZINTERCARD", "1", "a", "LIMIT", "-1"]), neg);
    assert_eq!(c.cmd(&["ZINTERCARD", "1", "a", "LIMIT", "x"]), neg);
    assert_eq!(c.cmd(&["ZUNION", "1"]), arity_err("zunion"));
    assert_eq!(c.cmd(&["ZUNIONSTORE", "d", "1"]), arity_err("zunionstore"));
    assert_eq!(c.cmd(&["ZINTERCARD", "1"]), arity_err("zintercard"));
    // Options may repeat; WITHSCORES anywhere among them.
    assert_eq!(
        c.cmd(&[
            "ZUNION",
            "1",
            "a",
            "WITHSCORES",
            "WEIGHTS",
            "2",
            "WEIGHTS",
            "3",
            "AGGREGATE",
            "max"
        ]),
        b(&["x", "3"])
    );
    // Keys are looked up before the options are parsed.
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(
        c.cmd(&["ZUNION", "2", "a", "str", "WEIGHTS", "x", "y"]),
        err(WRONGTYPE)
    );
    assert_eq!(c.cmd(&["ZUNION", "2", "a", "str", "bogus"]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["ZUNION", "0", "str"]),
        err("ERR at least 1 input key is needed for 'zunion' command")
    );
    assert_eq!(c.cmd(&["ZUNION", "2", "str"]), err(SYNTAX));
    assert_eq!(c.cmd(&["ZUNIONSTORE", "d", "1", "a", "bogus"]), err(SYNTAX));
    assert_eq!(c.cmd(&["EXISTS", "d"]), int(0));
}

#[test]
fn algebra_across_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (a, b2, a2) = spread("cross:");
    let (_, missing, _) = spread("missing:");
    assert_eq!(
        c.cmd(&["ZADD", &a, "1", "one", "2", "two", "3", "three"]),
        int(3)
    );
    assert_eq!(
        c.cmd(&["ZADD", &b2, "10", "two", "20", "three", "30", "four"]),
        int(3)
    );
    assert_eq!(c.cmd(&["SADD", &a2, "three", "four", "five"]), int(3));
    assert_eq!(
        c.cmd(&["ZUNION", "3", &a, &b2, &missing, "WITHSCORES"]),
        b(&["one", "1", "two", "12", "three", "23", "four", "30"])
    );
    assert_eq!(
        c.cmd(&[
            "ZUNION",
            "3",
            &b2,
            &a2,
            &a,
            "WEIGHTS",
            "1",
            "5",
            "-1",
            "AGGREGATE",
            "MIN",
            "WITHSCORES"
        ]),
        b(&["three", "-3", "two", "-2", "one", "-1", "five", "5", "four", "5"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "2", &a, &b2, "WITHSCORES"]),
        b(&["two", "12", "three", "23"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "3", &a, &b2, &a2, "WITHSCORES"]),
        b(&["three", "24"])
    );
    assert_eq!(c.cmd(&["ZINTER", "3", &a, &b2, &missing]), empty());
    assert_eq!(
        c.cmd(&["ZDIFF", "2", &a, &b2, "WITHSCORES"]),
        b(&["one", "1"])
    );
    assert_eq!(
        c.cmd(&["ZDIFF", "3", &b2, &missing, &a2, "WITHSCORES"]),
        b(&["two", "10"])
    );
    assert_eq!(c.cmd(&["ZDIFF", "2", &a, &a]), empty());
    assert_eq!(c.cmd(&["ZINTERCARD", "2", &a, &b2]), int(2));
    assert_eq!(
        c.cmd(&["ZINTERCARD", "3", &a, &b2, &a2, "LIMIT", "5"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZINTERCARD", "2", &a, &b2, "LIMIT", "1"]), int(1));
    // WRONGTYPE wins over a missing key and over option errors, whatever the shard.
    let (s0, s1, _) = spread("wt:");
    assert_eq!(c.cmd(&["SET", &s1, "v"]), ok());
    for cmd in [
        &["ZUNION", "2", &s0, &s1][..],
        &["ZINTER", "2", &s1, &s0],
        &["ZINTER", "2", &a, &s1],
        &["ZDIFF", "2", &s0, &s1],
        &["ZDIFF", "2", &a, &s1, "bogus"],
        &["ZINTERCARD", "2", &s0, &s1],
        &["ZUNIONSTORE", &s0, "2", &a, &s1],
        &["ZINTERSTORE", &s0, "2", &s1, &a, "WEIGHTS", "x", "y"],
        &["ZDIFFSTORE", &s0, "2", &a, &s1],
    ] {
        assert_eq!(c.cmd(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    assert_eq!(c.cmd(&["EXISTS", &s0]), int(0));
    // Without a wrong type, the option error.
    assert_eq!(c.cmd(&["ZUNION", "2", &a, &b2, "bogus"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["ZUNION", "2", &a, &b2, "WEIGHTS", "1", "x"]),
        err("ERR weight value is not a float")
    );
    assert_eq!(
        c.cmd(&["ZINTERCARD", "2", &a, &b2, "LIMIT", "-3"]),
        err("ERR LIMIT can't be negative")
    );
}

#[test]
fn store_across_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (a, b2, _) = spread("src:");
    let (d0, d1, _) = spread("dst:");
    assert_eq!(c.cmd(&["ZADD", &a, "1", "x", "2", "y", "3", "z"]), int(3));
    assert_eq!(c.cmd(&["ZADD", &b2, "1", "y", "1", "z", "1", "w"]), int(3));
    for dest in [&d0, &d1] {
        assert_eq!(c.cmd(&["SET", dest, "string"]), ok());
        assert_eq!(c.cmd(&["EXPIRE", dest, "1000"]), int(1));
        assert_eq!(c.cmd(&["ZINTERSTORE", dest, "2", &a, &b2]), int(2));
        assert_eq!(c.cmd(&["TYPE", dest]), simple("zset"));
        assert_eq!(c.cmd(&["TTL", dest]), int(-1));
        assert_eq!(
            c.cmd(&["ZRANGE", dest, "0", "-1", "WITHSCORES"]),
            b(&["y", "3", "z", "4"])
        );
        assert_eq!(
            c.cmd(&["ZUNIONSTORE", dest, "2", &a, &b2, "AGGREGATE", "MAX"]),
            int(4)
        );
        assert_eq!(
            c.cmd(&["ZRANGE", dest, "0", "-1", "WITHSCORES"]),
            b(&["w", "1", "x", "1", "y", "2", "z", "3"])
        );
        assert_eq!(c.cmd(&["ZDIFFSTORE", dest, "2", &a, &b2]), int(1));
        assert_eq!(c.cmd(&["ZRANGE", dest, "0", "-1"]), b(&["x"]));
        // The destination may be a source too.
        assert_eq!(
            c.cmd(&["ZUNIONSTORE", dest, "2", dest, &b2, "WEIGHTS", "10", "1"]),
            int(4)
        );
        assert_eq!(
            c.cmd(&["ZRANGE", dest, "0", "-1", "WITHSCORES"]),
            b(&["w", "1", "y", "1", "z", "1", "x", "10"])
        );
        assert_eq!(c.cmd(&["ZINTERSTORE", dest, "2", &a, "nosuchkey"]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dest]), int(0));
        assert_eq!(c.cmd(&["SET", dest, "string"]), ok());
        assert_eq!(c.cmd(&["ZDIFFSTORE", dest, "2", &a, &a]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dest]), int(0));
    }
    assert_eq!(c.cmd(&["ZCARD", &a]), int(3));
    assert_eq!(c.cmd(&["ZCARD", &b2]), int(3));
}

#[test]
fn zrangestore() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (src, other, same) = spread("rs:");
    assert_eq!(
        c.cmd(&["ZADD", &src, "1", "a", "2", "b", "3", "c", "4", "d"]),
        int(4)
    );
    for dst in [&same, &other] {
        assert_eq!(c.cmd(&["SET", dst, "v", "EX", "100"]), ok());
        assert_eq!(c.cmd(&["ZRANGESTORE", dst, &src, "1", "2"]), int(2));
        assert_eq!(c.cmd(&["TTL", dst]), int(-1));
        assert_eq!(
            c.cmd(&["ZRANGE", dst, "0", "-1", "WITHSCORES"]),
            b(&["b", "2", "c", "3"])
        );
        assert_eq!(c.cmd(&["ZRANGESTORE", dst, &src, "0", "0", "REV"]), int(1));
        assert_eq!(c.cmd(&["ZRANGE", dst, "0", "-1"]), b(&["d"]));
        assert_eq!(
            c.cmd(&[
                "ZRANGESTORE",
                dst,
                &src,
                "(1",
                "+inf",
                "BYSCORE",
                "LIMIT",
                "1",
                "2"
            ]),
            int(2)
        );
        assert_eq!(c.cmd(&["ZRANGE", dst, "0", "-1"]), b(&["c", "d"]));
        assert_eq!(
            c.cmd(&[
                "ZRANGESTORE",
                dst,
                &src,
                "+inf",
                "-inf",
                "BYSCORE",
                "REV",
                "LIMIT",
                "0",
                "1"
            ]),
            int(1)
        );
        assert_eq!(c.cmd(&["ZRANGE", dst, "0", "-1"]), b(&["d"]));
        assert_eq!(
            c.cmd(&["ZRANGESTORE", dst, &src, "[b", "+", "BYLEX"]),
            int(3)
        );
        assert_eq!(c.cmd(&["ZRANGE", dst, "0", "-1"]), b(&["b", "c", "d"]));
        // Empty results and missing sources delete the destination.
        assert_eq!(c.cmd(&["ZRANGESTORE", dst, &src, "5", "10"]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
        assert_eq!(c.cmd(&["SET", dst, "v"]), ok());
        assert_eq!(c.cmd(&["ZRANGESTORE", dst, "nosuchkey", "0", "-1"]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
        // Errors come from the source's side; nothing is stored.
        assert_eq!(
            c.cmd(&["ZRANGESTORE", dst, &src, "0", "-1", "WITHSCORES"]),
            err(SYNTAX)
        );
        assert_eq!(c.cmd(&["ZRANGESTORE", dst, &src, "0", "-1", "LIMIT", "0", "1"]), err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
        assert_eq!(
            c.cmd(&["ZRANGESTORE", dst, &src, "x", "1", "BYSCORE"]),
            err(MINMAX_FLOAT)
        );
        assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
    }
    // The source itself as destination.
    assert_eq!(c.cmd(&["ZRANGESTORE", &src, &src, "1", "-1"]), int(3));
    assert_eq!(c.cmd(&["ZRANGE", &src, "0", "-1"]), b(&["b", "c", "d"]));
    assert_eq!(c.cmd(&["SET", &other, "v"]), ok());
    assert_eq!(
        c.cmd(&["ZRANGESTORE", &same, &other, "0", "-1"]),
        err(WRONGTYPE)
    );
    assert_eq!(
        c.cmd(&["ZRANGESTORE", &same, &src, "0"]),
        arity_err("zrangestore")
    );
}

#[test]
fn wrongtype_everywhere() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "{k}str", "v"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "{k}list", "v"]), int(1));
    assert_eq!(c.cmd(&["HSET", "{k}hash", "f", "v"]), int(1));
    assert_eq!(c.cmd(&["SADD", "{k}set", "v"]), int(1));
    for key in ["{k}str", "{k}list", "{k}hash", "{k}set"] {
        let mut cmds: Vec<Vec<&str>> = vec![
            vec!["ZADD", key, "1", "a"],
            vec!["ZINCRBY", key, "1", "a"],
            vec!["ZREM", key, "a"],
            vec!["ZCARD", key],
            vec!["ZSCORE", key, "a"],
            vec!["ZMSCORE", key, "a"],
            vec!["ZRANK", key, "a"],
            vec!["ZREVRANK", key, "a"],
            vec!["ZCOUNT", key, "0", "1"],
            vec!["ZLEXCOUNT", key, "-", "+"],
            vec!["ZRANGE", key, "0", "1"],
            vec!["ZRANGEBYSCORE", key, "0", "1"],
            vec!["ZREVRANGE", key, "0", "1"],
            vec!["ZREVRANGEBYSCORE", key, "1", "0"],
            vec!["ZRANGEBYLEX", key, "-", "+"],
            vec!["ZREVRANGEBYLEX", key, "+", "-"],
            vec!["ZRANGESTORE", "{k}dst", key, "0", "1"],
            vec!["ZPOPMIN", key],
            vec!["ZPOPMAX", key, "2"],
            vec!["ZMPOP", "1", key, "MIN"],
            vec!["ZREMRANGEBYRANK", key, "0", "1"],
            vec!["ZREMRANGEBYSCORE", key, "0", "1"],
            vec!["ZREMRANGEBYLEX", key, "-", "+"],
            vec!["ZRANDMEMBER", key],
            vec!["ZRANDMEMBER", key, "2", "WITHSCORES"],
            vec!["ZSCAN", key, "0"],
        ];
        // Plain sets are valid inputs of the algebra commands.
        if key != "{k}set" {
            cmds.extend([
                vec!["ZUNION", "1", key],
                vec!["ZINTER", "1", key],
                vec!["ZDIFF", "1", key],
                vec!["ZINTERCARD", "1", key],
                vec!["ZUNIONSTORE", "{k}dst", "1", key],
                vec!["ZINTERSTORE", "{k}dst", "1", key],
                vec!["ZDIFFSTORE", "{k}dst", "1", key],
            ]);
        }
        for cmd in cmds {
            assert_eq!(c.cmd(&cmd), err(WRONGTYPE), "{cmd:?}");
        }
    }
    assert_eq!(
        c.cmd(&["ZUNION", "1", "{k}set", "WITHSCORES"]),
        b(&["v", "1"])
    );
    assert_eq!(c.cmd(&["EXISTS", "{k}dst"]), int(0));
    assert_eq!(c.cmd(&["ZADD", "{k}z", "1", "a"]), int(1));
    for cmd in [
        &["GET", "{k}z"][..],
        &["LPUSH", "{k}z", "x"],
        &["HGET", "{k}z", "f"],
        &["SADD", "{k}z", "x"],
        &["SINTER", "{k}z"],
    ] {
        assert_eq!(c.cmd(cmd), err(WRONGTYPE), "{cmd:?}");
    }
}

#[test]
fn internal_steps_are_unknown_to_clients() {
    let s = Server::new();
    let mut c = s.conn();
    for name in [
        "__zset-algebra",
        "__ZSET-DUMP",
        "__zset-replace",
        "__zset-mpop",
    ] {
        assert_eq!(
            c.cmd(&[name, "a"]),
            err(&format!(
                "ERR unknown command '{name}', with args beginning with: 'a' "
            ))
        );
    }
}

#[test]
fn many_keys_over_many_shards() {
    let s = Server::start(Opts::shards(4));
    let mut c = s.conn();
    // Eight sorted sets over four shards: set i holds the multiples of (i + 1) below 48, scored
    // by i + 1.
    let keys: Vec<String> = keys_per_shard("multi:", 4, 2)
        .into_iter()
        .flatten()
        .collect();
    for (i, k) in keys.iter().enumerate() {
        let mut cmd = vec!["ZADD".to_string(), k.clone()];
        for v in (0..48).filter(|v| v % (i + 1) == 0) {
            cmd.push((i + 1).to_string());
            cmd.push(v.to_string());
        }
        assert!(c.cmd(&cmd).int() > 0);
    }
    let with = |name: &str, extra: &[&str]| {
        let mut cmd = vec![name.to_string(), keys.len().to_string()];
        cmd.extend(keys.iter().cloned());
        cmd.extend(extra.iter().map(|s| s.to_string()));
        cmd
    };
    // Only 0 is a multiple of 1..=8; its score sums 1..=8.
    assert_eq!(c.cmd(&with("ZINTER", &["WITHSCORES"])), b(&["0", "36"]));
    assert_eq!(c.cmd(&with("ZINTERCARD", &[])), int(1));
    let union = c.cmd(&with("ZUNION", &["AGGREGATE", "MAX", "WITHSCORES"]));
    assert_eq!(union.items().len(), 96);
    // 47 is prime: only in set 0, score 1; 0 is everywhere, max 8.
    let u = union.strings();
    let score_of = |m: &str| u.chunks(2).find(|p| p[0] == m).map(|p| p[1].clone());
    assert_eq!(score_of("47").as_deref(), Some("1"));
    assert_eq!(score_of("0").as_deref(), Some("8"));
    assert_eq!(score_of("42").as_deref(), Some("7"));
    let diff = c.cmd(&with("ZDIFF", &[]));
    let mut want: Vec<String> = (0..48)
        .filter(|v| (2..=8).all(|d| v % d != 0))
        .map(|v| v.to_string())
        .collect();
    want.sort();
    assert_eq!(sorted(&diff), want);
    let mut store = vec![
        "ZUNIONSTORE".to_string(),
        "multi:dest".to_string(),
        "4".to_string(),
    ];
    store.extend(keys[4..].iter().cloned());
    let n = (0..48).filter(|v| (5..=8).any(|d| v % d == 0)).count();
    assert_eq!(c.cmd(&store), int(n as i64));
    assert_eq!(c.cmd(&["ZCARD", "multi:dest"]), int(n as i64));
}

#[test]
fn big_sets_ranks_and_ranges() {
    let s = Server::new();
    let mut c = s.conn();
    let n = 3000i64;
    let mut cmd = vec!["ZADD".to_string(), "big".to_string()];
    for i in 0..n {
        cmd.push((i / 3).to_string());
        cmd.push(format!("m{i:05}"));
    }
    assert_eq!(c.cmd(&cmd), int(n));
    assert_eq!(c.cmd(&["ZRANK", "big", "m01234"]), int(1234));
    assert_eq!(c.cmd(&["ZREVRANK", "big", "m01234"]), int(n - 1 - 1234));
    assert_eq!(c.cmd(&["ZCOUNT", "big", "100", "(200"]), int(300));
    assert_eq!(
        c.cmd(&["ZRANGE", "big", "1500", "1501"]),
        b(&["m01500", "m01501"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGE", "big", "0", "1"]),
        b(&["m02999", "m02998"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "big", "(500", "+inf", "LIMIT", "2", "2"]),
        b(&["m01505", "m01506"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "big", "(500", "-inf", "LIMIT", "1", "2"]),
        b(&["m01498", "m01497"])
    );
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "big", "0", "999"]), int(1000));
    assert_eq!(
        c.cmd(&["ZRANGE", "big", "0", "0", "WITHSCORES"]),
        b(&["m01000", "333"])
    );
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "big", "900", "+inf"]), int(300));
    assert_eq!(c.cmd(&["ZCARD", "big"]), int(1700));
    assert_eq!(
        c.cmd(&["ZPOPMAX", "big", "2"]),
        b(&["m02699", "899", "m02698", "899"])
    );
}

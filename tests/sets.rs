//! Set commands: replies and errors exactly as Redis 7.0 gives them, with keys on one shard and
//! spread over shards. Set order is unspecified in Redis, so members are compared sorted.

mod common;

use common::*;

/// A set-like reply's members as sorted text.
fn sorted(r: &Reply) -> Vec<String> {
    let mut v = r.strings();
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn members(c: &mut Conn, key: &str) -> Vec<String> {
    sorted(&c.cmd(&["SMEMBERS", key]))
}

/// Two keys owned by different shards (of 2), and a third on the first one's shard.
fn spread(prefix: &str) -> (String, String, String) {
    let ks = keys_per_shard(prefix, 2, 2);
    (ks[0][0].clone(), ks[1][0].clone(), ks[0][1].clone())
}

#[test]
fn add_remove_members() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SADD", "s", "a", "b", "a"]), int(2));
    assert_eq!(c.cmd(&["SADD", "s", "b", "c", ""]), int(2));
    assert_eq!(members(&mut c, "s"), strs(&["", "a", "b", "c"]));
    assert_eq!(c.cmd(&["TYPE", "s"]), simple("set"));
    assert_eq!(c.cmd(&["SCARD", "s"]), int(4));
    assert_eq!(c.cmd(&["SREM", "s", "a", "zz", "a"]), int(1));
    assert_eq!(c.cmd(&["SREM", "nokey", "a"]), int(0));
    assert_eq!(c.cmd(&["SREM", "s", "b", "c", "", "x"]), int(3));
    // The last member removed deletes the key.
    assert_eq!(c.cmd(&["EXISTS", "s"]), int(0));
    assert_eq!(c.cmd(&["TYPE", "s"]), simple("none"));
    assert_eq!(c.cmd(&["SMEMBERS", "s"]), empty());
    assert_eq!(c.cmd(&["SCARD", "s"]), int(0));
    // Binary-safe and integer-looking members.
    assert_eq!(c.cmd(&["SADD", "b", "\r\n\0", "1", "01", "-1"]), int(4));
    assert_eq!(members(&mut c, "b"), strs(&["\r\n\0", "-1", "01", "1"]));
    assert_eq!(c.cmd(&["SISMEMBER", "b", "01"]), int(1));
    assert_eq!(c.cmd(&["SADD", "s"]), arity_err("sadd"));
    assert_eq!(c.cmd(&["SREM", "s"]), arity_err("srem"));
    assert_eq!(c.cmd(&["SMEMBERS"]), arity_err("smembers"));
    assert_eq!(c.cmd(&["SMEMBERS", "a", "b"]), arity_err("smembers"));
    assert_eq!(c.cmd(&["SCARD"]), arity_err("scard"));
}

#[test]
fn membership() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SISMEMBER", "s", "a"]), int(0));
    assert_eq!(
        c.cmd(&["SMISMEMBER", "s", "a", "b"]),
        arr(vec![int(0), int(0)])
    );
    assert_eq!(c.cmd(&["SADD", "s", "a", "c"]), int(2));
    assert_eq!(c.cmd(&["SISMEMBER", "s", "a"]), int(1));
    assert_eq!(c.cmd(&["SISMEMBER", "s", "b"]), int(0));
    assert_eq!(
        c.cmd(&["SMISMEMBER", "s", "a", "b", "c", "a"]),
        arr(vec![int(1), int(0), int(1), int(1)])
    );
    assert_eq!(c.cmd(&["SISMEMBER", "s"]), arity_err("sismember"));
    assert_eq!(c.cmd(&["SISMEMBER", "s", "a", "b"]), arity_err("sismember"));
    assert_eq!(c.cmd(&["SMISMEMBER", "s"]), arity_err("smismember"));
}

#[test]
fn wrongtype_both_ways() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "list", "v"]), int(1));
    for key in ["str", "list"] {
        for cmd in [
            &["SADD", key, "a"][..],
            &["SREM", key, "a"],
            &["SMEMBERS", key],
            &["SISMEMBER", key, "a"],
            &["SMISMEMBER", key, "a"],
            &["SCARD", key],
            &["SPOP", key],
            &["SPOP", key, "2"],
            &["SRANDMEMBER", key],
            &["SRANDMEMBER", key, "-2"],
            &["SSCAN", key, "0"],
            &["SINTER", key],
            &["SUNION", key],
            &["SDIFF", key],
            &["SINTERCARD", "1", key],
            &["SMOVE", key, "dst", "a"],
        ] {
            assert_eq!(c.cmd(cmd), err(WRONGTYPE), "{cmd:?}");
        }
    }
    assert_eq!(c.cmd(&["GET", "str"]), bulk("v"));
    assert_eq!(c.cmd(&["SADD", "set", "a"]), int(1));
    assert_eq!(c.cmd(&["GET", "set"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["APPEND", "set", "x"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LPUSH", "set", "x"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LLEN", "set"]), err(WRONGTYPE));
    assert_eq!(members(&mut c, "set"), strs(&["a"]));
    // A plain SET overwrites a set.
    assert_eq!(c.cmd(&["SET", "set", "now-a-string"]), ok());
    assert_eq!(c.cmd(&["TYPE", "set"]), simple("string"));
}

#[test]
fn spop() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SPOP", "s"]), nil());
    assert_eq!(c.cmd(&["SPOP", "s", "2"]), empty());
    assert_eq!(c.cmd(&["SPOP", "s", "0"]), empty());
    let positive = err("ERR value is out of range, must be positive");
    assert_eq!(c.cmd(&["SPOP", "s", "-1"]), positive);
    assert_eq!(c.cmd(&["SPOP", "s", "x"]), positive);
    assert_eq!(c.cmd(&["SPOP", "s", "1", "2"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SPOP"]), arity_err("spop"));

    let all = strs(&["a", "b", "c", "d", "e", "f"]);
    assert_eq!(c.cmd(&["SADD", "s", "a", "b", "c", "d", "e", "f"]), int(6));
    assert_eq!(c.cmd(&["SPOP", "s", "0"]), empty());
    let one = c.cmd(&["SPOP", "s"]).text();
    assert!(all.contains(&one));
    assert_eq!(c.cmd(&["SISMEMBER", "s", &one]), int(0));
    let two = sorted(&c.cmd(&["SPOP", "s", "2"]));
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    for m in &two {
        assert!(all.contains(m) && *m != one);
        assert_eq!(c.cmd(&["SISMEMBER", "s", m]), int(0));
    }
    assert_eq!(c.cmd(&["SCARD", "s"]), int(3));
    // A count reaching the size returns everything and deletes the key.
    let rest = sorted(&c.cmd(&["SPOP", "s", "10"]));
    let mut popped = rest.clone();
    popped.extend(two);
    popped.push(one);
    popped.sort();
    assert_eq!(popped, all);
    assert_eq!(c.cmd(&["EXISTS", "s"]), int(0));
    // The last single pop deletes the key too.
    assert_eq!(c.cmd(&["SADD", "s", "only"]), int(1));
    assert_eq!(c.cmd(&["SPOP", "s"]), bulk("only"));
    assert_eq!(c.cmd(&["EXISTS", "s"]), int(0));
}

#[test]
fn srandmember() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SRANDMEMBER", "s"]), nil());
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "3"]), empty());
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "-3"]), empty());
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "x"]), err(NOT_INT));
    assert_eq!(
        c.cmd(&["SRANDMEMBER", "s", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "1", "2"]), err(SYNTAX));
    let all: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    let mut add = vec!["SADD".to_string(), "s".to_string()];
    add.extend(all.iter().cloned());
    assert_eq!(c.cmd(&add), int(20));
    assert!(all.contains(&c.cmd(&["SRANDMEMBER", "s"]).text()));
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "0"]), empty());
    for n in [1, 3, 10, 19] {
        let got = sorted(&c.cmd(&["SRANDMEMBER", "s", &n.to_string()]));
        assert_eq!(got.len(), n);
        let mut d = got.clone();
        d.dedup();
        assert_eq!(d, got, "distinct members");
        assert!(got.iter().all(|m| all.contains(m)));
    }
    let mut everything = all.clone();
    everything.sort();
    assert_eq!(sorted(&c.cmd(&["SRANDMEMBER", "s", "20"])), everything);
    assert_eq!(sorted(&c.cmd(&["SRANDMEMBER", "s", "1000"])), everything);
    // Negative: exactly |count| members, repeats allowed.
    let got = c.cmd(&["SRANDMEMBER", "s", "-50"]).strings();
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|m| all.contains(m)));
    // Nothing was removed.
    assert_eq!(c.cmd(&["SCARD", "s"]), int(20));
}

#[test]
fn sscan_small_set_and_options() {
    let s = Server::new();
    let mut c = s.conn();
    let empty_scan = arr(vec![bulk("0"), empty()]);
    assert_eq!(c.cmd(&["SSCAN", "s", "0"]), empty_scan);
    assert_eq!(c.cmd(&["SSCAN", "s", "x"]), err("ERR invalid cursor"));
    assert_eq!(c.cmd(&["SSCAN", "s", "1x"]), err("ERR invalid cursor"));
    // Options are looked at only once the key is a set.
    assert_eq!(c.cmd(&["SSCAN", "s", "0", "bogus"]), empty_scan);
    assert_eq!(c.cmd(&["SADD", "s", "apple", "banana", "avocado"]), int(3));
    // Iterate to the end whatever the server's batching; every member once at least.
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..100 {
        let r = c.cmd(&["SSCAN", "s", &cursor, "MATCH", "a*", "COUNT", "1"]);
        cursor = r.items()[0].text();
        seen.extend(r.items()[1].strings());
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0");
    seen.sort();
    seen.dedup();
    assert_eq!(seen, strs(&["apple", "avocado"]));
    assert_eq!(c.cmd(&["SSCAN", "s", "0", "COUNT", "0"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SSCAN", "s", "0", "COUNT", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["SSCAN", "s", "0", "MATCH"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SSCAN", "s", "0", "TYPE", "set"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SSCAN", "s"]), arity_err("sscan"));
}

#[test]
fn sscan_full_iteration_with_deletes() {
    let s = Server::new();
    let mut c = s.conn();
    let n = 1000;
    let all: Vec<String> = (0..n).map(|i| format!("member:{i}")).collect();
    let mut add = vec!["SADD".to_string(), "big".to_string()];
    add.extend(all.iter().cloned());
    assert_eq!(c.cmd(&add), int(n as i64));
    let mut deleted = std::collections::HashSet::new();
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0usize;
    loop {
        let r = c.cmd(&["SSCAN", "big", &cursor, "COUNT", "10"]);
        cursor = r.items()[0].text();
        seen.extend(r.items()[1].strings());
        if cursor == "0" {
            break;
        }
        step += 1;
        assert!(step < 10_000, "scan did not finish");
        // Delete some members between calls (a deterministic spread) and add new ones.
        let victim = &all[(step * 37) % n];
        if c.cmd(&["SREM", "big", victim]) == int(1) {
            deleted.insert(victim.clone());
        }
        assert_eq!(c.cmd(&["SADD", "big", &format!("new:{step}")]), int(1));
    }
    assert!(!deleted.is_empty());
    for m in all.iter().filter(|m| !deleted.contains(*m)) {
        assert!(
            seen.contains(m),
            "{m} present throughout but never returned"
        );
    }
}

#[test]
fn algebra_on_one_shard() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b, x) = ("{t}a", "{t}b", "{t}x");
    assert_eq!(c.cmd(&["SADD", a, "1", "2", "3", "4"]), int(4));
    assert_eq!(c.cmd(&["SADD", b, "3", "4", "5"]), int(3));
    assert_eq!(sorted(&c.cmd(&["SINTER", a, b])), strs(&["3", "4"]));
    assert_eq!(sorted(&c.cmd(&["SINTER", a])), strs(&["1", "2", "3", "4"]));
    assert_eq!(c.cmd(&["SINTER", a, x]), empty());
    assert_eq!(
        sorted(&c.cmd(&["SUNION", a, b, x])),
        strs(&["1", "2", "3", "4", "5"])
    );
    assert_eq!(sorted(&c.cmd(&["SDIFF", a, b])), strs(&["1", "2"]));
    assert_eq!(
        sorted(&c.cmd(&["SDIFF", a, x])),
        strs(&["1", "2", "3", "4"])
    );
    assert_eq!(c.cmd(&["SDIFF", a, b, a]), empty());
    assert_eq!(c.cmd(&["SDIFF", x, a]), empty());
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, b]), int(2));
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, b, "LIMIT", "1"]), int(1));
    assert_eq!(c.cmd(&["SINTERSTORE", "{t}d", a, b]), int(2));
    assert_eq!(members(&mut c, "{t}d"), strs(&["3", "4"]));
    assert_eq!(c.cmd(&["SUNIONSTORE", "{t}d", "{t}d", a]), int(4));
    assert_eq!(c.cmd(&["SDIFFSTORE", "{t}d", "{t}d", b]), int(2));
    assert_eq!(members(&mut c, "{t}d"), strs(&["1", "2"]));
    assert_eq!(c.cmd(&["SINTERSTORE", "{t}d", a, x]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "{t}d"]), int(0));
    assert_eq!(c.cmd(&["SINTER"]), arity_err("sinter"));
    assert_eq!(c.cmd(&["SUNION"]), arity_err("sunion"));
    assert_eq!(c.cmd(&["SDIFF"]), arity_err("sdiff"));
    assert_eq!(c.cmd(&["SINTERSTORE", "d"]), arity_err("sinterstore"));
    assert_eq!(c.cmd(&["SUNIONSTORE", "d"]), arity_err("sunionstore"));
    assert_eq!(c.cmd(&["SDIFFSTORE", "d"]), arity_err("sdiffstore"));
}

#[test]
fn algebra_across_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (a, b, a2) = spread("cross:");
    let (a, b, a2) = (a.as_str(), b.as_str(), a2.as_str());
    let (_, missing, _) = spread("missing:");
    let missing = missing.as_str();
    assert_eq!(c.cmd(&["SADD", a, "1", "2", "3", "4"]), int(4));
    assert_eq!(c.cmd(&["SADD", b, "3", "4", "5", "6"]), int(4));
    assert_eq!(c.cmd(&["SADD", a2, "4", "6", "7"]), int(3));
    assert_eq!(sorted(&c.cmd(&["SINTER", a, b])), strs(&["3", "4"]));
    assert_eq!(sorted(&c.cmd(&["SINTER", b, a, a2])), strs(&["4"]));
    assert_eq!(c.cmd(&["SINTER", a, b, missing]), empty());
    assert_eq!(
        sorted(&c.cmd(&["SUNION", a, b, a2, missing])),
        strs(&["1", "2", "3", "4", "5", "6", "7"])
    );
    assert_eq!(sorted(&c.cmd(&["SDIFF", a, b])), strs(&["1", "2"]));
    assert_eq!(sorted(&c.cmd(&["SDIFF", b, a, a2])), strs(&["5"]));
    assert_eq!(sorted(&c.cmd(&["SDIFF", a, a2, b])), strs(&["1", "2"]));
    assert_eq!(c.cmd(&["SDIFF", a, b, a]), empty());
    assert_eq!(c.cmd(&["SDIFF", missing, a]), empty());
    assert_eq!(c.cmd(&["SINTERCARD", "3", a, b, a2]), int(1));
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, b]), int(2));
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, b, "LIMIT", "1"]), int(1));
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, b, "LIMIT", "0"]), int(2));
    assert_eq!(c.cmd(&["SINTERCARD", "2", a, missing]), int(0));
    // WRONGTYPE wins even when a key on another shard is missing, whatever the order.
    let (s0, s1, _) = spread("wt:");
    assert_eq!(c.cmd(&["SET", &s1, "v"]), ok());
    for cmd in [
        &["SINTER", &s0, &s1][..],
        &["SINTER", &s1, &s0],
        &["SINTER", a, &s1],
        &["SUNION", a, &s1],
        &["SDIFF", &s0, &s1],
        &["SDIFF", &s1, a],
        &["SINTERCARD", "2", &s0, &s1],
        &["SINTERSTORE", &s0, a, &s1],
        &["SUNIONSTORE", &s0, &s1, a],
        &["SDIFFSTORE", &s0, a, &s1],
    ] {
        assert_eq!(c.cmd(cmd), err(WRONGTYPE), "{cmd:?}");
    }
    // A failed *STORE writes nothing.
    assert_eq!(c.cmd(&["EXISTS", &s0]), int(0));
}

#[test]
fn store_across_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (a, b, _) = spread("src:");
    let (d0, d1, _) = spread("dst:");
    assert_eq!(c.cmd(&["SADD", &a, "1", "2", "3"]), int(3));
    assert_eq!(c.cmd(&["SADD", &b, "2", "3", "4"]), int(3));
    for dest in [&d0, &d1] {
        // The destination may hold another type, and loses its TTL.
        assert_eq!(c.cmd(&["SET", dest, "string"]), ok());
        assert_eq!(c.cmd(&["EXPIRE", dest, "1000"]), int(1));
        assert_eq!(c.cmd(&["SINTERSTORE", dest, &a, &b]), int(2));
        assert_eq!(c.cmd(&["TYPE", dest]), simple("set"));
        assert_eq!(c.cmd(&["TTL", dest]), int(-1));
        assert_eq!(members(&mut c, dest), strs(&["2", "3"]));
        assert_eq!(c.cmd(&["SUNIONSTORE", dest, &a, &b]), int(4));
        assert_eq!(members(&mut c, dest), strs(&["1", "2", "3", "4"]));
        assert_eq!(c.cmd(&["SDIFFSTORE", dest, &a, &b]), int(1));
        assert_eq!(members(&mut c, dest), strs(&["1"]));
        // The destination may be a source too.
        assert_eq!(c.cmd(&["SUNIONSTORE", dest, dest, &b]), int(4));
        assert_eq!(c.cmd(&["SDIFFSTORE", dest, dest, &a]), int(1));
        assert_eq!(members(&mut c, dest), strs(&["4"]));
        // An empty result deletes the destination.
        assert_eq!(c.cmd(&["SINTERSTORE", dest, &a, "nosuchkey"]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dest]), int(0));
        assert_eq!(c.cmd(&["SET", dest, "string"]), ok());
        assert_eq!(c.cmd(&["SDIFFSTORE", dest, &a, &a]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dest]), int(0));
    }
    // The sources are untouched.
    assert_eq!(members(&mut c, &a), strs(&["1", "2", "3"]));
    assert_eq!(members(&mut c, &b), strs(&["2", "3", "4"]));
}

#[test]
fn sintercard_arguments() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SADD", "a", "x"]), int(1));
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(c.cmd(&["SINTERCARD", "0", "a"]), numkeys);
    assert_eq!(c.cmd(&["SINTERCARD", "-1", "a"]), numkeys);
    assert_eq!(c.cmd(&["SINTERCARD", "x", "a"]), numkeys);
    assert_eq!(
        c.cmd(&["SINTERCARD", "2", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    let limit = err("ERR LIMIT can't be negative");
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "LIMIT", "-1"]), limit);
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "LIMIT", "x"]), limit);
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "LIMIT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "b"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "limit", "5"]), int(1));
    assert_eq!(c.cmd(&["SINTERCARD", "1", "nokey"]), int(0));
    // Argument errors come before type errors.
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    assert_eq!(c.cmd(&["SINTERCARD", "1", "str", "LIMIT", "-1"]), limit);
    assert_eq!(c.cmd(&["SINTERCARD", "1"]), arity_err("sintercard"));
}

#[test]
fn smove_same_shard() {
    let s = Server::new();
    let mut c = s.conn();
    let (src, dst) = ("{m}src", "{m}dst");
    assert_eq!(c.cmd(&["SMOVE", src, dst, "a"]), int(0));
    assert_eq!(c.cmd(&["SADD", src, "a", "b"]), int(2));
    assert_eq!(c.cmd(&["SMOVE", src, dst, "zz"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
    assert_eq!(c.cmd(&["SMOVE", src, dst, "a"]), int(1));
    assert_eq!(members(&mut c, src), strs(&["b"]));
    assert_eq!(members(&mut c, dst), strs(&["a"]));
    assert_eq!(c.cmd(&["SMOVE", src, src, "b"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", src, src, "zz"]), int(0));
    assert_eq!(c.cmd(&["SADD", dst, "b"]), int(1));
    // Already in the destination: still moved (removed from the source).
    assert_eq!(c.cmd(&["SMOVE", src, dst, "b"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", src]), int(0));
    assert_eq!(members(&mut c, dst), strs(&["a", "b"]));
    assert_eq!(c.cmd(&["SET", "{m}str", "v"]), ok());
    assert_eq!(c.cmd(&["SMOVE", dst, "{m}str", "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SMOVE", "{m}str", dst, "a"]), err(WRONGTYPE));
    // A missing source answers 0 before the destination's type is looked at.
    assert_eq!(c.cmd(&["SMOVE", "{m}none", "{m}str", "a"]), int(0));
    assert_eq!(members(&mut c, dst), strs(&["a", "b"]));
    assert_eq!(c.cmd(&["SMOVE", src, dst]), arity_err("smove"));
}

#[test]
fn smove_across_shards() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    let (src, dst, _) = spread("mv:");
    let (src, dst) = (src.as_str(), dst.as_str());
    let (_, str1, str0) = spread("mvstr:");
    assert_eq!(c.cmd(&["SMOVE", src, dst, "a"]), int(0));
    assert_eq!(c.cmd(&["SADD", src, "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["SMOVE", src, dst, "zz"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
    assert_eq!(c.cmd(&["SMOVE", src, dst, "a"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", src, dst, "a"]), int(0));
    assert_eq!(members(&mut c, src), strs(&["b", "c"]));
    assert_eq!(members(&mut c, dst), strs(&["a"]));
    assert_eq!(c.cmd(&["SADD", dst, "b"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", src, dst, "b"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", dst, src, "a"]), int(1));
    assert_eq!(members(&mut c, src), strs(&["a", "c"]));
    assert_eq!(members(&mut c, dst), strs(&["b"]));
    // Moving the last member deletes the source.
    assert_eq!(c.cmd(&["SMOVE", dst, src, "b"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
    assert_eq!(members(&mut c, src), strs(&["a", "b", "c"]));
    // Wrong types on either side, on another shard; nothing moves.
    assert_eq!(c.cmd(&["SET", &str1, "v"]), ok());
    assert_eq!(c.cmd(&["SET", &str0, "v"]), ok());
    assert_eq!(c.cmd(&["SMOVE", src, &str1, "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SMOVE", &str1, src, "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SMOVE", &str0, dst, "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SMOVE", dst, &str0, "a"]), int(0));
    assert_eq!(members(&mut c, src), strs(&["a", "b", "c"]));
    assert_eq!(c.cmd(&["GET", &str1]), bulk("v"));
}

#[test]
fn internal_steps_are_unknown_to_clients() {
    let s = Server::new();
    let mut c = s.conn();
    for name in ["__sset-inter", "__SSET-REPLACE", "__sset-kind"] {
        assert_eq!(
            c.cmd(&[name, "a"]),
            err(&format!(
                "ERR unknown command '{name}', with args beginning with: 'a' "
            ))
        );
    }
    assert_eq!(c.cmd(&["EXISTS", "a"]), int(0));
}

#[test]
fn many_keys_over_many_shards() {
    let s = Server::start(Opts::shards(4));
    let mut c = s.conn();
    // Eight sets over four shards: set i holds the multiples of (i + 1) below 48.
    let keys: Vec<String> = keys_per_shard("multi:", 4, 2)
        .into_iter()
        .flatten()
        .collect();
    for (i, k) in keys.iter().enumerate() {
        let mut cmd = vec!["SADD".to_string(), k.clone()];
        cmd.extend((0..48).filter(|v| v % (i + 1) == 0).map(|v| v.to_string()));
        assert!(c.cmd(&cmd).int() > 0);
    }
    let nums = |v: Vec<u32>| -> Vec<String> {
        let mut v: Vec<String> = v.into_iter().map(|n| n.to_string()).collect();
        v.sort();
        v
    };
    let mut inter = vec!["SINTER".to_string()];
    inter.extend(keys.iter().cloned());
    // Multiples of lcm(1..=8) = 840 below 48: only 0.
    assert_eq!(sorted(&c.cmd(&inter)), nums(vec![0]));
    let mut union = vec!["SUNION".to_string()];
    union.extend(keys.iter().cloned());
    assert_eq!(sorted(&c.cmd(&union)), nums((0..48).collect()));
    let mut diff = vec!["SDIFF".to_string()];
    diff.extend(keys.iter().cloned());
    // 1 and the primes above 8: no divisor in 2..=8.
    assert_eq!(
        sorted(&c.cmd(&diff)),
        nums((0..48).filter(|v| (2..=8).all(|d| v % d != 0)).collect())
    );
    let diff2 = ["SDIFF", &keys[1], &keys[2], &keys[3]];
    // Even numbers below 48 that are multiples of neither 3 nor 4.
    assert_eq!(
        sorted(&c.cmd(&diff2)),
        nums(
            (0..48)
                .filter(|v| v % 2 == 0 && v % 3 != 0 && v % 4 != 0)
                .collect()
        )
    );
    let mut store = vec!["SUNIONSTORE".to_string(), "multi:dest".to_string()];
    store.extend(keys[4..].iter().cloned());
    let want = (0..48).filter(|v| (5..=8).any(|d| v % d == 0)).count();
    assert_eq!(c.cmd(&store), int(want as i64));
    assert_eq!(c.cmd(&["SCARD", "multi:dest"]), int(want as i64));
}

/// SMOVE of a member the destination already has changes only the source: a client watching
/// the destination can still EXEC.
#[test]
fn smove_touches_destination_only_when_it_adds() {
    let s = Server::new();
    let mut c = s.conn();
    let mut other = s.conn();
    c.cmd(&["SADD", "src{t}", "a", "b"]);
    c.cmd(&["SADD", "dst{t}", "a"]);
    assert_eq!(c.cmd(&["WATCH", "dst{t}"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SADD", "dst{t}", "c"]), simple("QUEUED"));
    assert_eq!(other.cmd(&["SMOVE", "src{t}", "dst{t}", "a"]), int(1));
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![int(1)]));
    assert_eq!(c.cmd(&["SCARD", "dst{t}"]), int(2));
    assert_eq!(c.cmd(&["SMEMBERS", "src{t}"]), bulks(&["b"]));
    // A member it adds does touch it.
    assert_eq!(c.cmd(&["WATCH", "dst{t}"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SCARD", "dst{t}"]), simple("QUEUED"));
    assert_eq!(other.cmd(&["SMOVE", "src{t}", "dst{t}", "b"]), int(1));
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
}

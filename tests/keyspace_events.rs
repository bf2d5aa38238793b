//! Keyspace notifications (`notify-keyspace-events`): the classes and their masks, the events of
//! each command family, `expired` from lazy and active expiry, `new`, `keymiss`, and delivery to
//! subscribers on every core whichever shard owns the key. Everything here also passes against
//! redis-server 7.0 (`REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;
use std::time::Duration;

/// A pattern subscriber on the keyspace channels.
fn watcher(s: &Server, pattern: &str) -> Conn {
    let mut c = s.conn();
    c.send_cmd(&["PSUBSCRIBE", pattern]);
    assert_eq!(
        c.read_reply(),
        arr(vec![bulk("psubscribe"), bulk(pattern), int(1)])
    );
    c
}

/// The next pmessage's "channel message".
fn next(c: &mut Conn) -> String {
    let r = c.read_reply();
    let items = r.strings();
    assert_eq!(items.len(), 4, "not a pmessage: {r:?}");
    assert_eq!(items[0], "pmessage");
    format!("{} {}", items[2], items[3])
}

/// Events on the key space channel only, in order.
fn keyspace(c: &mut Conn, n: usize) -> Vec<String> {
    (0..n).map(|_| next(c)).collect()
}

fn set_flags(c: &mut Conn, flags: &str) {
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]),
        ok()
    );
}

#[test]
fn both_channels_and_masks() {
    let s = Server::new();
    let mut c = s.conn();
    set_flags(&mut c, "KEA");
    let mut w = watcher(&s, "*");
    c.cmd(&["SET", "foo", "bar"]);
    assert_eq!(next(&mut w), "__keyspace@0__:foo set");
    assert_eq!(next(&mut w), "__keyevent@0__:set foo");
    // Only list events: the SET goes unannounced, the LPUSH is heard.
    set_flags(&mut c, "KEl");
    c.cmd(&["SET", "foo", "baz"]);
    c.cmd(&["LPUSH", "mylist", "a"]);
    assert_eq!(next(&mut w), "__keyspace@0__:mylist lpush");
    assert_eq!(next(&mut w), "__keyevent@0__:lpush mylist");
    // Classes without K or E publish nothing.
    set_flags(&mut c, "A");
    c.cmd(&["SET", "foo", "x"]);
    set_flags(&mut c, "E$");
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["SET", "in3", "x"]);
    assert_eq!(next(&mut w), "__keyevent@3__:set in3");
}

#[test]
fn config_flags_as_redis_prints_them() {
    let s = Server::new();
    let mut c = s.conn();
    let get = |c: &mut Conn| {
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"])
            .strings()[1]
            .clone()
    };
    assert_eq!(get(&mut c), "");
    for (set, shown) in [
        ("gKE", "gKE"),
        ("$lshzxeKE", "$lshzxeKE"),
        ("KA", "AK"),
        ("EA", "AE"),
        ("Kn", "nK"),
        ("AKEm", "AKEm"),
        ("", ""),
    ] {
        set_flags(&mut c, set);
        assert_eq!(get(&mut c), shown, "after setting {set:?}");
    }
    let r = c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEw"]);
    assert!(
        r.error_text()
            .contains("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        "{r:?}"
    );
}

/// Keys of one test share a hash tag (one shard): events of one shard arrive in the order they
/// happened, while nothing orders events of keys on different shards.
#[test]
fn generic_and_string_events() {
    let s = Server::new();
    let mut c = s.conn();
    set_flags(&mut c, "Kg$");
    let mut w = watcher(&s, "__keyspace@0__:*");
    c.cmd(&["SET", "{g}foo", "bar", "EX", "100"]);
    c.cmd(&["EXPIRE", "{g}foo", "200"]);
    c.cmd(&["PERSIST", "{g}foo"]);
    c.cmd(&["PERSIST", "{g}foo"]); // nothing to persist: no event
    c.cmd(&["INCR", "{g}n"]);
    c.cmd(&["INCRBYFLOAT", "{g}n", "1.5"]);
    c.cmd(&["APPEND", "{g}foo", "x"]);
    c.cmd(&["SETRANGE", "{g}foo", "1", "yy"]);
    c.cmd(&["RENAME", "{g}foo", "{g}bar"]);
    c.cmd(&["DEL", "{g}bar", "{g}missing"]);
    c.cmd(&["MSET", "{g}a", "1", "{g}b", "2"]);
    c.cmd(&["GETDEL", "{g}a"]);
    c.cmd(&["EXPIRE", "{g}b", "-1"]);
    assert_eq!(
        keyspace(&mut w, 15),
        [
            "__keyspace@0__:{g}foo set",
            "__keyspace@0__:{g}foo expire",
            "__keyspace@0__:{g}foo expire",
            "__keyspace@0__:{g}foo persist",
            "__keyspace@0__:{g}n incrby",
            "__keyspace@0__:{g}n incrbyfloat",
            "__keyspace@0__:{g}foo append",
            "__keyspace@0__:{g}foo setrange",
            "__keyspace@0__:{g}foo rename_from",
            "__keyspace@0__:{g}bar rename_to",
            "__keyspace@0__:{g}bar del",
            "__keyspace@0__:{g}a set",
            "__keyspace@0__:{g}b set",
            "__keyspace@0__:{g}a del",
            "__keyspace@0__:{g}b del",
        ]
    );
}

/// RENAME between keys of different shards announces both halves, each from its owner.
#[test]
fn rename_across_shards() {
    let s = Server::new();
    let keys = keys_per_shard("rk", 2, 1);
    let (src, dst) = (&keys[0][0], &keys[1][0]);
    let mut c = s.conn();
    set_flags(&mut c, "Eg");
    let mut w = watcher(&s, "__keyevent@0__:*");
    c.cmd(&["SET", src, "v"]);
    assert_eq!(c.cmd(&["RENAME", src, dst]), ok());
    let mut got = keyspace(&mut w, 2);
    got.sort();
    assert_eq!(
        got,
        [
            format!("__keyevent@0__:rename_from {src}"),
            format!("__keyevent@0__:rename_to {dst}"),
        ]
    );
}

#[test]
fn collection_events() {
    let s = Server::new();
    let mut c = s.conn();
    set_flags(&mut c, "Klshzg");
    let mut w = watcher(&s, "__keyspace@0__:*");
    for cmd in [
        &["RPUSH", "{c}l", "a", "b"][..],
        &["LPUSH", "{c}l", "c"],
        &["LSET", "{c}l", "0", "z"],
        &["LINSERT", "{c}l", "BEFORE", "z", "y"],
        &["LREM", "{c}l", "0", "nothing"],
        &["LTRIM", "{c}l", "0", "-1"],
        &["RPOP", "{c}l", "10"],
        &["SADD", "{c}s", "a", "b"],
        &["SADD", "{c}s", "a"],
        &["SREM", "{c}s", "x"],
        &["SREM", "{c}s", "a", "b"],
        &["HSET", "{c}h", "f", "1"],
        &["HINCRBY", "{c}h", "f", "2"],
        &["HDEL", "{c}h", "f"],
        &["ZADD", "{c}z", "1", "a", "2", "b"],
        &["ZINCRBY", "{c}z", "1", "a"],
        &["ZREM", "{c}z", "x"],
        &["ZPOPMAX", "{c}z"],
        &["ZREMRANGEBYSCORE", "{c}z", "0", "2"],
        &["ZPOPMIN", "{c}z"],
    ] {
        assert!(!c.cmd(cmd).is_error(), "{cmd:?}");
    }
    assert_eq!(
        keyspace(&mut w, 19),
        [
            "__keyspace@0__:{c}l rpush",
            "__keyspace@0__:{c}l lpush",
            "__keyspace@0__:{c}l lset",
            "__keyspace@0__:{c}l linsert",
            "__keyspace@0__:{c}l ltrim",
            "__keyspace@0__:{c}l rpop",
            "__keyspace@0__:{c}l del",
            "__keyspace@0__:{c}s sadd",
            "__keyspace@0__:{c}s srem",
            "__keyspace@0__:{c}s del",
            "__keyspace@0__:{c}h hset",
            "__keyspace@0__:{c}h hincrby",
            "__keyspace@0__:{c}h hdel",
            "__keyspace@0__:{c}h del",
            "__keyspace@0__:{c}z zadd",
            "__keyspace@0__:{c}z zincr",
            "__keyspace@0__:{c}z zpopmax",
            "__keyspace@0__:{c}z zremrangebyscore",
            "__keyspace@0__:{c}z del",
        ]
    );
    // Nothing else was queued: the next event is the marker's.
    c.cmd(&["RPUSH", "{c}end", "1"]);
    assert_eq!(next(&mut w), "__keyspace@0__:{c}end rpush");
}

#[test]
fn store_commands() {
    let s = Server::new();
    let mut c = s.conn();
    set_flags(&mut c, "Elsgz");
    let mut w = watcher(&s, "__keyevent@0__:*");
    c.cmd(&["SADD", "{t}a", "1", "2"]);
    c.cmd(&["SINTERSTORE", "{t}d", "{t}a", "{t}a"]);
    c.cmd(&["SINTERSTORE", "{t}d", "{t}a", "{t}missing"]);
    c.cmd(&["ZADD", "{t}z", "1", "m"]);
    c.cmd(&["ZUNIONSTORE", "{t}zd", "1", "{t}z"]);
    c.cmd(&["RPUSH", "{t}l", "3", "1"]);
    c.cmd(&["SORT", "{t}l", "STORE", "{t}sorted"]);
    assert_eq!(
        keyspace(&mut w, 7),
        [
            "__keyevent@0__:sadd {t}a",
            "__keyevent@0__:sinterstore {t}d",
            "__keyevent@0__:del {t}d",
            "__keyevent@0__:zadd {t}z",
            "__keyevent@0__:zunionstore {t}zd",
            "__keyevent@0__:rpush {t}l",
            "__keyevent@0__:sortstore {t}sorted",
        ]
    );
}

/// `expired` comes from the active sweep for a key nobody touches, and from lazy expiry for one
/// that is read after its deadline.
#[test]
fn expired_events_lazy_and_active() {
    let s = Server::new();
    let mut c = s.conn();
    set_flags(&mut c, "Ex");
    let mut w = watcher(&s, "*");
    // Background: nobody reads it.
    c.cmd(&["PSETEX", "bg", "100", "1"]);
    assert_eq!(next(&mut w), "__keyevent@0__:expired bg");
    // Lazy: read after the deadline (the sweep may beat the read; either way, one event).
    c.cmd(&["PSETEX", "lazy", "50", "1"]);
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(c.cmd(&["EXISTS", "lazy"]), int(0));
    assert_eq!(next(&mut w), "__keyevent@0__:expired lazy");
    c.cmd(&["SET", "{lazy}marker", "1"]);
    set_flags(&mut c, "E$");
    c.cmd(&["SET", "{lazy}marker", "2"]);
    assert_eq!(next(&mut w), "__keyevent@0__:set {lazy}marker");
}

#[test]
fn new_and_keymiss_events() {
    let s = Server::new();
    let mut c = s.conn();
    set_flags(&mut c, "En");
    let mut w = watcher(&s, "*");
    c.cmd(&["SET", "foo", "bar"]);
    c.cmd(&["SET", "foo", "baz"]); // not new
    c.cmd(&["SET", "bar", "bar"]);
    assert_eq!(next(&mut w), "__keyevent@0__:new foo");
    assert_eq!(next(&mut w), "__keyevent@0__:new bar");
    set_flags(&mut c, "Em");
    c.cmd(&["GET", "nope"]);
    c.cmd(&["GET", "foo"]);
    c.cmd(&["GET", "nope2"]);
    assert_eq!(next(&mut w), "__keyevent@0__:keymiss nope");
    assert_eq!(next(&mut w), "__keyevent@0__:keymiss nope2");
}

/// Watchers on every core hear events of keys on every shard, once each and in order.
#[test]
fn every_core_hears_every_shard_in_order() {
    let s = Server::new();
    let keys = keys_per_shard("ev", 2, 1);
    let mut c = s.conn();
    set_flags(&mut c, "K$");
    const WATCHERS: usize = 6;
    const N: usize = 2_000;
    let ws: Vec<Conn> = (0..WATCHERS)
        .map(|_| watcher(&s, "__keyspace@0__:ev*"))
        .collect();
    let expected: Vec<String> = (0..N)
        .map(|i| format!("__keyspace@0__:{} incrby", keys[i % 2][0]))
        .collect();
    let readers: Vec<_> = ws
        .into_iter()
        .map(|mut w| {
            let expected = expected.clone();
            std::thread::spawn(move || {
                // Per key, the events come in the order they happened; the two keys' streams
                // (two shards) may interleave.
                let mut got: [Vec<String>; 2] = Default::default();
                for _ in 0..N {
                    let e = next(&mut w);
                    let k = usize::from(e != expected[0]);
                    got[k].push(e);
                }
                assert_eq!(got[0].len(), N / 2);
                assert_eq!(got[1].len(), N / 2);
                assert!(got[0].iter().all(|e| *e == expected[0]));
                assert!(got[1].iter().all(|e| *e == expected[1]));
            })
        })
        .collect();
    let mut buf = Vec::new();
    for i in 0..N {
        encode_cmd_into(&["INCR", &keys[i % 2][0]], &mut buf);
    }
    c.send(&buf);
    for i in 0..N {
        assert_eq!(c.read_reply(), int((i / 2 + 1) as i64));
    }
    for r in readers {
        r.join().expect("watcher");
    }
    assert_eq!(c.cmd(&["GET", &keys[0][0]]), bulk((N / 2).to_string()));
}

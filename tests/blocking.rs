//! Blocking list commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP): immediate service, FIFO
//! service of blocked clients from any connection and shard, timeouts, disconnects, pipelining,
//! and Redis's errors. Everything here also passes against redis-server 7.0
//! (`REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;
use std::time::{Duration, Instant};

/// Keys on two different shards (of the default 2).
fn two_shards(prefix: &str) -> (String, String) {
    let ks = keys_per_shard(prefix, 2, 1);
    (ks[0][0].clone(), ks[1][0].clone())
}

fn blocked_clients(c: &mut Conn) -> i64 {
    let info = c.cmd(&["INFO", "clients"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO clients has blocked_clients")
}

/// Waits until the server reports `n` blocked clients (bounded).
fn wait_blocked(c: &mut Conn, n: i64) {
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(5), || {
            blocked_clients(c) == n
        }),
        "never reached {n} blocked clients (now {})",
        blocked_clients(c)
    );
}

fn kv(k: &str, v: &str) -> Reply {
    arr(vec![bulk(k), bulk(v)])
}

#[test]
fn served_at_once_when_a_list_has_elements() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("now");
    assert_eq!(c.cmd(&["RPUSH", &b, "b1", "b2"]), int(2));
    // The first non-empty key in argument order, whatever shard owns it.
    assert_eq!(c.cmd(&["BLPOP", "missing", &a, &b, "0"]), kv(&b, "b1"));
    assert_eq!(c.cmd(&["RPUSH", &a, "a1", "a2"]), int(2));
    assert_eq!(c.cmd(&["BRPOP", &b, &a, "1"]), kv(&b, "b2"));
    // b was emptied by the pop, so it no longer exists.
    assert_eq!(c.cmd(&["EXISTS", &b]), int(0));
    assert_eq!(c.cmd(&["BRPOP", &b, &a, "1"]), kv(&a, "a2"));
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "3", "x", &b, &a, "LEFT", "COUNT", "5"]),
        arr(vec![bulk(&a), bulks(&["a1"])])
    );
    assert_eq!(c.cmd(&["EXISTS", &a]), int(0));
    assert_eq!(c.cmd(&["RPUSH", &a, "1", "2", "3"]), int(3));
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "1", &a, "RIGHT", "COUNT", "2"]),
        arr(vec![bulk(&a), bulks(&["3", "2"])])
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "1", &a, "RIGHT"]),
        arr(vec![bulk(&a), bulks(&["1"])])
    );
    // BLMOVE / BRPOPLPUSH with a source that has elements act as LMOVE / RPOPLPUSH.
    assert_eq!(c.cmd(&["RPUSH", &a, "x", "y"]), int(2));
    assert_eq!(c.cmd(&["BLMOVE", &a, &b, "LEFT", "RIGHT", "0"]), bulk("x"));
    assert_eq!(c.cmd(&["BRPOPLPUSH", &a, &b, "0"]), bulk("y"));
    assert_eq!(c.cmd(&["LRANGE", &b, "0", "-1"]), bulks(&["y", "x"]));
    assert_eq!(c.cmd(&["EXISTS", &a]), int(0));
    // Rotation of one list.
    assert_eq!(c.cmd(&["BRPOPLPUSH", &b, &b, "0"]), bulk("x"));
    assert_eq!(c.cmd(&["LRANGE", &b, "0", "-1"]), bulks(&["x", "y"]));
}

#[test]
fn errors_and_wrong_types() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["BLPOP", "k"]), arity_err("blpop"));
    assert_eq!(c.cmd(&["BRPOP"]), arity_err("brpop"));
    assert_eq!(
        c.cmd(&["BLMOVE", "a", "b", "left", "0"]),
        arity_err("blmove")
    );
    assert_eq!(c.cmd(&["BRPOPLPUSH", "a", "b"]), arity_err("brpoplpush"));
    assert_eq!(c.cmd(&["BLMPOP", "0", "1", "a"]), arity_err("blmpop"));
    let not_float = err("ERR timeout is not a float or out of range");
    assert_eq!(c.cmd(&["BLPOP", "k", "abc"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "k", "1.5x"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "k", "nan"]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "k", ""]), not_float);
    assert_eq!(c.cmd(&["BLPOP", "k", "-1"]), err("ERR timeout is negative"));
    assert_eq!(
        c.cmd(&["BRPOP", "k", "-0.5"]),
        err("ERR timeout is negative")
    );
    assert_eq!(c.cmd(&["BRPOPLPUSH", "a", "b", "x"]), not_float);
    assert_eq!(
        c.cmd(&["BLMOVE", "a", "b", "up", "left", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["BLMOVE", "a", "b", "left", "down", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(c.cmd(&["BLMOVE", "a", "b", "left", "left", "x"]), not_float);
    // BLMPOP checks numkeys, the side and COUNT before the timeout.
    assert_eq!(
        c.cmd(&["BLMPOP", "x", "0", "a", "LEFT"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "x", "a", "LEFT"]),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "1", "a", "LEFT", "COUNT", "x"]),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "3", "a", "LEFT"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "x", "1", "a", "UP"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "x", "1", "a", "LEFT", "COUNT", "0"]),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["BLMPOP", "x", "1", "a", "LEFT", "COUNT", "1"]),
        not_float
    );

    let (a, b) = two_shards("wt");
    assert_eq!(c.cmd(&["SET", &a, "str"]), ok());
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(c.cmd(&["BLPOP", &a, "0"]), wrongtype);
    // A wrong-type key after a non-empty one is never looked at.
    assert_eq!(c.cmd(&["RPUSH", &b, "v"]), int(1));
    assert_eq!(c.cmd(&["BLPOP", &b, &a, "0"]), kv(&b, "v"));
    // Before it: WRONGTYPE, and nothing popped.
    assert_eq!(c.cmd(&["RPUSH", &b, "v"]), int(1));
    assert_eq!(c.cmd(&["BLPOP", "nokey", &a, &b, "0"]), wrongtype);
    assert_eq!(c.cmd(&["LLEN", &b]), int(1));
    assert_eq!(c.cmd(&["BLMOVE", &a, &b, "LEFT", "LEFT", "0"]), wrongtype);
    assert_eq!(c.cmd(&["BLMPOP", "0", "2", &a, &b, "LEFT"]), wrongtype);
    // The client that got an error is not left blocked.
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn times_out_with_nil_after_the_asked_time() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("to");
    for (args, want) in [
        (
            vec!["BLPOP", a.as_str(), b.as_str(), "0.2"],
            Reply::NilArray,
        ),
        (vec!["BRPOP", a.as_str(), "0.2"], Reply::NilArray),
        // Redis 7.0 times BLMOVE out with a null array too.
        (
            vec!["BLMOVE", a.as_str(), b.as_str(), "LEFT", "LEFT", "0.2"],
            Reply::NilArray,
        ),
        (
            vec!["BRPOPLPUSH", a.as_str(), b.as_str(), "0.2"],
            Reply::NilArray,
        ),
        (
            vec!["BLMPOP", "0.2", "2", a.as_str(), b.as_str(), "LEFT"],
            Reply::NilArray,
        ),
    ] {
        let t = Instant::now();
        assert_eq!(c.cmd(&args), want, "{args:?}");
        let took = t.elapsed();
        // Never early; the upper bound is loose on purpose (a loaded machine is not a bug).
        assert!(
            took >= Duration::from_millis(195),
            "{args:?} returned after {took:?}"
        );
        assert!(
            took < Duration::from_secs(3),
            "{args:?} returned after {took:?}"
        );
    }
    // Nothing is left behind: a later push stays in the list.
    assert_eq!(c.cmd(&["RPUSH", &a, "kept"]), int(1));
    assert_eq!(c.cmd(&["LRANGE", &a, "0", "-1"]), bulks(&["kept"]));
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn blocked_clients_are_served_in_the_order_they_blocked() {
    let s = Server::new();
    let mut admin = s.conn();
    let (key, other) = two_shards("fifo");
    for (round, one_push) in [(0, false), (1, true)] {
        let mut waiters: Vec<Conn> = (0..10).map(|_| s.conn()).collect();
        for (i, w) in waiters.iter_mut().enumerate() {
            // Some wait on two keys of different shards; the element comes from `key`.
            if i % 2 == 0 {
                w.send_cmd(&["BLPOP", &key, "0"]);
            } else {
                w.send_cmd(&["BLPOP", &other, &key, "0"]);
            }
            wait_blocked(&mut admin, i as i64 + 1);
        }
        let vals: Vec<String> = (0..10).map(|i| format!("r{round}v{i}")).collect();
        if one_push {
            let mut args = vec!["RPUSH", key.as_str()];
            args.extend(vals.iter().map(String::as_str));
            assert_eq!(admin.cmd(&args), int(10));
        } else {
            for v in &vals {
                admin.send_cmd(&["RPUSH", &key, v]);
            }
            for _ in &vals {
                assert!(matches!(admin.read_reply(), Reply::Int(_)));
            }
        }
        for (i, w) in waiters.iter_mut().enumerate() {
            assert_eq!(w.read_reply(), kv(&key, &vals[i]), "client {i}");
        }
        assert_eq!(admin.cmd(&["EXISTS", &key]), int(0));
        wait_blocked(&mut admin, 0);
        // Nobody is still queued on `other`.
        assert_eq!(admin.cmd(&["RPUSH", &other, "x"]), int(1));
        assert_eq!(admin.cmd(&["LPOP", &other]), bulk("x"));
    }
}

#[test]
fn a_push_to_either_key_serves_a_client_blocked_on_keys_of_two_shards() {
    let s = Server::new();
    let mut admin = s.conn();
    let (a, b) = two_shards("two");
    for (i, target) in [&a, &b].into_iter().enumerate() {
        let mut w = s.conn();
        w.send_cmd(&["BRPOP", &a, &b, "0"]);
        wait_blocked(&mut admin, 1);
        let v = format!("v{i}");
        assert_eq!(admin.cmd(&["LPUSH", target, &v]), int(1));
        assert_eq!(w.read_reply(), kv(target, &v));
        wait_blocked(&mut admin, 0);
        // Served exactly once: a second push to the other key stays there.
        for k in [&a, &b] {
            assert_eq!(admin.cmd(&["RPUSH", k, "stay"]), int(1));
            assert_eq!(admin.cmd(&["RPOP", k]), bulk("stay"));
        }
        // The client works normally afterwards.
        assert_eq!(w.cmd(&["PING"]), simple("PONG"));
    }
}

#[test]
fn a_client_that_disconnects_while_blocked_is_forgotten() {
    let s = Server::new();
    let mut admin = s.conn();
    let (a, b) = two_shards("gone");
    {
        let mut w = s.conn();
        w.send_cmd(&["BLPOP", &a, &b, "0"]);
        wait_blocked(&mut admin, 1);
    } // dropped: the socket closes
    wait_blocked(&mut admin, 0);
    assert_eq!(admin.cmd(&["RPUSH", &a, "x"]), int(1));
    assert_eq!(admin.cmd(&["RPUSH", &b, "y"]), int(1));
    assert_eq!(admin.cmd(&["LRANGE", &a, "0", "-1"]), bulks(&["x"]));
    assert_eq!(admin.cmd(&["LRANGE", &b, "0", "-1"]), bulks(&["y"]));
    // A second, live client behind the one that left is still served.
    let mut w2 = s.conn();
    {
        let mut w1 = s.conn();
        w1.send_cmd(&["BLPOP", "gone:q", "0"]);
        wait_blocked(&mut admin, 1);
        w2.send_cmd(&["BLPOP", "gone:q", "0"]);
        wait_blocked(&mut admin, 2);
    }
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", "gone:q", "1", "2"]), int(2));
    assert_eq!(w2.read_reply(), kv("gone:q", "1"));
    assert_eq!(admin.cmd(&["LRANGE", "gone:q", "0", "-1"]), bulks(&["2"]));
}

#[test]
fn blmove_between_shards_moves_the_element_once() {
    let s = Server::new();
    let mut admin = s.conn();
    let (src, dst) = two_shards("mv");
    for (from, to, args) in [
        (
            "LEFT",
            "RIGHT",
            vec!["BLMOVE", src.as_str(), dst.as_str(), "LEFT", "RIGHT", "0"],
        ),
        (
            "RIGHT",
            "LEFT",
            vec!["BRPOPLPUSH", src.as_str(), dst.as_str(), "0"],
        ),
    ] {
        let mut w = s.conn();
        w.send_cmd(&args);
        wait_blocked(&mut admin, 1);
        assert_eq!(admin.cmd(&["RPUSH", &src, "e1"]), int(1), "{from}->{to}");
        assert_eq!(w.read_reply(), bulk("e1"));
        assert_eq!(admin.cmd(&["EXISTS", &src]), int(0));
        assert_eq!(admin.cmd(&["LRANGE", &dst, "0", "-1"]), bulks(&["e1"]));
        assert_eq!(admin.cmd(&["DEL", &dst]), int(1));
    }
    // Same shard, and onto itself.
    let mut w = s.conn();
    w.send_cmd(&["BLMOVE", "mv:{t}a", "mv:{t}b", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", "mv:{t}a", "1", "2"]), int(2));
    assert_eq!(w.read_reply(), bulk("2"));
    assert_eq!(admin.cmd(&["LRANGE", "mv:{t}a", "0", "-1"]), bulks(&["1"]));
    assert_eq!(admin.cmd(&["LRANGE", "mv:{t}b", "0", "-1"]), bulks(&["2"]));
    w.send_cmd(&["BLMOVE", "mv:self", "mv:self", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", "mv:self", "a", "b"]), int(2));
    assert_eq!(w.read_reply(), bulk("a"));
    assert_eq!(
        admin.cmd(&["LRANGE", "mv:self", "0", "-1"]),
        bulks(&["b", "a"])
    );
}

#[test]
fn a_destination_of_the_wrong_type_unblocks_with_wrongtype_and_keeps_the_element() {
    let s = Server::new();
    let mut admin = s.conn();
    let mut w = s.conn();
    w.send_cmd(&["BLMOVE", "wd:{t}src", "wd:{t}dst", "LEFT", "LEFT", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["SET", "wd:{t}dst", "string"]), ok());
    assert_eq!(admin.cmd(&["RPUSH", "wd:{t}src", "e"]), int(1));
    assert_eq!(
        w.read_reply(),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        admin.cmd(&["LRANGE", "wd:{t}src", "0", "-1"]),
        bulks(&["e"])
    );
    wait_blocked(&mut admin, 0);
}

#[test]
fn blmpop_serves_up_to_count_from_the_pushed_key() {
    let s = Server::new();
    let mut admin = s.conn();
    let (a, b) = two_shards("mp");
    let mut w = s.conn();
    w.send_cmd(&["BLMPOP", "0", "2", &a, &b, "RIGHT", "COUNT", "2"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", &b, "1", "2", "3"]), int(3));
    assert_eq!(w.read_reply(), arr(vec![bulk(&b), bulks(&["3", "2"])]));
    assert_eq!(admin.cmd(&["LRANGE", &b, "0", "-1"]), bulks(&["1"]));
}

#[test]
fn commands_pipelined_behind_a_blocked_one_run_after_it() {
    let s = Server::new();
    let mut admin = s.conn();
    let mut w = s.conn();
    let mut req = encode_cmd(&["BLPOP", "pipe", "0"]);
    encode_cmd_into(&["LLEN", "pipe"], &mut req);
    encode_cmd_into(&["PING"], &mut req);
    w.send(&req);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", "pipe", "a", "b"]), int(2));
    assert_eq!(w.read_reply(), kv("pipe", "a"));
    assert_eq!(w.read_reply(), int(1));
    assert_eq!(w.read_reply(), simple("PONG"));
}

#[test]
fn a_list_created_by_another_command_serves_blocked_clients() {
    let s = Server::new();
    let mut admin = s.conn();
    let (a, b) = two_shards("via");
    // LMOVE/RPOPLPUSH creating the destination list wakes clients blocked on it.
    let mut w = s.conn();
    w.send_cmd(&["BLPOP", "via:{x}dst", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", "via:{x}src", "m"]), int(1));
    assert_eq!(
        admin.cmd(&["RPOPLPUSH", "via:{x}src", "via:{x}dst"]),
        bulk("m")
    );
    assert_eq!(w.read_reply(), kv("via:{x}dst", "m"));
    // A chain: a client moving a→b serves another blocked on b.
    let mut mover = s.conn();
    let mut reader = s.conn();
    reader.send_cmd(&["BLPOP", &b, "0"]);
    wait_blocked(&mut admin, 1);
    mover.send_cmd(&["BLMOVE", &a, &b, "LEFT", "LEFT", "0"]);
    wait_blocked(&mut admin, 2);
    assert_eq!(admin.cmd(&["RPUSH", &a, "chain"]), int(1));
    assert_eq!(mover.read_reply(), bulk("chain"));
    assert_eq!(reader.read_reply(), kv(&b, "chain"));
    assert_eq!(admin.cmd(&["EXISTS", &a, &b]), int(0));
}

#[test]
fn bzpopmin_bzpopmax_bzmpop() {
    let s = Server::new();
    let mut admin = s.conn();
    let (a, b) = two_shards("bz");
    // Served at once.
    assert_eq!(
        admin.cmd(&["ZADD", &b, "1", "m1", "2", "m2", "3", "m3"]),
        int(3)
    );
    assert_eq!(
        admin.cmd(&["BZPOPMIN", &a, &b, "0"]),
        arr(vec![bulk(&b), bulk("m1"), bulk("1")])
    );
    assert_eq!(
        admin.cmd(&["BZPOPMAX", &a, &b, "0"]),
        arr(vec![bulk(&b), bulk("m3"), bulk("3")])
    );
    assert_eq!(
        admin.cmd(&["BZMPOP", "0", "2", &a, &b, "MIN", "COUNT", "5"]),
        arr(vec![bulk(&b), arr(vec![arr(vec![bulk("m2"), bulk("2")])])])
    );
    assert_eq!(admin.cmd(&["EXISTS", &b]), int(0));
    // Timeouts reply a null array.
    assert_eq!(admin.cmd(&["BZPOPMIN", &a, "0.05"]), Reply::NilArray);
    assert_eq!(
        admin.cmd(&["BZMPOP", "0.05", "1", &a, "MAX"]),
        Reply::NilArray
    );
    // Blocked, then served by a ZADD on either shard, in order.
    let mut w1 = s.conn();
    let mut w2 = s.conn();
    w1.send_cmd(&["BZPOPMAX", &a, &b, "0"]);
    wait_blocked(&mut admin, 1);
    w2.send_cmd(&["BZMPOP", "0", "2", &b, &a, "MIN", "COUNT", "2"]);
    wait_blocked(&mut admin, 2);
    assert_eq!(
        admin.cmd(&["ZADD", &a, "5", "x", "6", "y", "7", "z"]),
        int(3)
    );
    assert_eq!(w1.read_reply(), arr(vec![bulk(&a), bulk("z"), bulk("7")]));
    assert_eq!(
        w2.read_reply(),
        arr(vec![
            bulk(&a),
            arr(vec![
                arr(vec![bulk("x"), bulk("5")]),
                arr(vec![bulk("y"), bulk("6")])
            ])
        ])
    );
    assert_eq!(admin.cmd(&["EXISTS", &a]), int(0));
    // A list pushed to the key does not serve a sorted-set waiter, which stays blocked.
    let mut w3 = s.conn();
    w3.send_cmd(&["BZPOPMIN", &a, "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["RPUSH", &a, "l"]), int(1));
    assert_eq!(admin.cmd(&["LPOP", &a]), bulk("l"));
    assert_eq!(blocked_clients(&mut admin), 1);
    assert_eq!(admin.cmd(&["ZADD", &a, "-inf", "low"]), int(1));
    assert_eq!(
        w3.read_reply(),
        arr(vec![bulk(&a), bulk("low"), bulk("-inf")])
    );
    // Errors.
    assert_eq!(admin.cmd(&["RPUSH", &b, "l"]), int(1));
    assert_eq!(
        admin.cmd(&["BZPOPMIN", &b, "0"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(
        admin.cmd(&["BZMPOP", "0", "1", &b, "LEFT"]),
        err("ERR syntax error")
    );
    assert_eq!(
        admin.cmd(&["BZPOPMIN", &a, "x"]),
        err("ERR timeout is not a float or out of range")
    );
    assert_eq!(admin.cmd(&["BZPOPMAX", &a]), arity_err("bzpopmax"));
}

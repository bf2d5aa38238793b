//! Key expiry: lazy (on access) and active (a background sweep removes keys nobody reads).
//! Waits are bounds (poll up to a limit), never timing assertions.

mod common;

use common::*;
use std::thread::sleep;
use std::time::Duration;

fn server() -> Server {
    Server::start(Opts::shards(4))
}

#[test]
fn lazy_expiry_on_access() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "100"]), ok());
    assert_eq!(c.cmd(&["SET", "k2", "v"]), ok());
    assert_eq!(c.cmd(&["PEXPIRE", "k2", "100"]), int(1));
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), int(2));
    assert_eq!(c.cmd(&["PEXPIRE", "l", "100"]), int(1));
    assert_eq!(c.cmd(&["SET", "keep", "v"]), ok());
    sleep(Duration::from_millis(200));
    assert_eq!(c.cmd(&["GET", "k"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "k", "k2", "keep"]), int(1));
    assert_eq!(c.cmd(&["TTL", "k2"]), int(-2));
    assert_eq!(c.cmd(&["PTTL", "k2"]), int(-2));
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("none"));
    assert_eq!(c.cmd(&["LLEN", "l"]), int(0));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), empty());
    assert_eq!(
        c.cmd(&["MGET", "k", "keep", "k2"]),
        arr(vec![nil(), bulk("v"), nil()])
    );
    assert_eq!(c.cmd(&["KEYS", "*"]), bulks(&["keep"]));
    assert_eq!(c.cmd(&["DEL", "k", "k2", "l"]), int(0));
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
    // Writes to an expired key start from scratch, without a TTL.
    assert_eq!(c.cmd(&["SET", "n", "10", "PX", "50"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "m", "x"]), int(1));
    assert_eq!(c.cmd(&["PEXPIRE", "m", "50"]), int(1));
    sleep(Duration::from_millis(150));
    assert_eq!(c.cmd(&["INCR", "n"]), int(1));
    assert_eq!(c.cmd(&["TTL", "n"]), int(-1));
    assert_eq!(c.cmd(&["APPEND", "k", "new"]), int(3));
    assert_eq!(c.cmd(&["RPUSH", "m", "y"]), int(1));
    assert_eq!(c.cmd(&["TTL", "m"]), int(-1));
    assert_eq!(c.cmd(&["SET", "x", "1", "PX", "50"]), ok());
    sleep(Duration::from_millis(150));
    assert_eq!(c.cmd(&["SET", "x", "2", "NX"]), ok());
    assert_eq!(c.cmd(&["SETNX", "x", "3"]), int(0));
    assert_eq!(c.cmd(&["GET", "x"]), bulk("2"));
}

#[test]
fn ttl_changes_are_honoured() {
    let s = server();
    let mut c = s.conn();
    // Overwritten by a plain SET: the old deadline must not delete the new value.
    assert_eq!(c.cmd(&["SET", "a", "1", "PX", "100"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "2"]), ok());
    // PERSIST.
    assert_eq!(c.cmd(&["SET", "b", "1", "PX", "100"]), ok());
    assert_eq!(c.cmd(&["PERSIST", "b"]), int(1));
    // Deleted and recreated without TTL.
    assert_eq!(c.cmd(&["SET", "c", "1", "PX", "100"]), ok());
    assert_eq!(c.cmd(&["DEL", "c"]), int(1));
    assert_eq!(c.cmd(&["RPUSH", "c", "x"]), int(1));
    // Extended.
    assert_eq!(c.cmd(&["SET", "d", "1", "PX", "100"]), ok());
    assert_eq!(c.cmd(&["PEXPIRE", "d", "100000"]), int(1));
    // Shortened: this one goes.
    assert_eq!(c.cmd(&["SET", "e", "1", "EX", "1000"]), ok());
    assert_eq!(c.cmd(&["PEXPIRE", "e", "50"]), int(1));
    // KEEPTTL keeps the short deadline: this one goes too.
    assert_eq!(c.cmd(&["SET", "f", "1", "PX", "100"]), ok());
    assert_eq!(c.cmd(&["SET", "f", "2", "KEEPTTL"]), ok());
    // Let the active cycle run over the old deadlines (no reads meanwhile): DBSIZE falls to 4
    // (e and f) and never below.
    let mut seen = Vec::new();
    let done = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
        let n = c.cmd(&["DBSIZE"]).int();
        seen.push(n);
        n <= 4
    });
    assert!(done, "e and f were not expired actively: DBSIZE {seen:?}");
    sleep(Duration::from_millis(200));
    assert_eq!(c.cmd(&["DBSIZE"]), int(4), "DBSIZE history {seen:?}");
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "d", "e", "f"]),
        arr(vec![bulk("2"), bulk("1"), bulk("1"), nil(), nil()])
    );
    assert_eq!(c.cmd(&["LRANGE", "c", "0", "-1"]), bulks(&["x"]));
    assert_eq!(c.cmd(&["TTL", "a"]), int(-1));
    assert!(c.cmd(&["TTL", "d"]).int() > 90);
}

#[test]
fn active_expiry_removes_unread_keys() {
    let s = server();
    let mut c = s.conn();
    const N: usize = 10_000;
    let mut buf = Vec::new();
    for i in 0..N {
        encode_cmd_into(&["SET", &format!("vol:{i}"), "x", "PX", "50"], &mut buf);
    }
    for i in 0..1000 {
        encode_cmd_into(&["SET", &format!("keep:{i}"), "y"], &mut buf);
    }
    let mut w = c.stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        w.write_all(&buf).map(|_| ())
    });
    for _ in 0..N + 1000 {
        assert_eq!(c.read_reply(), ok());
    }
    writer.join().unwrap().expect("write");
    // Never read the volatile keys: only DBSIZE, which must fall to the persistent 1000.
    let mut last = -1;
    let done = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
        last = c.cmd(&["DBSIZE"]).int();
        last == 1000
    });
    assert!(
        done,
        "active expiry did not remove the volatile keys: DBSIZE {last} after 5 s"
    );
    assert_eq!(c.cmd(&["KEYS", "vol:*"]), empty());
    assert_eq!(c.cmd(&["GET", "keep:999"]), bulk("y"));
}

#[test]
fn active_expiry_in_every_database() {
    let s = server();
    let mut c = s.conn();
    for db in ["0", "3", "15"] {
        assert_eq!(c.cmd(&["SELECT", db]), ok());
        let mut buf = Vec::new();
        for i in 0..300 {
            encode_cmd_into(&["SET", &format!("k{i}"), "x", "PX", "30"], &mut buf);
        }
        c.send(&buf);
        for _ in 0..300 {
            assert_eq!(c.read_reply(), ok());
        }
    }
    for db in ["0", "3", "15"] {
        assert_eq!(c.cmd(&["SELECT", db]), ok());
        let mut last = -1;
        let done = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
            last = c.cmd(&["DBSIZE"]).int();
            last == 0
        });
        assert!(done, "db {db}: DBSIZE {last} after 5 s");
    }
}

#[test]
fn ttl_counts_down() {
    let s = server();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "100000"]), ok());
    let first = c.cmd(&["PTTL", "k"]).int();
    sleep(Duration::from_millis(30));
    let second = c.cmd(&["PTTL", "k"]).int();
    assert!(first <= 100_000 && first > 0, "{first}");
    assert!(
        second < first,
        "PTTL did not decrease: {first} then {second}"
    );
}

/// TIME: `[seconds, microseconds]` of the server's clock (the Tcl suite uses it for sub-second
/// PEXPIREAT).
#[test]
fn time_command() {
    let s = Server::new();
    let mut c = s.conn();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let r = c.cmd(&["TIME"]);
    let parts = r.strings();
    assert_eq!(parts.len(), 2, "{r:?}");
    let secs: i64 = parts[0].parse().unwrap();
    let micros: i64 = parts[1].parse().unwrap();
    assert!(
        (before - 1..=before + 2).contains(&secs),
        "{secs} vs {before}"
    );
    assert!((0..1_000_000).contains(&micros));
    assert_eq!(c.cmd(&["TIME", "x"]), arity_err("time"));
    // Sub-second PEXPIREAT from the server's own clock, as the Tcl test does.
    let now_ms = secs * 1000 + micros / 1000;
    c.cmd(&["SET", "k", "v"]);
    let at = (now_ms + 300).to_string();
    assert_eq!(c.cmd(&["PEXPIREAT", "k", &at]), int(1));
    let pttl = c.cmd(&["PTTL", "k"]).int();
    assert!((1..=300).contains(&pttl), "{pttl}");
}

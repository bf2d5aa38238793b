//! SWAPDB: contents move between DBs on every shard at once, WATCH sees it as Redis does, and
//! clients blocked on a key that the swap fills are served. Also passes against redis-server 7.0
//! (`REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;
use std::time::Duration;

#[test]
fn swaps_every_shard_and_checks_arguments() {
    let s = Server::new();
    let mut c = s.conn();
    let ks = keys_per_shard("swap", 2, 3);
    for k in ks.iter().flatten() {
        assert_eq!(c.cmd(&["SET", k, "in0"]), ok());
    }
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["SET", "only1", "x"]), ok());
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(6));
    for k in ks.iter().flatten() {
        assert_eq!(c.cmd(&["GET", k]), bulk("in0"));
    }
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
    assert_eq!(c.cmd(&["GET", "only1"]), bulk("x"));
    assert_eq!(c.cmd(&["SWAPDB", "0", "0"]), ok());
    assert_eq!(
        c.cmd(&["SWAPDB", "x", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "1.5"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "-1", "0"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(c.cmd(&["SWAPDB", "0"]), arity_err("swapdb"));
    // Inside a transaction too.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["DBSIZE"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![ok(), int(6)]));
}

#[test]
fn swapdb_touches_watched_keys() {
    let s = Server::new();
    let mut c = s.conn();
    // A watched key that exists is "deleted" by the swap.
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "30"]), ok());
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    // A watched key that does not exist is "created" by it.
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "30"]), ok());
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    // Keys in neither DB are untouched.
    assert_eq!(c.cmd(&["WATCH", "nothere"]), ok());
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![simple("PONG")]));
}

#[test]
fn swapdb_serves_blocked_clients() {
    let s = Server::new();
    let mut c = s.conn();
    let mut blocked = s.conn();
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "waiting", "item"]), int(1));
    blocked.send_cmd(&["BLPOP", "waiting", "10"]);
    assert!(wait_until(
        Duration::from_secs(10),
        Duration::from_millis(5),
        || c.cmd(&["INFO", "clients"])
            .text()
            .contains("blocked_clients:1")
    ));
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(blocked.read_reply(), bulks(&["waiting", "item"]));
}

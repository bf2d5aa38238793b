//! MULTI/EXEC/DISCARD/WATCH/UNWATCH: Redis 7.0's replies and errors, WATCH invalidation (writes,
//! deletes, expiry, flushes, from any connection and shard), and atomicity of transactions whose
//! keys live on different shards. Everything here also passes against redis-server 7.0
//! (`REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// Keys on two different shards (of the default 2).
fn two_shards(prefix: &str) -> (String, String) {
    let ks = keys_per_shard(prefix, 2, 1);
    (ks[0][0].clone(), ks[1][0].clone())
}

fn queued() -> Reply {
    simple("QUEUED")
}

#[test]
fn basics_queue_and_run_in_order() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RPUSH", "mylist", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["LRANGE", "mylist", "0", "-1"]), queued());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["ECHO", "hi"]), queued());
    assert_eq!(c.cmd(&["INCR", "counter"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        arr(vec![
            bulks(&["a", "b", "c"]),
            simple("PONG"),
            bulk("hi"),
            int(1)
        ])
    );
    // An empty transaction.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["EXEC"]), empty());
    // SPOP inside a transaction (Redis's "commands alter argc/argv" case).
    assert_eq!(c.cmd(&["SADD", "myset", "a"]), int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SPOP", "myset"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![bulk("a")]));
    assert_eq!(c.cmd(&["EXISTS", "myset"]), int(0));
}

#[test]
fn control_errors() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(c.cmd(&["DISCARD"]), err("ERR DISCARD without MULTI"));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), err("ERR MULTI calls can not be nested"));
    assert_eq!(
        c.cmd(&["WATCH", "x"]),
        err("ERR WATCH inside MULTI is not allowed")
    );
    assert_eq!(c.cmd(&["SET", "x", "1"]), queued());
    // Neither error aborts the transaction.
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![ok()]));
    assert_eq!(c.cmd(&["GET", "x"]), bulk("1"));

    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["DEL", "x"]), queued());
    assert_eq!(c.cmd(&["DISCARD"]), ok());
    assert_eq!(c.cmd(&["GET", "x"]), bulk("1"));
    // DISCARD left MULTI.
    assert_eq!(c.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
}

#[test]
fn queueing_errors_abort_exec() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("abort");
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", &a, "1"]), queued());
    assert!(c.cmd(&["NO-SUCH-COMMAND"]).is_error());
    assert_eq!(c.cmd(&["SET", &b, "2"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), err(EXECABORT));
    assert_eq!(c.cmd(&["EXISTS", &a, &b]), int(0));
    // The state is cleared.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));

    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", &a, "1"]), queued());
    assert_eq!(c.cmd(&["GET"]), arity_err("get"));
    // After the error, commands still answer QUEUED.
    assert_eq!(c.cmd(&["SET", &b, "2"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), err(EXECABORT));
    assert_eq!(c.cmd(&["EXISTS", &a, &b]), int(0));

    // `no-multi` commands are refused while queueing, and abort too.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(
        c.cmd(&["SAVE"]),
        err("ERR Command not allowed inside a transaction")
    );
    assert_eq!(c.cmd(&["EXEC"]), err(EXECABORT));
}

#[test]
fn runtime_errors_are_returned_in_place() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("rt");
    assert_eq!(c.cmd(&["SET", &a, "str"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["LPUSH", &a, "x"]), queued());
    assert_eq!(c.cmd(&["INCR", &b]), queued());
    assert_eq!(c.cmd(&["INCR", &a]), queued());
    assert_eq!(c.cmd(&["MSET", &a, "1", &b]), queued());
    assert_eq!(c.cmd(&["INCR", &b]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        arr(vec![
            err(WRONGTYPE),
            int(1),
            err(NOT_INT),
            arity_err("mset"),
            int(2)
        ])
    );
}

#[test]
fn multi_key_and_all_shard_commands_inside_exec() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("mk");
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["MSET", &a, "1", &b, "2"]), queued());
    assert_eq!(c.cmd(&["MGET", &b, "nokey", &a]), queued());
    assert_eq!(c.cmd(&["EXISTS", &a, &b, "nokey"]), queued());
    assert_eq!(c.cmd(&["DBSIZE"]), queued());
    assert_eq!(c.cmd(&["DEL", &a, &b]), queued());
    assert_eq!(c.cmd(&["DBSIZE"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        arr(vec![
            ok(),
            arr(vec![bulk("2"), nil(), bulk("1")]),
            int(2),
            int(2),
            int(2),
            int(0)
        ])
    );
}

#[test]
fn select_inside_exec_applies_to_later_commands() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "db0"]), queued());
    assert_eq!(c.cmd(&["SELECT", "3"]), queued());
    assert_eq!(c.cmd(&["SET", "k", "db3"]), queued());
    assert_eq!(c.cmd(&["GET", "k"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![ok(), ok(), ok(), bulk("db3")]));
    // The connection stays on the selected DB.
    assert_eq!(c.cmd(&["GET", "k"]), bulk("db3"));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("db0"));
}

#[test]
fn cross_shard_commands_that_gather_run_inside_exec() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("gather");
    assert_eq!(c.cmd(&["SADD", &a, "m1", "m2"]), int(2));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SMOVE", &a, &b, "m1"]), queued());
    assert_eq!(c.cmd(&["SCARD", &b]), queued());
    assert_eq!(c.cmd(&["SUNION", &a, &b]), queued());
    assert_eq!(c.cmd(&["RENAME", &a, "renamed"]), queued());
    assert_eq!(c.cmd(&["SMEMBERS", "renamed"]), queued());
    let r = c.cmd(&["EXEC"]);
    let items = r.items();
    assert_eq!(items[0], int(1));
    assert_eq!(items[1], int(1));
    let mut union = items[2].strings();
    union.sort();
    assert_eq!(union, vec!["m1", "m2"]);
    assert_eq!(items[3], ok());
    assert_eq!(items[4], bulks(&["m2"]));
}

#[test]
fn blocking_commands_do_not_block_inside_exec() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("blk");
    assert_eq!(c.cmd(&["RPUSH", &b, "x"]), int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    for cmd in [
        vec!["BLPOP", "empty", "0"],
        vec!["BRPOP", "empty", "0"],
        vec!["BRPOPLPUSH", "empty1", "empty2", "0"],
        vec!["BLMOVE", "empty1", "empty2", "LEFT", "LEFT", "0"],
        vec!["BZPOPMIN", "emptyz", "0"],
        vec!["BZPOPMAX", "emptyz", "0"],
        vec!["BLPOP", &a, &b, "0"],
    ] {
        assert_eq!(c.cmd(&cmd), queued());
    }
    let started = Instant::now();
    let r = c.cmd(&["EXEC"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    let items = r.items();
    assert_eq!(items.len(), 7);
    for it in &items[..6] {
        assert!(matches!(it, Reply::NilArray | Reply::Nil), "{it:?}");
    }
    assert_eq!(items[6], bulks(&[b.as_str(), "x"]));
}

#[test]
fn watch_unmodified_runs_and_modified_fails() {
    let s = Server::new();
    let mut c = s.conn();
    let mut other = s.conn();
    let (a, b) = two_shards("w");
    assert_eq!(c.cmd(&["WATCH", &a, &b, "z"]), ok());
    assert_eq!(c.cmd(&["WATCH", "k"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![simple("PONG")]));

    for key in [&a, &b] {
        assert_eq!(c.cmd(&["SET", key, "30"]), ok());
        assert_eq!(c.cmd(&["WATCH", &a, "x", &b]), ok());
        assert_eq!(other.cmd(&["SET", key, "40"]), ok());
        assert_eq!(c.cmd(&["MULTI"]), ok());
        assert_eq!(c.cmd(&["PING"]), queued());
        assert_eq!(c.cmd(&["INCR", key]), queued());
        assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray, "watched {key}");
        assert_eq!(c.cmd(&["GET", key]), bulk("40"));
        // After a failed EXEC the keys are no longer watched.
        assert_eq!(c.cmd(&["MULTI"]), ok());
        assert_eq!(c.cmd(&["INCR", key]), queued());
        assert_eq!(c.cmd(&["EXEC"]), arr(vec![int(41)]));
    }
}

#[test]
fn watch_sees_only_real_changes() {
    let s = Server::new();
    let mut c = s.conn();
    let mut other = s.conn();
    assert_eq!(c.cmd(&["SADD", "set", "a"]), int(1));
    assert_eq!(c.cmd(&["SET", "n", "5"]), ok());
    assert_eq!(c.cmd(&["WATCH", "set", "n"]), ok());
    // No-ops are not modifications.
    assert_eq!(other.cmd(&["SADD", "set", "a"]), int(0));
    assert_eq!(other.cmd(&["SREM", "set", "zzz"]), int(0));
    assert_eq!(other.cmd(&["GET", "n"]), bulk("5"));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["INCR", "n"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![int(6)]));
    // Deleting a watched key is one.
    assert_eq!(c.cmd(&["WATCH", "set"]), ok());
    assert_eq!(other.cmd(&["DEL", "set"]), int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    // So is a change of TTL.
    assert_eq!(c.cmd(&["WATCH", "n"]), ok());
    assert_eq!(other.cmd(&["EXPIRE", "n", "100"]), int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    // A key that does not exist and is created.
    assert_eq!(c.cmd(&["WATCH", "new"]), ok());
    assert_eq!(other.cmd(&["LPUSH", "new", "x"]), int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
}

#[test]
fn unwatch_discard_and_own_writes() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "x", "30"]), ok());
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "40"]), ok());
    assert_eq!(c.cmd(&["UNWATCH"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![simple("PONG")]));
    // UNWATCH with nothing watched.
    assert_eq!(c.cmd(&["UNWATCH"]), ok());
    // DISCARD clears the dirty flag and unwatches.
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "10"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["DISCARD"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "10"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["INCR", "x"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![int(11)]));
    // RESET unwatches too.
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "1"]), ok());
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["INCR", "x"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![int(2)]));
}

#[test]
fn watch_remembers_the_db() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SELECT", "5"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "30"]), ok());
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["SET", "x", "10"]), ok());
    assert_eq!(c.cmd(&["SELECT", "5"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), arr(vec![simple("PONG")]));
}

#[test]
fn flushes_touch_watched_keys_that_exist() {
    let s = Server::new();
    let mut c = s.conn();
    let mut other = s.conn();
    for flush in [["FLUSHALL"], ["FLUSHDB"]] {
        assert_eq!(c.cmd(&["SET", "x", "30"]), ok());
        assert_eq!(c.cmd(&["WATCH", "x"]), ok());
        assert_eq!(other.cmd(&flush), ok());
        assert_eq!(c.cmd(&["MULTI"]), ok());
        assert_eq!(c.cmd(&["PING"]), queued());
        assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray, "{flush:?}");

        // A watched key that does not exist is not affected.
        assert_eq!(c.cmd(&["DEL", "x"]), int(0));
        assert_eq!(c.cmd(&["WATCH", "x"]), ok());
        assert_eq!(other.cmd(&flush), ok());
        assert_eq!(c.cmd(&["MULTI"]), ok());
        assert_eq!(c.cmd(&["PING"]), queued());
        assert_eq!(c.cmd(&["EXEC"]), arr(vec![simple("PONG")]), "{flush:?}");
    }
}

#[test]
fn watched_key_that_expires_fails_exec() {
    let s = Server::new();
    let mut c = s.conn();
    // Deleted by the active sweep before EXEC.
    assert_eq!(c.cmd(&["SET", "x", "foo", "PX", "50"]), ok());
    assert_eq!(c.cmd(&["WATCH", "x"]), ok());
    assert!(wait_until(
        Duration::from_secs(10),
        Duration::from_millis(20),
        || c.cmd(&["DBSIZE"]) == int(0)
    ));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
    // Expired while queued (lazily: EXEC itself finds it past its deadline).
    assert_eq!(c.cmd(&["SET", "y", "1", "PX", "30"]), ok());
    assert_eq!(c.cmd(&["WATCH", "y"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["INCR", "y"]), queued());
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.cmd(&["EXEC"]), Reply::NilArray);
}

#[test]
fn resp3_exec_replies() {
    let s = Server::new();
    let mut c = s.conn();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["HSET", "h", "f", "v"]), int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["HGETALL", "h"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        arr(vec![Reply::Map(vec![(bulk("f"), bulk("v"))])])
    );
    assert_eq!(c.cmd(&["WATCH", "h"]), ok());
    assert_eq!(c.cmd(&["HSET", "h", "f", "w"]), int(0));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(c.cmd(&["EXEC"]), nil());
}

#[test]
fn pipelined_transactions() {
    let s = Server::new();
    let mut c = s.conn();
    let (a, b) = two_shards("pipe");
    let mut buf = Vec::new();
    for _ in 0..50 {
        encode_cmd_into(&["MULTI"], &mut buf);
        encode_cmd_into(&["INCR", &a], &mut buf);
        encode_cmd_into(&["INCR", &b], &mut buf);
        encode_cmd_into(&["EXEC"], &mut buf);
    }
    c.send(&buf);
    for i in 1..=50 {
        assert_eq!(c.read_reply(), ok());
        assert_eq!(c.read_reply(), queued());
        assert_eq!(c.read_reply(), queued());
        assert_eq!(c.read_reply(), arr(vec![int(i), int(i)]));
    }
}

/// 20 clients × 500 `MULTI; INCR a; INCR b; EXEC` with `a` and `b` on different shards, while
/// readers run `MULTI; GET a; GET b; EXEC`: no reader ever sees a ≠ b, and the totals are exact.
#[test]
fn cross_shard_transactions_are_atomic_and_isolated() {
    let s = Server::new();
    let (a, b) = two_shards("atomic");
    const WRITERS: usize = 20;
    const EACH: i64 = 500;
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut c = s.conn();
        let (a, b, stop, reads) = (a.clone(), b.clone(), stop.clone(), reads.clone());
        readers.push(std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let mut buf = Vec::new();
                encode_cmd_into(&["MULTI"], &mut buf);
                encode_cmd_into(&["GET", &a], &mut buf);
                encode_cmd_into(&["GET", &b], &mut buf);
                encode_cmd_into(&["EXEC"], &mut buf);
                c.send(&buf);
                for _ in 0..3 {
                    c.read_reply();
                }
                let r = c.read_reply();
                let items = r.items();
                assert_eq!(items[0], items[1], "a reader saw a transaction half-way");
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let mut c = s.conn();
        let (a, b) = (a.clone(), b.clone());
        writers.push(std::thread::spawn(move || {
            for _ in 0..EACH {
                let mut buf = Vec::new();
                encode_cmd_into(&["MULTI"], &mut buf);
                encode_cmd_into(&["INCR", &a], &mut buf);
                encode_cmd_into(&["INCR", &b], &mut buf);
                encode_cmd_into(&["EXEC"], &mut buf);
                c.send(&buf);
                for _ in 0..3 {
                    c.read_reply();
                }
                let r = c.read_reply();
                let items = r.items();
                assert_eq!(items[0], items[1], "a transaction was interleaved");
            }
        }));
    }
    for w in writers {
        w.join().expect("writer");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("reader");
    }
    let total = WRITERS as i64 * EACH;
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", &a]), bulk(total.to_string()));
    assert_eq!(c.cmd(&["GET", &b]), bulk(total.to_string()));
    assert!(reads.load(Ordering::Relaxed) > 0);
}

/// The optimistic-locking retry loop from several clients at once: every increment lands once.
#[test]
fn watch_retry_loop_gives_exact_result() {
    let s = Server::new();
    let (a, b) = two_shards("cas");
    const CLIENTS: usize = 6;
    const EACH: usize = 100;
    let mut threads = Vec::new();
    for _ in 0..CLIENTS {
        let mut c = s.conn();
        let (a, b) = (a.clone(), b.clone());
        threads.push(std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut done = 0;
            while done < EACH {
                assert!(Instant::now() < deadline, "retry loop did not finish");
                assert_eq!(c.cmd(&["WATCH", &a, &b]), ok());
                let v = match c.cmd(&["GET", &a]) {
                    Reply::Bulk(v) => String::from_utf8(v).unwrap().parse::<i64>().unwrap(),
                    _ => 0,
                };
                assert_eq!(c.cmd(&["MULTI"]), ok());
                assert_eq!(c.cmd(&["SET", &a, &(v + 1).to_string()]), queued());
                assert_eq!(c.cmd(&["SET", &b, &(v + 1).to_string()]), queued());
                match c.cmd(&["EXEC"]) {
                    Reply::NilArray => {}
                    r => {
                        assert_eq!(r, arr(vec![ok(), ok()]));
                        done += 1;
                    }
                }
            }
        }));
    }
    for t in threads {
        t.join().expect("client");
    }
    let mut c = s.conn();
    let want = (CLIENTS * EACH).to_string();
    assert_eq!(c.cmd(&["GET", &a]), bulk(&want));
    assert_eq!(c.cmd(&["GET", &b]), bulk(&want));
}

/// Transactions through the `redis` crate's atomic pipeline (MULTI … EXEC under the hood).
#[test]
fn redis_crate_atomic_pipeline() {
    let s = Server::new();
    let mut con = s.client();
    let (a, b) = two_shards("crate");
    let (x, y): (i64, i64) = redis::pipe()
        .atomic()
        .incr(&a, 5)
        .incr(&b, 7)
        .query(&mut con)
        .expect("atomic pipeline");
    assert_eq!((x, y), (5, 7));
    let (x, y): (i64, i64) = redis::pipe()
        .atomic()
        .get(&a)
        .get(&b)
        .query(&mut con)
        .expect("atomic pipeline");
    assert_eq!((x, y), (5, 7));
}

/// The queue cannot grow past `client-query-buffer-limit`: the transaction is refused instead.
#[test]
fn queue_is_bounded() {
    skip_on_real_redis!();
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "1mb"]),
        ok()
    );
    let value = "v".repeat(64 * 1024);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    let mut refused = false;
    for i in 0..32 {
        match c.cmd(&["SET", &format!("k{i}"), &value]) {
            r if r == queued() => {}
            r => {
                assert_eq!(
                    r,
                    err("ERR transaction queue is larger than client-query-buffer-limit")
                );
                refused = true;
                break;
            }
        }
    }
    assert!(refused);
    assert_eq!(c.cmd(&["EXEC"]), err(EXECABORT));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
}

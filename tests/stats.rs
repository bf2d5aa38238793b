//! INFO commandstats and errorstats, total_error_replies and CONFIG RESETSTAT, counted the way
//! Redis 7.0 counts them: once per command line whichever core runs it (forwarded, split over
//! shards, inside EXEC), `failed_calls` for an error reply, `rejected_calls` for a refusal before
//! running, every error reply by its code. Run with `REDIS_LITE_TEST_REDIS=1` to check every
//! expectation against the real redis-server.

mod common;

use common::*;
use std::collections::HashMap;
use std::time::Duration;

/// `INFO <section>` as field → value.
fn info(c: &mut Conn, section: &str) -> HashMap<String, String> {
    let text = c.cmd(&["INFO", section]).text();
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// One `cmdstat_<name>` line as (calls, rejected_calls, failed_calls); zeros if absent.
fn cmdstat(c: &mut Conn, name: &str) -> (u64, u64, u64) {
    let all = info(c, "commandstats");
    let Some(line) = all.get(&format!("cmdstat_{name}")) else {
        return (0, 0, 0);
    };
    let f: HashMap<&str, &str> = line.split(',').filter_map(|p| p.split_once('=')).collect();
    let n = |k: &str| f[k].parse::<u64>().unwrap();
    for k in ["usec", "usec_per_call"] {
        assert!(f.contains_key(k), "{name}: {line}");
    }
    (n("calls"), n("rejected_calls"), n("failed_calls"))
}

fn errorstat(c: &mut Conn, code: &str) -> u64 {
    info(c, "errorstats")
        .get(&format!("errorstat_{code}"))
        .map_or(0, |v| v.strip_prefix("count=").unwrap().parse().unwrap())
}

fn total_errors(c: &mut Conn) -> u64 {
    info(c, "stats")["total_error_replies"].parse().unwrap()
}

#[test]
fn commandstats_count_each_command_line_once() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    // Keys of both shards, so some run here and some are forwarded.
    for i in 0..20 {
        assert_eq!(c.cmd(&["SET", &format!("k{i}"), "v"]), ok());
    }
    assert_eq!(cmdstat(&mut c, "set"), (20, 0, 0));
    // One MSET over both shards is one call; so is a DEL of keys on both.
    assert_eq!(
        c.cmd(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]),
        ok()
    );
    assert_eq!(cmdstat(&mut c, "mset"), (1, 0, 0));
    assert_eq!(c.cmd(&["DEL", "a", "b", "c", "d"]), int(4));
    assert_eq!(cmdstat(&mut c, "del"), (1, 0, 0));
    // Subcommands have their own lines.
    c.cmd(&["CONFIG", "GET", "maxmemory"]);
    assert_eq!(cmdstat(&mut c, "config|get"), (1, 0, 0));
    // The four INFOs so far are counted, this one not yet (Redis's call() counts after).
    assert_eq!(cmdstat(&mut c, "info"), (4, 0, 0));
    // usec is measured and usec_per_call is their ratio.
    let line = info(&mut c, "commandstats")["cmdstat_set"].clone();
    let f: HashMap<&str, &str> = line.split(',').filter_map(|p| p.split_once('=')).collect();
    let (usec, per): (u64, f64) = (
        f["usec"].parse().unwrap(),
        f["usec_per_call"].parse().unwrap(),
    );
    assert!((per - usec as f64 / 20.0).abs() < 0.01, "{line}");
}

#[test]
fn failures_rejections_and_errorstats() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(c.cmd(&["SET", "str", "v"]), ok());
    // A failed call: the command ran and replied with an error.
    assert_eq!(
        c.cmd(&["LPUSH", "str", "x"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(cmdstat(&mut c, "lpush"), (1, 0, 1));
    assert_eq!(
        c.cmd(&["INCR", "str"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(cmdstat(&mut c, "incr"), (1, 0, 1));
    // A rejected call: refused before running (wrong arity).
    assert_eq!(
        c.cmd(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(cmdstat(&mut c, "get"), (0, 1, 0));
    // An unknown command counts only as an error.
    assert!(c.cmd(&["NOSUCHCOMMAND"]).is_error());
    assert_eq!(errorstat(&mut c, "WRONGTYPE"), 1);
    assert_eq!(errorstat(&mut c, "ERR"), 3);
    assert_eq!(total_errors(&mut c), 4);

    // In a transaction: a queued command that fails at EXEC is a failed call of its own; a
    // refused one flags the transaction, whose EXEC is then rejected.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "n", "1"]), simple("QUEUED"));
    assert_eq!(c.cmd(&["INCR", "str"]), simple("QUEUED"));
    let r = c.cmd(&["EXEC"]);
    assert_eq!(
        r,
        arr(vec![
            ok(),
            err("ERR value is not an integer or out of range")
        ])
    );
    assert_eq!(cmdstat(&mut c, "set"), (2, 0, 0));
    assert_eq!(cmdstat(&mut c, "incr"), (2, 0, 2));
    assert_eq!(cmdstat(&mut c, "exec"), (1, 0, 0));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert!(c.cmd(&["GET"]).is_error());
    assert_eq!(
        c.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(cmdstat(&mut c, "get"), (0, 2, 0));
    assert_eq!(cmdstat(&mut c, "exec"), (2, 0, 1));
    assert_eq!(errorstat(&mut c, "EXECABORT"), 1);
    assert_eq!(total_errors(&mut c), 7);

    // RESETSTAT clears them all.
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(cmdstat(&mut c, "set"), (0, 0, 0));
    assert_eq!(cmdstat(&mut c, "incr"), (0, 0, 0));
    assert_eq!(errorstat(&mut c, "ERR"), 0);
    assert_eq!(total_errors(&mut c), 0);
    let stats = info(&mut c, "stats");
    assert_eq!(stats["keyspace_hits"], "0");
    assert_eq!(stats["keyspace_misses"], "0");
}

#[test]
fn info_sections_name_commandstats_and_errorstats() {
    let s = Server::new();
    let mut c = s.conn();
    assert!(c.cmd(&["NOSUCHCOMMAND"]).is_error());
    // The default INFO has errorstats but not commandstats; "all" and the names have them.
    let default = c.cmd(&["INFO"]).text();
    assert!(default.contains("# Errorstats\r\n"), "{default}");
    assert!(!default.contains("# Commandstats\r\n"), "{default}");
    let all = c.cmd(&["INFO", "all"]).text();
    assert!(all.contains("# Commandstats\r\ncmdstat_"), "{all}");
    assert!(all.contains("errorstat_ERR:count="), "{all}");
    let two = c.cmd(&["INFO", "commandstats", "errorstats"]).text();
    assert!(two.starts_with("# Commandstats\r\n"), "{two}");
    assert!(two.contains("\r\n# Errorstats\r\n"), "{two}");
}

/// used_memory counts the allocator's bytes in use: it grows with the data and falls when the
/// data goes (RSS need not), and the peak remembers the high point.
#[test]
fn used_memory_follows_the_data() {
    let s = Server::start(Opts::shards(2).arg("--save").arg(""));
    let mut c = s.conn();
    let mem = |c: &mut Conn, f: &str| -> u64 { info(c, "memory")[f].parse().unwrap() };
    let before = mem(&mut c, "used_memory");
    let value = "x".repeat(100);
    let mut buf = Vec::new();
    for i in 0..50_000 {
        encode_cmd_into(&["SET", &format!("k{i}"), &value], &mut buf);
        if i % 1000 == 999 {
            c.send(&buf);
            buf.clear();
            for _ in 0..1000 {
                assert_eq!(c.read_reply(), ok());
            }
        }
    }
    let loaded = mem(&mut c, "used_memory");
    assert!(loaded > before + 5_000_000, "{before} -> {loaded}");
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    let flushed = mem(&mut c, "used_memory");
    assert!(flushed < loaded - 4_000_000, "{loaded} -> {flushed}");
    assert!(mem(&mut c, "used_memory_peak") >= loaded);
}

/// INFO stats counts the channels and patterns with subscribers, over every core's clients.
#[test]
fn info_counts_pubsub_channels_and_patterns() {
    let s = Server::start(Opts::shards(2));
    let mut subs: Vec<Conn> = (0..4).map(|_| s.conn()).collect();
    // Several connections (so several cores), overlapping channels: counted once each.
    for (i, c) in subs.iter_mut().enumerate() {
        c.send_cmd(&["SUBSCRIBE", "news", &format!("ch{}", i % 2)]);
        c.read_reply();
        c.read_reply();
        c.send_cmd(&["PSUBSCRIBE", "p.*"]);
        c.read_reply();
    }
    let mut c = s.conn();
    let stats = info(&mut c, "stats");
    assert_eq!(stats["pubsub_channels"], "3");
    assert_eq!(stats["pubsub_patterns"], "1");
    drop(subs);
    let gone = wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
        info(&mut c, "stats")["pubsub_channels"] == "0"
    });
    assert!(gone, "{:?}", info(&mut c, "stats"));
    assert_eq!(info(&mut c, "stats")["pubsub_patterns"], "0");
}

//! Pub/sub: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH/SPUBLISH counted over
//! every core, delivery in publish order to subscribers on any core, the RESP2 subscribed state,
//! RESP3 push messages, PUBSUB introspection, and the pubsub output-buffer limit. Everything
//! except the memory check also passes against redis-server 7.0 (`REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;
use std::time::{Duration, Instant};

fn confirm(kind: &str, name: &str, n: i64) -> Reply {
    arr(vec![bulk(kind), bulk(name), int(n)])
}

fn message(ch: &str, msg: &str) -> Reply {
    arr(vec![bulk("message"), bulk(ch), bulk(msg)])
}

#[test]
fn subscribe_publish_unsubscribe() {
    let s = Server::new();
    let mut sub = s.conn();
    let mut c = s.conn();
    sub.send_cmd(&["SUBSCRIBE", "chan1", "chan2"]);
    assert_eq!(sub.read_reply(), confirm("subscribe", "chan1", 1));
    assert_eq!(sub.read_reply(), confirm("subscribe", "chan2", 2));
    // Subscribing twice changes nothing.
    sub.send_cmd(&["SUBSCRIBE", "chan1"]);
    assert_eq!(sub.read_reply(), confirm("subscribe", "chan1", 2));
    assert_eq!(c.cmd(&["PUBLISH", "chan1", "hello"]), int(1));
    assert_eq!(c.cmd(&["PUBLISH", "chan2", "world"]), int(1));
    assert_eq!(c.cmd(&["PUBLISH", "nobody", "x"]), int(0));
    assert_eq!(sub.read_reply(), message("chan1", "hello"));
    assert_eq!(sub.read_reply(), message("chan2", "world"));
    sub.send_cmd(&["UNSUBSCRIBE", "chan1"]);
    assert_eq!(sub.read_reply(), confirm("unsubscribe", "chan1", 1));
    assert_eq!(c.cmd(&["PUBLISH", "chan1", "hello"]), int(0));
    assert_eq!(c.cmd(&["PUBLISH", "chan2", "again"]), int(1));
    assert_eq!(sub.read_reply(), message("chan2", "again"));
    // Without arguments: every channel; then nothing left.
    sub.send_cmd(&["UNSUBSCRIBE"]);
    assert_eq!(sub.read_reply(), confirm("unsubscribe", "chan2", 0));
    sub.send_cmd(&["UNSUBSCRIBE"]);
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("unsubscribe"), nil(), int(0)])
    );
    sub.send_cmd(&["PUNSUBSCRIBE"]);
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("punsubscribe"), nil(), int(0)])
    );
    // Unsubscribing from channels never subscribed still answers.
    sub.send_cmd(&["UNSUBSCRIBE", "foo", "bar"]);
    assert_eq!(sub.read_reply(), confirm("unsubscribe", "foo", 0));
    assert_eq!(sub.read_reply(), confirm("unsubscribe", "bar", 0));
    // Back to normal.
    assert_eq!(sub.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn patterns_and_mixed_subscriptions() {
    let s = Server::new();
    let mut sub = s.conn();
    let mut c = s.conn();
    sub.send_cmd(&["SUBSCRIBE", "foo.bar"]);
    assert_eq!(sub.read_reply(), confirm("subscribe", "foo.bar", 1));
    sub.send_cmd(&["PSUBSCRIBE", "foo.*", "x?z"]);
    assert_eq!(sub.read_reply(), confirm("psubscribe", "foo.*", 2));
    assert_eq!(sub.read_reply(), confirm("psubscribe", "x?z", 3));
    assert_eq!(c.cmd(&["PUBLISH", "foo.bar", "hello"]), int(2));
    assert_eq!(sub.read_reply(), message("foo.bar", "hello"));
    assert_eq!(
        sub.read_reply(),
        arr(vec![
            bulk("pmessage"),
            bulk("foo.*"),
            bulk("foo.bar"),
            bulk("hello")
        ])
    );
    assert_eq!(c.cmd(&["PUBLISH", "xyz", "1"]), int(1));
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("pmessage"), bulk("x?z"), bulk("xyz"), bulk("1")])
    );
    sub.send_cmd(&["PUNSUBSCRIBE"]);
    assert_eq!(sub.read_reply(), confirm("punsubscribe", "foo.*", 2));
    assert_eq!(sub.read_reply(), confirm("punsubscribe", "x?z", 1));
    assert_eq!(c.cmd(&["PUBLISH", "xyz", "1"]), int(0));
}

#[test]
fn resp2_subscribed_state_allows_only_pubsub_commands() {
    let s = Server::new();
    let mut sub = s.conn();
    sub.send_cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(sub.read_reply(), confirm("subscribe", "ch", 1));
    assert_eq!(
        sub.cmd(&["GET", "k"]),
        err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(sub.cmd(&["PING"]), arr(vec![bulk("pong"), bulk("")]));
    assert_eq!(
        sub.cmd(&["PING", "foo"]),
        arr(vec![bulk("pong"), bulk("foo")])
    );
    sub.send_cmd(&["UNSUBSCRIBE", "ch"]);
    assert_eq!(sub.read_reply(), confirm("unsubscribe", "ch", 0));
    assert_eq!(sub.cmd(&["PING"]), simple("PONG"));
    // RESET leaves the subscribed state.
    sub.send_cmd(&["PSUBSCRIBE", "*"]);
    assert_eq!(sub.read_reply(), confirm("psubscribe", "*", 1));
    assert_eq!(sub.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(sub.cmd(&["GET", "k"]), nil());
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PUBLISH", "any", "x"]), int(0));
}

#[test]
fn resp3_subscribers_get_pushes_and_run_other_commands() {
    let s = Server::new();
    let mut sub = s.conn();
    let mut c = s.conn();
    assert!(matches!(sub.cmd(&["HELLO", "3"]), Reply::Map(_)));
    sub.send_cmd(&["SUBSCRIBE", "ch"]);
    assert_eq!(
        sub.read_reply(),
        Reply::Push(vec![bulk("subscribe"), bulk("ch"), int(1)])
    );
    assert_eq!(sub.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(sub.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["PUBLISH", "ch", "hi"]), int(1));
    assert_eq!(
        sub.read_reply(),
        Reply::Push(vec![bulk("message"), bulk("ch"), bulk("hi")])
    );
}

#[test]
fn confirmations_are_sent_under_client_reply_off() {
    let s = Server::new();
    let mut sub = s.conn();
    let mut c = s.conn();
    assert!(matches!(sub.cmd(&["HELLO", "3"]), Reply::Map(_)));
    sub.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    sub.send_cmd(&["SUBSCRIBE", "channel"]);
    assert_eq!(
        sub.read_reply(),
        Reply::Push(vec![bulk("subscribe"), bulk("channel"), int(1)])
    );
    assert_eq!(c.cmd(&["PUBLISH", "channel", "hello"]), int(1));
    assert_eq!(
        sub.read_reply(),
        Reply::Push(vec![bulk("message"), bulk("channel"), bulk("hello")])
    );
}

#[test]
fn pubsub_introspection_counts_every_core() {
    let s = Server::new();
    let mut subs: Vec<Conn> = (0..6).map(|_| s.conn()).collect();
    for (i, sub) in subs.iter_mut().enumerate() {
        sub.send_cmd(&["SUBSCRIBE", "news", &format!("own{i}")]);
        sub.read_reply();
        sub.read_reply();
        sub.send_cmd(&["PSUBSCRIBE", if i % 2 == 0 { "n*" } else { "o*" }]);
        sub.read_reply();
    }
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["PUBSUB", "NUMSUB", "news", "own3", "nothing"]),
        arr(vec![
            bulk("news"),
            int(6),
            bulk("own3"),
            int(1),
            bulk("nothing"),
            int(0)
        ])
    );
    assert_eq!(c.cmd(&["PUBSUB", "NUMPAT"]), int(2));
    let mut chans = c.cmd(&["PUBSUB", "CHANNELS"]).strings();
    chans.sort();
    let mut want: Vec<String> = (0..6).map(|i| format!("own{i}")).collect();
    want.push("news".into());
    want.sort();
    assert_eq!(chans, want);
    let mut own = c.cmd(&["PUBSUB", "CHANNELS", "own*"]).strings();
    own.sort();
    assert_eq!(own.len(), 6);
    // Every subscriber, on whichever core: once for `news`, once per matching pattern.
    assert_eq!(c.cmd(&["PUBLISH", "news", "x"]), int(9));
    assert_eq!(c.cmd(&["PUBSUB", "NUMSUB"]), empty());
    assert!(c.cmd(&["PUBSUB", "NOPE"]).is_error());
}

#[test]
fn shard_channels() {
    let s = Server::new();
    let mut sub = s.conn();
    let mut c = s.conn();
    sub.send_cmd(&["SSUBSCRIBE", "sch"]);
    assert_eq!(sub.read_reply(), confirm("ssubscribe", "sch", 1));
    // A different namespace from PUBLISH's.
    assert_eq!(c.cmd(&["PUBLISH", "sch", "nope"]), int(0));
    assert_eq!(c.cmd(&["SPUBLISH", "sch", "yes"]), int(1));
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("smessage"), bulk("sch"), bulk("yes")])
    );
    assert_eq!(
        c.cmd(&["PUBSUB", "SHARDNUMSUB", "sch"]),
        arr(vec![bulk("sch"), int(1)])
    );
    assert_eq!(c.cmd(&["PUBSUB", "SHARDCHANNELS"]), bulks(&["sch"]));
    sub.send_cmd(&["SUNSUBSCRIBE"]);
    assert_eq!(sub.read_reply(), confirm("sunsubscribe", "sch", 0));
}

/// A 10k-message burst from one publisher reaches subscribers on every core exactly once, in
/// publish order.
#[test]
fn burst_arrives_in_order_everywhere() {
    let s = Server::new();
    const SUBS: usize = 6;
    const N: usize = 10_000;
    let mut subs: Vec<Conn> = (0..SUBS).map(|_| s.conn()).collect();
    for sub in subs.iter_mut() {
        sub.send_cmd(&["SUBSCRIBE", "burst"]);
        assert_eq!(sub.read_reply(), confirm("subscribe", "burst", 1));
    }
    let readers: Vec<_> = subs
        .into_iter()
        .map(|mut sub| {
            std::thread::spawn(move || {
                for i in 0..N {
                    assert_eq!(sub.read_reply(), message("burst", &i.to_string()));
                }
            })
        })
        .collect();
    let mut c = s.conn();
    let mut buf = Vec::new();
    for chunk in (0..N).collect::<Vec<_>>().chunks(500) {
        buf.clear();
        for i in chunk {
            encode_cmd_into(&["PUBLISH", "burst", &i.to_string()], &mut buf);
        }
        c.send(&buf);
        for _ in chunk {
            assert_eq!(c.read_reply(), int(SUBS as i64));
        }
    }
    for r in readers {
        r.join().expect("subscriber");
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A subscriber that never reads is disconnected by the pubsub output-buffer limit (32mb hard),
/// and the server's memory stays bounded while 128 MB are published to it.
#[test]
fn slow_subscriber_is_disconnected() {
    skip_on_real_redis!();
    let s = Server::new();
    let mut slow = s.conn();
    slow.send_cmd(&["SUBSCRIBE", "firehose"]);
    assert_eq!(slow.read_reply(), confirm("subscribe", "firehose", 1));
    let before = rss_kib(s.pid());
    let mut c = s.conn();
    let payload = "x".repeat(1024 * 1024);
    let mut disconnected = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    for _ in 0..128 {
        let n = c.cmd(&["PUBLISH", "firehose", &payload]).int();
        if n == 0 {
            disconnected = true;
            break;
        }
        assert!(Instant::now() < deadline);
    }
    assert!(disconnected, "the slow subscriber was never disconnected");
    assert_eq!(
        c.cmd(&["PUBSUB", "NUMSUB", "firehose"]),
        arr(vec![bulk("firehose"), int(0)])
    );
    let after = rss_kib(s.pid());
    assert!(
        after < before + 200 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

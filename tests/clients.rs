//! Connection commands clients probe on connect: HELLO (RESP2/RESP3), RESET, and CLIENT ID,
//! SETNAME/GETNAME, SETINFO, LIST/INFO (clients of every core), KILL (on any core), REPLY
//! OFF/SKIP with pipelining, PAUSE/UNPAUSE, UNBLOCK. Everything here also passes against
//! redis-server 7.0 (`REDIS_LITE_TEST_REDIS=1`) except what is marked `skip_on_real_redis!()`.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// The text of a bulk or verbatim reply (CLIENT LIST/INFO and INFO are verbatim in RESP3).
fn text(r: &Reply) -> String {
    match r {
        Reply::Verbatim(_, b) | Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a text reply, got {other:?}"),
    }
}

/// One CLIENT LIST line as (field, value) pairs, in order.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split(' ')
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("bad field {kv:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(line: &str, name: &str) -> String {
    fields(line)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

fn client_list(c: &mut Conn) -> Vec<String> {
    text(&c.cmd(&["CLIENT", "LIST"]))
        .lines()
        .map(str::to_string)
        .collect()
}

fn client_info(c: &mut Conn) -> String {
    let t = text(&c.cmd(&["CLIENT", "INFO"]));
    assert!(t.ends_with('\n'), "{t:?}");
    t.trim_end().to_string()
}

fn client_id(c: &mut Conn) -> i64 {
    c.cmd(&["CLIENT", "ID"]).int()
}

fn info_field(c: &mut Conn, name: &str) -> i64 {
    let info = text(&c.cmd(&["INFO", "clients"]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO clients has no {name}"))
}

fn wait_blocked(c: &mut Conn, n: i64) {
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(5), || {
            info_field(c, "blocked_clients") == n
        }),
        "never reached {n} blocked clients"
    );
}

/// Redis 7.0's CLIENT LIST fields, in order (7.2 appends lib-name and lib-ver).
const FIELDS: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "name",
    "age",
    "idle",
    "flags",
    "db",
    "sub",
    "psub",
    "ssub",
    "multi",
    "qbuf",
    "qbuf-free",
    "argv-mem",
    "multi-mem",
    "rbs",
    "rbp",
    "obl",
    "oll",
    "omem",
    "tot-mem",
    "events",
    "cmd",
    "user",
    "redir",
    "resp",
];

fn hello_map(r: &Reply) -> Vec<(String, Reply)> {
    match r {
        Reply::Map(m) => m.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
        Reply::Array(v) => v.chunks(2).map(|p| (p[0].text(), p[1].clone())).collect(),
        other => panic!("expected HELLO's map, got {other:?}"),
    }
}

#[test]
fn hello_replies_and_switches_protocol() {
    let s = Server::new();
    let mut c = s.conn();
    let id = client_id(&mut c);
    let r = c.cmd(&["HELLO"]);
    assert!(matches!(r, Reply::Array(ref v) if v.len() == 14), "{r:?}");
    let expect = |proto: i64| {
        vec![
            ("server".to_string(), bulk("redis")),
            ("version".to_string(), bulk("7.0.15")),
            ("proto".to_string(), int(proto)),
            ("id".to_string(), int(id)),
            ("mode".to_string(), bulk("standalone")),
            ("role".to_string(), bulk("master")),
            ("modules".to_string(), empty()),
        ]
    };
    assert_eq!(hello_map(&r), expect(2));

    let r = c.cmd(&["HELLO", "3"]);
    assert!(matches!(r, Reply::Map(_)), "{r:?}");
    assert_eq!(hello_map(&r), expect(3));
    // INFO's version is the same one.
    let info = text(&c.cmd(&["INFO", "server"]));
    assert!(info.contains("redis_version:7.0.15\r\n"), "{info}");
    assert!(field(&client_info(&mut c), "resp") == "3");

    let r = c.cmd(&[
        "hello", "2", "AUTH", "default", "anything", "SETNAME", "probe",
    ]);
    assert!(matches!(r, Reply::Array(_)), "{r:?}");
    assert_eq!(hello_map(&r), expect(2));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("probe"));
}

#[test]
fn hello_errors() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.cmd(&["HELLO", "1"]),
        err("NOPROTO unsupported protocol version")
    );
    for bad in ["x", "3.0", "", "99999999999999999999"] {
        assert_eq!(
            c.cmd(&["HELLO", bad]),
            err("ERR Protocol version is not an integer or out of range")
        );
    }
    assert_eq!(
        c.cmd(&["HELLO", "3", "foo"]),
        err("ERR Syntax error in HELLO option 'foo'")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "default"]),
        err("ERR Syntax error in HELLO option 'AUTH'")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME"]),
        err("ERR Syntax error in HELLO option 'SETNAME'")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "AUTH", "nobody", "pw"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    // None of them switched the protocol.
    assert_eq!(c.cmd(&["GET", "missing"]), Reply::Nil);
    assert!(matches!(c.cmd(&["HELLO"]), Reply::Array(_)));
    // Options apply in order: a SETNAME before a bad option stays.
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME", "kept", "bogus"]),
        err("ERR Syntax error in HELLO option 'bogus'")
    );
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("kept"));
    assert!(matches!(c.cmd(&["HELLO"]), Reply::Array(_)));
}

#[test]
fn resp3_encodings_after_hello_3() {
    let s = Server::new();
    let mut c = s.conn();
    let ks = keys_per_shard("r3", 2, 1);
    let (h, set) = (&ks[0][0], &ks[1][0]);
    assert_eq!(c.cmd(&["HSET", h, "f", "v"]), int(1));
    assert_eq!(c.cmd(&["SADD", set, "m"]), int(1));
    // RESP2 first: flat arrays.
    assert_eq!(c.cmd(&["HGETALL", h]), bulks(&["f", "v"]));
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(
        c.cmd(&["HGETALL", h]),
        Reply::Map(vec![(bulk("f"), bulk("v"))])
    );
    assert_eq!(c.cmd(&["SMEMBERS", set]), Reply::Set(vec![bulk("m")]));
    assert_eq!(c.cmd(&["GET", "missing"]), Reply::Nil);
    match c.cmd(&["CONFIG", "GET", "save"]) {
        Reply::Map(m) => assert_eq!(m.len(), 1, "{m:?}"),
        other => panic!("CONFIG GET in RESP3 is a map, got {other:?}"),
    }
    assert!(matches!(c.cmd(&["INFO", "clients"]), Reply::Verbatim(ref f, _) if f == "txt"));
    assert!(matches!(c.cmd(&["CLIENT", "LIST"]), Reply::Verbatim(ref f, _) if f == "txt"));
    assert!(matches!(c.cmd(&["CLIENT", "INFO"]), Reply::Verbatim(ref f, _) if f == "txt"));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);
    // Back to RESP2.
    assert!(matches!(c.cmd(&["HELLO", "2"]), Reply::Array(_)));
    assert_eq!(c.cmd(&["HGETALL", h]), bulks(&["f", "v"]));
}

#[test]
fn client_list_shows_every_core() {
    let s = Server::new();
    // Enough connections that both cores get some (SO_REUSEPORT spreads them).
    let mut conns: Vec<Conn> = (0..8).map(|_| s.conn()).collect();
    let mut ids = Vec::new();
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(c.cmd(&["CLIENT", "SETNAME", &format!("conn-{i}")]), ok());
        ids.push(client_id(c));
    }
    assert_eq!(conns[3].cmd(&["SELECT", "5"]), ok());
    assert_eq!(conns[3].cmd(&["PING"]), simple("PONG"));
    // Every connection, whatever its core, sees all of them.
    for (me, c) in conns.iter_mut().enumerate() {
        let lines = client_list(c);
        assert_eq!(lines.len(), 8, "{lines:#?}");
        let listed: Vec<i64> = lines
            .iter()
            .map(|l| field(l, "id").parse().unwrap())
            .collect();
        // Connection (id) order; connections accepted by different cores may get their ids
        // in another order than they connected in.
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(listed, sorted, "connection order");
        for l in &lines {
            let id: i64 = field(l, "id").parse().unwrap();
            let i = ids.iter().position(|&x| x == id).unwrap();
            let keys: Vec<String> = fields(l).into_iter().map(|(k, _)| k).collect();
            assert_eq!(&keys[..FIELDS.len()], FIELDS, "{l}");
            assert_eq!(field(l, "name"), format!("conn-{i}"));
            assert_eq!(field(l, "flags"), "N");
            assert_eq!(field(l, "user"), "default");
            assert_eq!(field(l, "laddr"), s.addr());
            assert!(field(l, "addr").starts_with("127.0.0.1:"));
            let cmd = field(l, "cmd");
            // Listing (now or earlier in this loop), else the last command before it.
            let want = if i <= me {
                "client|list"
            } else if i == 3 {
                "ping"
            } else {
                "client|id"
            };
            assert_eq!(cmd, want, "{l}");
            assert_eq!(field(l, "db"), if i == 3 { "5" } else { "0" });
        }
    }
    // ID filter: the given order, repeats included; unknown ids skipped.
    let (a, b) = (ids[6].to_string(), ids[1].to_string());
    let t = text(&conns[0].cmd(&["CLIENT", "LIST", "ID", &a, "999999", &b, &a]));
    let got: Vec<String> = t.lines().map(|l| field(l, "id")).collect();
    assert_eq!(got, vec![a.clone(), b, a]);
    let t = text(&conns[0].cmd(&["CLIENT", "LIST", "TYPE", "normal"]));
    assert_eq!(t.lines().count(), 8);
    for ty in ["master", "replica", "slave", "pubsub"] {
        assert_eq!(text(&conns[0].cmd(&["CLIENT", "LIST", "TYPE", ty])), "");
    }
    assert_eq!(
        conns[0].cmd(&["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        conns[0].cmd(&["CLIENT", "LIST", "ID", "1", "x"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(conns[0].cmd(&["CLIENT", "LIST", "foo"]), err(SYNTAX));
    assert_eq!(conns[0].cmd(&["CLIENT", "LIST", "ID"]), err(SYNTAX));

    // INFO agrees with CLIENT LIST.
    assert_eq!(info_field(&mut conns[0], "connected_clients"), 8);
    drop(conns.pop());
    assert!(wait_until(
        Duration::from_secs(10),
        Duration::from_millis(5),
        || client_list(&mut conns[0]).len() == 7
    ));
    assert!(wait_until(
        Duration::from_secs(10),
        Duration::from_millis(5),
        || info_field(&mut conns[0], "connected_clients") == 7
    ));
}

#[test]
fn client_info_reports_this_connection() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SELECT", "3"]), ok());
    let line = client_info(&mut c);
    assert_eq!(field(&line, "id"), client_id(&mut c).to_string());
    assert_eq!(field(&line, "db"), "3");
    assert_eq!(field(&line, "cmd"), "client|info");
    assert_eq!(field(&line, "resp"), "2");
    assert_eq!(field(&line, "name"), "");
    assert_eq!(field(&line, "multi"), "-1");
    assert_eq!(field(&line, "redir"), "-1");
    assert_eq!(field(&line, "events"), "r");
    assert_eq!(field(&line, "argv-mem"), "10");
    assert_eq!(field(&line, "laddr"), s.addr());
    assert_eq!(
        field(&line, "addr"),
        c.stream.local_addr().unwrap().to_string()
    );
}

#[test]
fn setname_getname_and_flags() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "worker-1"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(field(&client_info(&mut c), "name"), "worker-1");
    let bad = "ERR Client names cannot contain spaces, newlines or special characters.";
    for name in ["a b", "a\nb", "é", "a\0b"] {
        assert_eq!(c.cmd(&["CLIENT", "SETNAME", name]), err(bad));
    }
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(c.cmd(&["CLIENT", "SETNAME"]), arity_err("client|setname"));
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "e");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "off"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "N");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "maybe"]), err(SYNTAX));
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), int(-1));
    assert_eq!(
        c.cmd(&["CLIENT", "foo"]),
        err("ERR unknown subcommand 'foo'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.cmd(&["client", "Foo", "bar"]),
        err("ERR unknown subcommand 'Foo'. Try CLIENT HELP.")
    );
    assert_eq!(c.cmd(&["CLIENT"]), arity_err("client"));
    assert_eq!(c.cmd(&["CLIENT", "ID", "x"]), arity_err("client|id"));
    let help = c.cmd(&["CLIENT", "HELP"]);
    let lines = help.strings();
    assert!(lines[0].starts_with("CLIENT <subcommand>"), "{lines:?}");
    assert_eq!(lines.last().unwrap(), "    Prints this help.");
}

#[test]
fn setinfo_and_no_touch() {
    skip_on_real_redis!(); // Redis 7.2 commands; 7.0 lacks them.
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-ver", "5.0.1"]), ok());
    let line = client_info(&mut c);
    assert_eq!(field(&line, "lib-name"), "redis-py");
    assert_eq!(field(&line, "lib-ver"), "5.0.1");
    assert!(
        line.ends_with("resp=2 lib-name=redis-py lib-ver=5.0.1"),
        "{line}"
    );
    let mut other = s.conn();
    let listed = client_list(&mut other);
    assert!(listed.iter().any(|l| l.contains("lib-name=redis-py")));
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "foo", "x"]),
        err("ERR Unrecognized option 'foo'")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        err("ERR lib-name cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name"]),
        arity_err("client|setinfo")
    );
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-ver", ""]), ok());
    assert_eq!(field(&client_info(&mut c), "lib-ver"), "");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "on"]), ok());
    assert_eq!(field(&client_info(&mut c), "flags"), "T");
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(field(&client_info(&mut c), "flags"), "N");
}

#[test]
fn kill_by_id_and_addr_on_any_core() {
    let s = Server::new();
    let mut admin = s.conn();
    let mut victims: Vec<Conn> = (0..6).map(|_| s.conn()).collect();
    let ids: Vec<i64> = victims.iter_mut().map(client_id).collect();

    // By ID, each victim wherever it is served.
    for (c, id) in victims.iter_mut().zip(&ids).take(3) {
        assert_eq!(
            admin.cmd(&["CLIENT", "KILL", "ID", &id.to_string()]),
            int(1)
        );
        c.expect_closed();
    }
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &ids[0].to_string()]),
        int(0)
    );
    // By ADDR (new form), then the old form.
    let addr4 = field(&client_info(&mut victims[3]), "addr");
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ADDR", &addr4]), int(1));
    victims[3].expect_closed();
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", &addr4]),
        err("ERR No such client")
    );
    let addr5 = field(&client_info(&mut victims[4]), "addr");
    assert_eq!(admin.cmd(&["CLIENT", "KILL", &addr5]), ok());
    victims[4].expect_closed();
    // Filters combine: a wrong LADDR matches nobody.
    let id6 = ids[5].to_string();
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &id6, "LADDR", "127.0.0.1:1"]),
        int(0)
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &id6, "TYPE", "pubsub"]),
        int(0)
    );
    assert_eq!(
        admin.cmd(&[
            "CLIENT",
            "KILL",
            "ID",
            &id6,
            "LADDR",
            &s.addr(),
            "USER",
            "default",
            "TYPE",
            "normal"
        ]),
        int(1)
    );
    victims[5].expect_closed();
    assert_eq!(client_list(&mut admin).len(), 1);

    // Errors.
    assert_eq!(admin.cmd(&["CLIENT", "KILL"]), arity_err("client|kill"));
    for bad in ["0", "-1", "x"] {
        assert_eq!(
            admin.cmd(&["CLIENT", "KILL", "ID", bad]),
            err("ERR client-id should be greater than 0")
        );
    }
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "USER", "nobody"]),
        err("ERR No such user 'nobody'")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", "1", "SKIPME", "maybe"]),
        err(SYNTAX)
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", "1", "ADDR"]),
        err(SYNTAX)
    );
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "FOO", "1"]), err(SYNTAX));

    // Itself: skipped by default; with SKIPME no the reply comes, then the close.
    let me = client_id(&mut admin).to_string();
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "ID", &me]), int(0));
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "ID", &me, "SKIPME", "no"]),
        int(1)
    );
    admin.expect_closed();
}

#[test]
fn kill_all_normal_clients_and_a_blocked_one() {
    let s = Server::new();
    let mut admin = s.conn();
    let mut others: Vec<Conn> = (0..6).map(|_| s.conn()).collect();
    for c in others.iter_mut() {
        assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    }
    // One of them waits in BLPOP: killing it ends the wait and the connection.
    others[0].send_cmd(&["BLPOP", "kill-q", "0"]);
    wait_blocked(&mut admin, 1);
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "TYPE", "normal"]), int(6));
    for c in others.iter_mut() {
        c.expect_closed();
    }
    wait_blocked(&mut admin, 0);
    assert_eq!(admin.cmd(&["PING"]), simple("PONG"));
    // The list stays usable: nobody is served an element after dying.
    assert_eq!(admin.cmd(&["RPUSH", "kill-q", "x"]), int(1));
    assert_eq!(admin.cmd(&["LLEN", "kill-q"]), int(1));
}

#[test]
fn reply_off_and_skip_with_pipelining() {
    let s = Server::new();
    let mut c = s.conn();
    let ks = keys_per_shard("rq", 2, 1);
    let (a, b) = (&ks[0][0], &ks[1][0]);
    let mut p = Vec::new();
    for cmd in [
        vec!["CLIENT", "REPLY", "OFF"],
        vec!["SET", a, "1"],
        vec!["SET", b, "2"],
        vec!["GET", b],
        vec!["NOSUCHCOMMAND"],
        vec!["GET"],
        vec!["PING"],
        vec!["CLIENT", "REPLY", "SKIP"],
        vec!["CLIENT", "REPLY", "ON"],
        vec!["GET", a],
        vec!["CLIENT", "REPLY", "SKIP"],
        vec!["GET", b],
        vec!["MGET", a, b],
        vec!["CLIENT", "REPLY", "SKIP"],
        vec!["CLIENT", "REPLY", "SKIP"],
        vec!["ECHO", "skipped"],
        vec!["ECHO", "shown"],
    ] {
        encode_cmd_into(&cmd, &mut p);
    }
    c.send(&p);
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), bulk("1"));
    assert_eq!(c.read_reply(), bulks(&["1", "2"]));
    assert_eq!(c.read_reply(), bulk("shown"));
    // Nothing stray came before this one.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["MGET", a, b]), bulks(&["1", "2"]));
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "maybe"]), err(SYNTAX));

    // Off, one command at a time, then RESET turns replies back on.
    c.send_cmd(&["CLIENT", "REPLY", "OFF"]);
    c.send_cmd(&["SET", a, "3"]);
    c.send_cmd(&["GET", a]);
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["GET", a]), bulk("3"));
}

#[test]
fn pause_write_holds_writes_not_reads() {
    let s = Server::new();
    let mut admin = s.conn();
    let mut writer = s.conn();
    let mut reader = s.conn();
    let ks = keys_per_shard("pz", 2, 1);
    let (a, b) = (&ks[0][0], &ks[1][0]);
    let writer_id = client_id(&mut writer).to_string();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "60000", "WRITE"]), ok());
    // A pipelined read before the write still answers at once; the write waits.
    writer.send_cmd(&["GET", a]);
    writer.send_cmd(&["SET", a, "1"]);
    writer.send_cmd(&["GET", a]);
    assert_eq!(writer.read_reply(), nil());
    wait_blocked(&mut admin, 1);
    let t = text(&admin.cmd(&["CLIENT", "LIST", "ID", &writer_id]));
    assert_eq!(field(t.trim_end(), "flags"), "b");
    // Reads (and other commands) go on, on both shards.
    for _ in 0..3 {
        assert_eq!(reader.cmd(&["GET", a]), nil());
        assert_eq!(reader.cmd(&["GET", b]), nil());
        assert_eq!(reader.cmd(&["PING"]), simple("PONG"));
    }
    // A write from another client waits too.
    reader.send_cmd(&["SET", b, "2"]);
    wait_blocked(&mut admin, 2);
    assert_eq!(admin.cmd(&["GET", b]), nil());
    assert_eq!(admin.cmd(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(writer.read_reply(), ok());
    assert_eq!(writer.read_reply(), bulk("1"));
    assert_eq!(reader.read_reply(), ok());
    assert_eq!(admin.cmd(&["GET", b]), bulk("2"));
    wait_blocked(&mut admin, 0);

    // Errors reply at once.
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "x"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "10", "foo"]),
        err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "10", "ALL", "x"]),
        err("ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
    );
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE"]), arity_err("client|pause"));
}

#[test]
fn pause_all_holds_every_command_until_the_deadline() {
    let s = Server::new();
    let mut admin = s.conn();
    let mut other = s.conn();
    let t0 = Instant::now();
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "400", "ALL"]), ok());
    other.send_cmd(&["PING"]);
    // Unknown commands are rejected without waiting.
    assert_eq!(
        admin.cmd(&["NOSUCHCOMMAND"]),
        err("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ")
    );
    assert_eq!(other.read_reply(), simple("PONG"));
    assert!(
        t0.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(admin.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn unblock_a_blocked_client() {
    let s = Server::new();
    let mut admin = s.conn();
    let ks = keys_per_shard("ub", 2, 1);
    let (a, b) = (&ks[0][0], &ks[1][0]);
    let mut waiters: Vec<Conn> = (0..4).map(|_| s.conn()).collect();
    let ids: Vec<String> = waiters
        .iter_mut()
        .map(|c| client_id(c).to_string())
        .collect();
    assert!(matches!(waiters[3].cmd(&["HELLO", "3"]), Reply::Map(_)));
    for w in waiters.iter_mut() {
        w.send_cmd(&["BLPOP", a, b, "0"]);
    }
    wait_blocked(&mut admin, 4);
    let t = text(&admin.cmd(&["CLIENT", "LIST", "ID", &ids[0]]));
    assert_eq!(field(t.trim_end(), "flags"), "b");
    assert_eq!(field(t.trim_end(), "cmd"), "blpop");
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &ids[0]]), int(1));
    assert_eq!(waiters[0].read_reply(), Reply::NilArray);
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", &ids[1], "TIMEOUT"]),
        int(1)
    );
    assert_eq!(waiters[1].read_reply(), Reply::NilArray);
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &ids[2], "error"]), int(1));
    assert_eq!(
        waiters[2].read_reply(),
        err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    );
    // RESP3: the timeout reply is a null.
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &ids[3]]), int(1));
    assert_eq!(waiters[3].read_reply(), Reply::Nil);
    wait_blocked(&mut admin, 0);
    // Unblocked clients go on as usual; a client not blocked is not unblocked.
    for w in waiters.iter_mut() {
        assert_eq!(w.cmd(&["PING"]), simple("PONG"));
    }
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &ids[0]]), int(0));
    assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", "999999"]), int(0));
    // Nothing was lost: a push now stays in the list.
    assert_eq!(admin.cmd(&["RPUSH", a, "x"]), int(1));
    assert_eq!(admin.cmd(&["LLEN", a]), int(1));

    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", "1", "foo"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    assert_eq!(
        admin.cmd(&["CLIENT", "UNBLOCK", "1", "2", "3"]),
        err("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.")
    );
}

#[test]
fn reset_restores_a_fresh_connection() {
    let s = Server::new();
    let mut c = s.conn();
    assert!(matches!(c.cmd(&["HELLO", "3"]), Reply::Map(_)));
    assert_eq!(c.cmd(&["SELECT", "4"]), ok());
    assert_eq!(c.cmd(&["SET", "rk", "in-4"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "before"]), ok());
    assert_eq!(c.cmd(&["RESET"]), simple("RESET"));
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), nil());
    assert_eq!(c.cmd(&["GET", "rk"]), nil());
    assert!(matches!(c.cmd(&["HELLO"]), Reply::Array(_)));
    let line = client_info(&mut c);
    assert_eq!(field(&line, "db"), "0");
    assert_eq!(field(&line, "resp"), "2");
    assert_eq!(c.cmd(&["RESET", "x"]), arity_err("reset"));
}

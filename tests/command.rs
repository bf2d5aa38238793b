//! COMMAND and its subcommands: the shapes Redis 7.0 gives (COMMAND INFO entries, COMMAND DOCS
//! maps, key specs), GETKEYS results and errors. Structural assertions only, so they hold for
//! real Redis too (`REDIS_LITE_TEST_REDIS=1`); summaries are our own words and are not compared.

mod common;

use common::*;

/// A map reply's value for `key`: a RESP3 map, or a RESP2 flat array of pairs.
fn field<'r>(r: &'r Reply, key: &str) -> Option<&'r Reply> {
    match r {
        Reply::Map(pairs) => pairs.iter().find(|(k, _)| k.text() == key).map(|(_, v)| v),
        Reply::Array(v) => v
            .chunks(2)
            .find(|p| p.len() == 2 && p[0].text() == key)
            .map(|p| &p[1]),
        other => panic!("expected a map, got {other:?}"),
    }
}

fn get<'r>(r: &'r Reply, key: &str) -> &'r Reply {
    field(r, key).unwrap_or_else(|| panic!("no {key:?} in {r:?}"))
}

/// The keys of a map reply, in order.
fn keys(r: &Reply) -> Vec<String> {
    match r {
        Reply::Map(pairs) => pairs.iter().map(|(k, _)| k.text()).collect(),
        Reply::Array(v) => v.chunks(2).map(|p| p[0].text()).collect(),
        other => panic!("expected a map, got {other:?}"),
    }
}

fn texts(r: &Reply) -> Vec<String> {
    r.strings()
}

fn has_all(r: &Reply, want: &[&str]) {
    let got = texts(r);
    for w in want {
        assert!(got.iter().any(|g| g == w), "{w:?} missing from {got:?}");
    }
}

/// The one COMMAND INFO entry for `name`.
fn info(c: &mut Conn, name: &str) -> Reply {
    let r = c.cmd(&["COMMAND", "INFO", name]);
    let items = r.items();
    assert_eq!(items.len(), 1);
    items[0].clone()
}

/// The argument named `name` in an argument list.
fn arg<'r>(args: &'r Reply, name: &str) -> &'r Reply {
    args.items()
        .iter()
        .find(|a| get(a, "name").text() == name)
        .unwrap_or_else(|| panic!("no argument {name:?} in {args:?}"))
}

/// Checks one key spec: flags, `index` begin search, `range` find keys.
fn assert_range_spec(spec: &Reply, flags: &[&str], index: i64, lastkey: i64, keystep: i64) {
    let mut got = texts(get(spec, "flags"));
    got.sort();
    let mut want: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "key spec flags of {spec:?}");
    let bs = get(spec, "begin_search");
    assert_eq!(get(bs, "type").text(), "index");
    assert_eq!(get(get(bs, "spec"), "index").int(), index);
    let fk = get(spec, "find_keys");
    assert_eq!(get(fk, "type").text(), "range");
    let s = get(fk, "spec");
    assert_eq!(get(s, "lastkey").int(), lastkey);
    assert_eq!(get(s, "keystep").int(), keystep);
    assert_eq!(get(s, "limit").int(), 0);
}

#[test]
fn count_matches_every_listing() {
    let s = Server::new();
    let mut c = s.conn();
    let count = c.cmd(&["COMMAND", "COUNT"]).int();
    let all = c.cmd(&["COMMAND"]);
    assert_eq!(all.items().len() as i64, count);
    assert_eq!(c.cmd(&["COMMAND", "INFO"]).items().len() as i64, count);
    assert_eq!(keys(&c.cmd(&["COMMAND", "DOCS"])).len() as i64, count);
    let list = texts(&c.cmd(&["COMMAND", "LIST"]));
    let top = list.iter().filter(|n| !n.contains('|')).count();
    assert_eq!(top as i64, count);
    // Every COMMAND entry is a 10-element array named as in COMMAND LIST.
    for e in all.items() {
        let e = e.items();
        assert_eq!(e.len(), 10, "{e:?}");
        assert!(list.contains(&e[0].text()));
    }
}

#[test]
fn count_is_the_table() {
    skip_on_real_redis!();
    let s = Server::new();
    let mut c = s.conn();
    let visible = redis_lite::cmd::table()
        .iter()
        .filter(|t| t.flags & redis_lite::cmd::flags::INTERNAL == 0)
        .count();
    assert_eq!(c.cmd(&["COMMAND", "COUNT"]).int(), visible as i64);
    // Every command has docs with a summary, a version and a group.
    let docs = c.cmd(&["COMMAND", "DOCS"]);
    for name in keys(&docs) {
        let d = get(&docs, &name);
        for k in ["summary", "since", "group", "complexity"] {
            assert!(!get(d, k).text().is_empty(), "{name}: {k}");
        }
    }
}

#[test]
fn info_entries_have_redis_shapes() {
    let s = Server::new();
    let mut c = s.conn();

    let e = info(&mut c, "get");
    let e = e.items();
    assert_eq!(e[0], bulk("get"));
    assert_eq!(e[1], int(2));
    has_all(&e[2], &["readonly", "fast"]);
    assert_eq!(&e[3..6], &[int(1), int(1), int(1)]);
    has_all(&e[6], &["@read", "@string", "@fast"]);
    assert!(e[7].items().is_empty(), "tips");
    assert_eq!(e[8].items().len(), 1);
    assert_range_spec(&e[8].items()[0], &["RO", "access"], 1, 0, 1);
    assert!(e[9].items().is_empty(), "subcommands");
    // Flags and categories are simple strings.
    assert!(matches!(e[2].items()[0], Reply::Simple(_)));
    assert!(matches!(e[6].items()[0], Reply::Simple(_)));

    let e = info(&mut c, "SET");
    let e = e.items();
    assert_eq!(e[0], bulk("set"));
    assert_eq!(e[1], int(-3));
    has_all(&e[2], &["write", "denyoom"]);
    assert_eq!(&e[3..6], &[int(1), int(1), int(1)]);
    has_all(&e[6], &["@write", "@string", "@slow"]);
    let spec = &e[8].items()[0];
    let mut fl = texts(get(spec, "flags"));
    fl.sort();
    assert_eq!(fl, ["RW", "access", "update", "variable_flags"]);

    let e = info(&mut c, "zadd");
    let e = e.items();
    assert_eq!(e[1], int(-4));
    has_all(&e[2], &["write", "denyoom", "fast"]);
    has_all(&e[6], &["@write", "@sortedset", "@fast"]);
    assert_range_spec(&e[8].items()[0], &["RW", "update"], 1, 0, 1);

    let e = info(&mut c, "blpop");
    let e = e.items();
    assert_eq!(e[1], int(-3));
    has_all(&e[2], &["write", "blocking"]);
    assert_eq!(&e[3..6], &[int(1), int(-2), int(1)]);
    has_all(&e[6], &["@write", "@list", "@blocking"]);
    assert_range_spec(&e[8].items()[0], &["RW", "access", "delete"], 1, -2, 1);

    // numkeys commands: movable keys, a keynum spec, no legacy range.
    let e = info(&mut c, "zunionstore");
    let e = e.items();
    has_all(&e[2], &["movablekeys"]);
    assert_eq!(&e[3..6], &[int(1), int(1), int(1)]);
    let specs = e[8].items();
    assert_eq!(specs.len(), 2);
    assert_range_spec(&specs[0], &["OW", "update"], 1, 0, 1);
    let fk = get(&specs[1], "find_keys");
    assert_eq!(get(fk, "type").text(), "keynum");
    let s = get(fk, "spec");
    assert_eq!(
        (
            get(s, "keynumidx").int(),
            get(s, "firstkey").int(),
            get(s, "keystep").int()
        ),
        (0, 1, 1)
    );

    // Unknown names are nil, in place.
    let r = c.cmd(&["COMMAND", "INFO", "get", "no-such-command", "__sset-inter"]);
    let r = r.items();
    assert_eq!(r.len(), 3);
    assert_eq!(r[1], nil());
    assert_eq!(r[2], nil());
}

#[test]
fn containers_report_their_subcommands() {
    let s = Server::new();
    let mut c = s.conn();
    for (container, sub, arity) in [
        ("config", "config|get", -3),
        ("client", "client|list", -2),
        ("object", "object|encoding", 3),
        ("command", "command|docs", -2),
    ] {
        let e = info(&mut c, container);
        let e = e.items();
        assert_eq!(&e[3..6], &[int(0), int(0), int(0)], "{container}");
        let subs = e[9].items();
        let s = subs
            .iter()
            .find(|s| s.items()[0].text() == sub)
            .unwrap_or_else(|| panic!("{sub} missing from {container}"));
        assert_eq!(s.items().len(), 10);
        assert_eq!(s.items()[1], int(arity), "{sub}");
        // Subcommands are found by their full name too, case-insensitively.
        let direct = info(&mut c, &sub.to_uppercase());
        assert_eq!(&direct, s);
    }
    let e = info(&mut c, "object|encoding");
    assert_eq!(&e.items()[3..6], &[int(2), int(2), int(1)]);
    let r = c.cmd(&["COMMAND", "INFO", "config|nope", "get|x", "config|get|x"]);
    assert_eq!(r, arr(vec![nil(), nil(), nil()]));
}

#[test]
fn resp3_types() {
    let s = Server::new();
    let mut c = s.conn();
    c.cmd(&["HELLO", "3"]);
    let e = info(&mut c, "get");
    let e = e.items();
    assert!(matches!(e[2], Reply::Set(_)), "flags: {:?}", e[2]);
    assert!(matches!(e[6], Reply::Set(_)), "acl: {:?}", e[6]);
    assert!(matches!(e[8], Reply::Set(_)), "key specs: {:?}", e[8]);
    assert!(matches!(e[8].items()[0], Reply::Map(_)));
    assert!(matches!(e[9], Reply::Set(_)), "no subcommands: {:?}", e[9]);
    let r = c.cmd(&["COMMAND", "INFO", "nope"]);
    assert_eq!(r, arr(vec![nil()]));
    let d = c.cmd(&["COMMAND", "DOCS", "set"]);
    assert!(matches!(d, Reply::Map(_)));
    let set = get(&d, "set");
    assert!(matches!(set, Reply::Map(_)));
    let ex = arg(get(set, "arguments"), "expiration");
    assert!(matches!(get(ex, "flags"), Reply::Set(_)));
    let e = info(&mut c, "config");
    assert!(
        matches!(e.items()[9], Reply::Array(_)),
        "subcommands are an array"
    );
}

#[test]
fn docs_for_set() {
    let s = Server::new();
    let mut c = s.conn();
    let r = c.cmd(&["COMMAND", "DOCS", "set"]);
    assert_eq!(keys(&r), ["set"]);
    let d = get(&r, "set");
    assert_eq!(get(d, "group").text(), "string");
    assert_eq!(get(d, "since").text(), "1.0.0");
    assert!(!get(d, "summary").text().is_empty());
    assert!(!get(d, "complexity").text().is_empty());
    let args = get(d, "arguments");
    let key = arg(args, "key");
    assert_eq!(get(key, "type").text(), "key");
    assert_eq!(get(key, "key_spec_index").int(), 0);
    assert_eq!(get(arg(args, "value"), "type").text(), "string");

    let cond = arg(args, "condition");
    assert_eq!(get(cond, "type").text(), "oneof");
    assert_eq!(texts(get(cond, "flags")), ["optional"]);
    let toks: Vec<String> = get(cond, "arguments")
        .items()
        .iter()
        .map(|a| get(a, "token").text())
        .collect();
    assert_eq!(toks, ["NX", "XX"]);

    let g = arg(args, "get");
    assert_eq!(get(g, "type").text(), "pure-token");
    assert_eq!(get(g, "token").text(), "GET");

    let exp = arg(args, "expiration");
    assert_eq!(get(exp, "type").text(), "oneof");
    assert_eq!(texts(get(exp, "flags")), ["optional"]);
    let parts = get(exp, "arguments");
    for (name, ty, tok) in [
        ("seconds", "integer", "EX"),
        ("milliseconds", "integer", "PX"),
        ("unix-time-seconds", "unix-time", "EXAT"),
        ("unix-time-milliseconds", "unix-time", "PXAT"),
        ("keepttl", "pure-token", "KEEPTTL"),
    ] {
        let a = arg(parts, name);
        assert_eq!(get(a, "type").text(), ty, "{name}");
        assert_eq!(get(a, "token").text(), tok, "{name}");
    }
    // No arguments field for a command without arguments.
    let r = c.cmd(&["COMMAND", "DOCS", "dbsize"]);
    assert!(field(get(&r, "dbsize"), "arguments").is_none());
}

#[test]
fn docs_lookup_and_nesting() {
    let s = Server::new();
    let mut c = s.conn();
    // Unknown names are left out.
    assert_eq!(
        keys(&c.cmd(&["COMMAND", "DOCS", "no-such"])),
        Vec::<String>::new()
    );
    let r = c.cmd(&["COMMAND", "DOCS", "nope", "GET", "config|get"]);
    assert_eq!(keys(&r), ["get", "config|get"]);
    // A container's docs nest its subcommands' docs.
    let r = c.cmd(&["COMMAND", "DOCS", "client"]);
    let subs = get(get(&r, "client"), "subcommands");
    assert!(keys(subs).contains(&"client|list".to_string()));
    assert_eq!(get(get(subs, "client|list"), "group").text(), "connection");
    // Deprecated commands say so.
    let r = c.cmd(&["COMMAND", "DOCS", "getset"]);
    let d = get(&r, "getset");
    assert_eq!(texts(get(d, "doc_flags")), ["deprecated"]);
    assert_eq!(get(d, "deprecated_since").text(), "6.2.0");
    assert!(!get(d, "replaced_by").text().is_empty());
    // Keys spread over key specs: ZUNIONSTORE's destination and sources.
    let r = c.cmd(&["COMMAND", "DOCS", "zunionstore"]);
    let args = get(get(&r, "zunionstore"), "arguments");
    assert_eq!(get(arg(args, "destination"), "key_spec_index").int(), 0);
    let k = arg(args, "key");
    assert_eq!(get(k, "key_spec_index").int(), 1);
    assert_eq!(texts(get(k, "flags")), ["multiple"]);
}

#[test]
fn getkeys() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "SET", "k", "v"]),
        bulks(&["k"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        c.cmd(&[
            "COMMAND",
            "GETKEYS",
            "zunionstore",
            "d",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2"
        ]),
        bulks(&["d", "a", "b"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "lmpop", "2", "a", "b", "LEFT", "COUNT", "2"]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "blpop", "a", "b", "0"]),
        bulks(&["a", "b"])
    );
    // SORT: the sorted key and the last STORE's destination; BY/GET/LIMIT arguments skipped.
    assert_eq!(
        c.cmd(&[
            "COMMAND", "GETKEYS", "sort", "src", "BY", "store", "LIMIT", "0", "1", "GET", "#",
            "STORE", "d1", "STORE", "d2"
        ]),
        bulks(&["src", "d2"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "sort", "src", "ALPHA", "STORE"]),
        bulks(&["src"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "sort_ro", "src", "BY", "x"]),
        bulks(&["src"])
    );
    assert_eq!(
        c.cmd(&[
            "COMMAND",
            "GETKEYS",
            "sintercard",
            "2",
            "a",
            "b",
            "LIMIT",
            "1"
        ]),
        bulks(&["a", "b"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "object", "encoding", "k"]),
        bulks(&["k"])
    );

    let flags = |r: &Reply| -> Vec<(String, Vec<String>)> {
        r.items()
            .iter()
            .map(|p| {
                let mut f = texts(&p.items()[1]);
                f.sort();
                (p.items()[0].text(), f)
            })
            .collect()
    };
    let v = |k: &str, f: &[&str]| (k.to_string(), f.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        flags(&c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"])),
        [v("k", &["OW", "update"])]
    );
    assert_eq!(
        flags(&c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "get"])),
        [v("k", &["RW", "access", "update"])]
    );
    assert_eq!(
        flags(&c.cmd(&[
            "COMMAND",
            "GETKEYSANDFLAGS",
            "lmove",
            "a",
            "b",
            "left",
            "right"
        ])),
        [
            v("a", &["RW", "access", "delete"]),
            v("b", &["RW", "insert"])
        ]
    );
}

#[test]
fn getkeys_errors() {
    let s = Server::new();
    let mut c = s.conn();
    let e = |c: &mut Conn, args: &[&str]| c.cmd(args);
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "no-such", "x"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "object", "nope", "k"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "ping", "x"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "config", "get", "x"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "get", "a", "b"]),
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        e(
            &mut c,
            &["COMMAND", "GETKEYS", "zunionstore", "d", "0", "a"]
        ),
        err("ERR Invalid arguments specified for command")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "lmpop", "3", "a", "left"]),
        err("ERR Invalid arguments specified for command")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "get"]),
        arity_err("command|getkeys")
    );
    assert_eq!(
        e(&mut c, &["COMMAND", "GETKEYS", "__sset-inter", "k"]),
        err("ERR Invalid command specified")
    );
}

#[test]
fn list_filters() {
    let s = Server::new();
    let mut c = s.conn();
    let all = texts(&c.cmd(&["COMMAND", "LIST"]));
    for n in ["get", "set", "config", "config|get", "command|docs"] {
        assert!(all.contains(&n.to_string()), "{n}");
    }
    let mut stores = texts(&c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "Z*STORE"]));
    stores.sort();
    assert_eq!(
        stores,
        ["zdiffstore", "zinterstore", "zrangestore", "zunionstore"]
    );
    let cfg = texts(&c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*"]));
    assert!(cfg.contains(&"config|get".to_string()));
    assert!(cfg.iter().all(|n| n.starts_with("config|")));

    let hash = texts(&c.cmd(&["command", "list", "filterby", "aclcat", "HASH"]));
    assert!(hash.contains(&"hset".to_string()) && hash.contains(&"hgetall".to_string()));
    let infos = c.cmd(
        &[
            &["COMMAND", "INFO"][..],
            &hash.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    for e in infos.items() {
        has_all(&e.items()[6], &["@hash"]);
    }
    let blocking = texts(&c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "blocking"]));
    assert!(blocking.contains(&"blpop".to_string()));
    assert!(!blocking.contains(&"lpop".to_string()));

    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "no-such-category"]),
        empty()
    );
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "nomodule"]),
        empty()
    );
    for bad in [
        &["COMMAND", "LIST", "x"][..],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"],
        &["COMMAND", "LIST", "FILTERBY", "NOPE", "a"],
    ] {
        assert_eq!(c.cmd(bad), err(SYNTAX), "{bad:?}");
    }
}

#[test]
fn internal_commands_never_appear() {
    let s = Server::new();
    let mut c = s.conn();
    let list = texts(&c.cmd(&["COMMAND", "LIST"]));
    assert!(list.iter().all(|n| !n.starts_with("__")), "{list:?}");
    for e in c.cmd(&["COMMAND"]).items() {
        assert!(!e.items()[0].text().starts_with("__"));
    }
    let docs = keys(&c.cmd(&["COMMAND", "DOCS"]));
    assert!(docs.iter().all(|n| !n.starts_with("__")));
    let internal = c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "__*"]);
    assert_eq!(internal, empty());
    assert_eq!(
        c.cmd(&["COMMAND", "DOCS", "__sset-inter"]),
        c.cmd(&["COMMAND", "DOCS", "no-such"])
    );
}

#[test]
fn help_and_errors() {
    let s = Server::new();
    let mut c = s.conn();
    let h = c.cmd(&["COMMAND", "HELP"]);
    let lines = texts(&h);
    assert!(lines[0].starts_with("COMMAND <subcommand>"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("GETKEYS")));
    assert!(matches!(h.items()[0], Reply::Simple(_)));
    assert_eq!(
        c.cmd(&["COMMAND", "foo"]),
        err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")
    );
    assert_eq!(
        c.cmd(&["command", "foo", "bar"]),
        err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "COUNT", "x"]),
        arity_err("command|count")
    );
    assert_eq!(c.cmd(&["COMMAND", "HELP", "x"]), arity_err("command|help"));
    // The connection is still fine.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

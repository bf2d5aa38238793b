//! Keyspace commands (EXISTS, DEL, TYPE, TTLs, KEYS, DBSIZE, FLUSH*) and the connection/server
//! commands (PING, ECHO, SELECT, QUIT, CONFIG GET): replies and errors exactly as Redis 7.0.

mod common;

use common::*;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn sorted(r: Reply) -> Vec<String> {
    let mut v = r.strings();
    v.sort();
    v
}

#[test]
fn exists_counts_repeats() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["EXISTS", "a"]), int(0));
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l", "x"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "a"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "a", "b", "l", "nokey"]), int(3));
    assert_eq!(c.cmd(&["EXISTS", "a", "a", "a", "nokey", "nokey"]), int(3));
    assert_eq!(c.cmd(&["EXISTS"]), arity_err("exists"));
}

#[test]
fn del_and_unlink() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l", "x", "y"]), int(2));
    assert_eq!(c.cmd(&["DEL", "nokey"]), int(0));
    assert_eq!(c.cmd(&["DEL", "a", "l", "nokey"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "a", "l"]), int(0));
    // A key repeated in one DEL is deleted (and counted) once.
    assert_eq!(c.cmd(&["DEL", "b", "b"]), int(1));
    assert_eq!(c.cmd(&["UNLINK", "c", "c", "nokey"]), int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["DEL"]), arity_err("del"));
    assert_eq!(c.cmd(&["UNLINK"]), arity_err("unlink"));
    // DEL of a volatile key; the name is free again.
    assert_eq!(c.cmd(&["SET", "v", "1", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["DEL", "v"]), int(1));
    assert_eq!(c.cmd(&["SET", "v", "2"]), ok());
    assert_eq!(c.cmd(&["TTL", "v"]), int(-1));
}

#[test]
fn type_command() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "s", "1"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l", "1"]), int(1));
    assert_eq!(c.cmd(&["TYPE", "s"]), simple("string"));
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("list"));
    assert_eq!(c.cmd(&["TYPE", "nokey"]), simple("none"));
    assert_eq!(c.cmd(&["TYPE"]), arity_err("type"));
}

#[test]
fn ttl_and_pttl() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["TTL", "nokey"]), int(-2));
    assert_eq!(c.cmd(&["PTTL", "nokey"]), int(-2));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["TTL", "k"]), int(-1));
    assert_eq!(c.cmd(&["PTTL", "k"]), int(-1));
    assert_eq!(c.cmd(&["PEXPIRE", "k", "100500"]), int(1));
    let t = c.cmd(&["TTL", "k"]).int();
    // TTL rounds to the nearest second.
    assert!((100..=101).contains(&t), "ttl {t}");
    let p = c.cmd(&["PTTL", "k"]).int();
    assert!((99_000..=100_500).contains(&p), "pttl {p}");
    assert_eq!(c.cmd(&["TTL"]), arity_err("ttl"));
}

#[test]
fn expire_family_basics() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["EXPIRE", "nokey", "100"]), int(0));
    assert_eq!(c.cmd(&["PEXPIRE", "nokey", "100"]), int(0));
    assert_eq!(c.cmd(&["EXPIREAT", "nokey", "99999999999"]), int(0));
    assert_eq!(c.cmd(&["PEXPIREAT", "nokey", "99999999999"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["EXPIRE", "k", "100"]), int(1));
    let t = c.cmd(&["TTL", "k"]).int();
    assert!((99..=100).contains(&t), "ttl {t}");
    assert_eq!(c.cmd(&["PEXPIRE", "k", "200000"]), int(1));
    let p = c.cmd(&["PTTL", "k"]).int();
    assert!((198_000..=200_000).contains(&p), "pttl {p}");
    let at = now_ms() / 1000 + 1000;
    assert_eq!(c.cmd(&["EXPIREAT", "k", &at.to_string()]), int(1));
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int(at));
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(at * 1000));
    let pat = now_ms() + 2_000_000;
    assert_eq!(c.cmd(&["PEXPIREAT", "k", &pat.to_string()]), int(1));
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(pat));
    // EXPIRETIME rounds the millisecond deadline to the nearest second (as TTL does).
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int((pat + 500) / 1000));
    // The value is untouched.
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    // A time in the past (or a non-positive TTL) deletes the key and still replies 1.
    assert_eq!(c.cmd(&["EXPIRE", "k", "-1"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["PEXPIRE", "k", "0"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["EXPIREAT", "k", "1"]), int(1));
    assert_eq!(c.cmd(&["GET", "k"]), nil());
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["PEXPIREAT", "l", "1"]), int(1));
    assert_eq!(c.cmd(&["LLEN", "l"]), int(0));
    // Errors.
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["EXPIRE", "k", "abc"]), err(NOT_INT));
    assert_eq!(c.cmd(&["EXPIRE", "k", "1.5"]), err(NOT_INT));
    assert_eq!(c.cmd(&["PEXPIREAT", "k", "x"]), err(NOT_INT));
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "9223372036854775807"]),
        err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(
        c.cmd(&["PEXPIRE", "k", "9223372036854775807"]),
        err("ERR invalid expire time in 'pexpire' command")
    );
    assert_eq!(
        c.cmd(&["EXPIREAT", "k", "9223372036854775807"]),
        err("ERR invalid expire time in 'expireat' command")
    );
    assert_eq!(c.cmd(&["TTL", "k"]), int(-1));
    assert_eq!(c.cmd(&["EXPIRE", "k"]), arity_err("expire"));
    assert_eq!(c.cmd(&["PEXPIREAT", "k"]), arity_err("pexpireat"));
}

#[test]
fn expire_options_nx_xx_gt_lt() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    // No TTL yet: XX and GT fail, NX and LT succeed (no TTL counts as infinite).
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(c.cmd(&["TTL", "k"]), int(-1));
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "NX"]), int(1));
    assert_eq!(c.cmd(&["EXPIRE", "k", "200", "NX"]), int(0));
    assert!(c.cmd(&["TTL", "k"]).int() <= 100);
    assert_eq!(c.cmd(&["EXPIRE", "k", "200", "XX"]), int(1));
    assert!(c.cmd(&["TTL", "k"]).int() > 100);
    assert_eq!(c.cmd(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "300", "gt"]), int(1));
    assert!(c.cmd(&["TTL", "k"]).int() > 200);
    assert_eq!(c.cmd(&["EXPIRE", "k", "400", "LT"]), int(0));
    assert_eq!(c.cmd(&["PEXPIRE", "k", "50000", "lt"]), int(1));
    assert!(c.cmd(&["TTL", "k"]).int() <= 50);
    // XX combines with GT/LT.
    assert_eq!(c.cmd(&["EXPIRE", "k", "1000", "XX", "GT"]), int(1));
    assert!(c.cmd(&["TTL", "k"]).int() > 900);
    assert_eq!(c.cmd(&["SET", "p", "v"]), ok());
    assert_eq!(c.cmd(&["EXPIRE", "p", "100", "XX", "LT"]), int(0));
    assert_eq!(c.cmd(&["EXPIRE", "p", "100", "LT"]), int(1));
    let far = now_ms() / 1000 + 5000;
    assert_eq!(c.cmd(&["EXPIREAT", "p", &far.to_string(), "GT"]), int(1));
    assert_eq!(c.cmd(&["EXPIRETIME", "p"]), int(far));
    assert_eq!(
        c.cmd(&["PEXPIREAT", "p", &(far * 1000 - 1).to_string(), "GT"]),
        int(0)
    );
    assert_eq!(
        c.cmd(&["PEXPIREAT", "nokey", "99999999999999", "NX"]),
        int(0)
    );
    // Option errors.
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "100", "NX", "XX"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "100", "NX", "GT"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        c.cmd(&["PEXPIRE", "k", "100", "GT", "LT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "100", "FOO"]),
        err("ERR Unsupported option FOO")
    );
    assert!(c.cmd(&["TTL", "k"]).int() > 900);
}

#[test]
fn persist() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PERSIST", "nokey"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["PERSIST", "k"]), int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "100"]), int(1));
    assert_eq!(c.cmd(&["PERSIST", "k"]), int(1));
    assert_eq!(c.cmd(&["TTL", "k"]), int(-1));
    assert_eq!(c.cmd(&["PERSIST", "k"]), int(0));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["PERSIST"]), arity_err("persist"));
}

#[test]
fn expiretime_and_pexpiretime() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["EXPIRETIME", "nokey"]), int(-2));
    assert_eq!(c.cmd(&["PEXPIRETIME", "nokey"]), int(-2));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int(-1));
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(-1));
    let before = now_ms();
    assert_eq!(c.cmd(&["PEXPIRE", "k", "100000"]), int(1));
    let after = now_ms();
    let p = c.cmd(&["PEXPIRETIME", "k"]).int();
    assert!(
        (before + 100_000..=after + 100_000).contains(&p),
        "pexpiretime {p} not within [{}, {}]",
        before + 100_000,
        after + 100_000
    );
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int((p + 500) / 1000));
    assert_eq!(c.cmd(&["EXPIRETIME"]), arity_err("expiretime"));
}

#[test]
fn dbsize_flushdb_flushall() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    for i in 0..50 {
        assert_eq!(
            c.cmd(&["SET".to_string(), format!("k{i}"), "v".into()]),
            ok()
        );
    }
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), int(51));
    assert_eq!(c.cmd(&["DBSIZE", "x"]), arity_err("dbsize"));
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["SET", "other", "v"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["FLUSHDB"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["GET", "k1"]), nil());
    // FLUSHDB touched db 0 only.
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    // SYNC/ASYNC modifiers.
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["FLUSHDB", "ASYNC"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["FLUSHDB", "sync"]), ok());
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL", "SYNC"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["FLUSHDB", "foo"]), err(SYNTAX));
    assert_eq!(c.cmd(&["FLUSHALL", "foo"]), err(SYNTAX));
    // Volatile keys count in DBSIZE until they expire.
    assert_eq!(c.cmd(&["SET", "v", "1", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
}

#[test]
fn keys_patterns() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["KEYS", "*"]), empty());
    assert_eq!(
        c.cmd(&[
            "MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5", "foo",
            "6", "f*o", "7", "a?b", "8",
        ]),
        ok()
    );
    assert_eq!(c.cmd(&["RPUSH", "list", "x"]), int(1));
    assert_eq!(
        sorted(c.cmd(&["KEYS", "*"])),
        vec!["a?b", "f*o", "foo", "hallo", "heeeello", "hello", "hllo", "hxllo", "list"]
    );
    assert_eq!(
        sorted(c.cmd(&["KEYS", "h?llo"])),
        vec!["hallo", "hello", "hxllo"]
    );
    assert_eq!(
        sorted(c.cmd(&["KEYS", "h*llo"])),
        vec!["hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(sorted(c.cmd(&["KEYS", "h[ae]llo"])), vec!["hallo", "hello"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "h[^e]llo"])), vec!["hallo", "hxllo"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "h[a-b]llo"])), vec!["hallo"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "f\\*o"])), vec!["f*o"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "a\\?b"])), vec!["a?b"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "foo"])), vec!["foo"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "nomatch*"])), Vec::<String>::new());
    // Expired keys are not listed; other databases are not listed.
    assert_eq!(c.cmd(&["SET", "gone", "1", "PXAT", "1"]), ok());
    assert_eq!(c.cmd(&["SELECT", "3"]), ok());
    assert_eq!(c.cmd(&["SET", "hello3", "1"]), ok());
    assert_eq!(sorted(c.cmd(&["KEYS", "*"])), vec!["hello3"]);
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["KEYS", "gone"]), empty());
    assert_eq!(c.cmd(&["KEYS"]), arity_err("keys"));
}

#[test]
fn many_keys_listed_and_counted() {
    let s = Server::new();
    let mut c = s.conn();
    let mut args = vec!["MSET".to_string()];
    for i in 0..500 {
        args.push(format!("key:{i}"));
        args.push(i.to_string());
    }
    assert_eq!(c.cmd(&args), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(500));
    let keys = sorted(c.cmd(&["KEYS", "key:*"]));
    let mut want: Vec<String> = (0..500).map(|i| format!("key:{i}")).collect();
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(c.cmd(&["KEYS", "key:1?"]).items().len(), 10);
}

#[test]
fn ping_and_echo() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["ping", "hello world"]), bulk("hello world"));
    assert_eq!(c.cmd(&["PING", ""]), bulk(""));
    assert_eq!(c.cmd(&["PING", "a", "b"]), arity_err("ping"));
    assert_eq!(c.cmd(&["ECHO", "x y\r\nz"]), bulk("x y\r\nz"));
    assert_eq!(c.cmd(&["ECHO"]), arity_err("echo"));
    assert_eq!(c.cmd(&["ECHO", "a", "b"]), arity_err("echo"));
}

#[test]
fn select_isolates_databases() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "db0"]), ok());
    assert_eq!(c.cmd(&["SELECT", "9"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "db9"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l9", "x"]), int(1));
    assert_eq!(c.cmd(&["DBSIZE"]), int(2));
    assert_eq!(c.cmd(&["SELECT", "15"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("db0"));
    assert_eq!(c.cmd(&["DBSIZE"]), int(1));
    assert_eq!(c.cmd(&["TYPE", "l9"]), simple("none"));
    // The selected database belongs to the connection.
    let mut other = s.conn();
    assert_eq!(c.cmd(&["SELECT", "9"]), ok());
    assert_eq!(other.cmd(&["GET", "k"]), bulk("db0"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("db9"));
    assert_eq!(c.cmd(&["DEL", "k"]), int(1));
    assert_eq!(other.cmd(&["GET", "k"]), bulk("db0"));
    // Errors leave the selection unchanged.
    assert_eq!(
        c.cmd(&["SELECT", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(c.cmd(&["SELECT", "abc"]), err(NOT_INT));
    assert_eq!(c.cmd(&["SELECT", "1.0"]), err(NOT_INT));
    assert_eq!(c.cmd(&["SELECT"]), arity_err("select"));
    assert_eq!(c.cmd(&["EXISTS", "l9"]), int(1));
}

#[test]
fn quit_closes_the_connection() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["QUIT"]), ok());
    c.expect_closed();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
}

#[test]
fn config_get() {
    let s = Server::start(Opts::default().arg("--save").arg(""));
    let mut c = s.conn();
    // What redis-benchmark asks on connect.
    assert_eq!(c.cmd(&["CONFIG", "GET", "save"]), bulks(&["save", ""]));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "appendonly"]),
        bulks(&["appendonly", "no"])
    );
    assert_eq!(
        c.cmd(&["config", "get", "port"]),
        bulks(&["port".to_string(), s.port().to_string()])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "databases"]),
        bulks(&["databases", "16"])
    );
    // Glob patterns.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "databa*"]),
        bulks(&["databases", "16"])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "appendonl?"]),
        bulks(&["appendonly", "no"])
    );
    let all = c.cmd(&["CONFIG", "GET", "*"]);
    let items = all.strings();
    assert!(items.len().is_multiple_of(2) && items.len() >= 6, "{all:?}");
    let names: Vec<&String> = items.iter().step_by(2).collect();
    for want in ["port", "databases", "save", "appendonly"] {
        assert!(
            names.iter().any(|n| *n == want),
            "{want} missing in {names:?}"
        );
    }
    assert_eq!(c.cmd(&["CONFIG", "GET", "no-such-parameter"]), empty());
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]),
        err("ERR wrong number of arguments for 'config|get' command")
    );
}

// --- SORT, MEMORY USAGE, WAIT (found by Redis's own Tcl suite) --------------------------------

#[test]
fn sort_lists_sets_and_sorted_sets() {
    let s = Server::new();
    let mut c = s.conn();
    c.cmd(&["RPUSH", "l", "3", "1", "2", "10"]);
    assert_eq!(c.cmd(&["SORT", "l"]), bulks(&["1", "2", "3", "10"]));
    assert_eq!(c.cmd(&["SORT", "l", "DESC"]), bulks(&["10", "3", "2", "1"]));
    assert_eq!(
        c.cmd(&["SORT", "l", "ALPHA"]),
        bulks(&["1", "10", "2", "3"])
    );
    assert_eq!(c.cmd(&["SORT", "l", "LIMIT", "1", "2"]), bulks(&["2", "3"]));
    assert_eq!(
        c.cmd(&["SORT", "l", "LIMIT", "-5", "2"]),
        bulks(&["1", "2"])
    );
    assert_eq!(
        c.cmd(&["SORT", "l", "LIMIT", "2", "-1"]),
        bulks(&["3", "10"])
    );
    assert_eq!(c.cmd(&["SORT", "l", "LIMIT", "10", "2"]), empty());
    // BY a pattern without `*`: the list's own order (reversed by DESC).
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "nosort"]),
        bulks(&["3", "1", "2", "10"])
    );
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "2"]),
        bulks(&["2", "1"])
    );
    // Equal scores fall back to comparing the elements.
    c.cmd(&[
        "RPUSH", "e", "1", "1.0", "01", "", " 2", "0x10", "inf", "-inf",
    ]);
    assert_eq!(
        c.cmd(&["SORT", "e"]),
        bulks(&["-inf", "", "01", "1", "1.0", " 2", "0x10", "inf"])
    );
    c.cmd(&["RPUSH", "bad", "1", "x"]);
    assert_eq!(
        c.cmd(&["SORT", "bad"]),
        err("ERR One or more scores can't be converted into double")
    );
    assert_eq!(c.cmd(&["SORT", "bad", "ALPHA"]), bulks(&["1", "x"]));
    // Sets and sorted sets.
    c.cmd(&["SADD", "s", "b", "a", "c"]);
    assert_eq!(
        c.cmd(&["SORT", "s", "ALPHA", "DESC"]),
        bulks(&["c", "b", "a"])
    );
    c.cmd(&["ZADD", "z", "3", "a", "1", "b", "2", "c"]);
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nosort"]),
        bulks(&["b", "c", "a"])
    );
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nosort", "DESC"]),
        bulks(&["a", "c", "b"])
    );
    assert_eq!(c.cmd(&["SORT", "z", "ALPHA"]), bulks(&["a", "b", "c"]));
    // Missing keys are empty; other types and bad options are errors.
    assert_eq!(c.cmd(&["SORT", "nokey"]), empty());
    c.cmd(&["SET", "str", "x"]);
    assert_eq!(c.cmd(&["SORT", "str"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SORT", "l", "LIMIT", "1"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SORT", "l", "LIMIT", "a", "1"]), err(NOT_INT));
    assert_eq!(c.cmd(&["SORT", "l", "foo"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SORT_RO", "l", "STORE", "x"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["SORT_RO", "l", "DESC"]),
        bulks(&["10", "3", "2", "1"])
    );
    assert_eq!(c.cmd(&["SORT"]), arity_err("sort"));
}

#[test]
fn sort_by_and_get_patterns_on_any_shard() {
    let s = Server::new();
    let mut c = s.conn();
    // `w_<n>` and `h_<n>` keys land on both shards, so the values are gathered from each.
    c.cmd(&["RPUSH", "l", "3", "1", "2", "10"]);
    c.cmd(&["MSET", "w_1", "5", "w_2", "3", "w_3", "1", "w_10", "4"]);
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "w_*"]),
        bulks(&["3", "2", "10", "1"])
    );
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "LIMIT", "0", "2"]),
        bulks(&["3", "1", "2", "3"])
    );
    // Missing GET values are nil; a GET pattern without `*` names nothing.
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "w_*", "GET", "x_*", "GET", "fixed", "LIMIT", "0", "1"]),
        arr(vec![nil(), nil()])
    );
    // A missing BY value sorts as 0 (numeric) or first (ALPHA).
    c.cmd(&["DEL", "w_10"]);
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "w_*"]),
        bulks(&["10", "3", "2", "1"])
    );
    // Hash fields with `->`.
    for (k, v) in [("h_1", "d"), ("h_2", "b"), ("h_3", "c"), ("h_10", "a")] {
        c.cmd(&["HSET", k, "f", v]);
    }
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "h_*->f", "GET", "#"]),
        bulks(&["a", "10", "b", "2", "c", "3", "d", "1"])
    );
    // A string where a hash is expected (and the reverse) reads as missing.
    assert_eq!(
        c.cmd(&["SORT", "l", "GET", "w_*->f", "GET", "h_*", "LIMIT", "0", "1"]),
        arr(vec![nil(), nil()])
    );
}

#[test]
fn sort_store_on_any_shard() {
    let s = Server::new();
    let mut c = s.conn();
    let ks = keys_per_shard("sorted", 2, 2);
    c.cmd(&["RPUSH", &ks[0][0], "3", "1", "2"]);
    for dst in [&ks[0][1], &ks[1][0]] {
        assert_eq!(c.cmd(&["SORT", &ks[0][0], "STORE", dst]), int(3));
        assert_eq!(c.cmd(&["LRANGE", dst, "0", "-1"]), bulks(&["1", "2", "3"]));
        // GET values missing are stored as empty strings.
        assert_eq!(
            c.cmd(&["SORT", &ks[0][0], "GET", "#", "GET", "nope_*", "STORE", dst]),
            int(6)
        );
        assert_eq!(
            c.cmd(&["LRANGE", dst, "0", "-1"]),
            bulks(&["1", "", "2", "", "3", ""])
        );
        // An empty result deletes the destination.
        assert_eq!(c.cmd(&["SORT", "nokey", "STORE", dst]), int(0));
        assert_eq!(c.cmd(&["EXISTS", dst]), int(0));
    }
    // A set sorted by a constant pattern is still sorted (as strings) when stored.
    c.cmd(&["SADD", "{s}set", "b", "c", "a"]);
    assert_eq!(
        c.cmd(&["SORT", "{s}set", "BY", "nosort", "STORE", "{s}dst"]),
        int(3)
    );
    assert_eq!(
        c.cmd(&["LRANGE", "{s}dst", "0", "-1"]),
        bulks(&["a", "b", "c"])
    );
}

/// A client blocked on a list is served when SORT ... STORE creates it.
#[test]
fn sort_store_wakes_blocked_client() {
    let s = Server::new();
    let mut c = s.conn();
    let mut blocked = s.conn();
    c.cmd(&["RPUSH", "notfoo{t}", "hello", "foo"]);
    blocked.send_cmd(&["BLPOP", "foo{t}", "5"]);
    assert!(wait_until(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(10),
        || c.cmd(&["INFO", "clients"])
            .text()
            .contains("blocked_clients:1")
    ));
    assert_eq!(
        c.cmd(&["SORT", "notfoo{t}", "ALPHA", "STORE", "foo{t}"]),
        int(2)
    );
    assert_eq!(blocked.read_reply(), bulks(&["foo{t}", "foo"]));
}

#[test]
fn memory_usage() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MEMORY", "USAGE", "nokey"]), nil());
    c.cmd(&["SET", "small", "x"]);
    c.cmd(&["SET", "big", &"x".repeat(10_000)]);
    let small = c.cmd(&["MEMORY", "USAGE", "small"]).int();
    let big = c.cmd(&["MEMORY", "USAGE", "big"]).int();
    assert!(small > 0 && big > 10_000 && big > small, "{small} {big}");
    c.cmd(&["HSET", "h", "a", "1", "b", "2"]);
    assert!(c.cmd(&["MEMORY", "USAGE", "h"]).int() > 0);
    assert!(c.cmd(&["MEMORY", "USAGE", "h", "SAMPLES", "0"]).int() > 0);
    assert_eq!(
        c.cmd(&["MEMORY", "USAGE", "h", "SAMPLES", "-1"]),
        err(SYNTAX)
    );
    assert_eq!(
        c.cmd(&["MEMORY", "USAGE", "h", "SAMPLES", "x"]),
        err(NOT_INT)
    );
    assert_eq!(c.cmd(&["MEMORY", "USAGE", "h", "SAMPLES"]), err(SYNTAX));
    assert_eq!(c.cmd(&["MEMORY", "USAGE", "h", "foo"]), err(SYNTAX));
    assert_eq!(c.cmd(&["MEMORY", "USAGE"]), arity_err("memory|usage"));
    assert_eq!(c.cmd(&["MEMORY", "HELP", "x"]), arity_err("memory|help"));
    assert!(c.cmd(&["MEMORY", "HELP"]).items().len() > 2);
    assert_eq!(
        c.cmd(&["MEMORY", "nope"]),
        err("ERR unknown subcommand 'nope'. Try MEMORY HELP.")
    );
}

#[test]
fn wait_without_replicas() {
    let s = Server::new();
    let mut c = s.conn();
    // Nothing to wait for: at once.
    assert_eq!(c.cmd(&["WAIT", "0", "0"]), int(0));
    assert_eq!(c.cmd(&["WAIT", "-1", "0"]), int(0));
    // Waiting for replicas that do not exist: 0 once the timeout passes.
    let t = std::time::Instant::now();
    assert_eq!(c.cmd(&["WAIT", "1", "200"]), int(0));
    assert!(t.elapsed() >= std::time::Duration::from_millis(190));
    assert_eq!(
        c.cmd(&["WAIT", "1", "x"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["WAIT", "1", "-1"]), err("ERR timeout is negative"));
    assert_eq!(c.cmd(&["WAIT", "x", "0"]), err(NOT_INT));
    assert_eq!(c.cmd(&["WAIT", "1"]), arity_err("wait"));
    // Timeout 0 blocks until CLIENT UNBLOCK.
    let id = c.cmd(&["CLIENT", "ID"]).int().to_string();
    c.send_cmd(&["WAIT", "1", "0"]);
    let mut other = s.conn();
    assert!(wait_until(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(10),
        || other.cmd(&["CLIENT", "UNBLOCK", &id]) == int(1)
    ));
    assert_eq!(c.read_reply(), int(0));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

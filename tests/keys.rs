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

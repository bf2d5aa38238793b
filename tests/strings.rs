//! String commands: replies and errors exactly as Redis 7.0 gives them.

mod common;

use common::*;

fn ttl(c: &mut Conn, key: &str) -> i64 {
    c.cmd(&["TTL", key]).int()
}

fn pttl(c: &mut Conn, key: &str) -> i64 {
    c.cmd(&["PTTL", key]).int()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn set_and_get_basics() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "nokey"]), nil());
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["SET", "k", "v2"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v2"));
    assert_eq!(c.cmd(&["SET", "empty", ""]), ok());
    assert_eq!(c.cmd(&["GET", "empty"]), bulk(""));
    assert_eq!(c.cmd(&["EXISTS", "empty"]), int(1));
    assert_eq!(c.cmd(&["SET", "k"]), arity_err("set"));
    assert_eq!(c.cmd(&["GET"]), arity_err("get"));
    assert_eq!(c.cmd(&["SET", "k", "v", "foo"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SET", "k", "v", "EX"]), err(SYNTAX));
}

#[test]
fn set_nx_xx() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "1", "XX"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "1", "NX"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "2", "NX"]), nil());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("1"));
    assert_eq!(c.cmd(&["SET", "k", "3", "xx"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("3"));
    assert_eq!(c.cmd(&["SET", "k", "4", "NX", "XX"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SET", "k", "4", "NX", "NX"]), nil());
    // NX/XX look at existence only, not type.
    assert_eq!(c.cmd(&["RPUSH", "list", "a"]), int(1));
    assert_eq!(c.cmd(&["SET", "list", "x", "NX"]), nil());
    assert_eq!(c.cmd(&["SET", "list", "x", "XX"]), ok());
    assert_eq!(c.cmd(&["TYPE", "list"]), simple("string"));
}

#[test]
fn set_get_option() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v1", "GET"]), nil());
    assert_eq!(c.cmd(&["SET", "k", "v2", "GET"]), bulk("v1"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v2"));
    // NX + GET is allowed since 7.0.
    assert_eq!(c.cmd(&["SET", "k", "v3", "NX", "GET"]), bulk("v2"));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v2"));
    assert_eq!(c.cmd(&["SET", "n", "v", "NX", "GET"]), nil());
    assert_eq!(c.cmd(&["GET", "n"]), bulk("v"));
    assert_eq!(c.cmd(&["SET", "k", "v4", "XX", "GET"]), bulk("v2"));
    assert_eq!(c.cmd(&["SET", "none", "v", "XX", "GET"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "none"]), int(0));
    // GET against a non-string: WRONGTYPE and nothing is set.
    assert_eq!(c.cmd(&["LPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["SET", "l", "v", "GET"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("list"));
    // GET with expiry options.
    assert_eq!(c.cmd(&["SET", "k", "v5", "GET", "EX", "100"]), bulk("v4"));
    let t = ttl(&mut c, "k");
    assert!((99..=100).contains(&t), "ttl {t}");
}

#[test]
fn set_expiry_options() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "100"]), ok());
    let t = ttl(&mut c, "k");
    assert!((99..=100).contains(&t), "ttl {t}");
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "100000"]), ok());
    let t = pttl(&mut c, "k");
    assert!((98_000..=100_000).contains(&t), "pttl {t}");
    let at = now_ms() / 1000 + 200;
    assert_eq!(c.cmd(&["SET", "k", "v", "EXAT", &at.to_string()]), ok());
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int(at));
    let pat = now_ms() + 300_000;
    assert_eq!(c.cmd(&["SET", "k", "v", "PXAT", &pat.to_string()]), ok());
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(pat));
    // A plain SET clears the TTL; KEEPTTL keeps it.
    assert_eq!(c.cmd(&["SET", "k", "v2", "KEEPTTL"]), ok());
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(pat));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v2"));
    assert_eq!(c.cmd(&["SET", "k", "v3"]), ok());
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(c.cmd(&["SET", "k2", "v", "KEEPTTL"]), ok());
    assert_eq!(ttl(&mut c, "k2"), -1);
    // EXAT/PXAT in the past: the key is gone at once.
    assert_eq!(c.cmd(&["SET", "past", "v", "EXAT", "1"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "past"]), int(0));
    assert_eq!(c.cmd(&["SET", "past", "v", "PXAT", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "past"]), nil());
    // Options are case-insensitive and combine with NX/XX/GET.
    assert_eq!(c.cmd(&["SET", "c", "1", "nx", "px", "100000"]), ok());
    assert!(pttl(&mut c, "c") > 0);
    assert_eq!(c.cmd(&["SET", "c", "2", "xx", "keepttl", "get"]), bulk("1"));
    assert!(pttl(&mut c, "c") > 0);
}

#[test]
fn set_expiry_errors() {
    let s = Server::new();
    let mut c = s.conn();
    let bad = "ERR invalid expire time in 'set' command";
    for (opt, v) in [
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("PX", "-5"),
        ("EXAT", "0"),
        ("PXAT", "-1"),
        ("EX", "9223372036854775807"),
        ("PX", "9223372036854775807"),
    ] {
        assert_eq!(c.cmd(&["SET", "k", "v", opt, v]), err(bad), "{opt} {v}");
    }
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "abc"]), err(NOT_INT));
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "1.5"]), err(NOT_INT));
    for combo in [
        &["EX", "10", "PX", "100"][..],
        &["EX", "10", "KEEPTTL"],
        &["KEEPTTL", "PX", "10"],
        &["EXAT", "10", "PXAT", "10"],
        &["NX", "XX"],
        &["PX"],
    ] {
        let mut args = vec!["SET", "k", "v"];
        args.extend_from_slice(combo);
        assert_eq!(c.cmd(&args), err(SYNTAX), "{combo:?}");
    }
    // None of the failed commands created the key.
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    // Repeating the same option is accepted (the last one wins).
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "10", "EX", "100"]), ok());
    let t = ttl(&mut c, "k");
    assert!((99..=100).contains(&t), "ttl {t}");
}

#[test]
fn getdel() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GETDEL", "k"]), nil());
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["GETDEL", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["GETDEL", "k"]), nil());
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["GETDEL", "l"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(1));
    assert_eq!(c.cmd(&["GETDEL"]), arity_err("getdel"));
    assert_eq!(c.cmd(&["GETDEL", "a", "b"]), arity_err("getdel"));
}

#[test]
fn getex() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GETEX", "k"]), nil());
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "10"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["GETEX", "k"]), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "100"]), bulk("v"));
    let t = ttl(&mut c, "k");
    assert!((99..=100).contains(&t), "ttl {t}");
    assert_eq!(c.cmd(&["GETEX", "k", "PX", "200000"]), bulk("v"));
    let t = pttl(&mut c, "k");
    assert!((198_000..=200_000).contains(&t), "pttl {t}");
    let at = now_ms() / 1000 + 500;
    assert_eq!(c.cmd(&["GETEX", "k", "EXAT", &at.to_string()]), bulk("v"));
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), int(at));
    let pat = now_ms() + 600_000;
    assert_eq!(c.cmd(&["GETEX", "k", "PXAT", &pat.to_string()]), bulk("v"));
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), int(pat));
    assert_eq!(c.cmd(&["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    // Errors.
    assert_eq!(
        c.cmd(&["GETEX", "k", "EX", "0"]),
        err("ERR invalid expire time in 'getex' command")
    );
    assert_eq!(
        c.cmd(&["GETEX", "k", "PX", "-1"]),
        err("ERR invalid expire time in 'getex' command")
    );
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["GETEX", "k", "PERSIST", "EX", "1"]), err(SYNTAX));
    assert_eq!(c.cmd(&["GETEX", "k", "EX", "1", "PX", "1"]), err(SYNTAX));
    assert_eq!(c.cmd(&["GETEX", "k", "foo"]), err(SYNTAX));
    assert_eq!(c.cmd(&["GETEX", "k", "EX"]), err(SYNTAX));
    assert_eq!(ttl(&mut c, "k"), -1);
    // EXAT in the past deletes the key after returning it.
    assert_eq!(c.cmd(&["GETEX", "k", "EXAT", "1"]), bulk("v"));
    assert_eq!(c.cmd(&["EXISTS", "k"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["GETEX", "l"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["GETEX"]), arity_err("getex"));
}

#[test]
fn setnx_setex_psetex() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SETNX", "k", "1"]), int(1));
    assert_eq!(c.cmd(&["SETNX", "k", "2"]), int(0));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("1"));
    assert_eq!(c.cmd(&["SETNX", "k"]), arity_err("setnx"));

    assert_eq!(c.cmd(&["SETEX", "e", "100", "v"]), ok());
    assert_eq!(c.cmd(&["GET", "e"]), bulk("v"));
    let t = ttl(&mut c, "e");
    assert!((99..=100).contains(&t), "ttl {t}");
    assert_eq!(
        c.cmd(&["SETEX", "e", "0", "v"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(
        c.cmd(&["SETEX", "e", "-10", "v"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(c.cmd(&["SETEX", "e", "abc", "v"]), err(NOT_INT));
    assert_eq!(c.cmd(&["SETEX", "e", "10"]), arity_err("setex"));

    assert_eq!(c.cmd(&["PSETEX", "p", "100000", "v"]), ok());
    let t = pttl(&mut c, "p");
    assert!((98_000..=100_000).contains(&t), "pttl {t}");
    assert_eq!(
        c.cmd(&["PSETEX", "p", "-1", "v"]),
        err("ERR invalid expire time in 'psetex' command")
    );
    assert_eq!(c.cmd(&["PSETEX", "p", "1x", "v"]), err(NOT_INT));
    // SETEX overwrites a key of another type.
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["SETEX", "l", "100", "s"]), ok());
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("string"));
}

#[test]
fn mget_mset() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), ok());
    assert_eq!(
        c.cmd(&["MGET", "a", "nokey", "c", "b", "a"]),
        arr(vec![bulk("1"), nil(), bulk("3"), bulk("2"), bulk("1")])
    );
    // The last value for a repeated key wins.
    assert_eq!(c.cmd(&["MSET", "a", "x", "a", "y"]), ok());
    assert_eq!(c.cmd(&["GET", "a"]), bulk("y"));
    // A non-string key reads as nil in MGET.
    assert_eq!(c.cmd(&["RPUSH", "l", "v"]), int(1));
    assert_eq!(c.cmd(&["MGET", "l", "b"]), arr(vec![nil(), bulk("2")]));
    // MSET overwrites any type and clears TTLs.
    assert_eq!(c.cmd(&["SET", "t", "v", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["MSET", "l", "s", "t", "w"]), ok());
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("string"));
    assert_eq!(ttl(&mut c, "t"), -1);
    assert_eq!(c.cmd(&["MSET", "a"]), arity_err("mset"));
    assert_eq!(c.cmd(&["MSET", "a", "1", "b"]), arity_err("mset"));
    assert_eq!(c.cmd(&["MGET"]), arity_err("mget"));
}

#[test]
fn append_and_strlen() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["STRLEN", "k"]), int(0));
    assert_eq!(c.cmd(&["APPEND", "k", "hello"]), int(5));
    assert_eq!(c.cmd(&["APPEND", "k", " world"]), int(11));
    assert_eq!(c.cmd(&["APPEND", "k", ""]), int(11));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("hello world"));
    assert_eq!(c.cmd(&["STRLEN", "k"]), int(11));
    // APPEND to an integer-looking value.
    assert_eq!(c.cmd(&["SET", "n", "12"]), ok());
    assert_eq!(c.cmd(&["APPEND", "n", "34"]), int(4));
    assert_eq!(c.cmd(&["INCR", "n"]), int(1235));
    assert_eq!(c.cmd(&["STRLEN", "n"]), int(4));
    // APPEND keeps the TTL.
    assert_eq!(c.cmd(&["SET", "t", "a", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["APPEND", "t", "b"]), int(2));
    assert!(ttl(&mut c, "t") > 0);
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["APPEND", "l", "x"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["STRLEN", "l"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["APPEND", "k"]), arity_err("append"));
    assert_eq!(c.cmd(&["STRLEN"]), arity_err("strlen"));
}

#[test]
fn incr_decr_family() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["INCR", "n"]), int(1));
    assert_eq!(c.cmd(&["INCR", "n"]), int(2));
    assert_eq!(c.cmd(&["DECR", "n"]), int(1));
    assert_eq!(c.cmd(&["DECR", "m"]), int(-1));
    assert_eq!(c.cmd(&["INCRBY", "n", "100"]), int(101));
    assert_eq!(c.cmd(&["INCRBY", "n", "-200"]), int(-99));
    assert_eq!(c.cmd(&["DECRBY", "n", "1"]), int(-100));
    assert_eq!(c.cmd(&["DECRBY", "n", "-300"]), int(200));
    assert_eq!(c.cmd(&["GET", "n"]), bulk("200"));
    assert_eq!(c.cmd(&["SET", "s", "-17"]), ok());
    assert_eq!(c.cmd(&["INCR", "s"]), int(-16));
    // The value stays a string.
    assert_eq!(c.cmd(&["TYPE", "s"]), simple("string"));
    assert_eq!(c.cmd(&["APPEND", "s", "0"]), int(4));
    assert_eq!(c.cmd(&["GET", "s"]), bulk("-160"));
    // INCR keeps the TTL.
    assert_eq!(c.cmd(&["SET", "t", "5", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["INCR", "t"]), int(6));
    assert!(ttl(&mut c, "t") > 0);
}

#[test]
fn incr_errors_and_overflow() {
    let s = Server::new();
    let mut c = s.conn();
    for v in [
        "abc",
        "1.5",
        " 1",
        "1 ",
        "01",
        "+1",
        "",
        "9223372036854775808",
        "1e3",
    ] {
        assert_eq!(c.cmd(&["SET", "s", v]), ok());
        assert_eq!(c.cmd(&["INCR", "s"]), err(NOT_INT), "value {v:?}");
        assert_eq!(c.cmd(&["GET", "s"]), bulk(v), "value {v:?} unchanged");
    }
    assert_eq!(c.cmd(&["SET", "n", "1"]), ok());
    assert_eq!(c.cmd(&["INCRBY", "n", "abc"]), err(NOT_INT));
    assert_eq!(c.cmd(&["INCRBY", "n", "1.0"]), err(NOT_INT));
    assert_eq!(c.cmd(&["DECRBY", "n", "9223372036854775808"]), err(NOT_INT));

    assert_eq!(c.cmd(&["SET", "max", "9223372036854775807"]), ok());
    let over = err("ERR increment or decrement would overflow");
    assert_eq!(c.cmd(&["INCR", "max"]), over);
    assert_eq!(c.cmd(&["INCRBY", "max", "1"]), over);
    assert_eq!(c.cmd(&["DECRBY", "max", "-1"]), over);
    assert_eq!(c.cmd(&["GET", "max"]), bulk("9223372036854775807"));
    assert_eq!(c.cmd(&["SET", "min", "-9223372036854775808"]), ok());
    assert_eq!(c.cmd(&["DECR", "min"]), over);
    assert_eq!(c.cmd(&["INCRBY", "min", "-1"]), over);
    assert_eq!(c.cmd(&["INCR", "min"]), int(-9223372036854775807));
    // DECRBY cannot negate i64::MIN.
    assert_eq!(
        c.cmd(&["DECRBY", "zero", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    assert_eq!(
        c.cmd(&["INCRBY", "zero", "-9223372036854775808"]),
        int(i64::MIN)
    );

    assert_eq!(c.cmd(&["RPUSH", "l", "1"]), int(1));
    assert_eq!(c.cmd(&["INCR", "l"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["DECRBY", "l", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["INCR"]), arity_err("incr"));
    assert_eq!(c.cmd(&["INCR", "a", "b"]), arity_err("incr"));
    assert_eq!(c.cmd(&["INCRBY", "a"]), arity_err("incrby"));
    assert_eq!(c.cmd(&["DECR"]), arity_err("decr"));
    assert_eq!(c.cmd(&["DECRBY", "a"]), arity_err("decrby"));
}

#[test]
fn incrbyfloat() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "10.5"]), bulk("10.5"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "-10.6"]), bulk("0"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "5.0e3"]), bulk("5000"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "-1"]), bulk("4999"));
    assert_eq!(c.cmd(&["GET", "f"]), bulk("4999"));
    assert_eq!(c.cmd(&["SET", "i", "17"]), ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "i", "0.25"]), bulk("17.25"));
    assert_eq!(c.cmd(&["SET", "e", "1.5e2"]), ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "e", "1"]), bulk("151"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "g", "3"]), bulk("3"));
    assert_eq!(c.cmd(&["INCR", "g"]), int(4));
    assert_eq!(c.cmd(&["SET", "t", "1", "EX", "100"]), ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "t", "1.5"]), bulk("2.5"));
    assert!(ttl(&mut c, "t") > 0);

    let not_float = err("ERR value is not a valid float");
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "abc"]), not_float);
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "nan"]), not_float);
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", ""]), not_float);
    assert_eq!(c.cmd(&["SET", "s", "abc"]), ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "s", "1"]), not_float);
    assert_eq!(c.cmd(&["SET", "s", "1.5 "]), ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "s", "1"]), not_float);
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "f", "inf"]),
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(c.cmd(&["GET", "f"]), bulk("4999"));
    assert_eq!(c.cmd(&["RPUSH", "l", "1"]), int(1));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "l", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f"]), arity_err("incrbyfloat"));
}

#[test]
fn wrongtype_for_string_reads() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["GET", "l"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SETNX", "l", "x"]), int(0));
    // Plain SET overwrites any type.
    assert_eq!(c.cmd(&["SET", "l", "x"]), ok());
    assert_eq!(c.cmd(&["GET", "l"]), bulk("x"));
}

// --- SETBIT, GETBIT, MSETNX, LCS (found by Redis's own Tcl suite, unit/type/string) -----------

#[test]
fn setbit_getbit() {
    let s = Server::new();
    let mut c = s.conn();
    const OFFSET: &str = "ERR bit offset is not an integer or out of range";
    const BIT: &str = "ERR bit is not an integer or out of range";
    // A missing key grows to the byte holding the bit, even when clearing it.
    assert_eq!(c.cmd(&["SETBIT", "k", "1", "1"]), int(0));
    assert_eq!(c.cmd(&["GET", "k"]), bulk([0x40u8]));
    assert_eq!(c.cmd(&["SETBIT", "z", "15", "0"]), int(0));
    assert_eq!(c.cmd(&["GET", "z"]), bulk([0u8, 0]));
    assert_eq!(c.cmd(&["SETBIT", "k", "1", "1"]), int(1));
    assert_eq!(c.cmd(&["SETBIT", "k", "1", "0"]), int(1));
    assert_eq!(c.cmd(&["SETBIT", "k", "17", "1"]), int(0));
    assert_eq!(c.cmd(&["GET", "k"]), bulk([0u8, 0, 0x40]));
    assert_eq!(c.cmd(&["GETBIT", "k", "17"]), int(1));
    assert_eq!(c.cmd(&["GETBIT", "k", "16"]), int(0));
    assert_eq!(c.cmd(&["GETBIT", "k", "1000"]), int(0));
    assert_eq!(c.cmd(&["GETBIT", "nokey", "0"]), int(0));
    // Strings and integers are bits of their text.
    assert_eq!(c.cmd(&["SET", "s", "`"]), ok());
    assert_eq!(c.cmd(&["GETBIT", "s", "1"]), int(1));
    assert_eq!(c.cmd(&["GETBIT", "s", "2"]), int(1));
    assert_eq!(c.cmd(&["SETBIT", "s", "2", "0"]), int(1));
    assert_eq!(c.cmd(&["GET", "s"]), bulk("@"));
    assert_eq!(c.cmd(&["SET", "n", "1"]), ok());
    assert_eq!(c.cmd(&["SETBIT", "n", "6", "1"]), int(0));
    assert_eq!(c.cmd(&["GET", "n"]), bulk("3"));
    assert_eq!(c.cmd(&["GETBIT", "n", "7"]), int(1));
    // Errors: offsets below 0 or past proto-max-bulk-len (512MB = 2^32 bits), bits other
    // than 0/1, other types.
    assert_eq!(c.cmd(&["SETBIT", "k", "-1", "1"]), err(OFFSET));
    assert_eq!(c.cmd(&["SETBIT", "k", "4294967296", "1"]), err(OFFSET));
    assert_eq!(c.cmd(&["GETBIT", "k", "4294967296"]), err(OFFSET));
    assert_eq!(c.cmd(&["GETBIT", "k", "x"]), err(OFFSET));
    assert_eq!(c.cmd(&["SETBIT", "k", "0", "2"]), err(BIT));
    assert_eq!(c.cmd(&["SETBIT", "k", "0", "-1"]), err(BIT));
    assert_eq!(c.cmd(&["SETBIT", "k", "0", "x"]), err(BIT));
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["SETBIT", "l", "0", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["GETBIT", "l", "0"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["SETBIT", "k", "0"]), arity_err("setbit"));
    assert_eq!(c.cmd(&["GETBIT", "k"]), arity_err("getbit"));
}

#[test]
fn msetnx_one_shard_and_across_shards() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["MSETNX", "a{t}", "1", "b{t}", "2"]), int(1));
    assert_eq!(c.cmd(&["MSETNX", "a{t}", "x", "c{t}", "3"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "c{t}"]), int(0));
    assert_eq!(c.cmd(&["GET", "a{t}"]), bulk("1"));
    // The same key twice: the last value wins.
    assert_eq!(c.cmd(&["MSETNX", "d{t}", "x", "d{t}", "y"]), int(1));
    assert_eq!(c.cmd(&["GET", "d{t}"]), bulk("y"));
    assert_eq!(c.cmd(&["MSETNX", "d{t}", "x", "d{t}", "z"]), int(0));
    assert_eq!(c.cmd(&["GET", "d{t}"]), bulk("y"));
    // Keys on both shards: all set, or none when any exists (whatever its type).
    let ks = keys_per_shard("nx", 2, 2);
    let (a, b, a2, b2) = (&ks[0][0], &ks[1][0], &ks[0][1], &ks[1][1]);
    assert_eq!(c.cmd(&["MSETNX", a, "1", b, "2"]), int(1));
    assert_eq!(c.cmd(&["MGET", a, b]), bulks(&["1", "2"]));
    assert_eq!(c.cmd(&["RPUSH", b2, "x"]), int(1));
    assert_eq!(c.cmd(&["MSETNX", a2, "1", b2, "2"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", a2]), int(0));
    assert_eq!(c.cmd(&["TYPE", b2]), simple("list"));
    // An odd count is Redis's arity error; too few arguments too.
    assert_eq!(
        c.cmd(&["MSETNX", "x{t}", "20", "y{t}", "foo bar", "z{t}"]),
        arity_err("msetnx")
    );
    assert_eq!(c.cmd(&["MSETNX", "x"]), arity_err("msetnx"));
}

#[test]
fn lcs() {
    let s = Server::new();
    let mut c = s.conn();
    const TYPES: &str = "ERR The specified keys must contain string values";
    for (k1, k2) in [("v1{t}".to_string(), "v2{t}".to_string()), {
        let ks = keys_per_shard("lcs", 2, 1);
        (ks[0][0].clone(), ks[1][0].clone())
    }] {
        let (k1, k2) = (k1.as_str(), k2.as_str());
        c.cmd(&["SET", k1, "ohmytext"]);
        c.cmd(&["SET", k2, "mynewtext"]);
        assert_eq!(c.cmd(&["LCS", k1, k2]), bulk("mytext"));
        assert_eq!(c.cmd(&["LCS", k1, k2, "LEN"]), int(6));
        let range = |a: i64, b: i64| arr(vec![int(a), int(b)]);
        assert_eq!(
            c.cmd(&["LCS", k1, k2, "IDX"]),
            arr(vec![
                bulk("matches"),
                arr(vec![
                    arr(vec![range(4, 7), range(5, 8)]),
                    arr(vec![range(2, 3), range(0, 1)]),
                ]),
                bulk("len"),
                int(6),
            ])
        );
        assert_eq!(
            c.cmd(&["LCS", k1, k2, "idx", "minmatchlen", "4", "withmatchlen"]),
            arr(vec![
                bulk("matches"),
                arr(vec![arr(vec![range(4, 7), range(5, 8), int(4)])]),
                bulk("len"),
                int(6),
            ])
        );
        // A missing key is an empty string.
        assert_eq!(c.cmd(&["DEL", k2]), int(1));
        assert_eq!(c.cmd(&["LCS", k1, k2]), bulk(""));
        assert_eq!(c.cmd(&["LCS", k1, k2, "IDX"]).items().len(), 4);
        // Types are checked before options; the options' own errors.
        c.cmd(&["RPUSH", k2, "x"]);
        assert_eq!(c.cmd(&["LCS", k1, k2]), err(TYPES));
        assert_eq!(c.cmd(&["LCS", k2, k1, "BAD"]), err(TYPES));
        c.cmd(&["DEL", k2]);
        assert_eq!(c.cmd(&["LCS", k1, k2, "BAD"]), err(SYNTAX));
        assert_eq!(c.cmd(&["LCS", k1, k2, "MINMATCHLEN", "x"]), err(NOT_INT));
        assert_eq!(c.cmd(&["LCS", k1, k2, "MINMATCHLEN"]), err(SYNTAX));
        assert_eq!(
            c.cmd(&["LCS", k1, k2, "IDX", "LEN"]),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
    }
    assert_eq!(c.cmd(&["LCS", "a"]), arity_err("lcs"));
}

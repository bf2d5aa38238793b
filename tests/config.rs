//! CONFIG GET/SET of the settings that change at run time, as Redis 7.0 answers them (this file
//! also passes against redis-server: `REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;

fn get(c: &mut Conn, name: &str) -> Vec<String> {
    c.cmd(&["CONFIG", "GET", name]).strings()
}

#[test]
fn encoding_thresholds_and_their_old_names() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        get(&mut c, "hash-max-listpack-entries"),
        ["hash-max-listpack-entries", "512"]
    );
    assert_eq!(
        get(&mut c, "hash-max-ziplist-entries"),
        ["hash-max-ziplist-entries", "512"]
    );
    assert_eq!(
        get(&mut c, "zset-max-listpack-value"),
        ["zset-max-listpack-value", "64"]
    );
    assert_eq!(
        get(&mut c, "list-max-listpack-size"),
        ["list-max-listpack-size", "-2"]
    );
    assert_eq!(
        get(&mut c, "set-max-intset-entries"),
        ["set-max-intset-entries", "512"]
    );
    // An old name sets the new one; a glob reports both spellings.
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "zset-max-ziplist-entries",
            "7",
            "list-compress-depth",
            "2"
        ]),
        ok()
    );
    assert_eq!(
        get(&mut c, "zset-max-listpack-entries"),
        ["zset-max-listpack-entries", "7"]
    );
    let mut both = get(&mut c, "zset-max-*-entries");
    both.sort();
    assert_eq!(
        both,
        [
            "7",
            "7",
            "zset-max-listpack-entries",
            "zset-max-ziplist-entries"
        ]
    );
    assert_eq!(
        get(&mut c, "list-compress-depth"),
        ["list-compress-depth", "2"]
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "list-max-ziplist-size", "-5"]),
        ok()
    );
    assert_eq!(
        get(&mut c, "list-max-listpack-size"),
        ["list-max-listpack-size", "-5"]
    );
    // Redis's refusals, and nothing applied when one pair of several is bad.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "-1"]),
        err("ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument must be between 0 and 9223372036854775807 inclusive")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hash-max-listpack-value", "1x"]),
        err("ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-value') - argument must be a memory value")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hash-max-listpack-value", "1kb"]),
        ok()
    );
    assert_eq!(
        get(&mut c, "hash-max-listpack-value"),
        ["hash-max-listpack-value", "1024"]
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "set-max-intset-entries", "1x"]),
        err("ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - argument couldn't be parsed into an integer")
    );
    assert!(c
        .cmd(&[
            "CONFIG",
            "SET",
            "hash-max-listpack-entries",
            "9",
            "zset-max-ziplist-entries",
            "x"
        ])
        .is_error());
    assert_eq!(
        get(&mut c, "hash-max-listpack-entries"),
        ["hash-max-listpack-entries", "512"]
    );
    // A name and its old alias in one call: accepted, the last one wins (as Redis 7.0).
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "zset-max-ziplist-entries",
            "1",
            "zset-max-listpack-entries",
            "2"
        ]),
        ok()
    );
    assert_eq!(
        get(&mut c, "zset-max-listpack-entries"),
        ["zset-max-listpack-entries", "2"]
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "save", "", "save", ""]),
        err("ERR CONFIG SET failed (possibly related to argument 'save') - duplicate parameter")
    );
}

#[test]
fn protocol_limits() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        get(&mut c, "proto-max-bulk-len"),
        ["proto-max-bulk-len", "536870912"]
    );
    assert_eq!(
        get(&mut c, "client-query-buffer-limit"),
        ["client-query-buffer-limit", "1073741824"]
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "2mb"]), ok());
    assert_eq!(
        get(&mut c, "proto-max-bulk-len"),
        ["proto-max-bulk-len", "2097152"]
    );
    // The new limit applies to strings built by SETRANGE.
    assert_eq!(
        c.cmd(&["SETRANGE", "k", "3000000", "x"]),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(c.cmd(&["SETRANGE", "k", "2000000", "x"]), int(2000001));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "100"]),
        err("ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "lots"]),
        err("ERR CONFIG SET failed (possibly related to argument 'client-query-buffer-limit') - argument must be a memory value")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-query-buffer-limit", "10000000000"]),
        ok()
    );
    // The parser applies the limit in force: a bulk longer than 2 MB is now refused.
    let mut raw = s.conn();
    raw.send(b"*2\r\n$3\r\nGET\r\n$3000000\r\n");
    assert_eq!(
        raw.read_reply(),
        err("ERR Protocol error: invalid bulk length")
    );
    raw.expect_closed();
}

#[test]
fn client_and_memory_settings() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(get(&mut c, "maxclients"), ["maxclients", "10000"]);
    assert_eq!(get(&mut c, "timeout"), ["timeout", "0"]);
    assert_eq!(get(&mut c, "tcp-keepalive"), ["tcp-keepalive", "300"]);
    assert_eq!(get(&mut c, "protected-mode"), ["protected-mode", "yes"]);
    assert_eq!(get(&mut c, "requirepass"), ["requirepass", ""]);
    assert_eq!(get(&mut c, "maxmemory"), ["maxmemory", "0"]);
    assert_eq!(
        get(&mut c, "maxmemory-policy"),
        ["maxmemory-policy", "noeviction"]
    );
    assert_eq!(
        get(&mut c, "client-output-buffer-limit"),
        [
            "client-output-buffer-limit",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        ]
    );
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxclients",
            "5000",
            "timeout",
            "10",
            "tcp-keepalive",
            "60",
            "maxmemory",
            "1gb",
            "client-output-buffer-limit",
            "normal 1mb 2mb 3"
        ]),
        ok()
    );
    assert_eq!(get(&mut c, "maxclients"), ["maxclients", "5000"]);
    assert_eq!(get(&mut c, "timeout"), ["timeout", "10"]);
    assert_eq!(get(&mut c, "tcp-keepalive"), ["tcp-keepalive", "60"]);
    assert_eq!(get(&mut c, "maxmemory"), ["maxmemory", "1073741824"]);
    assert_eq!(
        get(&mut c, "client-output-buffer-limit"),
        [
            "client-output-buffer-limit",
            "normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        ]
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "warning"]), ok());
    assert_eq!(get(&mut c, "loglevel"), ["loglevel", "warning"]);
    // Redis's refusals.
    let failed = |arg: &str, why: &str| {
        err(&format!(
            "ERR CONFIG SET failed (possibly related to argument '{arg}') - {why}"
        ))
    };
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "loglevel", "loud"]),
        failed(
            "loglevel",
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        )
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "foo 1 1 1"]),
        failed(
            "client-output-buffer-limit",
            "Invalid client class specified in buffer limit configuration."
        )
    );
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 2mb"
        ]),
        failed(
            "client-output-buffer-limit",
            "Wrong number of arguments in buffer limit configuration."
        )
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", "/tmp"]),
        failed("dir", "can't set protected config")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dbfilename", "x.rdb"]),
        failed("dbfilename", "can't set protected config")
    );
    assert!(c.cmd(&["CONFIG", "SET", "maxclients", "0"]).is_error());
    assert_eq!(get(&mut c, "maxclients"), ["maxclients", "5000"]);
}

//! List commands: replies and errors exactly as Redis 7.0 gives them.

mod common;

use common::*;

fn range(c: &mut Conn, key: &str) -> Reply {
    c.cmd(&["LRANGE", key, "0", "-1"])
}

#[test]
fn push_and_range() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["RPUSH", "l", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["LPUSH", "l", "x", "y"]), int(5));
    // LPUSH inserts each element at the head in turn.
    assert_eq!(range(&mut c, "l"), bulks(&["y", "x", "a", "b", "c"]));
    assert_eq!(c.cmd(&["LLEN", "l"]), int(5));
    assert_eq!(c.cmd(&["LLEN", "nokey"]), int(0));
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("list"));
    // Empty and binary elements.
    assert_eq!(c.cmd(&["RPUSH", "b", "", "\r\n\0"]), int(2));
    assert_eq!(range(&mut c, "b"), bulks(&["", "\r\n\0"]));
    assert_eq!(c.cmd(&["LPUSH", "l"]), arity_err("lpush"));
    assert_eq!(c.cmd(&["RPUSH", "l"]), arity_err("rpush"));
    assert_eq!(c.cmd(&["LLEN"]), arity_err("llen"));
}

#[test]
fn pushx_only_on_existing_lists() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LPUSHX", "l", "a"]), int(0));
    assert_eq!(c.cmd(&["RPUSHX", "l", "a", "b"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "m"]), int(1));
    assert_eq!(c.cmd(&["LPUSHX", "l", "b", "a"]), int(3));
    assert_eq!(c.cmd(&["RPUSHX", "l", "y", "z"]), int(5));
    assert_eq!(range(&mut c, "l"), bulks(&["a", "b", "m", "y", "z"]));
    assert_eq!(c.cmd(&["SET", "s", "v"]), ok());
    assert_eq!(c.cmd(&["LPUSHX", "s", "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["RPUSHX", "s", "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LPUSHX", "l"]), arity_err("lpushx"));
}

#[test]
fn pop_without_count() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LPOP", "l"]), nil());
    assert_eq!(c.cmd(&["RPOP", "l"]), nil());
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["LPOP", "l"]), bulk("a"));
    assert_eq!(c.cmd(&["RPOP", "l"]), bulk("c"));
    assert_eq!(c.cmd(&["LPOP", "l"]), bulk("b"));
    // The last pop deletes the key.
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["TYPE", "l"]), simple("none"));
    assert_eq!(c.cmd(&["LPOP", "l"]), nil());
}

#[test]
fn pop_with_count() {
    let s = Server::new();
    let mut c = s.conn();
    // Missing key with a count: null array.
    assert_eq!(c.cmd(&["LPOP", "l", "2"]), Reply::NilArray);
    assert_eq!(c.cmd(&["RPOP", "l", "0"]), Reply::NilArray);
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c", "d", "e"]), int(5));
    assert_eq!(c.cmd(&["LPOP", "l", "2"]), bulks(&["a", "b"]));
    assert_eq!(c.cmd(&["RPOP", "l", "2"]), bulks(&["e", "d"]));
    // Count 0 on an existing list: empty array.
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), empty());
    assert_eq!(c.cmd(&["LPOP", "l", "1"]), bulks(&["c"]));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    // A count above the length pops everything.
    assert_eq!(c.cmd(&["RPUSH", "l", "1", "2", "3"]), int(3));
    assert_eq!(c.cmd(&["RPOP", "l", "100"]), bulks(&["3", "2", "1"]));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    // Errors.
    assert_eq!(c.cmd(&["RPUSH", "l", "1"]), int(1));
    assert_eq!(
        c.cmd(&["LPOP", "l", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        c.cmd(&["RPOP", "l", "abc"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(c.cmd(&["LPOP", "l", "1", "2"]), arity_err("lpop"));
    assert_eq!(c.cmd(&["RPOP"]), arity_err("rpop"));
    assert_eq!(c.cmd(&["LLEN", "l"]), int(1));
}

#[test]
fn lrange_indices() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LRANGE", "nokey", "0", "-1"]), empty());
    assert_eq!(c.cmd(&["RPUSH", "l", "0", "1", "2", "3", "4", "5"]), int(6));
    assert_eq!(c.cmd(&["LRANGE", "l", "1", "3"]), bulks(&["1", "2", "3"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "-2", "-1"]), bulks(&["4", "5"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "-100", "1"]), bulks(&["0", "1"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "4", "100"]), bulks(&["4", "5"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "3", "2"]), empty());
    assert_eq!(c.cmd(&["LRANGE", "l", "6", "10"]), empty());
    assert_eq!(c.cmd(&["LRANGE", "l", "-1", "-2"]), empty());
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "0"]), bulks(&["0"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "-1", "-1"]), bulks(&["5"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "a", "1"]), err(NOT_INT));
    assert_eq!(c.cmd(&["LRANGE", "l", "0"]), arity_err("lrange"));
}

#[test]
fn lindex() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LINDEX", "nokey", "0"]), nil());
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["LINDEX", "l", "0"]), bulk("a"));
    assert_eq!(c.cmd(&["LINDEX", "l", "2"]), bulk("c"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), bulk("c"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-3"]), bulk("a"));
    assert_eq!(c.cmd(&["LINDEX", "l", "3"]), nil());
    assert_eq!(c.cmd(&["LINDEX", "l", "-4"]), nil());
    assert_eq!(c.cmd(&["LINDEX", "l", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["LINDEX", "l"]), arity_err("lindex"));
}

#[test]
fn lset() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LSET", "nokey", "0", "x"]), err("ERR no such key"));
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["LSET", "l", "0", "A"]), ok());
    assert_eq!(c.cmd(&["LSET", "l", "-1", "C"]), ok());
    assert_eq!(c.cmd(&["LSET", "l", "1", "a much longer element"]), ok());
    assert_eq!(
        range(&mut c, "l"),
        bulks(&["A", "a much longer element", "C"])
    );
    assert_eq!(
        c.cmd(&["LSET", "l", "3", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(
        c.cmd(&["LSET", "l", "-4", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(c.cmd(&["LSET", "l", "z", "x"]), err(NOT_INT));
    assert_eq!(c.cmd(&["LSET", "l", "0"]), arity_err("lset"));
}

#[test]
fn lrem() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LREM", "nokey", "0", "a"]), int(0));
    let fill = |c: &mut Conn| {
        c.cmd(&["DEL", "l"]);
        assert_eq!(
            c.cmd(&["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"]),
            int(7)
        );
    };
    fill(&mut c);
    assert_eq!(c.cmd(&["LREM", "l", "2", "a"]), int(2));
    assert_eq!(range(&mut c, "l"), bulks(&["b", "c", "a", "b", "a"]));
    fill(&mut c);
    assert_eq!(c.cmd(&["LREM", "l", "-2", "a"]), int(2));
    assert_eq!(range(&mut c, "l"), bulks(&["a", "b", "a", "c", "b"]));
    fill(&mut c);
    assert_eq!(c.cmd(&["LREM", "l", "0", "a"]), int(4));
    assert_eq!(range(&mut c, "l"), bulks(&["b", "c", "b"]));
    assert_eq!(c.cmd(&["LREM", "l", "0", "zzz"]), int(0));
    assert_eq!(c.cmd(&["LREM", "l", "100", "b"]), int(2));
    // Removing the last element deletes the key.
    assert_eq!(c.cmd(&["LREM", "l", "0", "c"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["LREM", "l", "x", "a"]), err(NOT_INT));
    assert_eq!(c.cmd(&["LREM", "l", "0"]), arity_err("lrem"));
}

#[test]
fn ltrim() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LTRIM", "nokey", "0", "1"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "0", "1", "2", "3", "4", "5"]), int(6));
    assert_eq!(c.cmd(&["LTRIM", "l", "1", "-2"]), ok());
    assert_eq!(range(&mut c, "l"), bulks(&["1", "2", "3", "4"]));
    assert_eq!(c.cmd(&["LTRIM", "l", "-100", "100"]), ok());
    assert_eq!(range(&mut c, "l"), bulks(&["1", "2", "3", "4"]));
    assert_eq!(c.cmd(&["LTRIM", "l", "2", "2"]), ok());
    assert_eq!(range(&mut c, "l"), bulks(&["3"]));
    // An empty range deletes the key.
    assert_eq!(c.cmd(&["LTRIM", "l", "1", "0"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), int(2));
    assert_eq!(c.cmd(&["LTRIM", "l", "5", "10"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["LTRIM", "l", "a", "1"]), err(NOT_INT));
    assert_eq!(c.cmd(&["LTRIM", "l", "0"]), arity_err("ltrim"));
}

#[test]
fn wrongtype_on_list_commands() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "s", "v"]), ok());
    for args in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "x"],
        &["LREM", "s", "0", "x"],
        &["LTRIM", "s", "0", "1"],
    ] {
        assert_eq!(c.cmd(args), err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(c.cmd(&["GET", "s"]), bulk("v"));
}

#[test]
fn long_list_roundtrip() {
    let s = Server::new();
    let mut c = s.conn();
    let mut args = vec!["RPUSH".to_string(), "big".to_string()];
    for i in 0..5000 {
        args.push(format!("item-{i}"));
    }
    assert_eq!(c.cmd(&args), int(5000));
    let all = c.cmd(&["LRANGE", "big", "0", "-1"]).strings();
    assert_eq!(all.len(), 5000);
    assert!(all
        .iter()
        .enumerate()
        .all(|(i, v)| *v == format!("item-{i}")));
    assert_eq!(c.cmd(&["LINDEX", "big", "2500"]), bulk("item-2500"));
    assert_eq!(c.cmd(&["LPOP", "big", "1000"]).items().len(), 1000);
    assert_eq!(c.cmd(&["LLEN", "big"]), int(4000));
    assert_eq!(c.cmd(&["LINDEX", "big", "0"]), bulk("item-1000"));
}

/// Keys `[shard][i]`: two on each of the 2 default shards.
fn spread(prefix: &str) -> Vec<Vec<String>> {
    keys_per_shard(prefix, 2, 2)
}

/// `rdb_changes_since_last_save` from INFO persistence (Redis's `server.dirty` since the save).
fn changes(c: &mut Conn) -> i64 {
    let info = c.cmd(&["INFO", "persistence"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO")
}

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                         second ... or use negative to start from the end of the list";

#[test]
fn linsert() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LINSERT", "nokey", "BEFORE", "a", "x"]), int(0));
    // The position word is checked before the key.
    assert_eq!(
        c.cmd(&["LINSERT", "nokey", "middle", "a", "x"]),
        err(SYNTAX)
    );
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "a"]), int(3));
    assert_eq!(c.cmd(&["LINSERT", "l", "BEFORE", "a", "x"]), int(4));
    assert_eq!(c.cmd(&["LINSERT", "l", "after", "a", "y"]), int(5));
    assert_eq!(c.cmd(&["LINSERT", "l", "AfTeR", "b", "z"]), int(6));
    assert_eq!(c.cmd(&["LINSERT", "l", "before", "zz", "q"]), int(-1));
    assert_eq!(c.cmd(&["LINSERT", "l", "after", "a", ""]), int(7));
    assert_eq!(
        range(&mut c, "l"),
        bulks(&["x", "a", "", "y", "b", "z", "a"])
    );
    assert_eq!(c.cmd(&["LINSERT", "l", "after", "", "e"]), int(8));
    assert_eq!(c.cmd(&["LINDEX", "l", "3"]), bulk("e"));
    assert_eq!(c.cmd(&["LINSERT", "l", "up", "a", "x"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SET", "s", "v"]), ok());
    assert_eq!(c.cmd(&["LINSERT", "s", "before", "a", "x"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LINSERT", "s", "bad", "a", "x"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["LINSERT", "l", "before", "a"]),
        arity_err("linsert")
    );
    assert_eq!(
        c.cmd(&["LINSERT", "l", "before", "a", "b", "c"]),
        arity_err("linsert")
    );
}

#[test]
fn lpos_replies() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LPOS", "nokey", "a"]), nil());
    assert_eq!(c.cmd(&["LPOS", "nokey", "a", "COUNT", "0"]), empty());
    assert_eq!(
        c.cmd(&["LPOS", "nokey", "a", "RANK", "-1", "COUNT", "3"]),
        empty()
    );
    // index:                                     0    1    2    3    4    5    6
    assert_eq!(
        c.cmd(&["RPUSH", "l", "a", "b", "a", "c", "a", "d", "a"]),
        int(7)
    );
    assert_eq!(c.cmd(&["LPOS", "l", "a"]), int(0));
    assert_eq!(c.cmd(&["LPOS", "l", "c"]), int(3));
    assert_eq!(c.cmd(&["LPOS", "l", "zz"]), nil());
    assert_eq!(c.cmd(&["LPOS", "l", "zz", "COUNT", "1"]), empty());
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "2"]), int(2));
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "4"]), int(6));
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "5"]), nil());
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "-1"]), int(6));
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "-3"]), int(2));
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "0"]),
        arr(vec![int(0), int(2), int(4), int(6)])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "2"]),
        arr(vec![int(0), int(2)])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "count", "2", "rank", "2"]),
        arr(vec![int(2), int(4)])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "-2", "COUNT", "0"]),
        arr(vec![int(4), int(2), int(0)])
    );
    assert_eq!(c.cmd(&["LPOS", "l", "a", "COUNT", "1"]), arr(vec![int(0)]));
    // MAXLEN bounds the elements compared, from whichever end the search starts.
    assert_eq!(c.cmd(&["LPOS", "l", "c", "MAXLEN", "3"]), nil());
    assert_eq!(c.cmd(&["LPOS", "l", "c", "MAXLEN", "4"]), int(3));
    assert_eq!(
        c.cmd(&["LPOS", "l", "b", "RANK", "-1", "MAXLEN", "5"]),
        nil()
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "b", "RANK", "-1", "MAXLEN", "6"]),
        int(1)
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "5"]),
        arr(vec![int(0), int(2), int(4)])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "MAXLEN", "0", "RANK", "-4"]),
        int(0)
    );
    // Huge numbers are bounds, never sizes.
    let max = "9223372036854775807";
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", max, "MAXLEN", max]),
        arr(vec![int(0), int(2), int(4), int(6)])
    );
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", max]), nil());
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "-9223372036854775807"]),
        nil()
    );
    // RANK i64::MIN: Redis 7.0 negates it with overflow, so it searches from the tail and its
    // COUNT test never passes (every match is returned).
    let min = "-9223372036854775808";
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", min]), int(6));
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", min, "COUNT", "1"]),
        arr(vec![int(6), int(4), int(2), int(0)])
    );
    // A later option overrides an earlier one.
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "2", "RANK", "1"]), int(0));
}

#[test]
fn lpos_errors() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["SET", "s", "v"]), ok());
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "0"]), err(RANK_ZERO));
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK", "x"]), err(NOT_INT));
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "RANK", "9223372036854775808"]),
        err(NOT_INT)
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "-1"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "x"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "MAXLEN", "-1"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "MAXLEN", "1.5"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c.cmd(&["LPOS", "l", "a", "RANK"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LPOS", "l", "a", "FOO", "1"]), err(SYNTAX));
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "1", "MAXLEN"]),
        err(SYNTAX)
    );
    // The first bad option wins; options are checked before the key (missing or wrong type).
    assert_eq!(
        c.cmd(&["LPOS", "l", "a", "COUNT", "-1", "RANK", "0"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(c.cmd(&["LPOS", "nokey", "a", "RANK", "0"]), err(RANK_ZERO));
    assert_eq!(
        c.cmd(&["LPOS", "s", "a", "MAXLEN", "-5"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c.cmd(&["LPOS", "s", "a"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LPOS", "s", "a", "COUNT", "1"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LPOS", "l"]), arity_err("lpos"));
}

#[test]
fn lmove_same_key_rotates() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "LEFT", "RIGHT"]), nil());
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(range(&mut c, "l"), bulks(&["b", "c", "a"]));
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "right", "left"]), bulk("a"));
    assert_eq!(range(&mut c, "l"), bulks(&["a", "b", "c"]));
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "left", "left"]), bulk("a"));
    assert_eq!(c.cmd(&["LMOVE", "l", "l", "right", "right"]), bulk("c"));
    assert_eq!(range(&mut c, "l"), bulks(&["a", "b", "c"]));
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "l"]), bulk("c"));
    assert_eq!(range(&mut c, "l"), bulks(&["c", "a", "b"]));
    // A one-element list rotates onto itself and keeps its TTL (the key is never deleted).
    assert_eq!(c.cmd(&["RPUSH", "one", "x"]), int(1));
    assert_eq!(c.cmd(&["EXPIRE", "one", "1000"]), int(1));
    assert_eq!(c.cmd(&["RPOPLPUSH", "one", "one"]), bulk("x"));
    assert_eq!(c.cmd(&["LMOVE", "one", "one", "LEFT", "RIGHT"]), bulk("x"));
    assert_eq!(range(&mut c, "one"), bulks(&["x"]));
    assert!(c.cmd(&["TTL", "one"]).int() > 0);
}

/// LMOVE/RPOPLPUSH between `src` and `dst` (on one shard or two): replies, order, deletion of an
/// emptied source, and the destination created on demand.
fn moves_between(c: &mut Conn, src: &str, dst: &str) {
    c.cmd(&["DEL", src, dst]);
    assert_eq!(c.cmd(&["LMOVE", src, dst, "LEFT", "RIGHT"]), nil());
    assert_eq!(c.cmd(&["RPOPLPUSH", src, dst]), nil());
    assert_eq!(c.cmd(&["EXISTS", src, dst]), int(0));
    assert_eq!(c.cmd(&["RPUSH", src, "a", "b", "c", "d"]), int(4));
    assert_eq!(c.cmd(&["LMOVE", src, dst, "LEFT", "RIGHT"]), bulk("a"));
    assert_eq!(c.cmd(&["LMOVE", src, dst, "left", "left"]), bulk("b"));
    assert_eq!(range(c, dst), bulks(&["b", "a"]));
    assert_eq!(c.cmd(&["RPOPLPUSH", src, dst]), bulk("d"));
    assert_eq!(range(c, dst), bulks(&["d", "b", "a"]));
    assert_eq!(c.cmd(&["LMOVE", dst, src, "RIGHT", "LEFT"]), bulk("a"));
    assert_eq!(range(c, src), bulks(&["a", "c"]));
    assert_eq!(c.cmd(&["LMOVE", src, dst, "Right", "Right"]), bulk("c"));
    assert_eq!(c.cmd(&["LMOVE", src, dst, "left", "right"]), bulk("a"));
    // The emptied source is gone; the destination holds everything, once.
    assert_eq!(c.cmd(&["EXISTS", src]), int(0));
    assert_eq!(c.cmd(&["TYPE", src]), simple("none"));
    assert_eq!(range(c, dst), bulks(&["d", "b", "c", "a"]));
    assert_eq!(c.cmd(&["LMOVE", src, dst, "left", "right"]), nil());
    // Binary and large elements survive the trip.
    let big = "x".repeat(100_000);
    assert_eq!(c.cmd(&["RPUSH", src, "\r\n\0", &big]), int(2));
    assert_eq!(c.cmd(&["RPOPLPUSH", src, dst]), bulk(&big));
    assert_eq!(c.cmd(&["LMOVE", src, dst, "LEFT", "RIGHT"]), bulk("\r\n\0"));
    assert_eq!(c.cmd(&["LLEN", dst]), int(6));
    assert_eq!(c.cmd(&["LINDEX", dst, "0"]), bulk(&big));
    assert_eq!(c.cmd(&["LINDEX", dst, "-1"]), bulk("\r\n\0"));
    assert_eq!(c.cmd(&["EXISTS", src]), int(0));
}

#[test]
fn lmove_and_rpoplpush_one_shard() {
    let s = Server::new();
    let mut c = s.conn();
    let k = spread("mv1:");
    moves_between(&mut c, &k[0][0], &k[0][1]);
    moves_between(&mut c, &k[1][1], &k[1][0]);
}

#[test]
fn lmove_and_rpoplpush_across_shards() {
    let s = Server::new();
    let mut c = s.conn();
    let k = spread("mv2:");
    moves_between(&mut c, &k[0][0], &k[1][0]);
    moves_between(&mut c, &k[1][1], &k[0][1]);
}

/// WRONGTYPE on either side pops nothing; a missing source answers nil before the destination's
/// type is looked at, as Redis 7.0's `lmoveGenericCommand` does.
fn move_type_checks(c: &mut Conn, list: &str, string: &str, missing: &str) {
    c.cmd(&["DEL", list, string, missing]);
    assert_eq!(c.cmd(&["RPUSH", list, "a", "b"]), int(2));
    assert_eq!(c.cmd(&["SET", string, "v"]), ok());
    assert_eq!(
        c.cmd(&["LMOVE", list, string, "LEFT", "RIGHT"]),
        err(WRONGTYPE)
    );
    assert_eq!(c.cmd(&["RPOPLPUSH", list, string]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["LMOVE", string, list, "LEFT", "RIGHT"]),
        err(WRONGTYPE)
    );
    assert_eq!(c.cmd(&["RPOPLPUSH", string, list]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["RPOPLPUSH", string, missing]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["LMOVE", string, string, "LEFT", "LEFT"]),
        err(WRONGTYPE)
    );
    assert_eq!(c.cmd(&["LMOVE", missing, string, "LEFT", "RIGHT"]), nil());
    assert_eq!(c.cmd(&["RPOPLPUSH", missing, string]), nil());
    assert_eq!(range(c, list), bulks(&["a", "b"]));
    assert_eq!(c.cmd(&["GET", string]), bulk("v"));
    assert_eq!(c.cmd(&["EXISTS", missing]), int(0));
    // A one-element source stays put too (no delete and re-create).
    assert_eq!(c.cmd(&["DEL", list]), int(1));
    assert_eq!(c.cmd(&["RPUSH", list, "only"]), int(1));
    assert_eq!(c.cmd(&["EXPIRE", list, "1000"]), int(1));
    assert_eq!(
        c.cmd(&["LMOVE", list, string, "RIGHT", "LEFT"]),
        err(WRONGTYPE)
    );
    assert_eq!(range(c, list), bulks(&["only"]));
    assert!(c.cmd(&["TTL", list]).int() > 0);
    // Other types than strings.
    assert_eq!(c.cmd(&["DEL", string]), int(1));
    assert_eq!(c.cmd(&["SADD", string, "m"]), int(1));
    assert_eq!(
        c.cmd(&["LMOVE", list, string, "LEFT", "RIGHT"]),
        err(WRONGTYPE)
    );
    assert_eq!(
        c.cmd(&["LMOVE", string, list, "LEFT", "RIGHT"]),
        err(WRONGTYPE)
    );
    assert_eq!(range(c, list), bulks(&["only"]));
}

#[test]
fn lmove_wrongtype_pops_nothing() {
    let s = Server::new();
    let mut c = s.conn();
    let k = spread("wt:");
    // Same shard.
    move_type_checks(&mut c, &k[0][0], &k[0][1], "wt:none-a");
    // List and string on different shards, the missing key on either.
    move_type_checks(&mut c, &k[0][0], &k[1][0], &k[0][1]);
    move_type_checks(&mut c, &k[1][1], &k[0][1], &k[1][0]);
}

#[test]
fn lmove_arguments() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(c.cmd(&["LMOVE", "l", "m", "UP", "LEFT"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMOVE", "l", "m", "LEFT", "DOWN"]), err(SYNTAX));
    // The sides are parsed before any key is looked at.
    assert_eq!(c.cmd(&["LMOVE", "nokey", "m", "LEFT", "DOWN"]), err(SYNTAX));
    assert_eq!(c.cmd(&["LMOVE", "l", "m", "LEFT"]), arity_err("lmove"));
    assert_eq!(
        c.cmd(&["LMOVE", "l", "m", "LEFT", "LEFT", "x"]),
        arity_err("lmove")
    );
    assert_eq!(c.cmd(&["RPOPLPUSH", "l"]), arity_err("rpoplpush"));
    assert_eq!(c.cmd(&["RPOPLPUSH", "l", "m", "x"]), arity_err("rpoplpush"));
    assert_eq!(range(&mut c, "l"), bulks(&["a"]));
    assert_eq!(c.cmd(&["EXISTS", "m"]), int(0));
}

#[test]
fn lmpop_replies() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LMPOP", "1", "nokey", "LEFT"]), Reply::NilArray);
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "nokey2", "RIGHT", "COUNT", "5"]),
        Reply::NilArray
    );
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b", "c", "d", "e"]), int(5));
    let popped = |key: &str, items: &[&str]| arr(vec![bulk(key), bulks(items)]);
    assert_eq!(c.cmd(&["LMPOP", "1", "l", "LEFT"]), popped("l", &["a"]));
    assert_eq!(c.cmd(&["LMPOP", "1", "l", "right"]), popped("l", &["e"]));
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "l", "left", "count", "2"]),
        popped("l", &["b", "c"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "1", "l", "LEFT", "COUNT", "9223372036854775807"]),
        popped("l", &["d"])
    );
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    assert_eq!(c.cmd(&["RPUSH", "l", "1", "2", "3"]), int(3));
    assert_eq!(
        c.cmd(&["LMPOP", "1", "l", "RIGHT", "COUNT", "10"]),
        popped("l", &["3", "2", "1"])
    );
    assert_eq!(c.cmd(&["EXISTS", "l"]), int(0));
    // The first non-empty list in argument order; a wrong type only matters if reached.
    assert_eq!(c.cmd(&["RPUSH", "l1", "x"]), int(1));
    assert_eq!(c.cmd(&["RPUSH", "l2", "y", "z"]), int(2));
    assert_eq!(c.cmd(&["SET", "s", "v"]), ok());
    assert_eq!(
        c.cmd(&["LMPOP", "3", "l2", "s", "l1", "LEFT"]),
        popped("l2", &["y"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "3", "nokey", "s", "l1", "LEFT"]),
        err(WRONGTYPE)
    );
    assert_eq!(
        c.cmd(&["LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "5"]),
        popped("l1", &["x"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "5"]),
        popped("l2", &["z"])
    );
    assert_eq!(c.cmd(&["EXISTS", "l1", "l2"]), int(0));
    // The same key twice.
    assert_eq!(c.cmd(&["RPUSH", "l", "a"]), int(1));
    assert_eq!(
        c.cmd(&["LMPOP", "2", "l", "l", "LEFT"]),
        popped("l", &["a"])
    );
}

#[test]
fn lmpop_errors() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), int(2));
    let numkeys = err("ERR numkeys should be greater than 0");
    let count = err("ERR count should be greater than 0");
    for args in [
        &["LMPOP", "0", "l", "LEFT"][..],
        &["LMPOP", "-1", "l", "LEFT"],
        &["LMPOP", "x", "l", "LEFT"],
        &["LMPOP", "9223372036854775808", "l", "LEFT"],
    ] {
        assert_eq!(c.cmd(args), numkeys, "{args:?}");
    }
    for args in [
        &["LMPOP", "1", "l", "LEFT", "COUNT", "0"][..],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "-1"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "x"],
        &["LMPOP", "1", "nokey", "LEFT", "COUNT", "0"],
    ] {
        assert_eq!(c.cmd(args), count, "{args:?}");
    }
    for args in [
        &["LMPOP", "2", "l", "LEFT"][..],
        &["LMPOP", "3", "l", "LEFT"],
        &["LMPOP", "9223372036854775807", "l", "LEFT"],
        &["LMPOP", "1", "l", "MIDDLE"],
        &["LMPOP", "2", "l", "nokey", "MIDDLE"],
        &["LMPOP", "1", "l", "LEFT", "COUNT"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1"],
        &["LMPOP", "1", "l", "LEFT", "FOO"],
        &["LMPOP", "1", "l", "LEFT", "FOO", "1"],
    ] {
        assert_eq!(c.cmd(args), err(SYNTAX), "{args:?}");
    }
    assert_eq!(c.cmd(&["LMPOP", "1", "l"]), arity_err("lmpop"));
    assert_eq!(c.cmd(&["LMPOP", "1"]), arity_err("lmpop"));
    // Nothing was popped by any of them.
    assert_eq!(range(&mut c, "l"), bulks(&["a", "b"]));
}

#[test]
fn lmpop_across_shards_in_argument_order() {
    let s = Server::new();
    let mut c = s.conn();
    let k = spread("mp:");
    let (a0, a1, b0, b1) = (&k[0][0], &k[0][1], &k[1][0], &k[1][1]);
    let popped = |key: &str, items: &[&str]| arr(vec![bulk(key), bulks(items)]);
    // a0 (shard 0) missing, b0 (shard 1) a list, a1 (shard 0) a list: b0 comes first.
    assert_eq!(c.cmd(&["RPUSH", b0, "b0-1", "b0-2"]), int(2));
    assert_eq!(c.cmd(&["RPUSH", a1, "a1-1"]), int(1));
    assert_eq!(
        c.cmd(&["LMPOP", "3", a0, b0, a1, "LEFT"]),
        popped(b0, &["b0-1"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "3", a0, a1, b0, "RIGHT", "COUNT", "3"]),
        popped(a1, &["a1-1"])
    );
    assert_eq!(c.cmd(&["EXISTS", a1]), int(0));
    assert_eq!(
        c.cmd(&["LMPOP", "3", a0, a1, b0, "RIGHT", "COUNT", "3"]),
        popped(b0, &["b0-2"])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "4", a0, b0, a1, b1, "LEFT"]),
        Reply::NilArray
    );
    // A wrong type on another shard is reached only after every earlier key is empty.
    assert_eq!(c.cmd(&["SET", b1, "v"]), ok());
    assert_eq!(c.cmd(&["RPUSH", a1, "x"]), int(1));
    assert_eq!(c.cmd(&["LMPOP", "3", a0, b1, a1, "LEFT"]), err(WRONGTYPE));
    assert_eq!(
        c.cmd(&["LMPOP", "3", a1, b1, a0, "LEFT"]),
        popped(a1, &["x"])
    );
    assert_eq!(c.cmd(&["LMPOP", "2", b0, b1, "LEFT"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["GET", b1]), bulk("v"));
}

#[test]
fn lmpop_many_shards() {
    let s = Server::start(Opts::shards(4));
    let mut c = s.conn();
    let keys: Vec<String> = keys_per_shard("mp4:", 4, 2).into_iter().flatten().collect();
    // Only the last key (in argument order) holds a list.
    let last = keys.last().unwrap().clone();
    assert_eq!(c.cmd(&["RPUSH", &last, "1", "2", "3"]), int(3));
    let mut cmd = vec!["LMPOP".to_string(), keys.len().to_string()];
    cmd.extend(keys.iter().cloned());
    cmd.extend(["RIGHT".to_string(), "COUNT".to_string(), "2".to_string()]);
    assert_eq!(c.cmd(&cmd), arr(vec![bulk(&last), bulks(&["3", "2"])]));
    assert_eq!(c.cmd(&cmd), arr(vec![bulk(&last), bulks(&["1"])]));
    assert_eq!(c.cmd(&cmd), Reply::NilArray);
    // Moves between every pair of shards.
    assert_eq!(c.cmd(&["RPUSH", &keys[0], "e"]), int(1));
    for w in keys.windows(2) {
        assert_eq!(c.cmd(&["LMOVE", &w[0], &w[1], "LEFT", "RIGHT"]), bulk("e"));
        assert_eq!(c.cmd(&["EXISTS", &w[0]]), int(0));
    }
    assert_eq!(range(&mut c, &last), bulks(&["e"]));
}

#[test]
fn changes_are_counted_like_redis() {
    let s = Server::new();
    let mut c = s.conn();
    let k = spread("dirty:");
    let (a, b, a2) = (&k[0][0], &k[1][0], &k[0][1]);
    assert_eq!(c.cmd(&["RPUSH", a, "1", "2", "3", "4", "5", "6"]), int(6));
    assert_eq!(c.cmd(&["SET", "dirty:str", "v"]), ok());
    let check = |c: &mut Conn, args: &[&str], want: i64| {
        let before = changes(c);
        let reply = c.cmd(args);
        assert_eq!(changes(c) - before, want, "{args:?} -> {reply:?}");
    };
    check(&mut c, &["LMOVE", a, b, "LEFT", "RIGHT"], 1);
    check(&mut c, &["LMOVE", a, a2, "LEFT", "RIGHT"], 1);
    check(&mut c, &["RPOPLPUSH", a, a], 1);
    check(&mut c, &["RPOPLPUSH", a, "dirty:str"], 0);
    check(&mut c, &["RPOPLPUSH", "dirty:none", a], 0);
    check(
        &mut c,
        &["LMPOP", "2", "dirty:none", a, "LEFT", "COUNT", "2"],
        2,
    );
    check(&mut c, &["LMPOP", "1", "dirty:none", "LEFT"], 0);
    check(&mut c, &["LINSERT", b, "BEFORE", "1", "0"], 1);
    check(&mut c, &["LINSERT", b, "BEFORE", "zz", "0"], 0);
    check(&mut c, &["LPOS", b, "1"], 0);
}

#[test]
fn moves_wake_blocked_clients() {
    let s = Server::new();
    let mut c = s.conn();
    let k = spread("wake:");
    for (src, dst) in [(&k[0][0], &k[1][0]), (&k[0][1], &k[0][0])] {
        let mut waiter = s.conn();
        waiter.send_cmd(&["BLPOP", dst.as_str(), "5"]);
        // Until the server shows the client blocked (one round trip is not enough on real Redis).
        assert!(wait_until(
            std::time::Duration::from_secs(5),
            std::time::Duration::from_millis(10),
            || c.cmd(&["INFO", "clients"])
                .text()
                .contains("blocked_clients:1")
        ));
        assert_eq!(c.cmd(&["RPUSH", src, "e"]), int(1));
        assert_eq!(c.cmd(&["LMOVE", src, dst, "LEFT", "RIGHT"]), bulk("e"));
        assert_eq!(waiter.read_reply(), bulks(&[dst.as_str(), "e"]));
        assert_eq!(c.cmd(&["EXISTS", src, dst]), int(0));
    }
}

#[test]
fn internal_list_steps_are_unknown_to_clients() {
    let s = Server::new();
    let mut c = s.conn();
    for name in [
        "__list-move",
        "__LIST-POP",
        "__list-push",
        "__list-mpop",
        "__list-kind",
    ] {
        assert_eq!(
            c.cmd(&[name, "a"]),
            err(&format!(
                "ERR unknown command '{name}', with args beginning with: 'a' "
            ))
        );
    }
}

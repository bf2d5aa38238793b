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

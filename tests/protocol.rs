//! The RESP protocol over TCP: inline commands, pipelining, frames split across writes,
//! protocol errors (Redis's exact texts, then the connection closes), command lookup errors,
//! and clients that misbehave without hurting the server.

mod common;

use common::*;
use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

/// Sends `bytes`, expects `error` as the (last) reply, then the server closes the connection.
fn expect_protocol_error(server: &Server, bytes: &[u8], before: &[Reply], error: &str) {
    let mut c = server.conn();
    c.send(bytes);
    for r in before {
        assert_eq!(&c.read_reply(), r, "reply before the protocol error");
    }
    assert_eq!(
        c.read_reply(),
        err(error),
        "for input {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
    );
    c.expect_closed();
}

#[test]
fn reply_parser_self_check() {
    let r = parse_reply(b"*3\r\n$3\r\nfoo\r\n:5\r\n$-1\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(r, (arr(vec![bulk("foo"), int(5), nil()]), 22));
    assert_eq!(parse_reply(b"*2\r\n$3\r\nfoo\r\n").unwrap(), None);
    assert_eq!(parse_reply(b"$3\r\nfo").unwrap(), None);
    assert_eq!(parse_reply(b"-ERR x\r\n").unwrap().unwrap().0, err("ERR x"));
    assert_eq!(parse_reply(b"*-1\r\n").unwrap().unwrap().0, Reply::NilArray);
}

#[test]
fn inline_ping_and_blank_lines() {
    let s = Server::new();
    let mut c = s.conn();
    c.send(b"PING\r\n");
    assert_eq!(c.read_reply(), simple("PONG"));
    // A bare LF ends an inline command too.
    c.send(b"PING\n");
    assert_eq!(c.read_reply(), simple("PONG"));
    // Empty lines are ignored: one reply only.
    c.send(b"\r\n\r\n\nping\r\n");
    assert_eq!(c.read_reply(), simple("PONG"));
    c.send(b"ping hello\r\n");
    assert_eq!(c.read_reply(), bulk("hello"));
    // Extra spaces and tabs separate arguments.
    c.send(b"  ECHO   hi  \r\necho\tthere\r\n");
    assert_eq!(c.read_reply(), bulk("hi"));
    assert_eq!(c.read_reply(), bulk("there"));
    // A RESP frame after inline commands on the same connection.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn inline_quoted_arguments() {
    let s = Server::new();
    let mut c = s.conn();
    c.send(b"SET \"a b\" \"x\\x41\\n\\ty\"\r\n");
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.cmd(&["GET", "a b"]), bulk("xA\n\ty"));
    c.send(b"SET 'k 2' 'it\\'s'\r\nGET \"k 2\"\r\n");
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), bulk("it's"));
    c.send(b"ECHO \"a\\\"b\"\r\n");
    assert_eq!(c.read_reply(), bulk("a\"b"));
    // Single quotes keep backslash sequences other than \' literally.
    c.send(b"ECHO 'a\\nb'\r\n");
    assert_eq!(c.read_reply(), bulk("a\\nb"));
    c.send(b"ECHO \"\"\r\nECHO ''\r\n");
    assert_eq!(c.read_reply(), bulk(""));
    assert_eq!(c.read_reply(), bulk(""));
}

#[test]
fn zero_and_negative_multibulk_counts_are_ignored() {
    let s = Server::new();
    let mut c = s.conn();
    c.send(b"*0\r\n*-1\r\nPING\r\n");
    assert_eq!(c.read_reply(), simple("PONG"));
    assert_eq!(c.cmd(&["ECHO", "next"]), bulk("next"));
}

#[test]
fn bulk_arguments_are_binary_safe() {
    let s = Server::new();
    let mut c = s.conn();
    let key: &[u8] = b"k\r\n\0\xff";
    let val: &[u8] = b"\0\r\n$3\r\n*1\r\n\xfe";
    assert_eq!(c.cmd(&[b"SET" as &[u8], key, val]), ok());
    assert_eq!(c.cmd(&[b"GET" as &[u8], key]), bulk(val));
    assert_eq!(c.cmd(&[b"STRLEN" as &[u8], key]), int(val.len() as i64));
    assert_eq!(c.cmd(&[b"ECHO" as &[u8], b""]), bulk(""));
}

#[test]
fn pipeline_of_10000_commands_in_one_write_keeps_order() {
    let s = Server::new();
    let mut c = s.conn();
    const N: usize = 10_000;
    let mut buf = Vec::new();
    for i in 0..N {
        if i % 10 == 9 {
            encode_cmd_into(&["ECHO".to_string(), format!("msg-{i}")], &mut buf);
        } else if i % 10 == 5 {
            encode_cmd_into(
                &["SET".to_string(), format!("k{i}"), format!("v{i}")],
                &mut buf,
            );
        } else {
            encode_cmd_into(&["INCR", "counter"], &mut buf);
        }
    }
    // Write from another thread while this one reads: a real client never waits for the whole
    // request to be written before reading (the server may stop reading while its replies
    // are not consumed).
    let mut w = c.stream.try_clone().unwrap();
    let writer = thread::spawn(move || w.write_all(&buf).map(|_| ()));
    let mut counter = 0;
    for i in 0..N {
        let r = c.read_reply();
        if i % 10 == 9 {
            assert_eq!(r, bulk(format!("msg-{i}")), "reply {i}");
        } else if i % 10 == 5 {
            assert_eq!(r, ok(), "reply {i}");
        } else {
            counter += 1;
            assert_eq!(r, int(counter), "reply {i}");
        }
    }
    writer.join().unwrap().expect("write pipeline");
    assert_eq!(c.cmd(&["GET", "k9995"]), bulk("v9995"));
    assert_eq!(c.cmd(&["GET", "counter"]), bulk(counter.to_string()));
}

#[test]
fn pipelined_large_replies_while_the_client_keeps_writing() {
    let s = Server::new();
    let mut c = s.conn();
    let mut args = vec!["RPUSH".to_string(), "biglist".to_string()];
    for i in 0..2000 {
        args.push(format!("element-{i:05}-padding-padding"));
    }
    assert_eq!(c.cmd(&args), int(2000));
    // 300 replies of ~80 KB each (24 MB) while the requests are still being written.
    let mut buf = Vec::new();
    for i in 0..300 {
        encode_cmd_into(&["LRANGE", "biglist", "0", "-1"], &mut buf);
        encode_cmd_into(&["ECHO".to_string(), format!("marker-{i}")], &mut buf);
    }
    let mut w = c.stream.try_clone().unwrap();
    let writer = thread::spawn(move || w.write_all(&buf).map(|_| ()));
    for i in 0..300 {
        let r = c.read_reply();
        let items = r.items();
        assert_eq!(items.len(), 2000, "reply {i}");
        assert_eq!(items[1999], bulk("element-01999-padding-padding"));
        assert_eq!(c.read_reply(), bulk(format!("marker-{i}")));
    }
    writer.join().unwrap().expect("write pipeline");
}

#[test]
fn frames_split_at_every_byte_position() {
    let s = Server::new();
    let mut c = s.conn();
    let frame = encode_cmd(&["SET", "split-key", "hello\r\nworld"]);
    for cut in 1..frame.len() {
        c.send(&frame[..cut]);
        // Give the server a chance to see the partial frame on its own.
        thread::sleep(Duration::from_millis(2));
        c.send(&frame[cut..]);
        assert_eq!(c.read_reply(), ok(), "split at byte {cut}");
    }
    // Two frames, the split inside the second one (the first must be answered already).
    let mut two = encode_cmd(&["ECHO", "first"]);
    two.extend(encode_cmd(&["ECHO", "second"]));
    for cut in 1..two.len() {
        c.send(&two[..cut]);
        thread::sleep(Duration::from_millis(1));
        c.send(&two[cut..]);
        assert_eq!(c.read_reply(), bulk("first"), "split at byte {cut}");
        assert_eq!(c.read_reply(), bulk("second"), "split at byte {cut}");
    }
    assert_eq!(c.cmd(&["GET", "split-key"]), bulk("hello\r\nworld"));
}

#[test]
fn inline_command_split_across_writes() {
    let s = Server::new();
    let mut c = s.conn();
    let line = b"ECHO \"split inline\"\r\n";
    for cut in 1..line.len() {
        c.send(&line[..cut]);
        thread::sleep(Duration::from_millis(2));
        c.send(&line[cut..]);
        assert_eq!(c.read_reply(), bulk("split inline"), "split at byte {cut}");
    }
}

#[test]
fn pipeline_sent_one_byte_at_a_time() {
    let s = Server::new();
    let mut c = s.conn();
    let mut buf = Vec::new();
    encode_cmd_into(&["SET", "bb", "1"], &mut buf);
    encode_cmd_into(&["INCRBY", "bb", "41"], &mut buf);
    buf.extend_from_slice(b"GET bb\r\n");
    encode_cmd_into(&["DEL", "bb"], &mut buf);
    for b in &buf {
        c.send(std::slice::from_ref(b));
    }
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), int(42));
    assert_eq!(c.read_reply(), bulk("42"));
    assert_eq!(c.read_reply(), int(1));
}

#[test]
fn large_value_across_many_writes() {
    let s = Server::new();
    let mut c = s.conn();
    let value: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let frame = encode_cmd(&[b"SET" as &[u8], b"big", &value]);
    for chunk in frame.chunks(70_001) {
        c.send(chunk);
    }
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.cmd(&["STRLEN", "big"]), int(value.len() as i64));
    assert_eq!(c.cmd(&["GET", "big"]), Reply::Bulk(value));
}

#[test]
fn protocol_error_invalid_multibulk_length() {
    let s = Server::new();
    let e = "ERR Protocol error: invalid multibulk length";
    expect_protocol_error(&s, b"*abc\r\n", &[], e);
    expect_protocol_error(&s, b"*\r\n", &[], e);
    expect_protocol_error(&s, b"*2147483648\r\n", &[], e);
    // Commands before the bad frame in the same read are answered first.
    expect_protocol_error(&s, b"PING\r\n*x1\r\n", &[simple("PONG")], e);
}

#[test]
fn protocol_error_invalid_bulk_length() {
    let s = Server::new();
    let e = "ERR Protocol error: invalid bulk length";
    expect_protocol_error(&s, b"*1\r\n$abc\r\n", &[], e);
    expect_protocol_error(&s, b"*1\r\n$\r\n", &[], e);
    expect_protocol_error(&s, b"*1\r\n$-1\r\n", &[], e);
    // One above proto-max-bulk-len (512 MB).
    expect_protocol_error(&s, b"*2\r\n$4\r\nECHO\r\n$536870913\r\n", &[], e);
    expect_protocol_error(&s, b"PING\r\n*2\r\n$-1\r\n", &[simple("PONG")], e);
}

#[test]
fn protocol_error_expected_dollar() {
    let s = Server::new();
    expect_protocol_error(
        &s,
        b"*1\r\nxyz\r\n",
        &[],
        "ERR Protocol error: expected '$', got 'x'",
    );
    expect_protocol_error(
        &s,
        b"*2\r\n$4\r\nECHO\r\n:12\r\n",
        &[],
        "ERR Protocol error: expected '$', got ':'",
    );
}

#[test]
fn protocol_error_too_big_inline_request() {
    let s = Server::new();
    // 64 KiB + 1 bytes with no newline: exactly one byte over the inline limit, so the server has
    // read everything we sent when it answers (no unread data turning its close into a reset).
    let line = vec![b'a'; 64 * 1024 + 1];
    expect_protocol_error(&s, &line, &[], "ERR Protocol error: too big inline request");
}

#[test]
fn inline_request_at_the_limit_is_still_accepted() {
    let s = Server::new();
    let mut c = s.conn();
    // A line whose LF is the 64 KiB + 1st byte is accepted, even when it arrives in pieces.
    // (A line end *beyond* that passes in Redis only if it happens to arrive in the same read
    // as the 64 KiB before it: not something to test.)
    let mut line = b"ECHO ".to_vec();
    line.resize(64 * 1024 - 1, b'z');
    c.send(&line);
    thread::sleep(Duration::from_millis(50));
    c.send(b"\r");
    thread::sleep(Duration::from_millis(50));
    c.send(b"\n");
    let r = c.read_reply();
    assert_eq!(r, bulk(&line[5..]));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn protocol_error_unbalanced_quotes() {
    let s = Server::new();
    let e = "ERR Protocol error: unbalanced quotes in request";
    expect_protocol_error(&s, b"SET \"a b\r\n", &[], e);
    expect_protocol_error(&s, b"set 'a' \"b\r\n", &[], e);
    // A closing quote must be followed by a space.
    expect_protocol_error(&s, b"set \"a\"b c\r\n", &[], e);
    expect_protocol_error(&s, b"PING\r\nECHO 'x\r\n", &[simple("PONG")], e);
}

#[test]
fn unknown_command_error_text_and_connection_stays_open() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["foo", "a", "b"]),
        err("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
    );
    assert_eq!(
        c.cmd(&["foo"]),
        err("ERR unknown command 'foo', with args beginning with: ")
    );
    c.send(b"FOO '' \"\" \r\n");
    assert_eq!(
        c.read_reply(),
        err("ERR unknown command 'FOO', with args beginning with: '' '' ")
    );
    // An inline line that looks like RESP is just an unknown command.
    c.send(b"$4\r\nPING\r\n");
    assert_eq!(
        c.read_reply(),
        err("ERR unknown command '$4', with args beginning with: ")
    );
    assert_eq!(c.read_reply(), simple("PONG"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn arity_errors_keep_the_connection() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET"]), arity_err("get"));
    assert_eq!(c.cmd(&["GET", "a", "b"]), arity_err("get"));
    assert_eq!(c.cmd(&["set", "a"]), arity_err("set"));
    assert_eq!(c.cmd(&["LPUSH", "a"]), arity_err("lpush"));
    // The name in the message is lower case, whatever the client sent.
    assert_eq!(c.cmd(&["InCr"]), arity_err("incr"));
    c.send(b"get\r\n");
    assert_eq!(c.read_reply(), arity_err("get"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn command_names_are_case_insensitive() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["sEt", "k", "v"]), ok());
    assert_eq!(c.cmd(&["get", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["GeT", "k"]), bulk("v"));
}

#[test]
fn quit_replies_ok_and_closes() {
    let s = Server::new();
    let mut c = s.conn();
    c.send(b"PING\r\nQUIT\r\nPING\r\n");
    assert_eq!(c.read_reply(), simple("PONG"));
    assert_eq!(c.read_reply(), ok());
    c.expect_closed();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["quit"]), ok());
    c.expect_closed();
}

#[test]
fn client_disconnecting_mid_pipeline_leaves_server_healthy() {
    let mut s = Server::new();
    for round in 0..5 {
        let mut c = s.conn();
        let mut buf = Vec::new();
        for _ in 0..10_000 {
            encode_cmd_into(&["INCR", "mid"], &mut buf);
        }
        let mut w = c.stream.try_clone().unwrap();
        let writer = thread::spawn(move || {
            // The write may fail once we hang up: that's the point.
            let _ = w.write_all(&buf);
        });
        for _ in 0..10 {
            c.read_reply();
        }
        drop(c);
        writer.join().unwrap();
        let mut check = s.conn();
        let v: i64 = check.cmd(&["GET", "mid"]).text().parse().unwrap();
        assert!(v >= 10 * (round + 1), "counter {v} after round {round}");
        assert!(v <= 10_000 * (round + 1), "counter {v} after round {round}");
    }
    // A half-sent frame, then hang up.
    let mut c = s.conn();
    c.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc");
    drop(c);
    s.assert_healthy();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["EXISTS", "half"]), int(0));
}

#[test]
fn huge_declared_bulk_then_disconnect_does_not_hurt() {
    let mut s = Server::new();
    for _ in 0..4 {
        let mut c = s.raw();
        // Exactly proto-max-bulk-len: accepted, so the server waits for 512 MB that never come.
        c.write_all(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$536870912\r\n")
            .unwrap();
        c.write_all(&vec![b'x'; 1 << 20]).unwrap();
        drop(c);
    }
    // A client that declares a huge bulk and stays connected doesn't block the others.
    let mut hanging = s.raw();
    hanging
        .write_all(b"*2\r\n$4\r\nECHO\r\n$536870912\r\nabc")
        .unwrap();
    s.assert_healthy();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "after", "1"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "huge"]), int(0));
    // The hanging client got nothing.
    hanging
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut b = [0u8; 16];
    match hanging.read(&mut b) {
        Ok(n) => panic!("unexpected {n} bytes for an incomplete request"),
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
    }
    drop(hanging);
    s.assert_healthy();
}

#[test]
fn many_connections_at_once() {
    let mut s = Server::new();
    let mut conns: Vec<Conn> = (0..200).map(|_| s.conn()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.send_cmd(&["SET".to_string(), format!("c{i}"), i.to_string()]);
    }
    for c in conns.iter_mut() {
        assert_eq!(c.read_reply(), ok());
    }
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(
            c.cmd(&["GET".to_string(), format!("c{i}")]),
            bulk(i.to_string())
        );
    }
    drop(conns);
    s.assert_healthy();
}

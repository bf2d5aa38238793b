//! Limits that keep one client from exhausting the server: maxclients, the idle timeout (blocked
//! clients and subscribers exempt), the output-buffer limit for a client that never reads, output
//! memory bounded with no limit configured, protected mode, and listening on several addresses.
//! All but the memory and bind checks also pass against redis-server 7.0
//! (`REDIS_LITE_TEST_REDIS=1`).

mod common;

use common::*;
use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A connection to the server whose source address is `from` (another loopback address acts as a
/// remote client: Redis counts only 127.0.0.1 and ::1 as local).
fn connect_from(s: &Server, from: &str) -> Conn {
    let sk = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{from}:0").parse().unwrap();
    sk.bind(&local.into()).expect("bind the client socket");
    let to: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().unwrap();
    sk.connect(&to.into()).expect("connect");
    let stream: TcpStream = sk.into();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    Conn::new(stream)
}

/// Sends PING; the reply, or None if the server closed the connection.
fn try_ping(c: &mut Conn) -> Option<Reply> {
    if c.stream.write_all(&encode_cmd(&["PING"])).is_err() {
        return None;
    }
    c.try_read_reply().ok().flatten()
}

fn client_ids(c: &mut Conn) -> Vec<u64> {
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    list.lines()
        .filter_map(|l| l.strip_prefix("id="))
        .filter_map(|l| l.split(' ').next())
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// Reads until the server closes the connection; the bytes read. Panics on a timeout.
fn read_to_close(c: &mut Conn) -> usize {
    let mut total = c.pending().len();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match c.stream.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return total,
            Err(e) => panic!("expected the server to close the connection: {e}"),
        }
    }
}

#[test]
fn maxclients_refuses_the_extra_client_and_serves_the_others() {
    let s = Server::new();
    let mut a = s.conn();
    assert_eq!(a.cmd(&["CONFIG", "SET", "maxclients", "3"]), ok());
    let mut b = s.conn();
    let mut c = s.conn();
    assert_eq!(b.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    let mut d = s.conn();
    assert_eq!(d.read_reply(), err("ERR max number of clients reached"));
    d.expect_closed();
    for x in [&mut a, &mut b, &mut c] {
        assert_eq!(x.cmd(&["PING"]), simple("PONG"));
    }
    // A slot frees up once a client leaves.
    drop(c);
    assert!(
        wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
            let mut e = s.conn();
            try_ping(&mut e) == Some(simple("PONG"))
        }),
        "no slot after a client left"
    );
    assert_eq!(a.cmd(&["CONFIG", "SET", "maxclients", "10000"]), ok());
}

#[test]
fn idle_clients_time_out_but_blocked_and_subscribed_do_not() {
    let s = Server::new();
    let mut idle = s.conn();
    assert_eq!(idle.cmd(&["PING"]), simple("PONG"));
    let mut blocked = s.conn();
    blocked.send_cmd(&["BLPOP", "idle-q", "0"]);
    let mut sub = s.conn();
    sub.send_cmd(&["SUBSCRIBE", "idle-ch"]);
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("subscribe"), bulk("idle-ch"), int(1)])
    );
    let mut admin = s.conn();
    // The BLPOP is in place before anyone can time out.
    assert!(wait_until(
        Duration::from_secs(5),
        Duration::from_millis(20),
        || admin
            .cmd(&["INFO", "clients"])
            .text()
            .contains("blocked_clients:1")
    ));
    assert_eq!(admin.cmd(&["CONFIG", "SET", "timeout", "1"]), ok());
    drop(admin);
    let started = Instant::now();
    idle.expect_closed();
    assert!(started.elapsed() < Duration::from_secs(10));
    // Well past the timeout, the blocked client and the subscriber are still there.
    std::thread::sleep(Duration::from_millis(2500));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["RPUSH", "idle-q", "x"]), int(1));
    assert_eq!(blocked.read_reply(), bulks(&["idle-q", "x"]));
    assert_eq!(c.cmd(&["PUBLISH", "idle-ch", "hi"]), int(1));
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("message"), bulk("idle-ch"), bulk("hi")])
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "0"]), ok());
}

/// A list whose LRANGE 0 -1 reply is about `elems` KiB.
fn big_list(c: &mut Conn, key: &str, elems: usize) {
    let v = "e".repeat(1000);
    for _ in 0..elems / 100 {
        let mut args = vec!["RPUSH".to_string(), key.to_string()];
        args.extend(std::iter::repeat_n(v.clone(), 100));
        assert!(!c.cmd(&args).is_error());
    }
}

#[test]
fn a_client_that_never_reads_is_cut_off_at_the_output_limit() {
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 0 0"
        ]),
        ok()
    );
    // 100 KB per reply: only many of them together pass the limit.
    big_list(&mut c, "obl-list", 100);
    let mut greedy = s.conn();
    let Reply::Int(id) = greedy.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    let mut pipeline = Vec::new();
    for _ in 0..200 {
        encode_cmd_into(&["LRANGE", "obl-list", "0", "-1"], &mut pipeline);
    }
    greedy.send(&pipeline);
    // Gone from the client list while the others are served.
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
            !client_ids(&mut c).contains(&(id as u64))
        }),
        "the client over the output limit was not closed"
    );
    assert_eq!(c.cmd(&["LLEN", "obl-list"]), int(100));
    let got = read_to_close(&mut greedy);
    assert!(got < 200 * 100_000, "got everything ({got} bytes)");
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 0"
        ]),
        ok()
    );
}

#[test]
fn a_write_stuck_over_the_soft_limit_is_cut_off_after_its_seconds() {
    // Redis checks the soft limit only when more output is added; here a write that stays over
    // it for longer than its seconds is enough.
    skip_on_real_redis!();
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 256kb 1"
        ]),
        ok()
    );
    big_list(&mut c, "soft-list", 100);
    let mut greedy = s.conn();
    let Reply::Int(id) = greedy.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    let mut pipeline = Vec::new();
    for _ in 0..300 {
        encode_cmd_into(&["LRANGE", "soft-list", "0", "-1"], &mut pipeline);
    }
    greedy.send(&pipeline);
    // Served a while (the first megabytes fit in the socket buffers), then closed.
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
            !client_ids(&mut c).contains(&(id as u64))
        }),
        "the client over the soft limit was not closed"
    );
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    let got = read_to_close(&mut greedy);
    assert!(got < 300 * 100_000, "got everything ({got} bytes)");
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[test]
fn output_memory_stays_bounded_without_a_limit() {
    skip_on_real_redis!();
    let s = Server::new();
    let mut c = s.conn();
    // About 1 MB per reply; 2 shards, so on one of the clients' cores or forwarded.
    big_list(&mut c, "rss-a", 1000);
    big_list(&mut c, "rss-b", 1000);
    let base = rss_kib(s.pid());
    // 600 MB of replies asked for, none read.
    let mut greedy = s.conn();
    let mut pipeline = Vec::new();
    for i in 0..600 {
        let key = if i % 2 == 0 { "rss-a" } else { "rss-b" };
        encode_cmd_into(&["LRANGE", key, "0", "-1"], &mut pipeline);
    }
    greedy.stream.set_nonblocking(true).unwrap();
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while sent < pipeline.len() && Instant::now() < deadline {
        match greedy.stream.write(&pipeline[sent..]) {
            Ok(n) => sent += n,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let peak = rss_kib(s.pid());
    eprintln!("rss base {base} KiB, with the greedy client {peak} KiB");
    // Others are served meanwhile.
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["LLEN", "rss-a"]), int(1000));
    assert!(
        peak.saturating_sub(base) < 128 * 1024,
        "RSS grew from {base} KiB to {peak} KiB"
    );
}

#[test]
fn protected_mode_refuses_remote_clients_without_a_password() {
    let s = Server::new();
    // 127.0.0.1 is local.
    let mut local = s.conn();
    assert_eq!(local.cmd(&["PING"]), simple("PONG"));
    // Any other address (127.0.0.2 here) is not: the explanation, then the close.
    let mut remote = connect_from(&s, "127.0.0.2");
    let r = remote.read_reply();
    assert!(
        r.error_text()
            .starts_with("DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."),
        "{r:?}"
    );
    assert!(r.error_text().ends_with("from the outside."), "{r:?}");
    remote.expect_closed();
    // With protected mode off, remote clients get in.
    assert_eq!(local.cmd(&["CONFIG", "SET", "protected-mode", "no"]), ok());
    let mut remote = connect_from(&s, "127.0.0.2");
    assert_eq!(remote.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn protected_mode_lets_remote_clients_in_when_a_password_is_set() {
    let s = Server::start(Opts::default().arg("--requirepass").arg("pw"));
    let mut remote = connect_from(&s, "127.0.0.2");
    assert_eq!(
        remote.cmd(&["PING"]),
        err("NOAUTH Authentication required.")
    );
    assert_eq!(remote.cmd(&["AUTH", "pw"]), ok());
    assert_eq!(remote.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn listens_on_every_bind_address() {
    skip_on_real_redis!();
    // An optional address the machine does not have is skipped.
    let s = Server::start(
        Opts::default()
            .arg("--bind")
            .arg("127.0.0.1 -::1 -192.0.2.254")
            .arg("--protected-mode")
            .arg("no"),
    );
    assert_eq!(s.conn().cmd(&["PING"]), simple("PONG"));
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    if v6 {
        let stream = TcpStream::connect(("::1", s.port())).expect("connect to [::1]");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut c = Conn::new(stream);
        assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    }
    // A required address that is not there stops start-up.
    let e = Server::try_start(Opts::default().arg("--bind").arg("127.0.0.1 192.0.2.254"))
        .err()
        .expect("started without its bind address");
    assert!(e.output.contains("192.0.2.254"), "{}", e.output);
}

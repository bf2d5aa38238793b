//! Process lifecycle: graceful stop on SIGTERM/SIGINT, refusing a port that is in use, restart,
//! and smoke runs of the stock Redis tools against the server.

mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` with a time limit; returns (status, stdout, stderr).
fn run_bounded(mut cmd: Command, limit: Duration) -> (std::process::ExitStatus, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{:?} did not finish within {limit:?}; stdout so far: {}",
                cmd.get_program(),
                out_t.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, out_t.join().unwrap(), err_t.join().unwrap())
}

fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn sigterm_exits_zero() {
    let mut s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    // An idle client, and one with half a request, must not keep the server alive.
    let _idle = s.conn();
    let mut half = s.conn();
    half.send(b"*2\r\n$3\r\nGET\r\n$1");
    let status = s.stop_gracefully();
    assert!(
        status.success(),
        "exit status {status:?}; output:\n{}",
        s.output()
    );
    c.expect_closed();
}

#[test]
fn sigint_exits_zero() {
    let mut s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    s.signal(libc::SIGINT);
    let status = s.wait_exit();
    assert!(
        status.success(),
        "exit status {status:?}; output:\n{}",
        s.output()
    );
    c.expect_closed();
}

#[test]
fn sigterm_during_a_pipeline_delivers_whole_replies_in_order() {
    let mut s = Server::new();
    let mut c = s.conn();
    let mut buf = Vec::new();
    for _ in 0..2000 {
        encode_cmd_into(&["INCR", "n"], &mut buf);
    }
    c.send(&buf);
    // Wait for the first reply so the server is surely busy with this client.
    assert_eq!(c.read_reply(), int(1));
    let status = s.stop_gracefully();
    assert!(status.success(), "exit status {status:?}");
    // Whatever arrived is a prefix of the replies, each one whole.
    let mut expect = 2;
    loop {
        match c.try_read_reply() {
            Ok(Some(r)) => {
                assert_eq!(r, int(expect));
                expect += 1;
            }
            Ok(None) => break,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("after SIGTERM: {e}"),
        }
    }
    assert!(
        c.pending().is_empty(),
        "a partial reply was sent: {:?}",
        String::from_utf8_lossy(c.pending())
    );
}

#[test]
fn second_server_on_the_same_port_is_refused() {
    let mut first = Server::new();
    let mut c = first.conn();
    assert_eq!(c.cmd(&["SET", "owner", "first"]), ok());
    match Server::try_start(Opts::default().port(first.port())) {
        Ok(mut second) => {
            let out = second.output();
            second.stop_gracefully();
            panic!("a second server started on port {}:\n{out}", first.port());
        }
        Err(e) => {
            let status = e.status.expect("the second server should have exited");
            assert!(!status.success(), "exit status {status:?}\n{}", e.output);
            assert!(
                e.output.to_lowercase().contains("address in use")
                    || e.output.to_lowercase().contains("address already in use"),
                "the error should say the address is in use:\n{}",
                e.output
            );
        }
    }
    // The first one is untouched, and every new connection reaches it.
    first.assert_healthy();
    for _ in 0..20 {
        let mut c = first.conn();
        assert_eq!(c.cmd(&["GET", "owner"]), bulk("first"));
    }
}

#[test]
fn port_held_by_another_program_is_refused() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    match Server::try_start(Opts::default().port(port)) {
        Ok(mut s) => {
            let out = s.output();
            s.stop_gracefully();
            panic!("server started on a port in use ({port}):\n{out}");
        }
        Err(e) => {
            let status = e.status.expect("the server should have exited");
            assert!(!status.success(), "exit status {status:?}\n{}", e.output);
            assert!(
                e.output.to_lowercase().contains("address already in use")
                    || e.output.to_lowercase().contains("address in use"),
                "the error should say the address is in use:\n{}",
                e.output
            );
        }
    }
    drop(holder);
}

#[test]
fn bad_command_line_exits_non_zero() {
    skip_on_real_redis!();
    let (status, out, err) = run_bounded(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_redis-lite"));
            c.args(["--port", "not-a-port"]);
            c
        },
        Duration::from_secs(20),
    );
    assert!(!status.success());
    assert!(!(out + &err).trim().is_empty(), "no error message");
}

#[test]
fn restart_comes_back_healthy() {
    let mut s = Server::new();
    let old = s.port();
    let status = s.restart();
    assert!(status.success(), "exit status {status:?}");
    s.assert_healthy();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    let _ = old;
}

#[test]
fn stopping_with_many_clients_connected() {
    let mut s = Server::start(Opts::shards(4));
    let mut conns: Vec<Conn> = (0..50).map(|_| s.conn()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(
            c.cmd(&["SET".to_string(), format!("k{i}"), "v".into()]),
            ok()
        );
    }
    let status = s.stop_gracefully();
    assert!(status.success(), "exit status {status:?}\n{}", s.output());
    for c in conns.iter_mut() {
        c.expect_closed();
    }
}

#[test]
fn redis_benchmark_smoke() {
    if !installed("redis-benchmark") {
        eprintln!("skipped: redis-benchmark is not installed");
        return;
    }
    let mut s = Server::new();
    let mut cmd = Command::new("redis-benchmark");
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &s.port().to_string(),
        "-n",
        "2000",
        "-c",
        "10",
        "--threads",
        "2",
        "-t",
        "ping,set,get,incr,lpush,rpush,lpop,rpop,mset",
        "-r",
        "1000",
        "-q",
    ]);
    let (status, out, err) = run_bounded(cmd, Duration::from_secs(120));
    let all = format!("{out}\n{err}");
    assert!(
        status.success(),
        "redis-benchmark failed ({status:?}):\n{all}"
    );
    assert!(
        !all.to_lowercase().contains("error"),
        "redis-benchmark reported an error:\n{all}"
    );
    for t in ["PING_INLINE", "SET", "GET", "INCR", "LPUSH", "MSET"] {
        assert!(all.contains(t), "no {t} result in:\n{all}");
    }
    s.assert_healthy();
    let status = s.stop_gracefully();
    assert!(status.success());
}

#[test]
fn redis_benchmark_pipelined_smoke() {
    if !installed("redis-benchmark") {
        eprintln!("skipped: redis-benchmark is not installed");
        return;
    }
    let mut s = Server::start(Opts::shards(4));
    let mut cmd = Command::new("redis-benchmark");
    // One hot key (no -r), pipelines of 16, 50 clients: the heaviest cross-core forwarding.
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &s.port().to_string(),
        "-n",
        "5000",
        "-c",
        "50",
        "-P",
        "16",
        "--threads",
        "2",
        "-t",
        "set,get,incr,lpush,lpop,mset",
        "-q",
    ]);
    let (status, out, err) = run_bounded(cmd, Duration::from_secs(120));
    let all = format!("{out}\n{err}");
    assert!(
        status.success(),
        "redis-benchmark failed ({status:?}):\n{all}"
    );
    assert!(
        !all.to_lowercase().contains("error"),
        "redis-benchmark reported an error:\n{all}"
    );
    s.assert_healthy();
    let mut c = s.conn();
    let n: i64 = c
        .cmd(&["GET", "counter:__rand_int__"])
        .text()
        .parse()
        .unwrap();
    // Pipelining clients may send up to a pipeline's worth more than -n.
    assert!((5000..5000 + 50 * 16).contains(&n), "counter {n}");
    let status = s.stop_gracefully();
    assert!(status.success());
}

#[test]
fn redis_cli_smoke() {
    if !installed("redis-cli") {
        eprintln!("skipped: redis-cli is not installed");
        return;
    }
    let s = Server::new();
    let port = s.port().to_string();
    let cli = |args: &[&str]| {
        let mut c = Command::new("redis-cli");
        c.args(["-h", "127.0.0.1", "-p", &port]).args(args);
        let (status, out, err) = run_bounded(c, Duration::from_secs(20));
        assert!(status.success(), "redis-cli {args:?}: {status:?} {err}");
        out.trim_end().to_string()
    };
    assert_eq!(cli(&["PING"]), "PONG");
    assert_eq!(cli(&["SET", "greeting", "hello world"]), "OK");
    assert_eq!(cli(&["GET", "greeting"]), "hello world");
    assert_eq!(cli(&["RPUSH", "l", "a", "b"]), "2");
    assert_eq!(cli(&["LRANGE", "l", "0", "-1"]), "a\nb");
    // redis-cli --pipe (uses ECHO to find the end of the replies).
    let mut pipe = Command::new("redis-cli");
    pipe.args(["-h", "127.0.0.1", "-p", &port, "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = pipe.spawn().unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        let mut buf = Vec::new();
        for i in 0..1000 {
            encode_cmd_into(&["SET", &format!("p{i}"), &i.to_string()], &mut buf);
        }
        stdin.write_all(&buf).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis-cli --pipe did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(status.success(), "redis-cli --pipe: {status:?}\n{text}");
    assert!(text.contains("errors: 0, replies: 1000"), "{text}");
    assert_eq!(cli(&["GET", "p999"]), "999");
    assert_eq!(cli(&["DBSIZE"]), "1002");
}

/// With too little locked memory for io_uring, the server must refuse to start with one line that
/// says what to change, not hang or crash.
#[test]
fn too_little_locked_memory_is_explained() {
    skip_on_real_redis!();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let script = format!(
        "ulimit -l 128 && exec {} --port 0 --unpinned --shards 2 --dir {}",
        env!("CARGO_BIN_EXE_redis-lite"),
        dir.path().display()
    );
    let (status, out, err) = run_bounded(
        {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        },
        Duration::from_secs(20),
    );
    assert!(!status.success(), "started anyway: {out}{err}");
    assert!(
        err.contains("locked-memory limit") && err.contains("ulimit -l"),
        "unclear error: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
}

//! The config file and command-line options (redis-server style), CONFIG REWRITE, the pidfile,
//! the log file, systemd notification and the informational flags. redis-lite only: the
//! messages name redis-lite and the file.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(c: &mut Conn, name: &str) -> String {
    let v = c.cmd(&["CONFIG", "GET", name]).strings();
    assert_eq!(v.len(), 2, "CONFIG GET {name}: {v:?}");
    v[1].clone()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_redis-lite")
}

/// A temp dir holding `redis-lite.conf` with `text`.
fn dir_with_conf(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("redis-lite.conf");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Runs the binary to completion (bounded), returning (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn good_file_is_applied() {
    skip_on_real_redis!();
    let (dir, conf) = dir_with_conf(
        "# A comment, then a blank line\n\n\
         maxmemory 2mb\n\
         HZ 20\n\
         save 900 1\n\
         save 300 10\n\
         timeout \"30\"\n\
         client-output-buffer-limit pubsub 64mb 16mb 90\n\
         hash-max-ziplist-entries 100\n\
         loglevel verbose\n\
         maxmemory-policy noeviction\n",
    );
    let s = Server::start_in_dir(dir, Opts::default().config(&conf));
    let mut c = s.conn();
    assert_eq!(get(&mut c, "maxmemory"), "2097152");
    assert_eq!(get(&mut c, "hz"), "20");
    assert_eq!(get(&mut c, "save"), "900 1 300 10");
    assert_eq!(get(&mut c, "timeout"), "30");
    assert_eq!(
        get(&mut c, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90"
    );
    assert_eq!(get(&mut c, "hash-max-listpack-entries"), "100");
    // The harness's `--loglevel notice` comes after the file, so it wins.
    assert_eq!(get(&mut c, "loglevel"), "notice");
    assert!(
        s.output()
            .contains(&format!("Configuration loaded from {}", conf.display())),
        "{}",
        s.output()
    );
}

#[test]
fn options_override_the_file() {
    skip_on_real_redis!();
    let (dir, conf) = dir_with_conf("maxmemory 1mb\nsave 900 1\ntimeout 5\n");
    let s = Server::start_in_dir(
        dir,
        Opts::default()
            .config(&conf)
            .arg("--maxmemory")
            .arg("3mb")
            .arg("--save")
            .arg("")
            .arg("--client-output-buffer-limit")
            .arg("normal 1mb 512kb 7"),
    );
    let mut c = s.conn();
    assert_eq!(get(&mut c, "maxmemory"), "3145728");
    assert_eq!(get(&mut c, "save"), "");
    assert_eq!(get(&mut c, "timeout"), "5");
    assert!(get(&mut c, "client-output-buffer-limit").starts_with("normal 1048576 524288 7 "));
}

#[test]
fn unknown_directive_refuses_to_start() {
    skip_on_real_redis!();
    let (dir, conf) = dir_with_conf("# ok\nport 6379\nno-such-directive yes\n");
    let Err((e, _dir)) = Server::try_start_in_dir(dir, Opts::default().config(&conf)) else {
        panic!("started with an unknown directive");
    };
    assert_eq!(e.status.and_then(|s| s.code()), Some(1), "{}", e.output);
    for want in [
        "*** FATAL CONFIG FILE ERROR (redis-lite ".to_string(),
        format!(
            "Reading the configuration file {}, at line 3",
            conf.display()
        ),
        ">>> 'no-such-directive yes'".to_string(),
        "Bad directive or wrong number of arguments".to_string(),
    ] {
        assert!(e.output.contains(&want), "no {want:?} in:\n{}", e.output);
    }
    assert!(!e.output.contains("Ready to accept"), "{}", e.output);
}

#[test]
fn bad_values_refuse_to_start() {
    skip_on_real_redis!();
    let (dir, conf) = dir_with_conf("maxclients 0\n");
    let Err((e, _dir)) = Server::try_start_in_dir(dir, Opts::default().config(&conf)) else {
        panic!("started with maxclients 0");
    };
    assert_eq!(e.status.and_then(|s| s.code()), Some(1));
    assert!(
        e.output.contains(">>> 'maxclients 0'")
            && e.output
                .contains("argument must be between 1 and 9223372036854775807 inclusive"),
        "{}",
        e.output
    );
    // A bad option value names the command line instead of a file line.
    let Err(e) = Server::try_start(Opts::default().arg("--hz").arg("often")) else {
        panic!("started with --hz often");
    };
    assert_eq!(e.status.and_then(|s| s.code()), Some(1));
    assert!(
        e.output.contains("Reading the command line, at option")
            && e.output.contains(">>> 'hz often'")
            && e.output
                .contains("argument couldn't be parsed into an integer"),
        "{}",
        e.output
    );
    let Err(e) = Server::try_start(Opts::default().arg("--appendonly").arg("yes")) else {
        panic!("started with appendonly yes");
    };
    assert!(e.output.contains("no AOF"), "{}", e.output);
}

#[test]
fn test_config_checks_without_starting() {
    skip_on_real_redis!();
    let (_dir, conf) = dir_with_conf("port 7000\nsave \"\"\n");
    let c = conf.to_str().unwrap();
    let (code, out, err) = run(&["--test-config", c, "--port", "7001"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("configuration OK"), "{out}");
    assert!(!out.contains("Ready"), "{out}");
    let (code, out, _) = run(&[c, "--test-config"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("configuration OK"), "{out}");
    let (_bad_dir, bad) = dir_with_conf("port 7000\nloglevel loud\n");
    let (code, out, err) = run(&["--test-config", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(out.contains("NOT OK"), "{out}");
    assert!(
        err.contains("at line 2")
            && err.contains(
                "argument(s) must be one of the following: debug, verbose, notice, warning"
            ),
        "{err}"
    );
    let (code, _, err) = run(&["/nonexistent/redis-lite.conf"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("can't open config file '/nonexistent/redis-lite.conf'"),
        "{err}"
    );
}

#[test]
fn version_and_help() {
    skip_on_real_redis!();
    for flag in ["--version", "-v"] {
        let (code, out, _) = run(&[flag]);
        assert_eq!(code, Some(0));
        assert!(
            out.starts_with(&format!("redis-lite v={}", env!("CARGO_PKG_VERSION"))),
            "{out}"
        );
    }
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("--test-config") && out.contains("--<directive>"),
        "{out}"
    );
}

#[test]
fn rewrite_keeps_comments_and_survives_restart() {
    skip_on_real_redis!();
    let (dir, conf) = dir_with_conf(
        "# Operator's notes stay.\n\
         maxmemory 1mb\n\
         \n\
         # Two save lines become one.\n\
         save 900 1\n\
         save 300 10\n",
    );
    let mut s = Server::start_in_dir(dir, Opts::default().config(&conf));
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "maxmemory",
            "5mb",
            "save",
            "60 5",
            "timeout",
            "42",
            "loglevel",
            "warning"
        ]),
        ok()
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.starts_with(
            "# Operator's notes stay.\nmaxmemory 5mb\n\n# Two save lines become one.\nsave 60 5\n"
        ),
        "{text}"
    );
    assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(
        text.contains("\ntimeout 42\n") && text.contains("\nloglevel warning\n"),
        "{text}"
    );
    assert!(!text.contains("save 300 10"), "{text}");
    // A second rewrite with nothing changed leaves the file as it is.
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), text);
    drop(c);
    assert!(s.stop_gracefully().success());
    // The rewritten file starts the next server with the new values (the harness's own flags
    // still come after it, so `loglevel` is theirs again).
    let s = Server::start_in_dir(s.into_dir(), Opts::default().config(&conf));
    let mut c = s.conn();
    assert_eq!(get(&mut c, "maxmemory"), "5242880");
    assert_eq!(get(&mut c, "save"), "60 5");
    assert_eq!(get(&mut c, "timeout"), "42");
}

#[test]
fn rewrite_without_a_file_is_refused() {
    skip_on_real_redis!();
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
}

#[test]
fn pidfile_written_and_removed() {
    skip_on_real_redis!();
    let dir = tempfile::TempDir::new().unwrap();
    let pidfile = dir.path().join("redis-lite.pid");
    let mut s = Server::start_in_dir(
        dir,
        Opts::default()
            .arg("--pidfile")
            .arg(pidfile.to_str().unwrap()),
    );
    let text = std::fs::read_to_string(&pidfile).expect("pidfile written");
    assert_eq!(text.trim(), s.pid().to_string());
    let mut c = s.conn();
    c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    let status = s.wait_exit();
    assert!(status.success(), "{status:?}\n{}", s.output());
    assert!(!pidfile.exists(), "pidfile left behind");
}

#[test]
fn loglevel_changes_at_run_time() {
    skip_on_real_redis!();
    // Started at notice (the ready line is a notice, as in Redis), then quieted.
    let s = Server::new();
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "warning"]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    std::thread::sleep(Duration::from_millis(200));
    assert!(!s.output().contains("DB saved"), "{}", s.output());
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "notice"]), ok());
    assert_eq!(get(&mut c, "loglevel"), "notice");
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !s.output().contains("DB saved") {
        assert!(Instant::now() < deadline, "no save line:\n{}", s.output());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the binary by hand (for what the harness does not do: a log file, an environment),
/// returns it with its port once `log` (a file, or stdout when `None`) shows the ready line.
fn start_by_hand(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    log: Option<&Path>,
) -> (std::process::Child, u16) {
    let mut child = Command::new(bin())
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--shards",
            "1",
            "--unpinned",
        ])
        .arg("--dir")
        .arg(dir)
        .args(["--save", ""])
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + READY_TIMEOUT;
    let port_of = |l: &str| {
        let at = l.find("addr=")? + 5;
        l[at..]
            .split_whitespace()
            .next()?
            .rsplit(':')
            .next()?
            .parse::<u16>()
            .ok()
    };
    match log {
        None => {
            // Keep reading stdout after the ready line so the server never writes to a closed
            // pipe.
            let out = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if line.contains("Ready to accept connections") {
                        let _ = tx.send(line);
                    }
                }
            });
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).expect("ready line");
            (child, port_of(&line).unwrap())
        }
        Some(path) => loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if let Some(l) = text
                .lines()
                .find(|l| l.contains("Ready to accept connections"))
            {
                return (child, port_of(l).unwrap());
            }
            assert!(child.try_wait().unwrap().is_none(), "exited:\n{text}");
            assert!(Instant::now() < deadline, "not ready:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        },
    }
}

fn shutdown_nosave(port: u16, child: &mut std::process::Child) {
    let mut c = Conn::new(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    c.send_cmd(&["SHUTDOWN", "NOSAVE"]);
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "{st:?}");
            return;
        }
        assert!(Instant::now() < deadline, "did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn logfile_gets_the_log() {
    skip_on_real_redis!();
    let dir = tempfile::TempDir::new().unwrap();
    let log = dir.path().join("redis-lite.log");
    std::fs::write(&log, "an older line\n").unwrap();
    let (mut child, port) = start_by_hand(
        dir.path(),
        &["--logfile", log.to_str().unwrap()],
        &[],
        Some(&log),
    );
    shutdown_nosave(port, &mut child);
    let out = std::fs::read_to_string(&log).unwrap();
    // Appended, with the banner and the limits obtained.
    assert!(out.starts_with("an older line\n"), "{out}");
    assert!(out.contains("redis-lite is starting"), "{out}");
    assert!(
        out.contains("Running mode=standalone")
            && out.contains("memlock=")
            && out.contains("nofile="),
        "{out}"
    );
    assert!(out.contains("ready to exit"), "{out}");
}

#[test]
fn systemd_is_notified() {
    skip_on_real_redis!();
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::TempDir::new().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut child, port) = start_by_hand(
        dir.path(),
        &[],
        &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())],
        None,
    );
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).expect("READY=1 datagram");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.contains("READY=1\n"), "{msg}");
    assert!(msg.contains(&format!("MAINPID={}", child.id())), "{msg}");
    shutdown_nosave(port, &mut child);
    let n = sock.recv(&mut buf).expect("STOPPING=1 datagram");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
}

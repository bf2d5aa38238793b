//! Starting and stopping redis-server and redis-lite: 127.0.0.1 only, a free port for
//! redis-server, `--port 0` and the ready line for redis-lite; stopped by PID.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use crate::report::{argv_string, shell_quote};
use crate::resp::{Client, Reply};
use crate::stopping;
use crate::sys::cpu_secs;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    Redis,
    Ours,
}

impl Who {
    pub fn label(self) -> &'static str {
        match self {
            Who::Redis => "redis",
            Who::Ours => "ours",
        }
    }
}

pub struct Server {
    pub who: Who,
    pub child: Child,
    pub pid: u32,
    pub port: u16,
    pub argv: Vec<String>,
    pub log: PathBuf,
    /// Spawn → ready (redis-lite: its ready line read; redis-server: first +PONG).
    pub ready_ms: f64,
    /// The server's CPU time (utime+stime, all threads) when it became ready.
    pub ready_cpu_ms: f64,
    /// redis-lite's ready line.
    pub ready_line: Option<String>,
    stdout_thread: Option<std::thread::JoinHandle<()>>,
    stopped: Option<String>,
}

pub fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

pub fn spawn(argv: &[String], stdout: Stdio, stderr: Stdio) -> io::Result<Child> {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        c.pre_exec(|| {
            // Die with us, even if we are SIGKILLed; own process group so a terminal Ctrl-C
            // reaches only us and we stop the servers ourselves.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            libc::setpgid(0, 0);
            Ok(())
        });
    }
    c.spawn()
}

/// redis-server on 127.0.0.1:`port` with `dir` as its dir and no persistence
/// (`--save "" --appendonly no`).
pub fn redis_argv(prog: &str, port: u16, dir: &Path) -> Vec<String> {
    [
        prog,
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &dir.to_string_lossy(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// redis-lite on 127.0.0.1 with `--port 0` (the port comes from its ready line, see
/// [`Ready::Line`]), `dir` as its dir and no save points (`--save ""`, as redis-server's), then
/// `--shards N` if given and `extra`.
pub fn ours_argv(bin: &Path, dir: &Path, shards: Option<usize>, extra: &[String]) -> Vec<String> {
    let mut argv: Vec<String> = vec![
        bin.to_string_lossy().into_owned(),
        "--port".into(),
        "0".into(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.to_string_lossy().into_owned(),
        "--save".into(),
        "".into(),
    ];
    if let Some(n) = shards {
        argv.push("--shards".into());
        argv.push(n.to_string());
    }
    argv.extend(extra.iter().cloned());
    argv
}

/// How a started server shows it is ready.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ready {
    /// redis-server: listens on a free port we pick; ready = the first +PONG (it answers
    /// -LOADING while it loads a snapshot).
    Pong,
    /// redis-lite: `--port 0`; ready = its `Ready to accept connections ... addr=HOST:PORT` line
    /// on stdout, which also gives the port.
    Line,
}

/// Starts a server in `dir` (logging to `log`) and waits until it is ready, up to `deadline`.
/// `argv` builds the command line from the port (the free port for [`Ready::Pong`], 0 for
/// [`Ready::Line`]).
pub fn start_server(
    who: Who,
    ready: Ready,
    dir: &Path,
    log: &Path,
    deadline: Instant,
    argv: impl FnOnce(u16) -> Vec<String>,
) -> Result<Server, String> {
    fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let logf = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let errf = logf.try_clone().map_err(|e| e.to_string())?;
    let port = match ready {
        Ready::Pong => free_port().map_err(|e| format!("free port: {e}"))?,
        Ready::Line => 0,
    };
    let argv = argv(port);
    let (stdout, lines) = match ready {
        Ready::Pong => (Stdio::from(logf), None),
        Ready::Line => (Stdio::piped(), Some(logf)),
    };
    let t0 = Instant::now();
    let mut child = spawn(&argv, stdout, Stdio::from(errf))
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    let pid = child.id();
    // redis-lite logs to stdout: a thread copies it to the log and hands us each line with the
    // time it was read.
    let mut rx = None;
    let mut stdout_thread = None;
    if let Some(mut logw) = lines {
        let out = child.stdout.take().expect("piped stdout");
        let (tx, r) = mpsc::channel::<(Instant, String)>();
        rx = Some(r);
        stdout_thread = Some(std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut line = String::new();
            let mut tx = Some(tx);
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let at = Instant::now();
                        let _ = logw.write_all(line.as_bytes());
                        if let Some(t) = &tx {
                            if t.send((at, line.clone())).is_err() {
                                tx = None;
                            }
                        }
                    }
                }
            }
        }));
    }
    let mut srv = Server {
        who,
        child,
        pid,
        port,
        argv,
        log: log.to_path_buf(),
        ready_ms: f64::NAN,
        ready_cpu_ms: f64::NAN,
        ready_line: None,
        stdout_thread,
        stopped: None,
    };
    let res = match rx {
        None => wait_pong(&mut srv, t0, deadline),
        Some(rx) => wait_ready_line(&mut srv, &rx, t0, deadline),
    };
    if let Err(e) = res {
        // Give an exiting server a moment to say why, then stop it.
        std::thread::sleep(Duration::from_millis(200));
        let tail = srv.log_tail(25);
        let how = srv.stop();
        return Err(format!(
            "{} did not become ready: {e} (pid {}, {how}); log tail:\n{tail}",
            who.label(),
            srv.pid
        ));
    }
    Ok(srv)
}

/// redis-server: it answers -LOADING while it loads; ready = the first +PONG.
pub fn wait_pong(srv: &mut Server, t0: Instant, deadline: Instant) -> Result<(), String> {
    let mut conn: Option<Client> = None;
    let mut last = String::from("no attempt");
    while Instant::now() < deadline {
        if stopping() {
            return Err("interrupted".into());
        }
        if let Ok(Some(st)) = srv.child.try_wait() {
            return Err(format!("exited during start-up ({st})"));
        }
        if conn.is_none() {
            match Client::connect(srv.port, Duration::from_secs(2)) {
                Ok(c) => conn = Some(c),
                Err(e) => last = format!("connect: {e}"),
            }
        }
        if let Some(c) = conn.as_mut() {
            match c.call(&[b"PING"]) {
                Ok(Reply::Simple(s)) if s == "PONG" => {
                    srv.ready_ms = t0.elapsed().as_secs_f64() * 1e3;
                    srv.ready_cpu_ms = cpu_secs(srv.pid).map_or(f64::NAN, |c| c.0 * 1e3);
                    return Ok(());
                }
                Ok(r) => last = format!("PING answered {}", r.show()),
                Err(e) => {
                    last = format!("PING: {e}");
                    conn = None;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(format!("no +PONG before the deadline (last: {last})"))
}

/// redis-lite: ready = its `Ready to accept connections tcp addr=HOST:PORT ...` line.
pub fn wait_ready_line(
    srv: &mut Server,
    rx: &mpsc::Receiver<(Instant, String)>,
    t0: Instant,
    deadline: Instant,
) -> Result<(), String> {
    loop {
        if stopping() {
            return Err("interrupted".into());
        }
        if Instant::now() >= deadline {
            return Err("no ready line before the deadline".into());
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok((at, line)) if line.contains("Ready to accept connections") => {
                let port = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("addr="))
                    .and_then(|a| a.rsplit(':').next())
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    .ok_or_else(|| format!("ready line without addr=<host>:<port>: {line:?}"))?;
                srv.port = port;
                srv.ready_ms = at.duration_since(t0).as_secs_f64() * 1e3;
                srv.ready_line = Some(line.trim().to_string());
                srv.ready_cpu_ms = cpu_secs(srv.pid).map_or(f64::NAN, |c| c.0 * 1e3);
                // Check it answers (not part of the measured time).
                let mut c = Client::connect(port, Duration::from_secs(10))
                    .map_err(|e| format!("connect after the ready line: {e}"))?;
                return match c.call(&[b"PING"]) {
                    Ok(Reply::Simple(s)) if s == "PONG" => Ok(()),
                    Ok(r) => Err(format!("PING after the ready line answered {}", r.show())),
                    Err(e) => Err(format!("PING after the ready line: {e}")),
                };
            }
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("stdout closed before the ready line".into())
            }
        }
        if let Ok(Some(st)) = srv.child.try_wait() {
            return Err(format!("exited during start-up ({st})"));
        }
    }
}

impl Server {
    pub fn alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(st)) => Err(format!(
                "{} (pid {}) has exited ({st})",
                self.who.label(),
                self.pid
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self, n: usize) -> String {
        let s = self.log_text();
        let lines: Vec<&str> = s.lines().collect();
        let from = lines.len().saturating_sub(n);
        lines[from..]
            .iter()
            .map(|l| format!("    | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits up to `max` for the process to exit on its own.
    pub fn wait_exit(&mut self, max: Duration) -> Option<String> {
        let deadline = Instant::now() + max;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.join_stdout();
                self.stopped = Some(format!("exited ({st})"));
                return Some(st.to_string());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    pub fn join_stdout(&mut self) {
        if let Some(t) = self.stdout_thread.take() {
            let _ = t.join();
        }
    }

    /// SIGTERM by PID, wait up to 15 s, then SIGKILL. Returns how it ended.
    pub fn stop(&mut self) -> String {
        if let Some(s) = &self.stopped {
            return s.clone();
        }
        let how = match self.child.try_wait() {
            Ok(Some(st)) => format!("had already exited ({st})"),
            _ => {
                // SAFETY: kill(2) on the PID of our own not-yet-reaped child.
                unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
                let t0 = Instant::now();
                let deadline = t0 + Duration::from_secs(15);
                let mut res = None;
                while Instant::now() < deadline {
                    if let Ok(Some(st)) = self.child.try_wait() {
                        res = Some(format!(
                            "stopped by SIGTERM in {} ms ({st})",
                            t0.elapsed().as_millis()
                        ));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                res.unwrap_or_else(|| {
                    let _ = self.child.kill(); // SIGKILL to our child's PID
                    let st = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    format!("did not stop within 15 s of SIGTERM; SIGKILLed ({st})")
                })
            }
        };
        self.join_stdout();
        self.stopped = Some(how.clone());
        how
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

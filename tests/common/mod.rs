//! Test support: start the real `redis-lite` binary on an ephemeral port in a temporary
//! directory, talk to it over TCP (a small RESP client of our own, or the `redis` crate), and
//! stop it (SIGTERM) or kill it on drop.
//!
//! Set `REDIS_LITE_TEST_REDIS=1` to run the same tests against the real `redis-server` instead
//! (for validating the tests' expectations; tests that depend on sharding skip themselves).

#![allow(dead_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a server may take to print its ready line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Read/write timeout of every test connection: a hang becomes a failure, not a stuck test.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a graceful stop may take.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// True when the tests run against the real `redis-server` (`REDIS_LITE_TEST_REDIS=1`).
pub fn real_redis() -> bool {
    std::env::var("REDIS_LITE_TEST_REDIS")
        .map(|v| v == "1")
        .unwrap_or(false)
}

/// Skips (returns from) the current test when running against real Redis.
#[macro_export]
macro_rules! skip_on_real_redis {
    () => {
        if $crate::common::real_redis() {
            eprintln!("skipped: depends on redis-lite only behaviour");
            return;
        }
    };
}

/// How to start a server.
#[derive(Clone, Debug)]
pub struct Opts {
    /// `--shards N` (ignored for real Redis).
    pub shards: usize,
    /// `--port P`; 0 means ephemeral.
    pub port: u16,
    /// Extra command-line arguments.
    pub args: Vec<String>,
    /// A config file, passed first (before every flag) as redis-server wants it.
    pub config: Option<PathBuf>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            shards: 2,
            port: 0,
            args: Vec::new(),
            config: None,
        }
    }
}

impl Opts {
    pub fn shards(n: usize) -> Self {
        Opts {
            shards: n,
            ..Opts::default()
        }
    }
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = Some(path.into());
        self
    }
}

/// Why a server did not start: its exit status (if it exited) and everything it printed.
#[derive(Debug)]
pub struct StartError {
    pub status: Option<ExitStatus>,
    pub output: String,
}

/// Everything a server printed, stdout and stderr interleaved by arrival.
type Log = Arc<Mutex<String>>;

/// A running server process.
pub struct Server {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    opts: Opts,
    log: Log,
    drains: Vec<JoinHandle<()>>,
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_redis-lite"))
}

/// A port that was free a moment ago (only needed for real Redis, which has no port 0 report).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// Removes ANSI escape sequences (log colouring) from a line.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c2 in chars.by_ref() {
                    if ('@'..='~').contains(&c2) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The port in an `addr=HOST:PORT` token of a log line.
fn parse_addr_port(line: &str) -> Option<u16> {
    let at = line.find("addr=")?;
    let token = line[at + 5..].split_whitespace().next()?;
    let token = token.trim_end_matches([',', ';', ')']);
    token.rsplit(':').next()?.parse().ok()
}

/// Reads `r` line by line into `log` (and, while anyone listens, into `tx`) until EOF.
fn drain<R: Read + Send + 'static>(
    r: R,
    log: Log,
    tx: Option<mpsc::Sender<String>>,
    tag: &'static str,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut r = io::BufReader::new(r);
        let mut line = Vec::new();
        loop {
            line.clear();
            match io::BufRead::read_until(&mut r, b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = strip_ansi(String::from_utf8_lossy(&line).trim_end());
                    {
                        let mut l = log.lock().unwrap();
                        l.push_str(tag);
                        l.push_str(&text);
                        l.push('\n');
                    }
                    if let Some(tx) = &tx {
                        let _ = tx.send(text);
                    }
                }
            }
        }
    })
}

impl Server {
    /// Starts a server with default options (2 shards), panicking if it does not become ready.
    pub fn new() -> Server {
        Server::start(Opts::default())
    }

    /// Starts a server, panicking (with its output) if it does not become ready.
    pub fn start(opts: Opts) -> Server {
        let dir = tempfile::TempDir::new().expect("temp dir");
        match Server::try_start_in(dir, opts) {
            Ok(s) => s,
            Err(e) => panic!(
                "server did not start (status {:?}); output:\n{}",
                e.status, e.output
            ),
        }
    }

    /// Starts a server; an error if it exits or is not ready in time.
    pub fn try_start(opts: Opts) -> Result<Server, StartError> {
        let dir = tempfile::TempDir::new().expect("temp dir");
        Server::try_start_in(dir, opts)
    }

    fn try_start_in(dir: tempfile::TempDir, opts: Opts) -> Result<Server, StartError> {
        let (child, port, log, drains) = spawn(dir.path(), &opts)?;
        Ok(Server {
            child: Some(child),
            dir,
            port,
            opts,
            log,
            drains,
        })
    }

    /// Starts a server in an existing directory (e.g. one handed back by [`Server::into_dir`]),
    /// panicking (with its output) if it does not become ready. The server owns the directory.
    pub fn start_in_dir(dir: tempfile::TempDir, opts: Opts) -> Server {
        match Server::try_start_in_dir(dir, opts) {
            Ok(s) => s,
            Err((e, _dir)) => panic!(
                "server did not start (status {:?}); output:\n{}",
                e.status, e.output
            ),
        }
    }

    /// Starts a server in an existing directory; on failure the directory is handed back
    /// (not deleted) with the error.
    pub fn try_start_in_dir(
        dir: tempfile::TempDir,
        opts: Opts,
    ) -> Result<Server, (StartError, tempfile::TempDir)> {
        match spawn(dir.path(), &opts) {
            Ok((child, port, log, drains)) => Ok(Server {
                child: Some(child),
                dir,
                port,
                opts,
                log,
                drains,
            }),
            Err(e) => Err((e, dir)),
        }
    }

    /// Kills the process (SIGKILL) if it still runs and hands back its directory, files intact,
    /// for a later [`Server::start_in_dir`].
    pub fn into_dir(mut self) -> tempfile::TempDir {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.join_drains();
        let placeholder = tempfile::TempDir::new().expect("temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// SIGKILL (no chance to save or clean up), then waits (bounded) for the exit.
    pub fn kill(&mut self) -> ExitStatus {
        self.signal(libc::SIGKILL);
        self.wait_exit()
    }

    /// The options the server was started with.
    pub fn opts(&self) -> &Opts {
        &self.opts
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is not running").id()
    }

    /// Everything the server printed so far.
    pub fn output(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// A `redis` crate connection (read/write timeouts set).
    pub fn client(&self) -> redis::Connection {
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("redis client");
        let con = client
            .get_connection_with_timeout(IO_TIMEOUT)
            .expect("redis connection");
        con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        con.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        con
    }

    /// A plain TCP connection with read/write timeouts and TCP_NODELAY.
    pub fn raw(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// A raw RESP connection (our own minimal client: exact reply types and texts).
    pub fn conn(&self) -> Conn {
        Conn::new(self.raw())
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends a signal to the server process.
    pub fn signal(&self, sig: libc::c_int) {
        let pid = self.pid() as libc::pid_t;
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
    }

    /// Waits (bounded by [`STOP_TIMEOUT`]) for the process to exit; returns its exit status.
    /// Kills it and panics if it does not exit in time.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is not running");
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.join_drains();
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "server did not exit within {:?}; output:\n{}",
                    STOP_TIMEOUT,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then waits (bounded) for the exit; returns the exit status.
    pub fn stop_gracefully(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit()
    }

    /// Stops the server gracefully and starts it again in the same directory, with the same
    /// options (a new ephemeral port unless a fixed one was given). Returns the stop's status.
    pub fn restart(&mut self) -> ExitStatus {
        let status = if self.child.is_some() {
            self.stop_gracefully()
        } else {
            panic!("restart: server is not running")
        };
        match spawn(self.dir.path(), &self.opts) {
            Ok((child, port, log, drains)) => {
                let previous = self.output();
                {
                    let mut l = log.lock().unwrap();
                    *l = format!("{previous}--- restart ---\n{l}");
                }
                self.child = Some(child);
                self.port = port;
                self.log = log;
                self.drains = drains;
            }
            Err(e) => panic!(
                "server did not restart (status {:?}); output:\n{}\n--- restart ---\n{}",
                e.status,
                self.output(),
                e.output
            ),
        }
        status
    }

    fn join_drains(&mut self) {
        for h in self.drains.drain(..) {
            let _ = h.join();
        }
    }

    /// Asserts that the process is still alive and answers PING on a new connection.
    pub fn assert_healthy(&mut self) {
        assert!(
            self.is_running(),
            "server exited; output:\n{}",
            self.output()
        );
        let mut c = self.conn();
        assert_eq!(c.cmd(&["PING"]), simple("PONG"), "server not healthy");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

type Spawned = (Child, u16, Log, Vec<JoinHandle<()>>);

fn spawn(dir: &Path, opts: &Opts) -> Result<Spawned, StartError> {
    let real = real_redis();
    let mut cmd;
    let mut known_port = None;
    if real {
        let port = if opts.port != 0 {
            opts.port
        } else {
            free_port()
        };
        known_port = Some(port);
        cmd = Command::new("redis-server");
        cmd.args(&opts.config);
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--appendonly")
            .arg("no")
            .arg("--dir")
            .arg(dir)
            .arg("--databases")
            .arg("16");
    } else {
        cmd = Command::new(binary());
        cmd.args(&opts.config);
        cmd.arg("--port")
            .arg(opts.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--shards")
            .arg(opts.shards.to_string())
            .arg("--unpinned")
            .arg("--dir")
            .arg(dir)
            .arg("--loglevel")
            .arg("notice")
            .arg("--databases")
            .arg("16");
    }
    cmd.args(&opts.args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot spawn {:?}: {e}", cmd.get_program());
    });

    let log: Log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let out = drain(
        child.stdout.take().unwrap(),
        log.clone(),
        Some(tx),
        "[out] ",
    );
    let err = drain(child.stderr.take().unwrap(), log.clone(), None, "[err] ");
    let drains = vec![out, err];

    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if line.contains("Ready to accept connections") {
                    let port = match known_port {
                        Some(p) => p,
                        None => match parse_addr_port(&line) {
                            Some(p) => p,
                            None => {
                                let _ = child.kill();
                                let _ = child.wait();
                                return Err(StartError {
                                    status: None,
                                    output: format!(
                                        "ready line without addr=HOST:PORT: {line}\n{}",
                                        log.lock().unwrap()
                                    ),
                                });
                            }
                        },
                    };
                    return Ok((child, port, log, drains));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // stdout closed: the process is exiting. Collect its status and stderr.
                let status = wait_bounded(&mut child, Duration::from_secs(10));
                for h in drains {
                    let _ = h.join();
                }
                let output = log.lock().unwrap().clone();
                return Err(StartError { status, output });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let status = child.wait().ok();
                for h in drains {
                    let _ = h.join();
                }
                let output = format!(
                    "no ready line within {:?}\n{}",
                    READY_TIMEOUT,
                    log.lock().unwrap()
                );
                return Err(StartError { status, output });
            }
        }
    }
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

/// One RESP reply, as the server sent it (type distinctions kept: simple vs bulk, nil vs
/// null array).
#[derive(Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1` (RESP2) or `_` (RESP3).
    Nil,
    Array(Vec<Reply>),
    /// `*-1`.
    NilArray,
    Double(String),
    Bool(bool),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
    BigNumber(String),
    Verbatim(String, Vec<u8>),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Simple(s) => write!(f, "+{s:?}"),
            Reply::Error(s) => write!(f, "-{s:?}"),
            Reply::Int(i) => write!(f, ":{i}"),
            Reply::Bulk(b) => write!(f, "${:?}", String::from_utf8_lossy(b)),
            Reply::Nil => write!(f, "nil"),
            Reply::Array(v) => f.debug_list().entries(v).finish(),
            Reply::NilArray => write!(f, "nil-array"),
            Reply::Double(d) => write!(f, ",{d}"),
            Reply::Bool(b) => write!(f, "#{b}"),
            Reply::Map(m) => f
                .debug_map()
                .entries(m.iter().map(|(k, v)| (k, v)))
                .finish(),
            Reply::Set(v) => write!(f, "~{v:?}"),
            Reply::Push(v) => write!(f, ">{v:?}"),
            Reply::BigNumber(s) => write!(f, "({s}"),
            Reply::Verbatim(t, b) => write!(f, "={t}:{:?}", String::from_utf8_lossy(b)),
        }
    }
}

impl Reply {
    /// The bytes of a bulk or simple string reply.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Reply::Bulk(b) => b,
            Reply::Simple(s) => s.as_bytes(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    /// A bulk or simple string reply as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(i) => *i,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    pub fn items(&self) -> &[Reply] {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => v,
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// Array of bulk strings as text (panics on other shapes).
    pub fn strings(&self) -> Vec<String> {
        self.items().iter().map(|r| r.text()).collect()
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    pub fn error_text(&self) -> &str {
        match self {
            Reply::Error(e) => e,
            other => panic!("expected an error reply, got {other:?}"),
        }
    }
}

pub fn ok() -> Reply {
    Reply::Simple("OK".into())
}
pub fn simple(s: &str) -> Reply {
    Reply::Simple(s.into())
}
pub fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}
pub fn int(i: i64) -> Reply {
    Reply::Int(i)
}
pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
    Reply::Bulk(b.as_ref().to_vec())
}
pub fn nil() -> Reply {
    Reply::Nil
}
pub fn arr(v: Vec<Reply>) -> Reply {
    Reply::Array(v)
}
/// An array of bulk strings.
pub fn bulks<A: AsRef<[u8]>>(v: &[A]) -> Reply {
    Reply::Array(v.iter().map(bulk).collect())
}
pub fn empty() -> Reply {
    Reply::Array(Vec::new())
}

/// The standard error texts.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INT: &str = "ERR value is not an integer or out of range";
pub const SYNTAX: &str = "ERR syntax error";

pub fn arity_err(cmd: &str) -> Reply {
    err(&format!(
        "ERR wrong number of arguments for '{cmd}' command"
    ))
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Parses one complete reply at the start of `buf`: `Ok(None)` if more bytes are needed.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], pos: usize) -> Result<Option<(Reply, usize)>, String> {
    let Some(&tag) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(eol) = find_crlf(buf, pos + 1) else {
        return Ok(None);
    };
    let line = &buf[pos + 1..eol];
    let text = || String::from_utf8_lossy(line).into_owned();
    let next = eol + 2;
    let num = || -> Result<i64, String> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad number {:?} after {:?}", text(), tag as char))
    };
    let blob = |n: i64| -> Option<(Vec<u8>, usize)> {
        let n = n as usize;
        if buf.len() < next + n + 2 {
            return None;
        }
        Some((buf[next..next + n].to_vec(), next + n + 2))
    };
    let aggregate = |n: i64, per: usize| -> Result<Option<(Vec<Reply>, usize)>, String> {
        let mut items = Vec::new();
        let mut p = next;
        for _ in 0..(n as usize * per) {
            match parse_at(buf, p)? {
                Some((r, len)) => {
                    items.push(r);
                    p += len;
                }
                None => return Ok(None),
            }
        }
        Ok(Some((items, p)))
    };
    let done = |r: Reply, end: usize| Ok(Some((r, end - pos)));
    match tag {
        b'+' => done(Reply::Simple(text()), next),
        b'-' => done(Reply::Error(text()), next),
        b':' => done(Reply::Int(num()?), next),
        b'_' => done(Reply::Nil, next),
        b',' => done(Reply::Double(text()), next),
        b'#' => done(Reply::Bool(line == b"t"), next),
        b'(' => done(Reply::BigNumber(text()), next),
        b'$' | b'!' | b'=' => {
            let n = num()?;
            if n < 0 {
                return done(Reply::Nil, next);
            }
            match blob(n) {
                None => Ok(None),
                Some((b, end)) => match tag {
                    b'$' => done(Reply::Bulk(b), end),
                    b'!' => done(Reply::Error(String::from_utf8_lossy(&b).into_owned()), end),
                    _ => {
                        let fmt = String::from_utf8_lossy(&b[..3.min(b.len())]).into_owned();
                        done(Reply::Verbatim(fmt, b[4.min(b.len())..].to_vec()), end)
                    }
                },
            }
        }
        b'*' | b'~' | b'>' => {
            let n = num()?;
            if n < 0 {
                return done(Reply::NilArray, next);
            }
            match aggregate(n, 1)? {
                None => Ok(None),
                Some((items, end)) => done(
                    match tag {
                        b'*' => Reply::Array(items),
                        b'~' => Reply::Set(items),
                        _ => Reply::Push(items),
                    },
                    end,
                ),
            }
        }
        b'%' => {
            let n = num()?;
            match aggregate(n, 2)? {
                None => Ok(None),
                Some((items, end)) => {
                    let mut it = items.into_iter();
                    let mut pairs = Vec::new();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    done(Reply::Map(pairs), end)
                }
            }
        }
        other => Err(format!(
            "unexpected reply type byte {:?} in {:?}",
            other as char,
            String::from_utf8_lossy(&buf[pos..buf.len().min(pos + 80)])
        )),
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode_cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_cmd_into(args, &mut out);
    out
}

pub fn encode_cmd_into<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// A raw RESP connection: send bytes or commands, read exactly one reply at a time.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to server");
    }

    /// Sends one command without reading its reply.
    pub fn send_cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let b = encode_cmd(args);
        self.send(&b);
    }

    /// Sends one command and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send_cmd(args);
        self.read_reply()
    }

    /// Reads one reply; `Ok(None)` if the server closed the connection before a full reply.
    pub fn try_read_reply(&mut self) -> io::Result<Option<Reply>> {
        loop {
            match parse_reply(&self.buf) {
                Ok(Some((r, n))) => {
                    self.buf.drain(..n);
                    return Ok(Some(r));
                }
                Ok(None) => {}
                Err(e) => panic!("malformed reply from server: {e}"),
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one reply; panics on EOF, timeout or I/O error.
    pub fn read_reply(&mut self) -> Reply {
        match self.try_read_reply() {
            Ok(Some(r)) => r,
            Ok(None) => panic!(
                "server closed the connection while a reply was expected (pending bytes: {:?})",
                String::from_utf8_lossy(&self.buf)
            ),
            Err(e) => panic!(
                "reading a reply failed: {e} (pending bytes: {:?})",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Asserts the server closes the connection with no further reply (reset counts as closed).
    pub fn expect_closed(&mut self) {
        match self.try_read_reply() {
            Ok(None) => {
                assert!(
                    self.buf.is_empty(),
                    "connection closed with a partial reply: {:?}",
                    String::from_utf8_lossy(&self.buf)
                );
            }
            Ok(Some(r)) => panic!("expected the server to close the connection, got {r:?}"),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("expected the server to close the connection, got error {e}"),
        }
    }

    /// Closes our sending side (FIN), keeping the reading side open.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Bytes read but not yet parsed as a reply.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

// ---------------------------------------------------------------------------------------------
// Key ownership, computed as the server does (Redis Cluster slots, then `slot % n`).
// ---------------------------------------------------------------------------------------------

/// CRC16-CCITT (XMODEM), bitwise.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Redis Cluster's key slot, honouring the first non-empty `{hashtag}`.
pub fn key_slot(key: &[u8]) -> usize {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        },
        None => key,
    };
    crc16(hashed) as usize & 16383
}

/// The shard that owns `key` among `nshards`.
pub fn shard_of(key: &[u8], nshards: usize) -> usize {
    if nshards <= 1 {
        return 0;
    }
    key_slot(key) % nshards
}

/// The first `per_shard` keys `prefix<n>` owned by each of `nshards` shards.
pub fn keys_per_shard(prefix: &str, nshards: usize, per_shard: usize) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); nshards];
    let mut n = 0;
    while out.iter().any(|v| v.len() < per_shard) {
        let k = format!("{prefix}{n}");
        let s = shard_of(k.as_bytes(), nshards);
        if out[s].len() < per_shard {
            out[s].push(k);
        }
        n += 1;
        assert!(n < 1_000_000, "could not find keys for every shard");
    }
    out
}

/// Polls `f` every `every` until it returns true or `limit` passes; returns whether it did.
pub fn wait_until(limit: Duration, every: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

//! redis-lite-persist: snapshot benchmark of redis-lite against redis-server (SAVE, start-up load,
//! BGSAVE's effect on latency). Run it through `benches/persist.sh`, which builds both binaries.
//!
//! For each server in turn (redis-server first, then redis-lite; one at a time, so the idle one
//! never competes for the CPUs):
//!
//! 1. Start it on 127.0.0.1 in a fresh dir with save points off; load N string keys
//!    (`SET key:<n as 12 digits> <16-byte value>`, the key names redis-benchmark's `-r` uses) and
//!    M lists (`RPUSH list:<n>` with 100 items, `item-<j>` and every fourth an integer), pipelined
//!    over one raw TCP connection; check DBSIZE.
//! 2. SAVE: client-observed wall time, the server's CPU time over it (utime+stime from
//!    /proc/PID/stat, all threads), the snapshot's files and bytes in its dir.
//! 3. SHUTDOWN NOSAVE, wait for the exit, restart in the same dir: time from spawn to ready
//!    (redis-lite: its ready line on stdout; redis-server: the first +PONG, polled every 2 ms,
//!    plus the load time it logs); DBSIZE and a sample of values and lists compared exactly.
//! 4. `redis-benchmark --threads 2 -c 50 -P 1 -t set,get -r N -d 16` once as is and once with a
//!    BGSAVE sent on another connection 0.5 s into the run (INFO persistence polled every 20 ms
//!    until `rdb_bgsave_in_progress:0`); p50/p99/max of each test.
//! 5. Stop it by PID (SIGTERM, SIGKILL after 15 s). At the end: remove the temp dir, print a
//!    markdown report and write `benches/results/persist-<date>.md`.
//!
//! Every wait has a deadline and the whole run a budget; only processes this tool started are
//! signalled, by PID; servers get PR_SET_PDEATHSIG so they die with this tool.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const USAGE: &str = "\
usage: benches/persist.sh [options]    (or target/compare/release/redis-lite-persist [options])

  --keys N              string keys to load (default 1000000; --quick: 100000)
  --lists N             lists of --list-items items to load (default 10000; --quick: 1000)
  --list-items N        items per list (default 100)
  --bench-n N           redis-benchmark -n (requests per test; default 200000; --quick: 50000)
  --bgsave-at SECS      send BGSAVE this long after redis-benchmark starts (default 0.5)
  --repeat N            N pairs of redis-benchmark runs (without/with BGSAVE, order alternating
                        per pair); the tables show medians (default 1)
  --quick               smaller data and runs (well under a minute)
  --only redis|ours     run one server only
  --shards N            pass --shards N to redis-lite
  --ours-args \"...\"     extra arguments for redis-lite (split on whitespace)
  --budget SECS         stop starting new steps after SECS seconds (default 270; --quick: 90)
  --ours-bin PATH       redis-lite binary (default target/release/redis-lite)
  --redis-server PATH   (default redis-server)    --redis-benchmark PATH  (default redis-benchmark)
  --results-dir DIR     (default benches/results) --tmpdir DIR  (default: a new dir under $TMPDIR)
  --invocation TEXT     the command line to record in the report (persist.sh sets it)
";

#[derive(Debug, Clone)]
struct Opts {
    keys: Option<usize>,
    lists: Option<usize>,
    list_items: usize,
    bench_n: Option<u64>,
    bgsave_at: f64,
    repeat: usize,
    quick: bool,
    only: Option<Who>,
    shards: Option<usize>,
    ours_args: Vec<String>,
    budget_secs: Option<u64>,
    ours_bin: PathBuf,
    redis_server: String,
    redis_benchmark: String,
    results_dir: PathBuf,
    tmpdir: Option<PathBuf>,
    invocation: Option<String>,
}

impl Opts {
    fn parse() -> Result<Opts, String> {
        let mut o = Opts {
            keys: None,
            lists: None,
            list_items: 100,
            bench_n: None,
            bgsave_at: 0.5,
            repeat: 1,
            quick: false,
            only: None,
            shards: None,
            ours_args: Vec::new(),
            budget_secs: None,
            ours_bin: PathBuf::from("target/release/redis-lite"),
            redis_server: "redis-server".into(),
            redis_benchmark: "redis-benchmark".into(),
            results_dir: PathBuf::from("benches/results"),
            tmpdir: None,
            invocation: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "-h" | "--help" => return Err(String::new()),
                "--keys" => o.keys = Some(num(&val("--keys")?, "--keys")?),
                "--lists" => o.lists = Some(num(&val("--lists")?, "--lists")?),
                "--list-items" => o.list_items = num(&val("--list-items")?, "--list-items")?,
                "--bench-n" => o.bench_n = Some(num(&val("--bench-n")?, "--bench-n")?),
                "--bgsave-at" => o.bgsave_at = num(&val("--bgsave-at")?, "--bgsave-at")?,
                "--repeat" => o.repeat = num(&val("--repeat")?, "--repeat")?,
                "--quick" => o.quick = true,
                "--only" => {
                    o.only = Some(match val("--only")?.as_str() {
                        "redis" => Who::Redis,
                        "ours" => Who::Ours,
                        other => return Err(format!("--only: redis or ours, not {other:?}")),
                    })
                }
                "--shards" => o.shards = Some(num(&val("--shards")?, "--shards")?),
                "--ours-args" => o
                    .ours_args
                    .extend(val("--ours-args")?.split_whitespace().map(String::from)),
                "--budget" => o.budget_secs = Some(num(&val("--budget")?, "--budget")?),
                "--ours-bin" => o.ours_bin = PathBuf::from(val("--ours-bin")?),
                "--redis-server" => o.redis_server = val("--redis-server")?,
                "--redis-benchmark" => o.redis_benchmark = val("--redis-benchmark")?,
                "--results-dir" => o.results_dir = PathBuf::from(val("--results-dir")?),
                "--tmpdir" => o.tmpdir = Some(PathBuf::from(val("--tmpdir")?)),
                "--invocation" => o.invocation = Some(val("--invocation")?),
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if o.keys() == 0 {
            return Err("--keys must be at least 1".into());
        }
        if o.list_items == 0 || o.list_items > 100_000 {
            return Err("--list-items must be in 1..=100000".into());
        }
        if !(0.0..=60.0).contains(&o.bgsave_at) {
            return Err("--bgsave-at must be in [0, 60]".into());
        }
        if !(1..=10).contains(&o.repeat) {
            return Err("--repeat must be in 1..=10".into());
        }
        if o.bench_n() == 0 {
            return Err("--bench-n must be at least 1".into());
        }
        Ok(o)
    }
    fn keys(&self) -> usize {
        self.keys
            .unwrap_or(if self.quick { 100_000 } else { 1_000_000 })
    }
    fn lists(&self) -> usize {
        self.lists
            .unwrap_or(if self.quick { 1_000 } else { 10_000 })
    }
    fn bench_n(&self) -> u64 {
        self.bench_n
            .unwrap_or(if self.quick { 50_000 } else { 200_000 })
    }
    fn budget(&self) -> Duration {
        let extra = 30 * (self.repeat as u64 - 1);
        Duration::from_secs(self.budget_secs.unwrap_or(if self.quick {
            90 + extra
        } else {
            270 + 2 * extra
        }))
    }
    fn expected_keys(&self) -> i64 {
        (self.keys() + self.lists()) as i64
    }
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what}: not a number: {s:?}"))
}

// ---------------------------------------------------------------------------------------------
// Signals and the time budget
// ---------------------------------------------------------------------------------------------

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, h);
        libc::signal(libc::SIGTERM, h);
        libc::signal(libc::SIGHUP, h);
    }
}

fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

struct Budget {
    start: Instant,
    total: Duration,
}

impl Budget {
    fn left(&self) -> Duration {
        self.total.saturating_sub(self.start.elapsed())
    }
    /// Why no new step may start, if one may not.
    fn refuse(&self) -> Option<String> {
        if stopping() {
            Some("interrupted".into())
        } else if self.left().is_zero() {
            Some(format!(
                "time budget of {} s exhausted",
                self.total.as_secs()
            ))
        } else {
            None
        }
    }
    /// A step's deadline: at most `max` from now, and not much past the budget.
    fn deadline(&self, max: Duration) -> Instant {
        Instant::now() + max.min(self.left() + Duration::from_secs(10))
    }
}

// ---------------------------------------------------------------------------------------------
// /proc readings and the machine
// ---------------------------------------------------------------------------------------------

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// (utime + stime of the process, all its threads live and exited; cutime + cstime of its
/// reaped children, e.g. redis-server's BGSAVE fork), in seconds.
fn cpu_secs(pid: u32) -> Option<(f64, f64)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); utime/stime are fields 14/15, cutime/cstime 16/17.
    let g = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    let tck = clk_tck();
    Some((
        (g(11)? + g(12)?) as f64 / tck,
        (g(13)? + g(14)?) as f64 / tck,
    ))
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn cmd_output(prog: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn machine(opts: &Opts) -> Vec<String> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = cmd_output("nproc", &[]).unwrap_or_else(|| "?".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let mem_total = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let l = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            let kb: f64 = l.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "?".into());
    let fs_type = cmd_output(
        "stat",
        &["-f", "-c", "%T", &std::env::temp_dir().to_string_lossy()],
    )
    .unwrap_or_else(|| "?".into());
    vec![
        format!("nproc: {nproc}; CPU: {cpu_model}; memory: {mem_total}; kernel: {kernel}"),
        format!(
            "redis-server: {}",
            cmd_output(&opts.redis_server, &["--version"]).unwrap_or_else(|| "?".into())
        ),
        format!(
            "redis-benchmark: {}",
            cmd_output(&opts.redis_benchmark, &["--version"]).unwrap_or_else(|| "?".into())
        ),
        format!(
            "ours: {}",
            cmd_output(&opts.ours_bin.to_string_lossy(), &["--version"])
                .unwrap_or_else(|| opts.ours_bin.display().to_string())
        ),
        format!(
            "snapshot dirs under {} (file system: {fs_type})",
            opts.tmpdir
                .clone()
                .unwrap_or_else(std::env::temp_dir)
                .display()
        ),
    ]
}

/// (year, month, day, hour, minute, second) in UTC.
fn utc_now() -> (i64, u32, u32, u32, u32, u32) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (
        y,
        m,
        d,
        (sod / 3600) as u32,
        (sod % 3600 / 60) as u32,
        (sod % 60) as u32,
    )
}

// ---------------------------------------------------------------------------------------------
// A minimal RESP client
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
#[allow(dead_code)] // payloads are read through Debug, in error messages
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    fn show(&self) -> String {
        match self {
            Reply::Simple(s) => format!("+{s}"),
            Reply::Error(s) => format!("-{s}"),
            Reply::Int(n) => format!(":{n}"),
            Reply::Bulk(None) => "(nil)".into(),
            Reply::Bulk(Some(b)) => format!("{:?}", String::from_utf8_lossy(b)),
            Reply::Array(None) => "(nil array)".into(),
            Reply::Array(Some(v)) => format!("array of {}", v.len()),
        }
    }
}

struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

fn encode(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.push(b'*');
    buf.extend_from_slice(args.len().to_string().as_bytes());
    buf.extend_from_slice(b"\r\n");
    for a in args {
        buf.push(b'$');
        buf.extend_from_slice(a.len().to_string().as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

impl Client {
    fn connect(port: u16, timeout: Duration) -> io::Result<Client> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        s.set_nodelay(true)?;
        Ok(Client {
            r: BufReader::with_capacity(1 << 16, s.try_clone()?),
            w: s,
        })
    }

    fn set_timeout(&mut self, t: Duration) {
        let _ = self
            .w
            .set_read_timeout(Some(t.max(Duration::from_millis(1))));
    }

    fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        let mut buf = Vec::new();
        encode(&mut buf, args);
        self.w.write_all(&buf)?;
        self.read()
    }

    fn line(&mut self) -> io::Result<String> {
        let mut l = Vec::new();
        self.r.read_until(b'\n', &mut l)?;
        if l.len() < 2 || l[l.len() - 2] != b'\r' {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed or malformed reply line",
            ));
        }
        l.truncate(l.len() - 2);
        Ok(String::from_utf8_lossy(&l).into_owned())
    }

    fn read(&mut self) -> io::Result<Reply> {
        let l = self.line()?;
        let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad reply {l:?}"));
        let (t, rest) = l.split_at(l.len().min(1));
        Ok(match t {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(rest.parse().map_err(|_| bad())?),
            "$" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut b = vec![0; n as usize + 2];
                    self.r.read_exact(&mut b)?;
                    b.truncate(n as usize);
                    Reply::Bulk(Some(b))
                }
            }
            "*" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    Reply::Array(None)
                } else {
                    let mut v = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        v.push(self.read()?);
                    }
                    Reply::Array(Some(v))
                }
            }
            _ => return Err(bad()),
        })
    }

    fn int(&mut self, args: &[&[u8]]) -> Result<i64, String> {
        match self.call(args) {
            Ok(Reply::Int(n)) => Ok(n),
            Ok(r) => Err(format!(
                "{} answered {}",
                String::from_utf8_lossy(args[0]),
                r.show()
            )),
            Err(e) => Err(format!("{}: {e}", String::from_utf8_lossy(args[0]))),
        }
    }

    fn info(&mut self, section: &str) -> Result<String, String> {
        match self.call(&[b"INFO", section.as_bytes()]) {
            Ok(Reply::Bulk(Some(b))) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(r) => Err(format!("INFO {section} answered {}", r.show())),
            Err(e) => Err(format!("INFO {section}: {e}")),
        }
    }

    /// Send `cmds` (already encoded, `count` commands) and read `count` replies; returns the
    /// number of error replies and the first one.
    fn pipeline(&mut self, cmds: &[u8], count: usize) -> io::Result<(usize, Option<String>)> {
        self.w.write_all(cmds)?;
        let mut errors = 0;
        let mut first = None;
        for _ in 0..count {
            if let Reply::Error(e) = self.read()? {
                errors += 1;
                first.get_or_insert(e);
            }
        }
        Ok((errors, first))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.w.shutdown(Shutdown::Both);
    }
}

fn info_field(info: &str, key: &str) -> Option<String> {
    info.lines().find_map(|l| {
        l.trim_end()
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(String::from)
    })
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Redis,
    Ours,
}

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Redis => "redis",
            Who::Ours => "ours",
        }
    }
}

struct Server {
    who: Who,
    child: Child,
    pid: u32,
    port: u16,
    argv: Vec<String>,
    log: PathBuf,
    /// Spawn → ready (redis-lite: its ready line read; redis-server: first +PONG).
    ready_ms: f64,
    /// The server's CPU time (utime+stime, all threads) when it became ready.
    ready_cpu_ms: f64,
    /// redis-lite's ready line.
    ready_line: Option<String>,
    stdout_thread: Option<std::thread::JoinHandle<()>>,
    stopped: Option<String>,
}

fn free_port() -> io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn argv_string(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn spawn(argv: &[String], stdout: Stdio, stderr: Stdio) -> io::Result<Child> {
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

fn server_argv(who: Who, opts: &Opts, dir: &Path, port: u16) -> Vec<String> {
    let dir = dir.to_string_lossy().into_owned();
    let mut argv: Vec<String> = match who {
        Who::Redis => vec![
            opts.redis_server.clone(),
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--daemonize".into(),
            "no".into(),
            "--dir".into(),
            dir,
            "--dbfilename".into(),
            "dump.rdb".into(),
        ],
        Who::Ours => vec![
            opts.ours_bin.to_string_lossy().into_owned(),
            "--port".into(),
            "0".into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--dir".into(),
            dir,
            "--dbfilename".into(),
            "dump.rdb".into(),
        ],
    };
    if who == Who::Ours {
        if let Some(n) = opts.shards {
            argv.push("--shards".into());
            argv.push(n.to_string());
        }
        argv.extend(opts.ours_args.iter().cloned());
    }
    argv
}

/// Starts a server in `dir` (logging to `log`) and waits until it is ready, up to `deadline`.
fn start_server(
    who: Who,
    opts: &Opts,
    dir: &Path,
    log: &Path,
    deadline: Instant,
) -> Result<Server, String> {
    fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let logf = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let errf = logf.try_clone().map_err(|e| e.to_string())?;
    let port = match who {
        Who::Redis => free_port().map_err(|e| format!("free port: {e}"))?,
        Who::Ours => 0,
    };
    let argv = server_argv(who, opts, dir, port);
    let (stdout, lines) = match who {
        Who::Redis => (Stdio::from(logf), None),
        Who::Ours => (Stdio::piped(), Some(logf)),
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
fn wait_pong(srv: &mut Server, t0: Instant, deadline: Instant) -> Result<(), String> {
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
fn wait_ready_line(
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
    fn alive(&mut self) -> Result<(), String> {
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

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self, n: usize) -> String {
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
    fn wait_exit(&mut self, max: Duration) -> Option<String> {
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

    fn join_stdout(&mut self) {
        if let Some(t) = self.stdout_thread.take() {
            let _ = t.join();
        }
    }

    /// SIGTERM by PID, wait up to 15 s, then SIGKILL. Returns how it ended.
    fn stop(&mut self) -> String {
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

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// redis-benchmark's `-r` key names (`key:` + 12 digits), so its SETs overwrite loaded keys.
fn key_name(n: usize) -> String {
    format!("key:{n:012}")
}

fn key_value(n: usize) -> String {
    format!("v{n:015}") // exactly 16 bytes, distinct per key
}

fn list_name(n: usize) -> String {
    format!("list:{n}")
}

fn list_items(n: usize, items: usize) -> Vec<String> {
    (0..items)
        .map(|j| {
            if j % 4 == 3 {
                (n * 1000 + j).to_string()
            } else {
                format!("item-{j}")
            }
        })
        .collect()
}

const SET_BATCH: usize = 1000;

/// Loads the keys and lists over one connection; returns the seconds it took.
fn load_data(srv: &Server, opts: &Opts, deadline: Instant) -> Result<f64, String> {
    let t0 = Instant::now();
    let mut c =
        Client::connect(srv.port, Duration::from_secs(30)).map_err(|e| format!("connect: {e}"))?;
    let mut buf = Vec::with_capacity(SET_BATCH * 64);
    let keys = opts.keys();
    let mut i = 0usize;
    while i < keys {
        if stopping() {
            return Err("interrupted".into());
        }
        if Instant::now() > deadline {
            return Err(format!("load not finished by its deadline ({i} keys sent)"));
        }
        buf.clear();
        let end = (i + SET_BATCH).min(keys);
        for n in i..end {
            encode(
                &mut buf,
                &[b"SET", key_name(n).as_bytes(), key_value(n).as_bytes()],
            );
        }
        let (errs, first) = c
            .pipeline(&buf, end - i)
            .map_err(|e| format!("SET after {i} keys: {e}"))?;
        if errs > 0 {
            return Err(format!(
                "{errs} error replies to SET in keys {i}..{end}, first: -{}",
                first.unwrap_or_default()
            ));
        }
        i = end;
    }
    let lists = opts.lists();
    let per_batch = (10_000 / opts.list_items).max(1);
    let mut i = 0usize;
    while i < lists {
        if stopping() {
            return Err("interrupted".into());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "load not finished by its deadline ({i} lists sent)"
            ));
        }
        buf.clear();
        let end = (i + per_batch).min(lists);
        for n in i..end {
            let name = list_name(n);
            let items = list_items(n, opts.list_items);
            let mut args: Vec<&[u8]> = vec![b"RPUSH", name.as_bytes()];
            args.extend(items.iter().map(|s| s.as_bytes()));
            encode(&mut buf, &args);
        }
        let (errs, first) = c
            .pipeline(&buf, end - i)
            .map_err(|e| format!("RPUSH after {i} lists: {e}"))?;
        if errs > 0 {
            return Err(format!(
                "{errs} error replies to RPUSH in lists {i}..{end}, first: -{}",
                first.unwrap_or_default()
            ));
        }
        i = end;
    }
    Ok(t0.elapsed().as_secs_f64())
}

/// Compares a sample of keys and whole lists with what was loaded.
fn check_sample(c: &mut Client, opts: &Opts) -> Result<String, String> {
    let keys = opts.keys();
    let mut ks = vec![0, 1, keys / 3, keys / 2, keys * 7 / 9, keys - 1];
    ks.retain(|&k| k < keys);
    ks.dedup();
    let lists = opts.lists();
    let mut ls = vec![0, lists / 2, lists.saturating_sub(1)];
    ls.retain(|&l| l < lists);
    ls.dedup();
    let mut bad = Vec::new();
    for &k in &ks {
        let name = key_name(k);
        let want = key_value(k);
        match c.call(&[b"GET", name.as_bytes()]) {
            Ok(Reply::Bulk(Some(v))) if v == want.as_bytes() => {}
            Ok(r) => bad.push(format!("GET {name} = {} (want {want:?})", r.show())),
            Err(e) => return Err(format!("GET {name}: {e}")),
        }
    }
    for &l in &ls {
        let name = list_name(l);
        let want = list_items(l, opts.list_items);
        match c.call(&[b"LRANGE", name.as_bytes(), b"0", b"-1"]) {
            Ok(Reply::Array(Some(v))) => {
                let got: Vec<Option<String>> = v
                    .iter()
                    .map(|x| match x {
                        Reply::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                        _ => None,
                    })
                    .collect();
                if got.len() != want.len() {
                    bad.push(format!(
                        "LRANGE {name} 0 -1: {} items (want {})",
                        got.len(),
                        want.len()
                    ));
                } else if let Some(j) =
                    (0..want.len()).find(|&j| got[j].as_deref() != Some(want[j].as_str()))
                {
                    bad.push(format!(
                        "LRANGE {name} 0 -1: item {j} = {:?} (want {:?})",
                        got[j], want[j]
                    ));
                }
            }
            Ok(r) => bad.push(format!("LRANGE {name} 0 -1 = {}", r.show())),
            Err(e) => return Err(format!("LRANGE {name}: {e}")),
        }
    }
    if bad.is_empty() {
        Ok(format!(
            "{} keys and {} whole lists identical",
            ks.len(),
            ls.len()
        ))
    } else {
        Err(bad.join("; "))
    }
}

/// Regular files in `dir`, sorted by name, with their sizes.
fn dir_files(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    m.is_file()
                        .then(|| (e.file_name().to_string_lossy().into_owned(), m.len()))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// redis-benchmark runs, with and without a BGSAVE
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct TestLat {
    test: String,
    rps: f64,
    avg: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

#[derive(Clone, Debug, Default)]
struct Bgsave {
    /// Seconds after redis-benchmark's spawn that BGSAVE was sent.
    at_s: f64,
    reply: String,
    reply_ms: f64,
    /// Seconds after redis-benchmark's spawn that INFO first showed rdb_bgsave_in_progress:0.
    done_at_s: Option<f64>,
    status: Option<String>,
    error: Option<String>,
    /// redis-server's INFO stats latest_fork_usec.
    fork_usec: Option<String>,
    bytes_after: u64,
}

impl Bgsave {
    fn total_ms(&self) -> Option<f64> {
        self.done_at_s.map(|d| (d - self.at_s) * 1e3)
    }
}

#[derive(Clone, Debug, Default)]
struct BenchRun {
    tests: Vec<TestLat>,
    wall_s: f64,
    cpu_s: f64,
    child_cpu_s: f64,
    bgsave: Option<Bgsave>,
    error: Option<String>,
    notes: Vec<String>,
}

impl BenchRun {
    fn test(&self, name: &str) -> Option<&TestLat> {
        if self.error.is_some() {
            return None;
        }
        self.tests
            .iter()
            .find(|t| t.test.eq_ignore_ascii_case(name))
    }
}

fn bench_args(opts: &Opts, port: &str, n: u64) -> Vec<String> {
    [
        "-h",
        "127.0.0.1",
        "-p",
        port,
        "--threads",
        "2",
        "-c",
        "50",
        "-n",
        &n.to_string(),
        "-r",
        &opts.keys().to_string(),
        "-d",
        "16",
        "-t",
        "set,get",
        "-P",
        "1",
        "--csv",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn parse_csv_line(l: &str) -> Vec<String> {
    l.trim()
        .trim_matches('"')
        .split("\",\"")
        .map(String::from)
        .collect()
}

const BGSAVE_POLL: Duration = Duration::from_millis(20);

fn run_benchmark(
    opts: &Opts,
    srv: &mut Server,
    tmp: &Path,
    with_bgsave: bool,
    n: u64,
    budget: &Budget,
) -> BenchRun {
    let mut r = BenchRun::default();
    let out_path = tmp.join("bench.out");
    let err_path = tmp.join("bench.err");
    let (Ok(out), Ok(err)) = (File::create(&out_path), File::create(&err_path)) else {
        r.error = Some("cannot create output files in the temp dir".into());
        return r;
    };
    // The BGSAVE connection exists before the run starts.
    let mut ctl = if with_bgsave {
        match Client::connect(srv.port, Duration::from_secs(30)) {
            Ok(c) => Some(c),
            Err(e) => {
                r.error = Some(format!("connect for BGSAVE: {e}"));
                return r;
            }
        }
    } else {
        None
    };
    let run_deadline = budget.deadline(Duration::from_secs(90));
    let cpu0 = cpu_secs(srv.pid);
    let t0 = Instant::now();
    let mut child = match Command::new(&opts.redis_benchmark)
        .args(bench_args(opts, &srv.port.to_string(), n))
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            r.error = Some(format!("cannot run {}: {e}", opts.redis_benchmark));
            return r;
        }
    };
    let mut status = None;
    let mut killed_at: Option<Instant> = None;
    let mut bg: Option<Bgsave> = None;
    let mut bg_done = !with_bgsave;
    let mut last_poll = t0;
    let mut bg_deadline = run_deadline;
    loop {
        if status.is_none() {
            match child.try_wait() {
                Ok(Some(st)) => {
                    status = Some(st);
                    r.wall_s = t0.elapsed().as_secs_f64();
                }
                Ok(None) => {}
                Err(e) => {
                    r.error = Some(format!("waiting for redis-benchmark: {e}"));
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
            }
        }
        if status.is_some() && bg_done {
            break;
        }
        let now = Instant::now();
        if status.is_none() && (now > run_deadline || stopping()) {
            match killed_at {
                None => {
                    // SAFETY: kill(2) on our own child's PID.
                    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
                    killed_at = Some(now);
                    if r.error.is_none() {
                        r.error = Some(if stopping() {
                            "interrupted".into()
                        } else {
                            "redis-benchmark did not finish by its deadline (killed)".into()
                        });
                    }
                }
                Some(k) if k.elapsed() > Duration::from_secs(3) => {
                    let _ = child.kill();
                }
                Some(_) => {}
            }
        }
        if let Some(c) = ctl.as_mut() {
            if bg.is_none() && t0.elapsed().as_secs_f64() >= opts.bgsave_at {
                let at = t0.elapsed();
                let reply = c.call(&[b"BGSAVE"]);
                let reply_ms = (t0.elapsed() - at).as_secs_f64() * 1e3;
                let mut b = Bgsave {
                    at_s: at.as_secs_f64(),
                    reply_ms,
                    ..Default::default()
                };
                match reply {
                    Ok(Reply::Simple(s)) if s.starts_with("Background saving started") => {
                        b.reply = format!("+{s}");
                        bg_deadline = Instant::now() + Duration::from_secs(120);
                        bg_deadline = bg_deadline.min(budget.deadline(Duration::from_secs(120)));
                    }
                    Ok(x) => {
                        b.reply = x.show();
                        b.error = Some(format!("BGSAVE answered {}", x.show()));
                        bg_done = true;
                    }
                    Err(e) => {
                        b.reply = format!("({e})");
                        b.error = Some(format!("BGSAVE: {e}"));
                        bg_done = true;
                    }
                }
                bg = Some(b);
                last_poll = Instant::now();
            } else if let (Some(b), false) = (bg.as_mut(), bg_done) {
                if last_poll.elapsed() >= BGSAVE_POLL {
                    last_poll = Instant::now();
                    match c.info("persistence") {
                        Ok(info) => {
                            if info_field(&info, "rdb_bgsave_in_progress").as_deref() == Some("0") {
                                b.done_at_s = Some(t0.elapsed().as_secs_f64());
                                b.status = info_field(&info, "rdb_last_bgsave_status");
                                if b.status.as_deref() != Some("ok") {
                                    b.error = Some(format!(
                                        "after BGSAVE, INFO persistence says rdb_last_bgsave_status:{} (rdb_last_error:{})",
                                        b.status.as_deref().unwrap_or("<missing>"),
                                        info_field(&info, "rdb_last_error")
                                            .unwrap_or_else(|| "<missing>".into())
                                    ));
                                }
                                bg_done = true;
                            }
                        }
                        Err(e) => {
                            b.error = Some(format!("polling INFO persistence: {e}"));
                            bg_done = true;
                        }
                    }
                    if !bg_done && Instant::now() > bg_deadline {
                        b.error = Some(format!(
                            "BGSAVE still in progress {:.0} s after it was sent (gave up waiting)",
                            t0.elapsed().as_secs_f64() - b.at_s
                        ));
                        bg_done = true;
                    }
                }
            }
        }
        // (A run shorter than --bgsave-at still gets its BGSAVE, after redis-benchmark exited.)
        std::thread::sleep(Duration::from_millis(2));
    }
    let cpu1 = cpu_secs(srv.pid);
    if let (Some(a), Some(b)) = (cpu0, cpu1) {
        r.cpu_s = b.0 - a.0;
        r.child_cpu_s = b.1 - a.1;
    }
    if let (Some(b), Some(c)) = (bg.as_mut(), ctl.as_mut()) {
        if srv.who == Who::Redis {
            b.fork_usec = c
                .info("stats")
                .ok()
                .and_then(|s| info_field(&s, "latest_fork_usec"));
        }
    }
    if let Some(b) = bg.as_mut() {
        b.bytes_after = dir_files(&server_dir_of(srv)).iter().map(|f| f.1).sum();
    }
    r.bgsave = bg;
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    for l in stdout.lines().chain(stderr.lines()) {
        // Progress lines are \r-separated; keep the last segment.
        let l = l.rsplit('\r').next().unwrap_or("").trim();
        if l.is_empty() || l.starts_with("\"test\"") {
            continue;
        }
        if l.starts_with('"') {
            let f = parse_csv_line(l);
            if f.len() >= 8 {
                let p = |i: usize| f[i].parse::<f64>().unwrap_or(f64::NAN);
                r.tests.push(TestLat {
                    test: f[0].clone(),
                    rps: p(1),
                    avg: p(2),
                    p50: p(4),
                    p95: p(5),
                    p99: p(6),
                    max: p(7),
                });
                continue;
            }
        }
        if !r.notes.iter().any(|n| n == l) {
            r.notes.push(l.to_string());
        }
    }
    if r.error.is_none() {
        if status.is_none_or(|s| !s.success()) {
            r.error = Some(format!("redis-benchmark exited with {status:?}"));
        } else if r.tests.len() < 2 {
            r.error = Some(format!(
                "redis-benchmark printed {} CSV result lines (want SET and GET){}",
                r.tests.len(),
                r.notes
                    .first()
                    .map(|n| format!("; it printed: {n}"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Err(e) = srv.alive() {
        r.error = Some(match r.error.take() {
            Some(prev) => format!("{prev}; {e}"),
            None => e,
        });
    }
    r
}

fn server_dir_of(srv: &Server) -> PathBuf {
    srv.argv
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| srv.argv.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// One server's whole sequence
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Outcome {
    argv_first: Option<String>,
    argv_restart: Option<String>,
    load_s: f64,
    dbsize_loaded: Option<i64>,
    save_ms: Option<f64>,
    save_cpu_ms: Option<f64>,
    save_reply: Option<String>,
    files: Vec<(String, u64)>,
    shutdown: Option<String>,
    shutdown_ms: Option<f64>,
    ready_ms: Option<f64>,
    ready_cpu_ms: Option<f64>,
    /// The server's own log line about loading, verbatim.
    logged_load_line: Option<String>,
    /// Its load time in ms, parsed from that line.
    logged_load_ms: Option<f64>,
    ready_line: Option<String>,
    dbsize_restart: Option<i64>,
    sample: Option<Result<String, String>>,
    without: Vec<BenchRun>,
    with: Vec<BenchRun>,
    dbsize_end: Option<i64>,
    errors: Vec<String>,
    notes: Vec<String>,
    log_lines: Vec<String>,
    stops: Vec<String>,
}

impl Outcome {
    fn snapshot_bytes(&self) -> Option<u64> {
        (!self.files.is_empty()).then(|| self.files.iter().map(|f| f.1).sum())
    }
}

/// Lines of a server log about persistence (for the report), at most `max`.
fn persistence_log_lines(log: &str, max: usize) -> Vec<String> {
    let keys = [
        "save", "load", "snapshot", "rdb", "manifest", "fork", "error", "warn", "panic", "ready",
        "shutdown", "exit", "cow",
    ];
    log.lines()
        .filter(|l| {
            let low = l.to_lowercase();
            keys.iter().any(|k| low.contains(k))
        })
        .take(max)
        .map(|l| l.trim_end().to_string())
        .collect()
}

fn parse_logged_load(who: Who, log: &str) -> Option<(String, f64)> {
    let line = log.lines().find(|l| l.contains("DB loaded from"))?;
    let ms = match who {
        // "... * DB loaded from disk: 0.812 seconds"
        Who::Redis => line
            .split("DB loaded from disk:")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map(|s| s * 1e3),
        // "... DB loaded from <source>: N keys in T ms (...)"
        Who::Ours => line
            .split(" keys in ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok()),
    };
    Some((line.trim().to_string(), ms.unwrap_or(f64::NAN)))
}

fn bench_server(who: Who, opts: &Opts, tmp: &Path, budget: &Budget) -> Outcome {
    let mut o = Outcome::default();
    let label = who.label();
    let dir = tmp.join(format!("{label}-data"));
    let say = |s: String| eprintln!("persist: {label}: {s}");

    // 1. Start and load.
    if let Some(why) = budget.refuse() {
        o.errors.push(format!("not started: {why}"));
        return o;
    }
    let mut srv = match start_server(
        who,
        opts,
        &dir,
        &tmp.join(format!("{label}-1.log")),
        budget.deadline(Duration::from_secs(30)),
    ) {
        Ok(s) => s,
        Err(e) => {
            o.errors.push(format!("start: {e}"));
            return o;
        }
    };
    o.argv_first = Some(argv_string(&srv.argv));
    say(format!(
        "pid {} port {}; loading {} keys + {} lists × {} items",
        srv.pid,
        srv.port,
        opts.keys(),
        opts.lists(),
        opts.list_items
    ));
    match load_data(&srv, opts, budget.deadline(Duration::from_secs(120))) {
        Ok(s) => o.load_s = s,
        Err(e) => {
            o.errors.push(format!(
                "loading the data: {e}; log tail:\n{}",
                srv.log_tail(15)
            ));
            o.stops.push(format!("{label}: {}", srv.stop()));
            return o;
        }
    }
    let mut c = match Client::connect(srv.port, Duration::from_secs(180)) {
        Ok(c) => c,
        Err(e) => {
            o.errors.push(format!("connect: {e}"));
            o.stops.push(format!("{label}: {}", srv.stop()));
            return o;
        }
    };
    o.dbsize_loaded = c.int(&[b"DBSIZE"]).ok();
    say(format!(
        "loaded in {:.2} s; DBSIZE {:?}",
        o.load_s, o.dbsize_loaded
    ));
    if o.dbsize_loaded != Some(opts.expected_keys()) {
        o.errors.push(format!(
            "DBSIZE after loading = {:?}, want {}",
            o.dbsize_loaded,
            opts.expected_keys()
        ));
    }

    // 2. SAVE.
    if let Some(why) = budget.refuse() {
        o.errors.push(format!("SAVE skipped: {why}"));
        o.stops.push(format!("{label}: {}", srv.stop()));
        return o;
    }
    std::thread::sleep(Duration::from_millis(300)); // let the load's tail settle
    c.set_timeout(
        budget
            .deadline(Duration::from_secs(120))
            .saturating_duration_since(Instant::now()),
    );
    let cpu0 = cpu_secs(srv.pid);
    let t0 = Instant::now();
    let reply = c.call(&[b"SAVE"]);
    let save_ms = t0.elapsed().as_secs_f64() * 1e3;
    let cpu1 = cpu_secs(srv.pid);
    c.set_timeout(Duration::from_secs(30));
    match reply {
        Ok(Reply::Simple(s)) if s == "OK" => {
            o.save_ms = Some(save_ms);
            o.save_reply = Some("+OK".into());
            if let (Some(a), Some(b)) = (cpu0, cpu1) {
                o.save_cpu_ms = Some((b.0 - a.0) * 1e3);
                if b.1 > a.1 {
                    o.notes.push(format!(
                        "{label}: children's CPU grew by {:.0} ms during SAVE",
                        (b.1 - a.1) * 1e3
                    ));
                }
            }
        }
        Ok(r) => {
            o.save_reply = Some(r.show());
            o.errors.push(format!(
                "SAVE answered {} after {save_ms:.0} ms; log tail:\n{}",
                r.show(),
                srv.log_tail(15)
            ));
        }
        Err(e) => {
            o.save_reply = Some(format!("({e})"));
            o.errors.push(format!(
                "SAVE: {e} after {save_ms:.0} ms; log tail:\n{}",
                srv.log_tail(15)
            ));
        }
    }
    o.files = dir_files(&dir);
    if let Ok(lastsave) = c.int(&[b"LASTSAVE"]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if o.save_ms.is_some() && (now - lastsave).abs() > 5 + (save_ms / 1e3) as i64 {
            o.notes.push(format!(
                "{label}: LASTSAVE after SAVE = {lastsave}, {} s from now",
                now - lastsave
            ));
        }
    }
    say(format!(
        "SAVE {:?} in {save_ms:.0} ms, CPU {:?} ms; files {:?}",
        o.save_reply, o.save_cpu_ms, o.files
    ));
    if o.files.iter().any(|f| f.0.ends_with(".tmp")) {
        o.notes.push(format!(
            "{label}: temporary files in the dir after SAVE returned: {:?}",
            o.files
        ));
    }

    // 3. SHUTDOWN NOSAVE and restart in the same dir.
    if let Some(why) = budget.refuse() {
        o.errors.push(format!("restart skipped: {why}"));
        o.stops.push(format!("{label}: {}", srv.stop()));
        return o;
    }
    let t0 = Instant::now();
    let reply = c.call(&[b"SHUTDOWN", b"NOSAVE"]);
    drop(c);
    let reply_s = match reply {
        Err(_) => "connection closed".to_string(),
        Ok(r) => r.show(),
    };
    match srv.wait_exit(Duration::from_secs(30)) {
        Some(st) => {
            o.shutdown_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
            o.shutdown = Some(format!("reply: {reply_s}; process exited ({st})"));
            o.stops.push(format!(
                "{label} (first start): SHUTDOWN NOSAVE, exited in {:.0} ms ({st})",
                t0.elapsed().as_secs_f64() * 1e3
            ));
        }
        None => {
            o.errors.push(format!(
                "SHUTDOWN NOSAVE (reply: {reply_s}) did not end the process within 30 s; log tail:\n{}",
                srv.log_tail(15)
            ));
            o.stops.push(format!(
                "{label} (first start): after SHUTDOWN NOSAVE did not exit: {}",
                srv.stop()
            ));
        }
    }
    o.log_lines.extend(
        persistence_log_lines(&srv.log_text(), 25)
            .into_iter()
            .map(|l| format!("1st start | {l}")),
    );
    let files_before = dir_files(&dir);
    if files_before != o.files {
        o.notes.push(format!(
            "{label}: the dir changed between SAVE and the restart: {:?} → {files_before:?}",
            o.files
        ));
    }
    drop(srv);
    let mut srv = match start_server(
        who,
        opts,
        &dir,
        &tmp.join(format!("{label}-2.log")),
        budget.deadline(Duration::from_secs(120)),
    ) {
        Ok(s) => s,
        Err(e) => {
            o.errors.push(format!("restart: {e}"));
            return o;
        }
    };
    o.argv_restart = Some(argv_string(&srv.argv));
    o.ready_ms = Some(srv.ready_ms);
    o.ready_cpu_ms = srv.ready_cpu_ms.is_finite().then_some(srv.ready_cpu_ms);
    o.ready_line = srv.ready_line.clone();
    // redis-server logs the load just before it answers; give the log a moment.
    std::thread::sleep(Duration::from_millis(100));
    let log2 = srv.log_text();
    if let Some((line, ms)) = parse_logged_load(who, &log2) {
        o.logged_load_line = Some(line);
        o.logged_load_ms = ms.is_finite().then_some(ms);
    } else {
        o.notes.push(format!(
            "{label}: no 'DB loaded from' line in the restart's log"
        ));
    }
    let mut c = match Client::connect(srv.port, Duration::from_secs(30)) {
        Ok(c) => c,
        Err(e) => {
            o.errors.push(format!("connect after restart: {e}"));
            o.stops.push(format!("{label}: {}", srv.stop()));
            return o;
        }
    };
    o.dbsize_restart = c.int(&[b"DBSIZE"]).ok();
    if o.dbsize_restart != Some(opts.expected_keys()) {
        o.errors.push(format!(
            "DBSIZE after the restart = {:?}, want {}; log:\n{}",
            o.dbsize_restart,
            opts.expected_keys(),
            srv.log_tail(15)
        ));
    }
    o.sample = Some(check_sample(&mut c, opts));
    if let Some(Err(e)) = &o.sample {
        o.errors.push(format!(
            "data after the restart differs from what was loaded: {e}"
        ));
    }
    say(format!(
        "restart ready in {:.0} ms; DBSIZE {:?}; sample {:?}",
        srv.ready_ms, o.dbsize_restart, o.sample
    ));

    // 4. redis-benchmark without, then with, a BGSAVE.
    // Warm-up (not reported): the first run after a start is slower (page faults, connection
    // set-up), which would flatter whichever run comes second.
    if budget.refuse().is_none() && srv.alive().is_ok() {
        let n = (opts.bench_n() / 4).max(1);
        let r = run_benchmark(opts, &mut srv, tmp, false, n, budget);
        if let Some(e) = &r.error {
            o.notes.push(format!(
                "{label}: warm-up redis-benchmark run (-n {n}): {e}"
            ));
        }
    }
    let order: Vec<bool> = (0..opts.repeat)
        .flat_map(|rep| {
            if rep % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            }
        })
        .collect();
    for with in order {
        if let Some(why) = budget.refuse() {
            o.errors.push(format!(
                "redis-benchmark {} BGSAVE skipped: {why}",
                if with { "with" } else { "without" }
            ));
            continue;
        }
        if let Err(e) = srv.alive() {
            o.errors.push(format!("before redis-benchmark: {e}"));
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        let r = run_benchmark(opts, &mut srv, tmp, with, opts.bench_n(), budget);
        let lat = |t: &str| {
            r.test(t)
                .map(|x| format!("{t} p50 {:.3} p99 {:.3} max {:.3} ms", x.p50, x.p99, x.max))
                .unwrap_or_else(|| format!("{t} —"))
        };
        say(format!(
            "redis-benchmark {} BGSAVE: {}; {}; {:.1} s{}{}",
            if with { "with" } else { "without" },
            lat("SET"),
            lat("GET"),
            r.wall_s,
            r.bgsave
                .as_ref()
                .map(|b| format!(
                    "; BGSAVE at {:.2} s, reply {} in {:.1} ms, done {:?} ms later",
                    b.at_s,
                    b.reply,
                    b.reply_ms,
                    b.total_ms().map(|x| x.round())
                ))
                .unwrap_or_default(),
            r.error
                .as_ref()
                .map(|e| format!("  ERROR: {e}"))
                .unwrap_or_default()
        ));
        let what = if with { "with" } else { "without" };
        if let Some(e) = &r.error {
            o.errors.push(format!("redis-benchmark {what} BGSAVE: {e}"));
        }
        if let Some(b) = &r.bgsave {
            if let Some(e) = &b.error {
                o.errors
                    .push(format!("{e}; log tail:\n{}", srv.log_tail(12)));
            }
        }
        for n in &r.notes {
            o.notes.push(format!(
                "{label}: redis-benchmark {what} BGSAVE printed: {n}"
            ));
        }
        if with {
            o.with.push(r);
        } else {
            o.without.push(r);
        }
    }
    o.dbsize_end = c.int(&[b"DBSIZE"]).ok();
    if o.dbsize_end.is_some() && o.dbsize_end != o.dbsize_restart {
        o.notes.push(format!(
            "{label}: DBSIZE changed during the redis-benchmark runs: {:?} → {:?}",
            o.dbsize_restart, o.dbsize_end
        ));
    }
    drop(c);
    o.stops.push(format!("{label} (restart): {}", srv.stop()));
    o.log_lines.extend(
        persistence_log_lines(&srv.log_text(), 30)
            .into_iter()
            .map(|l| format!("restart   | {l}")),
    );
    o
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn f(v: Option<f64>, prec: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.prec$}"),
        _ => "—".into(),
    }
}

fn ratio(ours: Option<f64>, redis: Option<f64>) -> Option<f64> {
    match (ours, redis) {
        (Some(o), Some(r)) if o.is_finite() && r.is_finite() && r > 0.0 => Some(o / r),
        _ => None,
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

struct Row {
    name: String,
    redis: Option<f64>,
    ours: Option<f64>,
    prec: usize,
    /// Integer with thousands separators.
    int: bool,
    ratio: bool,
}

fn row(name: &str, redis: Option<f64>, ours: Option<f64>, prec: usize) -> Row {
    Row {
        name: name.into(),
        redis,
        ours,
        prec,
        int: false,
        ratio: true,
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// Median over the runs (without or with BGSAVE) of one figure of one test.
fn lat(o: &Outcome, with: bool, test: &str, pick: fn(&TestLat) -> f64) -> Option<f64> {
    let runs = if with { &o.with } else { &o.without };
    median(runs.iter().filter_map(|r| r.test(test)).map(pick).collect())
}

/// Median over the with-BGSAVE runs of one BGSAVE figure.
fn bg_median(o: &Outcome, pick: fn(&Bgsave) -> Option<f64>) -> Option<f64> {
    median(
        o.with
            .iter()
            .filter_map(|r| r.bgsave.as_ref())
            .filter(|b| b.error.is_none())
            .filter_map(pick)
            .collect(),
    )
}

fn main_table(redis: &Outcome, ours: &Outcome) -> String {
    let mut rows = vec![
        row(
            "SAVE, client-observed wall time (ms)",
            redis.save_ms,
            ours.save_ms,
            0,
        ),
        row(
            "SAVE, server CPU time user+sys (ms)",
            redis.save_cpu_ms,
            ours.save_cpu_ms,
            0,
        ),
        Row {
            int: true,
            ..row(
                "snapshot on disk (bytes, all files)",
                redis.snapshot_bytes().map(|b| b as f64),
                ours.snapshot_bytes().map(|b| b as f64),
                0,
            )
        },
        row(
            "restart: spawn → ready (ms)",
            redis.ready_ms,
            ours.ready_ms,
            0,
        ),
        row(
            "restart: load time the server logs (ms)",
            redis.logged_load_ms,
            ours.logged_load_ms,
            0,
        ),
        row(
            "restart: server CPU time until ready (ms)",
            redis.ready_cpu_ms,
            ours.ready_cpu_ms,
            0,
        ),
        Row {
            int: true,
            ratio: false,
            ..row(
                "keys after restart (DBSIZE)",
                redis.dbsize_restart.map(|v| v as f64),
                ours.dbsize_restart.map(|v| v as f64),
                0,
            )
        },
    ];
    rows.push(row(
        "BGSAVE: reply time (ms)",
        bg_median(redis, |b| Some(b.reply_ms)),
        bg_median(ours, |b| Some(b.reply_ms)),
        1,
    ));
    rows.push(row(
        "BGSAVE: sent → rdb_bgsave_in_progress:0 (ms)",
        bg_median(redis, |b| b.total_ms()),
        bg_median(ours, |b| b.total_ms()),
        0,
    ));
    let cpu = |r: &Vec<BenchRun>| {
        median(
            r.iter()
                .filter(|r| r.error.is_none())
                .map(|r| r.cpu_s + r.child_cpu_s)
                .collect(),
        )
    };
    rows.push(row(
        "server CPU over the run without BGSAVE (s)",
        cpu(&redis.without),
        cpu(&ours.without),
        2,
    ));
    rows.push(row(
        "server CPU over the run with BGSAVE (s, incl. reaped fork)",
        cpu(&redis.with),
        cpu(&ours.with),
        2,
    ));
    for test in ["SET", "GET"] {
        rows.push(row(
            &format!("{test} p50 without / with BGSAVE (ms)"),
            None,
            None,
            3,
        ));
        let last = rows.len() - 1;
        rows[last].ratio = false;
        rows.push(row(
            &format!("{test} p99 without BGSAVE (ms)"),
            lat(redis, false, test, |t| t.p99),
            lat(ours, false, test, |t| t.p99),
            3,
        ));
        rows.push(row(
            &format!("{test} p99 with BGSAVE (ms)"),
            lat(redis, true, test, |t| t.p99),
            lat(ours, true, test, |t| t.p99),
            3,
        ));
        let q = |o: &Outcome| {
            ratio(
                lat(o, true, test, |t| t.p99),
                lat(o, false, test, |t| t.p99),
            )
        };
        rows.push(row(
            &format!("**{test} p99 with / without BGSAVE**"),
            q(redis),
            q(ours),
            2,
        ));
        rows.push(row(
            &format!("{test} max with BGSAVE (ms)"),
            lat(redis, true, test, |t| t.max),
            lat(ours, true, test, |t| t.max),
            3,
        ));
    }
    let mut s = String::new();
    s.push_str("| | redis-server | redis-lite (ours) | ours/redis |\n|---|--:|--:|--:|\n");
    for r in &rows {
        let cell = |v: Option<f64>| {
            if r.int {
                v.filter(|v| v.is_finite())
                    .map(|v| thousands(v as u64))
                    .unwrap_or_else(|| "—".into())
            } else {
                f(v, r.prec)
            }
        };
        let (rc, oc) = if r.name.contains("without / with") {
            // p50 rows: "without / with" for each server.
            let test = if r.name.starts_with("SET") {
                "SET"
            } else {
                "GET"
            };
            let pair = |o: &Outcome| {
                format!(
                    "{} / {}",
                    f(lat(o, false, test, |t| t.p50), 3),
                    f(lat(o, true, test, |t| t.p50), 3)
                )
            };
            (pair(redis), pair(ours))
        } else {
            (cell(r.redis), cell(r.ours))
        };
        let q = if r.ratio {
            f(ratio(r.ours, r.redis), 2)
        } else {
            String::new()
        };
        let _ = writeln!(s, "| {} | {rc} | {oc} | {q} |", r.name);
    }
    s
}

fn runs_table(outs: &[(Who, &Outcome)]) -> String {
    let mut s = String::from(
        "| server | run | test | rps | avg ms | p50 ms | p95 ms | p99 ms | max ms | run wall s | server CPU s (self + reaped children) | BGSAVE |\n\
         |---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for (who, o) in outs {
        let runs = o
            .without
            .iter()
            .enumerate()
            .map(|(i, r)| ("without BGSAVE", i, o.without.len(), r))
            .chain(
                o.with
                    .iter()
                    .enumerate()
                    .map(|(i, r)| ("with BGSAVE", i, o.with.len(), r)),
            );
        for (what, i, k, r) in runs {
            let what = if k > 1 {
                format!("{what} #{}", i + 1)
            } else {
                what.to_string()
            };
            let bg = r
                .bgsave
                .as_ref()
                .map(|b| {
                    format!(
                        "sent at {:.2} s, {} in {:.1} ms; in progress until {} s; status {}{}",
                        b.at_s,
                        b.reply,
                        b.reply_ms,
                        f(b.done_at_s, 2),
                        b.status.as_deref().unwrap_or("?"),
                        b.fork_usec
                            .as_ref()
                            .map(|u| format!("; latest_fork_usec {u}"))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            if r.tests.is_empty() {
                let _ = writeln!(
                    s,
                    "| {} | {what} | — | | | | | | | {:.1} | {:.2} + {:.2} | {bg} {} |",
                    who.label(),
                    r.wall_s,
                    r.cpu_s,
                    r.child_cpu_s,
                    r.error.as_deref().unwrap_or("")
                );
            }
            for (i, t) in r.tests.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "| {} | {what} | {} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} |",
                    who.label(),
                    t.test,
                    t.rps,
                    t.avg,
                    t.p50,
                    t.p95,
                    t.p99,
                    t.max,
                    if i == 0 { format!("{:.1}", r.wall_s) } else { String::new() },
                    if i == 0 {
                        format!("{:.2} + {:.2}", r.cpu_s, r.child_cpu_s)
                    } else {
                        String::new()
                    },
                    if i == 0 { bg.as_str() } else { "" },
                );
            }
        }
    }
    s
}

struct ReportInput<'a> {
    opts: &'a Opts,
    machine: &'a [String],
    date_human: &'a str,
    load_start: &'a str,
    load_end: &'a str,
    total: Duration,
    outs: &'a [(Who, Outcome)],
}

fn render(x: &ReportInput) -> String {
    let opts = x.opts;
    let empty = Outcome::default();
    let get = |w: Who| {
        x.outs
            .iter()
            .find(|(who, _)| *who == w)
            .map(|(_, o)| o)
            .unwrap_or(&empty)
    };
    let (redis, ours) = (get(Who::Redis), get(Who::Ours));
    let mut rep = String::new();
    let _ = writeln!(
        rep,
        "# Persistence: redis-lite vs redis-server — {}\n",
        x.date_human
    );
    let _ = writeln!(rep, "## Machine\n");
    for m in x.machine {
        let _ = writeln!(rep, "- {m}");
    }
    let _ = writeln!(
        rep,
        "- load average at start {}, at end {}; total run time {:.0} s",
        x.load_start,
        x.load_end,
        x.total.as_secs_f64()
    );
    let busy = x
        .load_start
        .split_whitespace()
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    if busy > 0.5 {
        let _ = writeln!(
            rep,
            "- **warning**: the machine was busy before the run started (1-minute load average {busy:.2}); \
             single runs on a busy machine are noisy"
        );
    }
    let _ = writeln!(
        rep,
        "- method: one server at a time (redis-server, then redis-lite), each in a fresh dir with save points off; \
         the client (this tool and redis-benchmark) shares the same CPUs. Data: {} × `SET key:<n as 12 digits> <16-byte value>` \
         + {} × `RPUSH list:<n>` of {} items (`item-<j>`, every fourth an integer) = {} keys. \
         SAVE time = client-observed; SAVE CPU = utime+stime of the server process (/proc/PID/stat, all threads) around it. \
         Ready = spawn → redis-lite's ready line / redis-server's first +PONG (polled every 2 ms; it answers -LOADING while loading).\n",
        thousands(opts.keys() as u64),
        thousands(opts.lists() as u64),
        opts.list_items,
        thousands(opts.expected_keys() as u64)
    );
    let _ = writeln!(
        rep,
        "## Results (ratio = ours ÷ redis; < 1 = ours faster / smaller)\n"
    );
    rep.push_str(&main_table(redis, ours));
    let _ = writeln!(
        rep,
        "\nThe with-BGSAVE run sends BGSAVE {:.1} s after redis-benchmark starts (on its own connection), then polls \
         INFO persistence every {} ms until `rdb_bgsave_in_progress:0`; p50/p99/max are redis-benchmark's, over each whole \
         test (SET runs first, then GET; a BGSAVE that ends during SET leaves GET undisturbed). {}\n",
        opts.bgsave_at,
        BGSAVE_POLL.as_millis(),
        if opts.repeat > 1 {
            format!(
                "{} pairs of runs (without/with, order alternating per pair): medians.",
                opts.repeat
            )
        } else {
            "One run each (no repeat): single runs on a shared 2-core machine are noisy, p99 by ±30% or more; \
             `--repeat 3` reports medians."
                .to_string()
        }
    );
    let _ = writeln!(
        rep,
        "redis-benchmark's rps is coarse with `--threads` (its clock ends on a 250 ms tick); the latency columns are exact.\n"
    );
    let _ = writeln!(rep, "## redis-benchmark runs\n");
    let outs: Vec<(Who, &Outcome)> = x.outs.iter().map(|(w, o)| (*w, o)).collect();
    rep.push_str(&runs_table(&outs));
    rep.push('\n');
    let _ = writeln!(rep, "## Snapshot files after SAVE\n");
    for (who, o) in x.outs {
        let files = if o.files.is_empty() {
            "none".to_string()
        } else {
            o.files
                .iter()
                .map(|(n, b)| format!("`{n}` {} B", thousands(*b)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(rep, "- {}: {files}", who.label());
        if let Some(l) = &o.logged_load_line {
            let _ = writeln!(rep, "  - restart log: `{l}`");
        }
        if let Some(l) = &o.ready_line {
            let _ = writeln!(rep, "  - ready line: `{l}`");
        }
        if let Some(s) = &o.sample {
            let _ = writeln!(
                rep,
                "  - after restart: DBSIZE {}; sample check: {}",
                o.dbsize_restart
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "—".into()),
                match s {
                    Ok(m) => m.clone(),
                    Err(e) => format!("FAILED: {e}"),
                }
            );
        }
        if let Some(b) = o.with.last().and_then(|r| r.bgsave.as_ref()) {
            let _ = writeln!(
                rep,
                "  - dir after the BGSAVE: {} B",
                thousands(b.bytes_after)
            );
        }
    }
    rep.push('\n');
    let _ = writeln!(rep, "## Commands\n\n```");
    let _ = writeln!(
        rep,
        "{}",
        opts.invocation.clone().unwrap_or_else(|| {
            std::env::args()
                .map(|a| shell_quote(&a))
                .collect::<Vec<_>>()
                .join(" ")
        })
    );
    for (who, o) in x.outs {
        if let Some(a) = &o.argv_first {
            let _ = writeln!(rep, "{} start:   {a}", who.label());
        }
        if let Some(a) = &o.argv_restart {
            let _ = writeln!(rep, "{} restart: {a}", who.label());
        }
    }
    let _ = writeln!(
        rep,
        "loader: one TCP connection; SET key:<n:012> v<n:015> for n in 0..{}, {SET_BATCH} per pipelined batch; \
         then RPUSH list:<n> item-0 item-1 item-2 <n*1000+3> item-4 ... ({} items) for n in 0..{}, {} per batch",
        opts.keys(),
        opts.list_items,
        opts.lists(),
        (10_000 / opts.list_items).max(1)
    );
    let _ = writeln!(
        rep,
        "then: DBSIZE; SAVE; LASTSAVE; SHUTDOWN NOSAVE; restart; DBSIZE; GET/LRANGE sample; a warm-up redis-benchmark run with -n {} (not reported)",
        (opts.bench_n() / 4).max(1)
    );
    let _ = writeln!(
        rep,
        "{} {}",
        opts.redis_benchmark,
        argv_string(&bench_args(opts, "<port>", opts.bench_n())).replace("'<port>'", "<port>")
    );
    let _ = writeln!(
        rep,
        "second run: the same, with BGSAVE sent at +{:.1} s on another connection",
        opts.bgsave_at
    );
    let _ = writeln!(
        rep,
        "limits: load 120 s, SAVE 120 s, SHUTDOWN 30 s, restart 120 s, redis-benchmark 90 s, BGSAVE 120 s; budget {} s",
        opts.budget().as_secs()
    );
    let _ = writeln!(rep, "```\n");
    let mut errs = Vec::new();
    let mut notes = Vec::new();
    for (who, o) in x.outs {
        errs.extend(o.errors.iter().map(|e| format!("{}: {e}", who.label())));
        notes.extend(o.notes.iter().cloned());
    }
    if !errs.is_empty() || !notes.is_empty() {
        let _ = writeln!(rep, "## Errors and notes\n");
        for e in errs.iter().map(|e| format!("**error** {e}")).chain(notes) {
            let _ = writeln!(rep, "- {e}");
        }
        rep.push('\n');
    }
    let _ = writeln!(rep, "## Server log lines about persistence\n\n```");
    for (who, o) in x.outs {
        for l in &o.log_lines {
            let _ = writeln!(rep, "{:<5} {l}", who.label());
        }
    }
    let _ = writeln!(rep, "```\n");
    let stops: Vec<String> = x.outs.iter().flat_map(|(_, o)| o.stops.clone()).collect();
    if !stops.is_empty() {
        let _ = writeln!(rep, "Servers stopped: {}.", stops.join("; "));
    }
    rep
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

struct TmpDir {
    path: PathBuf,
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn make_tmp(opts: &Opts) -> io::Result<TmpDir> {
    let base = match &opts.tmpdir {
        Some(p) => {
            fs::create_dir_all(p)?;
            p.clone()
        }
        None => std::env::temp_dir(),
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let path = base.join(format!(
        "redis-lite-persist-{}-{nanos:x}",
        std::process::id()
    ));
    fs::create_dir(&path)?;
    Ok(TmpDir { path })
}

fn run(opts: Opts) -> i32 {
    install_signal_handlers();
    let budget = Budget {
        start: Instant::now(),
        total: opts.budget(),
    };
    let (y, mo, d, h, mi, s) = utc_now();
    let date_file = format!("{y:04}-{mo:02}-{d:02}T{h:02}{mi:02}{s:02}Z");
    let date_human = format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC");
    let machine = machine(&opts);
    let load_start = loadavg();
    let tmp = match make_tmp(&opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot create temp dir: {e}");
            return 1;
        }
    };
    eprintln!(
        "persist: {} keys + {} lists × {} items; redis-benchmark -n {}; budget {} s; temp dir {}",
        opts.keys(),
        opts.lists(),
        opts.list_items,
        opts.bench_n(),
        opts.budget().as_secs(),
        tmp.path.display()
    );
    let mut outs = Vec::new();
    for who in [Who::Redis, Who::Ours] {
        if opts.only.is_some_and(|w| w != who) {
            continue;
        }
        let o = bench_server(who, &opts, &tmp.path, &budget);
        // Remove this server's files before the next one starts (disk and page cache).
        let _ = fs::remove_dir_all(tmp.path.join(format!("{}-data", who.label())));
        outs.push((who, o));
    }
    let rep = render(&ReportInput {
        opts: &opts,
        machine: &machine,
        date_human: &date_human,
        load_start: &load_start,
        load_end: &loadavg(),
        total: budget.start.elapsed(),
        outs: &outs,
    });
    let mut rep = rep;
    if let Err(e) = fs::create_dir_all(&opts.results_dir) {
        eprintln!("persist: cannot create {}: {e}", opts.results_dir.display());
    }
    let md = opts.results_dir.join(format!("persist-{date_file}.md"));
    let _ = writeln!(rep, "\nFile: {}", md.display());
    if let Err(e) = fs::write(&md, &rep) {
        eprintln!("persist: cannot write {}: {e}", md.display());
    }
    print!("{rep}");
    let _ = io::stdout().flush();
    let failed = outs.iter().any(|(_, o)| !o.errors.is_empty());
    drop(tmp);
    if stopping() {
        130
    } else if failed {
        1
    } else {
        0
    }
}

fn main() {
    let opts = match Opts::parse() {
        Ok(o) => o,
        Err(e) => {
            if e.is_empty() {
                print!("{USAGE}");
                std::process::exit(0);
            }
            eprintln!("error: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    std::process::exit(run(opts));
}

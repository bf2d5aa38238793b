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
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redis_lite_compare::bench::{BenchProcess, TestLat};
use redis_lite_compare::report::{
    self, argv_string, busy_load, fmt_num, load_line, median, shell_quote, thousands,
};
use redis_lite_compare::resp::{encode, info_field, Client, Reply};
use redis_lite_compare::server::{ours_argv, redis_argv, start_server, Ready, Server, Who};
use redis_lite_compare::sys::{cmd_output, cpu_secs, host, loadavg, run_dates, unix_now, version};
use redis_lite_compare::{install_signal_handlers, make_tmp, num, opts_or_exit, stopping, Budget};

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

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

fn machine(opts: &Opts) -> Vec<String> {
    let host = host();
    let nproc = host.nproc.map_or_else(|| "?".into(), |n| n.to_string());
    let fs_type = cmd_output(
        "stat",
        &["-f", "-c", "%T", &std::env::temp_dir().to_string_lossy()],
    )
    .unwrap_or_else(|| "?".into());
    vec![
        format!(
            "nproc: {nproc}; CPU: {}; memory: {}; kernel: {}",
            host.cpu_model, host.mem_total, host.kernel
        ),
        format!("redis-server: {}", version(&opts.redis_server)),
        format!("redis-benchmark: {}", version(&opts.redis_benchmark)),
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

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// Starts `who` in `dir` (logging to `log`) and waits until it is ready, up to `deadline`.
fn start(
    who: Who,
    opts: &Opts,
    dir: &Path,
    log: &Path,
    deadline: Instant,
) -> Result<Server, String> {
    let ready = match who {
        Who::Redis => Ready::Pong,
        Who::Ours => Ready::Line,
    };
    start_server(who, ready, dir, log, deadline, |port| {
        server_argv(who, opts, dir, port)
    })
}

fn server_argv(who: Who, opts: &Opts, dir: &Path, port: u16) -> Vec<String> {
    let mut argv = match who {
        Who::Redis => redis_argv(&opts.redis_server, port, dir),
        Who::Ours => ours_argv(&opts.ours_bin, dir, None, &[]),
    };
    argv.push("--dbfilename".into());
    argv.push("dump.rdb".into());
    if who == Who::Ours {
        if let Some(n) = opts.shards {
            argv.push("--shards".into());
            argv.push(n.to_string());
        }
        argv.extend(opts.ours_args.iter().cloned());
    }
    argv
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
    c.send_batched(opts.keys(), SET_BATCH, deadline, |buf, n| {
        encode(
            buf,
            &[b"SET", key_name(n).as_bytes(), key_value(n).as_bytes()],
        )
    })
    .map_err(|e| e.message("SET", "keys", "by its deadline"))?;
    let per_batch = (10_000 / opts.list_items).max(1);
    c.send_batched(opts.lists(), per_batch, deadline, |buf, n| {
        let name = list_name(n);
        let items = list_items(n, opts.list_items);
        let mut args: Vec<&[u8]> = vec![b"RPUSH", name.as_bytes()];
        args.extend(items.iter().map(|s| s.as_bytes()));
        encode(buf, &args);
    })
    .map_err(|e| e.message("RPUSH", "lists", "by its deadline"))?;
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
    let args = bench_args(opts, &srv.port.to_string(), n);
    let mut bench = match BenchProcess::spawn(&opts.redis_benchmark, &args, tmp) {
        Ok(b) => b,
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    };
    let mut status = None;
    let mut bg: Option<Bgsave> = None;
    let mut bg_done = !with_bgsave;
    let mut last_poll = t0;
    let mut bg_deadline = run_deadline;
    loop {
        if status.is_none() {
            match bench.child.try_wait() {
                Ok(Some(st)) => {
                    status = Some(st);
                    r.wall_s = t0.elapsed().as_secs_f64();
                }
                Ok(None) => {}
                Err(e) => {
                    r.error = Some(format!("waiting for redis-benchmark: {e}"));
                    let _ = bench.child.kill();
                    let _ = bench.child.wait();
                    break;
                }
            }
        }
        if status.is_some() && bg_done {
            break;
        }
        let now = Instant::now();
        if status.is_none() && (now > run_deadline || stopping()) && bench.terminate() {
            r.error.get_or_insert_with(|| {
                if stopping() {
                    "interrupted".into()
                } else {
                    "redis-benchmark did not finish by its deadline (killed)".into()
                }
            });
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
    let out = bench.output();
    r.tests = out.tests;
    for l in out.notes {
        if !r.notes.contains(&l) {
            r.notes.push(l);
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
    let mut srv = match start(
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
        let now = unix_now();
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
    let mut srv = match start(
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
    fmt_num(v.unwrap_or(f64::NAN), prec)
}

fn ratio(ours: Option<f64>, redis: Option<f64>) -> Option<f64> {
    Some(report::ratio(ours?, redis?)).filter(|q| !q.is_nan())
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
    let _ = writeln!(rep, "{}", load_line(x.load_start, x.load_end, x.total));
    if let Some(busy) = busy_load(x.load_start) {
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

fn run(opts: Opts) -> i32 {
    install_signal_handlers();
    let budget = Budget::new(opts.budget());
    let (date_file, date_human) = run_dates();
    let machine = machine(&opts);
    let load_start = loadavg();
    let tmp = match make_tmp(opts.tmpdir.as_deref(), "redis-lite-persist") {
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
    let opts = opts_or_exit(Opts::parse(), USAGE);
    std::process::exit(run(opts));
}

//! redis-lite-compare: one side-by-side `redis-benchmark` run of redis-lite against redis-server.
//!
//! Run it through `benches/compare.sh` (which builds both binaries). What it does:
//!
//! 1. Memory cell: fresh redis-server and redis-lite; VmRSS before and after loading exactly N
//!    distinct keys (`SET key:<n> <16-byte value>`, pipelined over a raw TCP socket); bytes/key.
//! 2. Throughput cells: fresh servers again; for every cell of the matrix, run the same
//!    `redis-benchmark --csv` command against each server back to back (order alternates per
//!    repeat), reading each server's CPU time (utime+stime from /proc/PID/stat, which sums all
//!    threads of the process) right before and after the run.
//! 3. Stop both servers by PID (SIGTERM, wait, SIGKILL only if needed), remove the temp dir,
//!    print a markdown report, write `benches/results/compare-<date>.{csv,md}` and
//!    `compare-latest.png`.
//!
//! Safety: servers bind 127.0.0.1 only; every load is bounded in count (`-n`) and time (a
//! per-run deadline plus a global budget); only processes this tool started are signalled, by
//! PID; servers get PR_SET_PDEATHSIG so they die with this tool.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use redis_lite_compare::bench::BenchProcess;
use redis_lite_compare::report::{self, argv_string, busy_load, fmt_num as f, load_line, ratio};
use redis_lite_compare::resp::{encode, Client};
use redis_lite_compare::server::{self, Ready, Server, Who};
use redis_lite_compare::sys::{
    clk_tck, cmd_output, cpu_ticks, host, loadavg, rss_kb, run_dates, task_cpu_ns, threads,
    version, Host,
};
use redis_lite_compare::{install_signal_handlers, make_tmp, num, opts_or_exit, stopping};

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const USAGE: &str = "\
usage: benches/compare.sh [options]     (or target/compare/release/redis-lite-compare [options])

  --quick               small -n, a handful of cells, 100k-key memory cell (< 1 minute)
  --only SUBSTR[,SUBSTR] run only cells whose name contains one of the substrings
                        (case-insensitive; names look like 'get P16 rand', 'get P1 rand c1000',
                        'memory'); see --list
  --ours-args \"...\"     extra arguments for redis-lite (split on whitespace)
  --shards N            pass --shards N to redis-lite
  --repeat N            run every cell N times per server (alternating order), report medians
  --scale F             multiply every cell's -n by F (default 1)
  --list                print the cells and their commands, run nothing
  --no-memory           skip the memory cell
  --mem-keys N          keys for the memory cell (default 1000000; --quick: 100000)
  --budget SECS         stop starting new runs after SECS seconds (default 480 × repeat;
                        --quick: 50)
  --run-timeout SECS    hard time limit of one redis-benchmark run (default 60; --quick: 15)
  --ours-bin PATH       redis-lite binary (default target/release/redis-lite)
  --ours-is-redis       development: run a second redis-server as 'ours'
  --redis-server PATH   (default redis-server)    --redis-benchmark PATH  (default redis-benchmark)
  --results-dir DIR     (default benches/results) --tmpdir DIR  (default: a new dir under $TMPDIR)
  --no-chart            do not draw the PNG
  --client-threads N    redis-benchmark --threads N (default 2; 0 = single-threaded client)
";

#[derive(Debug, Clone)]
struct Opts {
    quick: bool,
    only: Vec<String>,
    ours_args: Vec<String>,
    shards: Option<usize>,
    repeat: usize,
    scale: f64,
    list: bool,
    memory: bool,
    mem_keys: Option<usize>,
    budget_secs: Option<u64>,
    run_timeout_secs: Option<u64>,
    ours_bin: PathBuf,
    ours_is_redis: bool,
    redis_server: String,
    redis_benchmark: String,
    results_dir: PathBuf,
    tmpdir: Option<PathBuf>,
    chart: bool,
    client_threads: u32,
}

impl Opts {
    fn parse() -> Result<Opts, String> {
        let mut o = Opts {
            quick: false,
            only: Vec::new(),
            ours_args: Vec::new(),
            shards: None,
            repeat: 1,
            scale: 1.0,
            list: false,
            memory: true,
            mem_keys: None,
            budget_secs: None,
            run_timeout_secs: None,
            ours_bin: PathBuf::from("target/release/redis-lite"),
            ours_is_redis: false,
            redis_server: "redis-server".into(),
            redis_benchmark: "redis-benchmark".into(),
            results_dir: PathBuf::from("benches/results"),
            tmpdir: None,
            chart: true,
            client_threads: 2,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "-h" | "--help" => return Err(String::new()),
                "--quick" => o.quick = true,
                "--only" => o.only.extend(
                    val("--only")?
                        .split(',')
                        .map(|s| s.trim().to_lowercase())
                        .filter(|s| !s.is_empty()),
                ),
                "--ours-args" => o
                    .ours_args
                    .extend(val("--ours-args")?.split_whitespace().map(String::from)),
                "--shards" => o.shards = Some(num(&val("--shards")?, "--shards")?),
                "--repeat" => o.repeat = num::<usize>(&val("--repeat")?, "--repeat")?.max(1),
                "--scale" => o.scale = num(&val("--scale")?, "--scale")?,
                "--list" => o.list = true,
                "--no-memory" => o.memory = false,
                "--mem-keys" => o.mem_keys = Some(num(&val("--mem-keys")?, "--mem-keys")?),
                "--budget" => o.budget_secs = Some(num(&val("--budget")?, "--budget")?),
                "--run-timeout" => {
                    o.run_timeout_secs = Some(num(&val("--run-timeout")?, "--run-timeout")?)
                }
                "--ours-bin" => o.ours_bin = PathBuf::from(val("--ours-bin")?),
                "--ours-is-redis" => o.ours_is_redis = true,
                "--redis-server" => o.redis_server = val("--redis-server")?,
                "--redis-benchmark" => o.redis_benchmark = val("--redis-benchmark")?,
                "--results-dir" => o.results_dir = PathBuf::from(val("--results-dir")?),
                "--tmpdir" => o.tmpdir = Some(PathBuf::from(val("--tmpdir")?)),
                "--no-chart" => o.chart = false,
                "--client-threads" => {
                    o.client_threads = num(&val("--client-threads")?, "--client-threads")?
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if !(o.scale > 0.0 && o.scale <= 100.0) {
            return Err("--scale must be in (0, 100]".into());
        }
        Ok(o)
    }
    fn budget(&self) -> Duration {
        Duration::from_secs(self.budget_secs.unwrap_or(if self.quick {
            50
        } else {
            480 * self.repeat as u64
        }))
    }
    fn run_timeout(&self) -> Duration {
        Duration::from_secs(
            self.run_timeout_secs
                .unwrap_or(if self.quick { 15 } else { 60 }),
        )
    }
    fn mem_keys(&self) -> usize {
        self.mem_keys
            .unwrap_or(if self.quick { 100_000 } else { 1_000_000 })
    }
    fn selects(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.only.is_empty() || self.only.iter().any(|s| name.contains(s.as_str()))
    }
}

/// Raise the open-files soft limit to the hard limit (the c1000 cell needs > 1024 descriptors in
/// the client and the servers; children inherit it).
fn raise_nofile() -> String {
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return "unknown".into();
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
        r.rlim_cur.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Machine and date
// ---------------------------------------------------------------------------------------------

struct Machine {
    nproc: usize,
    cpu_model: String,
    kernel: String,
    mem_total: String,
    redis_version: String,
    benchmark_version: String,
    ours_version: String,
    nofile: String,
    memlock: String,
}

fn machine(opts: &Opts, nofile: String) -> Machine {
    let Host {
        nproc,
        cpu_model,
        kernel,
        mem_total,
    } = host();
    let nproc = nproc
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(0);
    let redis_version = version(&opts.redis_server);
    let benchmark_version = version(&opts.redis_benchmark);
    let ours_version = if opts.ours_is_redis {
        format!("second {redis_version} (--ours-is-redis)")
    } else {
        let rev = cmd_output("git", &["rev-parse", "--short=12", "HEAD"]);
        let dirty = cmd_output("git", &["status", "--porcelain", "--", "src", "Cargo.toml"])
            .map(|s| !s.is_empty())
            .unwrap_or(false);
        let v = cmd_output(&opts.ours_bin.to_string_lossy(), &["--version"]);
        format!(
            "{} (git {}{})",
            v.unwrap_or_else(|| opts.ours_bin.display().to_string()),
            rev.unwrap_or_else(|| "?".into()),
            if dirty {
                ", uncommitted changes in src/"
            } else {
                ""
            }
        )
    };
    let memlock = {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit on a local struct.
        if unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) } == 0 {
            let f = |v: libc::rlim_t| {
                if v == libc::RLIM_INFINITY {
                    "unlimited".to_string()
                } else {
                    format!("{} KiB", v / 1024)
                }
            };
            format!("soft {} / hard {}", f(r.rlim_cur), f(r.rlim_max))
        } else {
            "?".into()
        }
    };
    Machine {
        nproc,
        cpu_model,
        kernel,
        mem_total,
        redis_version,
        benchmark_version,
        ours_version,
        nofile,
        memlock,
    }
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/// Starts `who` in `tmp/<label>-<tag>` (log: `tmp/<label>-<tag>.log`) and waits until it is
/// ready: redis-server (and 'ours' with --ours-is-redis) up to 15 s, redis-lite up to 60 s.
fn start_server(who: Who, opts: &Opts, tmp: &Path, tag: &str) -> Result<Server, String> {
    let redis_like = who == Who::Redis || opts.ours_is_redis;
    let dir = tmp.join(format!("{}-{tag}", who.label()));
    let log = tmp.join(format!("{}-{tag}.log", who.label()));
    let (ready, secs) = if redis_like {
        (Ready::Pong, 15)
    } else {
        (Ready::Line, 60)
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    server::start_server(who, ready, &dir, &log, deadline, |port| {
        server_argv(redis_like, opts, &dir, port)
    })
}

fn server_argv(redis_like: bool, opts: &Opts, dir: &Path, port: u16) -> Vec<String> {
    if redis_like {
        server::redis_argv(&opts.redis_server, port, dir)
    } else {
        server::ours_argv(&opts.ours_bin, dir, opts.shards, &opts.ours_args)
    }
}

// ---------------------------------------------------------------------------------------------
// Memory cell
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone)]
struct MemResult {
    keys: usize,
    rss_before_kb: u64,
    rss_after_kb: u64,
    load_secs: f64,
    dbsize: Option<i64>,
    error: Option<String>,
}

impl MemResult {
    fn bytes_per_key(&self) -> Option<f64> {
        if self.error.is_some() || self.keys == 0 {
            return None;
        }
        Some((self.rss_after_kb as f64 - self.rss_before_kb as f64) * 1024.0 / self.keys as f64)
    }
}

const MEM_BATCH: usize = 1000;

fn memory_cell(srv: &mut Server, keys: usize) -> MemResult {
    let mut m = MemResult {
        keys,
        ..Default::default()
    };
    std::thread::sleep(Duration::from_millis(300));
    m.rss_before_kb = rss_kb(srv.pid).unwrap_or(0);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(180);
    let res = (|| -> Result<(), String> {
        let mut c = Client::connect(srv.port, Duration::from_secs(30))
            .map_err(|e| format!("connect: {e}"))?;
        c.send_batched(keys, MEM_BATCH, deadline, |buf, n| {
            let k = format!("key:{n}");
            let v = format!("v{n:015}"); // exactly 16 bytes, distinct per key
            encode(buf, &[b"SET", k.as_bytes(), v.as_bytes()]);
        })
        .map_err(|e| e.message("SET", "keys", "after 180 s"))?;
        m.load_secs = t0.elapsed().as_secs_f64();
        m.dbsize = c.int(&[b"DBSIZE"]).ok();
        Ok(())
    })();
    if let Err(e) = res {
        m.error = Some(e);
    }
    std::thread::sleep(Duration::from_millis(500));
    m.rss_after_kb = rss_kb(srv.pid).unwrap_or(0);
    if m.error.is_none() {
        if let Err(e) = srv.alive() {
            m.error = Some(e);
        }
    }
    m
}

// ---------------------------------------------------------------------------------------------
// Benchmark cells
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Cell {
    test: &'static str,
    pipeline: u32,
    clients: u32,
    random: bool,
    n: u64,
    /// redis-benchmark --threads (0: omitted).
    threads: u32,
}

const RANDOM_KEYSPACE: u64 = 1_000_000;

impl Cell {
    fn name(&self) -> String {
        let mut s = format!(
            "{} P{} {}",
            self.test,
            self.pipeline,
            if self.random { "rand" } else { "hot" }
        );
        if self.clients != 50 {
            let _ = write!(s, " c{}", self.clients);
        }
        s
    }
    fn short(&self) -> String {
        let mut s = format!("{} {}", self.test, if self.random { "rand" } else { "hot" });
        if self.clients != 50 {
            let _ = write!(s, " c{}", self.clients);
        }
        s
    }
    fn args(&self, port: u16) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
            "-c".into(),
            self.clients.to_string(),
            "-n".into(),
            self.n.to_string(),
            "-t".into(),
            self.test.into(),
        ];
        if self.threads > 0 {
            a.splice(4..4, ["--threads".to_string(), self.threads.to_string()]);
        }
        if self.pipeline > 1 {
            a.push("-P".into());
            a.push(self.pipeline.to_string());
        }
        if self.random {
            a.push("-r".into());
            a.push(RANDOM_KEYSPACE.to_string());
        }
        a.push("--csv".into());
        a
    }
}

/// The matrix. Requests per cell are sized so that redis-server takes ~3 s on this kind of
/// machine (2 vCPUs, loopback ~36k rps at P1, ~130-200k at P16, with the client on the same
/// cores).
fn matrix(opts: &Opts) -> Vec<Cell> {
    let mut cells = Vec::new();
    let base = |test: &str, p: u32| -> u64 {
        match (test, p) {
            ("mset", 1) => 60_000,
            ("mset", _) => 200_000,
            (_, 1) => 120_000,
            _ => 1_000_000,
        }
    };
    let tests: &[&'static str] = &["set", "get", "incr", "lpush", "lpop", "mset"];
    for p in [1u32, 16] {
        for &t in tests {
            for random in [false, true] {
                // redis-benchmark's LPUSH/LPOP always use the one key `mylist` (-r only
                // replaces __rand_int__, which their commands do not contain): no rand cell.
                if random && (t == "lpush" || t == "lpop") {
                    continue;
                }
                cells.push(Cell {
                    test: t,
                    pipeline: p,
                    clients: 50,
                    random,
                    n: base(t, p),
                    threads: opts.client_threads,
                });
            }
        }
    }
    cells.push(Cell {
        test: "get",
        pipeline: 1,
        clients: 1000,
        random: true,
        n: 60_000,
        threads: opts.client_threads,
    });
    if opts.quick {
        let keep = [
            "set P1 rand",
            "get P1 hot",
            "get P1 rand",
            "set P16 rand",
            "get P16 rand",
            "lpush P16 hot",
            "mset P16 rand",
            "get P1 rand c1000",
        ];
        cells.retain(|c| keep.contains(&c.name().as_str()));
        for c in &mut cells {
            c.n = (c.n / 5).max(1000);
        }
    }
    for c in &mut cells {
        c.n = ((c.n as f64 * opts.scale) as u64).max(100);
    }
    cells.retain(|c| opts.selects(&c.name()));
    cells
}

#[derive(Clone, Debug, Default)]
struct RunResult {
    /// The throughput we report: `requests / active_secs` when that measurement is consistent
    /// with redis-benchmark's own figure, else redis-benchmark's figure.
    rps: f64,
    /// redis-benchmark's own rps. With `--threads`, a worker thread whose clients have nothing
    /// in flight when the last request completes only stops on its 250 ms timer tick (and
    /// spins on writable sockets until then), so its elapsed time is rounded up to the next
    /// tick: a 1.2 s run counts as 1.5 s.
    rps_csv: f64,
    /// From redis-benchmark's start (its exit time minus its own elapsed time) to the server's
    /// last CPU activity (sampled every 5 ms) before that exit.
    active_secs: Option<f64>,
    /// Set when `active_secs` could not be used.
    timing_note: Option<String>,
    avg_ms: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    cpu_secs: f64,
    wall_secs: f64,
    error: Option<String>,
    /// Lines redis-benchmark printed besides its CSV (warnings, "Error from server: ...").
    notes: Vec<String>,
}

impl RunResult {
    fn cpu_us_per_req(&self, n: u64) -> f64 {
        self.cpu_secs * 1e6 / n as f64
    }
}

fn run_benchmark(
    opts: &Opts,
    cell: &Cell,
    srv: &mut Server,
    tmp: &Path,
    timeout: Duration,
) -> RunResult {
    let mut r = RunResult::default();
    let tck = clk_tck();
    let cpu0 = cpu_ticks(srv.pid).map(|t| t.0);
    let t0 = Instant::now();
    let mut bench = match BenchProcess::spawn(&opts.redis_benchmark, &cell.args(srv.port), tmp) {
        Ok(b) => b,
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    };
    let mut status: Option<ExitStatus> = None;
    let mut timed_out = false;
    let mut last_cpu_ns = task_cpu_ns(srv.pid).unwrap_or(0);
    let mut last_sample = t0;
    let mut busy: Vec<Instant> = Vec::new();
    let mut t_exit = t0;
    loop {
        match bench.child.try_wait() {
            Ok(Some(st)) => {
                status = Some(st);
                t_exit = Instant::now();
                break;
            }
            Ok(None) => {}
            Err(_) => break,
        }
        let over = t0.elapsed() > timeout;
        if (over || stopping()) && bench.terminate() {
            timed_out = over;
        }
        // Server activity: sampling intervals in which the server was on a CPU for more than
        // 10% of the interval. Once the last reply is out it has nothing to do.
        std::thread::sleep(Duration::from_millis(1));
        let now = Instant::now();
        if now.duration_since(last_sample) < Duration::from_millis(5) {
            continue;
        }
        if let Some(ns) = task_cpu_ns(srv.pid) {
            let busy_ns = ns.saturating_sub(last_cpu_ns);
            let interval_ns = now.duration_since(last_sample).as_nanos() as u64;
            if busy_ns * 10 > interval_ns {
                busy.push(now);
            }
            last_cpu_ns = ns;
            last_sample = now;
        }
    }
    r.wall_secs = t0.elapsed().as_secs_f64();
    let cpu1 = cpu_ticks(srv.pid).map(|t| t.0);
    if let (Some(a), Some(b)) = (cpu0, cpu1) {
        r.cpu_secs = (b.saturating_sub(a)) as f64 / tck;
    }
    let out = bench.output();
    let data = out
        .tests
        .last()
        .map(|t| (t.rps, t.avg, t.p50, t.p95, t.p99, t.max));
    r.notes = out.notes;
    if timed_out {
        r.error = Some(format!(
            "redis-benchmark did not finish within {} s (killed)",
            timeout.as_secs()
        ));
    } else if stopping() && status.is_none_or(|s| !s.success()) {
        r.error = Some("interrupted".into());
    } else if let Some((rps, avg, p50, p95, p99, max)) = data {
        r.rps_csv = rps;
        r.rps = rps;
        // redis-benchmark started its clock t_csv before it exited; the server's last busy
        // sample before the exit ends the load (a sample within 2 ms of noticing the exit may
        // hold the server's work of closing the connections: ignored).
        let t_csv = cell.n as f64 / rps;
        let start = t_exit.checked_sub(Duration::from_secs_f64(t_csv.max(0.0)));
        let end = busy
            .iter()
            .rev()
            .find(|&&t| t + Duration::from_millis(2) < t_exit)
            .copied();
        if let (Some(start), Some(end)) = (start, end) {
            r.active_secs = Some(end.saturating_duration_since(start).as_secs_f64());
        }
        if let Some(a) = r.active_secs {
            // Consistent: redis-benchmark's time minus up to one 250 ms tick (and a little).
            if a > 0.0 && a <= t_csv + 0.03 && a >= t_csv - 0.3 {
                r.rps = cell.n as f64 / a;
            } else {
                r.timing_note = Some(format!(
                    "active time {a:.3} s inconsistent with redis-benchmark's {t_csv:.3} s; reporting redis-benchmark's rps"
                ));
            }
        }
        r.avg_ms = avg;
        r.p50_ms = p50;
        r.p95_ms = p95;
        r.p99_ms = p99;
        r.max_ms = max;
        if status.is_none_or(|s| !s.success()) {
            r.error = Some(format!("redis-benchmark exited with {status:?}"));
        }
    } else {
        let why = r
            .notes
            .iter()
            .find(|n| n.contains("Error") || n.contains("rror"))
            .or(r.notes.first())
            .cloned()
            .unwrap_or_else(|| "no CSV line".into());
        r.error = Some(format!(
            "redis-benchmark {}: {why}",
            status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "status unknown".into())
        ));
    }
    if let Err(e) = srv.alive() {
        r.error = Some(match r.error.take() {
            Some(prev) => format!("{prev}; {e}"),
            None => e,
        });
    }
    r
}

/// LPOP cells pop what LPUSH pushed; when LPOP runs on its own (--only), top the list up first so
/// every LPOP pops a real element on both servers.
fn prefill_list(srv: &Server, n: u64) -> Result<Option<u64>, String> {
    let mut c =
        Client::connect(srv.port, Duration::from_secs(30)).map_err(|e| format!("connect: {e}"))?;
    let len = c.int(&[b"LLEN", b"mylist"])?.max(0) as u64;
    if len >= n {
        return Ok(None);
    }
    let mut missing = n - len;
    let pushed = missing;
    let mut buf = Vec::new();
    while missing > 0 {
        let k = missing.min(1000);
        buf.clear();
        let mut args: Vec<&[u8]> = vec![b"RPUSH", b"mylist"];
        args.extend(std::iter::repeat_n(&b"xxx"[..], k as usize));
        encode(&mut buf, &args);
        let (errs, first) = c.pipeline(&buf, 1).map_err(|e| e.to_string())?;
        if errs > 0 {
            return Err(format!("RPUSH: -{}", first.unwrap_or_default()));
        }
        missing -= k;
    }
    Ok(Some(pushed))
}

#[derive(Clone, Debug, Default)]
struct Agg {
    rps: f64,
    rps_csv: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us: f64,
    cpu_util: f64,
    ok_runs: usize,
    runs: usize,
    errors: Vec<String>,
}

fn median(v: Vec<f64>) -> f64 {
    report::median(v).unwrap_or(f64::NAN)
}

fn aggregate(runs: &[RunResult], n: u64) -> Agg {
    let ok: Vec<&RunResult> = runs.iter().filter(|r| r.error.is_none()).collect();
    let mut errors: Vec<String> = runs.iter().filter_map(|r| r.error.clone()).collect();
    errors.dedup();
    Agg {
        rps: median(ok.iter().map(|r| r.rps).collect()),
        rps_csv: median(ok.iter().map(|r| r.rps_csv).collect()),
        p50_ms: median(ok.iter().map(|r| r.p50_ms).collect()),
        p99_ms: median(ok.iter().map(|r| r.p99_ms).collect()),
        cpu_us: median(ok.iter().map(|r| r.cpu_us_per_req(n)).collect()),
        cpu_util: median(
            ok.iter()
                .map(|r| r.cpu_secs / r.wall_secs.max(1e-9))
                .collect(),
        ),
        ok_runs: ok.len(),
        runs: runs.len(),
        errors,
    }
}

struct CellResult {
    cell: Cell,
    redis: Agg,
    ours: Agg,
    skipped: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn rps_s(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn cell_cols(a: &Agg) -> (f64, f64, f64, f64) {
    if a.ok_runs == 0 {
        (f64::NAN, f64::NAN, f64::NAN, f64::NAN)
    } else {
        (a.rps, a.p50_ms, a.p99_ms, a.cpu_us)
    }
}

fn markdown_table(results: &[CellResult]) -> String {
    let mut s = String::new();
    s.push_str(
        "| cell | -n | redis rps | ours rps | rps ours/redis | redis p50 ms | ours p50 ms | p50 ours/redis | redis p99 ms | ours p99 ms | p99 ours/redis | redis CPU µs/req | ours CPU µs/req | CPU ours/redis |\n",
    );
    s.push_str("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for r in results {
        let (rr, rp50, rp99, rcpu) = cell_cols(&r.redis);
        let (or, op50, op99, ocpu) = cell_cols(&r.ours);
        let mark = |a: &Agg| {
            if r.skipped.is_some() {
                " (skipped)"
            } else if a.ok_runs == 0 {
                " (failed)"
            } else if a.ok_runs < a.runs {
                " (some runs failed)"
            } else {
                ""
            }
        };
        let _ = writeln!(
            s,
            "| {} | {} | {}{} | {}{} | **{}** | {} | {} | {} | {} | {} | {} | {} | {} | **{}** |",
            r.cell.name(),
            r.cell.n,
            rps_s(rr),
            mark(&r.redis),
            rps_s(or),
            mark(&r.ours),
            f(ratio(or, rr), 2),
            f(rp50, 3),
            f(op50, 3),
            f(ratio(op50, rp50), 2),
            f(rp99, 3),
            f(op99, 3),
            f(ratio(op99, rp99), 2),
            f(rcpu, 2),
            f(ocpu, 2),
            f(ratio(ocpu, rcpu), 2),
        );
    }
    s
}

fn memory_table(mem: &[(MemResult, MemResult)]) -> String {
    let mut s = String::new();
    s.push_str("| keys | redis RSS before | redis RSS after | redis bytes/key | ours RSS before | ours RSS after | ours bytes/key | bytes/key ours/redis | load s redis / ours |\n");
    s.push_str("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    let mb = |kb: u64| format!("{:.1} MiB", kb as f64 / 1024.0);
    for (r, o) in mem {
        let rb = r.bytes_per_key().unwrap_or(f64::NAN);
        let ob = o.bytes_per_key().unwrap_or(f64::NAN);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | **{}** | {} / {} |",
            r.keys,
            mb(r.rss_before_kb),
            mb(r.rss_after_kb),
            f(rb, 1),
            mb(o.rss_before_kb),
            mb(o.rss_after_kb),
            f(ob, 1),
            f(ratio(ob, rb), 2),
            f(r.load_secs, 2),
            f(o.load_secs, 2),
        );
    }
    s
}

fn csv_escape(s: &str) -> String {
    if s.contains(',') || s.contains('"') || s.contains('\n') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(
    path: &Path,
    date: &str,
    results: &[CellResult],
    mem: &[(MemResult, MemResult)],
) -> io::Result<()> {
    let mut s = String::new();
    s.push_str("date,cell,test,pipeline,clients,keyspace,requests,runs,redis_ok_runs,ours_ok_runs,redis_rps,ours_rps,rps_ratio,redis_rps_csv,ours_rps_csv,rps_csv_ratio,redis_p50_ms,ours_p50_ms,p50_ratio,redis_p99_ms,ours_p99_ms,p99_ratio,redis_cpu_us_per_req,ours_cpu_us_per_req,cpu_ratio,redis_cpu_util,ours_cpu_util,redis_rss_before_kb,redis_rss_after_kb,ours_rss_before_kb,ours_rss_after_kb,redis_bytes_per_key,ours_bytes_per_key,bytes_ratio,status\n");
    let num = |v: f64, p: usize| {
        if v.is_finite() {
            format!("{v:.p$}")
        } else {
            String::new()
        }
    };
    for r in results {
        let (rr, rp50, rp99, rcpu) = cell_cols(&r.redis);
        let (or, op50, op99, ocpu) = cell_cols(&r.ours);
        let mut status = Vec::new();
        if let Some(s) = &r.skipped {
            status.push(s.clone());
        }
        for e in &r.redis.errors {
            status.push(format!("redis: {e}"));
        }
        for e in &r.ours.errors {
            status.push(format!("ours: {e}"));
        }
        let status = if status.is_empty() {
            "ok".to_string()
        } else {
            status.join("; ")
        };
        let _ = writeln!(
            s,
            "{date},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},,,,,,,,{}",
            csv_escape(&r.cell.name()),
            r.cell.test,
            r.cell.pipeline,
            r.cell.clients,
            if r.cell.random { "rand1M" } else { "hot" },
            r.cell.n,
            r.redis.runs,
            r.redis.ok_runs,
            r.ours.ok_runs,
            num(rr, 2),
            num(or, 2),
            num(ratio(or, rr), 4),
            num(r.redis.rps_csv, 2),
            num(r.ours.rps_csv, 2),
            num(ratio(r.ours.rps_csv, r.redis.rps_csv), 4),
            num(rp50, 3),
            num(op50, 3),
            num(ratio(op50, rp50), 4),
            num(rp99, 3),
            num(op99, 3),
            num(ratio(op99, rp99), 4),
            num(rcpu, 3),
            num(ocpu, 3),
            num(ratio(ocpu, rcpu), 4),
            num(r.redis.cpu_util, 3),
            num(r.ours.cpu_util, 3),
            csv_escape(&status),
        );
    }
    for (r, o) in mem {
        let rb = r.bytes_per_key().unwrap_or(f64::NAN);
        let ob = o.bytes_per_key().unwrap_or(f64::NAN);
        let mut status = Vec::new();
        if let Some(e) = &r.error {
            status.push(format!("redis: {e}"));
        }
        if let Some(e) = &o.error {
            status.push(format!("ours: {e}"));
        }
        let status = if status.is_empty() {
            "ok".to_string()
        } else {
            status.join("; ")
        };
        let _ = writeln!(
            s,
            "{date},memory,set,{MEM_BATCH},1,distinct,{},1,{},{},,,,,,,,,,,,,,,,,,{},{},{},{},{},{},{},{}",
            r.keys,
            u8::from(r.error.is_none()),
            u8::from(o.error.is_none()),
            r.rss_before_kb,
            r.rss_after_kb,
            o.rss_before_kb,
            o.rss_after_kb,
            num(rb, 1),
            num(ob, 1),
            num(ratio(ob, rb), 4),
            csv_escape(&status),
        );
    }
    fs::write(path, s)
}

// ---------------------------------------------------------------------------------------------
// Chart
// ---------------------------------------------------------------------------------------------

fn find_font() -> Option<PathBuf> {
    let candidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    ];
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// An f64 x axis whose ticks are exactly the category centres 0, 1, …, k-1 (grouped bars sit at
/// fractional offsets around them).
struct CatAxis {
    k: usize,
    inner: plotters::coord::types::RangedCoordf64,
}

impl plotters::coord::ranged1d::Ranged for CatAxis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(v, limit)
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, _: H) -> Vec<f64> {
        (0..self.k).map(|i| i as f64).collect()
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

fn draw_chart(path: &Path, title: &str, results: &[CellResult]) -> Result<(), String> {
    use plotters::prelude::*;

    let font = find_font().ok_or(
        "no TTF font found (looked for DejaVuSans.ttf; apt-get install fonts-dejavu-core)",
    )?;
    let bytes: &'static [u8] = Box::leak(
        fs::read(&font)
            .map_err(|e| e.to_string())?
            .into_boxed_slice(),
    );
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| format!("{} is not a usable font", font.display()))?;

    // Panels: pipeline 1 (incl. the c1000 cell) and pipeline 16.
    let panels: Vec<(String, Vec<&CellResult>)> = [1u32, 16]
        .iter()
        .map(|&p| {
            let cells: Vec<&CellResult> = results
                .iter()
                .filter(|r| r.cell.pipeline == p && r.skipped.is_none())
                .collect();
            let t = cells.first().map_or(0, |r| r.cell.threads);
            let threads = if t > 0 {
                format!("--threads {t} ")
            } else {
                String::new()
            };
            let mut caption = format!("pipeline {p}: redis-benchmark {threads}-c 50 -P {p}");
            if cells.iter().any(|r| r.cell.clients != 50) {
                caption.push_str("  (c1000: -c 1000)");
            }
            (caption, cells)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if panels.is_empty() {
        return Err("no results to draw".into());
    }

    let e = |x: &dyn std::fmt::Display| x.to_string();
    let root = BitMapBackend::new(path, (1600, 520 * panels.len() as u32 + 80)).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let root = root.titled(title, ("sans-serif", 24)).map_err(|x| e(&x))?;
    let areas = root.split_evenly((panels.len(), 1));
    let redis_c = RGBColor(214, 63, 50);
    let ours_c = RGBColor(45, 110, 190);
    for ((ptitle, cells), area) in panels.iter().zip(areas.iter()) {
        let k = cells.len();
        let ymax = cells
            .iter()
            .flat_map(|r| [cell_cols(&r.redis).0, cell_cols(&r.ours).0])
            .filter(|v| v.is_finite())
            .fold(1.0f64, f64::max)
            * 1.18;
        let labels: Vec<String> = cells.iter().map(|r| r.cell.short()).collect();
        let xr = CatAxis {
            k,
            inner: (-0.5f64..(k as f64 - 0.5)).into(),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(ptitle, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(xr, 0f64..ymax)
            .map_err(|x| e(&x))?;
        let xfmt = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        let yfmt = |y: &f64| {
            if *y >= 1000.0 {
                format!("{:.0}k", y / 1000.0)
            } else {
                format!("{y:.0}")
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_max_light_lines(1)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .y_desc("requests/s")
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .draw()
            .map_err(|x| e(&x))?;
        let w = 0.36;
        let bar = |i: usize, v: f64, left: bool| {
            let x0 = i as f64 + if left { -w } else { 0.0 };
            let v = if v.is_finite() { v } else { 0.0 };
            (x0, v)
        };
        chart
            .draw_series(cells.iter().enumerate().map(|(i, r)| {
                let (x0, v) = bar(i, cell_cols(&r.redis).0, true);
                Rectangle::new([(x0, 0.0), (x0 + w, v)], redis_c.filled())
            }))
            .map_err(|x| e(&x))?
            .label("redis-server")
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], redis_c.filled()));
        chart
            .draw_series(cells.iter().enumerate().map(|(i, r)| {
                let (x0, v) = bar(i, cell_cols(&r.ours).0, false);
                Rectangle::new([(x0, 0.0), (x0 + w, v)], ours_c.filled())
            }))
            .map_err(|x| e(&x))?
            .label("redis-lite (ours)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], ours_c.filled()));
        chart
            .draw_series(cells.iter().enumerate().map(|(i, r)| {
                let rr = cell_cols(&r.redis).0;
                let or = cell_cols(&r.ours).0;
                let top = [rr, or]
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max);
                let q = ratio(or, rr);
                let txt = if q.is_finite() {
                    format!("{q:.2}×")
                } else if r.ours.ok_runs == 0 {
                    "ours failed".into()
                } else {
                    "redis failed".into()
                };
                EmptyElement::at((i as f64, top))
                    + Text::new(txt, (-22, -20), ("sans-serif", 15).into_font())
            }))
            .map_err(|x| e(&x))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(|x| e(&x))?;
    }
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

fn start_pair(opts: &Opts, tmp: &Path, tag: &str) -> Result<(Server, Server), String> {
    let redis = start_server(Who::Redis, opts, tmp, tag)?;
    match start_server(Who::Ours, opts, tmp, tag) {
        Ok(ours) => Ok((redis, ours)),
        Err(e) => {
            let mut redis = redis;
            redis.stop();
            Err(e)
        }
    }
}

fn main() {
    let opts = opts_or_exit(Opts::parse(), USAGE);
    std::process::exit(run(opts));
}

/// What happened along the way, for the report.
#[derive(Default)]
struct Journal {
    notes: Vec<String>,
    commands: Vec<String>,
    stops: Vec<String>,
    ours_threads: Option<usize>,
}

fn bench_command(opts: &Opts, c: &Cell) -> String {
    format!(
        "{:<20} {} {}",
        c.name(),
        opts.redis_benchmark,
        argv_string(&c.args(0)).replace("-p 0", "-p <port>")
    )
}

/// RSS before/after loading `mem_keys` distinct keys, on a fresh pair of servers.
fn memory_phase(opts: &Opts, tmp: &Path, j: &mut Journal) -> Vec<(MemResult, MemResult)> {
    eprintln!("compare: memory cell ({} keys) ...", opts.mem_keys());
    let (mut redis, mut ours) = match start_pair(opts, tmp, "mem") {
        Ok(p) => p,
        Err(e) => {
            j.notes
                .push(format!("memory cell: could not start servers: {e}"));
            return Vec::new();
        }
    };
    j.commands
        .push(format!("redis (memory cell): {}", argv_string(&redis.argv)));
    j.commands.push(format!(
        "ours  (memory cell): {}   → addr=127.0.0.1:{}",
        argv_string(&ours.argv),
        ours.port
    ));
    let r = memory_cell(&mut redis, opts.mem_keys());
    let o = memory_cell(&mut ours, opts.mem_keys());
    for (who, x) in [("redis", &r), ("ours", &o)] {
        if let Some(e) = &x.error {
            j.notes.push(format!("memory cell, {who}: {e}"));
        } else if x.dbsize != Some(x.keys as i64) {
            j.notes.push(format!(
                "memory cell, {who}: DBSIZE after loading {} distinct keys = {:?}",
                x.keys, x.dbsize
            ));
        }
    }
    if o.error.is_some() {
        j.notes.push(format!(
            "ours log tail (memory cell):\n{}",
            ours.log_tail(15)
        ));
    }
    j.stops
        .push(format!("redis (memory cell): {}", redis.stop()));
    j.stops.push(format!("ours (memory cell): {}", ours.stop()));
    vec![(r, o)]
}

fn skipped(cell: &Cell, why: &str) -> CellResult {
    CellResult {
        cell: cell.clone(),
        redis: Agg::default(),
        ours: Agg::default(),
        skipped: Some(why.into()),
    }
}

/// Every cell against both servers (one fresh pair for all cells), back to back per cell.
fn throughput_phase(
    opts: &Opts,
    cells: &[Cell],
    tmp: &Path,
    t_start: Instant,
    j: &mut Journal,
) -> Vec<CellResult> {
    let mut servers = match start_pair(opts, tmp, "bench") {
        Ok((redis, ours)) => [redis, ours],
        Err(e) => {
            j.notes
                .push(format!("throughput cells: could not start servers: {e}"));
            return cells
                .iter()
                .map(|c| skipped(c, "servers did not start"))
                .collect();
        }
    };
    j.commands
        .push(format!("redis: {}", argv_string(&servers[0].argv)));
    j.commands.push(format!(
        "ours:  {}   → addr=127.0.0.1:{}",
        argv_string(&servers[1].argv),
        servers[1].port
    ));
    eprintln!(
        "compare: redis-server pid {} port {}; ours pid {} port {} ({} threads)",
        servers[0].pid,
        servers[0].port,
        servers[1].pid,
        servers[1].port,
        threads(servers[1].pid).unwrap_or(0)
    );
    let mut restarts = 0;
    let mut results = Vec::new();
    for (ci, cell) in cells.iter().enumerate() {
        if stopping() {
            results.push(skipped(cell, "interrupted"));
            continue;
        }
        if t_start.elapsed() > opts.budget() {
            results.push(skipped(cell, "time budget exhausted"));
            continue;
        }
        j.commands.push(bench_command(opts, cell));
        let progress = format!("[{}/{}]", ci + 1, cells.len());
        let mut runs: [Vec<RunResult>; 2] = [Vec::new(), Vec::new()];
        for rep in 0..opts.repeat {
            let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
            for si in order {
                if stopping() {
                    break;
                }
                if let Err(e) = ensure_alive(opts, tmp, &mut servers[si], &mut restarts, cell, j) {
                    runs[si].push(RunResult {
                        error: Some(e),
                        ..Default::default()
                    });
                    continue;
                }
                let r = run_one(opts, cell, &mut servers[si], tmp, t_start, &progress, j);
                runs[si].push(r);
            }
        }
        let interrupted = stopping() && runs[0].is_empty() && runs[1].is_empty();
        results.push(CellResult {
            cell: cell.clone(),
            redis: aggregate(&runs[0], cell.n),
            ours: aggregate(&runs[1], cell.n),
            skipped: interrupted.then(|| "interrupted".into()),
        });
    }
    let [mut redis, mut ours] = servers;
    j.ours_threads = threads(ours.pid);
    if results.iter().any(|r| r.ours.ok_runs < r.ours.runs) {
        j.notes
            .push(format!("ours log tail:\n{}", ours.log_tail(20)));
    }
    j.stops.push(format!("redis: {}", redis.stop()));
    j.stops.push(format!("ours: {}", ours.stop()));
    results
}

/// Restart a server that died (at most 3 restarts per run; its data is lost, which is noted).
fn ensure_alive(
    opts: &Opts,
    tmp: &Path,
    srv: &mut Server,
    restarts: &mut usize,
    cell: &Cell,
    j: &mut Journal,
) -> Result<(), String> {
    let Err(e) = srv.alive() else {
        return Ok(());
    };
    if *restarts >= 3 {
        return Err(format!("{e}; not restarted again"));
    }
    *restarts += 1;
    j.notes.push(format!(
        "{} server had exited before cell '{}' ({e}); log tail:\n{}\nrestarted it (data lost)",
        srv.who.label(),
        cell.name(),
        srv.log_tail(15)
    ));
    let fresh = start_server(srv.who, opts, tmp, &format!("restart{restarts}"))
        .map_err(|e2| format!("{e}; restart failed: {e2}"))?;
    let mut old = std::mem::replace(srv, fresh);
    old.stop();
    Ok(())
}

/// One redis-benchmark run of `cell` against `srv`, with its progress line and notes.
fn run_one(
    opts: &Opts,
    cell: &Cell,
    srv: &mut Server,
    tmp: &Path,
    t_start: Instant,
    progress: &str,
    j: &mut Journal,
) -> RunResult {
    let who = srv.who.label();
    if cell.test == "lpop" {
        match prefill_list(srv, cell.n) {
            Ok(Some(k)) => j.notes.push(format!(
                "{}: {who} had fewer than {} elements in mylist; pushed {k} first",
                cell.name(),
                cell.n
            )),
            Ok(None) => {}
            Err(e) => j.notes.push(format!(
                "{}: {who}: prefilling mylist failed: {e}",
                cell.name()
            )),
        }
    }
    let remaining = opts
        .budget()
        .saturating_sub(t_start.elapsed())
        .max(Duration::from_secs(5));
    let timeout = opts.run_timeout().min(remaining + Duration::from_secs(10));
    let r = run_benchmark(opts, cell, srv, tmp, timeout);
    eprintln!(
        "compare: {progress} {:<20} {who:<5} {:>10} rps ({:>10} by redis-benchmark)  p50 {:>7} ms  p99 {:>7} ms  cpu {:>6} µs/req  {:.1} s{}",
        cell.name(),
        f(r.rps, 0),
        f(r.rps_csv, 0),
        f(r.p50_ms, 3),
        f(r.p99_ms, 3),
        f(r.cpu_us_per_req(cell.n), 2),
        r.wall_secs,
        r.error
            .as_ref()
            .map(|e| format!("  ERROR: {e}"))
            .unwrap_or_default()
    );
    if let Some(t) = &r.timing_note {
        j.notes.push(format!("{}: {who}: {t}", cell.name()));
    }
    for n in &r.notes {
        let line = format!(
            "{}: redis-benchmark against {who} printed: {n}",
            cell.name()
        );
        if !j.notes.contains(&line) {
            j.notes.push(line);
        }
    }
    r
}

struct ReportInput<'a> {
    opts: &'a Opts,
    m: &'a Machine,
    date_human: &'a str,
    load_start: &'a str,
    load_end: &'a str,
    total: Duration,
    mem: &'a [(MemResult, MemResult)],
    results: &'a [CellResult],
    j: &'a Journal,
}

fn render_report(x: &ReportInput) -> String {
    let (opts, m) = (x.opts, x.m);
    let mut rep = String::new();
    let _ = writeln!(rep, "# redis-lite vs redis-server — {}\n", x.date_human);
    let _ = writeln!(rep, "## Machine\n");
    let _ = writeln!(
        rep,
        "- nproc: {}; CPU: {}; memory: {}; kernel: {}",
        m.nproc, m.cpu_model, m.mem_total, m.kernel
    );
    let _ = writeln!(rep, "- redis-server: {}", m.redis_version);
    let _ = writeln!(rep, "- redis-benchmark: {}", m.benchmark_version);
    let _ = writeln!(
        rep,
        "- ours: {}{}",
        m.ours_version,
        x.j.ours_threads
            .map(|t| format!("; {t} threads"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        rep,
        "- limits: open files {}; locked memory {}",
        m.nofile, m.memlock
    );
    let _ = writeln!(rep, "{}", load_line(x.load_start, x.load_end, x.total));
    if let Some(busy) = busy_load(x.load_start) {
        let _ = writeln!(
            rep,
            "- **warning**: the machine was busy before the run started (1-minute load average {busy:.2}); \
             other work on these {} CPUs makes single runs noisy: compare with --repeat 3 (medians)",
            m.nproc
        );
    }
    let _ = writeln!(
        rep,
        "- method: both servers run at the same time on 127.0.0.1; each cell runs against redis then ours back to back \
         (order alternates per repeat; repeat = {}, medians reported); CPU = utime+stime of the server process \
         (/proc/PID/stat, all threads) from start to end of the redis-benchmark run ÷ requests; the client shares the same {} CPUs\n",
        opts.repeat, m.nproc
    );
    if !x.mem.is_empty() {
        let _ = writeln!(rep, "## Memory (RSS, fresh servers)\n");
        rep.push_str(&memory_table(x.mem));
        rep.push('\n');
    }
    if !x.results.is_empty() {
        let threads = if opts.client_threads > 0 {
            format!("--threads {} ", opts.client_threads)
        } else {
            String::new()
        };
        let _ = writeln!(
            rep,
            "## Throughput (`redis-benchmark {threads}-c 50` unless marked c1000; ratio > 1 = ours more rps / higher latency / more CPU)\n"
        );
        rep.push_str(&markdown_table(x.results));
        rep.push_str(
            "\nrps = requests ÷ (redis-benchmark's start → the server's last CPU activity, sampled every 5 ms). \
             redis-benchmark's own rps (in the CSV as *_rps_csv) counts up to 250 ms too much per run: with \
             --threads a worker thread with nothing in flight only notices the end on its 250 ms timer tick. \
             Latencies are redis-benchmark's.\n\n",
        );
    }
    let _ = writeln!(rep, "## Commands\n\n```");
    for c in &x.j.commands {
        let _ = writeln!(rep, "{c}");
    }
    if !x.mem.is_empty() {
        let _ = writeln!(
            rep,
            "memory loader: one TCP connection, SET key:<n> v<n as 15 digits> for n in 0..{}, {MEM_BATCH} commands per pipelined batch; RSS = VmRSS from /proc/PID/status 0.3 s before / 0.5 s after",
            opts.mem_keys()
        );
    }
    let _ = writeln!(
        rep,
        "limits: -n as listed; hard time limit {} s per redis-benchmark run; budget {} s for the whole run",
        opts.run_timeout().as_secs(),
        opts.budget().as_secs()
    );
    let _ = writeln!(rep, "```\n");
    let mut errors: Vec<String> = Vec::new();
    for r in x.results {
        if let Some(s) = &r.skipped {
            errors.push(format!("{}: skipped ({s})", r.cell.name()));
        }
        for (who, a) in [("redis", &r.redis), ("ours", &r.ours)] {
            for e in &a.errors {
                errors.push(format!("{}: {who}: {e}", r.cell.name()));
            }
        }
    }
    if !errors.is_empty() || !x.j.notes.is_empty() {
        let _ = writeln!(rep, "## Errors and notes\n");
        for e in errors.iter().chain(x.j.notes.iter()) {
            let _ = writeln!(rep, "- {e}");
        }
        rep.push('\n');
    }
    if !x.j.stops.is_empty() {
        let _ = writeln!(rep, "Servers stopped: {}.", x.j.stops.join("; "));
    }
    rep
}

fn run(opts: Opts) -> i32 {
    let cells = matrix(&opts);
    let do_memory = opts.memory && opts.selects("memory");
    if opts.list {
        if do_memory {
            println!(
                "memory: RSS delta for {} distinct keys `SET key:<n> <16-byte value>` (pipelined, {MEM_BATCH} per batch)",
                opts.mem_keys()
            );
        }
        for c in &cells {
            println!("{}", bench_command(&opts, c));
        }
        return 0;
    }
    if cells.is_empty() && !do_memory {
        eprintln!("error: --only {:?} selects no cell (see --list)", opts.only);
        return 2;
    }
    install_signal_handlers();
    let nofile = raise_nofile();
    let t_start = Instant::now();
    let (date_file, date_human) = run_dates();
    let m = machine(&opts, nofile);
    let load_start = loadavg();
    let tmp = match make_tmp(opts.tmpdir.as_deref(), "redis-lite-compare") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot create temp dir: {e}");
            return 1;
        }
    };
    eprintln!(
        "compare: {} cells × 2 servers × {} repeat(s){}; budget {} s; temp dir {}",
        cells.len(),
        opts.repeat,
        if do_memory { " + memory cell" } else { "" },
        opts.budget().as_secs(),
        tmp.path.display()
    );

    let mut j = Journal::default();
    let mem = if do_memory && !stopping() {
        memory_phase(&opts, &tmp.path, &mut j)
    } else {
        Vec::new()
    };
    let results = if !cells.is_empty() && !stopping() {
        throughput_phase(&opts, &cells, &tmp.path, t_start, &mut j)
    } else {
        Vec::new()
    };
    let load_end = loadavg();
    let mut rep = render_report(&ReportInput {
        opts: &opts,
        m: &m,
        date_human: &date_human,
        load_start: &load_start,
        load_end: &load_end,
        total: t_start.elapsed(),
        mem: &mem,
        results: &results,
        j: &j,
    });

    // Files: CSV, chart (its failure only costs the chart), the report itself.
    let mut written = Vec::new();
    if let Err(e) = fs::create_dir_all(&opts.results_dir) {
        eprintln!("compare: cannot create {}: {e}", opts.results_dir.display());
    }
    let csv = opts.results_dir.join(format!("compare-{date_file}.csv"));
    match write_csv(&csv, &date_file, &results, &mem) {
        Ok(()) => written.push(csv.display().to_string()),
        Err(e) => eprintln!("compare: cannot write {}: {e}", csv.display()),
    }
    if opts.chart && !results.is_empty() {
        let png = opts.results_dir.join("compare-latest.png");
        let title = format!(
            "redis-benchmark rps: redis-lite vs redis-server {} - {}, {} CPUs, Linux {} - {}",
            m.redis_version
                .split_whitespace()
                .find_map(|w| w.strip_prefix("v="))
                .unwrap_or("?"),
            m.cpu_model,
            m.nproc,
            m.kernel,
            date_human
        );
        let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            draw_chart(&png, &title, &results)
        }));
        match drawn {
            Ok(Ok(())) => written.push(png.display().to_string()),
            Ok(Err(e)) => eprintln!("compare: chart not drawn: {e}"),
            Err(_) => eprintln!("compare: chart not drawn: the plotting code panicked"),
        }
    }
    let md = opts.results_dir.join(format!("compare-{date_file}.md"));
    written.push(md.display().to_string());
    let _ = writeln!(rep, "Files: {}", written.join(", "));
    if let Err(e) = fs::write(&md, &rep) {
        eprintln!("compare: cannot write {}: {e}", md.display());
    }
    print!("{rep}");
    let _ = io::stdout().flush();

    let failed = results.iter().any(|r| {
        r.skipped.is_some() || r.redis.ok_runs < r.redis.runs || r.ours.ok_runs < r.ours.runs
    }) || mem
        .iter()
        .any(|(r, o)| r.error.is_some() || o.error.is_some());
    drop(tmp);
    if stopping() {
        130
    } else if failed {
        1
    } else {
        0
    }
}

//! redis-lite-txpub: transactions and PUBLISH, redis-lite against redis-server. Run it through
//! `benches/txpub.sh`, which builds both binaries.
//!
//! For each server in turn (redis-server first, then redis-lite; one at a time, so the idle one
//! never competes for the CPUs), started on 127.0.0.1 with no persistence:
//!
//! 1. Transactions: C connections (default 50) driven by T client threads (default 2; each
//!    thread polls its connections and sends a connection's next round trip as soon as the last
//!    one's replies are in, like redis-benchmark). A round trip is P units pipelined, a unit
//!    `MULTI; INCR a; INCR b; EXEC`, for P = 1 and 16 and two key pairs: `{t}a {t}b` (one slot,
//!    so one shard) and two keys whose CRC16 slots are owned by different shards of redis-lite
//!    (slot ranges, computed here). Baseline: the same INCR pairs without MULTI/EXEC. Every reply
//!    is checked: +OK, +QUEUED, +QUEUED, then EXEC = [x, x] with x rising on each connection
//!    (without MULTI: each INCR's value rises). At the end GET a = GET b = the units done.
//! 2. PUBLISH: S subscriber connections (default 4), each `SUBSCRIBE ch` and drained by its own
//!    thread, which checks every message and the order per publishing connection; PUBSUB NUMSUB
//!    must show S before the load starts. Publisher load: the same C connections × T threads,
//!    P = 1 and 16 `PUBLISH ch <16 bytes>` per round trip, each reply must be S; then every
//!    subscriber must have received every message. One more run with no subscriber (replies 0).
//!
//! Reported per run: units/s and commands/s (start → last reply), p50/p99/max of the round
//! trips, the server's CPU time (utime+stime of its PID from /proc/PID/stat, all threads) over
//! the run ÷ units, and ours ÷ redis. Every run is bounded by its count, a per-run deadline and
//! the whole run's budget; only processes this tool started are signalled, by PID; servers get
//! PR_SET_PDEATHSIG so they die with this tool.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use redis_lite_compare::report::{
    argv_string, busy_load, fmt_num as f, load_line, quantile, ratio, shell_quote, thousands,
};
use redis_lite_compare::resp::{connect, encode, parse_reply, Client, Reply};
use redis_lite_compare::server::{ours_argv, redis_argv, start_server, Ready, Server, Who};
use redis_lite_compare::slot::{key_on_shard, key_slot, shard_of_slot};
use redis_lite_compare::sys::{clk_tck, cmd_output, cpu_secs, host, loadavg, run_dates, version};
use redis_lite_compare::{install_signal_handlers, make_tmp, num, opts_or_exit, stopping, Budget};

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const USAGE: &str = "\
usage: benches/txpub.sh [options]    (or target/compare/release/redis-lite-txpub [options])

  --clients N           client connections of the load (default 50)
  --client-threads N    client threads driving them (default 2)
  --pipelines LIST      round-trip pipeline depths (default 1,16)
  --tx-n N              units per transaction run (default 200000; --quick: 20000)
  --pub-n N             PUBLISHes per run (default 200000; --quick: 20000)
  --subscribers N       subscriber connections (default 4)
  --quick               small runs (well under a minute), for smoke checks
  --only redis|ours     run one server only
  --shards N            pass --shards N to redis-lite (default: its own, one per CPU)
  --ours-args \"...\"     extra arguments for redis-lite (split on whitespace)
  --run-timeout SECS    stop sending after SECS in one run (default 60; --quick: 20)
  --budget SECS         stop starting new runs after SECS (default 600; --quick: 150)
  --ours-bin PATH       redis-lite binary (default target/release/redis-lite)
  --redis-server PATH   (default redis-server)
  --results-dir DIR     (default benches/results) --tmpdir DIR  (default: a new dir under $TMPDIR)
  --invocation TEXT     the command line to record in the report (txpub.sh sets it)
";

#[derive(Debug, Clone)]
struct Opts {
    clients: usize,
    client_threads: usize,
    pipelines: Vec<usize>,
    tx_n: Option<u64>,
    pub_n: Option<u64>,
    subscribers: usize,
    quick: bool,
    only: Option<Who>,
    shards: Option<usize>,
    ours_args: Vec<String>,
    run_timeout_secs: Option<u64>,
    budget_secs: Option<u64>,
    ours_bin: PathBuf,
    redis_server: String,
    results_dir: PathBuf,
    tmpdir: Option<PathBuf>,
    invocation: Option<String>,
}

impl Opts {
    fn parse() -> Result<Opts, String> {
        let mut o = Opts {
            clients: 50,
            client_threads: 2,
            pipelines: vec![1, 16],
            tx_n: None,
            pub_n: None,
            subscribers: 4,
            quick: false,
            only: None,
            shards: None,
            ours_args: Vec::new(),
            run_timeout_secs: None,
            budget_secs: None,
            ours_bin: PathBuf::from("target/release/redis-lite"),
            redis_server: "redis-server".into(),
            results_dir: PathBuf::from("benches/results"),
            tmpdir: None,
            invocation: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match a.as_str() {
                "-h" | "--help" => return Err(String::new()),
                "--clients" => o.clients = num(&val("--clients")?, "--clients")?,
                "--client-threads" => {
                    o.client_threads = num(&val("--client-threads")?, "--client-threads")?
                }
                "--pipelines" => {
                    o.pipelines = val("--pipelines")?
                        .split(',')
                        .map(|p| num(p, "--pipelines"))
                        .collect::<Result<_, _>>()?
                }
                "--tx-n" => o.tx_n = Some(num(&val("--tx-n")?, "--tx-n")?),
                "--pub-n" => o.pub_n = Some(num(&val("--pub-n")?, "--pub-n")?),
                "--subscribers" => o.subscribers = num(&val("--subscribers")?, "--subscribers")?,
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
                "--run-timeout" => {
                    o.run_timeout_secs = Some(num(&val("--run-timeout")?, "--run-timeout")?)
                }
                "--budget" => o.budget_secs = Some(num(&val("--budget")?, "--budget")?),
                "--ours-bin" => o.ours_bin = PathBuf::from(val("--ours-bin")?),
                "--redis-server" => o.redis_server = val("--redis-server")?,
                "--results-dir" => o.results_dir = PathBuf::from(val("--results-dir")?),
                "--tmpdir" => o.tmpdir = Some(PathBuf::from(val("--tmpdir")?)),
                "--invocation" => o.invocation = Some(val("--invocation")?),
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if !(1..=1000).contains(&o.clients) {
            return Err("--clients must be in 1..=1000".into());
        }
        if !(1..=64).contains(&o.client_threads) || o.client_threads > o.clients {
            return Err("--client-threads must be in 1..=64 and at most --clients".into());
        }
        if o.pipelines.is_empty() || o.pipelines.iter().any(|p| !(1..=1000).contains(p)) {
            return Err("--pipelines: depths in 1..=1000".into());
        }
        if o.subscribers > 100 {
            return Err("--subscribers must be at most 100".into());
        }
        if o.tx_n() == 0 || o.pub_n() == 0 || o.tx_n() > 100_000_000 || o.pub_n() > 100_000_000 {
            return Err("--tx-n and --pub-n must be in 1..=100000000".into());
        }
        if o.shards == Some(0) {
            return Err("--shards must be at least 1".into());
        }
        Ok(o)
    }
    fn tx_n(&self) -> u64 {
        self.tx_n
            .unwrap_or(if self.quick { 20_000 } else { 200_000 })
    }
    fn pub_n(&self) -> u64 {
        self.pub_n
            .unwrap_or(if self.quick { 20_000 } else { 200_000 })
    }
    fn run_timeout(&self) -> Duration {
        Duration::from_secs(
            self.run_timeout_secs
                .unwrap_or(if self.quick { 20 } else { 60 }),
        )
    }
    fn budget(&self) -> Duration {
        Duration::from_secs(
            self.budget_secs
                .unwrap_or(if self.quick { 150 } else { 600 }),
        )
    }
    /// The shards redis-lite will run: --shards, a --shards in --ours-args, or one per CPU this
    /// process may run on (its default).
    fn ours_shards(&self) -> usize {
        let from_args = self
            .ours_args
            .iter()
            .position(|a| a == "--shards")
            .and_then(|i| self.ours_args.get(i + 1))
            .and_then(|v| v.parse().ok());
        self.shards
            .or(from_args)
            .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
            .unwrap_or(1)
            .max(1)
    }
}

// ---------------------------------------------------------------------------------------------
// What one run sends
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Work {
    /// `MULTI; INCR a; INCR b; EXEC`.
    Tx { a: String, b: String },
    /// `INCR a; INCR b`.
    Plain { a: String, b: String },
    /// `PUBLISH channel <16 bytes>`; every reply must be `receivers`.
    Publish { channel: String, receivers: i64 },
}

impl Work {
    fn replies_per_unit(&self) -> usize {
        match self {
            Work::Tx { .. } => 4,
            Work::Plain { .. } => 2,
            Work::Publish { .. } => 1,
        }
    }

    /// Appends unit number `seq` of connection `conn`.
    fn encode_unit(&self, buf: &mut Vec<u8>, conn: usize, seq: u64) {
        match self {
            Work::Tx { a, b } => {
                encode(buf, &[b"MULTI"]);
                encode(buf, &[b"INCR", a.as_bytes()]);
                encode(buf, &[b"INCR", b.as_bytes()]);
                encode(buf, &[b"EXEC"]);
            }
            Work::Plain { a, b } => {
                encode(buf, &[b"INCR", a.as_bytes()]);
                encode(buf, &[b"INCR", b.as_bytes()]);
            }
            Work::Publish { channel, .. } => {
                encode(buf, &[b"PUBLISH", channel.as_bytes(), &payload(conn, seq)]);
            }
        }
    }

    /// The command line of one unit, for the report.
    fn show(&self) -> String {
        match self {
            Work::Tx { a, b } => format!("MULTI; INCR {a}; INCR {b}; EXEC"),
            Work::Plain { a, b } => format!("INCR {a}; INCR {b}"),
            Work::Publish { channel, .. } => format!("PUBLISH {channel} <16 bytes>"),
        }
    }
}

/// 16 bytes: the publishing connection and its sequence number, `cccc:sssssssssss`.
fn payload(conn: usize, seq: u64) -> [u8; 16] {
    let mut p = [0u8; 16];
    let s = format!("{:04}:{:011}", conn % 10_000, seq % 100_000_000_000);
    p.copy_from_slice(s.as_bytes());
    p
}

fn parse_payload(p: &[u8]) -> Option<(usize, u64)> {
    if p.len() != 16 || p[4] != b':' {
        return None;
    }
    let s = std::str::from_utf8(p).ok()?;
    Some((s[..4].parse().ok()?, s[5..].parse().ok()?))
}

/// One client connection of the load.
struct Conn {
    id: usize,
    s: TcpStream,
    buf: Vec<u8>,
    /// Units not sent yet.
    left: u64,
    /// Units sent so far (the next unit's sequence number).
    seq: u64,
    /// Units in the round trip in flight, and the replies it still owes.
    batch: u64,
    owed: usize,
    /// Replies of the round trip read so far.
    got: usize,
    sent_at: Instant,
    last_a: i64,
    last_b: i64,
    dead: bool,
}

#[derive(Default)]
struct LoadResult {
    units: u64,
    lat_us: Vec<u32>,
    end: Option<Instant>,
    bad_replies: u64,
    errors: Vec<String>,
    /// Units never sent (deadline, signal or a dead connection).
    unsent: u64,
    /// Units sent whose replies never came (dead connections).
    lost: u64,
}

impl LoadResult {
    fn error(&mut self, e: String) {
        if self.errors.len() < 5 {
            self.errors.push(e);
        }
    }
    fn merge(&mut self, o: LoadResult) {
        self.units += o.units;
        self.lat_us.extend(o.lat_us);
        self.end = self.end.max(o.end);
        self.bad_replies += o.bad_replies;
        for e in o.errors {
            self.error(e);
        }
        self.unsent += o.unsent;
        self.lost += o.lost;
    }
}

/// Checks reply number `i` (0-based within its unit) on connection `c`.
fn check_reply(work: &Work, c: &mut Conn, i: usize, r: &Reply) -> Result<(), String> {
    let want = |what: &str| Err(format!("conn {}: {what}, got {}", c.id, r.show()));
    match (work, i, r) {
        (Work::Tx { .. }, 0, Reply::Simple(s)) if s == "OK" => Ok(()),
        (Work::Tx { .. }, 0, _) => want("MULTI: want +OK"),
        (Work::Tx { .. }, 1 | 2, Reply::Simple(s)) if s == "QUEUED" => Ok(()),
        (Work::Tx { .. }, 1 | 2, _) => want("INCR in MULTI: want +QUEUED"),
        (Work::Tx { .. }, _, Reply::Array(Some(v))) => match v.as_slice() {
            [Reply::Int(x), Reply::Int(y)] => {
                if x != y {
                    Err(format!(
                        "conn {}: EXEC = [{x}, {y}]: a and b differ inside a transaction",
                        c.id
                    ))
                } else if *x <= c.last_a {
                    Err(format!(
                        "conn {}: EXEC = [{x}, {y}] after [{}, ..]: not rising",
                        c.id, c.last_a
                    ))
                } else {
                    c.last_a = *x;
                    Ok(())
                }
            }
            _ => want("EXEC: want an array of two integers"),
        },
        (Work::Tx { .. }, _, _) => want("EXEC: want an array of two integers"),
        (Work::Plain { .. }, _, Reply::Int(x)) => {
            let last = if i == 0 { &mut c.last_a } else { &mut c.last_b };
            if *x <= *last {
                Err(format!(
                    "conn {}: INCR #{i} = {x} after {}: not rising",
                    c.id, *last
                ))
            } else {
                *last = *x;
                Ok(())
            }
        }
        (Work::Plain { .. }, _, _) => want("INCR: want an integer"),
        (Work::Publish { receivers, .. }, _, Reply::Int(n)) if n == receivers => Ok(()),
        (Work::Publish { receivers, .. }, _, _) => {
            want(&format!("PUBLISH: want :{receivers} (receivers)"))
        }
    }
}

/// Sends `c`'s next round trip (up to `p` units); false if it has nothing left or cannot.
fn send_round(work: &Work, c: &mut Conn, p: usize, req: &mut Vec<u8>, r: &mut LoadResult) -> bool {
    if c.dead || c.left == 0 {
        return false;
    }
    let k = c.left.min(p as u64);
    req.clear();
    for j in 0..k {
        work.encode_unit(req, c.id, c.seq + j);
    }
    c.sent_at = Instant::now();
    if let Err(e) = c.s.write_all(req) {
        r.error(format!("conn {}: write: {e}", c.id));
        c.dead = true;
        return false;
    }
    c.seq += k;
    c.left -= k;
    c.batch = k;
    c.owed = k as usize * work.replies_per_unit();
    c.got = 0;
    true
}

/// A connection stops: what it had not sent or not got back is counted.
fn kill(c: &mut Conn, r: &mut LoadResult, why: String) {
    if !c.dead {
        r.error(why);
        c.dead = true;
    }
    if c.owed > 0 {
        r.lost += c.batch;
        c.owed = 0;
    }
}

const STALL: Duration = Duration::from_secs(10);

/// One client thread: drives `conns` until their units are done, `deadline` passes (no new
/// round trips then) or nothing arrives for [`STALL`].
fn drive(
    work: &Work,
    mut conns: Vec<Conn>,
    p: usize,
    start: &Barrier,
    deadline: Instant,
) -> LoadResult {
    let mut r = LoadResult::default();
    let rounds: u64 = conns.iter().map(|c| c.left.div_ceil(p as u64)).sum();
    r.lat_us.reserve(rounds.min(10_000_000) as usize);
    let mut req = Vec::new();
    let mut rbuf = vec![0u8; 1 << 16];
    start.wait();
    for c in conns.iter_mut() {
        send_round(work, c, p, &mut req, &mut r);
    }
    let mut last_progress = Instant::now();
    let mut active: Vec<usize> = Vec::with_capacity(conns.len());
    let mut fds: Vec<libc::pollfd> = Vec::with_capacity(conns.len());
    loop {
        active.clear();
        active.extend((0..conns.len()).filter(|&i| conns[i].owed > 0 && !conns[i].dead));
        if active.is_empty() {
            break;
        }
        fds.clear();
        fds.extend(active.iter().map(|&i| libc::pollfd {
            fd: conns[i].s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }));
        // SAFETY: `fds` is a valid array of fds.len() pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            for &i in &active {
                kill(&mut conns[i], &mut r, format!("poll: {e}"));
            }
            break;
        }
        if n == 0 {
            if last_progress.elapsed() > STALL {
                for &i in &active {
                    let id = conns[i].id;
                    kill(
                        &mut conns[i],
                        &mut r,
                        format!("conn {id}: no reply for {} s", STALL.as_secs()),
                    );
                }
            }
            continue;
        }
        for (k, &i) in active.iter().enumerate() {
            if fds[k].revents == 0 {
                continue;
            }
            let c = &mut conns[i];
            // Readable: one read(2) on the blocking socket returns what is there.
            match (&c.s).read(&mut rbuf) {
                Ok(0) => {
                    let why = format!("conn {}: connection closed by the server", c.id);
                    kill(c, &mut r, why);
                    continue;
                }
                Ok(got) => c.buf.extend_from_slice(&rbuf[..got]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) => {
                    let why = format!("conn {}: read: {e}", c.id);
                    kill(c, &mut r, why);
                    continue;
                }
            }
            last_progress = Instant::now();
            let mut used = 0;
            while !c.dead {
                let (reply, n) = match parse_reply(&c.buf[used..]) {
                    Ok(Some(x)) => x,
                    Ok(None) => break,
                    Err(e) => {
                        let why = format!("conn {}: {e}", c.id);
                        kill(c, &mut r, why);
                        break;
                    }
                };
                used += n;
                if c.owed == 0 {
                    let why = format!("conn {}: unexpected reply {}", c.id, reply.show());
                    kill(c, &mut r, why);
                    break;
                }
                let i = c.got % work.replies_per_unit();
                if let Err(e) = check_reply(work, c, i, &reply) {
                    r.bad_replies += 1;
                    r.error(e);
                }
                c.got += 1;
                c.owed -= 1;
                if c.owed == 0 {
                    let now = Instant::now();
                    let us = now.duration_since(c.sent_at).as_micros();
                    r.lat_us.push(us.min(u32::MAX as u128) as u32);
                    r.units += c.batch;
                    r.end = Some(now);
                    if now < deadline && !stopping() {
                        send_round(work, c, p, &mut req, &mut r);
                    }
                }
            }
            c.buf.drain(..used);
        }
    }
    for c in &conns {
        r.unsent += c.left;
    }
    r
}

/// The whole load: `clients` connections over `threads` threads, `n` units in round trips of
/// `p`. Returns the result, the start and the server's CPU seconds at the start.
fn run_load(
    port: u16,
    pid: u32,
    work: &Work,
    (clients, threads): (usize, usize),
    p: usize,
    n: u64,
    deadline: Instant,
) -> Result<(LoadResult, Instant, Option<f64>), String> {
    let mut per_thread: Vec<Vec<Conn>> = (0..threads).map(|_| Vec::new()).collect();
    for id in 0..clients {
        let s = connect(port, Duration::from_secs(10)).map_err(|e| format!("connect: {e}"))?;
        let left = n / clients as u64 + u64::from((id as u64) < n % clients as u64);
        per_thread[id % threads].push(Conn {
            id,
            s,
            buf: Vec::with_capacity(1 << 12),
            left,
            seq: 0,
            batch: 0,
            owed: 0,
            got: 0,
            sent_at: Instant::now(),
            last_a: 0,
            last_b: 0,
            dead: false,
        });
    }
    let barrier = Barrier::new(threads + 1);
    let (res, start, cpu0) = std::thread::scope(|s| {
        let handles: Vec<_> = per_thread
            .into_iter()
            .map(|conns| {
                let barrier = &barrier;
                s.spawn(move || drive(work, conns, p, barrier, deadline))
            })
            .collect();
        let cpu0 = cpu_secs(pid).map(|c| c.0);
        let start = Instant::now();
        barrier.wait();
        let mut total = LoadResult::default();
        for h in handles {
            match h.join() {
                Ok(r) => total.merge(r),
                Err(_) => total.error("a client thread panicked".into()),
            }
        }
        (total, start, cpu0)
    });
    Ok((res, start, cpu0))
}

// ---------------------------------------------------------------------------------------------
// Subscribers
// ---------------------------------------------------------------------------------------------

/// A connection that has sent `SUBSCRIBE channel` and read its confirmation.
fn subscribe(port: u16, channel: &str) -> Result<(TcpStream, Vec<u8>), String> {
    let mut s = connect(port, Duration::from_secs(5)).map_err(|e| format!("connect: {e}"))?;
    let mut req = Vec::new();
    encode(&mut req, &[b"SUBSCRIBE", channel.as_bytes()]);
    s.write_all(&req).map_err(|e| format!("SUBSCRIBE: {e}"))?;
    let mut buf = Vec::new();
    let mut rbuf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some((r, used)) = parse_reply(&buf).map_err(|e| format!("SUBSCRIBE: {e}"))? {
            buf.drain(..used);
            return match &r {
                Reply::Array(Some(v))
                    if v.len() == 3
                        && v[0] == Reply::Bulk(Some(b"subscribe".to_vec()))
                        && v[1] == Reply::Bulk(Some(channel.as_bytes().to_vec())) =>
                {
                    Ok((s, buf))
                }
                _ => Err(format!("SUBSCRIBE {channel} answered {}", r.show())),
            };
        }
        if Instant::now() > deadline {
            return Err("no SUBSCRIBE confirmation within 5 s".into());
        }
        match s.read(&mut rbuf) {
            Ok(0) => return Err("SUBSCRIBE: connection closed".into()),
            Ok(n) => buf.extend_from_slice(&rbuf[..n]),
            Err(e) => return Err(format!("SUBSCRIBE: {e}")),
        }
    }
}

#[derive(Default)]
struct SubResult {
    count: u64,
    last_at: Option<Instant>,
    bad: u64,
    errors: Vec<String>,
}

/// Counts and checks messages until `target` are in, `quit` is set or an error.
fn drain(
    mut s: TcpStream,
    mut buf: Vec<u8>,
    channel: &str,
    publishers: usize,
    target: &AtomicU64,
    quit: &AtomicBool,
) -> SubResult {
    let mut r = SubResult::default();
    let mut next = vec![0u64; publishers];
    let mut rbuf = vec![0u8; 1 << 16];
    let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
    let err = |r: &mut SubResult, e: String| {
        r.bad += 1;
        if r.errors.len() < 3 {
            r.errors.push(e);
        }
    };
    loop {
        let mut used = 0;
        loop {
            let (m, n) = match parse_reply(&buf[used..]) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    err(&mut r, e);
                    return r;
                }
            };
            used += n;
            let body = match &m {
                Reply::Array(Some(v)) if v.len() == 3 => match (&v[0], &v[1], &v[2]) {
                    (Reply::Bulk(Some(k)), Reply::Bulk(Some(ch)), Reply::Bulk(Some(b)))
                        if k == b"message" && ch == channel.as_bytes() =>
                    {
                        Some(b)
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some(body) = body else {
                err(&mut r, format!("not a message on {channel}: {}", m.show()));
                continue;
            };
            r.count += 1;
            match parse_payload(body) {
                Some((pc, seq)) if pc < publishers => {
                    if seq != next[pc] {
                        err(
                            &mut r,
                            format!(
                                "from publisher conn {pc}: message {seq}, expected {}",
                                next[pc]
                            ),
                        );
                    }
                    next[pc] = seq + 1;
                }
                _ => err(
                    &mut r,
                    format!("payload {:?}", String::from_utf8_lossy(body)),
                ),
            }
        }
        if used > 0 {
            r.last_at = Some(Instant::now());
            buf.drain(..used);
        }
        if r.count >= target.load(Ordering::SeqCst) || quit.load(Ordering::SeqCst) || stopping() {
            return r;
        }
        match s.read(&mut rbuf) {
            Ok(0) => {
                err(&mut r, "connection closed by the server".into());
                return r;
            }
            Ok(n) => buf.extend_from_slice(&rbuf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                err(&mut r, format!("read: {e}"));
                return r;
            }
        }
    }
}

/// Polls `PUBSUB NUMSUB channel` until it is `want` (up to 5 s).
fn wait_numsub(c: &mut Client, channel: &str, want: i64) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = String::new();
    while Instant::now() < deadline && !stopping() {
        match c.call(&[b"PUBSUB", b"NUMSUB", channel.as_bytes()]) {
            Ok(Reply::Array(Some(v))) if v.len() == 2 && v[1] == Reply::Int(want) => return Ok(()),
            Ok(r) => {
                last = match r {
                    Reply::Array(Some(v)) if v.len() == 2 => v[1].show(),
                    r => r.show(),
                }
            }
            Err(e) => return Err(format!("PUBSUB NUMSUB: {e}")),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!(
        "PUBSUB NUMSUB {channel} did not reach {want} within 5 s (last: {last})"
    ))
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Case {
    TxOne,
    TxTwo,
    PlainOne,
    PlainTwo,
}

const CASES: [Case; 4] = [Case::TxOne, Case::TxTwo, Case::PlainOne, Case::PlainTwo];

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::TxOne => "MULTI/EXEC, keys on one shard",
            Case::TxTwo => "MULTI/EXEC, keys on two shards",
            Case::PlainOne => "no MULTI (baseline), one shard",
            Case::PlainTwo => "no MULTI (baseline), two shards",
        }
    }
}

struct Keys {
    one: (String, String),
    two: (String, String),
    shards: usize,
}

impl Keys {
    fn pick(shards: usize) -> Keys {
        let a = key_on_shard("a", shards - 1, shards).unwrap_or_else(|| "a".into());
        let b = key_on_shard("b", 0, shards).unwrap_or_else(|| "b".into());
        Keys {
            one: ("{t}a".into(), "{t}b".into()),
            two: (a, b),
            shards,
        }
    }
    fn work(&self, case: Case) -> Work {
        let (a, b) = match case {
            Case::TxOne | Case::PlainOne => self.one.clone(),
            Case::TxTwo | Case::PlainTwo => self.two.clone(),
        };
        match case {
            Case::TxOne | Case::TxTwo => Work::Tx { a, b },
            Case::PlainOne | Case::PlainTwo => Work::Plain { a, b },
        }
    }
    fn describe(&self, k: &str) -> String {
        let slot = key_slot(k.as_bytes());
        format!(
            "`{k}` slot {slot} → shard {} of {}",
            shard_of_slot(slot, self.shards),
            self.shards
        )
    }
}

#[derive(Clone, Debug, Default)]
struct RunResult {
    /// `Case::label` or "PUBLISH, S subscribers".
    name: String,
    p: usize,
    /// Publish runs: subscribers.
    subs: Option<usize>,
    units: u64,
    commands: u64,
    wall_s: f64,
    /// Publish runs: start → the last message at the last subscriber.
    deliver_s: f64,
    delivered: u64,
    cpu_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    check: String,
    notes: Vec<String>,
    errors: Vec<String>,
}

impl RunResult {
    fn ok(&self) -> bool {
        self.errors.is_empty()
    }
    fn per_s(&self) -> f64 {
        if self.ok() {
            self.units as f64 / self.wall_s
        } else {
            f64::NAN
        }
    }
    fn delivered_per_s(&self) -> f64 {
        if self.ok() && self.deliver_s > 0.0 && self.delivered > 0 {
            self.delivered as f64 / self.deliver_s
        } else {
            f64::NAN
        }
    }
    fn cpu_us(&self) -> f64 {
        if self.ok() && self.units > 0 {
            self.cpu_s * 1e6 / self.units as f64
        } else {
            f64::NAN
        }
    }
    fn lat(&self, v: f64) -> f64 {
        if self.ok() {
            v
        } else {
            f64::NAN
        }
    }
}

fn fill_load(out: &mut RunResult, work: &Work, load: &mut LoadResult, start: Instant) {
    out.units = load.units;
    out.commands = load.units
        * match work {
            Work::Tx { .. } => 4,
            Work::Plain { .. } => 2,
            Work::Publish { .. } => 1,
        };
    out.wall_s = load
        .end
        .map_or(f64::NAN, |e| e.duration_since(start).as_secs_f64());
    load.lat_us.sort_unstable();
    out.p50_ms = quantile(&load.lat_us, 0.50) / 1e3;
    out.p99_ms = quantile(&load.lat_us, 0.99) / 1e3;
    out.max_ms = load.lat_us.last().map_or(f64::NAN, |&v| v as f64 / 1e3);
    out.errors.extend(load.errors.iter().cloned());
    if load.bad_replies > 0 {
        out.errors
            .push(format!("{} wrong replies", load.bad_replies));
    }
    if load.lost > 0 {
        out.errors.push(format!(
            "{} units sent without replies (dead connections)",
            load.lost
        ));
    }
    if stopping() {
        out.errors.push("interrupted".into());
    } else if load.unsent > 0 && out.errors.is_empty() {
        // The run's time limit: what was done is measured (rates, latency and CPU are per unit
        // done), and the report says so.
        out.notes.push(format!(
            "time limit: {} of {} units done",
            load.units,
            load.units + load.unsent
        ));
    }
}

fn get_int(c: &mut Client, key: &str) -> Result<i64, String> {
    match c.call(&[b"GET", key.as_bytes()]) {
        Ok(Reply::Bulk(Some(v))) => String::from_utf8_lossy(&v)
            .parse()
            .map_err(|_| format!("GET {key} = {:?}", String::from_utf8_lossy(&v))),
        Ok(r) => Err(format!("GET {key} answered {}", r.show())),
        Err(e) => Err(format!("GET {key}: {e}")),
    }
}

fn del(c: &mut Client, keys: &[&str]) -> Result<(), String> {
    let mut args: Vec<&[u8]> = vec![b"DEL"];
    args.extend(keys.iter().map(|k| k.as_bytes()));
    c.int(&args).map(|_| ())
}

fn tx_run(
    srv: &Server,
    opts: &Opts,
    work: &Work,
    name: &str,
    p: usize,
    n: u64,
    deadline: Instant,
) -> RunResult {
    let mut out = RunResult {
        name: name.into(),
        p,
        ..Default::default()
    };
    let (a, b) = match work {
        Work::Tx { a, b } | Work::Plain { a, b } => (a.clone(), b.clone()),
        Work::Publish { .. } => unreachable!("tx_run runs INCR work"),
    };
    let mut ctl = match Client::connect(srv.port, Duration::from_secs(10)) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(format!("connect: {e}"));
            return out;
        }
    };
    if let Err(e) = del(&mut ctl, &[&a, &b]) {
        out.errors.push(e);
        return out;
    }
    let loaded = run_load(
        srv.port,
        srv.pid,
        work,
        (opts.clients, opts.client_threads),
        p,
        n,
        deadline,
    );
    let cpu1 = cpu_secs(srv.pid).map(|c| c.0);
    let (mut load, start, cpu0) = match loaded {
        Ok(x) => x,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    out.cpu_s = match (cpu0, cpu1) {
        (Some(x), Some(y)) => y - x,
        _ => f64::NAN,
    };
    fill_load(&mut out, work, &mut load, start);
    // The totals: every unit incremented a and b once.
    match (get_int(&mut ctl, &a), get_int(&mut ctl, &b)) {
        (Ok(va), Ok(vb)) => {
            let want = load.units as i64;
            if va == want && vb == want {
                out.check = format!("{a} = {b} = {want}");
            } else if load.lost == 0 {
                out.errors
                    .push(format!("totals: {a} = {va}, {b} = {vb}, want {want} each"));
            } else {
                out.check = format!("{a} = {va}, {b} = {vb} ({want} confirmed)");
            }
        }
        (Err(e), _) | (_, Err(e)) => out.errors.push(e),
    }
    let _ = del(&mut ctl, &[&a, &b]);
    out
}

const CHANNEL: &str = "ch";

fn pub_run(
    srv: &Server,
    opts: &Opts,
    subs: usize,
    p: usize,
    n: u64,
    deadline: Instant,
) -> RunResult {
    let mut out = RunResult {
        name: format!("PUBLISH, {subs} subscribers"),
        p,
        subs: Some(subs),
        ..Default::default()
    };
    let mut ctl = match Client::connect(srv.port, Duration::from_secs(10)) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(format!("connect: {e}"));
            return out;
        }
    };
    let mut conns = Vec::new();
    for _ in 0..subs {
        match subscribe(srv.port, CHANNEL) {
            Ok(c) => conns.push(c),
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        }
    }
    // Also waits for the last run's subscribers to be gone.
    if let Err(e) = wait_numsub(&mut ctl, CHANNEL, subs as i64) {
        out.errors.push(e);
        return out;
    }
    let work = Work::Publish {
        channel: CHANNEL.into(),
        receivers: subs as i64,
    };
    let target = AtomicU64::new(u64::MAX);
    let quit = AtomicBool::new(false);
    let finished = AtomicUsize::new(0);
    let (loaded, sub_results, cpu1) = std::thread::scope(|s| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|(sock, buf)| {
                let (target, quit, finished) = (&target, &quit, &finished);
                s.spawn(move || {
                    let r = drain(sock, buf, CHANNEL, opts.clients, target, quit);
                    finished.fetch_add(1, Ordering::SeqCst);
                    r
                })
            })
            .collect();
        let loaded = run_load(
            srv.port,
            srv.pid,
            &work,
            (opts.clients, opts.client_threads),
            p,
            n,
            deadline,
        );
        // Every subscriber must get every acknowledged PUBLISH (up to 10 s more).
        let acked = loaded.as_ref().map_or(0, |l| l.0.units);
        target.store(acked, Ordering::SeqCst);
        let wait_until = Instant::now() + Duration::from_secs(10);
        while finished.load(Ordering::SeqCst) < subs && Instant::now() < wait_until && !stopping() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let cpu1 = cpu_secs(srv.pid).map(|c| c.0);
        quit.store(true, Ordering::SeqCst);
        let subs: Vec<SubResult> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect();
        (loaded, subs, cpu1)
    });
    let (mut load, start, cpu0) = match loaded {
        Ok(x) => x,
        Err(e) => {
            out.errors.push(e);
            return out;
        }
    };
    out.cpu_s = match (cpu0, cpu1) {
        (Some(x), Some(y)) => y - x,
        _ => f64::NAN,
    };
    fill_load(&mut out, &work, &mut load, start);
    out.delivered = sub_results.iter().map(|r| r.count).sum();
    let last = sub_results
        .iter()
        .filter_map(|r| r.last_at)
        .max()
        .max(load.end);
    out.deliver_s = last.map_or(f64::NAN, |l| l.duration_since(start).as_secs_f64());
    let mut short = Vec::new();
    for (i, r) in sub_results.iter().enumerate() {
        if r.count != load.units {
            short.push(format!("subscriber {i}: {} messages", r.count));
        }
        for e in &r.errors {
            out.errors.push(format!("subscriber {i}: {e}"));
        }
        if r.bad > r.errors.len() as u64 {
            out.errors
                .push(format!("subscriber {i}: {} bad messages in all", r.bad));
        }
    }
    if !short.is_empty() {
        out.errors.push(format!(
            "{} acknowledged PUBLISHes but {}",
            load.units,
            short.join(", ")
        ));
    } else if subs > 0 {
        out.check = format!("{subs} × {} messages, in order per publisher", load.units);
    } else {
        out.check = "every reply :0".into();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// One server's whole sequence
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Outcome {
    argv: Option<String>,
    ready_line: Option<String>,
    tx: Vec<RunResult>,
    publish: Vec<RunResult>,
    errors: Vec<String>,
    stop: Option<String>,
}

fn start(who: Who, opts: &Opts, tmp: &Path, deadline: Instant) -> Result<Server, String> {
    let dir = tmp.join(format!("{}-data", who.label()));
    let log = tmp.join(format!("{}.log", who.label()));
    let ready = match who {
        Who::Redis => Ready::Pong,
        Who::Ours => Ready::Line,
    };
    start_server(who, ready, &dir, &log, deadline, |port| match who {
        Who::Redis => redis_argv(&opts.redis_server, port, &dir),
        Who::Ours => ours_argv(&opts.ours_bin, &dir, opts.shards, &opts.ours_args),
    })
}

/// The pub/sub runs: (subscribers, pipeline).
fn pub_cells(opts: &Opts) -> Vec<(usize, usize)> {
    let mut v: Vec<(usize, usize)> = opts
        .pipelines
        .iter()
        .map(|&p| (opts.subscribers, p))
        .collect();
    if opts.subscribers > 0 {
        v.push((0, *opts.pipelines.iter().max().unwrap_or(&16)));
    }
    v
}

fn bench_server(who: Who, opts: &Opts, keys: &Keys, tmp: &Path, budget: &Budget) -> Outcome {
    let mut o = Outcome::default();
    let label = who.label();
    let say = |s: String| eprintln!("txpub: {label}: {s}");
    if let Some(why) = budget.refuse() {
        o.errors.push(format!("not started: {why}"));
        return o;
    }
    let mut srv = match start(who, opts, tmp, budget.deadline(Duration::from_secs(60))) {
        Ok(s) => s,
        Err(e) => {
            o.errors.push(format!("start: {e}"));
            return o;
        }
    };
    o.argv = Some(argv_string(&srv.argv));
    o.ready_line = srv.ready_line.clone();
    if let Some(line) = &srv.ready_line {
        let shards = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("shards="))
            .and_then(|v| v.parse::<usize>().ok());
        if shards.is_some_and(|s| s != keys.shards) {
            o.errors.push(format!(
                "the two-shard keys were picked for {} shards but redis-lite runs {shards:?}",
                keys.shards
            ));
        }
    }
    say(format!("pid {} port {}", srv.pid, srv.port));
    // Warm-up (not reported): a tenth of a run of INCR pairs, then the keys are deleted.
    let warm = Work::Plain {
        a: "{w}a".into(),
        b: "{w}b".into(),
    };
    let w = tx_run(
        &srv,
        opts,
        &warm,
        "warm-up",
        *opts.pipelines.iter().max().unwrap_or(&1),
        (opts.tx_n() / 10).max(1),
        budget.deadline(opts.run_timeout()),
    );
    if !w.ok() {
        o.errors.push(format!("warm-up: {}", w.errors.join("; ")));
    }
    for case in CASES {
        for &p in &opts.pipelines {
            if let Some(why) = budget.refuse() {
                o.errors
                    .push(format!("{} P{p} skipped: {why}", case.label()));
                continue;
            }
            let work = keys.work(case);
            let r = tx_run(
                &srv,
                opts,
                &work,
                case.label(),
                p,
                opts.tx_n(),
                budget.deadline(opts.run_timeout()),
            );
            say(format!(
                "{} P{p}: {} units/s, p99 {} ms, {} CPU µs/unit{}",
                case.label(),
                f(r.per_s(), 0),
                f(r.p99_ms, 3),
                f(r.cpu_us(), 2),
                if r.ok() {
                    String::new()
                } else {
                    format!("; ERRORS: {}", r.errors.join("; "))
                }
            ));
            o.tx.push(r);
        }
    }
    for (subs, p) in pub_cells(opts) {
        if let Some(why) = budget.refuse() {
            o.errors
                .push(format!("PUBLISH {subs} subscribers P{p} skipped: {why}"));
            continue;
        }
        let r = pub_run(
            &srv,
            opts,
            subs,
            p,
            opts.pub_n(),
            budget.deadline(opts.run_timeout()),
        );
        say(format!(
            "PUBLISH, {subs} subscribers, P{p}: {} publishes/s, {} delivered/s, {} CPU µs/publish{}",
            f(r.per_s(), 0),
            f(r.delivered_per_s(), 0),
            f(r.cpu_us(), 2),
            if r.ok() {
                String::new()
            } else {
                format!("; ERRORS: {}", r.errors.join("; "))
            }
        ));
        o.publish.push(r);
    }
    if let Err(e) = srv.alive() {
        o.errors.push(e);
    }
    o.stop = Some(format!("{label}: {}", srv.stop()));
    o
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn machine(opts: &Opts) -> Vec<String> {
    let h = host();
    let lscpu = cmd_output("lscpu", &[]).unwrap_or_default();
    let field = |name: &str| {
        lscpu.lines().find_map(|l| {
            l.strip_prefix(name)
                .and_then(|r| r.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        })
    };
    let model = field("Model name").unwrap_or_else(|| h.cpu_model.clone());
    let cpus = field("CPU(s)").unwrap_or_else(|| "?".into());
    let cores = match (field("Core(s) per socket"), field("Socket(s)")) {
        (Some(c), Some(s)) => format!("{c} core(s) per socket × {s} socket(s)"),
        _ => "cores ?".into(),
    };
    vec![
        format!(
            "CPU (lscpu): {model}; {cpus} CPUs, {cores}; nproc {}; memory {}; kernel {}",
            h.nproc.map_or_else(|| "?".into(), |n| n.to_string()),
            h.mem_total,
            h.kernel
        ),
        format!("redis-server: {}", version(&opts.redis_server)),
        format!(
            "ours: {}",
            cmd_output(&opts.ours_bin.to_string_lossy(), &["--version"])
                .unwrap_or_else(|| opts.ours_bin.display().to_string())
        ),
    ]
}

/// `| redis | ours | ratio |` cells of one metric.
fn trio(r: Option<f64>, o: Option<f64>, prec: usize) -> String {
    let (r, o) = (r.unwrap_or(f64::NAN), o.unwrap_or(f64::NAN));
    format!("{} | {} | {}", f(r, prec), f(o, prec), f(ratio(o, r), 2))
}

fn find<'a>(runs: &'a [RunResult], name: &str, p: usize) -> Option<&'a RunResult> {
    runs.iter().find(|r| r.name == name && r.p == p)
}

fn tx_table(redis: &Outcome, ours: &Outcome, opts: &Opts) -> String {
    let mut s = String::from(
        "| case | P | tx/s redis | tx/s ours | ratio | p50 ms redis | p50 ms ours | ratio | \
         p99 ms redis | p99 ms ours | ratio | CPU µs/tx redis | CPU µs/tx ours | ratio |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for case in CASES {
        for &p in &opts.pipelines {
            let r = find(&redis.tx, case.label(), p);
            let o = find(&ours.tx, case.label(), p);
            let m = |g: fn(&RunResult) -> f64| (r.map(g), o.map(g));
            let (a, b) = m(RunResult::per_s);
            let (c, d) = m(|x| x.lat(x.p50_ms));
            let (e, g) = m(|x| x.lat(x.p99_ms));
            let (h, i) = m(RunResult::cpu_us);
            let limited = r.iter().chain(&o).any(|x| !x.notes.is_empty());
            let _ = writeln!(
                s,
                "| {}{} | {p} | {} | {} | {} | {} |",
                case.label(),
                if limited { " †" } else { "" },
                trio(a, b, 0),
                trio(c, d, 3),
                trio(e, g, 3),
                trio(h, i, 2)
            );
        }
    }
    s
}

fn pub_table(redis: &Outcome, ours: &Outcome, opts: &Opts) -> String {
    let mut s = String::from(
        "| subscribers | P | publishes/s redis | publishes/s ours | ratio | delivered/s redis | \
         delivered/s ours | ratio | p99 ms redis | p99 ms ours | ratio | CPU µs/publish redis | \
         CPU µs/publish ours | ratio |\n\
         |--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for (subs, p) in pub_cells(opts) {
        let name = format!("PUBLISH, {subs} subscribers");
        let r = find(&redis.publish, &name, p);
        let o = find(&ours.publish, &name, p);
        let m = |g: fn(&RunResult) -> f64| (r.map(g), o.map(g));
        let (a, b) = m(RunResult::per_s);
        let (c, d) = m(RunResult::delivered_per_s);
        let (e, g) = m(|x| x.lat(x.p99_ms));
        let (h, i) = m(RunResult::cpu_us);
        let _ = writeln!(
            s,
            "| {subs} | {p} | {} | {} | {} | {} |",
            trio(a, b, 0),
            trio(c, d, 0),
            trio(e, g, 3),
            trio(h, i, 2)
        );
    }
    s
}

fn runs_table(outs: &[(Who, Outcome)]) -> String {
    let mut s = String::from(
        "| server | run | P | units | commands | wall s | units/s | commands/s | p50 ms | p99 ms | \
         max ms | server CPU s | CPU µs/unit | delivered | check |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for (who, o) in outs {
        for r in o.tx.iter().chain(&o.publish) {
            let check = if r.ok() {
                let mut c = format!("ok: {}", r.check);
                for n in &r.notes {
                    c.push_str(&format!("; **{n}**"));
                }
                c
            } else {
                format!("**FAILED**: {}", r.errors.join("; "))
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {check} |",
                who.label(),
                r.name,
                r.p,
                thousands(r.units),
                thousands(r.commands),
                f(r.wall_s, 3),
                f(r.units as f64 / r.wall_s, 0),
                f(r.commands as f64 / r.wall_s, 0),
                f(r.p50_ms, 3),
                f(r.p99_ms, 3),
                f(r.max_ms, 3),
                f(r.cpu_s, 2),
                f(r.cpu_s * 1e6 / r.units as f64, 2),
                if r.subs.is_some_and(|s| s > 0) {
                    thousands(r.delivered)
                } else {
                    String::new()
                }
            );
        }
    }
    s
}

struct ReportInput<'a> {
    opts: &'a Opts,
    keys: &'a Keys,
    machine: &'a [String],
    date_human: &'a str,
    load_start: &'a str,
    load_end: &'a str,
    total: Duration,
    outs: &'a [(Who, Outcome)],
}

fn render(x: &ReportInput) -> String {
    let (opts, keys) = (x.opts, x.keys);
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
        "# Transactions and PUBLISH: redis-lite vs redis-server — {}\n",
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
            "- **warning**: the machine was busy before the run started (1-minute load average \
             {busy:.2}); single runs on a busy machine are noisy"
        );
    }
    let _ = writeln!(
        rep,
        "- method: one server at a time (redis-server, then redis-lite), no persistence; the load \
         is this tool: {} connections driven by {} client threads (poll(2); a connection's next \
         round trip is sent as soon as the last one's replies are in), on the same CPUs as the \
         server. Rates = units ÷ (start → last reply); latency = one round trip (P units); CPU = \
         utime+stime of the server PID (/proc/PID/stat, all threads; {:.0} ms ticks, so short \
         runs are coarse) over the run ÷ units. Every reply is checked. One run per cell: on a \
         shared 2-core machine single runs are noisy. A run that reaches its time limit stops \
         sending and is measured over the units it did (the check column says so).\n",
        opts.clients,
        opts.client_threads,
        1e3 / clk_tck()
    );
    let _ = writeln!(
        rep,
        "## Transactions (ratio = ours ÷ redis; tx/s > 1 and latency/CPU < 1 = ours better)\n"
    );
    let _ = writeln!(
        rep,
        "A unit is `MULTI; INCR a; INCR b; EXEC` (4 commands); the baseline's unit is the same \
         `INCR a; INCR b` without MULTI/EXEC (2 commands; its \"tx/s\" is pairs/s). {} units per \
         run. Keys: one shard {} and {}; two shards {} and {} (redis-server has one keyspace: the \
         same names).\n",
        thousands(opts.tx_n()),
        keys.describe(&keys.one.0),
        keys.describe(&keys.one.1),
        keys.describe(&keys.two.0),
        keys.describe(&keys.two.1),
    );
    rep.push_str(&tx_table(redis, ours, opts));
    if redis.tx.iter().chain(&ours.tx).any(|r| !r.notes.is_empty()) {
        let _ = writeln!(
            rep,
            "\n† a run reached its time limit (`--run-timeout`); it is measured over the units it \
             did (see All runs)."
        );
    }
    let _ = writeln!(
        rep,
        "\n## PUBLISH (ratio = ours ÷ redis)\n\n{} subscriber connections `SUBSCRIBE {CHANNEL}`, \
         each drained by its own thread that checks every message (channel, payload, order per \
         publishing connection); publishers: `PUBLISH {CHANNEL} <16 bytes>`, {} per run, every \
         reply must be the subscriber count. delivered/s = subscribers × publishes ÷ (start → \
         the last message at the last subscriber); CPU over the same span.\n",
        opts.subscribers,
        thousands(opts.pub_n())
    );
    rep.push_str(&pub_table(redis, ours, opts));
    let _ = writeln!(rep, "\n## All runs\n");
    rep.push_str(&runs_table(x.outs));
    let _ = writeln!(rep, "\n## Commands\n\n```");
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
        if let Some(a) = &o.argv {
            let _ = writeln!(rep, "{}: {a}", who.label());
        }
    }
    let _ = writeln!(
        rep,
        "load: {} connections ({} per client thread), units split evenly; per round trip P × unit, P in {:?}",
        opts.clients,
        opts.clients.div_ceil(opts.client_threads),
        opts.pipelines
    );
    let _ = writeln!(
        rep,
        "warm-up (not reported): {} units of `INCR {{w}}a; INCR {{w}}b` at P{}",
        (opts.tx_n() / 10).max(1),
        opts.pipelines.iter().max().unwrap_or(&1)
    );
    for case in CASES {
        let (a, b) = match keys.work(case) {
            Work::Tx { a, b } | Work::Plain { a, b } => (a, b),
            Work::Publish { .. } => unreachable!("CASES are INCR work"),
        };
        let _ = writeln!(
            rep,
            "{}: DEL {a} {b}; {} units of `{}`; GET {a}; GET {b}; DEL {a} {b}",
            case.label(),
            opts.tx_n(),
            keys.work(case).show()
        );
    }
    let _ = writeln!(
        rep,
        "PUBLISH: S × SUBSCRIBE {CHANNEL}; PUBSUB NUMSUB {CHANNEL} until S; {} × `PUBLISH {CHANNEL} <cccc:sssssssssss>` \
         (publishing connection, sequence); runs (S, P): {:?}",
        opts.pub_n(),
        pub_cells(opts)
    );
    let _ = writeln!(
        rep,
        "limits: {} s of sending per run, {} s without a reply, 10 s for subscribers to catch up; budget {} s",
        opts.run_timeout().as_secs(),
        STALL.as_secs(),
        opts.budget().as_secs()
    );
    let _ = writeln!(rep, "```\n");
    for (who, o) in x.outs {
        if let Some(l) = &o.ready_line {
            let _ = writeln!(rep, "{} ready line: `{l}`\n", who.label());
        }
    }
    let errs: Vec<String> = x
        .outs
        .iter()
        .flat_map(|(w, o)| o.errors.iter().map(move |e| format!("{}: {e}", w.label())))
        .collect();
    if !errs.is_empty() {
        let _ = writeln!(rep, "## Errors\n");
        for e in errs {
            let _ = writeln!(rep, "- **error** {e}");
        }
        rep.push('\n');
    }
    let stops: Vec<String> = x.outs.iter().filter_map(|(_, o)| o.stop.clone()).collect();
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
    let keys = Keys::pick(opts.ours_shards());
    let tmp = match make_tmp(opts.tmpdir.as_deref(), "redis-lite-txpub") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot create temp dir: {e}");
            return 1;
        }
    };
    eprintln!(
        "txpub: {} clients × {} threads, P {:?}; {} units per tx run, {} PUBLISHes per run; budget {} s; temp dir {}",
        opts.clients,
        opts.client_threads,
        opts.pipelines,
        opts.tx_n(),
        opts.pub_n(),
        opts.budget().as_secs(),
        tmp.path.display()
    );
    let mut outs = Vec::new();
    for who in [Who::Redis, Who::Ours] {
        if opts.only.is_some_and(|w| w != who) {
            continue;
        }
        outs.push((who, bench_server(who, &opts, &keys, &tmp.path, &budget)));
    }
    let mut rep = render(&ReportInput {
        opts: &opts,
        keys: &keys,
        machine: &machine,
        date_human: &date_human,
        load_start: &load_start,
        load_end: &loadavg(),
        total: budget.start.elapsed(),
        outs: &outs,
    });
    if let Err(e) = fs::create_dir_all(&opts.results_dir) {
        eprintln!("txpub: cannot create {}: {e}", opts.results_dir.display());
    }
    let md = opts.results_dir.join(format!("txpub-{date_file}.md"));
    let _ = writeln!(rep, "\nFile: {}", md.display());
    if let Err(e) = fs::write(&md, &rep) {
        eprintln!("txpub: cannot write {}: {e}", md.display());
    }
    print!("{rep}");
    let _ = io::stdout().flush();
    let failed = outs
        .iter()
        .any(|(_, o)| !o.errors.is_empty() || o.tx.iter().chain(&o.publish).any(|r| !r.ok()));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        let p = payload(49, 123_456);
        assert_eq!(&p, b"0049:00000123456");
        assert_eq!(parse_payload(&p), Some((49, 123_456)));
        assert_eq!(parse_payload(b"short"), None);
    }

    #[test]
    fn two_shard_keys_are_on_two_shards() {
        let k = Keys::pick(2);
        let shard = |key: &str| shard_of_slot(key_slot(key.as_bytes()), 2);
        assert_ne!(shard(&k.two.0), shard(&k.two.1));
        assert_eq!(shard(&k.one.0), shard(&k.one.1));
    }
}

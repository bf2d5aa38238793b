//! Persistence: SAVE/BGSAVE snapshots (one Redis 7.0 RDB file per shard plus a manifest),
//! loading them at start-up (also with another `--shards` count, and a plain `dump.rdb` written
//! by redis-server 7.0), crash safety, detection of damaged files, failing saves, save points,
//! SHUTDOWN variants, start-up clean-up and expiry across a restart.
//!
//! Every test runs its own server(s) in its own temporary directory. Waits are bounded polls.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bound of every polling loop in this file.
const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);
const MANIFEST: &str = "dump.manifest";
const IN_PROGRESS: &str = "ERR Background save already in progress";
const CONFIG_SAVE_INVALID: &str =
    "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters";
const SHUTDOWN_FAILED: &str = "ERR Errors trying to SHUTDOWN. Check logs.";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Options with save points disabled: only explicit SAVE/BGSAVE/SHUTDOWN SAVE write snapshots.
fn no_save_points(shards: usize) -> Opts {
    Opts::shards(shards).arg("--save").arg("")
}

fn cmd<A: AsRef<[u8]>>(args: &[A]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_ref().to_vec()).collect()
}

/// Sends commands pipelined, in batches small enough (≤ 1000 commands, ~64 KB of requests) that
/// the requests always fit in the socket buffers; returns every reply in order.
fn pipeline<I: IntoIterator<Item = Vec<Vec<u8>>>>(c: &mut Conn, cmds: I) -> Vec<Reply> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut pending = 0;
    let flush = |c: &mut Conn, buf: &mut Vec<u8>, pending: &mut usize, out: &mut Vec<Reply>| {
        if *pending == 0 {
            return;
        }
        c.send(buf);
        buf.clear();
        for _ in 0..*pending {
            out.push(c.read_reply());
        }
        *pending = 0;
    };
    for command in cmds {
        encode_cmd_into(&command, &mut buf);
        pending += 1;
        if pending >= 1000 || buf.len() >= 64 * 1024 {
            flush(c, &mut buf, &mut pending, &mut out);
        }
    }
    flush(c, &mut buf, &mut pending, &mut out);
    out
}

/// Pipelines commands that must all reply `+OK` (or an integer, for list pushes and DEL).
fn pipeline_no_errors<I: IntoIterator<Item = Vec<Vec<u8>>>>(c: &mut Conn, cmds: I) {
    for r in pipeline(c, cmds) {
        assert!(!r.is_error(), "a pipelined write failed: {r:?}");
    }
}

/// SETs `key -> value` for every pair, pipelined.
fn set_all<'a>(c: &mut Conn, pairs: impl IntoIterator<Item = (&'a String, &'a String)>) {
    pipeline_no_errors(
        c,
        pairs
            .into_iter()
            .map(|(k, v)| cmd(&["SET", k.as_str(), v.as_str()])),
    );
}

/// The value of `field` in `INFO persistence`.
fn info_field(c: &mut Conn, field: &str) -> String {
    let text = c.cmd(&["INFO", "persistence"]).text();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            return v.trim().to_string();
        }
    }
    panic!("INFO persistence has no {field}:\n{text}");
}

fn info_int(c: &mut Conn, field: &str) -> i64 {
    let v = info_field(c, field);
    v.parse()
        .unwrap_or_else(|_| panic!("INFO {field} is not an integer: {v:?}"))
}

/// Polls INFO until no background save runs (bounded); returns `rdb_last_bgsave_status`.
fn wait_bgsave_done(s: &Server, c: &mut Conn) -> String {
    let done = wait_until(WAIT, POLL, || info_int(c, "rdb_bgsave_in_progress") == 0);
    assert!(
        done,
        "a background save still runs after {WAIT:?}; output:\n{}",
        s.output()
    );
    info_field(c, "rdb_last_bgsave_status")
}

fn lastsave(c: &mut Conn) -> i64 {
    c.cmd(&["LASTSAVE"]).int()
}

/// Stops the server with SIGKILL (no final save), hands back its directory and restarts a server
/// there with `opts` (panicking with the output if it does not start).
fn kill_and_start(mut s: Server, opts: Opts) -> Server {
    s.kill();
    let dir = s.into_dir();
    Server::start_in_dir(dir, opts)
}

/// Waits (bounded) for a server that was told to exit, asserting it exits with status 0.
fn assert_exits_zero(s: &mut Server) {
    let status = s.wait_exit();
    assert!(
        status.success(),
        "exit status {status:?}; output:\n{}",
        s.output()
    );
}

/// Names of the entries of `dir`, sorted.
fn list_dir(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn tmp_files(dir: &Path) -> Vec<String> {
    list_dir(dir)
        .into_iter()
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// Shard files (`dump-*.rdb`, not `.tmp`) in `dir`.
fn shard_files(dir: &Path) -> Vec<String> {
    list_dir(dir)
        .into_iter()
        .filter(|n| n.starts_with("dump-") && n.ends_with(".rdb"))
        .collect()
}

/// Every regular file of `dir` with its bytes.
fn snapshot_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    list_dir(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// A new temporary directory holding copies of the regular files of `from`.
fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::TempDir::new().expect("temp dir");
    for name in list_dir(from) {
        let p = from.join(&name);
        if p.is_file() {
            std::fs::copy(&p, to.path().join(&name)).unwrap();
        }
    }
    to
}

fn is_hex16(s: &str) -> bool {
    s.len() == 16
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One `file` line of the manifest.
#[derive(Clone, Debug)]
struct ManifestFile {
    index: usize,
    name: String,
    size: u64,
    keys: u64,
}

/// The manifest, parsed and checked against the documented format.
#[derive(Clone, Debug)]
struct Manifest {
    id: String,
    shards: usize,
    files: Vec<ManifestFile>,
}

fn read_manifest(dir: &Path) -> Manifest {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let bad = |why: &str| -> ! { panic!("manifest {}: {why}:\n{text}", path.display()) };
    if lines.len() < 6 {
        bad("too short");
    }
    if lines[0] != "redis-lite-manifest 1" {
        bad("line 1 is not `redis-lite-manifest 1`");
    }
    let field = |line: &str, name: &str| -> String {
        match line.strip_prefix(name).and_then(|r| r.strip_prefix(' ')) {
            Some(v) => v.to_string(),
            None => bad(&format!("expected `{name} ...`, got {line:?}")),
        }
    };
    let id = field(lines[1], "id");
    if !is_hex16(&id) {
        bad("the id is not 16 lowercase hex digits");
    }
    let created: i64 = field(lines[2], "created_ms")
        .parse()
        .unwrap_or_else(|_| bad("created_ms is not a number"));
    let now = now_ms();
    if !(now - 3_600_000..=now + 60_000).contains(&created) {
        bad("created_ms is not a recent unix time in ms");
    }
    let shards: usize = field(lines[3], "shards")
        .parse()
        .unwrap_or_else(|_| bad("shards is not a number"));
    if lines.len() != 4 + shards + 1 {
        bad("expected one `file` line per shard then `checksum`");
    }
    let mut files = Vec::new();
    for (i, line) in lines[4..4 + shards].iter().enumerate() {
        let rest = field(line, "file");
        let parts: Vec<&str> = rest.split(' ').collect();
        if parts.len() != 5 {
            bad(&format!("file line {line:?} does not have 5 fields"));
        }
        let index: usize = parts[0].parse().unwrap_or_else(|_| bad("bad file index"));
        if index != i {
            bad("file lines are not in shard order");
        }
        let want_name = format!("dump-{i}-of-{shards}.{id}.rdb");
        if parts[1] != want_name {
            bad(&format!("file name {:?}, expected {want_name:?}", parts[1]));
        }
        let size: u64 = parts[2].parse().unwrap_or_else(|_| bad("bad file size"));
        if !is_hex16(parts[3]) {
            bad("file crc is not 16 lowercase hex digits");
        }
        let keys: u64 = parts[4].parse().unwrap_or_else(|_| bad("bad key count"));
        files.push(ManifestFile {
            index,
            name: parts[1].to_string(),
            size,
            keys,
        });
    }
    let checksum = field(lines[4 + shards], "checksum");
    if !is_hex16(&checksum) {
        bad("checksum is not 16 lowercase hex digits");
    }
    Manifest { id, shards, files }
}

/// Checks the manifest against the directory: every named file exists with the stated size and
/// is an RDB v10 file carrying the snapshot's AUX fields; no `.tmp` and no other shard file.
fn check_snapshot_files(dir: &Path) -> Manifest {
    let m = read_manifest(dir);
    for f in &m.files {
        let p = dir.join(&f.name);
        let data = std::fs::read(&p)
            .unwrap_or_else(|e| panic!("manifest names {}, unreadable: {e}", p.display()));
        assert_eq!(data.len() as u64, f.size, "size of {}", f.name);
        assert!(data.starts_with(b"REDIS0010"), "{} is not RDB v10", f.name);
        for needle in [
            b"redis-lite-snapshot".as_slice(),
            b"redis-lite-shards".as_slice(),
            b"redis-lite-shard".as_slice(),
            m.id.as_bytes(),
        ] {
            assert!(
                data.windows(needle.len()).any(|w| w == needle),
                "{} lacks {:?}",
                f.name,
                String::from_utf8_lossy(needle)
            );
        }
    }
    let named: BTreeSet<String> = m.files.iter().map(|f| f.name.clone()).collect();
    let present: BTreeSet<String> = shard_files(dir).into_iter().collect();
    assert_eq!(
        present, named,
        "shard files in the directory vs the manifest"
    );
    assert_eq!(tmp_files(dir), Vec::<String>::new(), ".tmp files left");
    m
}

// ----- keyspace dumps -----

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
}

#[derive(Clone, Debug)]
struct Entry {
    val: Val,
    pttl: i64,
}

/// (db, key) -> value and PTTL.
type Dump = BTreeMap<(usize, Vec<u8>), Entry>;

fn select(c: &mut Conn, db: usize) {
    assert_eq!(c.cmd(&["SELECT", &db.to_string()]), ok(), "SELECT {db}");
}

/// Reads every key of the 16 databases (KEYS, TYPE, GET/LRANGE, PTTL), checking that KEYS
/// lists each key once and agrees with DBSIZE. Leaves the connection on DB 0.
fn dump_keyspace(c: &mut Conn) -> Dump {
    let mut out = Dump::new();
    for db in 0..16 {
        select(c, db);
        let keys: Vec<Vec<u8>> = c
            .cmd(&["KEYS", "*"])
            .items()
            .iter()
            .map(|r| r.bytes().to_vec())
            .collect();
        let unique: BTreeSet<&Vec<u8>> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "KEYS * in db {db} repeats keys");
        assert_eq!(
            c.cmd(&["DBSIZE"]),
            int(keys.len() as i64),
            "DBSIZE of db {db} vs KEYS *"
        );
        let types = pipeline(c, keys.iter().map(|k| cmd(&[b"TYPE".as_slice(), k])));
        let reads = pipeline(
            c,
            keys.iter()
                .zip(&types)
                .map(|(k, t)| match t.text().as_str() {
                    "string" => cmd(&[b"GET".as_slice(), k]),
                    "list" => cmd(&[b"LRANGE".as_slice(), k, b"0", b"-1"]),
                    other => panic!(
                        "unexpected type {other} of {:?}",
                        String::from_utf8_lossy(k)
                    ),
                }),
        );
        let pttls = pipeline(c, keys.iter().map(|k| cmd(&[b"PTTL".as_slice(), k])));
        for (((k, t), v), p) in keys.into_iter().zip(types).zip(reads).zip(pttls) {
            let val = if t.text() == "string" {
                Val::Str(v.bytes().to_vec())
            } else {
                Val::List(v.items().iter().map(|r| r.bytes().to_vec()).collect())
            };
            out.insert((db, k), Entry { val, pttl: p.int() });
        }
    }
    select(c, 0);
    out
}

fn show_key(k: &(usize, Vec<u8>)) -> String {
    format!("db{}:{}", k.0, String::from_utf8_lossy(&k.1))
}

/// Asserts `after` holds exactly the keys and values of `before`; TTLs: persistent keys stay
/// persistent, and a volatile key's PTTL did not grow and shrank by at most `elapsed` (the time
/// from the start of the first dump to the end of the second) plus a little rounding.
fn assert_same_dump(before: &Dump, after: &Dump, elapsed: Duration, ctx: &str) {
    let bk: BTreeSet<_> = before.keys().collect();
    let ak: BTreeSet<_> = after.keys().collect();
    let missing: Vec<String> = bk.difference(&ak).take(10).map(|k| show_key(k)).collect();
    let extra: Vec<String> = ak.difference(&bk).take(10).map(|k| show_key(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{ctx}: key sets differ ({} before, {} after); missing (first 10): {missing:?}; \
         unexpected (first 10): {extra:?}",
        before.len(),
        after.len()
    );
    let slack = elapsed.as_millis() as i64 + 20;
    for (k, b) in before {
        let a = &after[k];
        if a.val != b.val {
            let short = |v: &Val| {
                let s = format!("{v:?}");
                s.chars().take(200).collect::<String>()
            };
            panic!(
                "{ctx}: value of {} differs:\n before {}\n after  {}",
                show_key(k),
                short(&b.val),
                short(&a.val)
            );
        }
        if b.pttl < 0 {
            assert_eq!(a.pttl, b.pttl, "{ctx}: PTTL of {}", show_key(k));
        } else {
            assert!(
                a.pttl > 0 && a.pttl <= b.pttl + 10 && a.pttl >= b.pttl - slack,
                "{ctx}: PTTL of {} was {} and is {} ({:?} elapsed)",
                show_key(k),
                b.pttl,
                a.pttl,
                elapsed
            );
        }
    }
}

/// Number of keys of `dump` that shard `i` of `n` owns.
fn keys_owned(dump: &Dump, i: usize, n: usize) -> u64 {
    dump.keys().filter(|(_, k)| shard_of(k, n) == i).count() as u64
}

/// A deterministic byte pattern that LZF cannot shrink much (an xorshift stream, all 256 values).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes the standard sample data: strings of every encoding Redis distinguishes (short, long,
/// compressible, binary, integer-looking, big integers, empty), lists (one item, 1000 items
/// with integers and a 20 KB element, binary items), keys in DB 0, 5 and 15, volatile keys, and
/// enough plain keys that every shard owns some. Leaves the connection on DB 0.
fn fill_sample(c: &mut Conn) {
    for db in [0usize, 5, 15] {
        select(c, db);
        let p = format!("d{db}:");
        let k = |s: &str| format!("{p}{s}");
        let strings: Vec<(String, Vec<u8>)> = vec![
            (k("short"), b"hello".to_vec()),
            (k("empty"), Vec::new()),
            (k("int"), b"12345".to_vec()),
            (k("neg"), b"-7".to_vec()),
            (k("zero"), b"0".to_vec()),
            (k("bigint"), b"12345678901234567890".to_vec()),
            (k("i64max"), b"9223372036854775807".to_vec()),
            (k("i64min"), b"-9223372036854775808".to_vec()),
            (k("leadzero"), b"007".to_vec()),
            (k("plus"), b"+5".to_vec()),
            (k("float"), b"1.5".to_vec()),
            (k("space"), b" 1".to_vec()),
            (k("bin"), (0..=255u8).collect()),
            (k("big-repetitive"), b"abcdefgh".repeat(100 * 1024 / 8)),
            (k("big-noise"), noise(100 * 1024, db as u64 + 1)),
            (k("medium"), b"x".repeat(21)),
            (format!("{{tag}}{p}hashtag"), b"tagged".to_vec()),
        ];
        pipeline_no_errors(
            c,
            strings
                .iter()
                .map(|(key, v)| cmd(&[b"SET".as_slice(), key.as_bytes(), v.as_slice()])),
        );
        assert_eq!(c.cmd(&["RPUSH", &k("list1"), "only"]), int(1));
        let mut long: Vec<Vec<u8>> = Vec::new();
        for i in 0..1000i64 {
            long.push(match i % 4 {
                0 => i.to_string().into_bytes(),
                1 => (-i * 1_000_003).to_string().into_bytes(),
                2 => format!("item-{i}").into_bytes(),
                _ => format!("{}", i64::MAX - i).into_bytes(),
            });
        }
        long[500] = b"L".repeat(20 * 1024);
        long[501] = noise(3000, 99);
        long[502] = Vec::new();
        let mut rpush = vec![b"RPUSH".to_vec(), k("list1000").into_bytes()];
        rpush.extend(long.iter().cloned());
        assert_eq!(c.cmd(&rpush), int(1000));
        assert_eq!(
            c.cmd(&["LPUSH", &k("list-bin"), "\u{0}\r\n", "-1", "x"]),
            int(3)
        );
        // Volatile keys: a string with PX, a list with PEXPIRE, one with a long TTL.
        assert_eq!(c.cmd(&["SET", &k("ttl-str"), "v", "PX", "600000"]), ok());
        assert_eq!(c.cmd(&["RPUSH", &k("ttl-list"), "a", "1", "b"]), int(3));
        assert_eq!(c.cmd(&["PEXPIRE", &k("ttl-list"), "300000"]), int(1));
        assert_eq!(
            c.cmd(&["SET", &k("ttl-long"), "12", "EX", "86400000"]),
            ok()
        );
        pipeline_no_errors(
            c,
            (0..200).map(|i| cmd(&["SET", &format!("{p}many:{i}"), &format!("value-{i}")])),
        );
    }
    select(c, 0);
}

// ----- bounded external commands and a real redis-server -----

/// Runs `cmd` with a time limit; returns (status, stdout + stderr).
fn run_bounded(mut cmd: Command, limit: Duration) -> (ExitStatus, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
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
            panic!("{:?} did not finish within {limit:?}", cmd.get_program());
        }
        std::thread::sleep(POLL);
    };
    (status, out_t.join().unwrap() + &err_t.join().unwrap())
}

fn tool(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin").join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} is not installed", p.display());
        None
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().unwrap().port()
}

/// A real redis-server 7.0 in its own temporary directory; SIGKILLed (by PID) on drop.
struct RealRedis {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl RealRedis {
    /// Starts redis-server in `dir` loading `dbfilename` if present; ready once PING answers.
    fn start(dir: tempfile::TempDir, dbfilename: &str) -> Result<RealRedis, String> {
        let log = dir.path().join("redis-server.log");
        let port = free_port();
        let child = Command::new("/usr/bin/redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--databases", "16"])
            .arg("--dir")
            .arg(dir.path())
            .args(["--dbfilename", dbfilename])
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn redis-server: {e}"))?;
        let mut r = RealRedis {
            child: Some(child),
            port,
            dir,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(st)) = r.child.as_mut().unwrap().try_wait() {
                r.child = None;
                return Err(format!("redis-server exited ({st}): {}", r.log()));
            }
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let mut c = Conn::new(s);
                if let Ok(Some(reply)) = {
                    c.send_cmd(&["PING"]);
                    c.try_read_reply()
                } {
                    if reply == simple("PONG") {
                        return Ok(r);
                    }
                }
            }
            if Instant::now() > deadline {
                return Err(format!("redis-server not ready in {WAIT:?}: {}", r.log()));
            }
            std::thread::sleep(POLL);
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis-server.log")).unwrap_or_default()
    }

    fn conn(&self) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect redis-server");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Conn::new(s)
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Round trip
// ---------------------------------------------------------------------------------------------

/// SAVE, then restart (SIGTERM + start in the same dir): every key, value, type and TTL is back.
/// With save points the SIGTERM saves again (so a key written after SAVE is kept); without
/// (`--save ""`) only the explicit SAVE counts (so it is not).
fn round_trip(opts: Opts, save_points: bool) {
    skip_on_real_redis!();
    let shards = opts.shards;
    let mut s = Server::start(opts);
    let mut c = s.conn();
    fill_sample(&mut c);
    let t0 = Instant::now();
    let before = dump_keyspace(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let m = check_snapshot_files(s.dir());
    assert_eq!(m.shards, shards);
    for f in &m.files {
        assert_eq!(
            f.keys,
            keys_owned(&before, f.index, shards),
            "manifest key count of shard {}",
            f.index
        );
    }
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 0);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert!(info_int(&mut c, "rdb_saves") >= 1);
    assert_eq!(c.cmd(&["SET", "after-save", "x"]), ok());
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 1);
    drop(c);

    let status = s.restart();
    assert!(status.success(), "stop: {status:?}\n{}", s.output());
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["GET", "after-save"]),
        if save_points { bulk("x") } else { nil() },
        "a key written after SAVE, then SIGTERM (save points: {save_points})"
    );
    assert!(!c.cmd(&["DEL", "after-save"]).is_error());
    let after = dump_keyspace(&mut c);
    assert_same_dump(&before, &after, t0.elapsed(), "after restart");
    if !save_points {
        assert_eq!(
            info_int(&mut c, "rdb_last_load_keys_loaded"),
            before.len() as i64
        );
        assert_eq!(info_int(&mut c, "rdb_last_load_keys_expired"), 0);
    }
    // Saving and restarting again is stable.
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    let t1 = Instant::now();
    s.restart();
    let mut c = s.conn();
    let again = dump_keyspace(&mut c);
    assert_same_dump(
        &after,
        &again,
        t1.elapsed() + t0.elapsed(),
        "second restart",
    );
}

#[test]
fn round_trip_one_shard() {
    round_trip(Opts::shards(1), true);
}

#[test]
fn round_trip_two_shards() {
    round_trip(Opts::shards(2), true);
}

#[test]
fn round_trip_one_shard_without_save_points() {
    round_trip(no_save_points(1), false);
}

#[test]
fn round_trip_two_shards_without_save_points() {
    round_trip(no_save_points(2), false);
}

/// The snapshot files are named and laid out as documented, and a new save replaces the old
/// files (new id, old files deleted).
#[test]
fn snapshot_files_and_manifest_format() {
    skip_on_real_redis!();
    let s = Server::start(no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let m1 = check_snapshot_files(s.dir());
    assert_eq!(m1.shards, 2);
    assert_eq!(m1.files.len(), 2);
    let mut names = list_dir(s.dir());
    names.retain(|n| n != MANIFEST && !m1.files.iter().any(|f| &f.name == n));
    assert_eq!(names, Vec::<String>::new(), "unexpected files");
    assert_eq!(c.cmd(&["SET", "b", "2"]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let m2 = check_snapshot_files(s.dir());
    assert_ne!(m1.id, m2.id, "every save has a new id");
    for f in &m1.files {
        assert!(
            !s.dir().join(&f.name).exists(),
            "the previous snapshot's {} was not deleted",
            f.name
        );
    }
    assert_eq!(m2.files.iter().map(|f| f.keys).sum::<u64>(), 2);
}

// ---------------------------------------------------------------------------------------------
// 2. Re-sharding
// ---------------------------------------------------------------------------------------------

/// A snapshot of 2 shards loads into 3 (keys re-routed to their owners), which on SIGTERM saves
/// 3 files; those load into 1 shard. Every key is present exactly once each time.
#[test]
fn snapshot_loads_with_another_shard_count() {
    skip_on_real_redis!();
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    fill_sample(&mut c);
    pipeline_no_errors(
        &mut c,
        (0..3000).map(|i| cmd(&["SET", &format!("re:{i}"), &format!("{i}")])),
    );
    pipeline_no_errors(
        &mut c,
        (0..300).map(|i| cmd(&["RPUSH", &format!("rl:{i}"), &format!("{i}"), "x"])),
    );
    let t0 = Instant::now();
    let before = dump_keyspace(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);

    // 2 -> 3 shards.
    let mut s = kill_and_start(s, Opts::shards(3));
    let mut c = s.conn();
    let three = dump_keyspace(&mut c);
    assert_same_dump(&before, &three, t0.elapsed(), "2 -> 3 shards");
    assert_eq!(
        info_int(&mut c, "rdb_last_load_keys_loaded"),
        before.len() as i64
    );
    // Each shard answers for its own keys: a write to every key through the owner works.
    for (db, key) in three.keys().take(50) {
        select(&mut c, *db);
        assert_eq!(c.cmd(&[b"EXISTS".as_slice(), key]), int(1));
    }
    select(&mut c, 0);
    drop(c);
    // SIGTERM with the default save points writes a 3-shard snapshot.
    let status = s.stop_gracefully();
    assert!(status.success(), "{status:?}\n{}", s.output());
    let m = check_snapshot_files(s.dir());
    assert_eq!(m.shards, 3, "the final save is a 3-shard snapshot");
    for f in &m.files {
        assert_eq!(
            f.keys,
            keys_owned(&before, f.index, 3),
            "keys of shard {}",
            f.index
        );
    }

    // 3 -> 1 shard.
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, no_save_points(1));
    let mut c = s.conn();
    let one = dump_keyspace(&mut c);
    assert_same_dump(&before, &one, t0.elapsed(), "3 -> 1 shard");
    drop(c);

    // 1 -> 2 again, from a 1-shard snapshot.
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    let s = kill_and_start(s, no_save_points(2));
    let mut c = s.conn();
    let two = dump_keyspace(&mut c);
    assert_same_dump(&before, &two, t0.elapsed(), "1 -> 2 shards");
}

// ---------------------------------------------------------------------------------------------
// 3. Shard files are valid Redis RDB files
// ---------------------------------------------------------------------------------------------

fn check_files_with_redis_tools(s: &Server, dump: &Dump, check_rdb: &Path, ctx: &str) {
    let m = check_snapshot_files(s.dir());
    for f in &m.files {
        let path = s.dir().join(&f.name);
        let (status, out) = run_bounded(
            {
                let mut c = Command::new(check_rdb);
                c.arg(&path);
                c
            },
            Duration::from_secs(30),
        );
        assert!(
            status.success(),
            "{ctx}: redis-check-rdb {} failed ({status:?}):\n{out}",
            path.display()
        );
        if tool("redis-server").is_none() {
            continue;
        }
        // redis-server loads the shard file alone: exactly the keys that shard owns.
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::copy(&path, dir.path().join(&f.name)).unwrap();
        let t0 = Instant::now();
        let redis = RealRedis::start(dir, &f.name)
            .unwrap_or_else(|e| panic!("{ctx}: redis-server cannot load {}: {e}", f.name));
        let mut rc = redis.conn();
        let loaded = dump_keyspace(&mut rc);
        let want: Dump = dump
            .iter()
            .filter(|((_, k), _)| shard_of(k, m.shards) == f.index)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert!(!want.is_empty(), "shard {} owns no sample key", f.index);
        assert_same_dump(
            &want,
            &loaded,
            t0.elapsed() + Duration::from_secs(60),
            &format!("{ctx}: redis-server loading {}", f.name),
        );
    }
}

#[test]
fn shard_files_pass_redis_check_rdb_and_load_into_redis_server() {
    skip_on_real_redis!();
    let Some(check_rdb) = tool("redis-check-rdb") else {
        return;
    };
    let s = Server::start(no_save_points(2));
    let mut c = s.conn();
    fill_sample(&mut c);
    let dump = dump_keyspace(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    check_files_with_redis_tools(&s, &dump, &check_rdb, "rdbcompression yes");
    let compressed: u64 = read_manifest(s.dir()).files.iter().map(|f| f.size).sum();

    assert_eq!(c.cmd(&["CONFIG", "SET", "rdbcompression", "no"]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    check_files_with_redis_tools(&s, &dump, &check_rdb, "rdbcompression no");
    let plain: u64 = read_manifest(s.dir()).files.iter().map(|f| f.size).sum();
    // The sample has 3 x 100 KB of repetitive text: LZF must have made a difference.
    assert!(
        plain > compressed + 200_000,
        "compressed {compressed} bytes, uncompressed {plain} bytes"
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdbcompression", "yes"]), ok());
}

#[test]
fn rdbcompression_no_from_the_command_line() {
    skip_on_real_redis!();
    let s = Server::start(no_save_points(2).arg("--rdbcompression").arg("no"));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", &"z".repeat(100_000)]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let size: u64 = read_manifest(s.dir()).files.iter().map(|f| f.size).sum();
    assert!(size > 100_000, "uncompressed snapshot is only {size} bytes");
    drop(c);
    let s = kill_and_start(s, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "k"]), bulk("z".repeat(100_000)));
}

// ---------------------------------------------------------------------------------------------
// 4. Loading a dump.rdb written by redis-server 7.0
// ---------------------------------------------------------------------------------------------

#[test]
fn loads_a_dump_written_by_redis_server() {
    skip_on_real_redis!();
    if tool("redis-server").is_none() {
        return;
    }
    let mut redis = RealRedis::start(tempfile::TempDir::new().unwrap(), "dump.rdb")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = redis.conn();
    for db in [0usize, 3] {
        select(&mut c, db);
        let p = format!("r{db}:");
        let k = |s: &str| format!("{p}{s}");
        let strings: Vec<(String, Vec<u8>)> = vec![
            (k("short"), b"hello".to_vec()),
            (k("empty"), Vec::new()),
            (k("int"), b"12345".to_vec()),
            (k("int8"), b"-7".to_vec()),
            (k("int16"), b"-30000".to_vec()),
            (k("int32"), b"2000000000".to_vec()),
            (k("int64"), b"9000000000000".to_vec()),
            (k("bigint"), b"12345678901234567890".to_vec()),
            (k("leadzero"), b"0123".to_vec()),
            (k("lzf"), b"the quick brown fox ".repeat(2000)),
            (k("lzf-short"), b"ab".repeat(20)),
            (k("noise"), noise(50_000, 7)),
        ];
        pipeline_no_errors(
            &mut c,
            strings
                .iter()
                .map(|(key, v)| cmd(&[b"SET".as_slice(), key.as_bytes(), v.as_slice()])),
        );
        assert_eq!(
            c.cmd(&["RPUSH", &k("small"), "1", "a", "-5", "xyz"]),
            int(4)
        );
        let mut big = vec![b"RPUSH".to_vec(), k("big").into_bytes()];
        for i in 0..10_000i64 {
            big.push(if i % 2 == 0 {
                (i * 7919 - 40_000).to_string().into_bytes()
            } else {
                format!("element-{i}").into_bytes()
            });
        }
        big[2 + 5000] = b"E".repeat(20 * 1024);
        assert_eq!(c.cmd(&big), int(10_000));
        assert_eq!(c.cmd(&["PEXPIRE", &k("int"), "500000"]), int(1));
        assert_eq!(c.cmd(&["PEXPIRE", &k("small"), "400000"]), int(1));
        assert_eq!(c.cmd(&["SET", &k("soon"), "gone", "PX", "1500"]), ok());
        pipeline_no_errors(
            &mut c,
            (0..500).map(|i| cmd(&["SET", &format!("{p}n:{i}"), &format!("{}", i * 3)])),
        );
    }
    select(&mut c, 0);
    let soon_deadline = now_ms() + 1500;
    let t0 = Instant::now();
    let mut want = dump_keyspace(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    redis.kill();
    for db in [0usize, 3] {
        assert!(want
            .remove(&(db, format!("r{db}:soon").into_bytes()))
            .is_some());
    }
    let dump = redis.dir.path().join("dump.rdb");
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::copy(&dump, dir.path().join("dump.rdb")).unwrap();
    // Let the short TTLs pass: those keys must not be loaded.
    let left = soon_deadline + 100 - now_ms();
    if left > 0 {
        std::thread::sleep(Duration::from_millis(left as u64));
    }
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    let got = dump_keyspace(&mut c);
    assert_same_dump(
        &want,
        &got,
        t0.elapsed(),
        "redis-server dump.rdb in redis-lite",
    );
    assert_eq!(
        info_int(&mut c, "rdb_last_load_keys_loaded"),
        want.len() as i64
    );
    assert_eq!(info_int(&mut c, "rdb_last_load_keys_expired"), 2);
    // It saves in its own format and loads that next time.
    assert_eq!(c.cmd(&["SAVE"]), ok());
    check_snapshot_files(s.dir());
    drop(c);
    let s = kill_and_start(s, no_save_points(2));
    let mut c = s.conn();
    let again = dump_keyspace(&mut c);
    assert_same_dump(&want, &again, t0.elapsed(), "re-saved by redis-lite");
}

/// Writes, with a real redis-server, a dump.rdb holding `plain` and whatever `write` adds;
/// starts redis-lite on a copy and expects it to refuse with a line naming `needles`.
fn redis_dump_is_refused(write: impl FnOnce(&mut Conn), needles: &[&str]) {
    let mut redis = RealRedis::start(tempfile::TempDir::new().unwrap(), "dump.rdb")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = redis.conn();
    assert_eq!(c.cmd(&["SET", "plain", "v"]), ok());
    write(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    redis.kill();
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::copy(
        redis.dir.path().join("dump.rdb"),
        dir.path().join("dump.rdb"),
    )
    .unwrap();
    match Server::try_start_in_dir(dir, no_save_points(2)) {
        Ok(s) => panic!(
            "redis-lite started on a dump with an unsupported type:\n{}",
            s.output()
        ),
        Err((e, dir)) => {
            assert_start_refused(&e, needles);
            assert!(dir.path().join("dump.rdb").exists(), "the dump was removed");
        }
    }
}

/// `ZRANGE key 0 -1 WITHSCORES` as (member, score) pairs.
fn zrange_with_scores(c: &mut Conn, key: &str) -> Vec<(Vec<u8>, f64)> {
    let r = c.cmd(&["ZRANGE", key, "0", "-1", "WITHSCORES"]);
    r.items()
        .chunks(2)
        .map(|p| {
            let score = p[1].text();
            let score = score
                .parse::<f64>()
                .unwrap_or_else(|e| panic!("score {score:?} of {key}: {e}"));
            (p[0].bytes().to_vec(), score)
        })
        .collect()
}

/// Sorted sets written by redis-server 7.0 load with every member and score: a small one (a
/// listpack: integer, fractional, infinite and -0 scores, ties, empty and binary members), one
/// with a member too long for a listpack and one of 1000 members (both RDB_TYPE_ZSET_2, which
/// Redis writes from the highest score down). The commands test file (tests/zsets.rs) covers
/// the commands themselves.
#[test]
fn a_redis_dump_with_zsets_loads() {
    skip_on_real_redis!();
    if tool("redis-server").is_none() {
        return;
    }
    let mut redis = RealRedis::start(tempfile::TempDir::new().unwrap(), "dump.rdb")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut c = redis.conn();
    assert_eq!(c.cmd(&["SET", "plain", "v"]), ok());
    let small: Vec<(&[u8], &str)> = vec![
        (b"a", "1"),
        (b"b", "1"),
        (b"", "-inf"),
        (b"top", "+inf"),
        (b"neg", "-2.5"),
        (b"zero", "-0"),
        (b"frac", "0.1"),
        (b"huge", "1e300"),
        (b"\x00\xffbin", "12345678901234567890"),
    ];
    let long_member = "L".repeat(100);
    let long: Vec<(&[u8], &str)> = vec![(long_member.as_bytes(), "3"), (b"y", "4")];
    let big_members: Vec<(Vec<u8>, String)> = (0..1000i64)
        .map(|i| {
            let score = (i * 7919 % 1000) as f64 / 8.0 - 50.0;
            (format!("member-{i}").into_bytes(), format!("{score}"))
        })
        .collect();
    let big: Vec<(&[u8], &str)> = big_members
        .iter()
        .map(|(m, s)| (m.as_slice(), s.as_str()))
        .collect();
    let sets = [("z-small", &small), ("z-long", &long), ("z-big", &big)];
    let mut want = Vec::new();
    for (key, items) in sets {
        let mut args: Vec<&[u8]> = vec![b"ZADD", key.as_bytes()];
        for (m, s) in items.iter() {
            args.extend([s.as_bytes(), *m]);
        }
        assert_eq!(c.cmd(&args), int(items.len() as i64), "ZADD {key}");
        let got = zrange_with_scores(&mut c, key);
        assert_eq!(got.len(), items.len());
        want.push((key, got));
    }
    assert_eq!(c.cmd(&["SAVE"]), ok());
    redis.kill();
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::copy(
        redis.dir.path().join("dump.rdb"),
        dir.path().join("dump.rdb"),
    )
    .unwrap();
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    let check = |c: &mut Conn, ctx: &str| {
        assert_eq!(c.cmd(&["DBSIZE"]), int(1 + want.len() as i64), "{ctx}");
        assert_eq!(c.cmd(&["GET", "plain"]), bulk("v"), "{ctx}");
        for (key, items) in &want {
            assert_eq!(c.cmd(&["TYPE", key]), simple("zset"), "{ctx}: {key}");
            assert_eq!(c.cmd(&["ZCARD", key]), int(items.len() as i64), "{ctx}");
            // Order and scores as Redis had them (-0 == 0: Redis's listpack keeps it as 0).
            assert_eq!(&zrange_with_scores(c, key), items, "{ctx}: {key}");
            for (m, score) in items {
                let r = c.cmd(&[b"ZSCORE".as_slice(), key.as_bytes(), m]);
                assert_eq!(r.text().parse::<f64>().ok(), Some(*score), "{ctx}: {key}");
            }
        }
    };
    check(&mut c, "redis-server dump.rdb in redis-lite");
    assert_eq!(info_int(&mut c, "rdb_last_load_keys_loaded"), 4);
    // Saved in redis-lite's own format, they load again.
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    let s = kill_and_start(s, no_save_points(2));
    let mut c = s.conn();
    check(&mut c, "re-saved by redis-lite");
}

/// A big sorted set (1000 members: RDB_TYPE_ZSET_2) and a small one (a listpack) survive SAVE
/// and a restart: same members, scores and order.
#[test]
fn zsets_survive_save_and_restart() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    let mut big = vec!["ZADD".to_string(), "zbig".to_string()];
    for i in 0..1000 {
        // Ties (37 distinct scores) order by member.
        big.push(format!("{}", f64::from(i % 37) * 0.5 - 3.0));
        big.push(format!("m{i}"));
    }
    big.extend(["+inf".into(), "x".repeat(80), "-inf".into(), "first".into()]);
    assert_eq!(c.cmd(&big), int(1002));
    assert_eq!(
        c.cmd(&["ZADD", "zsmall", "-inf", "a", "1.5", "b", "1.5", "c", "+inf", "d", "-7", "e"]),
        int(5)
    );
    let keys = ["zbig", "zsmall"];
    let before: Vec<_> = keys.iter().map(|k| zrange_with_scores(&mut c, k)).collect();
    assert_eq!(before[0].len(), 1002);
    assert_eq!(before[0][0].0, b"first");
    assert_eq!(before[1].len(), 5);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    let status = s.restart();
    assert!(status.success(), "stop: {status:?}\n{}", s.output());
    let mut c = s.conn();
    for (k, want) in keys.iter().zip(&before) {
        assert_eq!(c.cmd(&["TYPE", k]), simple("zset"));
        assert_eq!(c.cmd(&["ZCARD", k]), int(want.len() as i64));
        assert_eq!(&zrange_with_scores(&mut c, k), want, "{k} after restart");
    }
    assert_eq!(c.cmd(&["ZSCORE", "zbig", "m36"]), bulk("15"));
    assert_eq!(c.cmd(&["ZSCORE", "zsmall", "b"]), bulk("1.5"));
}

#[test]
fn a_redis_dump_with_a_stream_is_refused() {
    skip_on_real_redis!();
    if tool("redis-server").is_none() {
        return;
    }
    redis_dump_is_refused(
        |c| {
            assert_eq!(
                c.cmd(&["XADD", "the-stream-key", "1-1", "f", "v"]),
                bulk("1-1")
            )
        },
        &["dump.rdb", "stream", "the-stream-key"],
    );
}

/// The start failed the documented way: a non-zero exit before the ready line (try_start* only
/// return Err without it), one line saying `cannot load the snapshot:` that contains `needles`.
fn assert_start_refused(e: &StartError, needles: &[&str]) {
    let status = e
        .status
        .unwrap_or_else(|| panic!("the server did not exit:\n{}", e.output));
    assert!(!status.success(), "exit status {status:?}:\n{}", e.output);
    assert!(
        !e.output.contains("Ready to accept connections"),
        "printed the ready line:\n{}",
        e.output
    );
    let line = e
        .output
        .lines()
        .find(|l| l.contains("cannot load the snapshot:"))
        .unwrap_or_else(|| panic!("no `cannot load the snapshot:` line:\n{}", e.output));
    for n in needles {
        assert!(
            line.contains(n),
            "the error line does not mention {n:?}: {line}\nfull output:\n{}",
            e.output
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Crash safety
// ---------------------------------------------------------------------------------------------

/// The expected contents of DB 0 in the crash test.
type Model = HashMap<String, String>;

fn check_model(c: &mut Conn, model: &Model, ctx: &str) {
    assert_eq!(c.cmd(&["DBSIZE"]), int(model.len() as i64), "{ctx}: DBSIZE");
    let keys: Vec<&String> = model.keys().collect();
    let replies = pipeline(
        c,
        keys.chunks(500).map(|ch| {
            let mut v = vec![b"MGET".to_vec()];
            v.extend(ch.iter().map(|k| k.as_bytes().to_vec()));
            v
        }),
    );
    let mut mismatches = Vec::new();
    for (ch, r) in keys.chunks(500).zip(replies) {
        for (k, got) in ch.iter().zip(r.items()) {
            let want = bulk(model[*k].as_bytes());
            if *got != want && mismatches.len() < 10 {
                mismatches.push(format!("{k}: want {want:?}, got {got:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{ctx}: {mismatches:?}");
}

#[test]
fn crash_during_save_leaves_old_or_new_snapshot() {
    skip_on_real_redis!();
    const N: usize = 300_000;
    let opts = no_save_points(2);
    let markers: Vec<String> = keys_per_shard("marker:", 2, 1)
        .into_iter()
        .flatten()
        .collect();
    let mut s = Server::start(opts.clone());
    let mut c = s.conn();
    let mut model: Model = (0..N)
        .map(|i| (format!("k:{i}"), format!("v0:{i}")))
        .collect();
    for m in &markers {
        model.insert(m.clone(), "r0".into());
    }
    set_all(&mut c, model.iter());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);

    // (delay before SIGKILL, use BGSAVE)
    let plans = [
        (0u64, false),
        (2, true),
        (5, false),
        (10, true),
        (20, false),
        (40, true),
        (60, false),
        (80, true),
        (120, false),
    ];
    let mut outcomes = Vec::new();
    for (round, &(delay_ms, background)) in plans.iter().enumerate() {
        let r = round + 1;
        // The next state: markers, every 7th key, a few deletions and new keys.
        let mut next = model.clone();
        let mut writes: Vec<Vec<Vec<u8>>> = Vec::new();
        for m in &markers {
            next.insert(m.clone(), format!("r{r}"));
        }
        for i in (r..N).step_by(7) {
            next.insert(format!("k:{i}"), format!("v{r}:{i}"));
        }
        let dels: Vec<String> = (r * 13..N)
            .step_by(997)
            .map(|i| format!("k:{i}"))
            .filter(|k| next.contains_key(k))
            .collect();
        for k in &dels {
            next.remove(k);
            writes.push(cmd(&["DEL", k.as_str()]));
        }
        for j in 0..1000 {
            next.insert(format!("n{r}:{j}"), format!("{j}"));
        }
        let mut c = s.conn();
        pipeline_no_errors(
            &mut c,
            next.iter()
                .filter(|(k, v)| model.get(*k) != Some(*v))
                .map(|(k, v)| cmd(&["SET", k.as_str(), v.as_str()]))
                .chain(writes),
        );
        assert_eq!(c.cmd(&["DBSIZE"]), int(next.len() as i64));
        // Save from another connection, and kill the server a moment later.
        let mut saver = s.conn();
        saver.send_cmd(&[if background { "BGSAVE" } else { "SAVE" }]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        s.kill();
        drop((c, saver));
        // What the kill interrupted: `.tmp` files, or files of a new snapshot not yet committed.
        let on_disk = list_dir(s.dir());
        let interrupted = on_disk.iter().filter(|n| n.ends_with(".tmp")).count();
        let shard_files_now = shard_files(s.dir()).len();
        let log = s.output();
        let dir = s.into_dir();
        s = Server::start_in_dir(dir, opts.clone());
        // No leftovers, and only the manifest's files.
        assert_eq!(
            tmp_files(s.dir()),
            Vec::<String>::new(),
            "round {r}: .tmp left"
        );
        check_snapshot_files(s.dir());
        let mut c = s.conn();
        let seen: Vec<Reply> = markers
            .iter()
            .map(|m| c.cmd(&["GET", m.as_str()]))
            .collect();
        let old = bulk(model[&markers[0]].as_bytes());
        let new = bulk(format!("r{r}"));
        let outcome = if seen.iter().all(|v| *v == old) {
            "old"
        } else if seen.iter().all(|v| *v == new) {
            model = next;
            "new"
        } else {
            panic!(
                "round {r} ({delay_ms} ms, bgsave {background}): shards loaded different \
                 snapshots: markers {seen:?}\n{}",
                s.output()
            );
        };
        check_model(
            &mut c,
            &model,
            &format!("round {r} ({delay_ms} ms, bgsave {background}, {outcome} snapshot)"),
        );
        let saved_line = log
            .lines()
            .rev()
            .find(|l| l.contains("saved:"))
            .map(|l| l.split("INFO").last().unwrap_or(l).trim().to_string());
        outcomes.push(format!(
            "{delay_ms}ms/{}: {outcome} ({interrupted} .tmp and {shard_files_now} shard files \
             at the kill; last save log: {saved_line:?})",
            if background { "BGSAVE" } else { "SAVE" }
        ));
    }
    eprintln!("crash outcomes:\n{}", outcomes.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 6. Damaged snapshots are refused
// ---------------------------------------------------------------------------------------------

/// A directory holding a 2-shard snapshot (the server SIGKILLed after SAVE), plus the bytes of
/// the previous snapshot's shard files.
struct Damaged {
    base: tempfile::TempDir,
    earlier: Vec<(String, Vec<u8>)>,
    manifest: Manifest,
}

fn damaged_base() -> Damaged {
    let s = Server::start(no_save_points(2));
    let mut c = s.conn();
    pipeline_no_errors(
        &mut c,
        (0..3000).map(|i| {
            cmd(&[
                "SET",
                &format!("key:{i}"),
                &format!("value-{i}-{}", "p".repeat(i % 50)),
            ])
        }),
    );
    assert_eq!(c.cmd(&["RPUSH", "list", "a", "b", "c"]), int(3));
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let m1 = read_manifest(s.dir());
    let earlier = m1
        .files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                std::fs::read(s.dir().join(&f.name)).unwrap(),
            )
        })
        .collect();
    pipeline_no_errors(
        &mut c,
        (0..3000)
            .step_by(3)
            .map(|i| cmd(&["SET", &format!("key:{i}"), &format!("second-{i}")])),
    );
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    let mut s = s;
    s.kill();
    let manifest = check_snapshot_files(s.dir());
    Damaged {
        base: s.into_dir(),
        earlier,
        manifest,
    }
}

/// Copies the base snapshot, damages it with `f`, and expects the start to be refused with a
/// line mentioning `needles`; the snapshot's files are left in place.
fn expect_refused(d: &Damaged, what: &str, f: impl FnOnce(&Path), needles: &[&str]) {
    let dir = copy_dir(d.base.path());
    f(dir.path());
    let before = list_dir(dir.path());
    match Server::try_start_in_dir(dir, no_save_points(2)) {
        Ok(s) => panic!("{what}: the server started:\n{}", s.output()),
        Err((e, dir)) => {
            eprintln!("{what}: refused as expected");
            assert_start_refused(&e, needles);
            assert_eq!(
                list_dir(dir.path()),
                before,
                "{what}: a failed start changed the directory"
            );
        }
    }
}

#[test]
fn damaged_snapshots_are_refused() {
    skip_on_real_redis!();
    let d = damaged_base();
    let f0 = d.manifest.files[0].name.clone();
    let f1 = d.manifest.files[1].name.clone();

    // The undamaged copy loads (the copying itself is sound).
    {
        let s = Server::start_in_dir(copy_dir(d.base.path()), no_save_points(2));
        let mut c = s.conn();
        assert_eq!(c.cmd(&["DBSIZE"]), int(3001));
        assert_eq!(c.cmd(&["GET", "key:3"]), bulk("second-3"));
    }

    // (a) One byte flipped in the middle of a shard file.
    expect_refused(
        &d,
        "flipped byte",
        |dir| {
            let p = dir.join(&f1);
            let mut b = std::fs::read(&p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0x20;
            std::fs::write(&p, b).unwrap();
        },
        &["cannot load the snapshot:", &f1, "offset"],
    );
    // (b) Truncated by 10 bytes.
    expect_refused(
        &d,
        "truncated",
        |dir| {
            let p = dir.join(&f0);
            let b = std::fs::read(&p).unwrap();
            std::fs::write(&p, &b[..b.len() - 10]).unwrap();
        },
        &[&f0],
    );
    // (c) A shard file missing.
    expect_refused(
        &d,
        "missing file",
        |dir| std::fs::remove_file(dir.join(&f1)).unwrap(),
        &[&f1],
    );
    // (d) A shard file of the earlier snapshot renamed into place.
    let (old0, old_bytes) = d.earlier[0].clone();
    assert_ne!(old0, f0);
    expect_refused(
        &d,
        "file of another snapshot",
        |dir| std::fs::write(dir.join(&f0), &old_bytes).unwrap(),
        &[&f0],
    );
    // (e) The manifest damaged: one digit changed, or cut short.
    expect_refused(
        &d,
        "manifest digit changed",
        |dir| {
            let p = dir.join(MANIFEST);
            let t = std::fs::read_to_string(&p).unwrap();
            let at = t.find("created_ms ").unwrap() + "created_ms ".len();
            let mut b = t.into_bytes();
            b[at] = if b[at] == b'1' { b'2' } else { b'1' };
            std::fs::write(&p, b).unwrap();
        },
        &[MANIFEST],
    );
    expect_refused(
        &d,
        "manifest truncated",
        |dir| {
            let p = dir.join(MANIFEST);
            let b = std::fs::read(&p).unwrap();
            std::fs::write(&p, &b[..b.len() / 2]).unwrap();
        },
        &[MANIFEST],
    );
    expect_refused(
        &d,
        "manifest emptied",
        |dir| std::fs::write(dir.join(MANIFEST), b"").unwrap(),
        &[MANIFEST],
    );
}

/// A damaged plain `dump.rdb` (no manifest) is refused too, naming the file and the offset.
#[test]
fn damaged_plain_dump_is_refused() {
    skip_on_real_redis!();
    let d = damaged_base();
    // A shard file is a complete Redis RDB file: as the only dump.rdb it loads (its keys).
    let one = d.base.path().join(&d.manifest.files[0].name);
    let good = std::fs::read(&one).unwrap();
    {
        let dir = tempfile::TempDir::new().unwrap();
        std::fs::write(dir.path().join("dump.rdb"), &good).unwrap();
        let s = Server::start_in_dir(dir, no_save_points(2));
        let mut c = s.conn();
        assert_eq!(c.cmd(&["DBSIZE"]), int(d.manifest.files[0].keys as i64));
    }
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::write(dir.path().join("dump.rdb"), &good[..good.len() - 10]).unwrap();
    match Server::try_start_in_dir(dir, no_save_points(2)) {
        Ok(s) => panic!("started on a truncated dump.rdb:\n{}", s.output()),
        Err((e, _)) => assert_start_refused(&e, &["dump.rdb", "offset"]),
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Failing saves
// ---------------------------------------------------------------------------------------------

#[test]
fn failing_save_keeps_the_previous_snapshot_and_serving() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    pipeline_no_errors(
        &mut c,
        (0..1000).map(|i| cmd(&["SET", &format!("a:{i}"), "A"])),
    );
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let snapshot_a = snapshot_bytes(s.dir());
    let saves = info_int(&mut c, "rdb_saves");
    let last = lastsave(&mut c);
    assert_eq!(c.cmd(&["SET", "b", "B"]), ok());

    // Saving becomes impossible: the manifest's temporary name is taken by a directory.
    std::fs::create_dir(s.dir().join("dump.manifest.tmp")).unwrap();
    let r = c.cmd(&["SAVE"]);
    let e = r.error_text().to_string();
    assert!(
        e.starts_with("ERR ") && e.contains("dump.manifest"),
        "SAVE should fail naming the path, got {r:?}"
    );
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["SET", "c", "C"]), ok());
    assert_eq!(c.cmd(&["GET", "b"]), bulk("B"));
    s.assert_healthy();
    let check_untouched = |s: &Server, ctx: &str| {
        let now = snapshot_bytes(s.dir());
        for (name, bytes) in &snapshot_a {
            assert!(
                now.get(name) == Some(bytes),
                "{ctx}: {name} changed or vanished"
            );
        }
        let extra: Vec<&String> = now
            .keys()
            .filter(|n| !snapshot_a.contains_key(*n))
            .collect();
        assert_eq!(extra, Vec::<&String>::new(), "{ctx}: files left behind");
        let tmp_dirs = list_dir(s.dir());
        assert!(tmp_dirs.contains(&"dump.manifest.tmp".to_string()));
    };
    check_untouched(&s, "after the failed SAVE");
    assert_eq!(
        info_int(&mut c, "rdb_saves"),
        saves,
        "a failed save counted"
    );
    assert_eq!(lastsave(&mut c), last, "LASTSAVE moved on a failed save");
    assert!(info_int(&mut c, "rdb_changes_since_last_save") >= 2);

    // BGSAVE is accepted, then fails in the background.
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave_done(&s, &mut c), "err", "after a failed BGSAVE");
    check_untouched(&s, "after the failed BGSAVE");
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));

    // The failures left the previous snapshot loadable.
    drop(c);
    s.kill();
    let dir = s.into_dir();
    std::fs::remove_dir(dir.path().join("dump.manifest.tmp")).unwrap();
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DBSIZE"]), int(1000));
    assert_eq!(c.cmd(&["GET", "b"]), nil());
    // And once saving works again, the status recovers.
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave_done(&s, &mut c), "ok");
}

#[test]
fn save_into_a_removed_directory_fails_and_the_server_keeps_serving() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    std::fs::remove_dir_all(s.dir()).unwrap();
    let r = c.cmd(&["SAVE"]);
    let e = r.error_text().to_string();
    let dir = s.dir().display().to_string();
    assert!(
        e.starts_with("ERR ") && e.contains(&dir),
        "SAVE should fail naming the path ({dir}), got {r:?}"
    );
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave_done(&s, &mut c), "err");
    assert_eq!(c.cmd(&["SET", "k2", "v2"]), ok());
    s.assert_healthy();
    assert!(
        !s.dir().exists(),
        "the server re-created the removed directory"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. BGSAVE
// ---------------------------------------------------------------------------------------------

#[test]
fn bgsave_saves_the_state_at_its_start_while_writes_continue() {
    skip_on_real_redis!();
    let opts = no_save_points(2);
    let s = Server::start(opts.clone());
    let mut c = s.conn();
    let mut writer = s.conn();
    let mut n = 0usize;
    let lists = 100;
    pipeline_no_errors(
        &mut c,
        (0..lists).map(|i| cmd(&["RPUSH", &format!("list:{i}"), "a", "b", &i.to_string()])),
    );
    let mut attempt = 0;
    let last_before;
    let saves_before;
    loop {
        // Grow the keyspace (200k, then larger if a BGSAVE finished too quickly to be seen).
        let target = 200_000 << attempt;
        pipeline_no_errors(
            &mut c,
            (n..target).map(|i| cmd(&["SET", &format!("k:{i}"), &format!("pre:{i}")])),
        );
        n = target;
        let last = lastsave(&mut c);
        // LASTSAVE has a resolution of seconds: let one pass so the new save is visibly later.
        assert!(wait_until(Duration::from_secs(3), POLL, || now_secs() > last));
        let saves = info_int(&mut c, "rdb_saves");
        assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
        let again = c.cmd(&["BGSAVE"]);
        if again == err(IN_PROGRESS) {
            let save = c.cmd(&["SAVE"]);
            if save != err(IN_PROGRESS) {
                // It finished in between: SAVE ran now, on the same (unchanged) data.
                assert_eq!(save, ok(), "SAVE right after BGSAVE");
            }
            last_before = last;
            saves_before = saves;
            break;
        }
        assert_eq!(again, simple("Background saving started"), "second BGSAVE");
        assert_eq!(wait_bgsave_done(&s, &mut c), "ok");
        attempt += 1;
        assert!(
            attempt < 3,
            "BGSAVE of {target} keys always finished before the next command"
        );
    }
    assert_eq!(c.cmd(&["BGSAVE", "SCHEDULE"]), err(IN_PROGRESS));

    // Writes while it runs: overwrite, delete, push, create. None may reach the snapshot.
    let mut batches_during = 0;
    let mut b = 0usize;
    loop {
        let mut w = Vec::new();
        for j in 0..200 {
            let i = (b * 7919 + j * 31) % n;
            w.push(cmd(&["SET", &format!("k:{i}"), &format!("post:{i}")]));
        }
        for j in 0..10 {
            w.push(cmd(&["DEL", &format!("k:{}", (b * 131 + j * 17) % n)]));
        }
        w.push(cmd(&["RPUSH", &format!("list:{}", b % lists), "post"]));
        for j in 0..20 {
            w.push(cmd(&["SET", &format!("new:{b}:{j}"), "post"]));
        }
        pipeline_no_errors(&mut writer, w);
        b += 1;
        if info_int(&mut c, "rdb_bgsave_in_progress") == 0 {
            break;
        }
        batches_during += 1;
        assert!(
            b < 100_000,
            "BGSAVE did not finish; output:\n{}",
            s.output()
        );
    }
    eprintln!("write batches while BGSAVE ran: {batches_during}");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert!(
        lastsave(&mut c) > last_before,
        "LASTSAVE did not advance past {last_before}"
    );
    assert!(info_int(&mut c, "rdb_saves") > saves_before, "rdb_saves");
    drop((c, writer));

    let s = kill_and_start(s, opts);
    let mut c = s.conn();
    let model: Model = (0..n)
        .map(|i| (format!("k:{i}"), format!("pre:{i}")))
        .collect();
    let mut full = model.clone();
    for i in 0..lists {
        full.insert(format!("list:{i}"), String::new());
    }
    assert_eq!(c.cmd(&["DBSIZE"]), int(full.len() as i64));
    assert_eq!(c.cmd(&["KEYS", "new:*"]), empty());
    // check_model compares DBSIZE too: do the strings part with MGET on a model without lists.
    let keys: Vec<&String> = model.keys().collect();
    let replies = pipeline(
        &mut c,
        keys.chunks(500).map(|ch| {
            let mut v = vec![b"MGET".to_vec()];
            v.extend(ch.iter().map(|k| k.as_bytes().to_vec()));
            v
        }),
    );
    for (ch, r) in keys.chunks(500).zip(replies) {
        for (k, got) in ch.iter().zip(r.items()) {
            assert_eq!(*got, bulk(model[*k].as_bytes()), "{k} after the restart");
        }
    }
    for i in 0..lists {
        assert_eq!(
            c.cmd(&["LRANGE", &format!("list:{i}"), "0", "-1"]),
            bulks(&["a", "b", &i.to_string()]),
            "list:{i}"
        );
    }
}

#[test]
fn bgsave_and_save_replies() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["BGSAVE", "x"]), err(SYNTAX));
    assert_eq!(c.cmd(&["BGSAVE", "SCHEDULE", "x"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SAVE", "x"]), arity_err("save"));
    assert_eq!(c.cmd(&["LASTSAVE", "x"]), arity_err("lastsave"));
    let r = c.cmd(&["BGSAVE", "SCHEDULE"]);
    assert!(
        r == simple("Background saving started") || r == simple("Background saving scheduled"),
        "BGSAVE SCHEDULE: {r:?}"
    );
    assert_eq!(wait_bgsave_done(&s, &mut c), "ok");
    let t = lastsave(&mut c);
    let now = now_secs();
    assert!((now - 60..=now + 1).contains(&t), "LASTSAVE {t}, now {now}");
    assert_eq!(c.cmd(&["SAVE"]), ok());
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 0);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
}

#[test]
fn lastsave_is_the_start_time_before_any_save() {
    let before = now_secs();
    let s = Server::start(no_save_points(2));
    let after = now_secs();
    let mut c = s.conn();
    let t = lastsave(&mut c);
    assert!(
        (before..=after).contains(&t),
        "LASTSAVE {t}, started in [{before}, {after}]"
    );
    assert_eq!(info_int(&mut c, "rdb_last_save_time"), t);
    assert_eq!(info_int(&mut c, "rdb_saves"), 0);
    assert_eq!(info_int(&mut c, "rdb_bgsave_in_progress"), 0);
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 0);
    assert_eq!(c.cmd(&["SET", "a", "1"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l", "1", "2"]), int(2));
    // Counted as Redis counts `server.dirty`: one per element pushed, per key deleted or set.
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 3);
    assert_eq!(c.cmd(&["DEL", "a", "l", "nokey"]), int(2));
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 5);
    assert_eq!(c.cmd(&["MSET", "x", "1", "y", "2", "z", "3"]), ok());
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 8);
    assert_eq!(c.cmd(&["DEL", "nokey"]), int(0));
    assert_eq!(c.cmd(&["GET", "x"]), bulk("1"));
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 8);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    assert_eq!(info_int(&mut c, "rdb_changes_since_last_save"), 0);
    assert_eq!(info_int(&mut c, "rdb_saves"), 1);
    assert!(lastsave(&mut c) >= t);
}

// ---------------------------------------------------------------------------------------------
// 9. Save points
// ---------------------------------------------------------------------------------------------

#[test]
fn save_points_trigger_a_background_save() {
    skip_on_real_redis!();
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        bulks(&["save", "3600 1 300 100 60 10000"])
    );
    let start = lastsave(&mut c);
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", "1 1"]), ok());
    assert_eq!(c.cmd(&["CONFIG", "GET", "save"]), bulks(&["save", "1 1"]));
    assert_eq!(c.cmd(&["SET", "point", "saved"]), ok());
    let saved = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
        s.dir().join(MANIFEST).exists() && lastsave(&mut c) > start
    });
    assert!(
        saved,
        "no save within 10 s of a change with save \"1 1\"; output:\n{}",
        s.output()
    );
    assert_eq!(wait_bgsave_done(&s, &mut c), "ok");
    assert!(info_int(&mut c, "rdb_saves") >= 1);
    // Without changes no further save happens.
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", ""]), ok());
    assert_eq!(c.cmd(&["CONFIG", "GET", "save"]), bulks(&["save", ""]));
    drop(c);
    let s = kill_and_start(s, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "point"]), bulk("saved"));
}

#[test]
fn config_save_parameters() {
    let s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    for bad in ["10", "x 1", "0 1", "1 -1", "1 1 2", "1 y"] {
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "save", bad]),
            err(CONFIG_SAVE_INVALID),
            "CONFIG SET save {bad:?}"
        );
    }
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", "900 1 300 10"]), ok());
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        bulks(&["save", "900 1 300 10"])
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", ""]), ok());
    assert_eq!(c.cmd(&["CONFIG", "GET", "save"]), bulks(&["save", ""]));
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdbcompression", "no"]), ok());
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "rdbcompression"]),
        bulks(&["rdbcompression", "no"])
    );
    assert_eq!(c.cmd(&["CONFIG", "SET", "rdbcompression", "yes"]), ok());
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "rdbcompression"]),
        bulks(&["rdbcompression", "yes"])
    );
    assert!(c
        .cmd(&["CONFIG", "SET", "rdbcompression", "maybe"])
        .is_error());
}

#[test]
fn save_option_on_the_command_line() {
    skip_on_real_redis!();
    let s = Server::start(Opts::shards(2).arg("--save").arg("120 5 30 50"));
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        bulks(&["save", "120 5 30 50"])
    );
    let s2 = Server::start(no_save_points(1));
    let mut c2 = s2.conn();
    assert_eq!(c2.cmd(&["CONFIG", "GET", "save"]), bulks(&["save", ""]));
}

// ---------------------------------------------------------------------------------------------
// 10. SHUTDOWN and SIGTERM
// ---------------------------------------------------------------------------------------------

#[test]
fn shutdown_without_save_points_does_not_save() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    c.send_cmd(&["SHUTDOWN"]);
    c.expect_closed();
    assert_exits_zero(&mut s);
    assert!(!s.dir().join(MANIFEST).exists(), "SHUTDOWN saved");
    assert_eq!(shard_files(s.dir()), Vec::<String>::new());

    // SIGTERM neither.
    let dir = s.into_dir();
    let mut s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DBSIZE"]), int(0));
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    let status = s.stop_gracefully();
    assert!(status.success(), "{status:?}");
    assert!(!s.dir().join(MANIFEST).exists(), "SIGTERM saved");
}

#[test]
fn shutdown_save_without_save_points_saves() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    fill_sample(&mut c);
    let t0 = Instant::now();
    let before = dump_keyspace(&mut c);
    c.send_cmd(&["SHUTDOWN", "SAVE"]);
    c.expect_closed();
    assert_exits_zero(&mut s);
    check_snapshot_files(s.dir());
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    let after = dump_keyspace(&mut c);
    assert_same_dump(&before, &after, t0.elapsed(), "after SHUTDOWN SAVE");
}

#[test]
fn sigterm_with_save_points_saves() {
    skip_on_real_redis!();
    let mut s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["RPUSH", "l", "1", "2", "3"]), int(3));
    drop(c);
    assert!(!s.dir().join(MANIFEST).exists());
    let status = s.restart();
    assert!(status.success(), "{status:?}");
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), bulks(&["1", "2", "3"]));
    // Plain SHUTDOWN with save points saves too.
    assert_eq!(c.cmd(&["SET", "k2", "v2"]), ok());
    c.send_cmd(&["SHUTDOWN"]);
    c.expect_closed();
    assert_exits_zero(&mut s);
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "k2"]), bulk("v2"));
    assert_eq!(c.cmd(&["DBSIZE"]), int(3));
}

#[test]
fn shutdown_nosave_with_save_points_keeps_the_old_snapshot() {
    skip_on_real_redis!();
    let mut s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "old", "1"]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let files = snapshot_bytes(s.dir());
    assert_eq!(c.cmd(&["SET", "new", "2"]), ok());
    c.send_cmd(&["SHUTDOWN", "NOSAVE", "NOW"]);
    c.expect_closed();
    assert_exits_zero(&mut s);
    assert_eq!(
        snapshot_bytes(s.dir()),
        files,
        "SHUTDOWN NOSAVE changed the files"
    );
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "old"]), bulk("1"));
    assert_eq!(c.cmd(&["GET", "new"]), nil());
}

#[test]
fn shutdown_argument_errors_keep_serving() {
    let mut s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(
        c.cmd(&["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(c.cmd(&["SHUTDOWN", "SAVE", "NOSAVE"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SHUTDOWN", "NOSAVE", "SAVE"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SHUTDOWN", "BOGUS"]), err(SYNTAX));
    assert_eq!(c.cmd(&["SHUTDOWN", "ABORT", "NOW"]), err(SYNTAX));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    s.assert_healthy();
}

#[test]
fn shutdown_refuses_to_exit_when_the_save_fails_unless_forced() {
    skip_on_real_redis!();
    let mut s = Server::start(Opts::shards(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    std::fs::create_dir(s.dir().join("dump.manifest.tmp")).unwrap();
    assert_eq!(c.cmd(&["SHUTDOWN"]), err(SHUTDOWN_FAILED));
    assert_eq!(c.cmd(&["SHUTDOWN", "SAVE"]), err(SHUTDOWN_FAILED));
    assert_eq!(c.cmd(&["SHUTDOWN", "NOW"]), err(SHUTDOWN_FAILED));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["SET", "k2", "v2"]), ok());
    s.assert_healthy();
    assert!(!s.dir().join(MANIFEST).exists());
    assert_eq!(tmp_files(s.dir()), vec!["dump.manifest.tmp".to_string()]);
    assert_eq!(
        shard_files(s.dir()),
        Vec::<String>::new(),
        "files of the failed save left"
    );
    // FORCE exits anyway.
    c.send_cmd(&["SHUTDOWN", "FORCE"]);
    c.expect_closed();
    assert_exits_zero(&mut s);
}

// ---------------------------------------------------------------------------------------------
// 11. Leftovers of a crash are cleaned up at start-up
// ---------------------------------------------------------------------------------------------

#[test]
fn startup_removes_leftover_and_stray_files() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    pipeline_no_errors(
        &mut c,
        (0..500).map(|i| cmd(&["SET", &format!("k:{i}"), &i.to_string()])),
    );
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    s.kill();
    let m = read_manifest(s.dir());
    let d = s.dir();
    std::fs::write(d.join("dump-0-of-2.0123456789abcdef.rdb.tmp"), b"partial").unwrap();
    std::fs::write(d.join("dump.manifest.tmp"), b"redis-lite-manifest 1\nid 01").unwrap();
    std::fs::copy(
        d.join(&m.files[1].name),
        d.join("dump-1-of-2.fedcba9876543210.rdb"),
    )
    .unwrap();
    std::fs::write(d.join(format!("{}.tmp", m.files[0].name)), b"x").unwrap();
    // Files that are not ours stay.
    std::fs::write(d.join("notes.txt"), b"keep me").unwrap();
    std::fs::write(d.join("other.rdb"), b"keep me too").unwrap();

    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DBSIZE"]), int(500));
    assert_eq!(c.cmd(&["GET", "k:77"]), bulk("77"));
    let mut want = vec![
        MANIFEST.to_string(),
        m.files[0].name.clone(),
        m.files[1].name.clone(),
        "notes.txt".to_string(),
        "other.rdb".to_string(),
    ];
    want.sort();
    assert_eq!(list_dir(s.dir()), want, "after start-up");
}

// ---------------------------------------------------------------------------------------------
// 12. Expired keys are not loaded; TTLs are absolute
// ---------------------------------------------------------------------------------------------

#[test]
fn keys_that_expired_while_down_are_not_loaded() {
    skip_on_real_redis!();
    let s = Server::start(no_save_points(2));
    let mut c = s.conn();
    let set_at = now_ms();
    assert_eq!(c.cmd(&["SET", "short", "v", "PX", "1500"]), ok());
    assert_eq!(c.cmd(&["SET", "long", "v", "PX", "600000"]), ok());
    assert_eq!(c.cmd(&["SET", "forever", "v"]), ok());
    let pttl_before = c.cmd(&["PTTL", "long"]).int();
    let t0 = Instant::now();
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let m = read_manifest(s.dir());
    assert_eq!(m.files.iter().map(|f| f.keys).sum::<u64>(), 3);
    drop(c);
    let mut s = s;
    s.kill();
    // Wait until the short key's deadline has passed.
    let left = set_at + 1500 + 100 - now_ms();
    if left > 0 {
        std::thread::sleep(Duration::from_millis(left as u64));
    }
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["EXISTS", "short"]), int(0));
    assert_eq!(c.cmd(&["DBSIZE"]), int(2));
    assert_eq!(info_int(&mut c, "rdb_last_load_keys_expired"), 1);
    assert_eq!(info_int(&mut c, "rdb_last_load_keys_loaded"), 2);
    let pttl = c.cmd(&["PTTL", "long"]).int();
    let elapsed = t0.elapsed().as_millis() as i64;
    assert!(
        pttl <= pttl_before - 1400 && pttl >= pttl_before - elapsed - 20,
        "PTTL of long: {pttl_before} before, {pttl} after {elapsed} ms"
    );
    assert_eq!(c.cmd(&["PTTL", "forever"]), int(-1));
}

/// Hashes and sets (small ones saved as listpacks/intsets, big ones plain) survive SAVE and
/// a restart with another shard count; the shard files still pass redis-check-rdb.
#[test]
fn hashes_and_sets_survive_save_and_restart() {
    skip_on_real_redis!();
    let s = Server::start(no_save_points(2));
    let mut c = s.conn();
    let mut want: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for k in 0..20 {
        let n = if k == 0 { 700 } else { k + 1 };
        let key = format!("h:{k}");
        let fields: Vec<(String, String)> = (0..n)
            .map(|i| {
                (
                    format!("f{i}"),
                    if i % 3 == 0 {
                        i.to_string()
                    } else {
                        format!("v{i}-{k}")
                    },
                )
            })
            .collect();
        let mut args = vec!["HSET".to_string(), key.clone()];
        for (f, v) in &fields {
            args.push(f.clone());
            args.push(v.clone());
        }
        assert_eq!(c.cmd(&args), int(n as i64));
        want.push((key, fields));
    }
    // Sets: integers only (an intset), mixed, and one past 512 members (plain).
    let sets: Vec<(String, Vec<String>)> = vec![
        (
            "s:ints".into(),
            (0..50).map(|i| (i * 7 - 100).to_string()).collect(),
        ),
        (
            "s:mixed".into(),
            (0..30)
                .map(|i| format!("m{i}"))
                .chain(["5".into()])
                .collect(),
        ),
        (
            "s:big".into(),
            (0..600).map(|i| format!("member-{i}")).collect(),
        ),
    ];
    for (key, members) in &sets {
        let mut args = vec!["SADD".to_string(), key.clone()];
        args.extend(members.iter().cloned());
        assert_eq!(c.cmd(&args), int(members.len() as i64));
    }
    assert_eq!(c.cmd(&["SAVE"]), ok());
    if let Some(check) = tool("redis-check-rdb") {
        for f in list_dir(s.dir()).iter().filter(|n| n.ends_with(".rdb")) {
            let st = std::process::Command::new(&check)
                .arg(s.dir().join(f))
                .output()
                .expect("redis-check-rdb runs");
            assert!(st.status.success(), "redis-check-rdb {f}: {st:?}");
        }
    }
    let s2 = Server::start_in_dir(s.into_dir(), no_save_points(3));
    let mut c = s2.conn();
    for (key, fields) in &want {
        assert_eq!(c.cmd(&["HLEN", key]), int(fields.len() as i64), "{key}");
        let mut args = vec!["HMGET".to_string(), key.clone()];
        args.extend(fields.iter().map(|(f, _)| f.clone()));
        let vals: Vec<String> = fields.iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(c.cmd(&args), bulks(&vals), "{key}");
        assert_eq!(c.cmd(&["TYPE", key]), simple("hash"));
    }
    for (key, members) in &sets {
        let mut got = c.cmd(&["SMEMBERS", key]).strings();
        got.sort();
        let mut want = members.clone();
        want.sort();
        assert_eq!(got, want, "{key}");
    }
}

const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently \
    unable to persist to disk. Commands that may modify the data set are disabled, because this \
    instance is configured to report errors during writes if RDB snapshotting fails \
    (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB \
    error.";

/// Makes a BGSAVE fail: points `dir` at a directory, removes it, and runs BGSAVE to its end.
fn fail_bgsave(s: &Server, c: &mut Conn) {
    let gone = s.dir().join("gone");
    std::fs::create_dir(&gone).unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dir", gone.to_str().unwrap()]),
        ok()
    );
    std::fs::remove_dir(&gone).unwrap();
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave_done(s, c), "err");
}

/// Redis's `stop-writes-on-bgsave-error`: after a failed BGSAVE with save points set, writes,
/// PING and an EXEC of queued writes get MISCONF; reads still work; turning the option off,
/// dropping the save points or a good SAVE lets writes through again.
#[test]
fn failed_bgsave_refuses_writes_with_misconf() {
    let s = Server::start(
        Opts::shards(2)
            .arg("--save")
            .arg("3600 1")
            .arg("--enable-protected-configs")
            .arg("yes"),
    );
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "stop-writes-on-bgsave-error"]),
        arr(vec![bulk("stop-writes-on-bgsave-error"), bulk("yes")])
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    // A transaction queued before the failure, executed after it.
    let mut tx = s.conn();
    assert_eq!(tx.cmd(&["MULTI"]), ok());
    assert_eq!(tx.cmd(&["SET", "t", "1"]), simple("QUEUED"));

    fail_bgsave(&s, &mut c);
    assert_eq!(c.cmd(&["SET", "k", "w"]), err(MISCONF));
    assert_eq!(c.cmd(&["DEL", "k"]), err(MISCONF));
    assert_eq!(c.cmd(&["PING"]), err(MISCONF));
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["ECHO", "x"]), bulk("x"));
    assert_eq!(
        tx.cmd(&["EXEC"]),
        err(&format!(
            "EXECABORT Transaction discarded because of: {MISCONF}"
        ))
    );
    assert_eq!(tx.cmd(&["GET", "t"]), nil());
    // Refused inside MULTI: the transaction is flagged; a read-only one still runs.
    assert_eq!(tx.cmd(&["MULTI"]), ok());
    assert_eq!(tx.cmd(&["INCR", "n"]), err(MISCONF));
    assert_eq!(
        tx.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(tx.cmd(&["MULTI"]), ok());
    assert_eq!(tx.cmd(&["GET", "k"]), simple("QUEUED"));
    assert_eq!(tx.cmd(&["EXEC"]), arr(vec![bulk("v")]));

    // The option, then the save points, lift the refusal.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]),
        ok()
    );
    assert_eq!(c.cmd(&["SET", "k", "w"]), ok());
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]),
        ok()
    );
    assert_eq!(c.cmd(&["SET", "k", "x"]), err(MISCONF));
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", ""]), ok());
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    assert_eq!(c.cmd(&["CONFIG", "SET", "save", "3600 1"]), ok());
    assert_eq!(c.cmd(&["PING"]), err(MISCONF));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");

    // A good SAVE clears the failed status, as Redis's rdbSave does.
    let dir = s.dir().to_str().unwrap().to_string();
    assert_eq!(c.cmd(&["CONFIG", "SET", "dir", &dir]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(c.cmd(&["SET", "k", "y"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("y"));
}

/// A file-size limit (`ulimit -f`, here set on the running server with prlimit) makes SAVE and
/// BGSAVE fail with EFBIG; it must not kill the server with SIGXFSZ, and the snapshot on disk
/// stays the previous one.
#[test]
fn file_size_limit_fails_the_save_without_killing_the_server() {
    skip_on_real_redis!();
    let mut s = Server::start(no_save_points(2));
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "small", "1"]), ok());
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let before = snapshot_bytes(s.dir());
    let big = "x".repeat(64 * 1024);
    pipeline_no_errors(
        &mut c,
        (0..64).map(|i| cmd(&["SET", &format!("big:{i}"), big.as_str()])),
    );
    let limit = libc::rlimit {
        rlim_cur: 16 * 1024,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit with a valid pid and a valid new-limit pointer; the old limit is not read.
    let rc = unsafe {
        libc::prlimit(
            s.pid() as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    let r = c.cmd(&["SAVE"]);
    assert!(r.is_error(), "SAVE over the file-size limit: {r:?}");
    assert!(r.error_text().contains("File too large"), "{r:?}");
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave_done(&s, &mut c), "err");
    assert!(s.is_running(), "the server died: {}", s.output());
    assert_eq!(snapshot_bytes(s.dir()), before, "the old snapshot changed");
    assert!(tmp_files(s.dir()).is_empty(), "{:?}", list_dir(s.dir()));
    assert_eq!(c.cmd(&["GET", "small"]), bulk("1"));
}

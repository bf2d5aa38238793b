//! Fault drills (issue #10): the real server binary under faults a unit test cannot stage.
//!
//! 1. SIGKILL at a random moment during a write load with a BGSAVE every ~100 ms: the restarted
//!    keyspace is exactly what the manifest's files hold (parsed here with `redis_lite::rdb`),
//!    cross-shard MULTI/EXEC pairs are never torn, and nothing acknowledged before the last
//!    completed BGSAVE is lost.
//! 2. A full disk (a small tmpfs) and a read-only directory (a read-only bind mount, else
//!    `chattr +i`) during SAVE and BGSAVE: Redis's error, the failure in INFO, the previous
//!    snapshot intact and loadable, no leftovers, the server still serving.
//! 3. A shard stalled by a huge command does not stop the other core's clients.
//! 4. The same seeded command stream against redis-lite (2 shards) and redis-server 7.0: every
//!    reply and the final keyspaces compared.
//!
//! Randomness is seeded and printed (`FAULT_DRILL_SEED=<n>` replays a run); counts and waits
//! are bounded; the assertions are about order and content, never about time.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Bound of every polling loop.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);
const MANIFEST: &str = "dump.manifest";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The drill's seed: `FAULT_DRILL_SEED` if set, else a fresh one; printed so a failure replays.
fn seed(drill: &str) -> u64 {
    let s = std::env::var("FAULT_DRILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            (SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64)
                ^ ((std::process::id() as u64) << 32)
        });
    eprintln!("{drill}: seed {s} (replay with FAULT_DRILL_SEED={s})");
    s
}

fn argv<S: AsRef<str>>(a: &[S]) -> Vec<Vec<u8>> {
    a.iter().map(|s| s.as_ref().as_bytes().to_vec()).collect()
}

/// Sends `cmds` pipelined in batches (requests always fit the socket buffers); every reply in
/// order.
fn pipeline(c: &mut Conn, cmds: &[Vec<Vec<u8>>]) -> Vec<Reply> {
    let mut out = Vec::with_capacity(cmds.len());
    for batch in cmds.chunks(500) {
        let mut buf = Vec::new();
        for a in batch {
            encode_cmd_into(a, &mut buf);
        }
        c.send(&buf);
        for _ in batch {
            out.push(c.read_reply());
        }
    }
    out
}

fn pipeline_ok(c: &mut Conn, cmds: &[Vec<Vec<u8>>]) {
    for (r, a) in pipeline(c, cmds).iter().zip(cmds) {
        assert!(
            !r.is_error(),
            "{:?} failed: {r:?}",
            String::from_utf8_lossy(&a[0])
        );
    }
}

/// A field of `INFO persistence`.
fn info_field(c: &mut Conn, field: &str) -> String {
    let text = c.cmd(&["INFO", "persistence"]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("INFO persistence has no {field}:\n{text}"))
}

fn info_int(c: &mut Conn, field: &str) -> i64 {
    let v = info_field(c, field);
    v.parse()
        .unwrap_or_else(|_| panic!("{field} is not an integer: {v:?}"))
}

/// Waits (bounded) until no background save runs; returns `rdb_last_bgsave_status`.
fn wait_bgsave(s: &Server, c: &mut Conn) -> String {
    let done = wait_until(WAIT, POLL, || info_int(c, "rdb_bgsave_in_progress") == 0);
    assert!(done, "BGSAVE still running after {WAIT:?}:\n{}", s.output());
    info_field(c, "rdb_last_bgsave_status")
}

fn list_dir(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every regular file of `dir` with its bytes.
fn dir_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    list_dir(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_file())
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// An xorshift byte stream LZF cannot shrink (so a value's size on disk is its size).
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

/// Runs a short system command; Ok(()) if it exits 0, else its output.
fn sys(prog: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {prog}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{prog} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Keyspace digests: from a live server (SCAN + type-specific reads) and from snapshot files
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    /// (member, score), sorted by (score, member) as ZRANGE orders them.
    ZSet(Vec<(Vec<u8>, f64)>),
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    val: Val,
    /// Absolute expiry (unix ms), as PEXPIRETIME and the RDB file state it.
    expire_ms: Option<i64>,
}

/// DB 0: key -> entry.
type Digest = BTreeMap<Vec<u8>, Entry>;

fn sort_zset(z: &mut [(Vec<u8>, f64)]) {
    z.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
}

/// Reads every key of DB 0: SCAN (checked against DBSIZE), TYPE, GET/LRANGE/HGETALL/SMEMBERS/
/// ZRANGE WITHSCORES, PEXPIRETIME.
fn digest_server(c: &mut Conn) -> Digest {
    let mut keys = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let r = c.cmd(&["SCAN", &cursor, "COUNT", "1000"]);
        let items = r.items();
        cursor = items[0].text();
        keys.extend(items[1].items().iter().map(|k| k.bytes().to_vec()));
        if cursor == "0" {
            break;
        }
    }
    let keys: Vec<Vec<u8>> = keys.into_iter().collect();
    assert_eq!(c.cmd(&["DBSIZE"]), int(keys.len() as i64), "DBSIZE vs SCAN");
    let with = |name: &str, k: &[u8], rest: &[&str]| -> Vec<Vec<u8>> {
        let mut v = vec![name.as_bytes().to_vec(), k.to_vec()];
        v.extend(rest.iter().map(|s| s.as_bytes().to_vec()));
        v
    };
    let types = pipeline(
        c,
        &keys
            .iter()
            .map(|k| with("TYPE", k, &[]))
            .collect::<Vec<_>>(),
    );
    let reads: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .zip(&types)
        .map(|(k, t)| match t.text().as_str() {
            "string" => with("GET", k, &[]),
            "list" => with("LRANGE", k, &["0", "-1"]),
            "hash" => with("HGETALL", k, &[]),
            "set" => with("SMEMBERS", k, &[]),
            "zset" => with("ZRANGE", k, &["0", "-1", "WITHSCORES"]),
            other => panic!(
                "unexpected type {other} of {:?}",
                String::from_utf8_lossy(k)
            ),
        })
        .collect();
    let vals = pipeline(c, &reads);
    let exps = pipeline(
        c,
        &keys
            .iter()
            .map(|k| with("PEXPIRETIME", k, &[]))
            .collect::<Vec<_>>(),
    );
    let mut out = Digest::new();
    for (((k, t), v), e) in keys.into_iter().zip(types).zip(vals).zip(exps) {
        let bytes = |r: &Reply| r.bytes().to_vec();
        let val = match t.text().as_str() {
            "string" => Val::Str(bytes(&v)),
            "list" => Val::List(v.items().iter().map(bytes).collect()),
            "hash" => Val::Hash(
                v.items()
                    .chunks(2)
                    .map(|p| (bytes(&p[0]), bytes(&p[1])))
                    .collect(),
            ),
            "set" => Val::Set(v.items().iter().map(bytes).collect()),
            _ => {
                let mut z: Vec<(Vec<u8>, f64)> = v
                    .items()
                    .chunks(2)
                    .map(|p| (bytes(&p[0]), p[1].text().parse::<f64>().unwrap()))
                    .collect();
                sort_zset(&mut z);
                Val::ZSet(z)
            }
        };
        let expire_ms = match e.int() {
            -1 => None,
            -2 => panic!("{:?} vanished while digesting", String::from_utf8_lossy(&k)),
            t => Some(t),
        };
        out.insert(k, Entry { val, expire_ms });
    }
    out
}

/// The snapshot on disk in `dir`, read independently of the server: the manifest (parsed and
/// checksummed by `redis_lite::persist::Manifest`), each file's size and CRC-64 against it, then
/// every record through `redis_lite::rdb::Reader`.
fn digest_files(dir: &Path) -> (redis_lite::persist::Manifest, Digest) {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).expect("read the manifest");
    let m = redis_lite::persist::Manifest::parse(&text)
        .unwrap_or_else(|e| panic!("manifest does not parse: {e}\n{text}"));
    let mut out = Digest::new();
    for f in &m.files {
        let data = std::fs::read(dir.join(&f.name))
            .unwrap_or_else(|e| panic!("the manifest names {}, unreadable: {e}", f.name));
        assert_eq!(data.len() as u64, f.size, "size of {}", f.name);
        let body = &data[..data.len() - 8];
        assert_eq!(
            redis_lite::rdb::crc64(0, body),
            f.crc,
            "CRC-64 of {}",
            f.name
        );
        let mut r = redis_lite::rdb::Reader::new(&data)
            .unwrap_or_else(|e| panic!("{}: {} at {}", f.name, e.msg, e.offset));
        let mut keys = 0u64;
        while let Some(rec) = r
            .next()
            .unwrap_or_else(|e| panic!("{}: {} at {}", f.name, e.msg, e.offset))
        {
            let redis_lite::rdb::Record::Key {
                db,
                key,
                expire_ms,
                value,
            } = rec
            else {
                continue;
            };
            assert_eq!(db, 0, "{}: a key outside DB 0", f.name);
            use redis_lite::rdb::RdbValue as V;
            let own = |c: &std::borrow::Cow<[u8]>| c.to_vec();
            let val = match value {
                V::Str(s) => Val::Str(s.to_vec()),
                V::Int(i) => Val::Str(i.to_string().into_bytes()),
                V::List(l) => Val::List(l.iter().map(own).collect()),
                V::Hash(h) => Val::Hash(h.iter().map(|(a, b)| (own(a), own(b))).collect()),
                V::Set(s) => Val::Set(s.iter().map(own).collect()),
                V::ZSet(z) => {
                    let mut z: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (own(m), *s)).collect();
                    sort_zset(&mut z);
                    Val::ZSet(z)
                }
            };
            keys += 1;
            let prev = out.insert(key.to_vec(), Entry { val, expire_ms });
            assert!(
                prev.is_none(),
                "{}: key {key:?} twice in the snapshot",
                f.name
            );
        }
        assert_eq!(keys, f.keys, "key count of {} vs the manifest", f.name);
    }
    (m, out)
}

fn show(k: &[u8]) -> String {
    String::from_utf8_lossy(k).into_owned()
}

/// Differences between two digests (first 10); expiries may differ by `expire_slack_ms`.
fn digest_diff(a: &Digest, b: &Digest, expire_slack_ms: i64) -> Vec<String> {
    let mut d = Vec::new();
    for (k, ea) in a {
        match b.get(k) {
            None => d.push(format!("{} only in the first", show(k))),
            Some(eb) => {
                if ea.val != eb.val {
                    d.push(format!("{}: {:?} vs {:?}", show(k), ea.val, eb.val));
                }
                let close = match (ea.expire_ms, eb.expire_ms) {
                    (None, None) => true,
                    (Some(x), Some(y)) => (x - y).abs() <= expire_slack_ms,
                    _ => false,
                };
                if !close {
                    d.push(format!(
                        "{}: expiry {:?} vs {:?}",
                        show(k),
                        ea.expire_ms,
                        eb.expire_ms
                    ));
                }
            }
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        d.push(format!("{} only in the second", show(k)));
    }
    d.truncate(10);
    d
}

// ---------------------------------------------------------------------------------------------
// A real redis-server 7.0 (drill 4)
// ---------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// redis-server in its own temporary directory; SIGKILLed (by its PID) on drop.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts redis-server (no saving), ready once PING answers; None if it is not installed.
    fn start() -> Option<RedisServer> {
        if !Path::new("/usr/bin/redis-server").exists() {
            return None;
        }
        for _attempt in 0..3 {
            let dir = tempfile::TempDir::new().unwrap();
            let port = free_port();
            let mut child = Command::new("/usr/bin/redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--databases", "16"])
                .arg("--dir")
                .arg(dir.path())
                .arg("--logfile")
                .arg(dir.path().join("redis.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + WAIT;
            let ready = loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break false; // e.g. the port was taken meanwhile: try another
                }
                if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                    let mut c = Conn::new(s);
                    c.send_cmd(&["PING"]);
                    if let Ok(Some(r)) = c.try_read_reply() {
                        if r == simple("PONG") {
                            break true;
                        }
                    }
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("redis-server not ready within {WAIT:?}");
                }
                std::thread::sleep(POLL);
            };
            if ready {
                return Some(RedisServer {
                    child,
                    port,
                    _dir: dir,
                });
            }
        }
        panic!("redis-server did not start in 3 attempts");
    }

    fn conn(&self) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect redis-server");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        Conn::new(s)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// =============================================================================================
// Drill 1: SIGKILL during a write load with periodic BGSAVE
// =============================================================================================

const D1_ROUNDS: usize = 5;
const D1_PAIRS: usize = 40;
const D1_SET_WRITERS: usize = 2;
const D1_TX_WRITERS: usize = 2;
/// String keys per SET writer.
const D1_KEYS: u64 = 60;
/// Lists per SET writer.
const D1_LISTS: u64 = 4;

/// Preloaded big lists (and a big hash and sorted set), so a BGSAVE takes long enough for some
/// kills to land in the middle of one.
const D1_FILL_LISTS: u64 = 20;
const D1_FILL_ITEMS: usize = 10_000;

/// What writers have had acknowledged in the current round (maxima; 0 = nothing yet).
struct Acked {
    /// Per pair: the highest value an EXEC returned for INCR a / INCR b.
    pairs: Vec<AtomicI64>,
    /// Per SET writer, per string key: the highest sequence number SET there.
    strings: Vec<Vec<AtomicU64>>,
    /// Per SET writer, per list: the highest element pushed.
    lists: Vec<Vec<AtomicU64>>,
}

impl Acked {
    fn new() -> Acked {
        let per = |n: u64| (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
        Acked {
            pairs: (0..D1_PAIRS).map(|_| AtomicI64::new(0)).collect(),
            strings: (0..D1_SET_WRITERS).map(|_| per(D1_KEYS)).collect(),
            lists: (0..D1_SET_WRITERS).map(|_| per(D1_LISTS)).collect(),
        }
    }

    /// A copy; every value in it was acknowledged before this call.
    fn snapshot(&self) -> AckedCopy {
        let ld = |v: &Vec<AtomicU64>| v.iter().map(|a| a.load(Ordering::SeqCst)).collect();
        AckedCopy {
            pairs: self
                .pairs
                .iter()
                .map(|a| a.load(Ordering::SeqCst))
                .collect(),
            strings: self.strings.iter().map(ld).collect(),
            lists: self.lists.iter().map(ld).collect(),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct AckedCopy {
    pairs: Vec<i64>,
    strings: Vec<Vec<u64>>,
    lists: Vec<Vec<u64>>,
}

/// Writes `buf`, then reads `n` replies; None once the server is gone (killed).
fn exchange(c: &mut Conn, buf: &[u8], n: usize) -> Option<Vec<Reply>> {
    c.stream.write_all(buf).ok()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(c.try_read_reply().ok()??);
    }
    Some(out)
}

fn str_key(w: usize, k: u64) -> String {
    format!("s:{w}:{k}")
}
fn list_key(w: usize, j: u64) -> String {
    format!("l:{w}:{j}")
}

/// SET writer `w`: batches of 16 sequence numbers, each a SET (every 5th with a far-future
/// EX), plus RPUSH/HSET/ZADD/SADD on some; acknowledged maxima go to `acked` after each batch.
/// Returns its next sequence number when the server dies (or `stop` is set).
fn set_writer(
    mut c: Conn,
    w: usize,
    mut seq: u64,
    acked: Arc<Acked>,
    stop: Arc<AtomicBool>,
) -> u64 {
    while !stop.load(Ordering::SeqCst) {
        let mut buf = Vec::new();
        let mut n_cmds = 0;
        let mut done_strings = Vec::new();
        let mut done_lists = Vec::new();
        for n in seq..seq + 16 {
            let k = n % D1_KEYS;
            let v = format!("{w}:{n}:{}", "x".repeat((n % 23) as usize));
            let key = str_key(w, k);
            if n % 5 == 0 {
                encode_cmd_into(&["SET", &key, &v, "EX", "1000000"], &mut buf);
            } else {
                encode_cmd_into(&["SET", &key, &v], &mut buf);
            }
            n_cmds += 1;
            done_strings.push((k, n));
            if n % 4 == 0 {
                let j = (n / 4) % D1_LISTS;
                encode_cmd_into(&["RPUSH", &list_key(w, j), &n.to_string()], &mut buf);
                n_cmds += 1;
                done_lists.push((j, n));
            }
            if n % 7 == 0 {
                let f = format!("f{}", n % 10);
                encode_cmd_into(&["HSET", &format!("h:{w}"), &f, &n.to_string()], &mut buf);
                n_cmds += 1;
            }
            if n % 11 == 0 {
                let m = format!("m{}", n % 10);
                encode_cmd_into(&["ZADD", &format!("z:{w}"), &n.to_string(), &m], &mut buf);
                n_cmds += 1;
            }
            if n % 3 == 0 {
                // Into the big preloaded values: writes a running BGSAVE must copy first.
                let f = format!("fill:{}", n % D1_FILL_LISTS);
                encode_cmd_into(&["RPUSH", &f, &n.to_string()], &mut buf);
                n_cmds += 1;
            }
            if n % 13 == 0 {
                encode_cmd_into(
                    &["SADD", &format!("t:{w}"), &(n % 50).to_string()],
                    &mut buf,
                );
                n_cmds += 1;
            }
        }
        let Some(replies) = exchange(&mut c, &buf, n_cmds) else {
            return seq;
        };
        for r in &replies {
            assert!(!r.is_error(), "writer {w}: a write failed: {r:?}");
        }
        for (k, n) in done_strings {
            acked.strings[w][k as usize].fetch_max(n, Ordering::SeqCst);
        }
        for (j, n) in done_lists {
            acked.lists[w][j as usize].fetch_max(n, Ordering::SeqCst);
        }
        seq += 16;
    }
    seq
}

/// Transaction writer: MULTI, INCR a, INCR b, EXEC on a random pair (a and b on different
/// shards); the EXEC must show a == b. Returns how many transactions were acknowledged.
fn tx_writer(
    mut c: Conn,
    mut rng: fastrand::Rng,
    pairs: Arc<Vec<(String, String)>>,
    acked: Arc<Acked>,
    stop: Arc<AtomicBool>,
) -> u64 {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let p = rng.usize(0..pairs.len());
        let (a, b) = &pairs[p];
        let mut buf = Vec::new();
        encode_cmd_into(&["MULTI"], &mut buf);
        encode_cmd_into(&["INCR", a.as_str()], &mut buf);
        encode_cmd_into(&["INCR", b.as_str()], &mut buf);
        encode_cmd_into(&["EXEC"], &mut buf);
        let Some(r) = exchange(&mut c, &buf, 4) else {
            return n;
        };
        assert_eq!(r[0], ok(), "MULTI");
        let exec = r[3].items();
        let (x, y) = (exec[0].int(), exec[1].int());
        assert_eq!(x, y, "EXEC saw a torn pair {a}={x} {b}={y}");
        acked.pairs[p].fetch_max(x, Ordering::SeqCst);
        n += 1;
    }
    n
}

/// What the saver thread saw: the acknowledged state before its last BGSAVE that completed.
#[derive(Default)]
struct SaverLog {
    committed: Option<AckedCopy>,
    completed: u64,
    refused_in_progress: u64,
}

/// Every ~100 ms: note what is acknowledged, BGSAVE, wait for it (INFO), and if it completed
/// OK (rdb_saves grew, status ok, LASTSAVE not behind) keep the note as committed.
fn saver(
    mut c: Conn,
    mut rng: fastrand::Rng,
    acked: Arc<Acked>,
    log: Arc<Mutex<SaverLog>>,
    stop: Arc<AtomicBool>,
) {
    let info = |c: &mut Conn| -> Option<String> {
        c.stream
            .write_all(&encode_cmd(&["INFO", "persistence"]))
            .ok()?;
        match c.try_read_reply().ok()?? {
            Reply::Bulk(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            other => panic!("INFO replied {other:?}"),
        }
    };
    let field = |text: &str, f: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(f)?.strip_prefix(':'))
            .unwrap_or_else(|| panic!("no {f} in INFO"))
            .trim()
            .to_string()
    };
    let Some(t) = info(&mut c) else { return };
    let mut saves: u64 = field(&t, "rdb_saves").parse().unwrap();
    let mut lastsave = 0i64;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(rng.u64(60..140)));
        let pre = acked.snapshot();
        let Some(r) = exchange(&mut c, &encode_cmd(&["BGSAVE"]), 1) else {
            return;
        };
        match &r[0] {
            Reply::Simple(s) if s == "Background saving started" => {}
            Reply::Error(e) if e.contains("already in progress") => {
                log.lock().unwrap().refused_in_progress += 1;
                continue;
            }
            other => panic!("BGSAVE replied {other:?}"),
        }
        let deadline = Instant::now() + WAIT;
        let text = loop {
            let Some(t) = info(&mut c) else { return };
            if field(&t, "rdb_bgsave_in_progress") == "0" {
                break t;
            }
            assert!(
                Instant::now() < deadline,
                "BGSAVE did not finish in {WAIT:?}"
            );
            std::thread::sleep(POLL);
        };
        assert_eq!(
            field(&text, "rdb_last_bgsave_status"),
            "ok",
            "a BGSAVE failed: {}",
            field(&text, "rdb_last_error")
        );
        let now_saves: u64 = field(&text, "rdb_saves").parse().unwrap();
        assert_eq!(now_saves, saves + 1, "rdb_saves after one BGSAVE");
        saves = now_saves;
        let Some(r) = exchange(&mut c, &encode_cmd(&["LASTSAVE"]), 1) else {
            return;
        };
        let ls = r[0].int();
        assert!(
            ls >= lastsave && ls <= now_ms() / 1000 + 1,
            "LASTSAVE {ls} went back or is in the future"
        );
        lastsave = ls;
        let mut l = log.lock().unwrap();
        l.committed = Some(pre);
        l.completed += 1;
    }
}

fn d1_opts() -> Opts {
    Opts::shards(2).arg("--save").arg("")
}

fn seq_of(v: &[u8]) -> u64 {
    let s = String::from_utf8_lossy(v);
    s.split(':').nth(1).unwrap().parse().unwrap()
}

#[test]
fn drill1_kill9_during_load_with_periodic_bgsave() {
    skip_on_real_redis!();
    let seed = seed("drill 1");
    let mut rng = fastrand::Rng::with_seed(seed);
    let a_keys = keys_per_shard("a:", 2, D1_PAIRS);
    let b_keys = keys_per_shard("b:", 2, D1_PAIRS);
    // a on shard 0 and b on shard 1 for even pairs, the other way round for odd ones.
    let pairs: Vec<(String, String)> = (0..D1_PAIRS)
        .map(|i| {
            let (sa, sb) = if i % 2 == 0 { (0, 1) } else { (1, 0) };
            (a_keys[sa][i].clone(), b_keys[sb][i].clone())
        })
        .collect();
    for (a, b) in &pairs {
        assert_ne!(shard_of(a.as_bytes(), 2), shard_of(b.as_bytes(), 2));
    }
    let pairs = Arc::new(pairs);

    let mut s = Server::start(d1_opts());
    let mut c = s.conn();
    let mut fill: Vec<Vec<Vec<u8>>> = Vec::new();
    for l in 0..D1_FILL_LISTS {
        for from in (0..D1_FILL_ITEMS).step_by(1000) {
            let mut a = argv(&["RPUSH", &format!("fill:{l}")]);
            a.extend((from..from + 1000).map(|i| format!("item-{i}").into_bytes()));
            fill.push(a);
        }
    }
    for from in (0..20_000).step_by(1000) {
        let mut h = argv(&["HSET", "fill:hash"]);
        let mut z = argv(&["ZADD", "fill:zset"]);
        for i in from..from + 1000 {
            h.extend(argv(&[format!("field-{i}"), format!("value-{i}")]));
            z.extend(argv(&[format!("{}", i % 977), format!("member-{i}")]));
        }
        fill.push(h);
        fill.push(z);
    }
    pipeline_ok(&mut c, &fill);
    // A first snapshot: the manifest exists from the start.
    assert_eq!(c.cmd(&["SAVE"]), ok());
    drop(c);
    let mut mid_save_kills = 0;
    let mut seqs: Vec<u64> = vec![1; D1_SET_WRITERS];
    let (mut total_kills, mut total_saves, mut total_checked, mut total_tx) = (0, 0, 0u64, 0u64);
    for round in 1..=D1_ROUNDS {
        let acked = Arc::new(Acked::new());
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(SaverLog::default()));
        let mut setters: Vec<JoinHandle<u64>> = Vec::new();
        for (w, &seq) in seqs.iter().enumerate() {
            let (c, a, st) = (s.conn(), acked.clone(), stop.clone());
            setters.push(std::thread::spawn(move || set_writer(c, w, seq, a, st)));
        }
        let mut txs: Vec<JoinHandle<u64>> = Vec::new();
        for _ in 0..D1_TX_WRITERS {
            let (c, p, a, st) = (s.conn(), pairs.clone(), acked.clone(), stop.clone());
            let r = fastrand::Rng::with_seed(rng.u64(..));
            txs.push(std::thread::spawn(move || tx_writer(c, r, p, a, st)));
        }
        let saver_t = {
            let (c, a, l, st) = (s.conn(), acked.clone(), log.clone(), stop.clone());
            let r = fastrand::Rng::with_seed(rng.u64(..));
            std::thread::spawn(move || saver(c, r, a, l, st))
        };
        let kill_after = rng.u64(400..1500);
        std::thread::sleep(Duration::from_millis(kill_after));
        s.kill();
        total_kills += 1;
        stop.store(true, Ordering::SeqCst);
        for (w, h) in setters.into_iter().enumerate() {
            seqs[w] = h.join().expect("a SET writer panicked");
        }
        for h in txs {
            total_tx += h.join().expect("a transaction writer panicked");
        }
        saver_t.join().expect("the saver panicked");
        let log = std::mem::take(&mut *log.lock().unwrap());
        let at_kill = list_dir(s.dir());
        let save_ms: Vec<String> = s
            .output()
            .lines()
            .filter_map(|l| l.split("shard files, ").nth(1))
            .filter_map(|l| l.split(' ').next().map(str::to_string))
            .collect();
        eprintln!("drill 1 round {round}: save durations from the server log (ms): {save_ms:?}");
        // Beyond the manifest and its 2 shard files: a save was being written at the kill.
        let mid_save = at_kill.len() > 3;
        mid_save_kills += mid_save as u32;

        // (a) What the files named by the manifest hold, computed here; then the restart.
        let dir = s.into_dir();
        let (manifest, files) = digest_files(dir.path());
        s = Server::start_in_dir(dir, d1_opts());
        let mut c = s.conn();
        let live = digest_server(&mut c);
        assert_eq!(
            info_int(&mut c, "rdb_changes_since_last_save"),
            0,
            "round {round}: changes right after loading"
        );
        let diff = digest_diff(&files, &live, 0);
        assert!(
            diff.is_empty(),
            "round {round} (seed {seed}): the restarted keyspace differs from snapshot {}: \
             {diff:#?}",
            manifest.id
        );
        let left: Vec<String> = list_dir(s.dir())
            .into_iter()
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "round {round}: .tmp files left: {left:?}");

        // (b) Never a torn transaction.
        let num = |k: &str| -> i64 {
            match live.get(k.as_bytes()) {
                None => 0,
                Some(Entry {
                    val: Val::Str(v), ..
                }) => String::from_utf8_lossy(v).parse().unwrap(),
                Some(e) => panic!("{k} is {e:?}"),
            }
        };
        for (a, b) in pairs.iter() {
            assert_eq!(
                num(a),
                num(b),
                "round {round} (seed {seed}): a torn pair loaded: {a} vs {b}"
            );
        }

        // (c) Nothing acknowledged before the last completed BGSAVE is missing.
        let mut checked = 0u64;
        let mut lost = Vec::new();
        if let Some(com) = &log.committed {
            for (p, &want) in com.pairs.iter().enumerate() {
                checked += 1;
                if num(&pairs[p].0) < want {
                    lost.push(format!("{} = {} < {want}", pairs[p].0, num(&pairs[p].0)));
                }
            }
            for (w, keys) in com.strings.iter().enumerate() {
                for (k, &want) in keys.iter().enumerate() {
                    if want == 0 {
                        continue;
                    }
                    checked += 1;
                    let key = str_key(w, k as u64);
                    match live.get(key.as_bytes()) {
                        Some(Entry {
                            val: Val::Str(v), ..
                        }) if seq_of(v) >= want => {}
                        other => lost.push(format!("{key}: {other:?}, acked seq {want}")),
                    }
                }
            }
            for (w, lists) in com.lists.iter().enumerate() {
                for (j, &want) in lists.iter().enumerate() {
                    if want == 0 {
                        continue;
                    }
                    checked += 1;
                    let key = list_key(w, j as u64);
                    let last = match live.get(key.as_bytes()) {
                        Some(Entry {
                            val: Val::List(l), ..
                        }) => l.last().map(|e| show(e).parse::<u64>().unwrap()),
                        _ => None,
                    };
                    if last.is_none_or(|l| l < want) {
                        lost.push(format!("{key}: last {last:?}, acked {want}"));
                    }
                }
            }
        }
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}): acknowledged before the last completed BGSAVE, \
             missing after the restart: {lost:?}"
        );
        // Lists only ever grow by increasing sequence numbers.
        for (k, e) in &live {
            if !k.starts_with(b"l:") {
                continue;
            }
            if let Val::List(l) = &e.val {
                let n: Vec<u64> = l.iter().map(|x| show(x).parse().unwrap()).collect();
                assert!(
                    n.windows(2).all(|w| w[0] < w[1]),
                    "round {round}: {} out of order: {n:?}",
                    show(k)
                );
            }
        }
        eprintln!(
            "drill 1 round {round}: SIGKILL after {kill_after} ms{}; {} BGSAVEs completed ({} \
             refused as in progress); files at the kill: {at_kill:?}; snapshot {} with {} keys \
             = the restarted keyspace; {checked} acknowledged items checked, 0 lost",
            if mid_save { " (mid-save)" } else { "" },
            log.completed,
            log.refused_in_progress,
            manifest.id,
            files.len()
        );
        total_saves += log.completed;
        total_checked += checked;
    }
    eprintln!(
        "drill 1: {total_kills} kills survived ({mid_save_kills} while a BGSAVE was writing), \
         {total_saves} BGSAVEs, {total_tx} cross-shard transactions, {total_checked} \
         acknowledged items checked, 0 lost, 0 torn pairs"
    );
}

// =============================================================================================
// Drill 2: full disk and read-only directory during SAVE/BGSAVE
// =============================================================================================

/// A mount on `path`, unmounted on drop (lazily if busy), then the mount point removed if
/// `rmdir` (it was ours).
struct Mount {
    path: PathBuf,
    rmdir: bool,
}

impl Mount {
    fn tmpfs(path: &Path, size: &str) -> Result<Mount, String> {
        let p = path.to_str().unwrap();
        sys(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", p],
        )?;
        Ok(Mount {
            path: path.to_path_buf(),
            rmdir: true,
        })
    }

    /// `path` bound onto itself, read-only.
    fn read_only(path: &Path) -> Result<Mount, String> {
        let p = path.to_str().unwrap();
        sys("mount", &["--bind", p, p])?;
        let m = Mount {
            path: path.to_path_buf(),
            rmdir: false,
        };
        sys("mount", &["-o", "remount,bind,ro", p, p])?;
        Ok(m)
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let p = self.path.to_str().unwrap();
        if sys("umount", &[p]).is_err() {
            let _ = sys("umount", &["-l", p]);
        }
        if self.rmdir {
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// `chattr +i` on a directory (no entry can be created or removed in it), undone on drop.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Result<Immutable, String> {
        sys("chattr", &["+i", path.to_str().unwrap()])?;
        Ok(Immutable(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = sys("chattr", &["-i", self.0.to_str().unwrap()]);
    }
}

/// Redis 7.0.15's reply to a SAVE that fails is a bare `-ERR` (checked against redis-server:
/// a directory it cannot write). Ours must carry the same error code.
fn assert_save_error(r: &Reply, ctx: &str) -> String {
    let e = r.error_text();
    assert!(
        e == "ERR" || e.starts_with("ERR "),
        "{ctx}: SAVE must fail with Redis's ERR, got {r:?}"
    );
    e.to_string()
}

/// The checks shared by both faults, once saving has become impossible: SAVE fails with ERR,
/// BGSAVE is accepted then fails in INFO, LASTSAVE/rdb_saves do not move, the files of the
/// previous snapshot are untouched with nothing added, and the server still serves.
fn failing_saves(s: &Server, c: &mut Conn, before: &BTreeMap<String, Vec<u8>>, ctx: &str) {
    let saves = info_int(c, "rdb_saves");
    let last = c.cmd(&["LASTSAVE"]).int();
    let save_err = assert_save_error(&c.cmd(&["SAVE"]), ctx);
    assert_eq!(dir_bytes(s.dir()), *before, "{ctx}: files changed by SAVE");
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        simple("Background saving started"),
        "{ctx}"
    );
    assert_eq!(wait_bgsave(s, c), "err", "{ctx}: rdb_last_bgsave_status");
    let why = info_field(c, "rdb_last_error");
    assert!(!why.is_empty(), "{ctx}: rdb_last_error is empty");
    assert_eq!(
        dir_bytes(s.dir()),
        *before,
        "{ctx}: files changed by BGSAVE"
    );
    assert_eq!(
        info_int(c, "rdb_saves"),
        saves,
        "{ctx}: a failed save counted"
    );
    assert_eq!(c.cmd(&["LASTSAVE"]).int(), last, "{ctx}: LASTSAVE moved");
    assert!(info_int(c, "rdb_changes_since_last_save") > 0, "{ctx}");
    assert_eq!(c.cmd(&["PING"]), simple("PONG"), "{ctx}");
    assert_eq!(c.cmd(&["SET", "after-failure", "1"]), ok(), "{ctx}");
    assert_eq!(c.cmd(&["GET", "k:7"]), bulk("v7"), "{ctx}");
    eprintln!("drill 2 {ctx}: SAVE replied -{save_err}; BGSAVE status err ({why})");
}

fn small_keys(c: &mut Conn, n: usize) {
    let cmds: Vec<_> = (0..n)
        .map(|i| argv(&["SET", &format!("k:{i}"), &format!("v{i}")]))
        .collect();
    pipeline_ok(c, &cmds);
}

#[test]
fn drill2_disk_full_during_save_and_bgsave() {
    skip_on_real_redis!();
    let opts = Opts::shards(2).arg("--save").arg("");
    let base = tempfile::TempDir::new().unwrap();
    // Declared before the server: dropped (unmounted) after it, even on a panic.
    let _mount = match Mount::tmpfs(base.path(), "4m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("drill 2 disk full SKIPPED: cannot mount a tmpfs here: {why}");
            return;
        }
    };
    let mut s = Server::start_in_dir(base, opts.clone());
    let mut c = s.conn();
    small_keys(&mut c, 2000);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let snap_a = dir_bytes(s.dir());
    let digest_a = digest_server(&mut c);
    // 6 MB that LZF cannot shrink: the next snapshot cannot fit next to the current one.
    let big: Vec<Vec<Vec<u8>>> = (0..500)
        .map(|i| {
            vec![
                b"SET".to_vec(),
                format!("big:{i}").into_bytes(),
                noise(12_000, i),
            ]
        })
        .collect();
    pipeline_ok(&mut c, &big);
    failing_saves(&s, &mut c, &snap_a, "disk full (4 MB tmpfs)");
    assert_eq!(c.cmd(&["DBSIZE"]), int(2501));

    // The previous snapshot loads.
    drop(c);
    s.kill();
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, opts);
    let mut c = s.conn();
    let diff = digest_diff(&digest_a, &digest_server(&mut c), 0);
    assert!(diff.is_empty(), "after the restart: {diff:?}");
    // With room again, saving works again.
    assert_eq!(c.cmd(&["SAVE"]), ok());
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave(&s, &mut c), "ok");
}

#[test]
fn drill2_read_only_dir_during_save_and_bgsave() {
    skip_on_real_redis!();
    let opts = Opts::shards(2).arg("--save").arg("");
    let mut s = Server::start(opts.clone());
    let mut c = s.conn();
    small_keys(&mut c, 1000);
    assert_eq!(c.cmd(&["SAVE"]), ok());
    let snap_a = dir_bytes(s.dir());
    let digest_a = digest_server(&mut c);
    assert_eq!(c.cmd(&["SET", "k:7", "v7"]), ok());
    // Both ways root can be refused writes: a read-only mount (EROFS) and an immutable
    // directory (EPERM). Each guard is undone before the server's directory is removed.
    let mut tried = 0;
    match Mount::read_only(s.dir()) {
        Ok(_ro) => {
            failing_saves(&s, &mut c, &snap_a, "read-only bind mount");
            tried += 1;
        }
        Err(e) => eprintln!("drill 2 read-only bind mount SKIPPED: {e}"),
    }
    assert_eq!(
        dir_bytes(s.dir()),
        snap_a,
        "files after the read-only mount"
    );
    match Immutable::set(s.dir()) {
        Ok(_imm) => {
            failing_saves(&s, &mut c, &snap_a, "chattr +i directory");
            tried += 1;
        }
        Err(e) => eprintln!("drill 2 chattr +i SKIPPED: {e}"),
    }
    if tried == 0 {
        eprintln!("drill 2 read-only dir SKIPPED: no way to make a directory read-only here");
        return;
    }
    assert_eq!(dir_bytes(s.dir()), snap_a, "files after undoing read-only");
    drop(c);
    s.kill();
    let dir = s.into_dir();
    let s = Server::start_in_dir(dir, opts);
    let mut c = s.conn();
    let diff = digest_diff(&digest_a, &digest_server(&mut c), 0);
    assert!(diff.is_empty(), "after the restart: {diff:?}");
    assert_eq!(c.cmd(&["BGSAVE"]), simple("Background saving started"));
    assert_eq!(wait_bgsave(&s, &mut c), "ok");
}

// =============================================================================================
// Drill 3: a stalled shard does not stop the other core
// =============================================================================================

/// The server's listening sockets on `port` (one per core, SO_REUSEPORT): inode -> accept
/// queue length, from /proc/net/tcp (for a listener, `rx_queue` is its accept backlog).
fn listeners(port: u16) -> BTreeMap<u64, u64> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let want = format!(":{port:04X}");
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || !f[1].ends_with(&want) || f[3] != "0A" {
            continue;
        }
        let rx = f[4].split(':').nth(1).unwrap();
        out.insert(f[9].parse().unwrap(), u64::from_str_radix(rx, 16).unwrap());
    }
    out
}

/// Sends SIGCONT on drop: a stopped server is never left behind, even on a panic.
struct Continue(i32);

impl Drop for Continue {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.0, libc::SIGCONT);
        }
    }
}

/// True when every thread of `pid` is stopped (state T).
fn all_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|t| {
        std::fs::read_to_string(t.path().join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| r.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
    })
}

/// Opens `n` connections and tells which core's listener each landed on. CLIENT LIST/ID do not
/// say (ids are process-wide), so the server is stopped (SIGSTOP) while each connection is
/// made: the kernel completes the handshake and queues it on the listener SO_REUSEPORT chose,
/// where /proc/net/tcp shows it. Then SIGCONT; each connection answers PING.
fn classified_conns(s: &Server, n: usize) -> Vec<(u64, Conn)> {
    let pid = s.pid();
    // Earlier connections (e.g. one made just before) are accepted first.
    let mut before = BTreeMap::new();
    let idle = wait_until(WAIT, POLL, || {
        before = listeners(s.port());
        before.values().all(|&q| q == 0)
    });
    assert!(idle, "accept queues never emptied: {before:?}");
    let mut out = Vec::new();
    {
        s.signal(libc::SIGSTOP);
        let _cont = Continue(pid as i32);
        assert!(
            wait_until(WAIT, Duration::from_millis(1), || all_stopped(pid)),
            "the server did not stop"
        );
        let mut queued = before.clone();
        for i in 0..n {
            let stream = TcpStream::connect(("127.0.0.1", s.port())).expect("connect");
            let mut now = BTreeMap::new();
            let landed = wait_until(WAIT, Duration::from_millis(1), || {
                now = listeners(s.port());
                now.values().sum::<u64>() == (i + 1) as u64
            });
            assert!(
                landed,
                "connection {i} never showed in an accept queue: {now:?}"
            );
            let inode = *now
                .iter()
                .find(|(ino, q)| **q == queued[ino] + 1)
                .expect("one accept queue grew")
                .0;
            queued = now;
            stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            stream.set_nodelay(true).unwrap();
            out.push((inode, Conn::new(stream)));
        }
    }
    for (_, c) in out.iter_mut() {
        assert_eq!(c.cmd(&["PING"]), simple("PONG"));
    }
    out
}

/// What one stall showed: per listener (core), the fewest replies any of its probes had when
/// the big reply arrived.
fn stall_once(
    s: &Server,
    probes: &mut Vec<(u64, Conn)>,
    big_key: &str,
    probe_keys: &Arc<Vec<String>>,
) -> BTreeMap<u64, u64> {
    let counters: Arc<Vec<AtomicU64>> =
        Arc::new((0..probes.len()).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    let go = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for (i, (ino, c)) in probes.drain(..).enumerate() {
        let (counters, done, go, keys) = (
            counters.clone(),
            done.clone(),
            go.clone(),
            probe_keys.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let mut c = c;
            while !go.load(Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            let mut n = 0usize;
            while !done.load(Ordering::SeqCst) {
                let k = &keys[n % keys.len()];
                assert_eq!(c.cmd(&["GET", k.as_str()]), bulk(format!("val-{k}")));
                n += 1;
                counters[i].fetch_add(1, Ordering::SeqCst);
            }
            (ino, c)
        }));
    }
    let mut big = s.conn();
    // A numeric sort of the whole list, one atomic step on its owner; the reply is one item.
    big.send_cmd(&["SORT", big_key, "LIMIT", "0", "1"]);
    go.store(true, Ordering::SeqCst);
    let reply = big.read_reply();
    let at_reply: Vec<u64> = counters.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    done.store(true, Ordering::SeqCst);
    assert_eq!(reply, bulks(&["0"]), "SORT reply");
    let mut min_per_core: BTreeMap<u64, u64> = BTreeMap::new();
    for (i, t) in threads.into_iter().enumerate() {
        let (ino, c) = t.join().expect("a probe failed");
        let e = min_per_core.entry(ino).or_insert(u64::MAX);
        *e = (*e).min(at_reply[i]);
        probes.push((ino, c));
    }
    min_per_core
}

#[test]
fn drill3_stalled_shard_does_not_stop_other_cores() {
    skip_on_real_redis!();
    const N: u64 = 100;
    let s = Server::start(Opts::shards(2).arg("--save").arg(""));
    let mut c = s.conn();
    // Probes: 8 connections, more until each core's listener has at least one.
    let mut probes = classified_conns(&s, 8);
    let cores = listeners(s.port()).len();
    assert_eq!(cores, 2, "one listener per core expected");
    while probes
        .iter()
        .map(|(i, _)| *i)
        .collect::<BTreeSet<_>>()
        .len()
        < cores
    {
        assert!(probes.len() < 64, "64 connections all on one core");
        probes.extend(classified_conns(&s, 4));
    }
    let per_core = |p: &[(u64, Conn)]| {
        let mut m: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, _) in p {
            *m.entry(*i).or_default() += 1;
        }
        m
    };
    eprintln!(
        "drill 3: probes per core listener (inode: count): {:?}",
        per_core(&probes)
    );

    let mut free_core_of = Vec::new();
    for stalled in 0..2usize {
        let other = 1 - stalled;
        let big_key = keys_per_shard("big:", 2, 1)[stalled][0].clone();
        let probe_keys: Vec<String> = keys_per_shard("probe:", 2, 50)[other].clone();
        pipeline_ok(
            &mut c,
            &probe_keys
                .iter()
                .map(|k| argv(&["SET", k, &format!("val-{k}")]))
                .collect::<Vec<_>>(),
        );
        let probe_keys = Arc::new(probe_keys);
        let mut len = 0usize;
        let mut result = None;
        for attempt in 0..3 {
            // 400k elements (doubled on a retry if the stall was too short to tell).
            let target = 400_000usize << attempt;
            let cmds: Vec<Vec<Vec<u8>>> = (len..target)
                .step_by(1000)
                .map(|from| {
                    let mut a = vec![b"RPUSH".to_vec(), big_key.as_bytes().to_vec()];
                    a.extend(
                        (from..from + 1000).map(|i| ((i * 7919) % target).to_string().into_bytes()),
                    );
                    a
                })
                .collect();
            pipeline_ok(&mut c, &cmds);
            len = target;
            let mins = stall_once(&s, &mut probes, &big_key, &probe_keys);
            let free: Vec<u64> = mins
                .iter()
                .filter(|(_, &m)| m >= N)
                .map(|(i, _)| *i)
                .collect();
            eprintln!(
                "drill 3: SORT of {len} elements on shard {stalled}: fewest GET replies per \
                 probe of each core before the SORT reply: {mins:?}"
            );
            if free.len() == 1 {
                result = Some(free[0]);
                break;
            }
        }
        let free = result.unwrap_or_else(|| {
            panic!(
                "shard {stalled} busy: no single core's probes all got {N} replies before the \
                 big reply in 3 attempts"
            )
        });
        free_core_of.push(free);
        assert_eq!(c.cmd(&["DEL", big_key.as_str()]), int(1));
    }
    assert_ne!(
        free_core_of[0], free_core_of[1],
        "the same core kept serving whichever shard was busy"
    );
    eprintln!(
        "drill 3: with shard 0 busy the core of listener {} served, with shard 1 busy the core \
         of listener {}",
        free_core_of[0], free_core_of[1]
    );
}

// =============================================================================================
// Drill 4: differential against redis-server 7.0
// =============================================================================================

const D4_CLIENTS: usize = 8;
const D4_COMMANDS: usize = 3000;

/// How to compare a reply.
#[derive(Clone, Debug)]
enum Norm {
    Exact,
    /// An unordered array (SMEMBERS, HKEYS…).
    Sorted,
    /// An unordered array of pairs (HGETALL).
    SortedPairs,
    /// A TTL-like integer: positive values may differ by the tolerance (the servers run the
    /// command at slightly different times).
    Ttl(i64),
    /// EXEC: one norm per queued command.
    Exec(Vec<Norm>),
}

fn normalized(r: &Reply, n: &Norm) -> Reply {
    match (n, r) {
        (Norm::Sorted, Reply::Array(v)) => {
            let mut v = v.clone();
            v.sort_by_key(|x| format!("{x:?}"));
            Reply::Array(v)
        }
        (Norm::SortedPairs, Reply::Array(v)) => {
            let mut p: Vec<Vec<Reply>> = v.chunks(2).map(|c| c.to_vec()).collect();
            p.sort_by_key(|x| format!("{x:?}"));
            Reply::Array(p.concat())
        }
        _ => r.clone(),
    }
}

fn same(a: &Reply, b: &Reply, n: &Norm) -> bool {
    match (n, a, b) {
        (Norm::Ttl(tol), Reply::Int(x), Reply::Int(y)) if *x > 0 && *y > 0 => (x - y).abs() <= *tol,
        (Norm::Exec(ns), Reply::Array(x), Reply::Array(y)) => {
            x.len() == y.len()
                && ns.len() == x.len()
                && x.iter().zip(y).zip(ns).all(|((p, q), n)| same(p, q, n))
        }
        _ => normalized(a, n) == normalized(b, n),
    }
}

/// One client's seeded command stream over its own keys: `c<i>:<pool><n>` and, for RENAME/COPY
/// that must stay on one shard, `{c<i>}r<n>`.
struct Gen {
    rng: fastrand::Rng,
    p: String,
    tag: String,
    ttls: HashSet<u64>,
    now_s: u64,
}

type Cmd = (Vec<String>, Norm);

macro_rules! c {
    ($($a:expr),* $(,)?) => { vec![$($a.to_string()),*] };
}

impl Gen {
    fn new(client: usize, seed: u64) -> Gen {
        Gen {
            rng: fastrand::Rng::with_seed(seed ^ (client as u64).wrapping_mul(0x9E37_79B9)),
            p: format!("c{client}:"),
            tag: format!("{{c{client}}}"),
            ttls: HashSet::new(),
            now_s: (now_ms() / 1000) as u64,
        }
    }
    fn k(&mut self, pool: &str, n: usize) -> String {
        format!("{}{pool}{}", self.p, self.rng.usize(0..n))
    }
    fn s(&mut self) -> String {
        self.k("s", 6)
    }
    fn num(&mut self) -> String {
        self.k("n", 3)
    }
    fn flt(&mut self) -> String {
        self.k("f", 2)
    }
    fn l(&mut self) -> String {
        self.k("l", 4)
    }
    fn h(&mut self) -> String {
        self.k("h", 3)
    }
    fn t(&mut self) -> String {
        self.k("t", 4)
    }
    fn z(&mut self) -> String {
        self.k("z", 3)
    }
    fn zl(&mut self) -> String {
        format!("{}zl", self.p)
    }
    fn r(&mut self) -> String {
        format!("{}r{}", self.tag, self.rng.usize(0..4))
    }
    /// Any key of the client: most commands land on the right type, some on the wrong one.
    fn any(&mut self) -> String {
        match self.rng.u32(0..9) {
            0 => self.s(),
            1 => self.num(),
            2 => self.l(),
            3 => self.h(),
            4 => self.t(),
            5 => self.z(),
            6 => self.flt(),
            7 => self.zl(),
            _ => self.r(),
        }
    }
    /// A far-future TTL in seconds, never repeated: GT/LT comparisons never see a tie.
    fn ttl(&mut self) -> u64 {
        loop {
            let t = 100_000 + self.rng.u64(0..2_000_000) * 3;
            if self.ttls.insert(t) {
                return t;
            }
        }
    }
    fn val(&mut self) -> String {
        match self.rng.u32(0..7) {
            0 => String::new(),
            1 => format!("{}{}", "L".repeat(70), self.rng.u32(0..5)),
            2 => self.rng.i64(-100..100).to_string(),
            3 => format!("{}", self.rng.u64(0..1 << 40)),
            _ => format!("v{}", self.rng.u32(0..30)),
        }
    }
    fn int(&mut self, lo: i64, hi: i64) -> String {
        self.rng.i64(lo..=hi).to_string()
    }
    fn elem(&mut self) -> String {
        format!("e{}", self.rng.u32(0..8))
    }
    fn field(&mut self) -> String {
        format!("f{}", self.rng.u32(0..8))
    }
    fn member(&mut self) -> String {
        if self.rng.bool() {
            self.rng.u32(0..20).to_string()
        } else {
            format!("m{}", self.rng.u32(0..12))
        }
    }
    fn score(&mut self) -> String {
        match self.rng.u32(0..12) {
            0 => "+inf".into(),
            1 => "-inf".into(),
            2 => format!("{}.5", self.rng.i32(-5..5)),
            3 => "0.1".into(),
            4 => "1e3".into(),
            _ => self.rng.i32(-5..6).to_string(),
        }
    }
    fn range_score(&mut self) -> String {
        match self.rng.u32(0..5) {
            0 => "-inf".into(),
            1 => "+inf".into(),
            2 => format!("({}", self.rng.i32(-5..6)),
            _ => self.rng.i32(-5..6).to_string(),
        }
    }
    fn lex(&mut self) -> String {
        match self.rng.u32(0..5) {
            0 => "-".into(),
            1 => "+".into(),
            2 => format!("(m{}", self.rng.u32(0..12)),
            _ => format!("[m{}", self.rng.u32(0..12)),
        }
    }
    fn idx(&mut self) -> String {
        self.int(-6, 6)
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.rng.usize(0..v.len())]
    }

    /// A command outside MULTI: sometimes a whole transaction.
    fn next(&mut self) -> Vec<Cmd> {
        if self.rng.u32(0..40) == 0 {
            let n = self.rng.usize(2..5);
            let mut v = Vec::new();
            if self.rng.u32(0..4) == 0 {
                let k = self.any();
                v.push((c!["WATCH", k], Norm::Exact));
            }
            v.push((c!["MULTI"], Norm::Exact));
            let mut norms = Vec::new();
            let abort = self.rng.u32(0..10) == 0;
            for i in 0..n {
                if abort && i == 1 {
                    // Wrong arity: queued as an error, EXEC aborts.
                    v.push((c!["LPUSH", self.l()], Norm::Exact));
                    continue;
                }
                let (a, norm) = self.one();
                norms.push(norm);
                v.push((a, Norm::Exact));
            }
            if self.rng.u32(0..8) == 0 {
                v.push((c!["DISCARD"], Norm::Exact));
            } else {
                v.push((c!["EXEC"], Norm::Exec(norms)));
            }
            return v;
        }
        vec![self.one()]
    }

    /// One command of any type.
    fn one(&mut self) -> Cmd {
        use Norm::*;
        let e = Exact;
        match self.rng.u32(0..104) {
            // ---- strings
            0..=2 => {
                let (k, v) = (self.s(), self.val());
                let mut a = c!["SET", k, v];
                match self.rng.u32(0..6) {
                    0 => a.push("NX".into()),
                    1 => a.push("XX".into()),
                    _ => {}
                }
                if self.rng.u32(0..3) == 0 {
                    a.push("GET".into());
                }
                match self.rng.u32(0..5) {
                    0 => a.extend(c!["EX", self.ttl()]),
                    1 => a.extend(c!["PX", self.ttl() * 1000]),
                    2 => a.push("KEEPTTL".into()),
                    _ => {}
                }
                (a, e)
            }
            3 => (c!["GET", self.any()], e),
            4 => (c!["SETNX", self.s(), self.val()], e),
            5 => (
                c!["MSET", self.s(), self.val(), self.num(), self.int(-50, 50)],
                e,
            ),
            6 => (c!["MGET", self.s(), self.num(), self.any()], e),
            7 => (c!["APPEND", self.s(), self.val()], e),
            8 => (c!["STRLEN", self.any()], e),
            9 => (c!["INCR", self.num()], e),
            10 => (c!["DECRBY", self.num(), self.int(-1000, 1000)], e),
            11 => (c!["INCRBY", self.any(), self.int(-10, 10)], e),
            12 => {
                let by = self.pick(&["0.1", "1.5", "-2.25", "3e2", "10", "-0.3", "1.0e-2"]);
                (c!["INCRBYFLOAT", self.flt(), by], e)
            }
            13 => (c!["SETRANGE", self.s(), self.int(0, 20), self.val()], e),
            14 => (c!["GETRANGE", self.s(), self.idx(), self.idx()], e),
            15 => (c!["GETDEL", self.s()], e),
            16 => {
                let k = self.s();
                match self.rng.u32(0..3) {
                    0 => (c!["GETEX", k, "EX", self.ttl()], e),
                    1 => (c!["GETEX", k, "PERSIST"], e),
                    _ => (c!["GETEX", k], e),
                }
            }
            17 => (c!["SETBIT", self.s(), self.int(0, 40), self.int(0, 1)], e),
            18 => (c!["GETBIT", self.s(), self.int(0, 40)], e),
            19 => (c!["MSETNX", self.s(), self.val(), self.s(), self.val()], e),
            // ---- keys
            20 | 21 => {
                let n = self.rng.usize(1..4);
                let mut a = c!["DEL"];
                for _ in 0..n {
                    a.push(self.any());
                }
                (a, e)
            }
            22 => (c!["EXISTS", self.any(), self.any()], e),
            23 => (c!["TYPE", self.any()], e),
            24 => (c!["TTL", self.any()], Ttl(3)),
            25 => (c!["PTTL", self.any()], Ttl(3000)),
            26 | 27 => {
                let mut a = c!["EXPIRE", self.any(), self.ttl()];
                if self.rng.bool() {
                    a.push(self.pick(&["NX", "XX", "GT", "LT"]).into());
                }
                (a, e)
            }
            28 => (c!["PEXPIRE", self.any(), self.ttl() * 1000], e),
            29 => (c!["EXPIREAT", self.any(), self.now_s + self.ttl()], e),
            30 => (c!["PERSIST", self.any()], e),
            31 => (c!["EXPIRETIME", self.any()], Ttl(3)),
            32 | 33 => (c!["RENAME", self.r(), self.r()], e),
            34 => (c!["RENAMENX", self.r(), self.r()], e),
            35 => {
                let mut a = c!["COPY", self.r(), self.r()];
                if self.rng.bool() {
                    a.push("REPLACE".into());
                }
                (a, e)
            }
            36 => {
                // Within a pool of one type, the two keys may live on different shards.
                let (a, b) = match self.rng.u32(0..4) {
                    0 => (self.s(), self.s()),
                    1 => (self.l(), self.l()),
                    2 => (self.h(), self.h()),
                    _ => (self.z(), self.z()),
                };
                (c![self.pick(&["RENAME", "COPY"]), a, b], e)
            }
            37 => {
                let k = self.r();
                match self.rng.u32(0..3) {
                    0 => (c!["SET", k, self.val()], e),
                    1 => (c!["RPUSH", k, self.elem(), self.elem()], e),
                    _ => (c!["SADD", k, self.member()], e),
                }
            }
            38 => (c!["TOUCH", self.any(), self.any()], e),
            // ---- lists
            39..=41 => {
                let mut a = c![self.pick(&["LPUSH", "RPUSH"]), self.l()];
                for _ in 0..self.rng.usize(1..4) {
                    a.push(self.elem());
                }
                (a, e)
            }
            42 => (
                c![self.pick(&["LPUSHX", "RPUSHX"]), self.l(), self.elem()],
                e,
            ),
            43 | 44 => {
                let mut a = c![self.pick(&["LPOP", "RPOP"]), self.l()];
                if self.rng.bool() {
                    a.push(self.int(0, 3));
                }
                (a, e)
            }
            45 => (c!["LLEN", self.l()], e),
            46 | 47 => (c!["LRANGE", self.l(), self.idx(), self.idx()], e),
            48 => (c!["LINDEX", self.l(), self.idx()], e),
            49 => (c!["LSET", self.l(), self.idx(), self.elem()], e),
            50 => (c!["LREM", self.l(), self.int(-2, 2), self.elem()], e),
            51 => (c!["LTRIM", self.l(), self.idx(), self.int(-1, 10)], e),
            52 => {
                let w = self.pick(&["BEFORE", "AFTER"]);
                (c!["LINSERT", self.l(), w, self.elem(), self.elem()], e)
            }
            53 => {
                let mut a = c!["LPOS", self.l(), self.elem()];
                if self.rng.bool() {
                    a.extend(c!["RANK", self.pick(&["1", "2", "-1"])]);
                }
                if self.rng.bool() {
                    a.extend(c!["COUNT", self.int(0, 3)]);
                }
                (a, e)
            }
            54 => {
                let (x, y) = (self.pick(&["LEFT", "RIGHT"]), self.pick(&["LEFT", "RIGHT"]));
                (c!["LMOVE", self.l(), self.l(), x, y], e)
            }
            55 => (c!["RPOPLPUSH", self.l(), self.l()], e),
            56 => {
                let w = self.pick(&["LEFT", "RIGHT"]);
                (
                    c!["LMPOP", 2, self.l(), self.l(), w, "COUNT", self.int(1, 3)],
                    e,
                )
            }
            // ---- hashes
            57..=59 => {
                let mut a = c!["HSET", self.h()];
                for _ in 0..self.rng.usize(1..4) {
                    a.push(self.field());
                    a.push(self.val());
                }
                (a, e)
            }
            60 => (c!["HSETNX", self.h(), self.field(), self.val()], e),
            61 => (c!["HGET", self.h(), self.field()], e),
            62 => (c!["HMGET", self.h(), self.field(), self.field()], e),
            63 => (c!["HDEL", self.h(), self.field(), self.field()], e),
            64 => (c![self.pick(&["HLEN", "HKEYS", "HVALS"]), self.h()], Sorted),
            65 => (c!["HSTRLEN", self.h(), self.field()], e),
            66 => (c!["HEXISTS", self.h(), self.field()], e),
            67 => (c!["HGETALL", self.h()], SortedPairs),
            68 => (c!["HINCRBY", self.h(), self.field(), self.int(-5, 5)], e),
            69 => {
                let by = self.pick(&["0.5", "-1.25", "2", "0.1"]);
                (c!["HINCRBYFLOAT", self.h(), self.field(), by], e)
            }
            // ---- sets
            70..=72 => {
                let mut a = c!["SADD", self.t()];
                for _ in 0..self.rng.usize(1..4) {
                    a.push(self.member());
                }
                (a, e)
            }
            73 => (c!["SREM", self.t(), self.member(), self.member()], e),
            74 => (c!["SMEMBERS", self.t()], Sorted),
            75 => (c!["SISMEMBER", self.t(), self.member()], e),
            76 => (c!["SMISMEMBER", self.t(), self.member(), self.member()], e),
            77 => (c!["SCARD", self.t()], e),
            78 => (c!["SMOVE", self.t(), self.t(), self.member()], e),
            79 => (
                c![
                    self.pick(&["SINTER", "SUNION", "SDIFF"]),
                    self.t(),
                    self.t(),
                    self.t()
                ],
                Sorted,
            ),
            80 => (c!["SINTERCARD", 2, self.t(), self.t()], e),
            81 => (
                c![
                    self.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
                    self.t(),
                    self.t(),
                    self.t()
                ],
                e,
            ),
            // ---- sorted sets
            82..=84 => {
                let mut a = c!["ZADD", self.z()];
                match self.rng.u32(0..8) {
                    0 => a.push("NX".into()),
                    1 => a.push("XX".into()),
                    2 => a.push(self.pick(&["GT", "LT"]).into()),
                    _ => {}
                }
                if self.rng.u32(0..3) == 0 {
                    a.push("CH".into());
                }
                if self.rng.u32(0..6) == 0 {
                    a.push("INCR".into());
                    a.push(self.score());
                    a.push(self.member());
                } else {
                    for _ in 0..self.rng.usize(1..4) {
                        a.push(self.score());
                        a.push(self.member());
                    }
                }
                (a, e)
            }
            85 => (c!["ZINCRBY", self.z(), self.score(), self.member()], e),
            86 => (c!["ZREM", self.z(), self.member(), self.member()], e),
            87 => {
                let k = self.z();
                if self.rng.bool() {
                    (c!["ZCARD", k], e)
                } else {
                    (c!["ZRANGE", k, 0, -1, "WITHSCORES"], e)
                }
            }
            88 => (c!["ZSCORE", self.z(), self.member()], e),
            89 => (c!["ZMSCORE", self.z(), self.member(), self.member()], e),
            90 => (
                c![self.pick(&["ZRANK", "ZREVRANK"]), self.z(), self.member()],
                e,
            ),
            91 => (
                c!["ZCOUNT", self.z(), self.range_score(), self.range_score()],
                e,
            ),
            92 => {
                let mut a = c![
                    self.pick(&["ZRANGE", "ZREVRANGE"]),
                    self.z(),
                    self.idx(),
                    self.idx()
                ];
                if self.rng.bool() {
                    a.push("WITHSCORES".into());
                }
                (a, e)
            }
            93 => {
                let mut a = c![
                    "ZRANGEBYSCORE",
                    self.z(),
                    self.range_score(),
                    self.range_score()
                ];
                if self.rng.bool() {
                    a.push("WITHSCORES".into());
                }
                if self.rng.bool() {
                    a.extend(c!["LIMIT", self.int(0, 2), self.int(-1, 3)]);
                }
                (a, e)
            }
            94 => {
                let mut a = c![self.pick(&["ZPOPMIN", "ZPOPMAX"]), self.z()];
                if self.rng.bool() {
                    a.push(self.int(0, 3));
                }
                (a, e)
            }
            95 => match self.rng.u32(0..2) {
                0 => (c!["ZREMRANGEBYRANK", self.z(), self.idx(), self.idx()], e),
                _ => (
                    c![
                        "ZREMRANGEBYSCORE",
                        self.z(),
                        self.range_score(),
                        self.range_score()
                    ],
                    e,
                ),
            },
            96 => {
                let op = self.pick(&["ZUNIONSTORE", "ZINTERSTORE"]);
                let mut a = c![op, self.z(), 2, self.z(), self.z()];
                if self.rng.bool() {
                    a.extend(c!["WEIGHTS", self.int(-2, 3), self.int(0, 2)]);
                }
                if self.rng.bool() {
                    a.extend(c!["AGGREGATE", self.pick(&["SUM", "MIN", "MAX"])]);
                }
                (a, e)
            }
            97 => {
                let op = self.pick(&["ZUNION", "ZINTER", "ZDIFF"]);
                (c![op, 2, self.z(), self.z(), "WITHSCORES"], e)
            }
            98 => {
                // All scores 0 in this one, so lexicographic ranges are defined.
                let k = self.zl();
                match self.rng.u32(0..5) {
                    0 | 1 => (c!["ZADD", k, 0, self.member(), 0, self.member()], e),
                    2 => (c!["ZRANGEBYLEX", k, self.lex(), self.lex()], e),
                    3 => (c!["ZLEXCOUNT", k, self.lex(), self.lex()], e),
                    _ => (c!["ZREMRANGEBYLEX", k, self.lex(), self.lex()], e),
                }
            }
            99 => (
                c!["ZRANGESTORE", self.z(), self.z(), self.idx(), self.idx()],
                e,
            ),
            // ---- big collections, past the small encodings' limits (128/512 entries, 64 bytes)
            100 | 101 => {
                let k = self.rng.u32(0..3);
                let key = format!("{}big{k}", self.p);
                let mut a = match k {
                    0 => c!["ZADD", key],
                    1 => c!["SADD", key],
                    _ => c!["HSET", key],
                };
                for _ in 0..10 {
                    let m = self.rng.u32(0..700).to_string();
                    match k {
                        0 => a.extend(c![self.rng.i32(-50..50), format!("w{m}")]),
                        1 => a.push(m),
                        _ => a.extend(c![format!("w{m}"), self.val()]),
                    }
                }
                (a, e)
            }
            _ => {
                let big = |g: &Gen, k: u32| format!("{}big{k}", g.p);
                match self.rng.u32(0..7) {
                    0 => (
                        c![
                            "ZRANGE",
                            big(self, 0),
                            self.int(-200, 200),
                            self.int(-200, 200),
                            "WITHSCORES"
                        ],
                        e,
                    ),
                    1 => (
                        c!["ZRANK", big(self, 0), format!("w{}", self.rng.u32(0..700))],
                        e,
                    ),
                    2 => (
                        c!["ZCOUNT", big(self, 0), self.int(-50, 50), self.int(-50, 50)],
                        e,
                    ),
                    3 => (c!["SMEMBERS", big(self, 1)], Sorted),
                    4 => (c!["SISMEMBER", big(self, 1), self.rng.u32(0..700)], e),
                    5 => (c!["HGETALL", big(self, 2)], SortedPairs),
                    _ => (
                        c![
                            "SREM",
                            big(self, 1),
                            self.rng.u32(0..700),
                            self.rng.u32(0..700)
                        ],
                        e,
                    ),
                }
            }
        }
    }
}

/// Runs client `i`'s stream against both servers, comparing every reply; the first difference
/// as an error with the recent history.
fn differential_client(
    i: usize,
    seed: u64,
    mut lite: Conn,
    mut real: Conn,
) -> Result<(usize, BTreeMap<String, u64>), String> {
    // Reply kinds seen (errors by code): the stream's coverage.
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut g = Gen::new(i, seed);
    let mut sent = 0;
    let mut history: Vec<String> = Vec::new();
    while sent < D4_COMMANDS {
        for (a, norm) in g.next() {
            let ours = lite.cmd(&a);
            let theirs = real.cmd(&a);
            history.push(format!("{a:?} -> {theirs:?}"));
            let kind = match &theirs {
                Reply::Error(e) => e.split(' ').next().unwrap_or("").to_string(),
                Reply::Nil | Reply::NilArray => "nil".into(),
                Reply::Array(_) if a[0] == "EXEC" => "EXEC executed".into(),
                Reply::Array(_) => "array".into(),
                Reply::Int(_) => "integer".into(),
                _ => "string".into(),
            };
            *kinds.entry(kind).or_default() += 1;
            if !same(&ours, &theirs, &norm) {
                let start = history.len().saturating_sub(12);
                return Err(format!(
                    "client {i}, command #{sent}: {a:?}\n  redis-server: {theirs:?}\n  \
                     redis-lite:   {ours:?}\n  before (redis-server's replies):\n    {}",
                    history[start..history.len() - 1].join("\n    ")
                ));
            }
            sent += 1;
        }
    }
    Ok((sent, kinds))
}

#[test]
fn drill4_differential_against_redis_server() {
    skip_on_real_redis!();
    let Some(real) = RedisServer::start() else {
        eprintln!("drill 4 SKIPPED: /usr/bin/redis-server is not installed");
        return;
    };
    let seed = seed("drill 4");
    let lite = Server::start(Opts::shards(2).arg("--save").arg(""));
    let handles: Vec<_> = (0..D4_CLIENTS)
        .map(|i| {
            let (l, r) = (lite.conn(), real.conn());
            std::thread::spawn(move || differential_client(i, seed, l, r))
        })
        .collect();
    let mut sent = 0;
    let mut diffs = Vec::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for h in handles {
        match h.join().expect("a client thread panicked") {
            Ok((n, k)) => {
                sent += n;
                for (kind, count) in k {
                    *kinds.entry(kind).or_default() += count;
                }
            }
            Err(e) => diffs.push(e),
        }
    }
    assert!(
        diffs.is_empty(),
        "seed {seed}: replies differ:\n{}",
        diffs.join("\n\n")
    );
    let ours = digest_server(&mut lite.conn());
    let theirs = digest_server(&mut real.conn());
    let diff = digest_diff(&theirs, &ours, 3000);
    assert!(
        diff.is_empty(),
        "seed {seed}: final keyspaces differ (redis-server first): {diff:#?}"
    );
    // The stream reached errors, aborted and executed transactions, not only happy paths.
    for kind in ["WRONGTYPE", "ERR", "EXECABORT", "EXEC executed", "nil"] {
        assert!(
            kinds.contains_key(kind),
            "no {kind} reply in the stream: {kinds:?}"
        );
    }
    eprintln!("drill 4: reply kinds: {kinds:?}");
    let volatile = ours.values().filter(|e| e.expire_ms.is_some()).count();
    eprintln!(
        "drill 4: {sent} commands from {D4_CLIENTS} clients, every reply equal; final keyspaces \
         equal: {} keys ({volatile} with a TTL)",
        ours.len()
    );
}

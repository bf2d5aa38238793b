//! Proof with real client libraries (issue #7): each library used the way an application uses
//! it — connect, strings, pipelines, errors as the library's error type, every data type, scan
//! iteration, expiry and transactions — against a server started by the harness.
//!
//! - redis-py 5.x (`tests/clients/python/test_redis_py.py`), RESP2 and RESP3 (`protocol=3`);
//! - ioredis 5.x (`tests/clients/node/*.test.js`);
//! - the Rust `redis` crate, async on tokio (in this file).
//!
//! The Python and Node suites run as subprocesses with the server's port in `REDIS_PORT`; their
//! packages live in git-ignored folders that `tests/clients/install.sh` (run by `.ci/run`)
//! fills. A missing interpreter or package is a failure, not a skip. Transaction tests are kept
//! apart (`*_transactions`) so their state shows on its own. With `REDIS_LITE_TEST_REDIS=1`
//! everything runs against the real redis-server 7.0 instead.

mod common;

use common::*;
use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, ErrorKind, RedisResult, ServerErrorKind, Value};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest one external suite may run before it is killed (they take a second or two).
const SUITE_LIMIT: Duration = Duration::from_secs(90);

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

const INSTALL_HINT: &str = "install the client libraries with `bash tests/clients/install.sh` \
     (`.ci/run` does this)";

/// Runs `cmd` (its own process group) with `REDIS_PORT` set to the server's port, bounded by
/// [`SUITE_LIMIT`]; panics with everything it printed unless it exits 0.
fn run_suite(name: &str, mut cmd: Command, server: &Server) {
    let out_dir = tempfile::TempDir::new().expect("temp dir");
    let log_path = out_dir.path().join("output.txt");
    let log = File::create(&log_path).expect("create output file");
    cmd.env("REDIS_PORT", server.port().to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup output file"))
        .stderr(log)
        .process_group(0);
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{name}: cannot start {cmd:?}: {e}; {INSTALL_HINT}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for suite") {
            break Some(status);
        }
        if started.elapsed() > SUITE_LIMIT {
            // Kill the whole group we started (a runner may have children of its own).
            unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    match status {
        Some(s) if s.success() => {}
        Some(s) => panic!(
            "{name} failed ({s}) against {}:\n{output}\n--- server output ---\n{}",
            target_name(),
            server.output()
        ),
        None => panic!("{name} did not finish within {SUITE_LIMIT:?}; output so far:\n{output}"),
    }
}

fn target_name() -> &'static str {
    if real_redis() {
        "redis-server"
    } else {
        "redis-lite"
    }
}

// ---------------------------------------------------------------------------------------------
// redis-py
// ---------------------------------------------------------------------------------------------

fn python() -> PathBuf {
    let py = clients_dir().join("python/.venv/bin/python");
    assert!(
        py.exists(),
        "no Python virtual environment at {}: {INSTALL_HINT}",
        py.display()
    );
    let check = Command::new(&py)
        .args([
            "-c",
            "import redis, sys; sys.exit(0 if redis.__version__.startswith('5.') else 3)",
        ])
        .output()
        .expect("run the venv's python");
    assert!(
        check.status.success(),
        "redis-py 5.x is not installed in {} ({}): {INSTALL_HINT}",
        py.display(),
        String::from_utf8_lossy(&check.stderr)
    );
    py
}

fn redis_py(class: &str, protocol: u8) {
    let py = python();
    let server = Server::new();
    let mut cmd = Command::new(py);
    cmd.current_dir(clients_dir().join("python"))
        .args(["-m", "unittest", "-v", &format!("test_redis_py.{class}")])
        .env("REDIS_PROTOCOL", protocol.to_string());
    run_suite(&format!("redis-py RESP{protocol} {class}"), cmd, &server);
}

#[test]
fn redis_py_resp2() {
    redis_py("Basics", 2);
}

#[test]
fn redis_py_resp3() {
    redis_py("Basics", 3);
}

#[test]
fn redis_py_resp2_transactions() {
    redis_py("Transactions", 2);
}

#[test]
fn redis_py_resp3_transactions() {
    redis_py("Transactions", 3);
}

// ---------------------------------------------------------------------------------------------
// ioredis
// ---------------------------------------------------------------------------------------------

fn ioredis(file: &str) {
    let dir = clients_dir().join("node");
    let pkg = dir.join("node_modules/ioredis/package.json");
    assert!(
        pkg.exists(),
        "ioredis is not installed ({} is missing): {INSTALL_HINT}",
        pkg.display()
    );
    let server = Server::new();
    let mut cmd = Command::new("node");
    // Run the file directly (tests run in this process; exit code 1 if any failed).
    cmd.current_dir(&dir).arg(file);
    run_suite(&format!("ioredis {file}"), cmd, &server);
}

#[test]
fn ioredis_basics() {
    ioredis("basics.test.js");
}

#[test]
fn ioredis_transactions() {
    ioredis("transactions.test.js");
}

// ---------------------------------------------------------------------------------------------
// The Rust `redis` crate, async (tokio)
// ---------------------------------------------------------------------------------------------

/// Runs an async test body on a current-thread tokio runtime, bounded in time.
fn block_on(f: impl Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), f)
            .await
            .expect("async test did not finish within 60 s")
    });
}

async fn connect(server: &Server, resp3: bool) -> MultiplexedConnection {
    let url = if resp3 {
        format!("redis://127.0.0.1:{}/?protocol=resp3", server.port())
    } else {
        format!("redis://127.0.0.1:{}/", server.port())
    };
    let client = redis::Client::open(url).expect("client");
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(IO_TIMEOUT))
        .set_response_timeout(Some(IO_TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("async connection")
}

async fn strings_and_errors(resp3: bool) {
    let server = Server::new();
    let mut con = connect(&server, resp3).await;
    let pong: String = redis::cmd("PING").query_async(&mut con).await.unwrap();
    assert_eq!(pong, "PONG");
    let _: () = con.set("greeting", "hello").await.unwrap();
    let v: Option<String> = con.get("greeting").await.unwrap();
    assert_eq!(v.as_deref(), Some("hello"));
    let missing: Option<String> = con.get("missing").await.unwrap();
    assert_eq!(missing, None);
    let n: i64 = con.incr("counter", 5).await.unwrap();
    assert_eq!(n, 5);
    let f: f64 = con.incr("float", 1.5).await.unwrap();
    assert_eq!(f, 1.5);
    let _: () = con.mset(&[("a", "1"), ("b", "2")]).await.unwrap();
    let vals: Vec<Option<String>> = con.mget(&["a", "nope", "b"]).await.unwrap();
    assert_eq!(vals, vec![Some("1".into()), None, Some("2".into())]);
    let blob: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let _: () = con.set("blob", &blob[..]).await.unwrap();
    let back: Vec<u8> = con.get("blob").await.unwrap();
    assert_eq!(back, blob);

    // WRONGTYPE surfaces as a server error of the library's error type.
    let _: () = con.rpush("list", "x").await.unwrap();
    let e = con.get::<_, String>("list").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Extension, "{e:?}");
    assert_eq!(e.code(), Some("WRONGTYPE"), "{e:?}");
    assert_eq!(
        e.detail(),
        Some("Operation against a key holding the wrong kind of value")
    );
    let e = con.incr::<_, _, i64>("greeting", 1).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Server(ServerErrorKind::ResponseError),
        "{e:?}"
    );
    assert_eq!(e.detail(), Some("value is not an integer or out of range"));
    let e = redis::cmd("NOSUCHCOMMAND")
        .arg("x")
        .query_async::<Value>(&mut con)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ERR"), "{e:?}");
    assert!(
        e.detail()
            .unwrap_or("")
            .starts_with("unknown command 'NOSUCHCOMMAND'"),
        "{e:?}"
    );
    // The connection is still fine.
    let v: String = con.get("greeting").await.unwrap();
    assert_eq!(v, "hello");
}

#[test]
fn rust_redis_async_strings_and_errors() {
    block_on(strings_and_errors(false));
}

#[test]
fn rust_redis_async_resp3_strings_and_errors() {
    block_on(strings_and_errors(true));
}

#[test]
fn rust_redis_async_pipeline() {
    block_on(async {
        let server = Server::new();
        let mut con = connect(&server, false).await;
        let mut p = redis::pipe();
        for i in 0..500 {
            p.set(format!("k:{i}"), i).ignore();
        }
        for i in 0..500 {
            p.get(format!("k:{i}"));
        }
        let got: Vec<i64> = p.query_async(&mut con).await.unwrap();
        assert_eq!(got, (0..500).collect::<Vec<i64>>());
        let (n, list): (i64, Vec<String>) = redis::pipe()
            .incr("c", 1)
            .rpush("l", &["a", "b"])
            .ignore()
            .lrange("l", 0, -1)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!((n, list), (1, vec!["a".to_string(), "b".to_string()]));

        // An error in the middle: the query fails as a whole with the server's error ...
        let e = redis::pipe()
            .set("s", "v")
            .lpush("s", "x")
            .set("after", "1")
            .query_async::<Value>(&mut con)
            .await
            .unwrap_err();
        assert!(format!("{e:?}").contains("WRONGTYPE"), "{e:?}");
        // ... but (no transaction) the commands around it ran.
        let after: Option<String> = con.get("after").await.unwrap();
        assert_eq!(after.as_deref(), Some("1"));
        // ignore_errors() hands back each command's own result.
        let res: Vec<RedisResult<String>> = redis::pipe()
            .get("s")
            .incr("s", 1)
            .get("after")
            .ignore_errors()
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(res[0].as_deref().ok(), Some("v"));
        let e = res[1].as_ref().unwrap_err();
        assert_eq!(e.detail(), Some("value is not an integer or out of range"));
        assert_eq!(res[2].as_deref().ok(), Some("1"));
        let size: i64 = redis::cmd("DBSIZE").query_async(&mut con).await.unwrap();
        assert_eq!(size, 504);
    });
}

async fn data_types(resp3: bool) {
    let server = Server::new();
    let mut con = connect(&server, resp3).await;
    // Hashes.
    let _: () = con
        .hset_multiple("user:1", &[("name", "ada"), ("age", "36")])
        .await
        .unwrap();
    let h: HashMap<String, String> = con.hgetall("user:1").await.unwrap();
    assert_eq!(
        h,
        HashMap::from([
            ("name".to_string(), "ada".to_string()),
            ("age".to_string(), "36".to_string())
        ])
    );
    let age: i64 = con.hincr("user:1", "age", 1).await.unwrap();
    assert_eq!(age, 37);
    let none: HashMap<String, String> = con.hgetall("nope").await.unwrap();
    assert!(none.is_empty());
    // Lists.
    let n: usize = con.rpush("q", &["a", "b", "c"]).await.unwrap();
    assert_eq!(n, 3);
    let l: Vec<String> = con.lrange("q", 0, -1).await.unwrap();
    assert_eq!(l, ["a", "b", "c"]);
    let popped: Option<[String; 2]> = con.blpop("q", 1.0).await.unwrap();
    assert_eq!(popped, Some(["q".to_string(), "a".to_string()]));
    let timed_out: Option<[String; 2]> = con.blpop("empty", 0.1).await.unwrap();
    assert_eq!(timed_out, None);
    // Sets.
    let added: usize = con.sadd("s", &["x", "y", "z", "x"]).await.unwrap();
    assert_eq!(added, 3);
    let members: HashSet<String> = con.smembers("s").await.unwrap();
    assert_eq!(members, HashSet::from(["x", "y", "z"].map(String::from)));
    let is: bool = con.sismember("s", "y").await.unwrap();
    assert!(is);
    // Sorted sets.
    let added: usize = con
        .zadd_multiple("z", &[(10.0, "ann"), (20.5, "bob"), (-3.0, "cid")])
        .await
        .unwrap();
    assert_eq!(added, 3);
    let with: Vec<(String, f64)> = con.zrange_withscores("z", 0, -1).await.unwrap();
    assert_eq!(
        with,
        vec![
            ("cid".to_string(), -3.0),
            ("ann".to_string(), 10.0),
            ("bob".to_string(), 20.5)
        ]
    );
    let score: Option<f64> = con.zscore("z", "bob").await.unwrap();
    assert_eq!(score, Some(20.5));
    let inc: f64 = con.zincr("z", "ann", 2.5).await.unwrap();
    assert_eq!(inc, 12.5);
    let rank: Option<usize> = con.zrank("z", "ann").await.unwrap();
    assert_eq!(rank, Some(1));

    // The raw reply types: RESP3 maps, sets and doubles arrive as such.
    let raw_h: Value = redis::cmd("HGETALL")
        .arg("user:1")
        .query_async(&mut con)
        .await
        .unwrap();
    let raw_s: Value = redis::cmd("SMEMBERS")
        .arg("s")
        .query_async(&mut con)
        .await
        .unwrap();
    let raw_d: Value = redis::cmd("ZSCORE")
        .arg("z")
        .arg("bob")
        .query_async(&mut con)
        .await
        .unwrap();
    if resp3 {
        assert!(
            matches!(raw_h, Value::Map(ref m) if m.len() == 2),
            "{raw_h:?}"
        );
        assert!(
            matches!(raw_s, Value::Set(ref s) if s.len() == 3),
            "{raw_s:?}"
        );
        assert_eq!(raw_d, Value::Double(20.5));
    } else {
        assert!(
            matches!(raw_h, Value::Array(ref a) if a.len() == 4),
            "{raw_h:?}"
        );
        assert!(
            matches!(raw_s, Value::Array(ref a) if a.len() == 3),
            "{raw_s:?}"
        );
        assert_eq!(raw_d, Value::BulkString(b"20.5".to_vec()));
    }
}

#[test]
fn rust_redis_async_data_types() {
    block_on(data_types(false));
}

#[test]
fn rust_redis_async_resp3_data_types() {
    block_on(data_types(true));
}

#[test]
fn rust_redis_async_scan() {
    block_on(async {
        let server = Server::new();
        let mut con = connect(&server, false).await;
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.set(format!("user:{i}"), i).ignore();
        }
        for i in 0..50 {
            p.sadd(format!("group:{i}"), "m").ignore();
        }
        let fields: Vec<(String, String)> =
            (0..600).map(|i| (format!("f{i}"), i.to_string())).collect();
        p.hset_multiple("big-hash", &fields).ignore();
        let _: () = p.query_async(&mut con).await.unwrap();

        let mut users = Vec::new();
        {
            let mut it = con.scan_match::<_, String>("user:*").await.unwrap();
            while let Some(k) = it.next_item().await {
                users.push(k.unwrap());
                assert!(users.len() <= 2000, "SCAN does not end");
            }
        }
        let unique: HashSet<String> = users.iter().cloned().collect();
        assert_eq!(unique.len(), users.len(), "SCAN returned a key twice");
        let expected: HashSet<String> = (0..1000).map(|i| format!("user:{i}")).collect();
        assert_eq!(unique, expected);

        let mut sets = HashSet::new();
        {
            let opts = redis::ScanOptions::default()
                .with_type("set")
                .with_count(100);
            let mut it = con.scan_options::<String>(opts).await.unwrap();
            while let Some(k) = it.next_item().await {
                sets.insert(k.unwrap());
                assert!(sets.len() <= 100, "SCAN does not end");
            }
        }
        assert_eq!(sets.len(), 50);

        let mut seen = HashMap::new();
        {
            let mut it = con.hscan::<_, (String, String)>("big-hash").await.unwrap();
            let mut n = 0;
            while let Some(kv) = it.next_item().await {
                let (k, v) = kv.unwrap();
                seen.insert(k, v);
                n += 1;
                assert!(n <= 1200, "HSCAN does not end");
            }
        }
        assert_eq!(seen, fields.into_iter().collect::<HashMap<_, _>>());
    });
}

#[test]
fn rust_redis_async_expiry() {
    block_on(async {
        let server = Server::new();
        let mut con = connect(&server, false).await;
        let _: () = con.set_ex("session", "data", 100).await.unwrap();
        let ttl: i64 = con.ttl("session").await.unwrap();
        assert!((90..=100).contains(&ttl), "ttl {ttl}");
        let persisted: bool = con.persist("session").await.unwrap();
        assert!(persisted);
        let ttl: i64 = con.ttl("session").await.unwrap();
        assert_eq!(ttl, -1);
        let ttl: i64 = con.ttl("missing").await.unwrap();
        assert_eq!(ttl, -2);
        let set: bool = con.expire("session", 30).await.unwrap();
        assert!(set);
        let set: bool = con.expire("missing", 30).await.unwrap();
        assert!(!set);
        let pttl: i64 = con.pttl("session").await.unwrap();
        assert!(pttl > 0 && pttl <= 30_000, "pttl {pttl}");
        let _: () = con.set("short", "v").await.unwrap();
        let _: bool = con.pexpire("short", 50).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v: Option<String> = con.get("short").await.unwrap();
            if v.is_none() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "a key with a 50 ms expiry still exists after 5 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}

async fn transactions(resp3: bool) {
    let server = Server::new();
    let mut con = connect(&server, resp3).await;
    let (a, b, both): (i64, i64, Vec<String>) = redis::pipe()
        .atomic()
        .set("acct:a", 100)
        .ignore()
        .decr("acct:a", 30)
        .incr("acct:b", 30)
        .mget(&["acct:a", "acct:b"])
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!((a, b, both), (70, 30, vec!["70".into(), "30".into()]));

    // A run-time error fails only its own command; the others are applied.
    let _: () = con.set("str", "v").await.unwrap();
    let res: Vec<RedisResult<Value>> = redis::pipe()
        .atomic()
        .set("t1", "1")
        .lpush("str", "x")
        .set("t2", "2")
        .ignore_errors()
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(res.len(), 3, "{res:?}");
    assert!(res[0].is_ok() && res[2].is_ok(), "{res:?}");
    assert_eq!(res[1].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
    let both: Vec<String> = con.mget(&["t1", "t2"]).await.unwrap();
    assert_eq!(both, ["1", "2"]);

    // A queue-time error aborts the whole transaction (EXECABORT).
    let e = redis::pipe()
        .atomic()
        .set("never", "1")
        .cmd("NOSUCHCOMMAND")
        .query_async::<Value>(&mut con)
        .await
        .unwrap_err();
    assert!(
        format!("{e:?}").contains("EXECABORT") || format!("{e:?}").contains("unknown command"),
        "{e:?}"
    );
    let never: Option<String> = con.get("never").await.unwrap();
    assert_eq!(never, None);

    // WATCH: a write by another client makes EXEC answer nil.
    let mut other = connect(&server, resp3).await;
    let _: () = con.set("stock", 5).await.unwrap();
    let _: () = redis::cmd("WATCH")
        .arg("stock")
        .query_async(&mut con)
        .await
        .unwrap();
    let _: () = other.set("stock", 4).await.unwrap();
    let aborted: Option<(String,)> = redis::pipe()
        .atomic()
        .set("stock", 100)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(aborted, None);
    let stock: i64 = con.get("stock").await.unwrap();
    assert_eq!(stock, 4);
    // Without a conflict the same sequence goes through.
    let _: () = redis::cmd("WATCH")
        .arg("stock")
        .query_async(&mut con)
        .await
        .unwrap();
    let done: Option<(i64,)> = redis::pipe()
        .atomic()
        .incr("stock", 1)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(done, Some((5,)));
}

#[test]
fn rust_redis_async_transactions() {
    block_on(transactions(false));
}

#[test]
fn rust_redis_async_resp3_transactions() {
    block_on(transactions(true));
}

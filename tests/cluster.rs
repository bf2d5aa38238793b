//! Cluster mode with a static slot map (`--cluster-config`): three nodes on loopback ports, each
//! with two shards. Checks the map's validation, the CLUSTER replies' shapes, MOVED/CROSSSLOT
//! (hashtags, transactions), SIGHUP reloads, and the cluster clients users already have:
//! `redis-cli -c`, the `redis` crate's cluster client, redis-py's RedisCluster and
//! `redis-benchmark --cluster`.
//!
//! These are redis-lite's own feature (redis-server's cluster needs its bus), so every test skips
//! under `REDIS_LITE_TEST_REDIS=1`.

mod common;

use common::*;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RANGES: [(usize, usize); 3] = [(0, 5460), (5461, 10922), (10923, 16383)];

/// Ports nobody listens on right now (held together so they differ, then released).
fn free_ports(n: usize) -> Vec<u16> {
    let socks: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    socks
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect()
}

struct Cluster {
    dir: tempfile::TempDir,
    map: PathBuf,
    ports: Vec<u16>,
    nodes: Vec<Server>,
}

fn map_text(ports: &[u16], ranges: &[&str]) -> String {
    let mut s = String::from("# test cluster\n");
    for (i, (p, r)) in ports.iter().zip(ranges).enumerate() {
        s.push_str(&format!("n{} 127.0.0.1:{p} {r}\n", i + 1));
    }
    s
}

fn node_opts(map: &Path, port: u16, id: &str) -> Opts {
    Opts::shards(2)
        .port(port)
        .arg("--cluster-config")
        .arg(map.to_str().unwrap())
        .arg("--cluster-node-id")
        .arg(id)
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::TempDir::new().unwrap();
        let map = dir.path().join("cluster.map");
        // A port taken between probing and binding makes a node fail to start: try again.
        for attempt in 0.. {
            let ports = free_ports(3);
            let ranges: Vec<String> = RANGES.iter().map(|(a, b)| format!("{a}-{b}")).collect();
            let ranges: Vec<&str> = ranges.iter().map(|s| s.as_str()).collect();
            std::fs::write(&map, map_text(&ports, &ranges)).unwrap();
            let mut nodes = Vec::new();
            for (i, &p) in ports.iter().enumerate() {
                match Server::try_start(node_opts(&map, p, &format!("n{}", i + 1))) {
                    Ok(s) => nodes.push(s),
                    Err(e) if attempt < 3 => {
                        eprintln!("node {i} did not start, retrying: {}", e.output);
                        break;
                    }
                    Err(e) => panic!("node {i} did not start: {}", e.output),
                }
            }
            if nodes.len() == 3 {
                return Cluster {
                    dir,
                    map,
                    ports,
                    nodes,
                };
            }
        }
        unreachable!()
    }

    /// The index of the node serving `key` in the initial map.
    fn owner(&self, key: &str) -> usize {
        let slot = key_slot(key.as_bytes());
        RANGES
            .iter()
            .position(|&(a, b)| (a..=b).contains(&slot))
            .unwrap()
    }

    fn conn(&self, i: usize) -> Conn {
        self.nodes[i].conn()
    }
}

/// The first key `prefix<n>` served by each node.
fn key_on(c: &Cluster, node: usize, prefix: &str) -> String {
    (0..)
        .map(|n| format!("{prefix}{n}"))
        .find(|k| c.owner(k) == node)
        .unwrap()
}

fn skip() -> bool {
    if real_redis() {
        eprintln!("skipped: cluster mode is redis-lite's static map");
        return true;
    }
    false
}

#[test]
fn the_map_is_validated_at_start() {
    if skip() {
        return;
    }
    let dir = tempfile::TempDir::new().unwrap();
    let port = free_ports(1)[0];
    let cases = [
        (
            format!("n1 127.0.0.1:{port} 0-100\nn2 127.0.0.1:1 200-16383\n"),
            "n1",
            "slots not assigned to any node: 101-199",
        ),
        (
            format!("n1 127.0.0.1:{port} 0-9000\nn2 127.0.0.1:1 8000-16383\n"),
            "n1",
            "slots 8000-9000 are assigned twice: to 'n1' (line 1) and to 'n2' (line 2)",
        ),
        (
            format!("n1 127.0.0.1:{port} 0-16383\n"),
            "n9",
            "cluster-node-id 'n9' is not in the map",
        ),
        (
            format!("n1 127.0.0.1:{port} 0-16384\n"),
            "n1",
            "line 1: invalid slot range '0-16384'",
        ),
    ];
    for (i, (text, id, want)) in cases.iter().enumerate() {
        let map = dir.path().join(format!("map{i}"));
        std::fs::write(&map, text).unwrap();
        let err = match Server::try_start(node_opts(&map, port, id)) {
            Ok(_) => panic!("started with a bad map:\n{text}"),
            Err(e) => e,
        };
        assert!(
            err.output.contains(want),
            "want {want:?} in:\n{}",
            err.output
        );
        assert!(err.output.contains("cluster mode:"), "{}", err.output);
    }
    // Without --cluster-node-id the node is the one with its port.
    let map = dir.path().join("by-port");
    std::fs::write(&map, format!("solo 127.0.0.1:{port} 0-16383\n")).unwrap();
    let s = Server::start(
        Opts::shards(2)
            .port(port)
            .arg("--cluster-config")
            .arg(map.to_str().unwrap()),
    );
    assert_eq!(s.conn().cmd(&["CLUSTER", "MYID"]), bulk("solo"));
}

#[test]
fn cluster_commands_answer_as_redis_shapes_them() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    let mut n1 = c.conn(0);
    let slots = n1.cmd(&["CLUSTER", "SLOTS"]);
    let want: Vec<Reply> = RANGES
        .iter()
        .zip(&c.ports)
        .enumerate()
        .map(|(i, (&(a, b), &p))| {
            arr(vec![
                int(a as i64),
                int(b as i64),
                arr(vec![
                    bulk("127.0.0.1"),
                    int(p as i64),
                    bulk(format!("n{}", i + 1)),
                    arr(vec![]),
                ]),
            ])
        })
        .collect();
    assert_eq!(slots, arr(want));

    let nodes = n1.cmd(&["CLUSTER", "NODES"]).text();
    let lines: Vec<&str> = nodes.lines().collect();
    assert_eq!(lines.len(), 3, "{nodes}");
    assert_eq!(
        lines[0],
        format!(
            "n1 127.0.0.1:{}@0 myself,master - 0 0 1 connected 0-5460",
            c.ports[0]
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "n3 127.0.0.1:{}@0 master - 0 0 3 connected 10923-16383",
            c.ports[2]
        )
    );
    assert!(nodes.ends_with('\n'));

    let shards = n1.cmd(&["CLUSTER", "SHARDS"]);
    assert_eq!(shards.items().len(), 3);
    let first = shards.items()[0].items();
    assert_eq!(first[0], bulk("slots"));
    assert_eq!(first[1], arr(vec![int(0), int(5460)]));
    assert_eq!(first[2], bulk("nodes"));
    let node = first[3].items()[0].items();
    assert_eq!(
        node,
        &[
            bulk("id"),
            bulk("n1"),
            bulk("port"),
            int(c.ports[0] as i64),
            bulk("ip"),
            bulk("127.0.0.1"),
            bulk("endpoint"),
            bulk("127.0.0.1"),
            bulk("role"),
            bulk("master"),
            bulk("replication-offset"),
            int(0),
            bulk("health"),
            bulk("online"),
        ]
    );

    let info = c.conn(1).cmd(&["CLUSTER", "INFO"]).text();
    for field in [
        "cluster_state:ok\r\n",
        "cluster_slots_assigned:16384\r\n",
        "cluster_slots_ok:16384\r\n",
        "cluster_known_nodes:3\r\n",
        "cluster_size:3\r\n",
        "cluster_current_epoch:3\r\n",
        "cluster_my_epoch:2\r\n",
    ] {
        assert!(info.contains(field), "{field:?} not in {info}");
    }
    assert_eq!(c.conn(2).cmd(&["CLUSTER", "MYID"]), bulk("n3"));
    assert_eq!(n1.cmd(&["CLUSTER", "KEYSLOT", "foo"]), int(12182));
    assert_eq!(n1.cmd(&["CLUSTER", "KEYSLOT", "{user1}:a"]), int(8106));
    assert_eq!(
        n1.cmd(&["cluster", "countkeysinslot", "16384"]),
        err("ERR Invalid slot")
    );
    assert_eq!(
        n1.cmd(&["cluster", "countkeysinslot", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        n1.cmd(&["cluster", "getkeysinslot", "1", "-1"]),
        err("ERR Invalid slot or number of keys")
    );
    assert_eq!(
        n1.cmd(&["CLUSTER", "SLOTS", "x"]),
        arity_err("cluster|slots")
    );
    assert_eq!(
        n1.cmd(&["CLUSTER", "MEETX"]),
        err("ERR unknown subcommand 'MEETX'. Try CLUSTER HELP.")
    );
    assert_eq!(n1.cmd(&["READONLY"]), ok());
    assert_eq!(n1.cmd(&["READWRITE"]), ok());
    assert_eq!(n1.cmd(&["ASKING"]), ok());

    // Keys of one slot: counted and listed by the node that serves it, whichever core has them.
    let mut n3 = c.conn(2);
    let slot = key_slot(b"{foo}");
    for i in 0..25 {
        assert_eq!(n3.cmd(&["SET", &format!("{{foo}}{i}"), "v"]), ok());
    }
    assert_eq!(
        n3.cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]),
        int(25)
    );
    let some = n3.cmd(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "10"]);
    assert_eq!(some.items().len(), 10);
    for k in some.strings() {
        assert!(k.starts_with("{foo}"), "{k}");
    }
    assert_eq!(
        n3.cmd(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "100"])
            .items()
            .len(),
        25
    );
}

#[test]
fn keys_of_other_nodes_and_slots_are_redirected() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    let mut n1 = c.conn(0);
    let mine = key_on(&c, 0, "k");
    let theirs = key_on(&c, 2, "k");
    let slot = key_slot(theirs.as_bytes());
    assert_eq!(n1.cmd(&["SET", &mine, "1"]), ok());
    assert_eq!(
        n1.cmd(&["GET", &theirs]),
        err(&format!("MOVED {slot} 127.0.0.1:{}", c.ports[2]))
    );
    assert_eq!(
        n1.cmd(&["MSET", &mine, "1", &theirs, "2"]),
        err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    // Several keys of one foreign slot: MOVED, not CROSSSLOT.
    let (a, b) = ("{theirs}a".to_string(), "{theirs}b".to_string());
    let owner = c.owner(&a);
    if owner != 0 {
        assert!(n1.cmd(&["MGET", &a, &b]).error_text().starts_with("MOVED"));
    }
    // Hashtags keep multi-key commands on one slot, on the node that serves it.
    let mut served = c.conn(owner);
    assert_eq!(served.cmd(&["MSET", &a, "1", &b, "2"]), ok());
    assert_eq!(served.cmd(&["MGET", &a, &b]), bulks(&["1", "2"]));
    assert_eq!(served.cmd(&["RENAME", &a, "{theirs}c"]), ok());
    // Movable keys (numkeys) are found too.
    assert_eq!(
        n1.cmd(&["ZUNIONSTORE", &mine, "2", &mine, &theirs]),
        err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    // Keyless commands run where they are sent.
    assert_eq!(n1.cmd(&["PING"]), simple("PONG"));
    assert_eq!(n1.cmd(&["DBSIZE"]), int(1));
    // Only DB 0.
    assert_eq!(n1.cmd(&["SELECT", "0"]), ok());
    assert_eq!(
        n1.cmd(&["SELECT", "1"]),
        err("ERR SELECT is not allowed in cluster mode")
    );
    assert_eq!(
        n1.cmd(&["MOVE", &mine, "1"]),
        err("ERR MOVE is not allowed in cluster mode")
    );
    assert_eq!(
        n1.cmd(&["SWAPDB", "0", "1"]),
        err("ERR SWAPDB is not allowed in cluster mode")
    );
    let copy = format!("{{{mine}}}copy");
    if c.owner(&copy) == 0 {
        assert_eq!(
            n1.cmd(&["COPY", &mine, &copy, "DB", "1"]),
            err("ERR Copying to another database is not allowed in cluster mode")
        );
    }
    // Transactions: a queued foreign key flags the transaction; keys of several slots across
    // the queued commands make EXEC fail with CROSSSLOT and discard it.
    assert_eq!(n1.cmd(&["MULTI"]), ok());
    assert!(n1
        .cmd(&["SET", &theirs, "x"])
        .error_text()
        .starts_with("MOVED"));
    assert_eq!(
        n1.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    let mine2 = (0..)
        .map(|n| format!("m{n}"))
        .find(|k| c.owner(k) == 0 && key_slot(k.as_bytes()) != key_slot(mine.as_bytes()))
        .unwrap();
    assert_eq!(n1.cmd(&["MULTI"]), ok());
    assert_eq!(n1.cmd(&["SET", &mine, "a"]), simple("QUEUED"));
    assert_eq!(n1.cmd(&["SET", &mine2, "b"]), simple("QUEUED"));
    assert_eq!(
        n1.cmd(&["EXEC"]),
        err("CROSSSLOT Keys in request don't hash to the same slot")
    );
    assert_eq!(n1.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(n1.cmd(&["GET", &mine]), bulk("1"));
    assert_eq!(n1.cmd(&["MULTI"]), ok());
    assert_eq!(n1.cmd(&["INCR", &mine]), simple("QUEUED"));
    assert_eq!(n1.cmd(&["GET", &mine]), simple("QUEUED"));
    assert_eq!(n1.cmd(&["EXEC"]), arr(vec![int(2), bulk("2")]));
    // Shard channels route by slot.
    let ch = key_on(&c, 1, "ch");
    assert!(n1
        .cmd(&["SPUBLISH", &ch, "m"])
        .error_text()
        .starts_with("MOVED"));
    assert_eq!(c.conn(1).cmd(&["SPUBLISH", &ch, "m"]), int(0));
}

#[test]
fn without_a_map_cluster_commands_say_cluster_support_is_disabled() {
    let s = Server::new();
    let mut c = s.conn();
    for cmd in [
        vec!["CLUSTER", "INFO"],
        vec!["CLUSTER", "SLOTS"],
        vec!["READONLY"],
        vec!["READWRITE"],
        vec!["ASKING"],
    ] {
        assert_eq!(
            c.cmd(&cmd),
            err("ERR This instance has cluster support disabled"),
            "{cmd:?}"
        );
    }
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    let info = c.cmd(&["INFO", "server", "cluster"]).text();
    assert!(info.contains("\r\nredis_mode:standalone\r\n"), "{info}");
    assert!(
        info.contains("# Cluster\r\ncluster_enabled:0\r\n"),
        "{info}"
    );
}

/// Runs redis-cli with a time bound; its stdout.
fn redis_cli(args: &[&str]) -> String {
    let mut child = Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli (Debian's redis-tools) must be installed");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("redis-cli {args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_follows_moved_to_every_node() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    let mut per_node = [0; 3];
    for i in 0..24 {
        let key = format!("cli:{i}");
        let via = c.ports[i % 3].to_string();
        let got = redis_cli(&[
            "-c",
            "-h",
            "127.0.0.1",
            "-p",
            &via,
            "SET",
            &key,
            &i.to_string(),
        ]);
        assert_eq!(got.trim(), "OK", "{key} via {via}");
        per_node[c.owner(&key)] += 1;
        // Another node answers after following MOVED.
        let other = c.ports[(i + 1) % 3].to_string();
        let got = redis_cli(&["-c", "-h", "127.0.0.1", "-p", &other, "GET", &key]);
        assert_eq!(got.trim(), i.to_string());
        // And the key lives on its owner only.
        assert_eq!(
            c.conn(c.owner(&key)).cmd(&["GET", &key]),
            bulk(i.to_string())
        );
    }
    assert!(per_node.iter().all(|&n| n > 0), "{per_node:?}");
    let total: i64 = (0..3).map(|i| c.conn(i).cmd(&["DBSIZE"]).int()).sum();
    assert_eq!(total, 24);
}

#[test]
fn the_redis_crate_cluster_client_runs_a_mixed_workload() {
    if skip() {
        return;
    }
    use redis::Commands;
    let c = Cluster::start();
    let urls: Vec<String> = c
        .ports
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}/"))
        .collect();
    let client = redis::cluster::ClusterClient::builder(urls)
        .connection_timeout(Duration::from_secs(10))
        .response_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut con = client.get_connection().unwrap();
    let mut want: HashMap<String, i64> = HashMap::new();
    for i in 0..300i64 {
        let key = format!("crate:{i}");
        match i % 4 {
            0 => {
                let _: () = con.set(&key, i).unwrap();
                want.insert(key, i);
            }
            1 => {
                let v: i64 = con.incr(&key, i).unwrap();
                assert_eq!(v, i);
                want.insert(key, i);
            }
            2 => {
                let n: i64 = con.rpush(&key, &[1, 2, 3]).unwrap();
                assert_eq!(n, 3);
            }
            _ => {
                let _: () = con.set_ex(&key, i, 100).unwrap();
                want.insert(key, i);
            }
        }
    }
    for (k, v) in &want {
        let got: i64 = con.get(k).unwrap();
        assert_eq!(got, *v, "{k}");
    }
    // A pipeline whose keys share one slot, and a multi-key command with a hashtag.
    let (a, b): (i64, i64) = redis::cluster::cluster_pipe()
        .incr("{user9}:a", 5)
        .incr("{user9}:b", 7)
        .query(&mut con)
        .unwrap();
    assert_eq!((a, b), (5, 7));
    let both: Vec<i64> = con.mget(&["{user9}:a", "{user9}:b"]).unwrap();
    assert_eq!(both, vec![5, 7]);
    // Every key is stored on the node that owns its slot.
    let total: i64 = (0..3).map(|i| c.conn(i).cmd(&["DBSIZE"]).int()).sum();
    assert_eq!(total, 302);
    for i in (0..300).step_by(7) {
        let key = format!("crate:{i}");
        assert_eq!(
            c.conn(c.owner(&key)).cmd(&["EXISTS", &key]),
            int(1),
            "{key}"
        );
    }
}

/// The epoch CLUSTER INFO reports (bumped by each reload).
fn epoch(c: &mut Conn) -> i64 {
    let info = c.cmd(&["CLUSTER", "INFO"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("cluster_current_epoch:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn sighup_reloads_the_map_and_a_bad_map_is_refused() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    // Move slots 0-100 from n1 to n2.
    let moved = (0..)
        .map(|n| format!("mv{n}"))
        .find(|k| key_slot(k.as_bytes()) <= 100)
        .unwrap();
    let slot = key_slot(moved.as_bytes());
    let mut n1 = c.conn(0);
    assert_eq!(n1.cmd(&["SET", &moved, "old"]), ok());
    let text = map_text(&c.ports, &["101-5460", "0-100,5461-10922", "10923-16383"]);
    std::fs::write(&c.map, text).unwrap();
    for n in &c.nodes {
        n.signal(libc::SIGHUP);
    }
    for i in 0..3 {
        let mut conn = c.conn(i);
        assert!(
            wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
                epoch(&mut conn) == 4
            }),
            "node {i} did not reload"
        );
    }
    assert_eq!(
        n1.cmd(&["GET", &moved]),
        err(&format!("MOVED {slot} 127.0.0.1:{}", c.ports[1]))
    );
    let mut n2 = c.conn(1);
    assert_eq!(n2.cmd(&["GET", &moved]), nil());
    assert_eq!(n2.cmd(&["SET", &moved, "new"]), ok());
    let slots = n2.cmd(&["CLUSTER", "SLOTS"]);
    assert_eq!(slots.items()[0].items()[0], int(0));
    assert_eq!(slots.items()[0].items()[1], int(100));
    assert_eq!(slots.items()[0].items()[2].items()[2], bulk("n2"));
    // A map with a gap is not taken: the node keeps serving with the one it has.
    std::fs::write(&c.map, map_text(&c.ports, &["0-10", "11-100", "200-16383"])).unwrap();
    c.nodes[1].signal(libc::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(10), Duration::from_millis(10), || {
            c.nodes[1].output().contains("cluster map NOT reloaded")
        }),
        "{}",
        c.nodes[1].output()
    );
    assert_eq!(epoch(&mut n2), 4);
    assert_eq!(n2.cmd(&["GET", &moved]), bulk("new"));
}

#[test]
fn sighup_outside_cluster_mode_is_ignored() {
    let s = Server::new();
    if real_redis() {
        return;
    }
    s.signal(libc::SIGHUP);
    let mut c = s.conn();
    assert!(wait_until(
        Duration::from_secs(10),
        Duration::from_millis(10),
        || s.output().contains("SIGHUP received and ignored")
    ));
    assert_eq!(c.cmd(&["PING"]), simple("PONG"));
}

#[test]
fn redis_benchmark_cluster_runs_without_errors() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    let port = c.ports[1].to_string();
    let mut child = Command::new("redis-benchmark")
        .args([
            "--cluster",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            "set,get",
            "-r",
            "100000",
            "-n",
            "20000",
            "-c",
            "12",
            "--threads",
            "2",
            "-q",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-benchmark (Debian's redis-tools)");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("redis-benchmark --cluster did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("error"), "{text}");
    assert!(text.contains("SET:") && text.contains("GET:"), "{text}");
    assert!(text.contains("Cluster has 3 master nodes"), "{text}");
    // Every node got its share of the random keys.
    for i in 0..3 {
        assert!(c.conn(i).cmd(&["DBSIZE"]).int() > 0, "node {i} has no keys");
    }
}

#[test]
fn redis_py_cluster_client_routes_and_pipelines() {
    if skip() {
        return;
    }
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python/.venv/bin/python");
    assert!(
        py.exists(),
        "install the client libraries with `bash tests/clients/install.sh`"
    );
    let c = Cluster::start();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python");
    let ports: Vec<String> = c.ports.iter().map(|p| p.to_string()).collect();
    let log = c.dir.path().join("py.txt");
    let mut child = Command::new(py)
        .current_dir(dir)
        .args(["-m", "unittest", "-v", "test_redis_py_cluster"])
        .env("REDIS_CLUSTER_PORTS", ports.join(","))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!(
                "redis-py cluster suite did not finish:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "redis-py cluster suite failed:\n{output}");
    let _ = std::io::stderr().write_all(output.as_bytes());
}

/// The README's procedure for moving slots: pause writes on the source, reload the map on the
/// target (it now serves the slots, empty), copy the keys with GETKEYSINSLOT + DUMP/PTTL →
/// RESTORE, reload the map on the other nodes, unpause. A write that arrived during the pause is
/// answered MOVED afterwards and lands on the new owner: nothing is lost.
#[test]
fn moving_slots_by_the_documented_procedure_loses_no_write() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    let mut n1 = c.conn(0);
    let mut n2 = c.conn(1);
    let keys: Vec<String> = (0..)
        .map(|n| format!("mig{n}"))
        .filter(|k| key_slot(k.as_bytes()) <= 100)
        .take(20)
        .collect();
    for (i, k) in keys.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(n1.cmd(&["SET", k, &format!("v{i}")]), ok());
        } else {
            assert_eq!(n1.cmd(&["RPUSH", k, "a", "b"]), int(2));
            assert_eq!(n1.cmd(&["EXPIRE", k, "1000"]), int(1));
        }
    }
    // 1. Pause writes on the source; a writer that arrives now waits.
    assert_eq!(n1.cmd(&["CLIENT", "PAUSE", "20000", "WRITE"]), ok());
    let mut writer = c.conn(0);
    writer.send_cmd(&["SET", &keys[0], "during-pause"]);
    // 2. The new map, loaded by the target first.
    let text = map_text(&c.ports, &["101-5460", "0-100,5461-10922", "10923-16383"]);
    std::fs::write(&c.map, text).unwrap();
    c.nodes[1].signal(libc::SIGHUP);
    assert!(wait_until(
        Duration::from_secs(10),
        Duration::from_millis(10),
        || epoch(&mut n2) == 4
    ));
    // 3. Copy every key of slots 0-100, with its TTL.
    let mut copied = 0;
    for slot in 0..=100 {
        let found = n1.cmd(&["CLUSTER", "GETKEYSINSLOT", &slot.to_string(), "1000"]);
        for k in found.strings() {
            let payload = n1.cmd(&["DUMP", &k]);
            let ttl = n1.cmd(&["PTTL", &k]).int().max(0).to_string();
            let restore: [&[u8]; 5] = [
                b"RESTORE",
                k.as_bytes(),
                ttl.as_bytes(),
                payload.bytes(),
                b"REPLACE",
            ];
            assert_eq!(n2.cmd(&restore), ok(), "{k}");
            copied += 1;
        }
    }
    assert_eq!(copied, keys.len());
    // 4. The other nodes take the map, then the source resumes: the paused write is redirected.
    for i in [0, 2] {
        c.nodes[i].signal(libc::SIGHUP);
        let mut conn = c.conn(i);
        assert!(wait_until(
            Duration::from_secs(10),
            Duration::from_millis(10),
            || epoch(&mut conn) == 4
        ));
    }
    assert_eq!(n1.cmd(&["CLIENT", "UNPAUSE"]), ok());
    let slot = key_slot(keys[0].as_bytes());
    assert_eq!(
        writer.read_reply(),
        err(&format!("MOVED {slot} 127.0.0.1:{}", c.ports[1]))
    );
    assert_eq!(n2.cmd(&["SET", &keys[0], "during-pause"]), ok());
    // Every key is on the new owner, values and TTLs intact.
    for (i, k) in keys.iter().enumerate() {
        if i == 0 {
            assert_eq!(n2.cmd(&["GET", k]), bulk("during-pause"));
        } else if i % 2 == 0 {
            assert_eq!(n2.cmd(&["GET", k]), bulk(format!("v{i}")));
        } else {
            assert_eq!(n2.cmd(&["LRANGE", k, "0", "-1"]), bulks(&["a", "b"]));
            let ttl = n2.cmd(&["TTL", k]).int();
            assert!((990..=1000).contains(&ttl), "{k}: ttl {ttl}");
        }
        assert!(n1.cmd(&["GET", k]).error_text().starts_with("MOVED"));
    }
}

#[test]
fn cluster_mode_shows_in_hello_config_and_sort() {
    if skip() {
        return;
    }
    let c = Cluster::start();
    let mut n1 = c.conn(0);
    let hello = n1.cmd(&["HELLO", "2"]);
    let fields = hello.items();
    let mode = fields.iter().position(|f| *f == bulk("mode")).unwrap();
    assert_eq!(fields[mode + 1], bulk("cluster"));
    assert_eq!(
        n1.cmd(&["CONFIG", "GET", "cluster-enabled"]),
        bulks(&["cluster-enabled", "yes"])
    );
    let info = n1.cmd(&["INFO", "server", "cluster"]).text();
    assert!(info.contains("\r\nredis_mode:cluster\r\n"), "{info}");
    assert!(
        info.contains("# Cluster\r\ncluster_enabled:1\r\n"),
        "{info}"
    );
    let k = key_on(&c, 0, "s");
    assert_eq!(n1.cmd(&["RPUSH", &k, "3", "1", "2"]), int(3));
    assert_eq!(n1.cmd(&["SORT", &k]), bulks(&["1", "2", "3"]));
    assert_eq!(
        n1.cmd(&["SORT", &k, "BY", "w_*"]),
        err("ERR BY option of SORT denied in Cluster mode.")
    );
    assert_eq!(
        n1.cmd(&["SORT", &k, "BY", "nosort"]),
        bulks(&["3", "1", "2"])
    );
    assert_eq!(
        n1.cmd(&["SORT", &k, "GET", "#"]),
        err("ERR GET option of SORT denied in Cluster mode.")
    );
    // redis.conf's switch alone is not enough: the map is what cluster mode runs on.
    let e = match Server::try_start(Opts::shards(1).arg("--cluster-enabled").arg("yes")) {
        Ok(_) => panic!("started in cluster mode without a map"),
        Err(e) => e,
    };
    assert!(
        e.output
            .contains("cluster-enabled yes needs --cluster-config"),
        "{}",
        e.output
    );
    let s = Server::start(Opts::shards(1).arg("--cluster-enabled").arg("no"));
    assert_eq!(
        s.conn().cmd(&["CONFIG", "GET", "cluster-enabled"]),
        bulks(&["cluster-enabled", "no"])
    );
}

//! Cluster mode: a static slot map read from `--cluster-config`, MOVED/CROSSSLOT redirection and
//! the CLUSTER commands.
//!
//! Why a static map and no gossip bus: cluster-aware clients only need each node to answer
//! CLUSTER SLOTS/SHARDS/NODES consistently and to redirect keys it does not own; an operator's
//! file gives that without failure detection or epochs to agree on. The price: no failover and
//! no live resharding; moving slots is an edit of the file plus SIGHUP on every node (see
//! README.md for the procedure and what it does not cover).
//!
//! The map file, one line per node (`#` starts a comment):
//!
//! ```text
//! <node-id> <host>:<port> <slot-range>[,<slot-range>…]     e.g.  n1 127.0.0.1:7001 0-5460
//! ```
//!
//! Every slot 0–16383 must belong to exactly one node, or the node refuses to start (or, on a
//! reload, keeps its current map) naming the gap or the overlap.
//!
//! Within a node, slots interleave over its cores (`shard_of_slot`), so any range spreads evenly.

use crate::cmd::{self, Session};
use crate::resp::{Argv, CmdBatch, Reply};
use crate::shard::{key_slot, shard_of_slot, Core, SLOTS};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// One node of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub host: String,
    pub port: u16,
    /// Inclusive slot ranges, as written (sorted, merged when the map is built).
    pub ranges: Vec<(u16, u16)>,
    /// Line in the file, for error messages.
    pub line: usize,
    /// 1-based position among the nodes: its config epoch in CLUSTER NODES (unique, as Redis
    /// requires of masters).
    pub epoch: u64,
}

/// A validated map and which of its nodes this process is.
#[derive(Debug)]
pub struct Map {
    pub nodes: Vec<Node>,
    /// Per slot: index into `nodes`.
    owner: Vec<u16>,
    pub myself: usize,
    /// CLUSTER INFO's current epoch: the number of nodes, plus one per successful reload (so it
    /// is never below a node's epoch, and a reload is visible).
    pub epoch: u64,
}

impl Map {
    /// The node serving `slot`.
    pub fn owner(&self, slot: usize) -> &Node {
        &self.nodes[self.owner[slot] as usize]
    }

    pub fn me(&self) -> &Node {
        &self.nodes[self.myself]
    }

    /// Contiguous runs `(start, end, node index)` in slot order.
    pub fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        for (slot, &n) in self.owner.iter().enumerate() {
            match runs.last_mut() {
                Some(r) if r.2 == n as usize && r.1 + 1 == slot => r.1 = slot,
                _ => runs.push((slot, slot, n as usize)),
            }
        }
        runs
    }

    /// `node`'s runs, in slot order.
    pub fn runs_of(&self, node: usize) -> Vec<(usize, usize)> {
        self.runs()
            .into_iter()
            .filter(|r| r.2 == node)
            .map(|r| (r.0, r.1))
            .collect()
    }
}

/// Parses a map file's text (no coverage check; see [`build`]).
pub fn parse(text: &str) -> Result<Vec<Node>, String> {
    let mut nodes: Vec<Node> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !(2..=3).contains(&fields.len()) {
            return Err(format!(
                "line {lineno}: expected `<node-id> <host>:<port> <slot-range>[,<slot-range>...]`, \
                 got '{line}'"
            ));
        }
        let id = fields[0].to_string();
        let (host, port) = fields[1]
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok().filter(|&p| p != 0)?)))
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| {
                format!(
                    "line {lineno}: '{}' is not <host>:<port> (port 1-65535)",
                    fields[1]
                )
            })?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let mut ranges = Vec::new();
        if let Some(spec) = fields.get(2) {
            for r in spec.split(',').filter(|r| !r.is_empty()) {
                let parsed = match r.split_once('-') {
                    Some((a, b)) => a.parse::<u16>().ok().zip(b.parse::<u16>().ok()),
                    None => r.parse::<u16>().ok().map(|a| (a, a)),
                };
                match parsed {
                    Some((a, b)) if a <= b && (b as usize) < SLOTS => ranges.push((a, b)),
                    _ => {
                        return Err(format!(
                            "line {lineno}: invalid slot range '{r}' (ranges are <first>-<last> \
                             or one slot, within 0-16383)"
                        ))
                    }
                }
            }
        }
        if let Some(other) = nodes.iter().find(|n| n.id == id) {
            return Err(format!(
                "line {lineno}: node id '{id}' is already used on line {}",
                other.line
            ));
        }
        if let Some(other) = nodes.iter().find(|n| n.host == host && n.port == port) {
            return Err(format!(
                "line {lineno}: address {host}:{port} is already node '{}' (line {})",
                other.id, other.line
            ));
        }
        nodes.push(Node {
            id,
            host,
            port,
            ranges,
            line: lineno,
            epoch: nodes.len() as u64 + 1,
        });
    }
    if nodes.is_empty() {
        return Err("the map names no nodes".into());
    }
    if nodes.len() > u16::MAX as usize {
        return Err("too many nodes".into());
    }
    Ok(nodes)
}

/// Checks that every slot has exactly one owner and picks this node: by `node_id` when given,
/// else the one node whose port is `port`.
pub fn build(mut nodes: Vec<Node>, node_id: &str, port: u16) -> Result<Map, String> {
    const FREE: u16 = u16::MAX;
    let mut owner = vec![FREE; SLOTS];
    for (ni, n) in nodes.iter().enumerate() {
        for &(a, b) in &n.ranges {
            for s in a..=b {
                let prev = owner[s as usize];
                if prev != FREE {
                    let other = &nodes[prev as usize];
                    // Name the whole overlapping run, not just its first slot.
                    let mut end = s;
                    while end < b && owner[end as usize + 1] == prev {
                        end += 1;
                    }
                    let what = if end == s {
                        format!("slot {s} is")
                    } else {
                        format!("slots {s}-{end} are")
                    };
                    return Err(format!(
                        "{what} assigned twice: to '{}' (line {}) and to '{}' (line {})",
                        other.id, other.line, n.id, n.line
                    ));
                }
                owner[s as usize] = ni as u16;
            }
        }
    }
    let mut gaps = Vec::new();
    let mut s = 0;
    while s < SLOTS {
        if owner[s] == FREE {
            let start = s;
            while s + 1 < SLOTS && owner[s + 1] == FREE {
                s += 1;
            }
            gaps.push(if start == s {
                start.to_string()
            } else {
                format!("{start}-{s}")
            });
        }
        s += 1;
    }
    if !gaps.is_empty() {
        let more = if gaps.len() > 8 {
            format!(" and {} more ranges", gaps.len() - 8)
        } else {
            String::new()
        };
        gaps.truncate(8);
        return Err(format!(
            "slots not assigned to any node: {}{more} (every slot 0-16383 needs exactly one owner)",
            gaps.join(", ")
        ));
    }
    let myself = if node_id.is_empty() {
        let mine: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i].port == port)
            .collect();
        match mine.as_slice() {
            [one] => *one,
            [] => {
                return Err(format!(
                    "no node in the map has this server's port {port}; set --cluster-node-id"
                ))
            }
            _ => {
                return Err(format!(
                    "several nodes in the map have port {port}; set --cluster-node-id"
                ))
            }
        }
    } else {
        nodes
            .iter()
            .position(|n| n.id == node_id)
            .ok_or_else(|| format!("cluster-node-id '{node_id}' is not in the map"))?
    };
    for n in &mut nodes {
        n.ranges.sort_unstable();
    }
    let epoch = nodes.len() as u64;
    Ok(Map {
        nodes,
        owner,
        myself,
        epoch,
    })
}

/// Reads and validates a map file.
pub fn load(path: &Path, node_id: &str, port: u16) -> Result<Map, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the cluster map {}: {e}", path.display()))?;
    build(parse(&text)?, node_id, port).map_err(|e| format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The process-wide map: written at start-up and by reloads, read by every core through a cache.
// ---------------------------------------------------------------------------------------------

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Bumped after the map changes; cores compare it with their cached copy's.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static MAP: RwLock<Option<Arc<Map>>> = RwLock::new(None);

/// Where the map came from, for reloads.
struct Source {
    path: PathBuf,
    node_id: String,
}
static SOURCE: RwLock<Option<Source>> = RwLock::new(None);

thread_local! {
    static CACHE: RefCell<(u64, Option<Arc<Map>>)> = const { RefCell::new((0, None)) };
}

/// Whether this node runs in cluster mode (set once at start-up).
#[inline]
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The current map (cluster mode only). One relaxed load when the cached copy is current.
pub fn current() -> Arc<Map> {
    let generation = GENERATION.load(Ordering::Acquire);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != generation || c.1.is_none() {
            let map = MAP.read().unwrap_or_else(|e| e.into_inner()).clone();
            *c = (generation, map);
        }
        c.1.clone()
            .expect("cluster map read before start-up set it")
    })
}

/// Enters cluster mode with the map at `path` (start-up; `port` is the port actually bound).
pub fn init(path: &Path, node_id: &str, port: u16) -> Result<(), String> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let map = load(&path, node_id, port)?;
    let me = map.me();
    tracing::info!(
        "Cluster mode: I am node '{}' ({}:{}), serving {} of {} nodes' slots: {}",
        me.id,
        me.host,
        me.port,
        map.runs_of(map.myself)
            .iter()
            .map(|r| r.1 - r.0 + 1)
            .sum::<usize>(),
        map.nodes.len(),
        describe_runs(&map.runs_of(map.myself))
    );
    let node_id = me.id.clone();
    *MAP.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(map));
    *SOURCE.write().unwrap_or_else(|e| e.into_inner()) = Some(Source { path, node_id });
    GENERATION.fetch_add(1, Ordering::AcqRel);
    ENABLED.store(true, Ordering::Release);
    Ok(())
}

/// Re-reads the map file (SIGHUP). On any error the current map stays and the error is returned.
/// This node keeps its identity: its id must still be in the file.
pub fn reload() -> Result<(), String> {
    let source = SOURCE.read().unwrap_or_else(|e| e.into_inner());
    let Some(src) = source.as_ref() else {
        return Err("not in cluster mode".into());
    };
    let mut map = load(&src.path, &src.node_id, 0)?;
    let mut slot = MAP.write().unwrap_or_else(|e| e.into_inner());
    map.epoch = map.epoch.max(slot.as_ref().map_or(0, |m| m.epoch) + 1);
    tracing::warn!(
        "Cluster map reloaded from {} (epoch {}): this node now serves {}",
        src.path.display(),
        map.epoch,
        describe_runs(&map.runs_of(map.myself))
    );
    *slot = Some(Arc::new(map));
    GENERATION.fetch_add(1, Ordering::AcqRel);
    Ok(())
}

fn describe_runs(runs: &[(usize, usize)]) -> String {
    if runs.is_empty() {
        return "no slots".into();
    }
    runs.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------------------------------------
// Redirection (Redis's getNodeByQuery for a static, stable map).
// ---------------------------------------------------------------------------------------------

pub const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

/// The error a command gets instead of running (MOVED, CROSSSLOT), if any. For EXEC, the keys of
/// every queued command count, as in Redis.
pub fn redirect<'a>(idx: usize, argv: Argv<'a>, session: &'a Session) -> Option<String> {
    let mut first: Option<(&'a [u8], usize)> = None;
    let mut cross = false;
    let mut visit = |key: &'a [u8]| {
        if cross {
            return;
        }
        match first {
            None => first = Some((key, key_slot(key))),
            Some((k, slot)) => {
                if k != key && key_slot(key) != slot {
                    cross = true;
                }
            }
        }
    };
    if cmd::table()[idx].name == "exec" {
        let queued = session.multi.as_ref()?;
        queued.for_each(|i, a| cmd::command::for_each_cluster_key(i, a, &mut visit));
    } else {
        cmd::command::for_each_cluster_key(idx, argv, &mut visit);
    }
    if cross {
        return Some(CROSSSLOT.into());
    }
    let (_, slot) = first?;
    let map = current();
    let owner = map.owner[slot] as usize;
    if owner == map.myself {
        return None;
    }
    let n = &map.nodes[owner];
    Some(format!("MOVED {slot} {}:{}", n.host, n.port))
}

// ---------------------------------------------------------------------------------------------
// Commands: CLUSTER, READONLY, READWRITE, ASKING.
// ---------------------------------------------------------------------------------------------

pub const DISABLED: &str = "ERR This instance has cluster support disabled";

/// `__cluster-slotkeys slot count`: one shard's keys of `slot` in DB 0, at most `count` of them
/// (`-1`: only their number). Runs on the shard that owns the slot.
pub const SLOTKEYS_PART: &str = "__cluster-slotkeys";

pub fn register(t: &mut Vec<cmd::CommandSpec>) {
    use cmd::flags::*;
    use cmd::{CommandSpec, Handler, Route};
    t.push(CommandSpec {
        name: "cluster",
        arity: -2,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Async(cluster_cmd),
    });
    let conn = |name, flags, f| CommandSpec {
        name,
        arity: 1,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(f),
    };
    t.push(conn("readonly", FAST | LOADING | STALE, readonly_cmd));
    t.push(conn("readwrite", FAST | LOADING | STALE, readonly_cmd));
    t.push(conn("asking", FAST, readonly_cmd));
    t.push(CommandSpec {
        name: SLOTKEYS_PART,
        arity: 3,
        flags: INTERNAL | READONLY,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Shard(slotkeys_part),
    });
}

/// READONLY, READWRITE, ASKING: with a static map there are no replicas to read from and no
/// slot being imported, so each only acknowledges (as Redis does when it has nothing to change).
fn readonly_cmd(_ctx: &mut cmd::ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    if enabled() {
        out.ok();
    } else {
        out.error(DISABLED);
    }
}

fn slotkeys_part(ctx: &mut cmd::ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let (Some(slot), Some(count)) = (cmd::parse_i64(argv.get(1)), cmd::parse_i64(argv.get(2)))
    else {
        return out.error("ERR internal: bad slot-keys arguments");
    };
    let slot = slot as usize;
    let keys = ctx
        .ks
        .live_keys(0, ctx.now_ms)
        .filter(|k| key_slot(k) == slot);
    if count < 0 {
        out.int(keys.count() as i64);
    } else {
        let found: Vec<&[u8]> = keys.take(count as usize).collect();
        out.array(found.len());
        for k in found {
            out.bulk(k);
        }
    }
}

fn cluster_cmd<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(async move {
        out.proto = session.proto;
        let sub = argv.get(1).to_ascii_lowercase();
        let argc = argv.len();
        const ARITY: &[(&[u8], usize)] = &[
            (b"help", 2),
            (b"myid", 2),
            (b"slots", 2),
            (b"shards", 2),
            (b"nodes", 2),
            (b"info", 2),
            (b"keyslot", 3),
            (b"countkeysinslot", 3),
            (b"getkeysinslot", 4),
        ];
        match ARITY.iter().find(|(n, _)| *n == sub.as_slice()) {
            None => return cmd::unknown_subcommand(argv, out),
            Some((n, a)) if *a != argc => {
                let name = format!("cluster|{}", String::from_utf8_lossy(n));
                return cmd::arity_error(&name, out);
            }
            _ => {}
        }
        if !enabled() {
            return out.error(DISABLED);
        }
        let map = current();
        match (sub.as_slice(), argc) {
            (b"help", 2) => help(out),
            (b"myid", 2) => out.bulk(map.me().id.as_bytes()),
            (b"slots", 2) => slots(&map, out),
            (b"shards", 2) => shards(&map, out),
            (b"nodes", 2) => out.verbatim(nodes(&map).as_bytes(), "txt"),
            (b"info", 2) => out.verbatim(info(&map).as_bytes(), "txt"),
            (b"keyslot", 3) => out.int(key_slot(argv.get(2)) as i64),
            (b"countkeysinslot", 3) => {
                let Some(slot) = cmd::parse_i64(argv.get(2)) else {
                    return out.error(cmd::err::NOT_INTEGER);
                };
                if !(0..SLOTS as i64).contains(&slot) {
                    return out.error("ERR Invalid slot");
                }
                let reply = slot_keys(core, slot as usize, -1).await;
                out.raw(&reply);
            }
            (b"getkeysinslot", 4) => {
                let (Some(slot), Some(n)) =
                    (cmd::parse_i64(argv.get(2)), cmd::parse_i64(argv.get(3)))
                else {
                    return out.error(cmd::err::NOT_INTEGER);
                };
                if !(0..SLOTS as i64).contains(&slot) || n < 0 {
                    return out.error("ERR Invalid slot or number of keys");
                }
                let reply = slot_keys(core, slot as usize, n).await;
                out.raw(&reply);
            }
            _ => cmd::unknown_subcommand(argv, out),
        }
    })
}

/// Asks the shard owning `slot` for its keys of it (`count` -1: their number).
async fn slot_keys(core: &Rc<Core>, slot: usize, count: i64) -> Vec<u8> {
    let mut args = CmdBatch::new();
    let (s, c) = (slot.to_string(), count.to_string());
    for a in [SLOTKEYS_PART.as_bytes(), s.as_bytes(), c.as_bytes()] {
        args.push_arg(a);
    }
    args.finish_cmd();
    let shard = shard_of_slot(slot, core.nshards);
    core.call(shard, 0, crate::resp::Proto::Resp2, &args).await
}

fn help(out: &mut Reply) {
    const LINES: &[&str] = &[
        "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by this node in a slot, at most <count> of them.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "MYID",
        "    Return this node's id.",
        "NODES",
        "    Return the cluster configuration seen by this node.",
        "SHARDS",
        "    Return information about slot range mappings and the nodes serving them.",
        "SLOTS",
        "    Return information about slot range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "(The map is static: edit the --cluster-config file and send SIGHUP to reload it.)",
        "HELP",
        "    Print this help.",
    ];
    out.array(LINES.len());
    for l in LINES {
        out.simple(l);
    }
}

/// Redis's CLUSTER SLOTS entry for a node: ip, port, id, and a map of other endpoints (none).
fn node_entry(n: &Node, out: &mut Reply) {
    out.array(4);
    out.bulk(n.host.as_bytes());
    out.int(n.port as i64);
    out.bulk(n.id.as_bytes());
    out.map(0);
}

fn slots(map: &Map, out: &mut Reply) {
    let runs = map.runs();
    out.array(runs.len());
    for (a, b, n) in runs {
        out.array(3);
        out.int(a as i64);
        out.int(b as i64);
        node_entry(&map.nodes[n], out);
    }
}

fn shards(map: &Map, out: &mut Reply) {
    out.array(map.nodes.len());
    for (i, n) in map.nodes.iter().enumerate() {
        out.map(2);
        out.bulk(b"slots");
        let runs = map.runs_of(i);
        out.array(runs.len() * 2);
        for (a, b) in runs {
            out.int(a as i64);
            out.int(b as i64);
        }
        out.bulk(b"nodes");
        out.array(1);
        out.map(7);
        out.bulk(b"id");
        out.bulk(n.id.as_bytes());
        out.bulk(b"port");
        out.int(n.port as i64);
        out.bulk(b"ip");
        out.bulk(n.host.as_bytes());
        out.bulk(b"endpoint");
        out.bulk(n.host.as_bytes());
        out.bulk(b"role");
        out.bulk(b"master");
        out.bulk(b"replication-offset");
        out.int(0);
        out.bulk(b"health");
        out.bulk(b"online");
    }
}

/// CLUSTER NODES: Redis's line format. There is no bus, so the bus port is 0, no pings are sent
/// and every link counts as connected (the map says the node exists; nothing checks it).
pub fn nodes(map: &Map) -> String {
    let mut s = String::new();
    for (i, n) in map.nodes.iter().enumerate() {
        let flags = if i == map.myself {
            "myself,master"
        } else {
            "master"
        };
        s.push_str(&format!(
            "{} {}:{}@0 {flags} - 0 0 {} connected",
            n.id, n.host, n.port, n.epoch
        ));
        for (a, b) in map.runs_of(i) {
            if a == b {
                s.push_str(&format!(" {a}"));
            } else {
                s.push_str(&format!(" {a}-{b}"));
            }
        }
        s.push('\n');
    }
    s
}

fn info(map: &Map) -> String {
    let size = map
        .nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !map.runs_of(*i).is_empty())
        .count();
    format!(
        "cluster_state:ok\r\ncluster_slots_assigned:{SLOTS}\r\ncluster_slots_ok:{SLOTS}\r\n\
         cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:{}\r\n\
         cluster_size:{size}\r\ncluster_current_epoch:{}\r\ncluster_my_epoch:{}\r\n\
         cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n\
         total_cluster_links_buffer_limit_exceeded:0\r\n",
        map.nodes.len(),
        map.epoch,
        map.me().epoch,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = "# three nodes\n\
        n1 127.0.0.1:7001 0-5460\n\
        n2 127.0.0.1:7002 5461-10922   # middle\n\
        n3 127.0.0.1:7003 10923-16383\n";

    #[test]
    fn parses_and_builds_a_full_map() {
        let map = build(parse(THREE).unwrap(), "", 7002).unwrap();
        assert_eq!(map.me().id, "n2");
        assert_eq!(map.owner(0).id, "n1");
        assert_eq!(map.owner(5461).id, "n2");
        assert_eq!(map.owner(16383).id, "n3");
        assert_eq!(map.runs().len(), 3);
        let by_id = build(parse(THREE).unwrap(), "n3", 1).unwrap();
        assert_eq!(by_id.myself, 2);
    }

    #[test]
    fn the_example_map_in_deploy_is_valid() {
        let text = include_str!("../deploy/cluster.map");
        let map = build(parse(text).unwrap(), "n2", 0).unwrap();
        assert_eq!(map.nodes.len(), 3);
        assert_eq!(map.owner(12182).id, "n3");
    }

    #[test]
    fn several_ranges_and_single_slots() {
        let text = "a 10.0.0.1:1 0-99,200,300-16383\nb 10.0.0.2:1 100-199,201-299\n";
        let map = build(parse(text).unwrap(), "b", 0).unwrap();
        assert_eq!(map.runs_of(0), vec![(0, 99), (200, 200), (300, 16383)]);
        assert_eq!(map.runs_of(1), vec![(100, 199), (201, 299)]);
        assert!(nodes(&map)
            .contains("b 10.0.0.2:1@0 myself,master - 0 0 2 connected 100-199 201-299\n"));
    }

    #[test]
    fn refuses_gaps_overlaps_and_bad_lines() {
        let gap = build(parse("a h:1 0-100\nb h:2 200-16383\n").unwrap(), "a", 0).unwrap_err();
        assert!(gap.contains("not assigned to any node: 101-199"), "{gap}");
        let overlap =
            build(parse("a h:1 0-9000\nb h:2 8000-16383\n").unwrap(), "a", 0).unwrap_err();
        assert!(
            overlap.contains("slots 8000-9000 are assigned twice"),
            "{overlap}"
        );
        assert!(parse("a h:1 0-16384\n")
            .unwrap_err()
            .contains("invalid slot range"));
        assert!(parse("a h:x 0-1\n")
            .unwrap_err()
            .contains("not <host>:<port>"));
        assert!(parse("a h:1 0-1\na h:2 2-3\n")
            .unwrap_err()
            .contains("already used"));
        assert!(parse("a h:1 0-1 extra\n").unwrap_err().contains("expected"));
        assert!(parse("# nothing\n").unwrap_err().contains("no nodes"));
        let who = build(parse(THREE).unwrap(), "", 9999).unwrap_err();
        assert!(who.contains("set --cluster-node-id"), "{who}");
    }
}

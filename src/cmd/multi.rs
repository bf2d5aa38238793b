//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH — Redis 7.0's semantics on every core.
//!
//! Queueing happens in the router (`queue`): after MULTI every command except EXEC, DISCARD,
//! MULTI, WATCH, QUIT and RESET is checked (existence, arity, `no-multi`) and stored; an error
//! there marks the transaction so EXEC answers EXECABORT.
//!
//! EXEC runs the queue in one of two ways:
//! - **One shard** (every key, and every WATCHed key, owned by one shard — or none): the whole
//!   queue travels as one internal command, `__exec`, to that shard, which checks the watches and
//!   runs every command in one synchronous step. Nothing can interleave with it and no other shard
//!   is involved: no coordination at all.
//! - **Several shards**: take the locks of the shards involved in ascending order
//!   ([`crate::tx`]), check the watches, run each shard's share of the queue as one step per shard
//!   (concurrently: commands on different shards touch different keys), merge split commands'
//!   parts, release. Commands that gather from several shards themselves (`Handler::Async`:
//!   SMOVE, RENAME, SUNIONSTORE… across shards) run in their turn with every shard locked.
//! - **Several shards, grouped** (no WATCH, no `Handler::Async` command: the common pipeline
//!   case): the multi-shard transactions a core's clients EXEC in one loop turn are committed
//!   together ([`group_run`]): one lock round over the union of their shards, then one step per
//!   shard carrying every transaction's share in arrival order. Every shard runs the shares in
//!   the same order and nothing else runs there meanwhile, so the outcome is that of running the
//!   transactions one after another in that order: each stays atomic and isolated, and the lock
//!   and step round trips are paid once per group instead of once per transaction.
//!
//! Connection-level commands in the queue (PING, ECHO, SELECT, CLIENT…) run after the data steps,
//! in queue order; server-wide ones (INFO, BGSAVE) run after the locks are released. SELECT is
//! followed while planning, so later commands use the database it selects.
//!
//! WATCH registers the keys on their owners ([`crate::keyspace::Keyspace::cas_watch`]), which
//! mark the watch dirty when a key changes, is flushed, or passes the deadline it had.

use super::{
    arity_error, flags, AsyncFn, CommandSpec, ConnCtx, Handler, Merge, Route, Session, ShardCtx,
};
use crate::resp::{frame_len, Argv, CmdBatch, Reply};
use crate::shard::{shard_of, Core};
use crate::tx::{self, Locks};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const EXEC_STEP: &str = "__exec";
const WATCH_STEP: &str = "__watch";
const UNWATCH_STEP: &str = "__unwatch";
const CHECK_STEP: &str = "__watch-check";

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// The commands queued since MULTI.
#[derive(Debug, Default)]
pub struct Queued {
    cmds: CmdBatch,
    idx: Vec<u16>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    aborted: bool,
}

impl Queued {
    /// Each queued command with its table index, in order (cluster mode checks their keys at
    /// EXEC).
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(usize, Argv<'a>)) {
        for (i, &idx) in self.idx.iter().enumerate() {
            f(idx as usize, self.cmds.get(i));
        }
    }
}

/// One WATCH period of a client: its id on the shards, and which shards hold its keys.
#[derive(Debug)]
pub struct Watching {
    pub id: u64,
    pub shards: Vec<usize>,
}

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let row = |name, arity, flags, keys: (i32, i32, i32), handler| CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        route: Route::Local,
        handler,
    };
    let base = NOSCRIPT | LOADING | STALE;
    t.push(row(
        "multi",
        1,
        base | FAST,
        (0, 0, 0),
        Handler::Conn(multi),
    ));
    t.push(row("exec", 1, base, (0, 0, 0), Handler::Async(exec)));
    t.push(row(
        "discard",
        1,
        base | FAST,
        (0, 0, 0),
        Handler::Conn(discard),
    ));
    t.push(row(
        "watch",
        -2,
        base | FAST,
        (1, -1, 1),
        Handler::Async(watch),
    ));
    t.push(row(
        "unwatch",
        1,
        base | FAST,
        (0, 0, 0),
        Handler::Conn(unwatch),
    ));
    let internal = |name, arity, f| CommandSpec::single_key(name, arity, INTERNAL, f);
    t.push(internal(EXEC_STEP, -2, exec_step));
    t.push(internal(WATCH_STEP, -3, watch_step));
    t.push(internal(UNWATCH_STEP, 2, unwatch_step));
    t.push(internal(CHECK_STEP, 2, check_step));
}

/// Whether `spec` is queued inside MULTI (everything but the transaction's own controls).
pub fn queues(spec: &CommandSpec) -> bool {
    !matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// A command was refused (unknown, wrong arity…): inside MULTI, EXEC will answer EXECABORT.
pub fn flag_error(s: &mut Session) {
    if let Some(q) = &mut s.multi {
        q.aborted = true;
    }
}

/// Queues a command inside MULTI and answers +QUEUED (or refuses a `no-multi` command).
pub fn queue(s: &mut Session, spec: &CommandSpec, idx: usize, argv: Argv<'_>, out: &mut Reply) {
    let Some(q) = &mut s.multi else { return };
    if spec.flags & flags::NO_MULTI != 0 {
        q.aborted = true;
        out.error("ERR Command not allowed inside a transaction");
        return;
    }
    // The queue is bounded like a query buffer (Redis leaves it to client eviction): past
    // `client-query-buffer-limit` the transaction is refused rather than grown without end.
    let limit = crate::tunables::CLIENT_QUERY_BUFFER_LIMIT.get().max(0) as usize;
    if !q.aborted && q.cmds.data_len() + argv.iter().map(<[u8]>::len).sum::<usize>() > limit {
        q.aborted = true;
        q.cmds = CmdBatch::new();
        q.idx = Vec::new();
        out.error("ERR transaction queue is larger than client-query-buffer-limit");
        return;
    }
    // As Redis: an aborted transaction keeps answering QUEUED but stores nothing.
    if !q.aborted {
        q.cmds.push_argv(argv);
        q.idx.push(idx as u16);
    }
    out.simple("QUEUED");
}

fn multi(ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    if ctx.session.multi.is_some() {
        return out.error("ERR MULTI calls can not be nested");
    }
    ctx.session.multi = Some(Box::default());
    out.ok();
}

fn discard(ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    if ctx.session.multi.take().is_none() {
        return out.error("ERR DISCARD without MULTI");
    }
    forget_watch(ctx.session);
    out.ok();
}

fn unwatch(ctx: &mut ConnCtx<'_>, _argv: Argv<'_>, out: &mut Reply) {
    forget_watch(ctx.session);
    out.ok();
}

/// Ends the client's WATCH period; the connection tells the shards (see `conn`). Safe to send
/// late: a new WATCH gets a new id.
pub fn forget_watch(s: &mut Session) {
    if let Some(w) = s.watch.take() {
        s.stale_watches.push(w);
    }
}

/// Tells the shards to forget watch periods that ended (their ids are never reused).
pub async fn drop_watches(core: &Rc<Core>, watches: Vec<Watching>) {
    for w in watches {
        let id = itoa::Buffer::new().format(w.id).to_owned();
        for shard in w.shards {
            let b = CmdBatch::from_args([UNWATCH_STEP.as_bytes(), id.as_bytes()]);
            core.call(shard, 0, crate::resp::Proto::Resp2, &b).await;
        }
    }
}

type AsyncOut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

fn watch<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(async move {
        if s.multi.is_some() {
            return out.error("ERR WATCH inside MULTI is not allowed");
        }
        let w = s.watch.get_or_insert_with(|| Watching {
            id: tx::next_tx_id(),
            shards: Vec::new(),
        });
        let id = itoa::Buffer::new().format(w.id).to_owned();
        // One step per owner, keys in argument order.
        let mut per_shard: Vec<(usize, CmdBatch)> = Vec::new();
        for key in argv.tail(1) {
            let owner = shard_of(key, core.nshards);
            let b = match per_shard.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, b)) => b,
                None => {
                    let mut b = CmdBatch::new();
                    b.push_arg(WATCH_STEP.as_bytes());
                    b.push_arg(id.as_bytes());
                    per_shard.push((owner, b));
                    &mut per_shard.last_mut().expect("just pushed").1
                }
            };
            b.push_arg(key);
        }
        for (owner, b) in per_shard.iter_mut() {
            b.finish_cmd();
            if !w.shards.contains(owner) {
                w.shards.push(*owner);
            }
        }
        w.shards.sort_unstable();
        let db = s.db;
        let calls = per_shard
            .iter()
            .map(|(owner, b)| core.call(*owner, db, out.proto, b))
            .collect();
        for r in tx::join_all(calls).await {
            if r.first() == Some(&b'-') {
                return out.raw(&r);
            }
        }
        out.ok();
    })
}

/// `__watch <id> <key>…`: registers the keys (in the connection's DB) for watch `id`.
fn watch_step(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(id) = parse_id(argv.get(1)) else {
        return out.error("ERR internal: bad watch id");
    };
    for key in argv.tail(2) {
        ctx.ks.cas_watch(id, ctx.db, key, ctx.now_ms);
    }
    out.ok();
}

/// `__unwatch <id>`.
fn unwatch_step(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    if let Some(id) = parse_id(argv.get(1)) {
        ctx.ks.cas_unwatch(id);
    }
    out.ok();
}

/// `__watch-check <id>`: `:1` if EXEC must fail because of this shard's keys, else `:0`.
fn check_step(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let failed = parse_id(argv.get(1)).is_some_and(|id| ctx.ks.cas_failed(id, ctx.now_ms));
    out.int(failed as i64);
}

/// `__exec <watch id or 0> [<db> <argc> <arg>…]…`: a one-shard transaction in one step. A
/// failed watch answers a null array and runs nothing; else an array of every command's reply.
fn exec_step(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let id = parse_id(argv.get(1)).unwrap_or(0);
    if id != 0 {
        let failed = ctx.ks.cas_failed(id, ctx.now_ms);
        ctx.ks.cas_unwatch(id);
        if failed {
            return out.null_array();
        }
    }
    let subs = sub_commands(argv, 2);
    out.array(subs.len());
    let db = ctx.db;
    for (sub_db, range) in subs {
        let sub = argv.slice(range);
        let Some(Handler::Shard(f)) = super::lookup(sub.get(0)).map(|i| super::table()[i].handler)
        else {
            out.error("ERR internal: not a shard command");
            continue;
        };
        ctx.db = sub_db;
        let dirty_before = ctx.ks.cas_active().then(|| ctx.ks.dirty());
        f(ctx, sub, out);
        if let Some(d) = dirty_before {
            ctx.ks.settle_touches(d);
        }
    }
    ctx.db = db;
}

/// The `(db, argument range)` of each command encoded from `argv[from..]`.
fn sub_commands(argv: Argv<'_>, from: usize) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut i = from;
    while i + 1 < argv.len() {
        let db = parse_id(argv.get(i)).unwrap_or(0) as usize;
        let argc = parse_id(argv.get(i + 1)).unwrap_or(0) as usize;
        let start = i + 2;
        if argc == 0 || start + argc > argv.len() {
            break;
        }
        out.push((db, start..start + argc));
        i = start + argc;
    }
    out
}

fn parse_id(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn exec<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    _argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(exec_async(core, s, out))
}

/// Where one queued command's reply comes from.
enum Src {
    /// Known already (an error found while planning) or produced by an Async step.
    Bytes(Vec<u8>),
    /// A connection-level or server-wide command, run after the data steps.
    Later,
    /// The `at`-th command sent to `shard`.
    Step { shard: usize, at: usize },
    /// A command split across shards: its parts, merged.
    Split {
        merge: Merge,
        parts: Vec<(usize, usize, Vec<u32>)>,
        nkeys: usize,
    },
    /// A command that gathers from several shards itself (runs with every shard locked), after
    /// each shard's first `upto[shard]` steps.
    Async { f: AsyncFn, upto: Vec<usize> },
}

/// Each queued command's routing, decided before anything runs.
struct Plan {
    srcs: Vec<Src>,
    /// The database each command runs in (SELECT in the queue is followed).
    dbs: Vec<usize>,
    /// Per shard: the commands it runs (each one complete), with their queue positions.
    steps: Vec<CmdBatch>,
    step_meta: Vec<Vec<crate::shard::SubMeta>>,
    /// Shards with work, ascending.
    shards: Vec<usize>,
    has_async: bool,
}

fn plan(core: &Core, s: &Session, q: &Queued) -> Plan {
    let n = core.nshards;
    let mut p = Plan {
        srcs: Vec::with_capacity(q.idx.len()),
        dbs: Vec::with_capacity(q.idx.len()),
        steps: (0..n).map(|_| CmdBatch::new()).collect(),
        step_meta: vec![Vec::new(); n],
        shards: Vec::new(),
        has_async: false,
    };
    let mut db = s.db;
    let proto = s.proto;
    let mut owners: Vec<usize> = Vec::new();
    for (i, &idx) in q.idx.iter().enumerate() {
        let argv = q.cmds.get(i);
        let spec = &super::table()[idx as usize];
        p.dbs.push(db);
        let meta = tx::meta(idx as usize, db, proto);
        let src = match (spec.handler, spec.route) {
            (Handler::Conn(_), _) => {
                if spec.name == "select" {
                    if let Some(d) = super::parse_i64(argv.get(1))
                        .and_then(|d| usize::try_from(d).ok())
                        .filter(|&d| d < core.config.databases)
                    {
                        db = d;
                    }
                }
                Src::Later
            }
            (Handler::Server(_), _) => Src::Later,
            (Handler::Async(f), _) => {
                p.has_async = true;
                Src::Async {
                    f,
                    upto: p.step_meta.iter().map(Vec::len).collect(),
                }
            }
            (Handler::Shard(_), Route::Local) => p.step(core.id, argv, meta),
            (Handler::Shard(_), Route::Key) => p.step(shard_of(argv.get(1), n), argv, meta),
            (Handler::Shard(_), Route::Keys { first, step, merge }) => {
                if !(argv.len() - first).is_multiple_of(step) {
                    let mut r = Reply::new(proto);
                    arity_error(spec.name, &mut r);
                    Src::Bytes(r.buf)
                } else {
                    owners.clear();
                    owners.extend(
                        (first..argv.len())
                            .step_by(step)
                            .map(|k| shard_of(argv.get(k), n)),
                    );
                    let one = owners[0];
                    if owners.iter().all(|&o| o == one) {
                        p.step(one, argv, meta)
                    } else {
                        let mut parts = Vec::new();
                        for shard in 0..n {
                            let keys: Vec<u32> = owners
                                .iter()
                                .enumerate()
                                .filter(|(_, &o)| o == shard)
                                .map(|(k, _)| k as u32)
                                .collect();
                            if keys.is_empty() {
                                continue;
                            }
                            let b = &mut p.steps[shard];
                            for a in argv.iter().take(first) {
                                b.push_arg(a);
                            }
                            for &k in &keys {
                                let at = first + k as usize * step;
                                for j in at..at + step {
                                    b.push_arg(argv.get(j));
                                }
                            }
                            b.finish_cmd();
                            p.step_meta[shard].push(meta);
                            parts.push((shard, p.step_meta[shard].len() - 1, keys));
                        }
                        Src::Split {
                            merge,
                            parts,
                            nkeys: owners.len(),
                        }
                    }
                }
            }
            (Handler::Shard(_), Route::All(merge)) => {
                let mut parts = Vec::new();
                for shard in 0..n {
                    p.steps[shard].push_argv(argv);
                    p.step_meta[shard].push(meta);
                    parts.push((shard, p.step_meta[shard].len() - 1, Vec::new()));
                }
                Src::Split {
                    merge,
                    parts,
                    nkeys: 0,
                }
            }
        };
        p.srcs.push(src);
    }
    p.shards = (0..n).filter(|&sh| !p.step_meta[sh].is_empty()).collect();
    p
}

impl Plan {
    fn step(&mut self, shard: usize, argv: Argv<'_>, meta: crate::shard::SubMeta) -> Src {
        self.steps[shard].push_argv(argv);
        self.step_meta[shard].push(meta);
        Src::Step {
            shard,
            at: self.step_meta[shard].len() - 1,
        }
    }
}

/// EXEC without a barrier: when every queued command is a data command for one shard (and any
/// WATCHed keys are on it too), the router sends `__exec` like any forwarded command, so
/// pipelined transactions travel together instead of one round trip each. Fills `batch` with
/// that one command, ends the transaction and returns the owner; `None` leaves everything as
/// it was (the general EXEC then runs).
pub fn fast_exec(core: &Core, s: &mut Session, batch: &mut CmdBatch) -> Option<usize> {
    let q = s.multi.as_ref()?;
    if q.aborted {
        return None;
    }
    let n = core.nshards;
    let mut owner: Option<usize> = None;
    let mut same = |o: usize| match owner {
        None => {
            owner = Some(o);
            true
        }
        Some(x) => x == o,
    };
    for (i, &idx) in q.idx.iter().enumerate() {
        let argv = q.cmds.get(i);
        let spec = &super::table()[idx as usize];
        let ok = match (spec.handler, spec.route) {
            (Handler::Shard(_), Route::Key) => same(shard_of(argv.get(1), n)),
            (Handler::Shard(_), Route::Keys { first, step, .. }) => {
                (argv.len() - first).is_multiple_of(step)
                    && (first..argv.len())
                        .step_by(step)
                        .all(|k| same(shard_of(argv.get(k), n)))
            }
            (Handler::Shard(_), Route::Local) => same(core.id),
            (Handler::Shard(_), Route::All(_)) if n == 1 => same(0),
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    if let Some(w) = &s.watch {
        if !w.shards.iter().all(|&sh| same(sh)) {
            return None;
        }
    }
    let owner = owner.unwrap_or(core.id);
    let q = s.multi.take()?;
    let watch = s.watch.take();
    batch.clear();
    encode_exec(
        batch,
        watch.map_or(0, |w| w.id),
        q.cmds.iter().map(|argv| (s.db, argv)),
    );
    Some(owner)
}

/// Appends one `__exec <watch id> [<db> <argc> <arg>…]…` command to `batch`.
fn encode_exec<'a>(
    batch: &mut CmdBatch,
    watch_id: u64,
    cmds: impl Iterator<Item = (usize, Argv<'a>)>,
) {
    batch.push_arg(EXEC_STEP.as_bytes());
    batch.push_arg(itoa::Buffer::new().format(watch_id).as_bytes());
    for (db, argv) in cmds {
        batch.push_arg(itoa::Buffer::new().format(db).as_bytes());
        batch.push_arg(itoa::Buffer::new().format(argv.len()).as_bytes());
        for a in argv.iter() {
            batch.push_arg(a);
        }
    }
    batch.finish_cmd();
}

/// The table index of the one-shard transaction step.
pub fn exec_step_index() -> usize {
    super::lookup(EXEC_STEP.as_bytes()).expect("registered")
}

async fn exec_async(core: &Rc<Core>, s: &mut Session, out: &mut Reply) {
    let Some(q) = s.multi.take() else {
        return out.error("ERR EXEC without MULTI");
    };
    let watch = s.watch.take();
    if q.aborted {
        if let Some(w) = watch {
            s.stale_watches.push(w);
        }
        return out.error(EXECABORT);
    }
    let mut plan = plan(core, s, &q);
    let mut involved = plan.shards.clone();
    if let Some(w) = &watch {
        involved.extend(w.shards.iter().copied());
        involved.sort_unstable();
        involved.dedup();
    }
    // Replies of the data steps, per shard, in step order.
    let mut replies: Vec<Vec<Vec<u8>>> = vec![Vec::new(); core.nshards];
    if !plan.has_async && involved.len() <= 1 {
        if let Some(&shard) = involved.first() {
            match one_shard(core, s, &plan, shard, watch.as_ref()).await {
                Ok(r) => replies[shard] = r,
                Err(reply) => return out.raw(&reply),
            }
        }
    } else if !plan.has_async && watch.is_none() {
        replies = group_run(core, &plan).await;
    } else {
        let all: Vec<usize> = (0..core.nshards).collect();
        let locks = Locks::acquire(core, if plan.has_async { &all } else { &involved }).await;
        if let Some(w) = &watch {
            if watch_failed(core, w).await {
                drop(locks);
                s.stale_watches.extend(watch);
                return out.null_array();
            }
        }
        s.in_exec = true;
        let initial_db = s.db;
        // Data steps in segments: everything up to an Async command, then that command.
        let mut sent = vec![0usize; core.nshards];
        for i in 0..plan.srcs.len() {
            if let Src::Async { f, upto } = &plan.srcs[i] {
                let (f, upto) = (*f, upto.clone());
                flush(core, &plan, &mut sent, &upto, &mut replies).await;
                let mut r = Reply::new(s.proto);
                s.db = plan.dbs[i];
                let argv = q.cmds.get(i);
                tx::InTx {
                    core,
                    tx: locks.tx(),
                    fut: f(core, s, argv, &mut r),
                }
                .await;
                plan.srcs[i] = Src::Bytes(r.buf);
            }
        }
        let all_steps: Vec<usize> = plan.step_meta.iter().map(Vec::len).collect();
        flush(core, &plan, &mut sent, &all_steps, &mut replies).await;
        s.db = initial_db;
        s.in_exec = false;
        drop(locks);
        s.stale_watches.extend(watch);
    }

    // Assemble, running the connection-level and server-wide commands in their turn.
    out.proto = s.proto;
    out.array(plan.srcs.len());
    for (i, src) in plan.srcs.iter().enumerate() {
        match src {
            Src::Bytes(b) => out.raw(b),
            Src::Step { shard, at } => out.raw(&replies[*shard][*at]),
            Src::Split {
                merge,
                parts,
                nkeys,
            } => {
                let parts: Vec<(&[u8], &[u32])> = parts
                    .iter()
                    .map(|(shard, at, keys)| (&replies[*shard][*at][..], &keys[..]))
                    .collect();
                crate::router::merge_replies(*merge, &parts, *nkeys, out);
            }
            Src::Later => {
                let argv = q.cmds.get(i);
                let spec = &super::table()[q.idx[i] as usize];
                match spec.handler {
                    Handler::Conn(f) => {
                        let mut ctx = ConnCtx {
                            session: s,
                            config: &core.config,
                            shared: &core.shared,
                            port: core.port.get(),
                            nshards: core.nshards,
                        };
                        f(&mut ctx, argv, out);
                    }
                    Handler::Server(c) => {
                        crate::cmd::server::run(core, s, c, argv, out).await;
                    }
                    _ => out.error("ERR internal: misplanned transaction command"),
                }
                out.proto = s.proto;
            }
            Src::Async { .. } => out.error("ERR internal: transaction step did not run"),
        }
    }
}

/// Runs the whole queue as one `__exec` step on `shard` (with the watch check, when the client
/// watches keys there). Returns each data command's reply, or the whole EXEC reply (a null array
/// for a failed watch, or an error).
async fn one_shard(
    core: &Rc<Core>,
    s: &Session,
    plan: &Plan,
    shard: usize,
    watch: Option<&Watching>,
) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let mut b = CmdBatch::new();
    let steps = &plan.steps[shard];
    let dbs = plan.step_meta[shard].iter().map(|m| m.db as usize);
    encode_exec(&mut b, watch.map_or(0, |w| w.id), dbs.zip(steps.iter()));
    let reply = core.call(shard, s.db, s.proto, &b).await;
    match reply.first() {
        Some(b'*') if !reply.starts_with(b"*-1") => {}
        _ => return Err(reply),
    }
    let Some(hdr) = reply.iter().position(|&c| c == b'\n') else {
        return Err(reply);
    };
    let mut body = &reply[hdr + 1..];
    let mut out = Vec::with_capacity(steps.len());
    while !body.is_empty() {
        let Ok(Some(len)) = frame_len(body) else {
            break;
        };
        out.push(body[..len].to_vec());
        body = &body[len..];
    }
    Ok(out)
}

/// One transaction waiting for its core's group commit: its steps per shard, and where its
/// replies go.
struct Pending {
    /// (shard, commands, their metadata), shards ascending.
    steps: Vec<(usize, CmdBatch, Vec<crate::shard::SubMeta>)>,
    done: futures_channel::oneshot::Sender<Vec<Vec<Vec<u8>>>>,
}

#[derive(Default)]
struct Group {
    pending: Vec<Pending>,
    /// A leader task is committing groups on this core.
    leader: bool,
}

thread_local! {
    /// Per core (one executor per thread): the transactions waiting for the next group commit.
    static GROUP: std::cell::RefCell<Group> = std::cell::RefCell::new(Group::default());
}

/// Runs a multi-shard transaction without WATCH or `Handler::Async` commands as part of this
/// core's next group commit; returns its replies per shard, in step order (as [`flush`]).
async fn group_run(core: &Rc<Core>, plan: &Plan) -> Vec<Vec<Vec<u8>>> {
    let (tx, rx) = futures_channel::oneshot::channel();
    let steps = plan
        .shards
        .iter()
        .map(|&sh| (sh, plan.steps[sh].clone(), plan.step_meta[sh].clone()))
        .collect();
    let spawn = GROUP.with(|g| {
        let mut g = g.borrow_mut();
        g.pending.push(Pending { steps, done: tx });
        !std::mem::replace(&mut g.leader, true)
    });
    if spawn {
        let core = core.clone();
        glommio::spawn_local(crate::shard::critical(
            "transaction group commit",
            async move {
                // glommio polls a new task at once: yield, so every EXEC of this turn joins.
                futures_lite::future::yield_now().await;
                commit_groups(&core).await;
            },
        ))
        .detach();
    }
    let n = core.nshards;
    rx.await
        .unwrap_or_else(|_| (0..n).map(|_| Vec::new()).collect())
}

/// The leader: commits the waiting transactions, group after group, until none is left.
async fn commit_groups(core: &Rc<Core>) {
    loop {
        let group = GROUP.with(|g| {
            let mut g = g.borrow_mut();
            let p = std::mem::take(&mut g.pending);
            if p.is_empty() {
                g.leader = false;
            }
            p
        });
        if group.is_empty() {
            return;
        }
        let n = core.nshards;
        let mut shards: Vec<usize> = group
            .iter()
            .flat_map(|p| p.steps.iter().map(|(sh, _, _)| *sh))
            .collect();
        shards.sort_unstable();
        shards.dedup();
        // Per shard: every transaction's share, in arrival order, and where each one starts.
        let mut batches: Vec<(CmdBatch, Vec<crate::shard::SubMeta>)> =
            (0..n).map(|_| Default::default()).collect();
        let mut starts: Vec<Vec<(usize, usize, usize)>> = Vec::with_capacity(group.len());
        for p in &group {
            let mut mine = Vec::with_capacity(p.steps.len());
            for (sh, cmds, meta) in &p.steps {
                let (b, m) = &mut batches[*sh];
                mine.push((*sh, m.len(), meta.len()));
                for a in cmds.iter() {
                    b.push_argv(a);
                }
                m.extend_from_slice(meta);
            }
            starts.push(mine);
        }
        let locks = Locks::acquire(core, &shards).await;
        let runs = shards
            .iter()
            .map(|&sh| {
                let (b, m) = std::mem::take(&mut batches[sh]);
                tx::run_on(core, sh, b, m)
            })
            .collect();
        let done = tx::join_all(runs).await;
        drop(locks);
        let mut by_shard: Vec<Option<crate::shard::ReplyBatch>> = (0..n).map(|_| None).collect();
        for (sh, rb) in shards.iter().zip(done) {
            by_shard[*sh] = Some(rb);
        }
        for (p, mine) in group.into_iter().zip(starts) {
            let mut replies: Vec<Vec<Vec<u8>>> = (0..n).map(|_| Vec::new()).collect();
            for (sh, from, len) in mine {
                if let Some(rb) = &by_shard[sh] {
                    replies[sh] = (from..from + len)
                        .map(|i| {
                            if i < rb.ends.len() {
                                rb.get(i).to_vec()
                            } else {
                                crate::shard::SHARD_GONE.to_vec()
                            }
                        })
                        .collect();
                }
            }
            let _ = p.done.send(replies);
        }
    }
}

/// Asks every shard holding watched keys whether EXEC must fail (the caller holds their locks).
async fn watch_failed(core: &Rc<Core>, w: &Watching) -> bool {
    let id = itoa::Buffer::new().format(w.id).to_owned();
    let checks = w
        .shards
        .iter()
        .map(|&shard| {
            let mut b = CmdBatch::new();
            b.push_arg(CHECK_STEP.as_bytes());
            b.push_arg(id.as_bytes());
            b.finish_cmd();
            let idx = super::lookup(CHECK_STEP.as_bytes()).expect("registered");
            tx::run_on(
                core,
                shard,
                b,
                vec![tx::meta(idx, 0, crate::resp::Proto::Resp2)],
            )
        })
        .collect();
    tx::join_all(checks)
        .await
        .iter()
        .any(|rb| rb.ends.is_empty() || rb.get(0) != b":0\r\n")
}

/// Sends every shard its data steps from `sent` up to `upto` (concurrently) and collects the
/// replies.
async fn flush(
    core: &Rc<Core>,
    plan: &Plan,
    sent: &mut [usize],
    upto: &[usize],
    replies: &mut [Vec<Vec<u8>>],
) {
    let mut runs = Vec::new();
    let mut shards = Vec::new();
    for shard in 0..core.nshards {
        let (from, to) = (sent[shard], upto[shard]);
        if from >= to {
            continue;
        }
        let mut batch = CmdBatch::new();
        for j in from..to {
            batch.push_argv(plan.steps[shard].get(j));
        }
        let meta = plan.step_meta[shard][from..to].to_vec();
        sent[shard] = to;
        shards.push(shard);
        runs.push(tx::run_on(core, shard, batch, meta));
    }
    let done = tx::join_all(runs).await;
    for (shard, rb) in shards.into_iter().zip(done) {
        for i in 0..rb.ends.len() {
            replies[shard].push(rb.get(i).to_vec());
        }
    }
}

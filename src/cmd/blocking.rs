//! Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (Redis 7.0 `t_list.c`) and BZPOPMIN,
//! BZPOPMAX, BZMPOP (`t_zset.c`).
//!
//! Each runs on the connection's core (`Handler::Async`). It parses and validates in Redis's
//! order, then asks the owner of each run of keys, in argument order, to serve it now or queue it
//! (`__block`); the first owner with a non-empty list serves it, as Redis serves the first
//! non-empty key. Otherwise the client waits for an owner to serve it, for its timeout, or for its
//! socket to close (the connection watches it; see `conn.rs`). See [`crate::blocking`].

use super::{err, flags, parse_i64, AsyncFn, CommandSpec, Handler, Route, Session, ShardCtx};
use crate::blocking::{self, BlockOutcome, Op, Registration, Served};
use crate::cmd::string::ld::Ld;
use crate::keyspace::SmallBytes;
use crate::resp::{Argv, CmdBatch, Reply};
use crate::shard::{shard_of, Core};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// `__block <id> key…`: serve waiter `id` from the first non-empty list among these keys (all
/// owned here), or queue it on all of them. `:1` settled, `:0` queued, or WRONGTYPE.
const BLOCK: &str = "__block";
/// `__unblock <id> key…`: forget waiter `id` on these keys.
const UNBLOCK: &str = "__unblock";
/// `__block-push key left|right element`: the second half of a BLMOVE across shards.
const PUSH: &str = "__block-push";

/// A safety net: how often a waiting client re-checks that the server is not stopping (a closed
/// socket, including the server's own shutdown of client reads, wakes it at once).
const CHECK_EVERY: Duration = Duration::from_secs(1);

type AsyncOut<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    // Flags as Redis 7.0 gives them (COMMAND INFO reports them).
    let cmd = |name: &'static str, arity: i32, extra: u32, keys: (i32, i32, i32), f: AsyncFn| {
        CommandSpec {
            name,
            arity,
            flags: WRITE | NOSCRIPT | BLOCKING | extra,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            route: Route::Local,
            handler: Handler::Async(f),
        }
    };
    t.push(cmd("blpop", -3, 0, (1, -2, 1), blpop));
    t.push(cmd("brpop", -3, 0, (1, -2, 1), brpop));
    t.push(cmd("blmove", 6, DENYOOM, (1, 2, 1), blmove));
    t.push(cmd("brpoplpush", 4, DENYOOM, (1, 2, 1), brpoplpush));
    // Keys found through numkeys ("movablekeys"): Redis reports 0, 0, 0.
    t.push(cmd("blmpop", -5, 0, (0, 0, 0), blmpop));
    t.push(cmd("bzpopmin", -3, FAST, (1, -2, 1), bzpopmin));
    t.push(cmd("bzpopmax", -3, FAST, (1, -2, 1), bzpopmax));
    t.push(cmd("bzmpop", -5, 0, (0, 0, 0), bzmpop));

    let internal = |name: &'static str, arity: i32, f| {
        CommandSpec::single_key(name, arity, WRITE | INTERNAL, f)
    };
    t.push(internal(BLOCK, -3, block_part));
    t.push(internal(UNBLOCK, -3, unblock_part));
    t.push(internal(PUSH, 4, push_part));
}

const ERR_TIMEOUT: &str = "ERR timeout is not a float or out of range";
const ERR_TIMEOUT_NEG: &str = "ERR timeout is negative";

/// Redis's `getTimeoutFromObjectOrReply` in seconds: a `strtold` number, rounded up to whole
/// milliseconds; 0 means forever. Returns the wait in milliseconds.
fn parse_timeout(arg: &[u8]) -> Result<u64, &'static str> {
    let secs = match crate::cmd::string::ld::parse(arg) {
        Some(Ld::Finite { neg, m, e }) => {
            let v = (m as f64) * 2f64.powi(e.clamp(-2000, 2000) as i32);
            if neg {
                -v
            } else {
                v
            }
        }
        Some(Ld::Inf(neg)) => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        None => return Err(ERR_TIMEOUT),
    };
    let ms = (secs * 1000.0).ceil();
    if ms < 0.0 {
        return Err(ERR_TIMEOUT_NEG);
    }
    // Redis casts to a 64-bit integer (undefined beyond it); we refuse instead.
    if ms >= 9.2e18 {
        return Err(ERR_TIMEOUT);
    }
    Ok(ms as u64)
}

/// `LEFT`/`RIGHT` → true for left.
fn parse_side(arg: &[u8]) -> Option<bool> {
    if arg.eq_ignore_ascii_case(b"left") {
        Some(true)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Some(false)
    } else {
        None
    }
}

fn blpop<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(pop_cmd(core, s, argv, out, true))
}

fn brpop<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(pop_cmd(core, s, argv, out, false))
}

fn blmove<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(async move {
        let (Some(from_left), Some(to_left)) = (parse_side(argv.get(3)), parse_side(argv.get(4)))
        else {
            return out.error(err::SYNTAX);
        };
        move_cmd(core, s, argv, out, from_left, to_left, argv.get(5)).await
    })
}

fn brpoplpush<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(move_cmd(core, s, argv, out, false, true, argv.get(3)))
}

fn blmpop<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(mpop_cmd(core, s, argv, out, false))
}

fn bzmpop<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(mpop_cmd(core, s, argv, out, true))
}

fn bzpopmin<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(zpop_cmd(core, s, argv, out, false))
}

fn bzpopmax<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(zpop_cmd(core, s, argv, out, true))
}

async fn zpop_cmd(core: &Rc<Core>, s: &mut Session, argv: Argv<'_>, out: &mut Reply, max: bool) {
    let timeout = match parse_timeout(argv.get(argv.len() - 1)) {
        Ok(t) => t,
        Err(e) => return out.error(e),
    };
    let keys: Vec<&[u8]> = (1..argv.len() - 1).map(|i| argv.get(i)).collect();
    wait_for(core, s, out, &keys, Op::ZPop { max, count: None }, timeout).await
}

/// BLMPOP (`zset` false: LEFT|RIGHT) and BZMPOP (`zset`: MIN|MAX): `timeout numkeys key… side
/// [COUNT n]`.
async fn mpop_cmd(core: &Rc<Core>, s: &mut Session, argv: Argv<'_>, out: &mut Reply, zset: bool) {
    {
        // Redis's order: numkeys, the side, COUNT, and only then the timeout (argv[1]).
        let numkeys = match parse_i64(argv.get(2)) {
            Some(n) if n >= 1 => n as u64,
            _ => return out.error("ERR numkeys should be greater than 0"),
        };
        let side_at = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(3)) {
            Some(i) if i < argv.len() => i,
            _ => return out.error(err::SYNTAX),
        };
        let side = argv.get(side_at);
        let first = if zset {
            if side.eq_ignore_ascii_case(b"min") {
                true
            } else if side.eq_ignore_ascii_case(b"max") {
                false
            } else {
                return out.error(err::SYNTAX);
            }
        } else {
            match parse_side(side) {
                Some(left) => left,
                None => return out.error(err::SYNTAX),
            }
        };
        let mut count: Option<usize> = None;
        let mut i = side_at + 1;
        while i < argv.len() {
            if count.is_none() && argv.len() - i >= 2 && argv.get(i).eq_ignore_ascii_case(b"count")
            {
                match parse_i64(argv.get(i + 1)) {
                    Some(c) if c >= 1 => count = Some(usize::try_from(c).unwrap_or(usize::MAX)),
                    _ => return out.error("ERR count should be greater than 0"),
                }
                i += 2;
            } else {
                return out.error(err::SYNTAX);
            }
        }
        let timeout = match parse_timeout(argv.get(1)) {
            Ok(t) => t,
            Err(e) => return out.error(e),
        };
        let keys: Vec<&[u8]> = (3..side_at).map(|i| argv.get(i)).collect();
        let count = count.unwrap_or(1);
        let op = if zset {
            Op::ZPop {
                max: !first,
                count: Some(count),
            }
        } else {
            Op::MPop { left: first, count }
        };
        wait_for(core, s, out, &keys, op, timeout).await
    }
}

async fn pop_cmd(core: &Rc<Core>, s: &mut Session, argv: Argv<'_>, out: &mut Reply, left: bool) {
    let timeout = match parse_timeout(argv.get(argv.len() - 1)) {
        Ok(t) => t,
        Err(e) => return out.error(e),
    };
    let keys: Vec<&[u8]> = (1..argv.len() - 1).map(|i| argv.get(i)).collect();
    wait_for(core, s, out, &keys, Op::Pop { left }, timeout).await
}

async fn move_cmd(
    core: &Rc<Core>,
    s: &mut Session,
    argv: Argv<'_>,
    out: &mut Reply,
    from_left: bool,
    to_left: bool,
    timeout_arg: &[u8],
) {
    let timeout = match parse_timeout(timeout_arg) {
        Ok(t) => t,
        Err(e) => return out.error(e),
    };
    let (src, dst) = (argv.get(1), argv.get(2));
    let op = Op::Move {
        dst: dst.into(),
        from_left,
        to_left,
        dst_here: shard_of(src, core.nshards) == shard_of(dst, core.nshards),
    };
    wait_for(core, s, out, &[src], op, timeout).await
}

/// The integer of a `:n` reply.
fn int_reply(r: &[u8]) -> Option<i64> {
    let body = r.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    parse_i64(body)
}

/// Blocks the client on `keys` (argument order) until served, timed out, unblocked (CLIENT
/// UNBLOCK) or gone.
async fn wait_for(
    core: &Rc<Core>,
    s: &mut Session,
    out: &mut Reply,
    keys: &[&[u8]],
    op: Op,
    timeout_ms: u64,
) {
    let db = s.db;
    let proto = out.proto;
    let nshards = core.nshards;
    let Registration { waiter, mut rx } = Registration::new(db, proto, op);
    let reg_guard = RegGuard(waiter.id);
    let id = itoa::Buffer::new().format(waiter.id).to_owned();

    // Runs of consecutive keys with one owner, in argument order.
    let mut runs: Vec<(usize, Vec<&[u8]>)> = Vec::new();
    for &k in keys {
        let owner = shard_of(k, nshards);
        match runs.last_mut() {
            Some((o, ks)) if *o == owner => ks.push(k),
            _ => runs.push((owner, vec![k])),
        }
    }
    let mut queued: Vec<usize> = Vec::new();
    let mut failure: Option<Vec<u8>> = None;
    for (i, (owner, ks)) in runs.iter().enumerate() {
        let b = CmdBatch::from_args(
            [BLOCK.as_bytes(), id.as_bytes()]
                .into_iter()
                .chain(ks.iter().copied()),
        );
        let reply = core.call(*owner, db, proto, &b).await;
        match int_reply(&reply) {
            Some(0) => queued.push(i),
            Some(_) => break,
            None => {
                failure = Some(reply);
                break;
            }
        }
    }

    let unblock = |queued: Vec<usize>| {
        let runs = &runs;
        let id = &id;
        async move {
            for i in queued {
                let (owner, ks) = &runs[i];
                let b = CmdBatch::from_args(
                    [UNBLOCK.as_bytes(), id.as_bytes()]
                        .into_iter()
                        .chain(ks.iter().copied()),
                );
                core.call(*owner, db, proto, &b).await;
            }
        }
    };

    // WRONGTYPE (or a shard gone) before any list could serve: reply it, unless an earlier
    // shard served the client meanwhile.
    if let Some(reply) = failure {
        if waiter.claim() {
            unblock(queued).await;
            drop(reg_guard);
            return out.raw(&reply);
        }
    }

    // Counted as blocked (INFO) only if no list served it right away.
    let counted = !waiter.is_claimed();
    if counted {
        core.blocked.set(core.blocked.get() + 1);
    }
    // Inside EXEC nothing blocks: an empty key answers as a timeout at once (Redis's
    // CLIENT_DENY_BLOCKING).
    let deadline = if s.in_exec {
        Some(Instant::now())
    } else {
        (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms))
    };
    // CLIENT UNBLOCK: settles the wait as a timeout, or with an UNBLOCKED error.
    let client = s.client.clone();
    let mut unblocked_error = false;
    let served = loop {
        let tick = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(CHECK_EVERY),
            None => CHECK_EVERY,
        };
        let gone_flag = s.gone.clone();
        let got = futures_lite::future::or(
            async { Some((&mut rx).await) },
            futures_lite::future::or(
                futures_lite::future::or(
                    async {
                        gone_flag.wait().await;
                        None
                    },
                    async {
                        client.unblock.wait().await;
                        None
                    },
                ),
                async {
                    glommio::timer::sleep(tick).await;
                    None
                },
            ),
        )
        .await;
        match got {
            Some(Ok(served)) => break Some(served),
            // The owner dropped the waiter unserved (its shard is gone): as a timeout.
            Some(Err(_)) => break None,
            None => {}
        }
        let gone = s.gone.get() || core.shared.is_stopping();
        let unblocked = client.unblock.get();
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        if gone || expired || unblocked {
            if !waiter.claim() {
                // Served meanwhile: the owner has sent (or dropped) its reply.
                break (&mut rx).await.ok();
            }
            if gone {
                s.close_after_reply = true;
            } else if unblocked && !expired {
                unblocked_error = client.unblock_error.get();
            }
            break None;
        }
    };
    if counted {
        core.blocked.set(core.blocked.get() - 1);
    }
    // Settled: forget it on every owner that queued it.
    unblock(queued).await;
    drop(reg_guard);
    if s.close_after_reply {
        return;
    }
    match served {
        None if unblocked_error => out.error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        // Redis 7.0 answers every list timeout with a null array, BLMOVE's too.
        None => out.null_array(),
        Some(Served::Reply(bytes)) => out.raw(&bytes),
        Some(Served::Moved(elem)) => {
            let Op::Move {
                ref dst,
                from_left,
                to_left,
                ..
            } = waiter.op
            else {
                return out.error("ERR internal: moved element for a non-move");
            };
            let side = |left: bool| if left { &b"left"[..] } else { &b"right"[..] };
            let b = CmdBatch::from_args([PUSH.as_bytes(), dst, side(to_left), &elem]);
            let reply = core.call(shard_of(dst, nshards), db, proto, &b).await;
            if int_reply(&reply).is_some() {
                return out.bulk(&elem);
            }
            // The destination changed type after the check: the element goes back where it came
            // from, and the client gets the error, as if it had never moved.
            let src = keys[0];
            let b = CmdBatch::from_args([PUSH.as_bytes(), src, side(from_left), &elem]);
            core.call(shard_of(src, nshards), db, proto, &b).await;
            out.raw(&reply);
        }
    }
}

/// Removes the waiter's id from the registry however the command ends.
struct RegGuard(u64);

impl Drop for RegGuard {
    fn drop(&mut self) {
        blocking::forget(self.0);
    }
}

fn waiter_of(argv: Argv<'_>) -> Option<std::sync::Arc<blocking::Waiter>> {
    let id = parse_i64(argv.get(1))?;
    blocking::find(u64::try_from(id).ok()?)
}

fn block_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let Some(w) = waiter_of(argv) else {
        return out.int(1);
    };
    let keys: Vec<&[u8]> = argv.tail(2).collect();
    match blocking::block_on(ctx.ks, ctx.db, &keys, ctx.now_ms, &w) {
        BlockOutcome::Settled => out.int(1),
        BlockOutcome::Queued => out.int(0),
        BlockOutcome::WrongType => out.error(err::WRONGTYPE),
    }
}

fn unblock_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let id = parse_i64(argv.get(1)).and_then(|v| u64::try_from(v).ok());
    if let Some(id) = id {
        for k in argv.tail(2) {
            blocking::dequeue(ctx.ks, ctx.db, k, id);
        }
    }
    out.int(0);
}

fn push_part(ctx: &mut ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let left = argv.get(2) == b"left";
    let e = SmallBytes::new(argv.get(3));
    if blocking::push(ctx.ks, ctx.db, argv.get(1), ctx.now_ms, left, e) {
        out.int(1)
    } else {
        out.error(err::WRONGTYPE)
    }
}

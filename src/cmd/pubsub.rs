//! SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH,
//! PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB/HELP.
//!
//! Subscriptions are connection-level (the connection's core keeps them, see [`crate::pubsub`]);
//! PUBLISH runs on every shard (`Route::All`, counts summed); the PUBSUB introspection commands
//! gather each core's view and combine them.

use super::{flags, unknown_subcommand, CommandSpec, ConnCtx, Handler, Merge, Route, Session};
use crate::pubsub::{self, Kind, Subscriber};
use crate::resp::{Argv, CmdBatch, Proto, Reply};
use crate::shard::Core;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

const PUBSUB_STEP: &str = "__pubsub";

pub fn register(t: &mut Vec<CommandSpec>) {
    use flags::*;
    let conn = |name, arity, f| CommandSpec {
        name,
        arity,
        flags: PUBSUB | NOSCRIPT | LOADING | STALE,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Conn(f),
    };
    t.push(conn("subscribe", -2, subscribe));
    t.push(conn("unsubscribe", -1, unsubscribe));
    t.push(conn("psubscribe", -2, psubscribe));
    t.push(conn("punsubscribe", -1, punsubscribe));
    // Shard channels are reported as (not-key) key positions, as Redis reports them.
    let shard_row = |name, arity, f| CommandSpec {
        first_key: 1,
        last_key: -1,
        step: 1,
        ..conn(name, arity, f)
    };
    t.push(shard_row("ssubscribe", -2, ssubscribe));
    t.push(shard_row("sunsubscribe", -1, sunsubscribe));
    let publish_row = |name, f| CommandSpec {
        name,
        arity: 3,
        flags: PUBSUB | LOADING | STALE | FAST,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::All(Merge::Sum),
        handler: Handler::Shard(f),
    };
    t.push(publish_row("publish", publish));
    t.push(CommandSpec {
        first_key: 1,
        last_key: 1,
        step: 1,
        ..publish_row("spublish", spublish)
    });
    t.push(CommandSpec {
        name: "pubsub",
        arity: -2,
        flags: 0,
        first_key: 0,
        last_key: 0,
        step: 0,
        route: Route::Local,
        handler: Handler::Async(pubsub_cmd),
    });
    t.push(CommandSpec::single_key(
        PUBSUB_STEP,
        -2,
        INTERNAL,
        pubsub_step,
    ));
}

/// The commands that change subscriptions: their confirmations are sent even under CLIENT REPLY
/// OFF, as Redis sends them.
pub fn is_subscription_cmd(name: &[u8]) -> bool {
    [
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "ssubscribe",
        "sunsubscribe",
    ]
    .iter()
    .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

/// Whether a RESP2 connection in the subscribed state may run `name` (Redis allows only these).
pub fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// Redis's refusal in the subscribed RESP2 state.
pub fn refuse_in_context(name: &str, out: &mut Reply) {
    out.error(&format!(
        "ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ));
}

/// PING in the subscribed RESP2 state: `["pong", message or ""]`.
pub fn ping_in_context(argv: Argv<'_>, out: &mut Reply) {
    if argv.len() > 2 {
        return super::arity_error("ping", out);
    }
    out.array(2);
    out.bulk(b"pong");
    out.bulk(if argv.len() == 2 { argv.get(1) } else { b"" });
}

/// Whether the connection has any subscription (the subscribed state).
pub fn subscribed(s: &Session) -> bool {
    s.pubsub
        .as_ref()
        .is_some_and(|p| p.count() + p.shard_count() > 0)
}

fn subscriber(s: &mut Session) -> Rc<Subscriber> {
    let proto = s.proto;
    let id = s.id;
    let sub = s
        .pubsub
        .get_or_insert_with(|| Rc::new(Subscriber::new(id, proto)))
        .clone();
    sub.mailbox.borrow_mut().proto = proto;
    sub
}

fn confirm(out: &mut Reply, what: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(what);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe_kind(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply, kind: Kind) {
    let sub = subscriber(ctx.session);
    let what: &[u8] = match kind {
        Kind::Channel => b"subscribe",
        Kind::Pattern => b"psubscribe",
        Kind::Shard => b"ssubscribe",
    };
    for name in argv.tail(1) {
        pubsub::subscribe(&sub, kind, name);
        let count = if kind == Kind::Shard {
            sub.shard_count()
        } else {
            sub.count()
        };
        confirm(out, what, Some(name), count);
    }
    ctx.session.subscriptions = sub.count() + sub.shard_count();
}

fn unsubscribe_kind(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply, kind: Kind) {
    let sub = subscriber(ctx.session);
    let what: &[u8] = match kind {
        Kind::Channel => b"unsubscribe",
        Kind::Pattern => b"punsubscribe",
        Kind::Shard => b"sunsubscribe",
    };
    let count = |sub: &Subscriber| {
        if kind == Kind::Shard {
            sub.shard_count()
        } else {
            sub.count()
        }
    };
    if argv.len() == 1 {
        let names = pubsub::names(&sub, kind);
        if names.is_empty() {
            confirm(out, what, None, count(&sub));
        }
        for name in names {
            pubsub::unsubscribe(&sub, kind, &name);
            confirm(out, what, Some(&name), count(&sub));
        }
    } else {
        for name in argv.tail(1) {
            pubsub::unsubscribe(&sub, kind, name);
            confirm(out, what, Some(name), count(&sub));
        }
    }
    ctx.session.subscriptions = sub.count() + sub.shard_count();
}

fn subscribe(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    subscribe_kind(ctx, argv, out, Kind::Channel)
}
fn psubscribe(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    subscribe_kind(ctx, argv, out, Kind::Pattern)
}
fn ssubscribe(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    subscribe_kind(ctx, argv, out, Kind::Shard)
}
fn unsubscribe(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    unsubscribe_kind(ctx, argv, out, Kind::Channel)
}
fn punsubscribe(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    unsubscribe_kind(ctx, argv, out, Kind::Pattern)
}
fn sunsubscribe(ctx: &mut ConnCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    unsubscribe_kind(ctx, argv, out, Kind::Shard)
}

/// Drops every subscription (RESET, disconnect).
pub fn forget(s: &mut Session) {
    if let Some(sub) = s.pubsub.take() {
        pubsub::forget(&sub);
    }
    s.subscriptions = 0;
}

fn publish(_ctx: &mut super::ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    out.int(pubsub::publish(false, argv.get(1), argv.get(2)) as i64);
}

fn spublish(_ctx: &mut super::ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    out.int(pubsub::publish(true, argv.get(1), argv.get(2)) as i64);
}

/// `__pubsub channels|shardchannels [pattern]`, `__pubsub numsub|shardnumsub ch…`,
/// `__pubsub patterns`: this core's view, as an array.
fn pubsub_step(_ctx: &mut super::ShardCtx<'_>, argv: Argv<'_>, out: &mut Reply) {
    let sub = argv.get(1);
    let names = |v: Vec<Vec<u8>>, out: &mut Reply| {
        out.array(v.len());
        for n in v {
            out.bulk(&n);
        }
    };
    match sub {
        b"channels" | b"shardchannels" => names(
            pubsub::channels(
                sub == b"shardchannels",
                (argv.len() > 2).then(|| argv.get(2)),
            ),
            out,
        ),
        b"numsub" | b"shardnumsub" => {
            out.array(argv.len() - 2);
            for ch in argv.tail(2) {
                out.int(pubsub::numsub(sub == b"shardnumsub", ch) as i64);
            }
        }
        _ => names(pubsub::patterns(), out),
    }
}

type AsyncOut<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Runs `__pubsub args…` on every core and returns the parsed arrays.
async fn gather(core: &Rc<Core>, db: usize, args: &[&[u8]]) -> Vec<Vec<crate::resp::Frame>> {
    let b =
        CmdBatch::from_args(std::iter::once(PUBSUB_STEP.as_bytes()).chain(args.iter().copied()));
    let calls = (0..core.nshards)
        .map(|shard| core.call(shard, db, Proto::Resp2, &b))
        .collect();
    crate::tx::join_all(calls)
        .await
        .iter()
        .map(|r| match crate::resp::decode_frame(r) {
            Ok(Some((crate::resp::Frame::Array(items), _))) => items,
            _ => Vec::new(),
        })
        .collect()
}

fn pubsub_cmd<'a>(
    core: &'a Rc<Core>,
    s: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> AsyncOut<'a> {
    Box::pin(async move {
        let sub = argv.get(1).to_ascii_lowercase();
        let db = s.db;
        match (&sub[..], argv.len()) {
            (b"channels" | b"shardchannels", 2 | 3) => {
                let mut args: Vec<&[u8]> = vec![&sub];
                if argv.len() == 3 {
                    args.push(argv.get(2));
                }
                let mut all: indexmap::IndexSet<Vec<u8>> = indexmap::IndexSet::new();
                for part in gather(core, db, &args).await {
                    for f in part {
                        if let Some(b) = f.as_bytes() {
                            all.insert(b.to_vec());
                        }
                    }
                }
                out.array(all.len());
                for c in all {
                    out.bulk(&c);
                }
            }
            (b"numsub" | b"shardnumsub", _) => {
                let mut args: Vec<&[u8]> = vec![&sub];
                args.extend(argv.tail(2));
                let parts = gather(core, db, &args).await;
                let n = argv.len() - 2;
                let mut sums = vec![0i64; n];
                for part in &parts {
                    for (i, f) in part.iter().enumerate().take(n) {
                        if let crate::resp::Frame::Integer(v) = f {
                            sums[i] += v;
                        }
                    }
                }
                // A map in RESP3, a flat array in RESP2.
                out.map(n);
                for (ch, count) in argv.tail(2).zip(sums) {
                    out.bulk(ch);
                    out.int(count);
                }
            }
            (b"numpat", 2) => {
                let mut all: std::collections::HashSet<Vec<u8>> = Default::default();
                for part in gather(core, db, &[b"patterns"]).await {
                    for f in part {
                        if let Some(b) = f.as_bytes() {
                            all.insert(b.to_vec());
                        }
                    }
                }
                out.int(all.len() as i64);
            }
            (b"help", 2) => {
                let lines = [
                    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CHANNELS [<pattern>]",
                    "    Return the currently active channels matching a <pattern> (default: '*').",
                    "NUMPAT",
                    "    Return number of subscriptions to patterns.",
                    "NUMSUB [<channel> ...]",
                    "    Return the number of subscribers for the specified channels, excluding",
                    "    pattern subscriptions(default: no channels).",
                    "SHARDCHANNELS [<pattern>]",
                    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                    "SHARDNUMSUB [<shardchannel> ...]",
                    "    Return the number of subscribers for the specified shard level channel(s)",
                    "HELP",
                    "    Prints this help.",
                ];
                out.array(lines.len());
                for l in lines {
                    out.simple(l);
                }
            }
            (b"channels" | b"shardchannels" | b"numpat" | b"help", _) => {
                let name = String::from_utf8_lossy(&sub).into_owned();
                out.error(&format!(
                    "ERR wrong number of arguments for 'pubsub|{name}' command"
                ));
            }
            _ => unknown_subcommand(argv, out),
        }
    })
}

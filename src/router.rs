//! Routing one connection's read batch: run what this core owns in place, append what other cores
//! own to this core's outbox (one envelope per owner per loop turn, shared by every connection),
//! and put every reply back in request order.
//!
//! Replies are written straight into the connection's output buffer until the first command that
//! must wait for another core; from then on, each command's reply gets a slot (bytes in a scratch
//! buffer, a forwarded reply, or a merge of several shards' parts) and the slots are assembled in
//! order once the owners answer. Per-shard order is the request order, because a connection's
//! commands for one shard sit contiguously, in order, in one envelope.

use crate::cmd::{
    self, arity_error, unknown_command_error, ConnCtx, Handler, Merge, Route, Session,
};
use crate::resp::{frame_len, Argv, CmdBatch, Reply};
use crate::shard::{clock, shard_of, Core, ReplyBatch, Stat, SubMeta, SHARD_GONE};
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// A connection writes the replies gathered in one read batch once they pass this, before running
/// more (see `conn.rs`), so a pipeline of big replies holds about this much, not the whole batch.
pub const FLUSH_AT: usize = 1024 * 1024;
/// Forwarded commands per round trip: at first (a new connection's replies could be big), and
/// at most (small replies).
const FIRST_FWD_CHUNK: u32 = 16;
const MAX_FWD_CHUNK: u32 = 512;

/// Redis's reply while writes are refused after a failed background save.
const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently \
    unable to persist to disk. Commands that may modify the data set are disabled, because this \
    instance is configured to report errors during writes if RDB snapshotting fails \
    (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB \
    error.";

/// Whether a command is refused on a disk error: a write, PING, or an EXEC with a queued write.
fn refused_on_disk_error(spec: &cmd::CommandSpec, session: &Session) -> bool {
    if spec.flags & cmd::flags::WRITE != 0 || spec.name == "ping" {
        return true;
    }
    if spec.name != "exec" {
        return false;
    }
    let mut write = false;
    if let Some(q) = &session.multi {
        q.for_each(|i, _| write |= cmd::table()[i].flags & cmd::flags::WRITE != 0);
    }
    write
}

/// Where one command's reply comes from once the batch is complete. Forwarded and merged
/// replies carry the command's stat slot: they are counted when they arrive (see
/// [`crate::shard::CmdStats`]).
enum Slot {
    Scratch(Range<u32>),
    Remote {
        shard: u16,
        idx: u32,
        stat: Stat,
        /// A one-shard EXEC: its queued commands' stats, in `Dispatcher::queued`.
        queued: Range<u32>,
    },
    Merged {
        merge: Merge,
        parts: Range<u32>,
        nkeys: u32,
        stat: Stat,
    },
}

/// One shard's share of a split command.
struct Part {
    src: Src,
    /// For `Merge::InOrder`: the argument-order positions of this part's keys.
    positions: Range<u32>,
}

enum Src {
    Scratch(Range<u32>),
    Remote { shard: u16, idx: u32 },
}

/// What the connection does after a command.
#[derive(Debug)]
pub enum Flow {
    Continue,
    /// QUIT (or a fatal condition): stop reading; close after writing what is buffered.
    Close,
    /// A server-wide command (`Handler::Server`): the connection finishes the batch so far, then
    /// runs it.
    Server(crate::cmd::server::ServerCmd),
    /// A `Handler::Async` command, run the same way.
    Async(crate::cmd::AsyncFn),
}

/// Per-connection routing state, reused across batches (no allocation per request once warm).
pub struct Dispatcher {
    scratch: Reply,
    deferred: bool,
    slots: Vec<Slot>,
    parts: Vec<Part>,
    positions: Vec<u32>,
    /// Per shard: (index of this connection's first command in the core's outbox, count).
    fwd: Vec<Option<(u32, u32)>>,
    /// Per shard: the owner's replies and this connection's first index in them.
    replies: Vec<Option<(Rc<ReplyBatch>, u32)>>,
    owners: Vec<u16>,
    /// The stat slots of the commands of one-shard EXECs awaiting their replies.
    queued: Vec<Stat>,
    sub: CmdBatch,
    /// Commands forwarded since the last [`Dispatcher::finish`].
    nfwd: u32,
    /// How many may be forwarded before their replies are collected: the owners build them all
    /// at once, so this adapts to the reply sizes seen (about [`FLUSH_AT`] per round trip).
    fwd_chunk: u32,
    /// A command panicked: the connection must close once replies are written.
    pub panicked: bool,
    /// The last command name looked up, as sent (length, bytes), and its index.
    last_cmd: (u8, [u8; 24], usize),
}

impl Dispatcher {
    pub fn new(nshards: usize) -> Self {
        Dispatcher {
            scratch: Reply::default(),
            deferred: false,
            slots: Vec::new(),
            parts: Vec::new(),
            positions: Vec::new(),
            fwd: vec![None; nshards],
            replies: (0..nshards).map(|_| None).collect(),
            owners: Vec::new(),
            queued: Vec::new(),
            sub: CmdBatch::new(),
            nfwd: 0,
            fwd_chunk: FIRST_FWD_CHUNK,
            panicked: false,
            // Nothing cached yet: an empty name never takes the fast path.
            last_cmd: (0, [0; 24], 0),
        }
    }

    /// Whether the replies gathered (`out_len` in the connection's buffer plus those held here)
    /// reach `flush_at`, or enough commands await other cores: time to finish and write.
    #[inline]
    pub fn backlog(&self, out_len: usize, flush_at: usize) -> bool {
        out_len + self.scratch.buf.len() >= flush_at || self.nfwd >= self.fwd_chunk
    }

    /// Routes one command. Its reply is either already in `out` or will be put there by
    /// [`Dispatcher::finish`]. `key_owner` is the shard of `argv[1]` when the caller has it
    /// ([`crate::shard::NO_OWNER`] otherwise).
    pub fn dispatch(
        &mut self,
        core: &Core,
        session: &mut Session,
        argv: Argv<'_>,
        key_owner: u16,
        out: &mut Reply,
    ) -> Flow {
        out.proto = session.proto;
        self.scratch.proto = session.proto;
        let stats = &core.cmdstats;
        let Some(idx) = self.lookup(argv.get(0)) else {
            cmd::multi::flag_error(session);
            let at = self.local(out, |r| unknown_command_error(argv, r));
            stats.error(self.since(out, at));
            return Flow::Continue;
        };
        let spec = &cmd::table()[idx];
        if spec.flags & cmd::flags::INTERNAL != 0 {
            cmd::multi::flag_error(session);
            let at = self.local(out, |r| unknown_command_error(argv, r));
            stats.error(self.since(out, at));
            return Flow::Continue;
        }
        let stat = stats.resolve(idx, argv);
        if !spec.arity_ok(argv.len()) {
            cmd::multi::flag_error(session);
            self.reject(core, stat, out, |r| arity_error(spec.name, r));
            return Flow::Continue;
        }
        // The NOAUTH gate, where Redis's processCommand has it: one bool once authenticated.
        if !session.authenticated
            && crate::access::auth_required(false)
            && !crate::access::no_auth(idx)
        {
            if spec.name == "exec" {
                // Redis's rejectCommand on EXEC: the transaction is discarded.
                session.multi = None;
                cmd::multi::forget_watch(session);
                self.reject(core, stat, out, |r| {
                    r.error(concat!(
                        "EXECABORT Transaction discarded because of: ",
                        "NOAUTH Authentication required."
                    ))
                });
            } else {
                cmd::multi::flag_error(session);
                self.reject(core, stat, out, |r| r.error(crate::access::NOAUTH));
            }
            return Flow::Continue;
        }
        // Cluster mode: keys of another node's slot, or of several slots, are redirected before
        // anything runs or queues (Redis's processCommand order). One relaxed load otherwise.
        if crate::cluster::enabled() {
            if let Some(redirect) = crate::cluster::redirect(idx, argv, session) {
                if spec.name == "exec" {
                    session.multi = None;
                    cmd::multi::forget_watch(session);
                } else {
                    cmd::multi::flag_error(session);
                }
                self.reject(core, stat, out, |r| r.error(&redirect));
                return Flow::Continue;
            }
        }
        // A failed background save with save points set: writes (EXEC of queued writes too) and
        // PING are refused, as Redis's processCommand does. One relaxed load otherwise.
        if core.shared.writes_refused() && refused_on_disk_error(spec, session) {
            if spec.name == "exec" {
                session.multi = None;
                cmd::multi::forget_watch(session);
                self.reject(core, stat, out, |r| {
                    r.error(&format!(
                        "EXECABORT Transaction discarded because of: {MISCONF}"
                    ))
                });
            } else {
                cmd::multi::flag_error(session);
                self.reject(core, stat, out, |r| r.error(MISCONF));
            }
            return Flow::Continue;
        }
        // RESP2 subscribed state: only the pub/sub commands, and PING answers as an array.
        if session.subscriptions > 0 && session.proto == crate::resp::Proto::Resp2 {
            if !cmd::pubsub::allowed_when_subscribed(spec.name) {
                cmd::multi::flag_error(session);
                self.reject(core, stat, out, |r| {
                    cmd::pubsub::refuse_in_context(spec.name, r)
                });
                return Flow::Continue;
            }
            if spec.name == "ping" {
                self.run_local(core, stat, out, |r| cmd::pubsub::ping_in_context(argv, r));
                return Flow::Continue;
            }
        }
        if session.multi.is_some() && cmd::multi::queues(spec) {
            // Queued commands count when EXEC runs them; a refusal counts now.
            let at = self.local(out, |r| cmd::multi::queue(session, spec, idx, argv, r));
            let reply = self.since(out, at);
            if reply.first() == Some(&b'-') {
                stats.reject(stat, reply);
            }
            return Flow::Continue;
        }
        let db = if session.client.has_flag(crate::clients::flag::NO_TOUCH) {
            session.db | crate::shard::NO_TOUCH_DB
        } else {
            session.db
        };
        match (spec.handler, spec.route) {
            (Handler::Conn(f), _) => {
                let mut ctx = ConnCtx {
                    session,
                    config: &core.config,
                    shared: &core.shared,
                    port: core.port.get(),
                    nshards: core.nshards,
                };
                self.run_local(core, stat, out, |r| f(&mut ctx, argv, r));
                if session.close_after_reply {
                    return Flow::Close;
                }
            }
            // Counted by `cmd::server::run`.
            (Handler::Server(c), _) => return Flow::Server(c),
            (Handler::Async(_), _) => {
                if spec.name == "exec" && session.multi.is_some() {
                    let first = self.queued.len() as u32;
                    if let Some(q) = &session.multi {
                        q.for_each(|i, a| self.queued.push(stats.resolve(i, a)));
                    }
                    let queued = first..self.queued.len() as u32;
                    let mut sub = std::mem::take(&mut self.sub);
                    let fast = cmd::multi::fast_exec(core, session, &mut sub);
                    if let Some(owner) = fast {
                        let idx = cmd::multi::exec_step_index();
                        self.run_on(core, owner, idx, stat, queued, db, sub.get(0), out);
                    } else {
                        self.queued.truncate(first as usize);
                    }
                    self.sub = sub;
                    if fast.is_some() {
                        return if self.panicked {
                            Flow::Close
                        } else {
                            Flow::Continue
                        };
                    }
                }
                return Flow::Async(counted_async);
            }
            (Handler::Shard(_), Route::Local) => self.run_here(core, idx, stat, db, argv, out),
            (Handler::Shard(_), Route::Key) => {
                let owner = if key_owner != crate::shard::NO_OWNER {
                    key_owner as usize
                } else {
                    shard_of(argv.get(1), core.nshards)
                };
                self.run_on(core, owner, idx, stat, 0..0, db, argv, out);
            }
            (Handler::Shard(_), Route::Keys { first, step, merge }) => {
                // Key/value pairs must be complete before any shard writes its share (MSET).
                // Redis's command itself says so: a failed call, not a rejected one.
                if !(argv.len() - first).is_multiple_of(step) {
                    self.run_local(core, stat, out, |r| arity_error(spec.name, r));
                    return Flow::Continue;
                }
                self.owners.clear();
                let mut i = first;
                while i < argv.len() {
                    self.owners.push(shard_of(argv.get(i), core.nshards) as u16);
                    i += step;
                }
                let one = self.owners[0];
                if self.owners.iter().all(|&o| o == one) {
                    self.run_on(core, one as usize, idx, stat, 0..0, db, argv, out);
                } else {
                    self.split(core, idx, stat, db, argv, first, step, merge);
                }
            }
            (Handler::Shard(_), Route::All(merge)) => {
                if core.nshards == 1 {
                    self.run_here(core, idx, stat, db, argv, out);
                } else {
                    self.split(core, idx, stat, db, argv, 0, 0, merge);
                }
            }
        }
        if self.panicked {
            Flow::Close
        } else {
            Flow::Continue
        }
    }

    /// [`cmd::lookup`], remembering the last name seen as sent: a pipeline mostly repeats one
    /// command, and comparing a few bytes is cheaper than lowercasing and hashing them.
    #[inline]
    fn lookup(&mut self, name: &[u8]) -> Option<usize> {
        let (len, bytes, idx) = &mut self.last_cmd;
        if !name.is_empty() && name.len() == *len as usize && name == &bytes[..name.len()] {
            return Some(*idx);
        }
        let found = cmd::lookup(name)?;
        if name.len() <= bytes.len() {
            bytes[..name.len()].copy_from_slice(name);
            *len = name.len() as u8;
            *idx = found;
        }
        Some(found)
    }

    /// A reply produced on this core right now. Returns where it starts (see
    /// [`Dispatcher::since`]).
    fn local(&mut self, out: &mut Reply, f: impl FnOnce(&mut Reply)) -> usize {
        if self.deferred {
            let start = self.scratch.len() as u32;
            f(&mut self.scratch);
            self.slots
                .push(Slot::Scratch(start..self.scratch.len() as u32));
            start as usize
        } else {
            let start = out.len();
            f(out);
            start
        }
    }

    /// The reply [`Dispatcher::local`] just produced, from `at`.
    fn since<'a>(&'a self, out: &'a Reply, at: usize) -> &'a [u8] {
        if self.deferred {
            &self.scratch.buf[at..]
        } else {
            &out.buf[at..]
        }
    }

    /// A refusal before running (Redis's `rejectCommand`): its error, counted as rejected.
    fn reject(&mut self, core: &Core, stat: Stat, out: &mut Reply, f: impl FnOnce(&mut Reply)) {
        let at = self.local(out, f);
        core.cmdstats.reject(stat, self.since(out, at));
    }

    /// A command that runs on this core right now, timed and counted.
    fn run_local(&mut self, core: &Core, stat: Stat, out: &mut Reply, f: impl FnOnce(&mut Reply)) {
        let start = clock::ticks();
        let at = self.local(out, f);
        let ticks = clock::ticks().wrapping_sub(start);
        core.cmdstats.call(stat, ticks, self.since(out, at));
    }

    fn run_here(
        &mut self,
        core: &Core,
        idx: usize,
        stat: Stat,
        db: usize,
        argv: Argv<'_>,
        out: &mut Reply,
    ) {
        let mut ok = true;
        self.run_local(core, stat, out, |r| ok = core.exec(idx, db, argv, r));
        self.panicked |= !ok;
    }

    /// Runs command `idx` on `owner`: here, or forwarded. `queued` is set for a one-shard EXEC.
    #[allow(clippy::too_many_arguments)]
    fn run_on(
        &mut self,
        core: &Core,
        owner: usize,
        idx: usize,
        stat: Stat,
        queued: Range<u32>,
        db: usize,
        argv: Argv<'_>,
        out: &mut Reply,
    ) {
        if owner == core.id {
            let at = if self.deferred {
                self.scratch.len()
            } else {
                out.len()
            };
            self.run_here(core, idx, stat, db, argv, out);
            if !queued.is_empty() {
                let q = &self.queued[queued.start as usize..queued.end as usize];
                core.cmdstats.exec_replies(q, self.since(out, at));
                self.queued.truncate(queued.start as usize);
            }
        } else {
            self.deferred = true;
            let i = self.forward(core, owner, idx, db, argv);
            self.slots.push(Slot::Remote {
                shard: owner as u16,
                idx: i,
                stat,
                queued,
            });
        }
    }

    /// Appends a command to the core's outbox for `shard`; returns its index among this
    /// connection's commands for that shard.
    fn forward(&mut self, core: &Core, shard: usize, idx: usize, db: usize, argv: Argv<'_>) -> u32 {
        let (_, count) = self.fwd[shard].get_or_insert_with(|| (core.outbox_next_index(shard), 0));
        let i = *count;
        *count += 1;
        self.nfwd += 1;
        core.forward(
            shard,
            argv,
            SubMeta {
                cmd: idx as u16,
                db: db as u16,
                proto: self.scratch.proto,
            },
        );
        i
    }

    /// Splits a multi-key (step > 0) or all-shard (step == 0) command into one part per shard.
    /// It is counted once, when the parts are merged.
    #[allow(clippy::too_many_arguments)]
    fn split(
        &mut self,
        core: &Core,
        idx: usize,
        stat: Stat,
        db: usize,
        argv: Argv<'_>,
        first: usize,
        step: usize,
        merge: Merge,
    ) {
        self.deferred = true;
        let parts_start = self.parts.len() as u32;
        let nkeys = if step == 0 { 0 } else { self.owners.len() };
        for shard in 0..core.nshards {
            let pos_start = self.positions.len() as u32;
            // Build this shard's command: the arguments before the first key, then its keys.
            self.sub.clear();
            if step == 0 {
                self.sub.push_argv(argv);
            } else {
                for a in argv.iter().take(first) {
                    self.sub.push_arg(a);
                }
                for (k, &owner) in self.owners.iter().enumerate() {
                    if owner as usize == shard {
                        let at = first + k * step;
                        for j in at..at + step {
                            self.sub.push_arg(argv.get(j));
                        }
                        self.positions.push(k as u32);
                    }
                }
                if self.positions.len() as u32 == pos_start {
                    continue;
                }
                self.sub.finish_cmd();
            }
            let positions = pos_start..self.positions.len() as u32;
            let src = if shard == core.id {
                let start = self.scratch.len() as u32;
                let t0 = clock::ticks();
                let ok = core.exec(idx, db, self.sub.get(0), &mut self.scratch);
                core.cmdstats
                    .add_ticks(stat, clock::ticks().wrapping_sub(t0));
                self.panicked |= !ok;
                Src::Scratch(start..self.scratch.len() as u32)
            } else {
                let sub = std::mem::take(&mut self.sub);
                let i = self.forward(core, shard, idx, db, sub.get(0));
                self.sub = sub;
                Src::Remote {
                    shard: shard as u16,
                    idx: i,
                }
            };
            self.parts.push(Part { src, positions });
        }
        self.slots.push(Slot::Merged {
            merge,
            parts: parts_start..self.parts.len() as u32,
            nkeys: nkeys as u32,
            stat,
        });
    }

    /// Waits for this turn's envelopes to the involved cores to be answered, then writes every
    /// deferred reply into `out` in request order.
    pub async fn finish(&mut self, core: &Rc<Core>, out: &mut Reply) {
        if !self.deferred {
            return;
        }
        let before = out.len();
        let mut waits = Vec::new();
        for (shard, f) in self.fwd.iter().enumerate() {
            if let Some((base, count)) = *f {
                waits.push((shard, base, count, core.await_forwarded(shard)));
            }
        }
        for (shard, base, count, rx) in waits {
            if let Ok(rb) = rx.await {
                self.panicked |= rb.any_panicked(base..base + count);
                self.replies[shard] = Some((rb, base));
            }
        }
        let stats = &core.cmdstats;
        for slot in &self.slots {
            match slot {
                Slot::Scratch(r) => out.raw(&self.scratch.buf[r.start as usize..r.end as usize]),
                Slot::Remote {
                    shard,
                    idx,
                    stat,
                    queued,
                } => {
                    let reply = remote_reply(&self.replies, *shard, *idx);
                    stats.call(*stat, 0, reply);
                    if !queued.is_empty() {
                        let q = &self.queued[queued.start as usize..queued.end as usize];
                        stats.exec_replies(q, reply);
                    }
                    out.raw(reply);
                }
                Slot::Merged {
                    merge,
                    parts,
                    nkeys,
                    stat,
                } => {
                    let parts = &self.parts[parts.start as usize..parts.end as usize];
                    let at = out.len();
                    merge_parts(
                        *merge,
                        parts,
                        &self.positions,
                        *nkeys as usize,
                        &self.scratch.buf,
                        &self.replies,
                        out,
                    );
                    stats.call(*stat, 0, &out.buf[at..]);
                }
            }
        }
        if self.nfwd > 0 {
            // Local replies count too: an overestimate, which only makes the chunks smaller.
            let bytes = (out.len() - before).max(1) as u64;
            let fit = FLUSH_AT as u64 * u64::from(self.nfwd) / bytes;
            self.fwd_chunk = fit.clamp(1, u64::from(MAX_FWD_CHUNK)) as u32;
        }
        self.reset();
    }

    fn reset(&mut self) {
        self.deferred = false;
        self.nfwd = 0;
        self.queued.clear();
        self.slots.clear();
        self.parts.clear();
        self.positions.clear();
        self.scratch.buf.clear();
        for r in self.replies.iter_mut() {
            *r = None;
        }
        for f in self.fwd.iter_mut() {
            *f = None;
        }
    }
}

fn remote_reply(replies: &[Option<(Rc<ReplyBatch>, u32)>], shard: u16, idx: u32) -> &[u8] {
    match &replies[shard as usize] {
        Some((rb, base)) => rb.get((base + idx) as usize),
        None => SHARD_GONE,
    }
}

fn part_bytes<'a>(
    p: &Part,
    scratch: &'a [u8],
    replies: &'a [Option<(Rc<ReplyBatch>, u32)>],
) -> &'a [u8] {
    match &p.src {
        Src::Scratch(r) => &scratch[r.start as usize..r.end as usize],
        Src::Remote { shard, idx } => remote_reply(replies, *shard, *idx),
    }
}

/// Reads an aggregate header (`*n`, `~n`) and returns (n, the bytes after the header).
fn agg_header(b: &[u8]) -> Option<(usize, &[u8])> {
    if b.len() < 4 || !(b[0] == b'*' || b[0] == b'~') {
        return None;
    }
    let end = b.iter().position(|&c| c == b'\r')?;
    let n: usize = std::str::from_utf8(&b[1..end]).ok()?.parse().ok()?;
    Some((n, b.get(end + 2..)?))
}

fn merge_parts(
    merge: Merge,
    parts: &[Part],
    positions: &[u32],
    nkeys: usize,
    scratch: &[u8],
    replies: &[Option<(Rc<ReplyBatch>, u32)>],
    out: &mut Reply,
) {
    let parts: Vec<(&[u8], &[u32])> = parts
        .iter()
        .map(|p| {
            (
                part_bytes(p, scratch, replies),
                &positions[p.positions.start as usize..p.positions.end as usize],
            )
        })
        .collect();
    merge_replies(merge, &parts, nkeys, out);
}

/// Merges the encoded replies of one split command's parts (each with, for `Merge::InOrder`,
/// the argument-order positions of its keys) into one reply.
pub fn merge_replies(merge: Merge, parts: &[(&[u8], &[u32])], nkeys: usize, out: &mut Reply) {
    // Any error from a shard is the reply (first one wins).
    for (b, _) in parts {
        if b.first() == Some(&b'-') {
            out.raw(b);
            return;
        }
    }
    match merge {
        Merge::Sum => {
            let mut total: i64 = 0;
            for (b, _) in parts {
                let n = b
                    .get(1..b.len().saturating_sub(2))
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0);
                total = total.saturating_add(n);
            }
            out.int(total);
        }
        Merge::AllOk => match parts.first() {
            Some((b, _)) => out.raw(b),
            None => out.ok(),
        },
        Merge::Concat => {
            let mut count = 0;
            for (b, _) in parts {
                if let Some((n, _)) = agg_header(b) {
                    count += n;
                }
            }
            out.array(count);
            for (b, _) in parts {
                if let Some((_, body)) = agg_header(b) {
                    out.raw(body);
                }
            }
        }
        Merge::InOrder => {
            let mut elems: Vec<&[u8]> = vec![b"$-1\r\n"; nkeys];
            for (b, pos) in parts {
                let Some((n, mut body)) = agg_header(b) else {
                    continue;
                };
                for &k in pos.iter().take(n) {
                    let Ok(Some(len)) = frame_len(body) else {
                        break;
                    };
                    elems[k as usize] = &body[..len];
                    body = &body[len..];
                }
            }
            out.array(nkeys);
            for e in elems {
                out.raw(e);
            }
        }
    }
}

/// Runs a `Handler::Async` command (what [`Flow::Async`] carries from [`Dispatcher::dispatch`])
/// and counts it in INFO commandstats once it has replied. Its time is what its own polls take
/// on this core: a blocking command's wait is not work, and parts it runs on other cores
/// through [`Core::call`] are internal steps. An EXEC also counts the commands it ran.
pub fn counted_async<'a>(
    core: &'a Rc<Core>,
    session: &'a mut Session,
    argv: Argv<'a>,
    out: &'a mut Reply,
) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
    Box::pin(async move {
        let Some(idx) = cmd::lookup(argv.get(0)) else {
            return;
        };
        let Handler::Async(f) = cmd::table()[idx].handler else {
            return;
        };
        let stats = &core.cmdstats;
        let stat = stats.resolve(idx, argv);
        let mut queued = Vec::new();
        if cmd::table()[idx].name == "exec" {
            if let Some(q) = &session.multi {
                q.for_each(|i, a| {
                    queued.push(match cmd::table()[i].handler {
                        // `cmd::server::run` counts these itself.
                        Handler::Server(_) => Stat::Elsewhere,
                        _ => stats.resolve(i, a),
                    })
                });
            }
        }
        let at = out.len();
        let ((), ticks) = Timed::new(f(core, &mut *session, argv, &mut *out)).await;
        let reply = &out.buf[at..];
        stats.call(stat, ticks, reply);
        if !queued.is_empty() {
            stats.exec_replies(&queued, reply);
        }
    })
}

/// Polls a future and adds up the time its polls take: the work it does on this core, not the
/// time it waits.
pub(crate) struct Timed<F: Future + ?Sized> {
    fut: Pin<Box<F>>,
    ticks: u64,
}

impl<F: Future + ?Sized> Timed<F> {
    pub(crate) fn new(fut: Pin<Box<F>>) -> Self {
        Timed { fut, ticks: 0 }
    }
}

impl<F: Future + ?Sized> Future for Timed<F> {
    /// The output, and the ticks (see [`clock`]) spent in polls.
    type Output = (F::Output, u64);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let start = clock::ticks();
        let r = self.fut.as_mut().poll(cx);
        self.ticks += clock::ticks().wrapping_sub(start);
        let ticks = self.ticks;
        r.map(|v| (v, ticks))
    }
}

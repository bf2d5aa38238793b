//! Key ownership and the per-core shard: its keyspace, its peers, and the loop that serves
//! commands forwarded from other cores.

use crate::cmd::{self, Handler, ShardCtx};
use crate::config::Config;
use crate::keyspace::Keyspace;
use crate::resp::{Argv, CmdBatch, Proto, Reply};
use glommio::channels::channel_mesh::{Receivers, Senders};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest forwarding arena (argument bytes, commands) kept for reuse once its batch is answered.
const SPARE_MAX_BYTES: usize = 1024 * 1024;
const SPARE_MAX_CMDS: usize = 64 * 1024;

/// The reply to a command whose owning shard is gone (only while the server stops).
pub const SHARD_GONE: &[u8] = b"-ERR shard unavailable (server shutting down)\r\n";

/// Redis Cluster's slot count: keys map to slots, slots to shards.
pub const SLOTS: usize = 16384;

/// The owning shard of `key` among `nshards`.
///
/// Why CRC16 slots and not a hasher: ownership must be stable across builds, restarts and machines
/// (snapshots are re-routed with it), and hashtags (`{user1}:a`, `{user1}:b`) let a user co-locate
/// keys exactly as Redis Cluster does. Why slots interleave over shards (`slot % n`) rather than
/// split into ranges: in cluster mode a node owns slot *ranges* (e.g. 0-5460), and interleaving
/// spreads any range evenly over the node's cores.
pub fn shard_of(key: &[u8], nshards: usize) -> usize {
    if nshards <= 1 {
        return 0;
    }
    shard_of_slot(key_slot(key), nshards)
}

/// The shard that owns every key of `slot` among `nshards`.
#[inline]
pub fn shard_of_slot(slot: usize, nshards: usize) -> usize {
    slot % nshards
}

/// Redis Cluster's `keyHashSlot`: CRC16 of the key, or of the first non-empty `{...}` section.
pub fn key_slot(key: &[u8]) -> usize {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        },
        None => key,
    };
    (crc16(hashed) as usize) & (SLOTS - 1)
}

/// CRC16-CCITT (XMODEM), the variant Redis Cluster uses.
///
/// Eight bytes per step ("slicing-by-8"): every key of every command goes through this once or
/// twice to find its shard, and the byte-at-a-time loop is one long dependency chain. Table `k`
/// holds a byte's contribution followed by `k` zero bytes; the CRC is linear, so eight lookups
/// XOR together into the same result as eight single steps.
pub fn crc16(data: &[u8]) -> u16 {
    static TABLES: [[u16; 256]; 8] = crc16_tables();
    let t = &TABLES;
    let mut crc: u16 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let x0 = ((crc >> 8) as u8 ^ c[0]) as usize;
        let x1 = (crc as u8 ^ c[1]) as usize;
        crc = t[7][x0]
            ^ t[6][x1]
            ^ t[5][c[2] as usize]
            ^ t[4][c[3] as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ t[0][(((crc >> 8) as u8) ^ b) as usize];
    }
    crc
}

const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut t = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            j += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Wall-clock time in unix milliseconds: the `now` every command runs at.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Set in the `db` a command is run with (see [`Core::exec`]) when its client turned on
/// `CLIENT NO-TOUCH`: the flag travels with the command to its owner without widening
/// [`SubMeta`] or every call in between.
pub const NO_TOUCH_DB: usize = 1 << 15;

/// In [`Core::route_batch`]'s owners: the command has no argument to route by.
pub const NO_OWNER: u16 = u16::MAX;

/// Which command, in which database, one forwarded command runs as.
#[derive(Clone, Copy, Debug)]
pub struct SubMeta {
    /// Index into [`cmd::table`].
    pub cmd: u16,
    pub db: u16,
    /// The sending connection's protocol (one envelope carries many connections' commands).
    pub proto: Proto,
}

/// Commands one core sends another in one message: every command for that shard from every
/// connection served in one loop turn, so a hop is paid per turn, not per command.
pub struct Envelope {
    pub batch: CmdBatch,
    pub meta: Vec<SubMeta>,
    pub reply: futures_channel::oneshot::Sender<ReplyBatch>,
}

/// The owner's encoded replies, one per command of the envelope, in order.
#[derive(Default, Debug)]
pub struct ReplyBatch {
    pub buf: Vec<u8>,
    /// End offset in `buf` of each reply.
    pub ends: Vec<u32>,
    /// Indices of commands that panicked: their connections must be closed.
    pub panicked: Vec<u32>,
    /// The envelope's arena, sent back for reuse so forwarding allocates nothing once warm.
    pub batch: CmdBatch,
    pub meta: Vec<SubMeta>,
}

impl ReplyBatch {
    /// Whether any of the commands `range` panicked.
    pub fn any_panicked(&self, range: std::ops::Range<u32>) -> bool {
        self.panicked.iter().any(|i| range.contains(i))
    }

    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.buf[start..self.ends[i] as usize]
    }
}

/// State every shard shares: the control plane's, touched a few times a second at most (never per
/// command), so a mutex and atomics are fine here.
pub struct Shared {
    pub nshards: usize,
    /// Snapshot settings and history (SAVE/BGSAVE, LASTSAVE, INFO persistence).
    pub persist: Mutex<crate::persist::PersistState>,
    /// SIGTERM/SIGINT arrived; shard 0 turns it into a shutdown (saving first when configured).
    pub signal: Arc<AtomicBool>,
    /// The server is stopping: listeners and client reads close, connections drain.
    pub stopping: AtomicBool,
    /// When the server started (unix seconds), for INFO and the initial LASTSAVE.
    pub start_unix: i64,
    pub started: std::time::Instant,
    /// Connected clients on every core, for `maxclients` (admitted ones only).
    pub clients: std::sync::atomic::AtomicU64,
    /// Connections refused (maxclients, protected mode): INFO's rejected_connections.
    pub rejected: std::sync::atomic::AtomicU64,
    /// The last background save failed and save points are set: with
    /// `stop-writes-on-bgsave-error`, writes get MISCONF. Mirrors [`crate::persist::PersistState`]
    /// so the per-command check is one relaxed load, not a lock.
    pub disk_error: AtomicBool,
    /// Bumped by CONFIG RESETSTAT: a core whose counters are older resets them before it next
    /// reports them (see [`Core::stats`]), so no command pays for a reset check.
    pub stats_epoch: AtomicU64,
    /// INFOs gathering right now: while non-zero, [`Core::stats`] includes the
    /// [`StatsDetail`] (the save-point check, which gathers `hz` times a second, does not need it).
    pub stats_detail: AtomicUsize,
    /// Random 40-hex-digit identifiers of this run, as Redis makes at start-up: INFO's `run_id`
    /// and `master_replid` (a master with no replicas and no history).
    pub run_id: String,
    pub replid: String,
}

impl Shared {
    pub fn new(nshards: usize, config: &Config, signal: Arc<AtomicBool>) -> Shared {
        clock::init();
        let start_unix = now_ms() / 1000;
        Shared {
            nshards,
            persist: Mutex::new(crate::persist::PersistState::new(
                config, nshards, start_unix,
            )),
            signal,
            stopping: AtomicBool::new(false),
            start_unix,
            started: std::time::Instant::now(),
            clients: std::sync::atomic::AtomicU64::new(0),
            rejected: std::sync::atomic::AtomicU64::new(0),
            disk_error: AtomicBool::new(false),
            stats_epoch: AtomicU64::new(0),
            stats_detail: AtomicUsize::new(0),
            run_id: random_hex40(),
            replid: random_hex40(),
        }
    }

    /// Refreshes [`Shared::disk_error`] after the save state or the save points changed.
    pub fn sync_disk_error(&self, st: &crate::persist::PersistState) {
        self.disk_error.store(st.disk_error(), Ordering::Relaxed);
    }

    /// Writes (and PING) are refused with MISCONF, as Redis's `writeCommandsDeniedByDiskError`.
    #[inline]
    pub fn writes_refused(&self) -> bool {
        self.disk_error.load(Ordering::Relaxed)
            && crate::tunables::STOP_WRITES_ON_BGSAVE_ERROR.load(Ordering::Relaxed)
    }

    /// The persistence state (a poisoned lock only means a panic elsewhere; the data is plain).
    pub fn persist(&self) -> std::sync::MutexGuard<'_, crate::persist::PersistState> {
        self.persist.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
}

/// Control-plane messages between shards (a mesh of their own, off the command path).
pub enum Ctrl {
    /// Hold client commands on this shard and answer once none of its forwarded ones is in
    /// flight. Counted: each `Pause` needs a `Resume`.
    Pause(futures_channel::oneshot::Sender<()>),
    Resume,
    /// Write this shard's snapshot file.
    Snapshot {
        job: crate::persist::SnapJob,
        reply: futures_channel::oneshot::Sender<Result<crate::persist::ShardFile, String>>,
    },
    /// This shard's counters (INFO, save points).
    Stats(futures_channel::oneshot::Sender<ShardStats>),
    /// A question about this shard's connections (CLIENT LIST, KILL, UNBLOCK).
    Clients(
        crate::clients::Query,
        futures_channel::oneshot::Sender<crate::clients::Answer>,
    ),
    /// Transaction lock and steps (multi-shard MULTI/EXEC, SAVE): see [`crate::tx`].
    Tx(crate::tx::TxMsg),
    /// A connection moving here from another core (see [`crate::conn::Carried`]).
    Adopt(Box<crate::conn::Carried>),
}

/// One shard's numbers, gathered for INFO and the save-point check.
#[derive(Clone, Debug, Default)]
pub struct ShardStats {
    /// Per DB: keys, keys with a TTL, average TTL (ms).
    pub dbs: Vec<(u64, u64, i64)>,
    pub dirty: u64,
    pub stats: crate::keyspace::KeyspaceStats,
    pub connected_clients: u64,
    pub blocked_clients: u64,
    pub total_connections: u64,
    /// Connections this core handed to the core owning their keys (see [`crate::conn::Carried`]).
    pub moved_out: u64,
    /// What only INFO needs (see [`Shared::stats_detail`]).
    pub detail: Option<Box<StatsDetail>>,
}

/// One core's command and error statistics and pub/sub registrations, for INFO.
#[derive(Clone, Debug, Default)]
pub struct StatsDetail {
    /// Every stat slot with a count: (slot, [calls, ticks, rejected calls, failed calls]).
    pub cmds: Vec<(u16, [u64; 4])>,
    /// Error replies by code (the first word of the error), as Redis's errorstats.
    pub errors: Vec<(Vec<u8>, u64)>,
    pub error_replies: u64,
    /// Commands per second over the last ~1.6 s (Redis's instantaneous_ops_per_sec).
    pub ops_per_sec: u64,
    /// Channels, patterns and shard channels with a subscriber on this core (INFO dedups them
    /// across cores, as Redis counts each once).
    pub channels: Vec<Vec<u8>>,
    pub patterns: Vec<Vec<u8>>,
    pub shard_channels: Vec<Vec<u8>>,
}

/// Everything one core owns. Lives in an `Rc` on its executor and is never shared with another
/// thread: other cores reach it only through `Envelope`s.
pub struct Core {
    pub id: usize,
    pub nshards: usize,
    pub config: Arc<Config>,
    pub port: Cell<u16>,
    pub ks: RefCell<Keyspace>,
    pub peers: Option<Senders<Envelope>>,
    /// Commands waiting to be forwarded at the end of this loop turn.
    pub outbox: RefCell<Outbox>,
    /// The time commands of the current batch run at (read once per batch, not per command).
    now: Cell<i64>,
    pub shared: Arc<Shared>,
    pub ctrl: Option<Senders<Ctrl>>,
    /// Client commands are held while this is above zero (a SAVE or shutdown in progress).
    pub paused: Cell<u32>,
    /// Envelopes sent to other shards and not answered yet.
    inflight: Cell<u32>,
    pub connected: Cell<u64>,
    /// This core's clients waiting in a blocking command (INFO's blocked_clients).
    pub blocked: Cell<u64>,
    pub total_connections: Cell<u64>,
    /// Connections moved from here to the core owning their keys (INFO's `moved_connections`).
    pub moved_out: Cell<u64>,
    /// INFO commandstats/errorstats as counted on this core (see [`CmdStats`]).
    pub cmdstats: CmdStats,
    /// This core's connections (CLIENT LIST, KILL, UNBLOCK).
    pub clients: crate::clients::Registry,
    /// The transaction lock of this shard (multi-shard MULTI/EXEC). See [`crate::tx`].
    pub tx_lock: crate::tx::TxLock,
    /// The transaction whose step is being polled on this core right now (0: none): commands
    /// it runs through [`Core::call`] bypass the locks it holds. See [`crate::tx::InTx`].
    pub current_tx: Cell<u64>,
    /// Where connections moving to this core are handed to its accept machinery (set once the
    /// core serves clients; `None` before and after).
    pub adopt_tx:
        RefCell<Option<futures_channel::mpsc::UnboundedSender<Box<crate::conn::Carried>>>>,
}

impl Core {
    pub fn new(
        id: usize,
        config: Arc<Config>,
        shared: Arc<Shared>,
        ks: Keyspace,
        peers: Option<Senders<Envelope>>,
        ctrl: Option<Senders<Ctrl>>,
    ) -> Self {
        let epoch = shared.stats_epoch.load(Ordering::Relaxed);
        Core {
            id,
            nshards: shared.nshards,
            ks: RefCell::new(ks),
            config,
            port: Cell::new(0),
            peers,
            outbox: RefCell::new(Outbox::new(shared.nshards)),
            now: Cell::new(now_ms()),
            shared,
            ctrl,
            paused: Cell::new(0),
            inflight: Cell::new(0),
            connected: Cell::new(0),
            blocked: Cell::new(0),
            total_connections: Cell::new(0),
            moved_out: Cell::new(0),
            cmdstats: CmdStats::new(epoch),
            clients: Default::default(),
            tx_lock: Default::default(),
            current_tx: Cell::new(0),
            adopt_tx: RefCell::new(None),
        }
    }

    /// The time the current batch runs at (unix ms), as read by [`Core::tick`].
    pub fn now_ms(&self) -> i64 {
        self.now.get()
    }

    /// Waits while client commands are paused (SAVE, shutdown). Returns false if the server is
    /// stopping meanwhile: the caller must not run what it read.
    pub async fn wait_unpaused(&self) -> bool {
        while self.paused.get() > 0 {
            if self.shared.is_stopping() {
                return false;
            }
            glommio::timer::sleep(Duration::from_micros(250)).await;
        }
        true
    }

    /// Holds client commands here and waits until none of this core's forwarded commands is
    /// queued or in flight, so every write a client was told about has been applied.
    pub async fn pause(&self) {
        self.paused.set(self.paused.get() + 1);
        loop {
            let idle = {
                let ob = self.outbox.borrow();
                !ob.scheduled && ob.slots.iter().all(|s| s.meta.is_empty())
            } && self.inflight.get() == 0;
            if idle {
                return;
            }
            glommio::timer::sleep(Duration::from_micros(100)).await;
        }
    }

    pub fn resume(&self) {
        self.paused.set(self.paused.get().saturating_sub(1));
    }

    /// This shard's counters (with the [`StatsDetail`] while an INFO asks), after applying a
    /// CONFIG RESETSTAT this core has not applied yet.
    pub fn stats(&self) -> ShardStats {
        let epoch = self.shared.stats_epoch.load(Ordering::Relaxed);
        if epoch != self.cmdstats.epoch.get() {
            self.cmdstats.epoch.set(epoch);
            self.cmdstats.reset();
            self.total_connections.set(0);
            self.moved_out.set(0);
            self.ks.borrow_mut().reset_stats();
        }
        let detail = (self.shared.stats_detail.load(Ordering::Relaxed) > 0)
            .then(|| Box::new(self.cmdstats.detail(self.now.get().max(now_ms()))));
        let ks = self.ks.borrow();
        ShardStats {
            dbs: (0..ks.databases())
                .map(|d| (ks.len(d) as u64, ks.volatile_len(d) as u64, ks.avg_ttl(d)))
                .collect(),
            dirty: ks.dirty(),
            stats: ks.stats().clone(),
            connected_clients: self.connected.get(),
            blocked_clients: self.blocked.get(),
            total_connections: self.total_connections.get(),
            moved_out: self.moved_out.get(),
            detail,
        }
    }

    /// Runs one command (`args` holds exactly one) on `shard` — in place when that is this core,
    /// else forwarded with this turn's envelope — and returns its encoded reply. For commands
    /// that gather from several owners (`Handler::Async`).
    pub async fn call(
        self: &Rc<Self>,
        shard: usize,
        db: usize,
        proto: Proto,
        args: &CmdBatch,
    ) -> Vec<u8> {
        let argv = args.get(0);
        let Some(idx) = cmd::lookup(argv.get(0)) else {
            return b"-ERR internal: unknown command in call\r\n".to_vec();
        };
        let meta = SubMeta {
            cmd: idx as u16,
            db: db as u16,
            proto,
        };
        // A step of a transaction that holds the shard locks: straight to the shard, past them.
        if self.current_tx.get() != 0 {
            let mut batch = CmdBatch::new();
            batch.push_argv(argv);
            let rb = crate::tx::run_on(self, shard, batch, vec![meta]).await;
            return rb.get(0).to_vec();
        }
        if shard == self.id {
            self.tx_lock.gate().await;
            let mut out = Reply::new(proto);
            self.exec(idx, db, argv, &mut out);
            return out.buf;
        }
        let i = self.outbox_next_index(shard);
        self.forward(shard, argv, meta);
        match self.await_forwarded(shard).await {
            Ok(rb) => rb.get(i as usize).to_vec(),
            Err(_) => SHARD_GONE.to_vec(),
        }
    }

    /// Sends a control message to another shard (false if it is gone).
    pub async fn send_ctrl(&self, shard: usize, msg: Ctrl) -> bool {
        match &self.ctrl {
            Some(c) => c.send_to(shard, msg).await.is_ok(),
            None => false,
        }
    }

    /// Reads the clock for the batch about to run (and, every 100 ms, samples the command
    /// count for instantaneous_ops_per_sec).
    pub fn tick(&self) {
        let now = now_ms();
        self.now.set(now);
        self.cmdstats.maybe_sample(now);
    }

    /// Runs one shard command on this core's keyspace, in place. Returns false if it panicked
    /// (the reply then holds an error and the caller closes the connection).
    ///
    /// Why catch here: a panic inside an executor task would kill the whole shard; a bug in one
    /// command must cost one connection, not a core's worth of keys.
    pub fn exec(&self, cmd_idx: usize, db: usize, argv: Argv<'_>, out: &mut Reply) -> bool {
        let spec = &cmd::table()[cmd_idx];
        let Handler::Shard(f) = spec.handler else {
            unreachable!("connection commands never reach a shard")
        };
        let mark = out.buf.len();
        let mut ks = self.ks.borrow_mut();
        // A NO-TOUCH client's commands touch no key, TOUCH itself excepted (Redis 7.2).
        let client_no_touch = db & NO_TOUCH_DB != 0 && spec.name != "touch";
        let db = db & !NO_TOUCH_DB;
        // Redis's LOOKUP_NOTOUCH commands (TYPE, TTL, EXISTS…) read without touching the key.
        let notouch = self.cmdstats.table.notouch[cmd_idx] || client_no_touch;
        if notouch {
            ks.set_read_touches(false);
        }
        if client_no_touch {
            ks.set_write_touches(false);
        }
        let res = catch_unwind(AssertUnwindSafe(|| {
            let dirty_before = ks.cas_active().then(|| ks.dirty());
            let mut ctx = ShardCtx {
                ks: &mut ks,
                db,
                now_ms: self.now.get(),
            };
            f(&mut ctx, argv, out);
            if let Some(d) = dirty_before {
                ctx.ks.settle_touches(d);
            }
            // A list stored under a key clients block on: serve them now, before anything else
            // runs on this shard (Redis's handleClientsBlockedOnKeys after each command).
            if ctx.ks.has_ready() {
                crate::blocking::serve_ready(ctx.ks, ctx.now_ms);
            }
        }));
        if notouch {
            ks.set_read_touches(true);
        }
        if client_no_touch {
            ks.set_write_touches(true);
        }
        drop(ks);
        if crate::notify::pending() {
            crate::notify::flush(self.nshards);
        }
        if res.is_err() {
            out.buf.truncate(mark);
            out.error("ERR internal error");
            tracing::error!(
                command = spec.name,
                "command panicked; closing its connection"
            );
            return false;
        }
        true
    }

    /// Serves one envelope from another core.
    ///
    /// Its commands' time for INFO commandstats is taken as one span, shared out evenly among
    /// them: two clock reads per envelope instead of two per command. (The commands' calls and
    /// errors are counted by the connection that sent them, which sees the replies.)
    pub fn exec_envelope(
        &self,
        env: Envelope,
    ) -> (ReplyBatch, futures_channel::oneshot::Sender<ReplyBatch>) {
        self.tick();
        let start = clock::ticks();
        let mut out = Reply::new(Proto::Resp2);
        let mut ends = Vec::with_capacity(env.meta.len());
        let mut panicked = Vec::new();
        // A lone command has nothing to overlap its lookup with (as in `route_batch`).
        if let (true, Some(first)) = (env.meta.len() >= 2, env.meta.first()) {
            let db = first.db as usize & !NO_TOUCH_DB;
            self.ks.borrow().prefetch(
                db,
                env.meta
                    .iter()
                    .zip(env.batch.iter())
                    .filter(|(m, a)| m.db as usize & !NO_TOUCH_DB == db && a.len() >= 2)
                    .map(|(_, a)| a.get(1)),
            );
        }
        for (i, m) in env.meta.iter().enumerate() {
            out.proto = m.proto;
            if !self.exec(m.cmd as usize, m.db as usize, env.batch.get(i), &mut out) {
                panicked.push(i as u32);
            }
            ends.push(out.buf.len() as u32);
        }
        if !env.meta.is_empty() {
            let share = clock::ticks().wrapping_sub(start) / env.meta.len() as u64;
            for (i, m) in env.meta.iter().enumerate() {
                self.cmdstats
                    .add_time(m.cmd as usize, env.batch.get(i), share);
            }
        }
        let rb = ReplyBatch {
            buf: out.buf,
            ends,
            panicked,
            batch: env.batch,
            meta: env.meta,
        };
        (rb, env.reply)
    }

    /// The shard of each command's first argument (the key of most commands; [`NO_OWNER`] when
    /// there is none) into `owners`, so the dispatch need not hash a key twice, and
    /// [`Keyspace::prefetch`] for the ones this core owns.
    pub fn route_batch(&self, db: usize, batch: &CmdBatch, owners: &mut Vec<u16>) {
        owners.clear();
        // A key repeated back to back (a hot key) is hashed once.
        let mut prev: Option<(&[u8], u16)> = None;
        for a in batch.iter() {
            if a.len() < 2 {
                owners.push(NO_OWNER);
                continue;
            }
            let key = a.get(1);
            let owner = match prev {
                Some((k, o)) if k == key => o,
                _ => {
                    let o = shard_of(key, self.nshards) as u16;
                    prev = Some((key, o));
                    o
                }
            };
            owners.push(owner);
        }
        if batch.len() < 2 {
            return;
        }
        let id = self.id as u16;
        let mine = batch
            .iter()
            .zip(owners.iter())
            .filter(|&(_, &o)| o == id)
            .map(|(a, _)| a.get(1));
        self.ks.borrow().prefetch(db, mine);
    }

    /// The index the next command forwarded to `shard` this turn will get in its envelope.
    pub fn outbox_next_index(&self, shard: usize) -> u32 {
        self.outbox.borrow().slots[shard].meta.len() as u32
    }

    /// Appends one command for `shard` to this turn's outbox.
    pub fn forward(&self, shard: usize, argv: Argv<'_>, meta: SubMeta) {
        let mut ob = self.outbox.borrow_mut();
        let slot = &mut ob.slots[shard];
        slot.batch.push_argv(argv);
        slot.meta.push(meta);
    }

    /// Registers interest in the replies to this turn's commands for `shard`, and makes sure a
    /// flush runs at the end of this loop turn. Returns the receiver of the shared reply batch.
    pub fn await_forwarded(
        self: &Rc<Self>,
        shard: usize,
    ) -> futures_channel::oneshot::Receiver<Rc<ReplyBatch>> {
        let (tx, rx) = futures_channel::oneshot::channel();
        let mut ob = self.outbox.borrow_mut();
        ob.slots[shard].waiters.push(tx);
        if !ob.scheduled {
            ob.scheduled = true;
            drop(ob);
            let core = self.clone();
            // The flush yields once first, so it queues behind every connection already ready
            // this turn and their commands join the same envelopes.
            glommio::spawn_local(critical("outbox flush", async move {
                futures_lite::future::yield_now().await;
                core.flush_outbox().await
            }))
            .detach();
        }
        rx
    }

    /// Sends every non-empty outbox slot as one envelope, waits for the owners, and hands the
    /// shared replies to each waiting connection.
    async fn flush_outbox(self: Rc<Self>) {
        let mut taken = Vec::new();
        {
            let mut ob = self.outbox.borrow_mut();
            ob.scheduled = false;
            let Outbox { slots, spare, .. } = &mut *ob;
            for (shard, slot) in slots.iter_mut().enumerate() {
                if slot.meta.is_empty() {
                    continue;
                }
                let (b, m) = spare.pop().unwrap_or_default();
                let batch = std::mem::replace(&mut slot.batch, b);
                let meta = std::mem::replace(&mut slot.meta, m);
                let waiters = std::mem::take(&mut slot.waiters);
                taken.push((shard, batch, meta, waiters));
            }
        }
        let Some(peers) = &self.peers else { return };
        // Counted from the moment they leave the outbox, so `pause` never sees a gap.
        self.inflight.set(self.inflight.get() + taken.len() as u32);
        let mut inflight = Vec::with_capacity(taken.len());
        for (shard, batch, meta, waiters) in taken {
            let (tx, rx) = futures_channel::oneshot::channel();
            let env = Envelope {
                batch,
                meta,
                reply: tx,
            };
            // A failed send drops the waiters: their connections see the shard as gone.
            if peers.send_to(shard, env).await.is_ok() {
                inflight.push((rx, waiters));
            } else {
                self.inflight.set(self.inflight.get() - 1);
            }
        }
        for (rx, waiters) in inflight {
            let res = rx.await;
            self.inflight.set(self.inflight.get() - 1);
            let Ok(mut rb) = res else { continue };
            let mut batch = std::mem::take(&mut rb.batch);
            let mut meta = std::mem::take(&mut rb.meta);
            let rb = Rc::new(rb);
            for w in waiters {
                let _ = w.send(rb.clone());
            }
            // Reuse keeps the steady state allocation-free, but an arena that carried a huge
            // argument (a 512 MB SET) would stay resident for good: only modest ones return.
            if batch.data_len() > SPARE_MAX_BYTES || batch.len() > SPARE_MAX_CMDS {
                continue;
            }
            batch.clear();
            meta.clear();
            let mut ob = self.outbox.borrow_mut();
            if ob.spare.len() < 4 {
                ob.spare.push((batch, meta));
            }
        }
    }
}

/// Runs a shard-wide task; if it panics, the process aborts loudly.
///
/// Why: a panic inside a glommio task kills its executor, and a server with a dead shard hangs
/// every client whose keys it owns. Commands and connections catch their own panics; anything
/// that escapes into a shard-wide task is a bug we refuse to limp along with.
pub async fn critical<T>(name: &'static str, fut: impl std::future::Future<Output = T>) -> T {
    use futures_lite::FutureExt;
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => v,
        Err(_) => {
            tracing::error!(task = name, "shard task panicked; aborting");
            std::process::abort();
        }
    }
}

/// One shard's share of this loop turn's forwarded commands.
#[derive(Default)]
pub struct OutSlot {
    batch: CmdBatch,
    meta: Vec<SubMeta>,
    /// One wake-up per connection waiting on this slot's replies.
    waiters: Vec<futures_channel::oneshot::Sender<Rc<ReplyBatch>>>,
}

/// Per-core staging area where every connection of the turn appends its forwarded commands.
pub struct Outbox {
    slots: Vec<OutSlot>,
    scheduled: bool,
    /// Arenas returned by peers, reused for the next turn.
    spare: Vec<(CmdBatch, Vec<SubMeta>)>,
}

impl Outbox {
    fn new(nshards: usize) -> Self {
        Outbox {
            slots: (0..nshards).map(|_| OutSlot::default()).collect(),
            scheduled: false,
            spare: Vec::new(),
        }
    }
}

/// Serves what other cores forward to this one, one task per peer.
///
/// Never waits on another shard: it only runs commands and completes the sender's oneshot, so no
/// cycle of full queues can form.
pub fn spawn_forward_loops(core: &Rc<Core>, mut receivers: Receivers<Envelope>) {
    crate::notify::init(core);
    for (_peer, rx) in receivers.streams() {
        let core = core.clone();
        glommio::spawn_local(critical("forward loop", async move {
            while let Some(env) = rx.recv().await {
                // A multi-shard transaction holds this shard: its commands come another way.
                core.tx_lock.gate().await;
                let (replies, reply) = core.exec_envelope(env);
                let _ = reply.send(replies);
            }
        }))
        .detach();
    }
}

/// 40 random hex digits (Redis's run ids).
fn random_hex40() -> String {
    use std::io::Read;
    let mut b = [0u8; 20];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if from_os.is_err() {
        let mut rng = fastrand::Rng::new();
        rng.fill(&mut b);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Cheap timestamps for the per-command `usec` of INFO commandstats.
///
/// Why not `Instant::now()`: a vDSO `clock_gettime` costs ~35 ns, and a command run in place
/// needs two. With an invariant TSC (`constant_tsc` and `nonstop_tsc`, which is what Linux
/// itself relies on for its clocksource) `rdtsc` costs ~12 ns and ticks at one fixed rate on
/// every core. Ticks become microseconds only when INFO asks, at the rate measured against the
/// monotonic clock since start-up. Without such a TSC, ticks are `Instant` nanoseconds.
pub mod clock {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;
    use std::time::Instant;

    static TSC: AtomicBool = AtomicBool::new(false);
    /// When [`init`] ran, and the TSC then (0 without one).
    static START: OnceLock<(Instant, u64)> = OnceLock::new();

    /// Picks the tick source and records the calibration origin (first call only).
    pub fn init() {
        START.get_or_init(|| {
            let tsc = cfg!(target_arch = "x86_64") && invariant_tsc();
            TSC.store(tsc, Ordering::Relaxed);
            (Instant::now(), if tsc { rdtsc() } else { 0 })
        });
    }

    fn invariant_tsc() -> bool {
        let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
            return false;
        };
        info.lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|l| {
                let mut has = (false, false);
                for f in l.split_whitespace() {
                    has.0 |= f == "constant_tsc";
                    has.1 |= f == "nonstop_tsc";
                }
                has == (true, true)
            })
    }

    #[inline]
    fn rdtsc() -> u64 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: RDTSC has no preconditions (it only reads the time-stamp counter).
        #[allow(unused_unsafe)]
        unsafe {
            core::arch::x86_64::_rdtsc()
        }
        #[cfg(not(target_arch = "x86_64"))]
        0
    }

    /// Now, in ticks (0 before [`init`]).
    #[inline]
    pub fn ticks() -> u64 {
        if TSC.load(Ordering::Relaxed) {
            return rdtsc();
        }
        START
            .get()
            .map_or(0, |(t0, _)| t0.elapsed().as_nanos() as u64)
    }

    /// `ticks` (a duration) in microseconds.
    pub fn micros(ticks: u64) -> u64 {
        let Some(&(t0, tsc0)) = START.get() else {
            return 0;
        };
        if !TSC.load(Ordering::Relaxed) {
            return ticks / 1000;
        }
        let ns = t0.elapsed().as_nanos();
        let elapsed = u128::from(rdtsc().wrapping_sub(tsc0));
        if elapsed == 0 {
            return 0;
        }
        (u128::from(ticks) * ns / elapsed / 1000) as u64
    }
}

/// Where INFO commandstats counts a command line (see [`StatTable::resolve`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// This stat slot.
    Cmd(u16),
    /// A subcommand with the wrong number of arguments: Redis refuses it before running it
    /// (`rejected_calls`), while our container handlers reply the same error themselves.
    BadArity(u16),
    /// An unknown subcommand: Redis counts it in no command's stats (errors only).
    Unknown,
    /// Counted where it runs (a server command inside EXEC): not again here.
    Elsewhere,
}

/// The stat slots of every command and subcommand, built once from the command table and the
/// docs (which list each container's subcommands, with Redis's names: `config|get`). Slot `i`
/// is table command `i`; subcommands follow.
pub struct StatTable {
    /// Per table index: its subcommands' slots (empty unless it is a container).
    subs: Vec<std::ops::Range<u16>>,
    /// Per slot: Redis's full name.
    pub names: Vec<&'static str>,
    /// Per slot: the subcommand's name alone (`get`) and arity (table commands: unused).
    short: Vec<&'static str>,
    arity: Vec<i32>,
    /// Per table index: reads must not touch the key's access clock (Redis's
    /// `LOOKUP_NOTOUCH`: EXISTS, TYPE, TTL and friends).
    pub notouch: Vec<bool>,
    /// Per table index: the slot its time counts for. Internal steps count for none, except the
    /// one-shard EXEC step, which is EXEC's work.
    time_slot: Vec<Option<u16>>,
}

impl StatTable {
    pub fn get() -> &'static StatTable {
        static T: OnceLock<StatTable> = OnceLock::new();
        T.get_or_init(StatTable::build)
    }

    fn build() -> StatTable {
        let table = cmd::table();
        let docs: HashMap<&str, &cmd::docs::Doc> =
            cmd::docs::DOCS.iter().map(|d| (d.name, d)).collect();
        let mut names: Vec<&'static str> = table.iter().map(|c| c.name).collect();
        let mut short = names.clone();
        let mut arity = vec![0; names.len()];
        let mut subs = vec![0..0; names.len()];
        for (i, c) in table.iter().enumerate() {
            if c.flags & cmd::flags::INTERNAL != 0 {
                continue;
            }
            let Some(d) = docs.get(c.name) else { continue };
            let start = names.len() as u16;
            for sub in d.subs {
                names.push(sub.name);
                short.push(sub.name.split_once('|').map_or(sub.name, |(_, s)| s));
                arity.push(sub.arity);
            }
            subs[i] = start..names.len() as u16;
        }
        assert!(
            names.len() < u16::MAX as usize,
            "too many commands for u16 stat slots"
        );
        const NOTOUCH: &[&str] = &["exists", "type", "ttl", "pttl", "expiretime", "pexpiretime"];
        let exec_step = cmd::multi::exec_step_index();
        let exec = cmd::lookup(b"exec");
        StatTable {
            notouch: table.iter().map(|c| NOTOUCH.contains(&c.name)).collect(),
            time_slot: table
                .iter()
                .enumerate()
                .map(|(i, c)| match () {
                    _ if i == exec_step => exec.map(|e| e as u16),
                    _ if c.flags & cmd::flags::INTERNAL != 0 => None,
                    _ => Some(i as u16),
                })
                .collect(),
            subs,
            names,
            short,
            arity,
        }
    }

    /// The slot of a command line whose command is table row `idx`: the row's own, or its
    /// subcommand's (Redis's `lookupCommand`: the subcommand when one is given).
    #[inline]
    pub fn resolve(&self, idx: usize, argv: Argv<'_>) -> Stat {
        let subs = &self.subs[idx];
        if subs.is_empty() || argv.len() < 2 {
            return Stat::Cmd(idx as u16);
        }
        self.resolve_sub(subs.clone(), argv)
    }

    #[cold]
    fn resolve_sub(&self, subs: std::ops::Range<u16>, argv: Argv<'_>) -> Stat {
        let name = argv.get(1);
        for s in subs {
            if self.short[s as usize].as_bytes().eq_ignore_ascii_case(name) {
                let (a, argc) = (self.arity[s as usize], argv.len() as i32);
                let ok = if a >= 0 { argc == a } else { argc >= -a };
                return if ok { Stat::Cmd(s) } else { Stat::BadArity(s) };
            }
        }
        Stat::Unknown
    }
}

/// One stat slot's numbers on one core.
#[derive(Default)]
struct Counter {
    calls: Cell<u64>,
    ticks: Cell<u64>,
    rejected: Cell<u64>,
    failed: Cell<u64>,
}

/// INFO commandstats and errorstats as counted on one core: plain cells indexed by stat slot,
/// no atomics; INFO sums every core's.
///
/// A command is counted by the core of the connection that sent it, once its reply is known:
/// `calls` (and `failed_calls` when the reply is an error) when it ran, `rejected_calls` when it
/// was refused before running (arity, NOAUTH, wrong context, cluster redirect…), exactly as
/// Redis's `call()` and `rejectCommand` count. Every error reply is counted by its code, as
/// Redis's `afterErrorReply`. Time goes to the slot of the command where it ran: measured around
/// each command run in place, and as an even share of a forwarded envelope's span.
pub struct CmdStats {
    pub table: &'static StatTable,
    counters: Box<[Counter]>,
    errors: RefCell<HashMap<Box<[u8]>, u64, ahash::RandomState>>,
    error_replies: Cell<u64>,
    /// (unix ms, calls so far) every 100 ms or more, the last 16.
    samples: RefCell<VecDeque<(i64, u64)>>,
    next_sample: Cell<i64>,
    /// The [`Shared::stats_epoch`] these counters start at.
    epoch: Cell<u64>,
}

impl CmdStats {
    fn new(epoch: u64) -> CmdStats {
        let table = StatTable::get();
        CmdStats {
            table,
            counters: (0..table.names.len()).map(|_| Counter::default()).collect(),
            errors: RefCell::new(HashMap::default()),
            error_replies: Cell::new(0),
            samples: RefCell::new(VecDeque::with_capacity(16)),
            next_sample: Cell::new(0),
            epoch: Cell::new(epoch),
        }
    }

    #[inline]
    pub fn resolve(&self, idx: usize, argv: Argv<'_>) -> Stat {
        self.table.resolve(idx, argv)
    }

    /// A command ran (for `ticks`) and replied `reply` (its reply only; empty if unknown).
    #[inline]
    pub fn call(&self, stat: Stat, ticks: u64, reply: &[u8]) {
        let failed = self.note_error(reply);
        let s = match stat {
            Stat::Cmd(s) => s,
            Stat::BadArity(s) if failed => {
                bump(&self.counters[s as usize].rejected);
                return;
            }
            Stat::BadArity(s) => s,
            Stat::Unknown | Stat::Elsewhere => return,
        };
        let c = &self.counters[s as usize];
        bump(&c.calls);
        c.ticks.set(c.ticks.get() + ticks);
        if failed {
            bump(&c.failed);
        }
    }

    /// A command was refused before running, with the error `reply`.
    pub fn reject(&self, stat: Stat, reply: &[u8]) {
        self.note_error(reply);
        if let Stat::Cmd(s) | Stat::BadArity(s) = stat {
            bump(&self.counters[s as usize].rejected);
        }
    }

    /// An error reply outside any command's stats (an unknown command's).
    pub fn error(&self, reply: &[u8]) {
        self.note_error(reply);
    }

    /// Time spent on a command (or a part of one) that runs here for another core's connection.
    #[inline]
    pub fn add_time(&self, idx: usize, argv: Argv<'_>, ticks: u64) {
        let Some(slot) = self.table.time_slot[idx] else {
            return;
        };
        let slot = match self.table.resolve(slot as usize, argv) {
            Stat::Cmd(s) | Stat::BadArity(s) => s,
            Stat::Unknown | Stat::Elsewhere => return,
        };
        let c = &self.counters[slot as usize].ticks;
        c.set(c.get() + ticks);
    }

    /// Time spent here on a command counted at its end (the local part of a split command).
    pub fn add_ticks(&self, stat: Stat, ticks: u64) {
        if let Stat::Cmd(s) | Stat::BadArity(s) = stat {
            let c = &self.counters[s as usize].ticks;
            c.set(c.get() + ticks);
        }
    }

    /// The commands an EXEC ran, from its reply (an array, one reply per queued command, in
    /// order; a null or an error means none ran). Redis counts each as called by EXEC, and each
    /// error reply among them; EXEC itself fails only by its own error.
    pub fn exec_replies(&self, queued: &[Stat], reply: &[u8]) {
        let Some(rest) = reply.strip_prefix(b"*") else {
            return;
        };
        let Some(eol) = rest.iter().position(|&b| b == b'\r') else {
            return;
        };
        let n: usize = match std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|n| n.parse().ok())
        {
            Some(n) => n,
            None => return,
        };
        let mut body = rest.get(eol + 2..).unwrap_or_default();
        for &stat in queued.iter().take(n) {
            let Ok(Some(len)) = crate::resp::frame_len(body) else {
                return;
            };
            if stat != Stat::Elsewhere {
                self.call(stat, 0, &body[..len]);
            }
            body = &body[len..];
        }
    }

    #[inline]
    fn note_error(&self, reply: &[u8]) -> bool {
        if reply.first() != Some(&b'-') {
            return false;
        }
        self.count_error(reply);
        true
    }

    /// Redis's `afterErrorReply`: the code is what follows `-` up to the first space within the
    /// first 32 bytes, else `ERR`.
    #[cold]
    fn count_error(&self, reply: &[u8]) {
        bump(&self.error_replies);
        let line = &reply[..reply
            .iter()
            .position(|&b| b == b'\r')
            .unwrap_or(reply.len())];
        let code = match line[..line.len().min(32)].iter().position(|&b| b == b' ') {
            Some(sp) => &line[1..sp],
            None => b"ERR",
        };
        let mut errors = self.errors.borrow_mut();
        match errors.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                errors.insert(code.into(), 1);
            }
        }
    }

    /// Every 100 ms at most: records the calls so far (instantaneous_ops_per_sec).
    #[inline]
    pub fn maybe_sample(&self, now: i64) {
        if now >= self.next_sample.get() {
            self.sample(now);
        }
    }

    #[cold]
    fn sample(&self, now: i64) {
        let calls = self.calls();
        let mut s = self.samples.borrow_mut();
        if s.len() == 16 {
            s.pop_front();
        }
        s.push_back((now, calls));
        self.next_sample.set(now + 100);
    }

    fn calls(&self) -> u64 {
        self.counters.iter().map(|c| c.calls.get()).sum()
    }

    /// Commands per second since the oldest sample of the last 1.6 s (Redis averages its last
    /// 16 samples, taken every 100 ms); since the newest sample if all are older.
    fn ops_per_sec(&self, now: i64) -> u64 {
        let s = self.samples.borrow();
        let from = s
            .iter()
            .find(|(t, _)| now - t <= 1600)
            .or_else(|| s.back())
            .copied();
        match from {
            Some((t, calls)) if now > t => {
                (self.calls().saturating_sub(calls) as u128 * 1000 / (now - t) as u128) as u64
            }
            _ => 0,
        }
    }

    /// CONFIG RESETSTAT on this core.
    fn reset(&self) {
        for c in self.counters.iter() {
            c.calls.set(0);
            c.ticks.set(0);
            c.rejected.set(0);
            c.failed.set(0);
        }
        self.errors.borrow_mut().clear();
        self.error_replies.set(0);
        self.samples.borrow_mut().clear();
        self.next_sample.set(0);
    }

    fn detail(&self, now: i64) -> StatsDetail {
        let cmds = self
            .counters
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let v = [
                    c.calls.get(),
                    c.ticks.get(),
                    c.rejected.get(),
                    c.failed.get(),
                ];
                (v != [0; 4]).then_some((i as u16, v))
            })
            .collect();
        StatsDetail {
            cmds,
            errors: self
                .errors
                .borrow()
                .iter()
                .map(|(k, v)| (k.to_vec(), *v))
                .collect(),
            error_replies: self.error_replies.get(),
            ops_per_sec: self.ops_per_sec(now),
            channels: crate::pubsub::channels(false, None),
            patterns: crate::pubsub::patterns(),
            shard_channels: crate::pubsub::channels(true, None),
        }
    }
}

#[inline]
fn bump(c: &Cell<u64>) {
    c.set(c.get() + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_sliced_matches_bytewise() {
        fn bytewise(data: &[u8]) -> u16 {
            let mut crc: u16 = 0;
            for &b in data {
                crc ^= (b as u16) << 8;
                for _ in 0..8 {
                    crc = if crc & 0x8000 != 0 {
                        (crc << 1) ^ 0x1021
                    } else {
                        crc << 1
                    };
                }
            }
            crc
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..100 {
            for _ in 0..20 {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x as u8
                    })
                    .collect();
                assert_eq!(crc16(&data), bytewise(&data), "{data:?}");
            }
        }
    }

    #[test]
    fn crc16_matches_redis_cluster_vectors() {
        // From the Redis Cluster specification.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
    }

    #[test]
    fn hashtags_colocate() {
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
    }

    #[test]
    fn every_shard_owns_keys() {
        for n in 1..=8 {
            let mut seen = vec![false; n];
            for i in 0..1000 {
                seen[shard_of(format!("key:{i}").as_bytes(), n)] = true;
            }
            assert!(seen.iter().all(|&s| s), "n={n}");
        }
    }
}

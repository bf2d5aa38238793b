//! Clients blocked on list and sorted-set keys (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
//! BZPOPMIN, BZPOPMAX, BZMPOP).
//!
//! A blocked client waits on its own connection's core for a oneshot; the keys it waits for live on
//! their owners. Each owner keeps, per key, a FIFO of the clients blocked on it. When a list is
//! stored under a watched key (a list or sorted set; the keyspace notices it in `Keyspace::set`, where Redis calls
//! `signalKeyAsReady`), the owner serves the waiters right after the command that stored it, oldest
//! first, as Redis's `handleClientsBlockedOnKeys` does: it pops for them on the spot and sends each
//! its reply, so no other client can take the element in between.
//!
//! A client blocked on keys of several shards sits in several queues; an atomic claim makes sure
//! exactly one party settles it (a serving shard, or the client's own timeout or disconnect) —
//! whoever loses the claim leaves the element where it is.
//!
//! The queues are thread-local: one executor thread is one shard, and only that shard's commands
//! touch them (via the INTERNAL `__block`/`__unblock` commands and [`serve_ready`]).

use crate::keyspace::{Keyspace, Kind, List, SmallBytes, Ttl, Value};
use crate::resp::{Proto, Reply};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// What a served waiter gets done for it.
#[derive(Debug, Clone)]
pub enum Op {
    /// BLPOP/BRPOP: one element, replied as `[key, element]`.
    Pop { left: bool },
    /// BLMPOP: up to `count` elements, replied as `[key, [elements…]]`.
    MPop { left: bool, count: usize },
    /// BLMOVE/BRPOPLPUSH from the (single) watched key to `dst`. `dst_here`: the destination has
    /// the same owner as the source, so the owner moves the element itself.
    Move {
        dst: Box<[u8]>,
        from_left: bool,
        to_left: bool,
        dst_here: bool,
    },
    /// BZPOPMIN/BZPOPMAX (`count` None: replied as `[key, member, score]`) and BZMPOP (`count`
    /// Some: `[key, [[member, score]…]]`).
    ZPop { max: bool, count: Option<usize> },
}

impl Op {
    /// The type of value that can serve this waiter.
    fn wants(&self) -> Kind {
        match self {
            Op::ZPop { .. } => Kind::Zset,
            _ => Kind::List,
        }
    }
}

/// What the owner hands a served client.
#[derive(Debug)]
pub enum Served {
    /// The client's whole reply, encoded in its protocol.
    Reply(Vec<u8>),
    /// BLMOVE whose destination lives on another shard: the element popped from the source; the
    /// client's core pushes it to the destination and replies.
    Moved(Vec<u8>),
}

/// One blocked client, shared by the queues of every key it waits on.
pub struct Waiter {
    pub id: u64,
    pub db: usize,
    pub proto: Proto,
    pub op: Op,
    claimed: AtomicBool,
    tx: Mutex<Option<futures_channel::oneshot::Sender<Served>>>,
}

impl Waiter {
    /// Takes the right to settle this waiter; true for exactly one caller.
    pub fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    pub fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    fn send(&self, s: Served) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(tx) = tx {
            let _ = tx.send(s);
        }
    }
}

/// Waiters by id, so that an owner running `__block <id> …` (which only carries bytes across
/// cores) can find the shared waiter. Touched twice per blocking command, never per push.
fn registry() -> &'static Mutex<HashMap<u64, Arc<Waiter>>> {
    static R: OnceLock<Mutex<HashMap<u64, Arc<Waiter>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A registered waiter and the receiving end of its reply. [`forget`] its id when done.
pub struct Registration {
    pub waiter: Arc<Waiter>,
    pub rx: futures_channel::oneshot::Receiver<Served>,
}

impl Registration {
    pub fn new(db: usize, proto: Proto, op: Op) -> Registration {
        let (tx, rx) = futures_channel::oneshot::channel();
        let waiter = Arc::new(Waiter {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            db,
            proto,
            op,
            claimed: AtomicBool::new(false),
            tx: Mutex::new(Some(tx)),
        });
        registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(waiter.id, waiter.clone());
        Registration { waiter, rx }
    }
}

/// Forgets waiter `id` (its command ended); owners still holding it skip it once claimed.
pub fn forget(id: u64) {
    registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
}

/// The waiter with this id, if its client still waits.
pub fn find(id: u64) -> Option<Arc<Waiter>> {
    registry()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
}

/// A one-way "the client went away" signal set by the connection and awaited by its blocked
/// command, so a waiting client costs no wake-ups until something happens.
#[derive(Debug, Default)]
pub struct Flag {
    set: std::cell::Cell<bool>,
    waker: RefCell<Option<std::task::Waker>>,
}

impl Flag {
    pub fn set(&self) {
        self.set.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    pub fn get(&self) -> bool {
        self.set.get()
    }

    pub fn reset(&self) {
        self.set.set(false);
    }

    /// Resolves once [`Flag::set`] was called.
    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.set.get() {
                std::task::Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }
}

type Queues = HashMap<(usize, Vec<u8>), VecDeque<Arc<Waiter>>>;

thread_local! {
    /// This shard's waiters per (db, key), oldest first.
    static QUEUES: RefCell<Queues> = RefCell::new(HashMap::new());
}

/// How many waiters this shard holds (INFO's blocked_clients counts them per shard).
pub fn queued() -> usize {
    QUEUES.with(|q| q.borrow().values().map(VecDeque::len).sum())
}

/// Appends `w` to the queue of `key` and makes the keyspace watch it.
pub fn enqueue(ks: &mut Keyspace, db: usize, key: &[u8], w: &Arc<Waiter>) {
    QUEUES.with(|q| {
        q.borrow_mut()
            .entry((db, key.to_vec()))
            .or_default()
            .push_back(w.clone())
    });
    ks.watch(db, key);
}

/// Removes waiter `id` from the queue of `key` (and stops watching a key nobody waits on).
pub fn dequeue(ks: &mut Keyspace, db: usize, key: &[u8], id: u64) {
    let empty = QUEUES.with(|q| {
        let mut q = q.borrow_mut();
        let k = (db, key.to_vec());
        let Some(dq) = q.get_mut(&k) else {
            return true;
        };
        dq.retain(|w| w.id != id && !w.is_claimed());
        if dq.is_empty() {
            q.remove(&k);
            true
        } else {
            false
        }
    });
    if empty {
        ks.unwatch(db, key);
    }
}

/// Does `key` hold a non-empty value of type `want`? (`Err` for another type.)
fn ready(ks: &mut Keyspace, db: usize, key: &[u8], now: i64, want: Kind) -> Result<bool, ()> {
    match ks.lookup_write(db, key, now) {
        None => Ok(false),
        Some(v) if v.kind() != want => Err(()),
        Some(v) => Ok(v.as_list().map_or(0, |l| l.len()) + v.as_zset().map_or(0, |z| z.len()) > 0),
    }
}

/// Serves every waiter that the keys made ready since the last call can serve. Runs on the owner
/// right after each command (cheap when nothing is ready).
pub fn serve_ready(ks: &mut Keyspace, now: i64) {
    while ks.has_ready() {
        for (db, key) in ks.take_ready() {
            serve_key(ks, db, &key, now);
        }
    }
}

/// Serves the waiters of one key, oldest first, while it holds elements. Waiters for another
/// type (a BZPOPMIN client on a key that became a list) stay queued, as in Redis.
fn serve_key(ks: &mut Keyspace, db: usize, key: &[u8], now: i64) {
    loop {
        let kind = match ks.lookup_write(db, key, now) {
            Some(v) => v.kind(),
            None => return,
        };
        if ready(ks, db, key, now, kind) != Ok(true) {
            return;
        }
        let next = QUEUES.with(|q| {
            let mut q = q.borrow_mut();
            let k = (db, key.to_vec());
            let dq = q.get_mut(&k)?;
            // Waiters settled elsewhere (another shard, their timeout or disconnect) go.
            dq.retain(|w| !w.is_claimed());
            let w = dq
                .iter()
                .position(|w| w.op.wants() == kind)
                .and_then(|i| dq.remove(i));
            if dq.is_empty() {
                q.remove(&k);
            }
            w
        });
        let Some(w) = next else {
            if QUEUES.with(|q| !q.borrow().contains_key(&(db, key.to_vec()))) {
                ks.unwatch(db, key);
            }
            return;
        };
        if w.claim() {
            serve(ks, db, key, now, &w);
        }
    }
}

/// Serves `w` (already claimed) from the non-empty list at `key`.
pub fn serve(ks: &mut Keyspace, db: usize, key: &[u8], now: i64, w: &Waiter) {
    let mut out = Reply::new(w.proto);
    match &w.op {
        Op::Pop { left } => {
            let Some(e) = pop(ks, db, key, now, *left, 1).pop() else {
                return out_of_elements(w);
            };
            out.array(2);
            out.bulk(key);
            out.bulk(e.as_slice());
        }
        Op::MPop { left, count } => {
            let elems = pop(ks, db, key, now, *left, *count);
            out.array(2);
            out.bulk(key);
            out.array(elems.len());
            for e in &elems {
                out.bulk(e.as_slice());
            }
        }
        Op::Move {
            dst,
            from_left,
            to_left,
            dst_here,
        } => {
            if *dst_here {
                // Redis checks the destination before popping: a wrong type unblocks the client
                // with WRONGTYPE and leaves the source as it was.
                if let Some(v) = ks.lookup_write(db, dst, now) {
                    if v.as_list().is_none() {
                        out.error(crate::cmd::err::WRONGTYPE);
                        return w.send(Served::Reply(out.buf));
                    }
                }
            }
            let Some(e) = pop(ks, db, key, now, *from_left, 1).pop() else {
                return out_of_elements(w);
            };
            if !*dst_here {
                return w.send(Served::Moved(e.as_slice().to_vec()));
            }
            out.bulk(e.as_slice());
            // The destination's type was checked above, on this same shard.
            let _ = push(ks, db, dst, now, *to_left, e);
        }
        Op::ZPop { max, count } => {
            let popped = zpop(ks, db, key, now, *max, count.unwrap_or(1));
            if popped.is_empty() {
                return out_of_elements(w);
            }
            match count {
                None => {
                    let (m, score) = &popped[0];
                    out.array(3);
                    out.bulk(key);
                    out.bulk(m);
                    out.double(*score);
                }
                Some(_) => {
                    out.array(2);
                    out.bulk(key);
                    out.array(popped.len());
                    for (m, score) in &popped {
                        out.array(2);
                        out.bulk(m);
                        out.double(*score);
                    }
                }
            }
        }
    }
    w.send(Served::Reply(out.buf));
}

/// Only reached if a caller broke the "non-empty list" precondition: reply as a timeout would.
fn out_of_elements(w: &Waiter) {
    let mut out = Reply::new(w.proto);
    out.null_array();
    w.send(Served::Reply(out.buf));
}

/// Pops up to `count` elements from the list at `key` (deleting an emptied list).
fn pop(
    ks: &mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    left: bool,
    count: usize,
) -> Vec<SmallBytes> {
    let mut got = Vec::new();
    let emptied = {
        let Some(slot) = ks.lookup_write(db, key, now) else {
            return got;
        };
        let Some(l) = slot.as_list_mut() else {
            return got;
        };
        let n = count.min(l.len());
        got.reserve(n);
        for _ in 0..n {
            let e = if left { l.pop_front() } else { l.pop_back() };
            got.extend(e);
        }
        l.is_empty()
    };
    if !got.is_empty() {
        let event = if left { "lpop" } else { "rpop" };
        crate::notify::emit(crate::notify::LIST, event, db, key);
    }
    if emptied {
        ks.remove(db, key, now);
        crate::notify::emit(crate::notify::GENERIC, "del", db, key);
    }
    if !got.is_empty() {
        ks.add_dirty(1);
    }
    got
}

/// Pops up to `count` members from the lowest (or highest) scores of the sorted set at `key`
/// (deleting an emptied one).
fn zpop(
    ks: &mut Keyspace,
    db: usize,
    key: &[u8],
    now: i64,
    max: bool,
    count: usize,
) -> Vec<(Vec<u8>, f64)> {
    let mut got = Vec::new();
    let emptied = {
        let Some(z) = ks.lookup_write(db, key, now).and_then(|s| s.as_zset_mut()) else {
            return got;
        };
        let n = count.min(z.len());
        got.reserve(n);
        for _ in 0..n {
            let rank = if max { z.len() - 1 } else { 0 };
            let Some((m, score)) = z.get_by_rank(rank).map(|(m, s)| (m.to_vec(), s)) else {
                break;
            };
            z.remove(&m);
            got.push((m, score));
        }
        z.is_empty()
    };
    if !got.is_empty() {
        let event = if max { "zpopmax" } else { "zpopmin" };
        crate::notify::emit(crate::notify::ZSET, event, db, key);
    }
    if emptied {
        ks.remove(db, key, now);
        crate::notify::emit(crate::notify::GENERIC, "del", db, key);
    }
    if !got.is_empty() {
        ks.add_dirty(got.len() as u64);
    }
    got
}

/// Pushes one element onto the list at `key` (creating it); false if `key` holds another type.
pub fn push(ks: &mut Keyspace, db: usize, key: &[u8], now: i64, left: bool, e: SmallBytes) -> bool {
    match ks.lookup_write(db, key, now) {
        Some(slot) => {
            let Some(l) = slot.as_list_mut() else {
                return false;
            };
            if left {
                l.push_front(e);
            } else {
                l.push_back(e);
            }
        }
        None => {
            let mut l = List::new();
            l.push_back(e);
            ks.set(db, key, Value::list(l), Ttl::Clear, now);
        }
    }
    ks.add_dirty(1);
    let event = if left { "lpush" } else { "rpush" };
    crate::notify::emit(crate::notify::LIST, event, db, key);
    true
}

/// Why `__block` could not leave the client waiting.
pub enum BlockOutcome {
    /// Settled: served now by this shard (its reply is on the way), or already settled elsewhere.
    Settled,
    /// Queued on every key given.
    Queued,
    /// A key (in argument order, before any ready one) holds another type.
    WrongType,
}

/// `__block`: for the keys this shard owns, in argument order, serve the waiter from the first
/// non-empty list; if none, queue it on all of them.
pub fn block_on(
    ks: &mut Keyspace,
    db: usize,
    keys: &[&[u8]],
    now: i64,
    w: &Arc<Waiter>,
) -> BlockOutcome {
    if w.is_claimed() {
        return BlockOutcome::Settled;
    }
    let want = w.op.wants();
    for &key in keys {
        match ready(ks, db, key, now, want) {
            Err(()) => return BlockOutcome::WrongType,
            Ok(false) => {}
            Ok(true) => {
                if w.claim() {
                    serve(ks, db, key, now, w);
                    serve_ready(ks, now);
                }
                return BlockOutcome::Settled;
            }
        }
    }
    for &key in keys {
        enqueue(ks, db, key, w);
    }
    BlockOutcome::Queued
}

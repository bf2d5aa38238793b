//! Shard locks for work that must be atomic across shards: multi-shard MULTI/EXEC, and SAVE's cut.
//!
//! Why locks, and why these: a transaction whose keys live on one shard needs none — it runs as
//! one synchronous step on that shard (see `cmd::multi`), which nothing can interleave with. A
//! transaction over several shards runs one step per shard, and between those steps another
//! client could observe some shards changed and others not. So it first takes the lock of every
//! shard it touches, **in ascending shard order** (two transactions can never each hold a lock
//! the other waits for, so there is no deadlock), runs its steps, and releases them. While a
//! shard is locked, everything else that would run commands there waits at a gate: its forward
//! loops (before each envelope), its connections (before each batch and after every await) and
//! `Core::call` from other clients. The holder's own steps reach the shard through the control
//! mesh instead ([`TxMsg::Run`]), which never waits at the gate.
//!
//! Deadlock freedom: a lock holder waits only for locks of higher shards (ordering), and for
//! replies to its control messages, which every shard answers synchronously without waiting on
//! anything. Gated work waits only for holders. So every holder finishes.
//!
//! Fairness: a released lock is handed to the next queued transaction only after one executor
//! yield, so the work gated behind it runs first and a stream of transactions cannot starve
//! plain commands.

use crate::resp::{CmdBatch, Proto};
use crate::shard::{Core, Ctrl, Envelope, ReplyBatch, SubMeta};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

/// Transaction ids: unique per process (0 means none).
static NEXT_TX: AtomicU64 = AtomicU64::new(1);

pub fn next_tx_id() -> u64 {
    NEXT_TX.fetch_add(1, Ordering::Relaxed)
}

/// One shard's lock.
#[derive(Default)]
pub struct TxLock {
    /// The transaction holding it (0: free).
    holder: Cell<u64>,
    /// Transactions waiting for it, first come first served.
    queue: RefCell<VecDeque<(u64, futures_channel::oneshot::Sender<()>)>>,
    /// Work waiting at the gate.
    gated: RefCell<Vec<Waker>>,
}

impl TxLock {
    /// Whether a transaction holds this shard.
    #[inline]
    pub fn is_held(&self) -> bool {
        self.holder.get() != 0
    }

    /// Waits while a transaction holds this shard (cheap when free: one cell read).
    pub async fn gate(&self) {
        if !self.is_held() {
            return;
        }
        Gate { lock: self }.await
    }

    /// Asks for the lock on behalf of `tx`: granted now, or when the holders before it release.
    fn request(&self, tx: u64, granted: futures_channel::oneshot::Sender<()>) {
        if self.holder.get() == 0 && self.queue.borrow().is_empty() {
            self.holder.set(tx);
            let _ = granted.send(());
        } else {
            self.queue.borrow_mut().push_back((tx, granted));
        }
    }

    /// `tx` is done with this shard (or gave up waiting for it).
    fn release(core: &Rc<Core>, tx: u64) {
        let lock = &core.tx_lock;
        if lock.holder.get() != tx {
            lock.queue.borrow_mut().retain(|(t, _)| *t != tx);
            return;
        }
        lock.holder.set(0);
        for w in lock.gated.borrow_mut().drain(..) {
            w.wake();
        }
        if lock.queue.borrow().is_empty() {
            return;
        }
        // Gated work first (it was woken above and runs on this yield), then the next holder.
        let core = core.clone();
        glommio::spawn_local(async move {
            futures_lite::future::yield_now().await;
            Self::grant_next(&core.tx_lock);
        })
        .detach();
    }

    fn grant_next(lock: &TxLock) {
        while lock.holder.get() == 0 {
            let Some((tx, granted)) = lock.queue.borrow_mut().pop_front() else {
                return;
            };
            lock.holder.set(tx);
            if granted.send(()).is_err() {
                // The requester is gone.
                lock.holder.set(0);
            }
        }
    }
}

struct Gate<'a> {
    lock: &'a TxLock,
}

impl Future for Gate<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if !self.lock.is_held() {
            return Poll::Ready(());
        }
        self.lock.gated.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// Control messages of the lock protocol.
pub enum TxMsg {
    Lock {
        tx: u64,
        granted: futures_channel::oneshot::Sender<()>,
    },
    Unlock {
        tx: u64,
    },
    /// Runs commands on the shard now, past the gate: only the lock holder sends these.
    Run(Envelope),
}

/// Handles a lock-protocol message on this shard (synchronously: it never waits).
pub fn handle(core: &Rc<Core>, msg: TxMsg) {
    match msg {
        TxMsg::Lock { tx, granted } => core.tx_lock.request(tx, granted),
        TxMsg::Unlock { tx } => TxLock::release(core, tx),
        TxMsg::Run(env) => {
            let (rb, reply) = core.exec_envelope(env);
            let _ = reply.send(rb);
        }
    }
}

/// Runs `batch` on `shard` past its lock (the caller holds it), and returns the replies.
pub async fn run_on(
    core: &Rc<Core>,
    shard: usize,
    batch: CmdBatch,
    meta: Vec<SubMeta>,
) -> ReplyBatch {
    let n = meta.len();
    let (tx, rx) = futures_channel::oneshot::channel();
    let env = Envelope {
        batch,
        meta,
        reply: tx,
    };
    if shard == core.id {
        let (rb, _) = core.exec_envelope(env);
        return rb;
    }
    if !core.send_ctrl(shard, Ctrl::Tx(TxMsg::Run(env))).await {
        return gone(n);
    }
    rx.await.unwrap_or_else(|_| gone(n))
}

/// Replies for `n` commands whose shard is gone (only while the server stops).
fn gone(n: usize) -> ReplyBatch {
    let mut rb = ReplyBatch::default();
    for _ in 0..n {
        rb.buf.extend_from_slice(crate::shard::SHARD_GONE);
        rb.ends.push(rb.buf.len() as u32);
    }
    rb
}

/// The locks one transaction holds. Dropping it releases them (also when the holder's task
/// unwinds), so a failure can never leave a shard locked.
pub struct Locks {
    core: Rc<Core>,
    tx: u64,
    /// Shards locked or asked for, ascending.
    shards: Vec<usize>,
}

impl Locks {
    pub fn tx(&self) -> u64 {
        self.tx
    }

    /// Takes the locks of `shards` (any order, duplicates allowed) in ascending shard order.
    pub async fn acquire(core: &Rc<Core>, shards: &[usize]) -> Locks {
        let mut sorted: Vec<usize> = shards.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut locks = Locks {
            core: core.clone(),
            tx: next_tx_id(),
            shards: Vec::with_capacity(sorted.len()),
        };
        for shard in sorted {
            let (granted, rx) = futures_channel::oneshot::channel();
            // Recorded before the request, so a drop while waiting withdraws it.
            locks.shards.push(shard);
            if shard == core.id {
                core.tx_lock.request(locks.tx, granted);
            } else if !core
                .send_ctrl(
                    shard,
                    Ctrl::Tx(TxMsg::Lock {
                        tx: locks.tx,
                        granted,
                    }),
                )
                .await
            {
                continue;
            }
            // Err only when the shard is gone (server stopping): proceed, its steps fail.
            let _ = rx.await;
        }
        locks
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        let shards = std::mem::take(&mut self.shards);
        let tx = self.tx;
        let mut remote = Vec::new();
        for shard in shards {
            if shard == self.core.id {
                TxLock::release(&self.core, tx);
            } else {
                remote.push(shard);
            }
        }
        if remote.is_empty() {
            return;
        }
        let core = self.core.clone();
        glommio::spawn_local(async move {
            for shard in remote {
                core.send_ctrl(shard, Ctrl::Tx(TxMsg::Unlock { tx })).await;
            }
        })
        .detach();
    }
}

/// Polls `fut` as a step of transaction `tx`: while it runs, [`Core::call`] on this core sends
/// its commands past the locks `tx` holds. Set and cleared around every poll, so other tasks on
/// the core (polled in between) never see it.
pub struct InTx<'a, F: ?Sized> {
    pub core: &'a Core,
    pub tx: u64,
    pub fut: Pin<Box<F>>,
}

impl<F: Future + ?Sized> Future for InTx<'_, F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let prev = self.core.current_tx.replace(self.tx);
        let r = self.fut.as_mut().poll(cx);
        self.core.current_tx.set(prev);
        r
    }
}

/// The protocol of a batch of transaction steps (all share the session's).
pub fn meta(cmd: usize, db: usize, proto: Proto) -> SubMeta {
    SubMeta {
        cmd: cmd as u16,
        db: db as u16,
        proto,
    }
}

/// Polls every future together and returns their outputs in order (steps on several shards
/// overlap instead of running one after another).
pub async fn join_all<F: Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    futures_lite::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(outs.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outs.into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

//! Pub/sub delivery: each core's subscribers, and the mailbox each subscribed connection drains.
//!
//! Why per core: a subscriber lives on the core that accepted its connection, and a message is
//! published on every core (PUBLISH is routed to all shards, its counts summed), so each core
//! delivers to its own subscribers with no locks and no cross-core pointers. A publisher's
//! messages reach each core in the order it sent them (they travel in its per-shard envelopes in
//! order), so every subscriber sees them in publish order.
//!
//! A message is encoded into the subscriber's mailbox at once and its connection is woken to
//! write it. A subscriber that does not read fast enough is disconnected by Redis's pubsub
//! output-buffer limit (`client-output-buffer-limit pubsub 32mb 8mb 60`: over the hard limit at
//! once, over the soft limit for longer than its seconds), so it cannot grow the server's memory
//! without bound.

use crate::resp::{Proto, Reply};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::task::Waker;
use std::time::Instant;

/// Which namespace a subscription is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

/// One subscribed connection: its subscriptions and the messages waiting to be written.
#[derive(Debug)]
pub struct Subscriber {
    pub id: u64,
    pub channels: RefCell<indexmap::IndexSet<Vec<u8>, ahash::RandomState>>,
    pub patterns: RefCell<indexmap::IndexSet<Vec<u8>, ahash::RandomState>>,
    pub shard_channels: RefCell<indexmap::IndexSet<Vec<u8>, ahash::RandomState>>,
    /// Encoded messages not written yet.
    pub mailbox: RefCell<Reply>,
    waker: RefCell<Option<Waker>>,
    /// Since when the mailbox has been above the soft limit.
    over_soft: Cell<Option<Instant>>,
    /// The output-buffer limit was passed: the connection must close.
    pub doomed: Cell<bool>,
}

impl Subscriber {
    pub fn new(id: u64, proto: Proto) -> Subscriber {
        Subscriber {
            id,
            channels: Default::default(),
            patterns: Default::default(),
            shard_channels: Default::default(),
            mailbox: RefCell::new(Reply::new(proto)),
            waker: RefCell::new(None),
            over_soft: Cell::new(None),
            doomed: Cell::new(false),
        }
    }

    fn set(&self, kind: Kind) -> &RefCell<indexmap::IndexSet<Vec<u8>, ahash::RandomState>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }

    /// Channels + patterns (what SUBSCRIBE/PSUBSCRIBE replies count, as Redis's
    /// `clientSubscriptionsCount`).
    pub fn count(&self) -> usize {
        self.channels.borrow().len() + self.patterns.borrow().len()
    }

    pub fn shard_count(&self) -> usize {
        self.shard_channels.borrow().len()
    }

    /// Whether messages wait to be written.
    pub fn has_mail(&self) -> bool {
        !self.mailbox.borrow().is_empty()
    }

    /// Takes the waiting messages.
    pub fn take_mail(&self) -> Vec<u8> {
        let mut mb = self.mailbox.borrow_mut();
        let out = std::mem::take(&mut mb.buf);
        self.over_soft.set(None);
        out
    }

    /// Resolves when messages arrive or the subscriber is doomed.
    pub async fn wait(&self) {
        futures_lite::future::poll_fn(|cx| {
            if self.has_mail() || self.doomed.get() {
                std::task::Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// Resolves once the subscriber is doomed (to abandon a write it will never finish).
    pub async fn wait_doomed(&self) {
        futures_lite::future::poll_fn(|cx| {
            if self.doomed.get() {
                std::task::Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Appends one message (`message`, `pmessage` or `smessage`) and applies the output-buffer
    /// limit.
    fn deliver(&self, kind: &[u8], pattern: Option<&[u8]>, channel: &[u8], msg: &[u8]) {
        if self.doomed.get() {
            return;
        }
        let len = {
            let mut mb = self.mailbox.borrow_mut();
            mb.push(if pattern.is_some() { 4 } else { 3 });
            mb.bulk(kind);
            if let Some(p) = pattern {
                mb.bulk(p);
            }
            mb.bulk(channel);
            mb.bulk(msg);
            mb.len()
        };
        let (hard, soft, secs) = crate::tunables::pubsub_output_limits();
        if hard > 0 && len as u64 > hard {
            self.doom();
        } else if soft > 0 && len as u64 > soft {
            match self.over_soft.get() {
                None => self.over_soft.set(Some(Instant::now())),
                Some(since) if since.elapsed().as_secs() >= secs => self.doom(),
                Some(_) => {}
            }
        } else {
            self.over_soft.set(None);
        }
        self.wake();
    }

    fn doom(&self) {
        tracing::warn!(
            client = self.id,
            "closing subscriber over the pubsub output buffer limit"
        );
        self.doomed.set(true);
        // The waiting messages will never be written.
        self.mailbox.borrow_mut().buf = Vec::new();
        self.wake();
    }
}

type Subs = Vec<Rc<Subscriber>>;

/// This core's subscriptions.
#[derive(Default)]
struct Registry {
    channels: HashMap<Vec<u8>, Subs, ahash::RandomState>,
    patterns: indexmap::IndexMap<Vec<u8>, Subs, ahash::RandomState>,
    shard: HashMap<Vec<u8>, Subs, ahash::RandomState>,
}

/// Channel and pattern subscriptions on every core: keyspace notifications skip the cross-core
/// publish while nobody could receive one.
static SUBSCRIPTIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether any client on any core has a channel or pattern subscription.
pub fn anyone_subscribed() -> bool {
    SUBSCRIPTIONS.load(std::sync::atomic::Ordering::Relaxed) > 0
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Subscribes `sub` to `name`; false if it already was.
pub fn subscribe(sub: &Rc<Subscriber>, kind: Kind, name: &[u8]) -> bool {
    if !sub.set(kind).borrow_mut().insert(name.to_vec()) {
        return false;
    }
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let list = match kind {
            Kind::Channel => r.channels.entry(name.to_vec()).or_default(),
            Kind::Pattern => r.patterns.entry(name.to_vec()).or_default(),
            Kind::Shard => r.shard.entry(name.to_vec()).or_default(),
        };
        list.push(sub.clone());
    });
    if kind != Kind::Shard {
        SUBSCRIPTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    true
}

/// Unsubscribes `sub` from `name`; false if it was not subscribed.
pub fn unsubscribe(sub: &Subscriber, kind: Kind, name: &[u8]) -> bool {
    if !sub.set(kind).borrow_mut().shift_remove(name) {
        return false;
    }
    if kind != Kind::Shard {
        SUBSCRIPTIONS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let remove = |list: &mut Subs| {
            list.retain(|s| s.id != sub.id);
            list.is_empty()
        };
        match kind {
            Kind::Channel => {
                if r.channels.get_mut(name).is_some_and(remove) {
                    r.channels.remove(name);
                }
            }
            Kind::Pattern => {
                if r.patterns.get_mut(name).is_some_and(remove) {
                    r.patterns.shift_remove(name);
                }
            }
            Kind::Shard => {
                if r.shard.get_mut(name).is_some_and(remove) {
                    r.shard.remove(name);
                }
            }
        }
    });
    true
}

/// Every subscription of `sub` of one kind, in the order they were made.
pub fn names(sub: &Subscriber, kind: Kind) -> Vec<Vec<u8>> {
    sub.set(kind).borrow().iter().cloned().collect()
}

/// Drops every subscription of a connection that is going away.
pub fn forget(sub: &Subscriber) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in names(sub, kind) {
            unsubscribe(sub, kind, &name);
        }
    }
}

/// Delivers a PUBLISH (or SPUBLISH, `shard`) to this core's subscribers; returns how many
/// received it (pattern matches count once per matching pattern, as in Redis).
pub fn publish(shard: bool, channel: &[u8], msg: &[u8]) -> usize {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let mut n = 0;
        if shard {
            if let Some(list) = r.shard.get(channel) {
                for s in list {
                    s.deliver(b"smessage", None, channel, msg);
                    n += 1;
                }
            }
            return n;
        }
        if let Some(list) = r.channels.get(channel) {
            for s in list {
                s.deliver(b"message", None, channel, msg);
                n += 1;
            }
        }
        for (pat, list) in &r.patterns {
            if crate::cmd::keys::string_match(pat, channel, false) {
                for s in list {
                    s.deliver(b"pmessage", Some(pat), channel, msg);
                    n += 1;
                }
            }
        }
        n
    })
}

/// This core's active channels (shard channels with `shard`) matching `pattern`.
pub fn channels(shard: bool, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let map = if shard { &r.shard } else { &r.channels };
        map.keys()
            .filter(|c| pattern.is_none_or(|p| crate::cmd::keys::string_match(p, c, false)))
            .cloned()
            .collect()
    })
}

/// How many subscribers this core has on `channel`.
pub fn numsub(shard: bool, channel: &[u8]) -> usize {
    REGISTRY.with(|r| {
        let r = r.borrow();
        let map = if shard { &r.shard } else { &r.channels };
        map.get(channel).map_or(0, Vec::len)
    })
}

/// This core's patterns with at least one subscriber.
pub fn patterns() -> Vec<Vec<u8>> {
    REGISTRY.with(|r| r.borrow().patterns.keys().cloned().collect())
}

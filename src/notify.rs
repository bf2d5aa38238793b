//! Keyspace notifications (`notify-keyspace-events`): `__keyspace@<db>__:<key>` carrying the
//! event name and `__keyevent@<db>__:<event>` carrying the key, published as Redis does.
//!
//! Why a per-core buffer: events happen deep inside command functions and the keyspace (lazy
//! expiry), which must stay synchronous and know nothing about cores. They are recorded in a
//! thread-local list (one per core; a relaxed load of the flags decides, so with notifications
//! off an event site costs one branch) and published when the command, or the active-expiry
//! sweep, finishes: at once to this core's subscribers, and to every other core as a PUBLISH
//! forwarded by a task of its own at the end of the turn. A separate task, because a
//! connection's forwarded commands must stay contiguous in the shared outbox (see `router.rs`).
//! Events from one shard reach each core in the order they happened (one outbox, FIFO
//! envelopes); like PUBLISH, nothing orders events of different shards.

use crate::cmd::ShardCtx;
use crate::shard::Core;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU32, Ordering};

pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 13;
pub const NEW: u32 = 1 << 14;
/// Redis's `A`: every class except key-miss and new-key.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The classes enabled now (CONFIG SET notify-keyspace-events; default none).
static FLAGS: AtomicU32 = AtomicU32::new(0);

/// Redis's text for a bad class character.
pub const INVALID: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// Parses a class string ("KEA", "Kx"…); `None` on a character that names no class.
pub fn parse(classes: &[u8]) -> Option<u32> {
    let mut f = 0;
    for c in classes {
        f |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The class string CONFIG GET shows, in Redis's canonical order.
pub fn format(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

pub fn flags() -> u32 {
    FLAGS.load(Ordering::Relaxed)
}

pub fn set_flags(f: u32) {
    FLAGS.store(f, Ordering::Relaxed);
}

/// Whether an event of `class` would be published (Redis also needs K or E to publish).
#[inline]
pub fn enabled(class: u32) -> bool {
    let f = FLAGS.load(Ordering::Relaxed);
    f & class != 0 && f & (KEYSPACE | KEYEVENT) != 0
}

struct Event {
    event: &'static str,
    db: usize,
    key: Box<[u8]>,
}

/// (channel, message) pairs for the other cores, and whether a task will send them.
type Remote = (Vec<(Vec<u8>, Vec<u8>)>, bool);

thread_local! {
    static PENDING: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    static ANY: Cell<bool> = const { Cell::new(false) };
    static REMOTE: RefCell<Remote> = const { RefCell::new((Vec::new(), false)) };
    static CORE: RefCell<Weak<Core>> = const { RefCell::new(Weak::new()) };
}

/// Records an event of `class` on `key` in `db`, if that class is enabled.
#[inline]
pub fn emit(class: u32, event: &'static str, db: usize, key: &[u8]) {
    if enabled(class) {
        PENDING.with(|p| {
            p.borrow_mut().push(Event {
                event,
                db,
                key: key.into(),
            })
        });
        ANY.with(|a| a.set(true));
    }
}

impl ShardCtx<'_> {
    /// Records a keyspace event on `key` in the command's DB.
    #[inline]
    pub fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        emit(class, event, self.db, key);
    }
}

/// Whether events wait to be published on this core.
#[inline]
pub fn pending() -> bool {
    ANY.with(|a| a.get())
}

/// Lets this core forward events to the others (called once per core when the mesh is up).
pub fn init(core: &Rc<Core>) {
    CORE.with(|c| *c.borrow_mut() = Rc::downgrade(core));
}

/// Publishes the recorded events: this core's subscribers now, the other cores' at the end of
/// the turn.
pub fn flush(nshards: usize) {
    ANY.with(|a| a.set(false));
    let events = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if events.is_empty() {
        return;
    }
    let f = flags();
    let remote = nshards > 1 && crate::pubsub::anyone_subscribed();
    let mut out = Vec::new();
    for e in events {
        let db = e.db.to_string();
        if f & KEYSPACE != 0 {
            let mut ch = Vec::with_capacity(16 + e.key.len());
            ch.extend_from_slice(b"__keyspace@");
            ch.extend_from_slice(db.as_bytes());
            ch.extend_from_slice(b"__:");
            ch.extend_from_slice(&e.key);
            out.push((ch, e.event.as_bytes().to_vec()));
        }
        if f & KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{}", e.event).into_bytes();
            out.push((ch, e.key.into_vec()));
        }
    }
    for (ch, msg) in &out {
        crate::pubsub::publish(false, ch, msg);
    }
    if !remote {
        return;
    }
    let spawn = REMOTE.with(|r| {
        let mut r = r.borrow_mut();
        r.0.extend(out);
        !std::mem::replace(&mut r.1, true)
    });
    if spawn {
        let Some(core) = CORE.with(|c| c.borrow().upgrade()) else {
            REMOTE.with(|r| *r.borrow_mut() = (Vec::new(), false));
            return;
        };
        // glommio polls a new task at once: yield first, so the command (and the connection's
        // batch around it) finishes before anything joins the outbox.
        glommio::spawn_local(async move {
            futures_lite::future::yield_now().await;
            let msgs = REMOTE.with(|r| {
                let mut r = r.borrow_mut();
                r.1 = false;
                std::mem::take(&mut r.0)
            });
            send_remote(&core, msgs);
        })
        .detach();
    }
}

/// Forwards each message as a PUBLISH to every other core (replies are not awaited).
fn send_remote(core: &Rc<Core>, msgs: Vec<(Vec<u8>, Vec<u8>)>) {
    let Some(idx) = crate::cmd::lookup(b"publish") else {
        return;
    };
    let meta = crate::shard::SubMeta {
        cmd: idx as u16,
        db: 0,
        proto: crate::resp::Proto::Resp2,
    };
    let mut batch = crate::resp::CmdBatch::new();
    for (ch, msg) in &msgs {
        for a in [b"PUBLISH".as_slice(), ch, msg] {
            batch.push_arg(a);
        }
        batch.finish_cmd();
    }
    for shard in (0..core.nshards).filter(|&s| s != core.id) {
        for i in 0..batch.len() {
            core.forward(shard, batch.get(i), meta);
        }
        drop(core.await_forwarded(shard));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_trip_as_redis_prints_them() {
        assert_eq!(format(parse(b"KEA").unwrap()), "AKE");
        assert_eq!(format(parse(b"Ex").unwrap()), "xE");
        assert_eq!(format(parse(b"g$lshzxetdKEm").unwrap()), "AKEm");
        // As Redis: with every class, "n" is not shown.
        assert_eq!(format(parse(b"An").unwrap()), "A");
        assert_eq!(format(parse(b"gn").unwrap()), "gn");
        assert_eq!(format(0), "");
        assert_eq!(parse(b"KEw"), None);
        assert_eq!(parse(b""), Some(0));
    }
}

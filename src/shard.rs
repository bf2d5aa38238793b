//! Key ownership and the per-core shard: its keyspace, its peers, and the loop that serves
//! commands forwarded from other cores.

use crate::cmd::{self, Handler, ShardCtx};
use crate::config::Config;
use crate::keyspace::Keyspace;
use crate::resp::{Argv, CmdBatch, Proto, Reply};
use glommio::channels::channel_mesh::{Receivers, Senders};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Redis Cluster's slot count: keys map to slots, slots to shards.
pub const SLOTS: usize = 16384;

/// The owning shard of `key` among `nshards`.
///
/// Why CRC16 slots and not a hasher: ownership must be stable across builds, restarts and machines
/// (snapshots are re-routed with it), and hashtags (`{user1}:a`, `{user1}:b`) let a user co-locate
/// keys exactly as Redis Cluster does.
pub fn shard_of(key: &[u8], nshards: usize) -> usize {
    if nshards <= 1 {
        return 0;
    }
    key_slot(key) * nshards / SLOTS
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
pub fn crc16(data: &[u8]) -> u16 {
    static TABLE: [u16; 256] = crc16_table();
    let mut crc: u16 = 0;
    for &b in data {
        crc = (crc << 8) ^ TABLE[(((crc >> 8) as u8) ^ b) as usize];
    }
    crc
}

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
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
        table[i] = crc;
        i += 1;
    }
    table
}

/// Wall-clock time in unix milliseconds: the `now` every command runs at.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Which command, in which database, one forwarded command runs as.
#[derive(Clone, Copy, Debug)]
pub struct SubMeta {
    /// Index into [`cmd::table`].
    pub cmd: u16,
    pub db: u16,
}

/// Commands one core sends another in one message: all of a connection's commands for that shard
/// from one read batch, so a pipeline costs one hop per shard, not one per command.
pub struct Envelope {
    pub batch: CmdBatch,
    pub meta: Vec<SubMeta>,
    pub proto: Proto,
    pub reply: futures_channel::oneshot::Sender<ReplyBatch>,
}

/// The owner's encoded replies, one per command of the envelope, in order.
#[derive(Default, Debug)]
pub struct ReplyBatch {
    pub buf: Vec<u8>,
    /// End offset in `buf` of each reply.
    pub ends: Vec<u32>,
    /// A command panicked: its connection must be closed.
    pub panicked: bool,
}

impl ReplyBatch {
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.buf[start..self.ends[i] as usize]
    }
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
}

impl Core {
    pub fn new(
        id: usize,
        nshards: usize,
        config: Arc<Config>,
        peers: Option<Senders<Envelope>>,
    ) -> Self {
        Core {
            id,
            nshards,
            ks: RefCell::new(Keyspace::new(config.databases)),
            config,
            port: Cell::new(0),
            peers,
        }
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
        let res = catch_unwind(AssertUnwindSafe(|| {
            let mut ctx = ShardCtx {
                ks: &mut ks,
                db,
                now_ms: now_ms(),
            };
            f(&mut ctx, argv, out)
        }));
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
    pub fn exec_envelope(&self, env: &Envelope) -> ReplyBatch {
        let mut out = Reply::new(env.proto);
        let mut ends = Vec::with_capacity(env.meta.len());
        let mut panicked = false;
        for (i, m) in env.meta.iter().enumerate() {
            panicked |= !self.exec(m.cmd as usize, m.db as usize, env.batch.get(i), &mut out);
            ends.push(out.buf.len() as u32);
        }
        ReplyBatch {
            buf: out.buf,
            ends,
            panicked,
        }
    }
}

/// Serves what other cores forward to this one, one task per peer.
///
/// Never waits on another shard: it only runs commands and completes the sender's oneshot, so no
/// cycle of full queues can form.
pub fn spawn_forward_loops(core: &Rc<Core>, mut receivers: Receivers<Envelope>) {
    for (_peer, rx) in receivers.streams() {
        let core = core.clone();
        glommio::spawn_local(async move {
            while let Some(env) = rx.recv().await {
                let replies = core.exec_envelope(&env);
                let _ = env.reply.send(replies);
            }
        })
        .detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

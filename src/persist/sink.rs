//! The snapshot sink that encodes a shard's entries as one RDB file (Redis 7.0, version 10).

use crate::keyspace::{SnapshotSink, StrRef, Value};
use crate::rdb;

/// AUX field naming the snapshot a shard file belongs to: files of two saves never mix.
pub const AUX_SNAPSHOT: &[u8] = b"redis-lite-snapshot";
/// AUX fields with the shard's index and the shard count at save time.
pub const AUX_SHARD: &[u8] = b"redis-lite-shard";
pub const AUX_SHARDS: &[u8] = b"redis-lite-shards";
/// The Redis version whose RDB format and behaviour we follow (`redis-ver` AUX, INFO).
pub const REDIS_VERSION: &str = "7.0.15";

/// Encodes entries into `out`; the writer takes the bytes between steps.
pub struct RdbSink {
    out: Vec<u8>,
    cur_db: Option<usize>,
    compress: bool,
    entries: u64,
}

impl RdbSink {
    /// A sink whose output starts with the RDB header and AUX fields of shard `shard` of
    /// `nshards` in snapshot `id`.
    pub fn new(id: &str, shard: usize, nshards: usize, compress: bool, used_mem: u64) -> RdbSink {
        let mut out = Vec::with_capacity(1 << 20);
        rdb::write_header(&mut out);
        rdb::write_aux(&mut out, b"redis-ver", REDIS_VERSION.as_bytes());
        rdb::write_aux(&mut out, b"redis-bits", b"64");
        let ctime = (crate::shard::now_ms() / 1000).to_string();
        rdb::write_aux(&mut out, b"ctime", ctime.as_bytes());
        rdb::write_aux(&mut out, b"used-mem", used_mem.to_string().as_bytes());
        rdb::write_aux(&mut out, b"aof-base", b"0");
        rdb::write_aux(
            &mut out,
            b"redis-lite-ver",
            env!("CARGO_PKG_VERSION").as_bytes(),
        );
        rdb::write_aux(&mut out, AUX_SNAPSHOT, id.as_bytes());
        rdb::write_aux(&mut out, AUX_SHARD, shard.to_string().as_bytes());
        rdb::write_aux(&mut out, AUX_SHARDS, nshards.to_string().as_bytes());
        RdbSink {
            out,
            cur_db: None,
            compress,
            entries: 0,
        }
    }
}

impl SnapshotSink for RdbSink {
    fn begin_db(&mut self, db: usize, keys: u64, volatile: u64) {
        rdb::write_select_db(&mut self.out, db as u64);
        rdb::write_resize_db(&mut self.out, keys, volatile);
        self.cur_db = Some(db);
    }

    fn entry(&mut self, db: usize, key: &[u8], val: &Value, expire_ms: Option<i64>) {
        if self.cur_db != Some(db) {
            rdb::write_select_db(&mut self.out, db as u64);
            self.cur_db = Some(db);
        }
        if let Some(ms) = expire_ms {
            rdb::write_expire_ms(&mut self.out, ms);
        }
        match (val.as_str(), val.as_list()) {
            (Some(StrRef::Int(v)), _) => {
                rdb::write_int_record(&mut self.out, key, v, self.compress)
            }
            (Some(StrRef::Bytes(b)), _) => {
                rdb::write_string_record(&mut self.out, key, b, self.compress)
            }
            (None, Some(l)) => rdb::write_list_record(
                &mut self.out,
                key,
                l.len(),
                l.iter().map(|e| e.as_slice()),
                self.compress,
            ),
            (None, None) => {
                if let Some(h) = val.as_hash() {
                    rdb::write_hash_record(
                        &mut self.out,
                        key,
                        h.len(),
                        h.iter().map(|(f, v)| (f.as_slice(), v.as_slice())),
                        self.compress,
                    );
                } else if let Some(set) = val.as_set() {
                    rdb::write_set_record(
                        &mut self.out,
                        key,
                        set.len(),
                        set.iter().map(|m| m.as_slice()),
                        self.compress,
                    );
                } else if let Some(z) = val.as_zset() {
                    rdb::write_zset_record(&mut self.out, key, z.len(), z.iter(), self.compress);
                } else {
                    unreachable!("every value kind is saved");
                }
            }
        }
        self.entries += 1;
    }

    fn output(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    fn entries(&self) -> u64 {
        self.entries
    }
}

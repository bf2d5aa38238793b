//! Redis Cluster key slots (CRC16-XMODEM of the key or its `{hashtag}`, mod 16384) and
//! redis-lite's slot → shard mapping (contiguous ranges: with 2 shards, slots 0..8191 are shard 0
//! and 8192..16383 shard 1). Computed here, not taken from redis-lite, so the tool checks the
//! server rather than itself.

pub const SLOTS: usize = 16384;

/// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
pub fn crc16(data: &[u8]) -> u16 {
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

/// Redis Cluster's `keyHashSlot`: the first non-empty `{...}` section is hashed if there is one.
pub fn key_slot(key: &[u8]) -> usize {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        },
        None => key,
    };
    crc16(hashed) as usize % SLOTS
}

/// redis-lite's owning shard of a slot among `shards`.
pub fn shard_of_slot(slot: usize, shards: usize) -> usize {
    if shards <= 1 {
        0
    } else {
        slot * shards / SLOTS
    }
}

/// The first of `prefix`, `prefix1`, `prefix2`, ... (up to 100000) whose slot is on `shard` of
/// `shards`.
pub fn key_on_shard(prefix: &str, shard: usize, shards: usize) -> Option<String> {
    (0..100_000u32)
        .map(|i| {
            if i == 0 {
                prefix.to_string()
            } else {
                format!("{prefix}{i}")
            }
        })
        .find(|k| shard_of_slot(key_slot(k.as_bytes()), shards) == shard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_vectors() {
        // The CRC16 check value and `CLUSTER KEYSLOT` answers of Redis Cluster.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"a"), 15495);
        assert_eq!(key_slot(b"b"), 3300);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        // An empty first {} section: the whole key is hashed.
        assert_eq!(
            key_slot(b"foo{}{bar}"),
            crc16(b"foo{}{bar}") as usize % SLOTS
        );
        assert_eq!(key_slot(b"{t}a"), key_slot(b"{t}b"));
    }

    #[test]
    fn shards_split_slots_in_ranges() {
        assert_eq!(shard_of_slot(8191, 2), 0);
        assert_eq!(shard_of_slot(8192, 2), 1);
        assert_eq!(shard_of_slot(16383, 1), 0);
        assert_eq!(key_on_shard("a", 1, 2).as_deref(), Some("a"));
        assert_eq!(key_on_shard("b", 0, 2).as_deref(), Some("b"));
    }
}

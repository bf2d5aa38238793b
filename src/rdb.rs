//! Redis RDB files, format version 10 (what Redis 7.0 writes): an encoder for our snapshots and
//! a decoder for our own files and for a `dump.rdb` written by Redis itself.
//!
//! File layout:
//!
//! ```text
//! "REDIS0010"  { AUX key val | SELECTDB n | RESIZEDB keys expires
//!              | [EXPIRETIME_MS t] [IDLE n] [FREQ b] type key value }*  EOF  crc64 (8 bytes LE)
//! ```
//!
//! Only strings and lists are modelled (the value kinds redis-lite has). The reader accepts every
//! list encoding Redis has ever saved (plain, ziplist, quicklist of ziplists, quicklist of
//! listpacks / plain nodes) and rejects other value types with an error naming the key.
//!
//! The writer appends straight into the caller's buffer (no per-record allocation: scratch space
//! for listpacks and the LZF hash table is kept per thread). The reader works on the whole file
//! in memory and borrows strings from it wherever they are stored uncompressed.
//!
//! Nothing here trusts a length field: every length is checked against the bytes that remain
//! before anything is read or allocated, so a corrupt or hostile file gives an [`RdbError`]
//! carrying the file offset, never a panic.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use crc::{Crc, Table, CRC_64_REDIS};

/// The format version this module writes ("REDIS0010").
pub const RDB_VERSION: u32 = 10;
/// Oldest and newest versions the reader accepts (11 is Redis 7.2; its string and list
/// encodings are the same as 10's).
pub const RDB_MIN_READ_VERSION: u32 = 1;
pub const RDB_MAX_READ_VERSION: u32 = 11;

// Opcodes: a byte in the place of a value type that means something else.
pub const RDB_OPCODE_FUNCTION2: u8 = 0xF5;
pub const RDB_OPCODE_FUNCTION: u8 = 0xF6;
pub const RDB_OPCODE_MODULE_AUX: u8 = 0xF7;
pub const RDB_OPCODE_IDLE: u8 = 0xF8;
pub const RDB_OPCODE_FREQ: u8 = 0xF9;
pub const RDB_OPCODE_AUX: u8 = 0xFA;
pub const RDB_OPCODE_RESIZEDB: u8 = 0xFB;
pub const RDB_OPCODE_EXPIRETIME_MS: u8 = 0xFC;
pub const RDB_OPCODE_EXPIRETIME: u8 = 0xFD;
pub const RDB_OPCODE_SELECTDB: u8 = 0xFE;
pub const RDB_OPCODE_EOF: u8 = 0xFF;

// Value types.
pub const RDB_TYPE_STRING: u8 = 0;
pub const RDB_TYPE_LIST: u8 = 1;
pub const RDB_TYPE_SET: u8 = 2;
pub const RDB_TYPE_ZSET: u8 = 3;
pub const RDB_TYPE_HASH: u8 = 4;
pub const RDB_TYPE_ZSET_2: u8 = 5;
pub const RDB_TYPE_MODULE: u8 = 6;
pub const RDB_TYPE_MODULE_2: u8 = 7;
pub const RDB_TYPE_HASH_ZIPMAP: u8 = 9;
pub const RDB_TYPE_LIST_ZIPLIST: u8 = 10;
pub const RDB_TYPE_SET_INTSET: u8 = 11;
pub const RDB_TYPE_ZSET_ZIPLIST: u8 = 12;
pub const RDB_TYPE_HASH_ZIPLIST: u8 = 13;
pub const RDB_TYPE_LIST_QUICKLIST: u8 = 14;
pub const RDB_TYPE_STREAM_LISTPACKS: u8 = 15;
pub const RDB_TYPE_HASH_LISTPACK: u8 = 16;
pub const RDB_TYPE_ZSET_LISTPACK: u8 = 17;
pub const RDB_TYPE_LIST_QUICKLIST_2: u8 = 18;
pub const RDB_TYPE_STREAM_LISTPACKS_2: u8 = 19;
/// Redis 7.2 (RDB 11) only.
pub const RDB_TYPE_SET_LISTPACK: u8 = 20;
/// Redis 7.2 (RDB 11) only.
pub const RDB_TYPE_STREAM_LISTPACKS_3: u8 = 21;

/// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2): one raw element, or a listpack.
pub const QUICKLIST_NODE_CONTAINER_PLAIN: u64 = 1;
pub const QUICKLIST_NODE_CONTAINER_PACKED: u64 = 2;

/// `list-max-listpack-size -2` (Redis's default): a node's listpack stays within 8 KiB.
pub const LIST_NODE_MAX_BYTES: usize = 8192;
/// Redis's per-entry overestimate when deciding whether an element still fits a node.
const LIST_NODE_ENTRY_OVERHEAD: usize = 8;
/// Elements at least this big get a PLAIN node of their own (Redis's `packed_threshold`).
pub const LIST_PLAIN_THRESHOLD: usize = 1 << 30;

/// Special string encodings (the low 6 bits after a `11` length prefix).
const RDB_ENC_INT8: u8 = 0;
const RDB_ENC_INT16: u8 = 1;
const RDB_ENC_INT32: u8 = 2;
const RDB_ENC_LZF: u8 = 3;

/// Largest uncompressed size an LZF string may claim; Redis's own strings stop at 512 MiB.
const LZF_MAX_EXPANDED: usize = 1 << 30;
/// LZF cannot expand more than ~90x (a 3-byte back reference yields at most 264 bytes), so a
/// claim beyond this ratio is corruption, not data.
const LZF_MAX_RATIO: usize = 1000;

/// Redis's CRC-64 ("Jones" polynomial, reflected, init 0, no final xor), slice-by-16 tables.
static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// Redis's CRC-64 of `data`, continuing from `crc` (0 to start): `crc64(crc64(0, a), b)` equals
/// `crc64(0, a ++ b)`, so a file written in chunks is checksummed chunk by chunk.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    // The crate reflects a custom initial value for reflected algorithms; pre-reflect it so the
    // running register is exactly `crc` (xorout is 0, so the finished value is the register).
    let mut d = CRC64.digest_with_initial(crc.reverse_bits());
    d.update(data);
    d.finalize()
}

// ---------------------------------------------------------------------------------------------
// LZF (the format of liblzf, which Redis uses for compressed strings)
//
//   000LLLLL <L+1 bytes>          literal run of 1..=32 bytes
//   LLLooooo oooooooo             back reference: copy L+2 (3..=8) bytes from o+1 bytes back
//   111ooooo LLLLLLLL oooooooo    back reference: copy L+9 (9..=264) bytes from o+1 bytes back
// ---------------------------------------------------------------------------------------------

const LZF_MAX_LIT: usize = 32;
const LZF_MAX_OFF: usize = 1 << 13;
const LZF_MAX_REF: usize = 264;
const LZF_MAX_HASH_BITS: u32 = 16;
const LZF_MIN_HASH_BITS: u32 = 8;

thread_local! {
    /// Hash table of the compressor (input position + 1 per 3-byte hash, 0 = empty); kept per
    /// thread so compressing a million small strings allocates nothing.
    static LZF_TABLE: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    /// Scratch listpack of `write_list_record`.
    static LISTPACK_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// LZF-compresses `input`, appending to `out`. Returns the compressed size, or `None` (with
/// `out` unchanged) when the result would not be smaller than the input — Redis then stores the
/// string raw.
pub fn lzf_compress(input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    lzf_compress_bounded(input, out, input.len().saturating_sub(1))
}

/// [`lzf_compress`] giving up as soon as the output would exceed `max_out` bytes.
fn lzf_compress_bounded(input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Option<usize> {
    let n = input.len();
    // Positions are stored as u32 in the hash table.
    if n == 0 || max_out == 0 || n >= u32::MAX as usize {
        return None;
    }
    let start = out.len();
    out.reserve(max_out.min(n + n / LZF_MAX_LIT + 1));
    let limit = start + max_out;
    let done = LZF_TABLE.with(|t| match t.try_borrow_mut() {
        Ok(mut t) => lzf_compress_core(input, out, limit, &mut t),
        Err(_) => lzf_compress_core(input, out, limit, &mut Vec::new()),
    });
    if done {
        Some(out.len() - start)
    } else {
        out.truncate(start);
        None
    }
}

/// Hashes the 3 bytes at `p` into `bits` bits.
#[inline(always)]
fn lzf_hash(input: &[u8], p: usize, bits: u32) -> usize {
    let v = (u32::from(input[p]) << 16) | (u32::from(input[p + 1]) << 8) | u32::from(input[p + 2]);
    (v.wrapping_mul(0x9E37_79B1) >> (32 - bits)) as usize
}

/// Appends literal runs of at most 32 bytes; false if that would pass `limit`.
#[inline]
fn lzf_emit_literals(out: &mut Vec<u8>, lits: &[u8], limit: usize) -> bool {
    if lits.is_empty() {
        return true;
    }
    let runs = lits.len().div_ceil(LZF_MAX_LIT);
    if out.len() + runs + lits.len() > limit {
        return false;
    }
    for chunk in lits.chunks(LZF_MAX_LIT) {
        out.push((chunk.len() - 1) as u8);
        out.extend_from_slice(chunk);
    }
    true
}

fn lzf_compress_core(input: &[u8], out: &mut Vec<u8>, limit: usize, table: &mut Vec<u32>) -> bool {
    let n = input.len();
    // A table sized to the input: clearing it costs about as much as reading the input.
    let bits = (usize::BITS - (n - 1).leading_zeros()).clamp(LZF_MIN_HASH_BITS, LZF_MAX_HASH_BITS);
    let size = 1usize << bits;
    if table.len() < size {
        table.resize(size, 0);
    }
    let table = &mut table[..size];
    table.fill(0);

    let mut ip = 0usize;
    let mut lit = 0usize; // start of the pending literal run
    while ip + 2 < n {
        let h = lzf_hash(input, ip, bits);
        let cand = table[h] as usize;
        table[h] = (ip + 1) as u32;
        if cand != 0 {
            let r = cand - 1; // always < ip: the table only holds earlier positions of this input
            let off = ip - r - 1;
            if off < LZF_MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                let maxlen = (n - ip).min(LZF_MAX_REF);
                let mut len = 3;
                while len < maxlen && input[r + len] == input[ip + len] {
                    len += 1;
                }
                if !lzf_emit_literals(out, &input[lit..ip], limit) || out.len() + 3 > limit {
                    return false;
                }
                let l = len - 2;
                if l < 7 {
                    out.push(((l << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((l - 7) as u8);
                }
                out.push(off as u8);
                let next = ip + len;
                // Index the last positions of the match so the next one can start there.
                for q in (next - 2).max(ip + 1)..next {
                    if q + 2 < n {
                        table[lzf_hash(input, q, bits)] = (q + 1) as u32;
                    }
                }
                ip = next;
                lit = ip;
                continue;
            }
        }
        ip += 1;
        // Incompressible so far and already over budget: stop early.
        let pending = ip - lit;
        if out.len() + pending + pending.div_ceil(LZF_MAX_LIT) > limit {
            return false;
        }
    }
    lzf_emit_literals(out, &input[lit..], limit)
}

/// Decompresses LZF `input`, which must expand to exactly `expected_len` bytes, appending them
/// to `out`. Safe on any input: the output never grows past `expected_len`, back references
/// are checked against what was produced, and implausible sizes (over 1 GiB, or over 1000x the
/// compressed size) are refused before anything is allocated. On error `out` is unchanged.
pub fn lzf_decompress(input: &[u8], expected_len: usize, out: &mut Vec<u8>) -> Result<(), String> {
    if expected_len > LZF_MAX_EXPANDED {
        return Err(format!(
            "LZF data claims {expected_len} bytes uncompressed (the limit is {LZF_MAX_EXPANDED})"
        ));
    }
    if expected_len > input.len().saturating_mul(LZF_MAX_RATIO) {
        return Err(format!(
            "LZF data claims {expected_len} bytes uncompressed from only {} compressed bytes",
            input.len()
        ));
    }
    let base = out.len();
    out.reserve(expected_len);
    let end = base + expected_len;
    let res = lzf_decompress_core(input, base, end, out);
    if res.is_err() {
        out.truncate(base);
    }
    res
}

fn lzf_decompress_core(
    input: &[u8],
    base: usize,
    end: usize,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            if input.len() - ip < run {
                return Err(format!(
                    "LZF literal run of {run} bytes at byte {} passes the end of the input",
                    ip - 1
                ));
            }
            if end - out.len() < run {
                return Err(format!(
                    "LZF data expands past the expected {} bytes",
                    end - base
                ));
            }
            out.extend_from_slice(&input[ip..ip + run]);
            ip += run;
        } else {
            let at = ip - 1;
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&b) = input.get(ip) else {
                    return Err(format!("LZF back reference at byte {at} is cut short"));
                };
                len += b as usize;
                ip += 1;
            }
            let Some(&lo) = input.get(ip) else {
                return Err(format!("LZF back reference at byte {at} is cut short"));
            };
            ip += 1;
            let off = (((ctrl & 0x1F) << 8) | lo as usize) + 1;
            let len = len + 2;
            if end - out.len() < len {
                return Err(format!(
                    "LZF data expands past the expected {} bytes",
                    end - base
                ));
            }
            if off > out.len() - base {
                return Err(format!(
                    "LZF back reference at byte {at} points {off} bytes back, before the start"
                ));
            }
            // Copy in steps of at most `off` bytes, so overlapping references repeat the pattern.
            let mut left = len;
            while left > 0 {
                let from = out.len() - off;
                let step = left.min(off);
                out.extend_from_within(from..from + step);
                left -= step;
            }
        }
    }
    if out.len() != end {
        return Err(format!(
            "LZF data expands to {} bytes, expected {}",
            out.len() - base,
            end - base
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Integers as Redis recognises them
// ---------------------------------------------------------------------------------------------

/// Redis's `string2ll`: `s` as an i64 only if it is the canonical decimal form (no sign but a
/// leading '-', no leading zeros, no spaces, fits i64), so that formatting the number gives back
/// exactly `s`. Redis stores such strings as integers in RDB strings and listpacks.
pub fn parse_canonical_i64(s: &[u8]) -> Option<i64> {
    // 20 chars is the longest i64 ("-9223372036854775808"); Redis rejects 21 and up.
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

fn int_text(v: i64) -> Vec<u8> {
    itoa::Buffer::new().format(v).as_bytes().to_vec()
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Appends the file header, "REDIS0010".
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(b"REDIS0010");
}

/// Appends an AUX field (metadata Redis logs or ignores; readers must skip unknown ones).
pub fn write_aux(out: &mut Vec<u8>, key: &[u8], val: &[u8]) {
    out.push(RDB_OPCODE_AUX);
    write_string(out, key, false);
    write_string(out, val, false);
}

/// Appends SELECTDB: the keys that follow belong to database `db`.
pub fn write_select_db(out: &mut Vec<u8>, db: u64) {
    out.push(RDB_OPCODE_SELECTDB);
    write_len(out, db);
}

/// Appends RESIZEDB: sizing hints for the current database (keys, keys with a TTL).
pub fn write_resize_db(out: &mut Vec<u8>, db_size: u64, expires_size: u64) {
    out.push(RDB_OPCODE_RESIZEDB);
    write_len(out, db_size);
    write_len(out, expires_size);
}

/// Appends EXPIRETIME_MS: the next key expires at `unix_ms` (ms since the epoch).
pub fn write_expire_ms(out: &mut Vec<u8>, unix_ms: i64) {
    out.push(RDB_OPCODE_EXPIRETIME_MS);
    out.extend_from_slice(&unix_ms.to_le_bytes());
}

/// Encodes `len` in RDB length encoding into `buf`, returning the byte count (1, 2, 5 or 9).
fn encode_len(buf: &mut [u8; 9], len: u64) -> usize {
    if len < 1 << 6 {
        buf[0] = len as u8;
        1
    } else if len < 1 << 14 {
        buf[0] = 0x40 | (len >> 8) as u8;
        buf[1] = len as u8;
        2
    } else if len <= u64::from(u32::MAX) {
        buf[0] = 0x80;
        buf[1..5].copy_from_slice(&(len as u32).to_be_bytes());
        5
    } else {
        buf[0] = 0x81;
        buf[1..9].copy_from_slice(&len.to_be_bytes());
        9
    }
}

/// Appends `len` in RDB length encoding: `00xxxxxx` (< 64), `01xxxxxx xxxxxxxx` (< 16384),
/// `0x80` + 32-bit big-endian, or `0x81` + 64-bit big-endian.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    let mut buf = [0u8; 9];
    let n = encode_len(&mut buf, len);
    out.extend_from_slice(&buf[..n]);
}

/// Appends `v` as an RDB integer-encoded string if it fits 32 bits (smallest of 8/16/32).
fn write_enc_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[0xC0 | RDB_ENC_INT8, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(0xC0 | RDB_ENC_INT16);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(0xC0 | RDB_ENC_INT32);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// An RDB string as Redis's rdbSaveRawString writes it: integer encoding (8/16/32-bit) when the
/// bytes are a canonical integer that fits (len <= 11), else LZF when `compress` and len > 20
/// and it saves at least 4 bytes, else raw (length + bytes).
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = parse_canonical_i64(s) {
            if write_enc_int(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        let start = out.len();
        if let Some(clen) = lzf_compress_bounded(s, out, s.len() - 4) {
            // Header goes before the data just written: append it, then rotate it into place.
            let mut hdr = [0u8; 19];
            hdr[0] = 0xC0 | RDB_ENC_LZF;
            let mut buf = [0u8; 9];
            let a = encode_len(&mut buf, clen as u64);
            hdr[1..1 + a].copy_from_slice(&buf[..a]);
            let b = encode_len(&mut buf, s.len() as u64);
            hdr[1 + a..1 + a + b].copy_from_slice(&buf[..b]);
            let h = 1 + a + b;
            out.extend_from_slice(&hdr[..h]);
            out[start..].rotate_right(h);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends an integer-valued string: integer encoding if it fits 32 bits, else its decimal
/// text (as Redis saves an int-encoded string object).
pub fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !write_enc_int(out, v) {
        let mut b = itoa::Buffer::new();
        let t = b.format(v).as_bytes();
        write_len(out, t.len() as u64);
        out.extend_from_slice(t);
    }
}

/// Appends a string key/value record. Write [`write_expire_ms`] first when the key has a TTL.
pub fn write_string_record(out: &mut Vec<u8>, key: &[u8], val: &[u8], compress: bool) {
    out.push(RDB_TYPE_STRING);
    write_string(out, key, compress);
    write_string(out, val, compress);
}

/// Appends a string record whose value is the integer `v`.
pub fn write_int_record(out: &mut Vec<u8>, key: &[u8], v: i64, compress: bool) {
    out.push(RDB_TYPE_STRING);
    write_string(out, key, compress);
    write_int_string(out, v);
}

/// Listpack header: total bytes (u32 LE) + element count (u16 LE).
const LP_HDR_SIZE: usize = 6;
const LP_EOF: u8 = 0xFF;
/// Element count meaning "count them" (Redis stores it when the count does not fit).
const LP_COUNT_UNKNOWN: u16 = u16::MAX;

/// Bytes of the back-length field that follows an entry of `l` bytes (Redis's lpEncodeBacklen:
/// note 16383 takes 3 bytes there, and readers skip by this same rule).
fn lp_backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// Appends one listpack entry the way lpAppend encodes it: canonical integers in the smallest
/// integer encoding, other bytes as a string with a 6/12/32-bit length, then the back length.
fn lp_append(lp: &mut Vec<u8>, s: &[u8]) {
    let start = lp.len();
    if let Some(v) = parse_canonical_i64(s) {
        if (0..=127).contains(&v) {
            lp.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1FFF;
            lp.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if let Ok(h) = i16::try_from(v) {
            lp.push(0xF1);
            lp.extend_from_slice(&h.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            lp.push(0xF2);
            lp.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
        } else if let Ok(w) = i32::try_from(v) {
            lp.push(0xF3);
            lp.extend_from_slice(&w.to_le_bytes());
        } else {
            lp.push(0xF4);
            lp.extend_from_slice(&v.to_le_bytes());
        }
    } else {
        let n = s.len();
        if n < 64 {
            lp.push(0x80 | n as u8);
        } else if n < 4096 {
            lp.extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            lp.push(0xF0);
            lp.extend_from_slice(&(n as u32).to_le_bytes());
        }
        lp.extend_from_slice(s);
    }
    let l = lp.len() - start;
    match lp_backlen_size(l) {
        1 => lp.push(l as u8),
        2 => lp.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]),
        3 => lp.extend_from_slice(&[
            (l >> 14) as u8,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
        4 => lp.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
        _ => lp.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
    }
}

/// Starts an empty listpack (header placeholder) in `lp`.
fn lp_begin(lp: &mut Vec<u8>) {
    lp.clear();
    lp.extend_from_slice(&[0; LP_HDR_SIZE]);
}

/// Terminates the listpack in `lp` and fills in its header.
fn lp_finish(lp: &mut Vec<u8>, count: usize) {
    lp.push(LP_EOF);
    let total = lp.len() as u32;
    lp[0..4].copy_from_slice(&total.to_le_bytes());
    let count = u16::try_from(count).unwrap_or(LP_COUNT_UNKNOWN);
    lp[4..6].copy_from_slice(&count.to_le_bytes());
}

/// Appends a list record as Redis 7.0 saves a list: RDB_TYPE_LIST_QUICKLIST_2, then the node
/// count, then per node its container and blob. Nodes are PACKED listpacks split as
/// `list-max-listpack-size -2` splits them on RPUSH (an element joins the current node while
/// node bytes + element length + 8 <= 8 KiB; a bigger element thus gets a node of its own);
/// only elements of 1 GiB or more get a PLAIN node. Blobs go through [`write_string`], so
/// `compress` LZF-compresses nodes as Redis's `rdbcompression yes` does. `len` is the number of
/// items (a hint; the items themselves are what is written). An empty list yields a record
/// with no nodes, which Redis skips on load.
pub fn write_list_record<'a>(
    out: &mut Vec<u8>,
    key: &[u8],
    len: usize,
    items: impl Iterator<Item = &'a [u8]>,
    compress: bool,
) {
    let _ = len;
    out.push(RDB_TYPE_LIST_QUICKLIST_2);
    write_string(out, key, compress);
    // Node count goes first but is known only at the end: one placeholder byte (enough for
    // < 64 nodes, i.e. lists up to ~500 KB), widened afterwards if needed.
    let count_pos = out.len();
    out.push(0);
    let nodes = LISTPACK_SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut lp) => {
            let n = write_list_nodes(out, items, compress, &mut lp);
            // Don't keep a huge buffer around after one big element.
            if lp.capacity() > 1 << 20 {
                *lp = Vec::new();
            }
            n
        }
        Err(_) => write_list_nodes(out, items, compress, &mut Vec::new()),
    });
    let mut buf = [0u8; 9];
    let n = encode_len(&mut buf, nodes);
    out[count_pos] = buf[0];
    if n > 1 {
        out.extend_from_slice(&buf[1..n]);
        out[count_pos + 1..].rotate_right(n - 1);
    }
}

/// Writes the nodes of a list record; returns how many.
fn write_list_nodes<'a>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = &'a [u8]>,
    compress: bool,
    lp: &mut Vec<u8>,
) -> u64 {
    let mut nodes = 0u64;
    let mut count = 0usize; // entries in the open node, 0 = no open node
    let flush = |out: &mut Vec<u8>, lp: &mut Vec<u8>, count: usize| {
        lp_finish(lp, count);
        write_len(out, QUICKLIST_NODE_CONTAINER_PACKED);
        write_string(out, lp, compress);
    };
    for item in items {
        if item.len() >= LIST_PLAIN_THRESHOLD {
            if count > 0 {
                flush(out, lp, count);
                nodes += 1;
                count = 0;
            }
            write_len(out, QUICKLIST_NODE_CONTAINER_PLAIN);
            write_string(out, item, compress);
            nodes += 1;
            continue;
        }
        // Open node's listpack size so far: header + entries + terminator.
        let node_bytes = lp.len() + 1;
        if count > 0 && node_bytes + item.len() + LIST_NODE_ENTRY_OVERHEAD > LIST_NODE_MAX_BYTES {
            flush(out, lp, count);
            nodes += 1;
            count = 0;
        }
        if count == 0 {
            lp_begin(lp);
        }
        lp_append(lp, item);
        count += 1;
    }
    if count > 0 {
        flush(out, lp, count);
        nodes += 1;
    }
    nodes
}

/// Appends the EOF opcode. The caller then appends the 8-byte little-endian CRC-64 of
/// everything before it, EOF byte included.
pub fn write_eof(out: &mut Vec<u8>) {
    out.push(RDB_OPCODE_EOF);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// A problem in an RDB file: where (byte offset in the file) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    pub offset: u64,
    pub msg: String,
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.msg)
    }
}

impl std::error::Error for RdbError {}

/// A key's value. Strings stored integer-encoded come back as `Int` (Redis keeps them as
/// integers too); list elements always come back as bytes (integers as their decimal text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbValue<'a> {
    Str(Cow<'a, [u8]>),
    Int(i64),
    List(Vec<Cow<'a, [u8]>>),
}

/// One item of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    Aux {
        key: Cow<'a, [u8]>,
        val: Cow<'a, [u8]>,
    },
    SelectDb(u64),
    ResizeDb {
        db_size: u64,
        expires_size: u64,
    },
    /// A key of database `db` (the last SELECTDB, 0 before any). A list may be empty (Redis
    /// skips such keys on load); the caller decides.
    Key {
        db: u64,
        key: Cow<'a, [u8]>,
        expire_ms: Option<i64>,
        value: RdbValue<'a>,
    },
}

/// Walks the records of an RDB file held in memory.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    version: u32,
    db: u64,
    state: ReaderState,
}

enum ReaderState {
    Reading,
    Done,
    Failed(RdbError),
}

/// A string as stored: bytes in the file, an integer, or decompressed bytes.
enum RawStr<'a> {
    Borrowed(&'a [u8]),
    Int(i64),
    Owned(Vec<u8>),
}

impl<'a> RawStr<'a> {
    fn into_cow(self) -> Cow<'a, [u8]> {
        match self {
            RawStr::Borrowed(b) => Cow::Borrowed(b),
            RawStr::Int(v) => Cow::Owned(int_text(v)),
            RawStr::Owned(v) => Cow::Owned(v),
        }
    }
}

enum LenOrEnc {
    Len(u64),
    Enc(u8),
}

/// An element of a ziplist or listpack.
enum PackedItem<'b> {
    Str(&'b [u8]),
    Int(i64),
}

/// An error inside a blob: offset within the blob, message.
type BlobError = (usize, String);

/// The logical type an RDB value type stores, for "unsupported" errors.
fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        RDB_TYPE_SET | RDB_TYPE_SET_INTSET | RDB_TYPE_SET_LISTPACK => "set",
        RDB_TYPE_ZSET | RDB_TYPE_ZSET_2 | RDB_TYPE_ZSET_ZIPLIST | RDB_TYPE_ZSET_LISTPACK => "zset",
        RDB_TYPE_HASH | RDB_TYPE_HASH_ZIPMAP | RDB_TYPE_HASH_ZIPLIST | RDB_TYPE_HASH_LISTPACK => {
            "hash"
        }
        RDB_TYPE_MODULE | RDB_TYPE_MODULE_2 => "module",
        RDB_TYPE_STREAM_LISTPACKS | RDB_TYPE_STREAM_LISTPACKS_2 | RDB_TYPE_STREAM_LISTPACKS_3 => {
            "stream"
        }
        _ => return None,
    })
}

/// A key quoted for messages: printable ASCII as is, the rest escaped, long keys cut.
fn quote_key(k: &[u8]) -> String {
    const MAX: usize = 100;
    let mut s = String::with_capacity(k.len().min(MAX) + 2);
    s.push('"');
    for &c in &k[..k.len().min(MAX)] {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7E => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    if k.len() > MAX {
        s.push_str(&format!("... ({} bytes)", k.len()));
    }
    s
}

fn u16_le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Calls `f` with each element of a ziplist (the list encoding of Redis 3.2–6.2), after
/// checking its structure: header size, terminator, entries within bounds, prevlen fields,
/// tail offset, element count.
fn walk_ziplist<'b>(zl: &'b [u8], mut f: impl FnMut(PackedItem<'b>)) -> Result<(), BlobError> {
    const HDR: usize = 10;
    let n = zl.len();
    if n < HDR + 1 {
        return Err((
            0,
            format!("ziplist of {n} bytes is shorter than the 11-byte minimum"),
        ));
    }
    let zlbytes = u32_le(zl, 0) as usize;
    if zlbytes != n {
        return Err((
            0,
            format!("ziplist header says {zlbytes} bytes but the blob has {n}"),
        ));
    }
    let tail = u32_le(zl, 4) as usize;
    let declared = u16_le(zl, 8);
    let end = n - 1;
    if zl[end] != 0xFF {
        return Err((end, "ziplist does not end with its 0xFF terminator".into()));
    }
    if tail > end {
        return Err((
            4,
            format!("ziplist tail offset {tail} is past the end ({n} bytes)"),
        ));
    }
    let mut p = HDR;
    let mut prev_size = 0usize;
    let mut last = None;
    let mut count = 0usize;
    while p < end && zl[p] != 0xFF {
        let past = || {
            (
                p,
                "ziplist entry runs past the end of the ziplist".to_string(),
            )
        };
        let (prevlen, pls) = if zl[p] < 254 {
            (zl[p] as usize, 1)
        } else {
            if end - p < 5 {
                return Err(past());
            }
            (u32_le(zl, p + 1) as usize, 5)
        };
        if prevlen != prev_size {
            return Err((
                p,
                format!(
                    "ziplist entry says the previous entry has {prevlen} bytes, it has {prev_size}"
                ),
            ));
        }
        let q = p + pls;
        if q >= end {
            return Err(past());
        }
        let enc = zl[q];
        let (lensize, datalen, is_str) = match enc >> 6 {
            0 => (1, (enc & 0x3F) as usize, true),
            1 => {
                if end - q < 2 {
                    return Err(past());
                }
                (2, (((enc & 0x3F) as usize) << 8) | zl[q + 1] as usize, true)
            }
            2 => {
                if end - q < 5 {
                    return Err(past());
                }
                let l = u32::from_be_bytes([zl[q + 1], zl[q + 2], zl[q + 3], zl[q + 4]]);
                (5, l as usize, true)
            }
            _ => match enc {
                0xC0 => (1, 2, false),
                0xD0 => (1, 4, false),
                0xE0 => (1, 8, false),
                0xF0 => (1, 3, false),
                0xFE => (1, 1, false),
                0xF1..=0xFD => (1, 0, false),
                _ => {
                    return Err((q, format!("invalid ziplist entry encoding 0x{enc:02x}")));
                }
            },
        };
        let data = q + lensize;
        if data > end || end - data < datalen {
            return Err(past());
        }
        let d = &zl[data..data + datalen];
        if is_str {
            f(PackedItem::Str(d));
        } else {
            let v = match enc {
                0xC0 => i64::from(i16::from_le_bytes([d[0], d[1]])),
                0xD0 => i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]])),
                0xE0 => i64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]),
                // 24-bit: put the bytes in the top of an i32 and shift back to sign-extend.
                0xF0 => i64::from(i32::from_le_bytes([0, d[0], d[1], d[2]]) >> 8),
                0xFE => i64::from(d[0] as i8),
                _ => i64::from(enc & 0x0F) - 1,
            };
            f(PackedItem::Int(v));
        }
        last = Some(p);
        prev_size = data + datalen - p;
        p = data + datalen;
        count += 1;
    }
    if p != end {
        return Err((
            p,
            format!("ziplist terminator at byte {p}, before the end ({n} bytes)"),
        ));
    }
    if let Some(last) = last {
        if last != tail {
            return Err((
                4,
                format!("ziplist tail offset {tail} but the last entry is at {last}"),
            ));
        }
    }
    if declared != u16::MAX && usize::from(declared) != count {
        return Err((
            8,
            format!("ziplist header says {declared} entries but it has {count}"),
        ));
    }
    Ok(())
}

/// Calls `f` with each element of a listpack (the list node encoding of Redis 7), after
/// checking its structure: header size, terminator, encodings, entries within bounds,
/// element count. Back-length fields are skipped, not checked (Redis does not read them
/// when loading either).
fn walk_listpack<'b>(lp: &'b [u8], mut f: impl FnMut(PackedItem<'b>)) -> Result<(), BlobError> {
    let n = lp.len();
    if n < LP_HDR_SIZE + 1 {
        return Err((
            0,
            format!("listpack of {n} bytes is shorter than the 7-byte minimum"),
        ));
    }
    let total = u32_le(lp, 0) as usize;
    if total != n {
        return Err((
            0,
            format!("listpack header says {total} bytes but the blob has {n}"),
        ));
    }
    let declared = u16_le(lp, 4);
    let end = n - 1;
    if lp[end] != LP_EOF {
        return Err((end, "listpack does not end with its 0xFF terminator".into()));
    }
    let mut p = LP_HDR_SIZE;
    let mut count = 0usize;
    while p < end {
        let past = || {
            (
                p,
                "listpack entry runs past the end of the listpack".to_string(),
            )
        };
        let b = lp[p];
        let avail = end - p;
        // (header bytes, data bytes, is a string)
        let (hdr, datalen, is_str) = if b & 0x80 == 0 {
            (1, 0, false)
        } else if b & 0xC0 == 0x80 {
            (1, (b & 0x3F) as usize, true)
        } else if b & 0xE0 == 0xC0 {
            (1, 1, false)
        } else if b & 0xF0 == 0xE0 {
            if avail < 2 {
                return Err(past());
            }
            (2, (((b & 0x0F) as usize) << 8) | lp[p + 1] as usize, true)
        } else {
            match b {
                0xF0 => {
                    if avail < 5 {
                        return Err(past());
                    }
                    (5, u32_le(lp, p + 1) as usize, true)
                }
                0xF1 => (1, 2, false),
                0xF2 => (1, 3, false),
                0xF3 => (1, 4, false),
                0xF4 => (1, 8, false),
                LP_EOF => {
                    return Err((
                        p,
                        format!("listpack terminator at byte {p}, before the end ({n} bytes)"),
                    ));
                }
                _ => return Err((p, format!("invalid listpack entry encoding 0x{b:02x}"))),
            }
        };
        let entry = hdr + datalen;
        let whole = entry + lp_backlen_size(entry);
        if whole > avail {
            return Err(past());
        }
        let d = &lp[p + hdr..p + entry];
        if is_str {
            f(PackedItem::Str(d));
        } else {
            let v = match b {
                0xF1 => i64::from(i16::from_le_bytes([d[0], d[1]])),
                0xF2 => i64::from(i32::from_le_bytes([0, d[0], d[1], d[2]]) >> 8),
                0xF3 => i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]])),
                0xF4 => i64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]),
                _ if b & 0x80 == 0 => i64::from(b),
                _ => {
                    // 13-bit two's complement.
                    let u = ((i64::from(b) & 0x1F) << 8) | i64::from(d[0]);
                    if u >= 1 << 12 {
                        u - (1 << 13)
                    } else {
                        u
                    }
                }
            };
            f(PackedItem::Int(v));
        }
        p += whole;
        count += 1;
    }
    if declared != LP_COUNT_UNKNOWN && usize::from(declared) != count {
        return Err((
            4,
            format!("listpack header says {declared} entries but it has {count}"),
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Packed {
    Ziplist,
    Listpack,
}

impl<'a> Reader<'a> {
    /// Checks the header ("REDIS" + 4-digit version, 1..=11) and positions after it.
    pub fn new(data: &'a [u8]) -> Result<Self, RdbError> {
        if data.len() < 9 {
            if !b"REDIS".starts_with(&data[..data.len().min(5)]) {
                return Err(RdbError {
                    offset: 0,
                    msg: "not an RDB file (no REDIS signature)".into(),
                });
            }
            return Err(RdbError {
                offset: 0,
                msg: format!(
                    "unexpected end of file reading header (9 bytes, file has {})",
                    data.len()
                ),
            });
        }
        if &data[..5] != b"REDIS" {
            return Err(RdbError {
                offset: 0,
                msg: "not an RDB file (no REDIS signature)".into(),
            });
        }
        let digits = &data[5..9];
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(RdbError {
                offset: 5,
                msg: format!(
                    "bad RDB version field {:?}",
                    String::from_utf8_lossy(digits)
                ),
            });
        }
        let version = digits
            .iter()
            .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
        if !(RDB_MIN_READ_VERSION..=RDB_MAX_READ_VERSION).contains(&version) {
            return Err(RdbError {
                offset: 5,
                msg: format!("unsupported RDB version {version}"),
            });
        }
        Ok(Reader {
            data,
            pos: 9,
            version,
            db: 0,
            state: ReaderState::Reading,
        })
    }

    /// The file's format version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Offset of the next byte to read (the start of the next record, between records).
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// The next record; `Ok(None)` after the EOF opcode once the trailing CRC-64 checked out (a
    /// stored checksum of 0 means "written with rdbchecksum off" and is accepted, as Redis does;
    /// versions before 5 have no checksum). Bytes after the checksum are an error. After an
    /// error, every later call returns the same error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Record<'a>>, RdbError> {
        match &self.state {
            ReaderState::Reading => {}
            ReaderState::Done => return Ok(None),
            ReaderState::Failed(e) => return Err(e.clone()),
        }
        match self.read_record() {
            Ok(Some(r)) => Ok(Some(r)),
            Ok(None) => {
                self.state = ReaderState::Done;
                Ok(None)
            }
            Err(e) => {
                self.state = ReaderState::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn fail<T>(&self, offset: usize, msg: impl Into<String>) -> Result<T, RdbError> {
        Err(RdbError {
            offset: offset as u64,
            msg: msg.into(),
        })
    }

    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], RdbError> {
        let start = self.pos;
        if self.left() < n {
            return self.fail(
                start,
                format!(
                    "unexpected end of file reading {what} ({n} bytes, {} left)",
                    self.left()
                ),
            );
        }
        self.pos += n;
        Ok(&self.data[start..start + n])
    }

    fn byte(&mut self, what: &str) -> Result<u8, RdbError> {
        Ok(self.take(1, what)?[0])
    }

    fn len_or_enc(&mut self, what: &str) -> Result<LenOrEnc, RdbError> {
        let start = self.pos;
        let b = self.byte(what)?;
        Ok(match b >> 6 {
            0 => LenOrEnc::Len(u64::from(b & 0x3F)),
            1 => LenOrEnc::Len((u64::from(b & 0x3F) << 8) | u64::from(self.byte(what)?)),
            3 => LenOrEnc::Enc(b & 0x3F),
            _ => match b {
                0x80 => {
                    let d = self.take(4, what)?;
                    LenOrEnc::Len(u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]])))
                }
                0x81 => {
                    let d = self.take(8, what)?;
                    LenOrEnc::Len(u64::from_be_bytes([
                        d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
                    ]))
                }
                _ => {
                    return self.fail(
                        start,
                        format!("unknown length encoding 0x{b:02x} in {what}"),
                    )
                }
            },
        })
    }

    /// A plain length (an encoded-string marker here is an error).
    fn len(&mut self, what: &str) -> Result<u64, RdbError> {
        let start = self.pos;
        match self.len_or_enc(what)? {
            LenOrEnc::Len(n) => Ok(n),
            LenOrEnc::Enc(e) => self.fail(
                start,
                format!(
                    "expected a length for {what}, found string encoding marker 0x{:02x}",
                    0xC0 | e
                ),
            ),
        }
    }

    /// A count of things each taking at least `min_bytes` of the file: refused if the rest of
    /// the file cannot hold them, so it can size allocations safely.
    fn count(&mut self, what: &str, min_bytes: usize) -> Result<usize, RdbError> {
        let start = self.pos;
        let n = self.len(what)?;
        let room = (self.left() / min_bytes) as u64;
        if n > room {
            return self.fail(
                start,
                format!(
                    "{what} {n} is more than the {} bytes left in the file can hold",
                    self.left()
                ),
            );
        }
        Ok(n as usize)
    }

    fn string(&mut self, what: &str) -> Result<RawStr<'a>, RdbError> {
        let start = self.pos;
        match self.len_or_enc(what)? {
            LenOrEnc::Len(n) => {
                if n > self.left() as u64 {
                    return self.fail(
                        start,
                        format!(
                            "unexpected end of file reading {what} ({n} bytes, {} left)",
                            self.left()
                        ),
                    );
                }
                Ok(RawStr::Borrowed(self.take(n as usize, what)?))
            }
            LenOrEnc::Enc(RDB_ENC_INT8) => Ok(RawStr::Int(i64::from(self.byte(what)? as i8))),
            LenOrEnc::Enc(RDB_ENC_INT16) => {
                let d = self.take(2, what)?;
                Ok(RawStr::Int(i64::from(i16::from_le_bytes([d[0], d[1]]))))
            }
            LenOrEnc::Enc(RDB_ENC_INT32) => {
                let d = self.take(4, what)?;
                Ok(RawStr::Int(i64::from(i32::from_le_bytes([
                    d[0], d[1], d[2], d[3],
                ]))))
            }
            LenOrEnc::Enc(RDB_ENC_LZF) => {
                let clen = self.len(what)?;
                let ulen_at = self.pos;
                let ulen = self.len(what)?;
                if clen > self.left() as u64 {
                    return self.fail(
                        self.pos,
                        format!(
                            "unexpected end of file reading {what} (LZF, {clen} bytes, {} left)",
                            self.left()
                        ),
                    );
                }
                let data_at = self.pos;
                let c = self.take(clen as usize, what)?;
                if ulen > LZF_MAX_EXPANDED as u64
                    || ulen > clen.saturating_mul(LZF_MAX_RATIO as u64)
                {
                    return self.fail(
                        ulen_at,
                        format!(
                            "{what}: LZF length {ulen} is implausible for {clen} compressed bytes"
                        ),
                    );
                }
                let mut v = Vec::new();
                if let Err(e) = lzf_decompress(c, ulen as usize, &mut v) {
                    return self.fail(data_at, format!("{what}: {e}"));
                }
                Ok(RawStr::Owned(v))
            }
            LenOrEnc::Enc(e) => self.fail(start, format!("unknown string encoding {e} in {what}")),
        }
    }

    fn bytes(&mut self, what: &str) -> Result<Cow<'a, [u8]>, RdbError> {
        Ok(self.string(what)?.into_cow())
    }

    fn read_record(&mut self) -> Result<Option<Record<'a>>, RdbError> {
        let mut expire_ms = None;
        loop {
            let at = self.pos;
            let t = self.byte("record type")?;
            match t {
                RDB_OPCODE_EXPIRETIME_MS => {
                    let d = self.take(8, "expire time")?;
                    expire_ms = Some(i64::from_le_bytes([
                        d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
                    ]));
                }
                RDB_OPCODE_EXPIRETIME => {
                    let d = self.take(4, "expire time")?;
                    expire_ms =
                        Some(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]])) * 1000);
                }
                RDB_OPCODE_FREQ => {
                    self.byte("LFU frequency")?;
                }
                RDB_OPCODE_IDLE => {
                    self.len("LRU idle time")?;
                }
                RDB_OPCODE_EOF => {
                    self.finish()?;
                    return Ok(None);
                }
                RDB_OPCODE_SELECTDB => {
                    self.db = self.len("database number")?;
                    return Ok(Some(Record::SelectDb(self.db)));
                }
                RDB_OPCODE_RESIZEDB => {
                    let db_size = self.len("RESIZEDB key count")?;
                    let expires_size = self.len("RESIZEDB expire count")?;
                    return Ok(Some(Record::ResizeDb {
                        db_size,
                        expires_size,
                    }));
                }
                RDB_OPCODE_AUX => {
                    let key = self.bytes("AUX field name")?;
                    let val = self.bytes("AUX field value")?;
                    return Ok(Some(Record::Aux { key, val }));
                }
                RDB_OPCODE_MODULE_AUX | RDB_OPCODE_FUNCTION | RDB_OPCODE_FUNCTION2 => {
                    let what = if t == RDB_OPCODE_MODULE_AUX {
                        "module auxiliary data"
                    } else {
                        "a function library"
                    };
                    return self.fail(
                        at,
                        format!(
                            "RDB contains Redis Functions/module data, which redis-lite does not \
                             support (opcode {t}: {what})"
                        ),
                    );
                }
                RDB_TYPE_STRING
                | RDB_TYPE_LIST
                | RDB_TYPE_LIST_ZIPLIST
                | RDB_TYPE_LIST_QUICKLIST
                | RDB_TYPE_LIST_QUICKLIST_2 => {
                    let key = self.bytes("key")?;
                    let value = self.value(t)?;
                    return Ok(Some(Record::Key {
                        db: self.db,
                        key,
                        expire_ms,
                        value,
                    }));
                }
                _ => {
                    if let Some(name) = type_name(t) {
                        let key = self.bytes("key")?;
                        return self.fail(
                            at,
                            format!(
                                "unsupported value type {name} (RDB type {t}) for key {}",
                                quote_key(&key)
                            ),
                        );
                    }
                    return self.fail(at, format!("unknown RDB value type or opcode {t}"));
                }
            }
        }
    }

    /// After the EOF opcode: the checksum (version >= 5), then nothing.
    fn finish(&mut self) -> Result<(), RdbError> {
        if self.version >= 5 {
            let covered = self.pos;
            let d = self.take(8, "checksum")?;
            let stored = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
            if stored != 0 {
                let computed = crc64(0, &self.data[..covered]);
                if stored != computed {
                    return self.fail(
                        covered,
                        format!(
                            "checksum mismatch: file says {stored:016x}, computed {computed:016x}"
                        ),
                    );
                }
            }
        }
        if self.left() > 0 {
            return self.fail(
                self.pos,
                format!(
                    "{} unexpected bytes after the end of the RDB data",
                    self.left()
                ),
            );
        }
        Ok(())
    }

    fn value(&mut self, t: u8) -> Result<RdbValue<'a>, RdbError> {
        match t {
            RDB_TYPE_STRING => Ok(match self.string("string value")? {
                RawStr::Int(v) => RdbValue::Int(v),
                RawStr::Borrowed(b) => RdbValue::Str(Cow::Borrowed(b)),
                RawStr::Owned(v) => RdbValue::Str(Cow::Owned(v)),
            }),
            RDB_TYPE_LIST => {
                let n = self.count("list length", 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.bytes("list element")?);
                }
                Ok(RdbValue::List(items))
            }
            RDB_TYPE_LIST_ZIPLIST => {
                let mut items = Vec::new();
                let at = self.pos;
                let blob = self.string("list ziplist")?;
                self.unpack(at, blob, Packed::Ziplist, &mut items)?;
                Ok(RdbValue::List(items))
            }
            _ => {
                // Quicklists: ziplist nodes (14), or container + listpack/plain nodes (18).
                let v2 = t == RDB_TYPE_LIST_QUICKLIST_2;
                let nodes = self.count("quicklist node count", if v2 { 2 } else { 1 })?;
                let mut items = Vec::new();
                for _ in 0..nodes {
                    let mut container = QUICKLIST_NODE_CONTAINER_PACKED;
                    if v2 {
                        let at = self.pos;
                        container = self.len("quicklist node container")?;
                        if container != QUICKLIST_NODE_CONTAINER_PACKED
                            && container != QUICKLIST_NODE_CONTAINER_PLAIN
                        {
                            return self
                                .fail(at, format!("invalid quicklist node container {container}"));
                        }
                    }
                    let at = self.pos;
                    let blob = self.string("quicklist node")?;
                    // Redis refuses empty node blobs (an empty element never gets a node).
                    let empty = match &blob {
                        RawStr::Borrowed(b) => b.is_empty(),
                        RawStr::Owned(v) => v.is_empty(),
                        RawStr::Int(_) => false,
                    };
                    if empty {
                        return self.fail(at, "empty quicklist node");
                    }
                    if container == QUICKLIST_NODE_CONTAINER_PLAIN {
                        items.push(blob.into_cow());
                    } else {
                        let kind = if v2 {
                            Packed::Listpack
                        } else {
                            Packed::Ziplist
                        };
                        self.unpack(at, blob, kind, &mut items)?;
                    }
                }
                Ok(RdbValue::List(items))
            }
        }
    }

    /// Appends the elements of a ziplist/listpack blob read at file offset `at`.
    fn unpack(
        &self,
        at: usize,
        blob: RawStr<'a>,
        kind: Packed,
        items: &mut Vec<Cow<'a, [u8]>>,
    ) -> Result<(), RdbError> {
        let name = if kind == Packed::Ziplist {
            "ziplist"
        } else {
            "listpack"
        };
        match blob {
            RawStr::Borrowed(b) => {
                // Element bytes borrow from the file. The blob was the last thing read, so its
                // data starts `b.len()` bytes before the current position.
                let data_at = self.pos - b.len();
                reserve_for(items, b, kind);
                let r = match kind {
                    Packed::Ziplist => walk_ziplist(b, |it| items.push(item_cow(it))),
                    Packed::Listpack => walk_listpack(b, |it| items.push(item_cow(it))),
                };
                r.or_else(|(off, msg)| self.fail(data_at + off, msg))
            }
            RawStr::Owned(v) => {
                reserve_for(items, &v, kind);
                let push = |it| items.push(Cow::Owned(item_owned(it)));
                let r = match kind {
                    Packed::Ziplist => walk_ziplist(&v, push),
                    Packed::Listpack => walk_listpack(&v, push),
                };
                r.or_else(|(off, msg)| {
                    self.fail(
                        at,
                        format!("{msg} (at byte {off} of the decompressed {name})"),
                    )
                })
            }
            RawStr::Int(_) => self.fail(at, format!("{name} blob is stored as an integer")),
        }
    }
}

fn item_cow(it: PackedItem<'_>) -> Cow<'_, [u8]> {
    match it {
        PackedItem::Str(s) => Cow::Borrowed(s),
        PackedItem::Int(v) => Cow::Owned(int_text(v)),
    }
}

fn item_owned(it: PackedItem<'_>) -> Vec<u8> {
    match it {
        PackedItem::Str(s) => s.to_vec(),
        PackedItem::Int(v) => int_text(v),
    }
}

/// Reserves room for a blob's elements, from its header count, capped by its size.
fn reserve_for<T>(items: &mut Vec<T>, blob: &[u8], kind: Packed) {
    let at = if kind == Packed::Ziplist { 8 } else { 4 };
    if blob.len() >= at + 2 {
        let n = usize::from(u16_le(blob, at));
        if n != usize::from(u16::MAX) {
            items.reserve(n.min(blob.len() / 2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A complete file: records from `body`, then EOF and checksum.
    fn finish_file(mut out: Vec<u8>) -> Vec<u8> {
        write_eof(&mut out);
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn read_all(data: &[u8]) -> Result<Vec<Record<'_>>, RdbError> {
        let mut r = Reader::new(data)?;
        let mut recs = Vec::new();
        while let Some(rec) = r.next()? {
            recs.push(rec);
        }
        Ok(recs)
    }

    /// The one key of a file holding just `record`.
    fn roundtrip_value(record: impl FnOnce(&mut Vec<u8>)) -> RdbValue<'static> {
        let mut out = Vec::new();
        write_header(&mut out);
        record(&mut out);
        let file = finish_file(out);
        let recs = read_all(&file).unwrap();
        assert_eq!(recs.len(), 1);
        match recs.into_iter().next().unwrap() {
            Record::Key { value, .. } => match value {
                RdbValue::Str(s) => RdbValue::Str(Cow::Owned(s.into_owned())),
                RdbValue::Int(v) => RdbValue::Int(v),
                RdbValue::List(l) => {
                    RdbValue::List(l.into_iter().map(|e| Cow::Owned(e.into_owned())).collect())
                }
            },
            other => panic!("not a key: {other:?}"),
        }
    }

    fn list_of(v: &RdbValue<'_>) -> Vec<Vec<u8>> {
        match v {
            RdbValue::List(l) => l.iter().map(|e| e.to_vec()).collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    /// A raw string's body as a Reader sees it (through a one-record file).
    fn string_bytes(enc: &[u8]) -> RawKind {
        let mut out = Vec::new();
        write_header(&mut out);
        out.push(RDB_TYPE_STRING);
        write_string(&mut out, b"k", false);
        out.extend_from_slice(enc);
        let file = finish_file(out);
        match read_all(&file).unwrap().pop().unwrap() {
            Record::Key {
                value: RdbValue::Int(v),
                ..
            } => RawKind::Int(v),
            Record::Key {
                value: RdbValue::Str(s),
                ..
            } => RawKind::Bytes(s.into_owned()),
            other => panic!("{other:?}"),
        }
    }

    #[derive(Debug, PartialEq)]
    enum RawKind {
        Int(i64),
        Bytes(Vec<u8>),
    }

    #[test]
    fn crc64_matches_redis_vector_and_is_incremental() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
        let li = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
                   tempor incididunt ut labore et dolore magna aliqua.";
        for split in [0, 1, 7, 50, li.len()] {
            let (a, b) = li.split_at(split);
            assert_eq!(crc64(crc64(0, a), b), crc64(0, li));
        }
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn length_encoding_boundaries() {
        let cases: [(u64, usize); 8] = [
            (0, 1),
            (63, 1),
            (64, 2),
            (16383, 2),
            (16384, 5),
            (u32::MAX as u64, 5),
            (1 << 32, 9),
            (u64::MAX, 9),
        ];
        for (v, size) in cases {
            let mut out = Vec::new();
            write_len(&mut out, v);
            assert_eq!(out.len(), size, "size of {v}");
            // Read it back as the database number of a SELECTDB.
            let mut file = Vec::new();
            write_header(&mut file);
            file.push(RDB_OPCODE_SELECTDB);
            file.extend_from_slice(&out);
            let file = finish_file(file);
            assert_eq!(read_all(&file).unwrap(), vec![Record::SelectDb(v)]);
        }
        let mut out = Vec::new();
        write_len(&mut out, 64);
        assert_eq!(out, [0x40, 64]);
        out.clear();
        write_len(&mut out, 16384);
        assert_eq!(out, [0x80, 0, 0, 0x40, 0]);
    }

    #[test]
    fn canonical_integers() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("007", None),
            ("-0", None),
            ("+1", None),
            (" 1", None),
            ("1 ", None),
            ("", None),
            ("-", None),
            ("1a", None),
            ("00", None),
        ] {
            assert_eq!(parse_canonical_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn string_encodings() {
        let enc = |s: &str| {
            let mut out = Vec::new();
            write_string(&mut out, s.as_bytes(), true);
            out
        };
        assert_eq!(enc("0"), [0xC0, 0]);
        assert_eq!(enc("-1"), [0xC0, 0xFF]);
        assert_eq!(enc("127"), [0xC0, 127]);
        assert_eq!(enc("128"), [0xC1, 128, 0]);
        assert_eq!(enc("-128"), [0xC0, 0x80]);
        assert_eq!(enc("-32768"), [0xC1, 0x00, 0x80]);
        assert_eq!(enc("32768"), [0xC2, 0x00, 0x80, 0, 0]);
        assert_eq!(enc("2147483647"), [0xC2, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert_eq!(enc("-2147483648"), [0xC2, 0, 0, 0, 0x80]);
        for text in [
            "2147483648",
            "-2147483649",
            "007",
            "+1",
            " 1",
            "1 ",
            "-0",
            "12345678901",
        ] {
            let mut want = vec![text.len() as u8];
            want.extend_from_slice(text.as_bytes());
            assert_eq!(enc(text), want, "{text:?} must stay text");
        }
        // Round trips through the reader.
        for s in ["0", "-1", "127", "128", "-32768", "2147483647"] {
            assert_eq!(string_bytes(&enc(s)), RawKind::Int(s.parse().unwrap()));
        }
        for s in ["2147483648", "007", "+1", " 1", ""] {
            assert_eq!(string_bytes(&enc(s)), RawKind::Bytes(s.as_bytes().to_vec()));
        }
        // Long compressible strings are LZF'd only when asked.
        let long = "abcabcabcabcabcabcabcabcabcabcabcabcabcabc";
        assert_eq!(enc(long)[0], 0xC3);
        let mut raw = Vec::new();
        write_string(&mut raw, long.as_bytes(), false);
        assert_eq!(raw[0] as usize, long.len());
        assert_eq!(
            string_bytes(&enc(long)),
            RawKind::Bytes(long.as_bytes().to_vec())
        );
        // 20 bytes: never compressed (Redis's threshold is > 20).
        assert_eq!(enc("aaaaaaaaaaaaaaaaaaaa")[0], 20);
        assert_eq!(enc("aaaaaaaaaaaaaaaaaaaaa")[0], 0xC3);
    }

    #[test]
    fn int_strings() {
        let enc = |v: i64| {
            let mut out = Vec::new();
            write_int_string(&mut out, v);
            out
        };
        assert_eq!(enc(5), [0xC0, 5]);
        assert_eq!(enc(-300), [0xC1, 0xD4, 0xFE]);
        assert_eq!(enc(1 << 31)[0], 10);
        assert_eq!(&enc(1 << 31)[1..], b"2147483648");
        for v in [
            0,
            -1,
            1 << 20,
            i64::MAX,
            i64::MIN,
            -(1 << 31),
            (1 << 31) - 1,
        ] {
            let got = string_bytes(&enc(v));
            match got {
                RawKind::Int(x) => assert_eq!(x, v),
                RawKind::Bytes(b) => assert_eq!(b, v.to_string().as_bytes()),
            }
            let val = roundtrip_value(|o| write_int_record(o, b"k", v, true));
            match val {
                RdbValue::Int(x) => assert_eq!(x, v),
                RdbValue::Str(b) => assert_eq!(&b[..], v.to_string().as_bytes()),
                other => panic!("{other:?}"),
            }
        }
    }

    fn lzf_roundtrip(data: &[u8]) {
        let mut c = vec![9, 9]; // appends after existing bytes
        match lzf_compress(data, &mut c) {
            Some(n) => {
                assert_eq!(c.len(), n + 2);
                assert!(n < data.len());
                let mut d = vec![7];
                lzf_decompress(&c[2..], data.len(), &mut d).unwrap();
                assert_eq!(&d[1..], data);
            }
            None => assert_eq!(c, [9, 9]),
        }
    }

    #[test]
    fn lzf_round_trips() {
        lzf_roundtrip(b"");
        lzf_roundtrip(b"a");
        lzf_roundtrip(&[b'a'; 10_000]);
        lzf_roundtrip(b"hello hello hello hello hello hello world");
        let text: Vec<u8> = (0..50_000u32)
            .flat_map(|i| format!("key:{} ", i % 977).into_bytes())
            .collect();
        lzf_roundtrip(&text);
        let mut c = Vec::new();
        assert!(lzf_compress(&[0u8; 100_000], &mut c).unwrap() < 2000);
        // Incompressible data is refused.
        let mut x = 0x12345678u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let mut c = Vec::new();
        assert_eq!(lzf_compress(&noise, &mut c), None);
        assert!(c.is_empty());
    }

    #[test]
    fn lzf_decompress_rejects_bad_input() {
        let mut out = vec![1, 2, 3];
        // Back reference before the start.
        assert!(lzf_decompress(&[0x20, 0x00], 3, &mut out).is_err());
        // Literal run past the input.
        assert!(lzf_decompress(&[0x05, b'a'], 6, &mut out).is_err());
        // Output longer than expected.
        assert!(lzf_decompress(&[0x02, b'a', b'b', b'c'], 2, &mut out).is_err());
        // Output shorter than expected.
        assert!(lzf_decompress(&[0x00, b'a'], 2, &mut out).is_err());
        // Truncated back references.
        assert!(lzf_decompress(&[0x00, b'a', 0xE0], 20, &mut out).is_err());
        assert!(lzf_decompress(&[0x00, b'a', 0xE0, 0x01], 20, &mut out).is_err());
        // Absurd sizes, refused before allocating.
        assert!(lzf_decompress(&[0x00, b'a'], 1 << 40, &mut out).is_err());
        assert!(lzf_decompress(&[0x00, b'a'], 5000, &mut out).is_err());
        assert_eq!(out, [1, 2, 3], "failed calls leave the output alone");
        // Overlapping reference (run-length).
        lzf_decompress(&[0x00, b'z', 0xE0, 0x05, 0x00], 15, &mut out).unwrap();
        assert_eq!(&out[3..], &[b'z'; 15][..]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn prop_lzf_round_trip(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            lzf_roundtrip(&data);
        }

        #[test]
        fn prop_lzf_round_trip_repetitive(
            parts in proptest::collection::vec((0u8..4, 1usize..300), 0..60)
        ) {
            let data: Vec<u8> = parts.iter().flat_map(|&(b, n)| std::iter::repeat_n(b, n)).collect();
            lzf_roundtrip(&data);
        }

        #[test]
        fn prop_lzf_decompress_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..200),
            len in 0usize..5000,
        ) {
            let mut out = Vec::new();
            if lzf_decompress(&data, len, &mut out).is_ok() {
                prop_assert_eq!(out.len(), len);
            } else {
                prop_assert!(out.is_empty());
            }
        }

        #[test]
        fn prop_list_round_trip(
            items in proptest::collection::vec(
                prop_oneof![
                    any::<i64>().prop_map(|v| v.to_string().into_bytes()),
                    (-5000i64..5000).prop_map(|v| v.to_string().into_bytes()),
                    proptest::collection::vec(any::<u8>(), 0..100),
                    proptest::collection::vec(b'a'..b'c', 0..5000),
                ],
                0..60,
            ),
            compress in any::<bool>(),
        ) {
            let val = roundtrip_value(|o| {
                write_list_record(o, b"l", items.len(), items.iter().map(|v| v.as_slice()), compress)
            });
            prop_assert_eq!(list_of(&val), items);
        }

        #[test]
        fn prop_reader_never_panics_on_mutated_files(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut f = sample_file();
            for (at, b) in edits {
                let i = at.index(f.len());
                f[i] = b;
            }
            let n = cut.index(f.len() + 1);
            let _ = read_all(&f);
            let _ = read_all(&f[..n]);
        }

        #[test]
        fn prop_reader_never_panics_on_garbage(
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut file = b"REDIS0010".to_vec();
            file.extend_from_slice(&body);
            let _ = read_all(&file);
        }
    }

    /// Decodes a listpack built by the writer's helpers.
    fn lp_decode(lp: &[u8]) -> Result<Vec<Vec<u8>>, BlobError> {
        let mut v = Vec::new();
        walk_listpack(lp, |it| v.push(item_owned(it)))?;
        Ok(v)
    }

    fn lp_build(items: &[&[u8]]) -> Vec<u8> {
        let mut lp = Vec::new();
        lp_begin(&mut lp);
        for it in items {
            lp_append(&mut lp, it);
        }
        lp_finish(&mut lp, items.len());
        lp
    }

    #[test]
    fn listpack_encodings() {
        // Entry byte sizes (encoding + data + backlen) for each integer encoding.
        let cases: [(&str, u8, usize); 14] = [
            ("0", 0x00, 2),
            ("127", 0x7F, 2),
            ("128", 0xC0, 3),
            ("-1", 0xDF, 3),
            ("4095", 0xCF, 3),
            ("-4096", 0xD0, 3),
            ("4096", 0xF1, 4),
            ("-32768", 0xF1, 4),
            ("32768", 0xF2, 5),
            ("-8388608", 0xF2, 5),
            ("8388608", 0xF3, 6),
            ("-2147483648", 0xF3, 6),
            ("2147483648", 0xF4, 10),
            ("-9223372036854775808", 0xF4, 10),
        ];
        for (s, first, size) in cases {
            let lp = lp_build(&[s.as_bytes()]);
            assert_eq!(lp[6], first, "{s}");
            assert_eq!(lp.len(), 7 + size, "{s}");
            assert_eq!(lp_decode(&lp).unwrap(), vec![s.as_bytes().to_vec()]);
        }
        // Strings: 6-bit, 12-bit and 32-bit lengths, with 1..3-byte backlens.
        for n in [
            0usize, 1, 63, 64, 126, 127, 128, 4095, 4096, 16379, 16380, 16381, 20000, 70000,
        ] {
            let s = vec![b'x'; n];
            let lp = lp_build(&[&s, b"tail"]);
            let hdr = if n < 64 {
                1
            } else if n < 4096 {
                2
            } else {
                5
            };
            let entry = hdr + n;
            assert_eq!(lp.len(), 7 + entry + lp_backlen_size(entry) + 6, "len {n}");
            assert_eq!(
                lp_decode(&lp).unwrap(),
                vec![s.clone(), b"tail".to_vec()],
                "len {n}"
            );
            // The backlen, read backwards from the end of the entry, gives the entry size.
            let end = 6 + entry + lp_backlen_size(entry) - 1;
            let (mut v, mut shift, mut p) = (0usize, 0, end);
            loop {
                v |= ((lp[p] & 127) as usize) << shift;
                if lp[p] & 128 == 0 {
                    break;
                }
                shift += 7;
                p -= 1;
            }
            assert_eq!(v, entry, "backlen of len {n}");
        }
        // Strings that look numeric but aren't canonical stay strings.
        for s in ["007", "+1", " 1", "-0", "9223372036854775808"] {
            let lp = lp_build(&[s.as_bytes()]);
            assert_eq!(lp[6] & 0xC0, 0x80, "{s}");
            assert_eq!(lp_decode(&lp).unwrap(), vec![s.as_bytes().to_vec()]);
        }
    }

    #[test]
    fn listpack_validation() {
        let good = lp_build(&[b"a", b"1000", b"hello"]);
        assert!(lp_decode(&good).is_ok());
        // Wrong total bytes.
        let mut bad = good.clone();
        bad[0] += 1;
        assert!(lp_decode(&bad).is_err());
        // Wrong count.
        let mut bad = good.clone();
        bad[4] = 2;
        assert!(lp_decode(&bad).is_err());
        // Unknown count is fine.
        let mut ok = good.clone();
        ok[4] = 0xFF;
        ok[5] = 0xFF;
        assert_eq!(lp_decode(&ok).unwrap().len(), 3);
        // No terminator.
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(lp_decode(&bad).is_err());
        // Entry claiming more bytes than there are.
        let mut bad = good.clone();
        bad[6] = 0xBF; // 63-byte string
        assert!(lp_decode(&bad).is_err());
        let mut bad = good.clone();
        bad[6] = 0xF0; // 32-bit string length
        assert!(lp_decode(&bad).is_err());
        // Invalid encoding byte.
        let mut bad = good.clone();
        bad[6] = 0xF7;
        assert!(lp_decode(&bad).is_err());
        // Early terminator.
        let mut bad = good.clone();
        bad[6] = 0xFF;
        assert!(lp_decode(&bad).is_err());
        // Too short.
        assert!(lp_decode(&[7, 0, 0, 0, 0, 0]).is_err());
        assert_eq!(lp_decode(&[7, 0, 0, 0, 0, 0, 0xFF]).unwrap().len(), 0);
    }

    /// Splits a written list record into its nodes: (container, listpack element count, blob size).
    fn list_nodes(rec: &[u8]) -> Vec<(u64, usize, usize)> {
        let mut file = Vec::new();
        write_header(&mut file);
        file.extend_from_slice(rec);
        let mut r = Reader::new(&file).unwrap();
        assert_eq!(r.byte("t").unwrap(), RDB_TYPE_LIST_QUICKLIST_2);
        r.bytes("key").unwrap();
        let n = r.len("count").unwrap();
        let mut nodes = Vec::new();
        for _ in 0..n {
            let c = r.len("container").unwrap();
            let blob = r.string("node").unwrap().into_cow().into_owned();
            let count = if c == QUICKLIST_NODE_CONTAINER_PACKED {
                lp_decode(&blob).unwrap().len()
            } else {
                1
            };
            nodes.push((c, count, blob.len()));
        }
        nodes
    }

    #[test]
    fn list_nodes_split_at_8k() {
        // 100-byte strings: each entry is 2 + 100 + 1 bytes; a node takes elements while
        // bytes + 100 + 8 <= 8192.
        let item = vec![b'v'; 100];
        let items: Vec<&[u8]> = vec![&item; 200];
        let mut rec = Vec::new();
        write_list_record(&mut rec, b"l", items.len(), items.iter().copied(), false);
        let nodes = list_nodes(&rec);
        // 7 + 78 * 103 = 8041 and 8041 + 108 <= 8192; 7 + 79 * 103 + 108 > 8192: 79 per node.
        assert_eq!(nodes.iter().map(|n| n.1).collect::<Vec<_>>(), [79, 79, 42]);
        assert!(nodes
            .iter()
            .all(|n| n.0 == QUICKLIST_NODE_CONTAINER_PACKED && n.2 <= 8192));

        // A big element gets a node of its own, and the next element starts a new node.
        let big = vec![b'B'; 100_000];
        let items: Vec<&[u8]> = vec![b"a", b"b", &big, b"c", b"12"];
        let mut rec = Vec::new();
        write_list_record(&mut rec, b"l", items.len(), items.iter().copied(), false);
        assert_eq!(
            list_nodes(&rec)
                .iter()
                .map(|n| (n.0, n.1))
                .collect::<Vec<_>>(),
            [(2, 2), (2, 1), (2, 2)]
        );

        // Many nodes (> 63) make the node count a 2-byte length.
        let items: Vec<Vec<u8>> = (0..20_000)
            .map(|i| format!("element-{i:06}-padding-padding").into_bytes())
            .collect();
        for compress in [false, true] {
            let mut rec = Vec::new();
            write_list_record(
                &mut rec,
                b"l",
                items.len(),
                items.iter().map(|v| v.as_slice()),
                compress,
            );
            let nodes = list_nodes(&rec);
            assert!(nodes.len() > 64);
            assert_eq!(nodes.iter().map(|n| n.1).sum::<usize>(), 20_000);
            let val = roundtrip_value(|o| o.extend_from_slice(&rec));
            assert_eq!(list_of(&val), items);
        }
    }

    #[test]
    fn whole_file_round_trip() {
        let long: Vec<u8> = b"compress me please ".repeat(100);
        let big = vec![b'x'; 100_000];
        let ints: Vec<Vec<u8>> = (-300..300)
            .map(|i: i64| (i * 1_000_003).to_string().into_bytes())
            .collect();
        let mut out = Vec::new();
        write_header(&mut out);
        write_aux(&mut out, b"redis-ver", b"7.0.15");
        write_aux(&mut out, b"redis-bits", b"64");
        write_aux(&mut out, b"ctime", b"1700000000");
        write_select_db(&mut out, 0);
        write_resize_db(&mut out, 4, 1);
        write_string_record(&mut out, b"s", b"hello", true);
        write_expire_ms(&mut out, 1_900_000_000_123);
        write_string_record(&mut out, b"long", &long, true);
        write_int_record(&mut out, b"n", -42, true);
        write_list_record(
            &mut out,
            b"l",
            ints.len(),
            ints.iter().map(|v| v.as_slice()),
            true,
        );
        write_select_db(&mut out, 3);
        write_resize_db(&mut out, 2, 1);
        write_expire_ms(&mut out, 1);
        let items: Vec<&[u8]> = vec![b"a", &big, b"7"];
        write_list_record(&mut out, b"big", 3, items.iter().copied(), false);
        write_string_record(&mut out, b"123", b"", false);
        let file = finish_file(out);
        let recs = read_all(&file).unwrap();
        let b = |s: &'static [u8]| Cow::Borrowed(s);
        let expected = vec![
            Record::Aux {
                key: b(b"redis-ver"),
                val: b(b"7.0.15"),
            },
            Record::Aux {
                key: b(b"redis-bits"),
                val: b(b"64"),
            },
            Record::Aux {
                key: b(b"ctime"),
                val: Cow::Owned(b"1700000000".to_vec()),
            },
            Record::SelectDb(0),
            Record::ResizeDb {
                db_size: 4,
                expires_size: 1,
            },
            Record::Key {
                db: 0,
                key: b(b"s"),
                expire_ms: None,
                value: RdbValue::Str(b(b"hello")),
            },
            Record::Key {
                db: 0,
                key: b(b"long"),
                expire_ms: Some(1_900_000_000_123),
                value: RdbValue::Str(Cow::Owned(long.clone())),
            },
            Record::Key {
                db: 0,
                key: b(b"n"),
                expire_ms: None,
                value: RdbValue::Int(-42),
            },
            Record::Key {
                db: 0,
                key: b(b"l"),
                expire_ms: None,
                value: RdbValue::List(ints.iter().map(|v| Cow::Owned(v.clone())).collect()),
            },
            Record::SelectDb(3),
            Record::ResizeDb {
                db_size: 2,
                expires_size: 1,
            },
            Record::Key {
                db: 3,
                key: b(b"big"),
                expire_ms: Some(1),
                value: RdbValue::List(vec![b(b"a"), Cow::Owned(big.clone()), b(b"7")]),
            },
            Record::Key {
                db: 3,
                key: Cow::Owned(b"123".to_vec()),
                expire_ms: None,
                value: RdbValue::Str(b(b"")),
            },
        ];
        assert_eq!(recs, expected);
        // Uncompressed strings are borrowed from the file.
        match &recs[5] {
            Record::Key {
                value: RdbValue::Str(Cow::Borrowed(_)),
                ..
            } => {}
            other => panic!("{other:?}"),
        }

        // Checksum 0 (rdbchecksum no) is accepted.
        let mut nocrc = file.clone();
        let n = nocrc.len();
        nocrc[n - 8..].fill(0);
        assert_eq!(read_all(&nocrc).unwrap(), expected);
        // A wrong checksum is not, nor trailing bytes.
        let mut badcrc = file.clone();
        badcrc[n - 1] ^= 1;
        let e = read_all(&badcrc).unwrap_err();
        assert!(e.msg.starts_with("checksum mismatch: file says"), "{e}");
        assert_eq!(e.offset, (n - 8) as u64);
        let mut trailing = file.clone();
        trailing.push(0);
        assert!(read_all(&trailing).is_err());
    }

    /// A small file using every writer function (ints, LZF, lists with several encodings).
    fn sample_file() -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out);
        write_aux(&mut out, b"redis-ver", b"7.0.15");
        write_select_db(&mut out, 1);
        write_resize_db(&mut out, 3, 1);
        write_expire_ms(&mut out, 1_900_000_000_000);
        write_string_record(&mut out, b"key", &b"abcdefgh".repeat(10), true);
        write_int_record(&mut out, b"i", 70000, false);
        let items: Vec<&[u8]> = vec![
            b"1",
            b"two",
            b"-3000",
            b"four four four four four four four",
        ];
        write_list_record(&mut out, b"list", 4, items.iter().copied(), true);
        finish_file(out)
    }

    #[test]
    fn every_truncation_is_an_error() {
        let file = sample_file();
        assert!(read_all(&file).is_ok());
        for cut in 0..file.len() {
            assert!(
                read_all(&file[..cut]).is_err(),
                "truncated at {cut} must fail"
            );
        }
        // Any single flipped byte is caught (by structure or checksum).
        for i in 0..file.len() {
            for bit in [0x01, 0x80] {
                let mut f = file.clone();
                f[i] ^= bit;
                assert!(read_all(&f).is_err(), "flip {bit:#x} at {i} must fail");
            }
        }
    }

    #[test]
    fn truncation_messages() {
        let mut out = Vec::new();
        write_header(&mut out);
        write_string_record(&mut out, b"key", b"value", false);
        let e = read_all(&out[..out.len() - 2]).unwrap_err();
        assert_eq!(e.offset, 14);
        assert_eq!(
            e.msg,
            "unexpected end of file reading string value (5 bytes, 3 left)"
        );
        let e = read_all(&out).unwrap_err();
        assert_eq!(
            e.msg,
            "unexpected end of file reading record type (1 bytes, 0 left)"
        );
        assert_eq!(e.to_string(), format!("offset {}: {}", out.len(), e.msg));
        // The same error again on the next call.
        let mut r = Reader::new(&out).unwrap();
        r.next().unwrap();
        assert!(r.next().is_err());
        assert_eq!(r.next().unwrap_err(), e);
    }

    #[test]
    fn header_checks() {
        assert_eq!(Reader::new(b"REDIS0010").unwrap().version(), 10);
        assert_eq!(Reader::new(b"REDIS0011").unwrap().version(), 11);
        assert_eq!(Reader::new(b"REDIS0001").unwrap().version(), 1);
        let e = Reader::new(b"REDIS0012").err().unwrap();
        assert_eq!(e.msg, "unsupported RDB version 12");
        assert!(Reader::new(b"REDIS0000").is_err());
        assert!(Reader::new(b"REDIS00x0").is_err());
        assert!(Reader::new(b"REDIX0010").is_err());
        assert!(Reader::new(b"REDIS001").is_err());
        assert!(Reader::new(b"").is_err());
        // Versions before 5 have no checksum.
        let mut f = b"REDIS0004".to_vec();
        write_string_record(&mut f, b"a", b"b", false);
        write_eof(&mut f);
        assert_eq!(read_all(&f).unwrap().len(), 1);
        f.push(0);
        assert!(read_all(&f).is_err());
    }

    #[test]
    fn opcodes_and_old_encodings() {
        let mut out = Vec::new();
        write_header(&mut out);
        // IDLE and FREQ are skipped; EXPIRETIME is in seconds.
        out.push(RDB_OPCODE_IDLE);
        write_len(&mut out, 12345);
        out.push(RDB_OPCODE_FREQ);
        out.push(7);
        out.push(RDB_OPCODE_EXPIRETIME);
        out.extend_from_slice(&1_700_000_000i32.to_le_bytes());
        write_string_record(&mut out, b"k", b"v", false);
        // RDB_TYPE_LIST: plain strings, any encoding.
        out.push(RDB_TYPE_LIST);
        write_string(&mut out, b"oldlist", false);
        write_len(&mut out, 3);
        write_string(&mut out, b"x", false);
        write_string(&mut out, b"-5", false);
        write_string(&mut out, &b"z".repeat(40), true);
        // RDB_TYPE_LIST_ZIPLIST: one ziplist with ints and strings.
        let zl = ziplist(&[Zl::S(b"hi"), Zl::I(0xF1), Zl::I(0xFD), Zl::S(&[b'q'; 300])]);
        out.push(RDB_TYPE_LIST_ZIPLIST);
        write_string(&mut out, b"zl", false);
        write_string(&mut out, &zl, false);
        // RDB_TYPE_LIST_QUICKLIST: ziplist nodes, one LZF'd.
        out.push(RDB_TYPE_LIST_QUICKLIST);
        write_string(&mut out, b"ql", false);
        write_len(&mut out, 2);
        write_string(&mut out, &zl, true);
        write_string(&mut out, &ziplist(&[Zl::S(b"end")]), false);
        // RDB_TYPE_LIST_QUICKLIST_2 with a PLAIN node.
        out.push(RDB_TYPE_LIST_QUICKLIST_2);
        write_string(&mut out, b"ql2", false);
        write_len(&mut out, 2);
        write_len(&mut out, QUICKLIST_NODE_CONTAINER_PLAIN);
        write_string(&mut out, b"plain element", false);
        write_len(&mut out, QUICKLIST_NODE_CONTAINER_PACKED);
        write_string(&mut out, &lp_build(&[b"p", b"99"]), false);
        let file = finish_file(out);
        let recs = read_all(&file).unwrap();
        assert_eq!(recs.len(), 5);
        match &recs[0] {
            Record::Key { key, expire_ms, .. } => {
                assert_eq!(&key[..], b"k");
                assert_eq!(*expire_ms, Some(1_700_000_000_000));
            }
            other => panic!("{other:?}"),
        }
        let lists: Vec<Vec<Vec<u8>>> = recs[1..]
            .iter()
            .map(|r| match r {
                Record::Key {
                    value,
                    expire_ms: None,
                    ..
                } => list_of(value),
                other => panic!("{other:?}"),
            })
            .collect();
        let zl_items = vec![
            b"hi".to_vec(),
            b"0".to_vec(),
            b"12".to_vec(),
            vec![b'q'; 300],
        ];
        assert_eq!(
            lists[0],
            vec![b"x".to_vec(), b"-5".to_vec(), b"z".repeat(40)]
        );
        assert_eq!(lists[1], zl_items);
        let mut ql = zl_items.clone();
        ql.push(b"end".to_vec());
        assert_eq!(lists[2], ql);
        assert_eq!(
            lists[3],
            vec![b"plain element".to_vec(), b"p".to_vec(), b"99".to_vec()]
        );
    }

    enum Zl<'a> {
        S(&'a [u8]),
        /// Raw integer encoding byte followed by its data.
        I(u8),
    }

    /// A ziplist as Redis 6 would build it (strings, 4-bit immediates and other ints).
    fn ziplist(items: &[Zl<'_>]) -> Vec<u8> {
        let mut zl = vec![0u8; 10];
        let mut prev = 0usize;
        let mut tail = 10;
        for it in items {
            let start = zl.len();
            tail = start;
            if prev < 254 {
                zl.push(prev as u8);
            } else {
                zl.push(254);
                zl.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match it {
                Zl::S(s) => {
                    if s.len() < 64 {
                        zl.push(s.len() as u8);
                    } else if s.len() < 16384 {
                        zl.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8]);
                    } else {
                        zl.push(0x80);
                        zl.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    }
                    zl.extend_from_slice(s);
                }
                Zl::I(e) => zl.push(*e),
            }
            prev = zl.len() - start;
        }
        zl.push(0xFF);
        let n = zl.len() as u32;
        zl[0..4].copy_from_slice(&n.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
        zl
    }

    fn zl_decode(zl: &[u8]) -> Result<Vec<Vec<u8>>, BlobError> {
        let mut v = Vec::new();
        walk_ziplist(zl, |it| v.push(item_owned(it)))?;
        Ok(v)
    }

    #[test]
    fn ziplist_integers_and_validation() {
        let mut zl = ziplist(&[Zl::S(b"a")]);
        // Append hand-encoded integer entries: i8, i16, i24, i32, i64.
        let ints: [(u8, &[u8], i64); 5] = [
            (0xFE, &[0x80], -128),
            (0xC0, &[0x00, 0x80], -32768),
            (0xF0, &[0xFF, 0xFF, 0x7F], 8_388_607),
            (0xD0, &[0, 0, 0, 0x80], -2_147_483_648),
            (
                0xE0,
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
                i64::MAX,
            ),
        ];
        zl.pop();
        let mut prev = 3usize;
        let mut tail = 10;
        for (enc, data, _) in ints {
            tail = zl.len();
            zl.push(prev as u8);
            zl.push(enc);
            zl.extend_from_slice(data);
            prev = 2 + data.len();
        }
        zl.push(0xFF);
        let n = zl.len() as u32;
        zl[0..4].copy_from_slice(&n.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&6u16.to_le_bytes());
        let mut want = vec![b"a".to_vec()];
        want.extend(ints.iter().map(|i| i.2.to_string().into_bytes()));
        assert_eq!(zl_decode(&zl).unwrap(), want);
        // 24-bit negative.
        let neg = {
            let mut z = ziplist(&[]);
            z.pop();
            z.extend_from_slice(&[0, 0xF0, 0x00, 0x00, 0x80, 0xFF]);
            let n = z.len() as u32;
            z[0..4].copy_from_slice(&n.to_le_bytes());
            z[4..8].copy_from_slice(&10u32.to_le_bytes());
            z[8..10].copy_from_slice(&1u16.to_le_bytes());
            z
        };
        assert_eq!(zl_decode(&neg).unwrap(), vec![b"-8388608".to_vec()]);

        let big = vec![b'b'; 20_000];
        let good = ziplist(&[Zl::S(&[b'x'; 300]), Zl::S(&big), Zl::S(b"t")]);
        assert_eq!(zl_decode(&good).unwrap().len(), 3);
        for (i, patch) in [(0usize, 1u8), (4, 1), (8, 1), (10, 1), (11, 0xC1)] {
            let mut bad = good.clone();
            bad[i] = bad[i].wrapping_add(patch);
            assert!(zl_decode(&bad).is_err(), "patch at {i}");
        }
        let mut bad = good.clone();
        *bad.last_mut().unwrap() = 0;
        assert!(zl_decode(&bad).is_err());
        assert!(zl_decode(&[11, 0, 0, 0, 10, 0, 0, 0, 0, 0]).is_err());
        assert!(zl_decode(&ziplist(&[])).unwrap().is_empty());
    }

    #[test]
    fn unsupported_types_name_the_key() {
        for (t, name) in [
            (RDB_TYPE_HASH_LISTPACK, "hash"),
            (RDB_TYPE_SET, "set"),
            (RDB_TYPE_SET_INTSET, "set"),
            (RDB_TYPE_ZSET_2, "zset"),
            (RDB_TYPE_STREAM_LISTPACKS_2, "stream"),
            (RDB_TYPE_MODULE_2, "module"),
        ] {
            let mut out = Vec::new();
            write_header(&mut out);
            write_string_record(&mut out, b"ok", b"1", false);
            let at = out.len();
            out.push(t);
            write_string(&mut out, b"user:1", false);
            out.extend_from_slice(&[0; 20]);
            let e = read_all(&out).unwrap_err();
            assert_eq!(e.offset, at as u64);
            assert_eq!(
                e.msg,
                format!("unsupported value type {name} (RDB type {t}) for key \"user:1\"")
            );
        }
        for op in [RDB_OPCODE_FUNCTION2, RDB_OPCODE_MODULE_AUX] {
            let mut out = b"REDIS0010".to_vec();
            out.push(op);
            let e = read_all(&out).unwrap_err();
            assert!(
                e.msg
                    .starts_with("RDB contains Redis Functions/module data"),
                "{e}"
            );
        }
        let mut out = b"REDIS0010".to_vec();
        out.push(8);
        assert_eq!(
            read_all(&out).unwrap_err().msg,
            "unknown RDB value type or opcode 8"
        );
        assert_eq!(quote_key(b"a\"b\\\x01"), "\"a\\\"b\\\\\\x01\"");
    }

    #[test]
    fn hostile_lengths_are_refused_without_allocating() {
        // A list claiming 2^62 elements, a quicklist claiming 2^40 nodes, an LZF string claiming
        // 2^40 bytes, a raw string of 2^60 bytes.
        let cases: Vec<Vec<u8>> = vec![
            {
                let mut o = vec![RDB_TYPE_LIST, 1, b'k'];
                write_len(&mut o, 1 << 62);
                o
            },
            {
                let mut o = vec![RDB_TYPE_LIST_QUICKLIST_2, 1, b'k'];
                write_len(&mut o, 1 << 40);
                o
            },
            {
                let mut o = vec![RDB_TYPE_STRING, 1, b'k', 0xC3, 2];
                write_len(&mut o, 1 << 40);
                o.extend_from_slice(&[0, b'a']);
                o
            },
            {
                let mut o = vec![RDB_TYPE_STRING, 1, b'k', 0xC3, 2];
                write_len(&mut o, 5000);
                o.extend_from_slice(&[0, b'a']);
                o
            },
            {
                let mut o = vec![RDB_TYPE_STRING, 1, b'k'];
                write_len(&mut o, 1 << 60);
                o
            },
            // Quicklist node with a bad container, and an empty node.
            vec![RDB_TYPE_LIST_QUICKLIST_2, 1, b'k', 1, 3, 1, b'x'],
            vec![RDB_TYPE_LIST_QUICKLIST_2, 1, b'k', 1, 2, 0],
            vec![RDB_TYPE_LIST_QUICKLIST_2, 1, b'k', 1, 1, 0xC3, 0, 0],
            // Unknown string encoding and length encoding.
            vec![RDB_TYPE_STRING, 1, b'k', 0xC4],
            vec![RDB_TYPE_STRING, 1, b'k', 0x82],
        ];
        let wants = [
            "list length 4611686018427387904 is more than the 9 bytes left",
            "quicklist node count 1099511627776 is more than",
            "LZF length 1099511627776 is implausible for 2 compressed bytes",
            "LZF length 5000 is implausible",
            "unexpected end of file reading string value (1152921504606846976 bytes, 9 left)",
            "invalid quicklist node container 3",
            "empty quicklist node",
            "empty quicklist node",
            "unknown string encoding 4",
            "unknown length encoding 0x82",
        ];
        assert_eq!(cases.len(), wants.len());
        for (body, want) in cases.into_iter().zip(wants) {
            let mut f = b"REDIS0010".to_vec();
            f.extend_from_slice(&body);
            let f = finish_file(f);
            let e = read_all(&f).unwrap_err();
            assert!(e.msg.contains(want), "{body:?}: {e}");
        }
    }

    #[test]
    fn empty_list_is_returned_empty() {
        let val = roundtrip_value(|o| write_list_record(o, b"e", 0, std::iter::empty(), true));
        assert_eq!(val, RdbValue::List(vec![]));
    }

    /// A dump.rdb written by Redis 7.0.15 itself (SET / RPUSH / PEXPIRE in db 0 and 2, SAVE
    /// with the default rdbcompression yes).
    const REDIS_DUMP: &[u8] = include_bytes!("../tests/fixtures/redis-7.0-dump.rdb");

    /// The elements of `l:large` in the fixture, as they were RPUSHed.
    fn fixture_large_list() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = (0..2000i64)
            .map(|i| match i % 6 {
                0 => (i * 37 - 20000).to_string(),
                1 => format!("item:{i}"),
                2 => (i * 1_000_003_000).to_string(),
                3 => "x".repeat((i % 200) as usize),
                4 => (i % 128).to_string(),
                _ => format!("-{}{i}", "0".repeat((i % 3) as usize)),
            })
            .map(String::into_bytes)
            .collect();
        v.insert(1000, vec![b'y'; 10000]);
        v
    }

    /// The nodes (container, uncompressed blob) of a list record, after an optional expire.
    fn record_nodes(rec: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut file = b"REDIS0010".to_vec();
        file.extend_from_slice(rec);
        let mut r = Reader::new(&file).unwrap();
        let mut t = r.byte("type").unwrap();
        if t == RDB_OPCODE_EXPIRETIME_MS {
            r.take(8, "expire").unwrap();
            t = r.byte("type").unwrap();
        }
        assert_eq!(t, RDB_TYPE_LIST_QUICKLIST_2);
        r.bytes("key").unwrap();
        let n = r.len("count").unwrap();
        let nodes = (0..n)
            .map(|_| {
                let c = r.len("container").unwrap();
                (c, r.string("node").unwrap().into_cow().into_owned())
            })
            .collect();
        assert_eq!(r.left(), 0);
        nodes
    }

    #[test]
    fn reads_a_dump_made_by_redis_7_0() {
        let mut r = Reader::new(REDIS_DUMP).unwrap();
        assert_eq!(r.version(), 10);
        let mut ctime_ms = 0i64;
        let mut keys = std::collections::BTreeMap::new();
        let mut raw = std::collections::BTreeMap::new();
        loop {
            let at = r.offset() as usize;
            let Some(rec) = r.next().unwrap() else { break };
            match rec {
                Record::Aux { key, val } => {
                    if &key[..] == b"ctime" {
                        ctime_ms =
                            std::str::from_utf8(&val).unwrap().parse::<i64>().unwrap() * 1000;
                    }
                    if &key[..] == b"redis-ver" {
                        assert_eq!(&val[..], b"7.0.15");
                    }
                }
                Record::SelectDb(_) | Record::ResizeDb { .. } => {}
                Record::Key {
                    db,
                    key,
                    expire_ms,
                    value,
                } => {
                    let name = format!("{db}/{}", String::from_utf8_lossy(&key));
                    raw.insert(name.clone(), REDIS_DUMP[at..r.offset() as usize].to_vec());
                    keys.insert(name, (expire_ms, value));
                }
            }
        }
        assert!(ctime_ms > 0);
        let s = |v: &[u8]| RdbValue::Str(Cow::Owned(v.to_vec()));
        let l = |v: &[&str]| {
            RdbValue::List(
                v.iter()
                    .map(|e| Cow::Owned(e.as_bytes().to_vec()))
                    .collect(),
            )
        };
        let ints = "0 127 128 -4096 4095 4096 -32768 32767 8388607 -8388608 2147483647 \
                    -2147483648 9223372036854775807 -9223372036854775808 -0 007 +5";
        let want: Vec<(&str, bool, RdbValue<'_>)> = vec![
            ("0/s:small", true, s(b"hello")),
            ("0/s:int", false, RdbValue::Int(12345)),
            ("0/s:neg", false, RdbValue::Int(-1)),
            ("0/s:big64", false, s(b"9223372036854775807")),
            ("0/s:long", false, s(&b"compressible-".repeat(150))),
            ("0/s:007", false, s(b"007")),
            ("0/s:empty", false, s(b"")),
            ("0/42", false, s(b"answer")),
            ("0/l:small", true, l(&["a", "b", "1", "2", "-3", "hello"])),
            (
                "0/l:large",
                false,
                RdbValue::List(fixture_large_list().into_iter().map(Cow::Owned).collect()),
            ),
            (
                "0/l:ints",
                false,
                l(&ints.split_whitespace().collect::<Vec<_>>()),
            ),
            ("2/k2", false, s(b"v2")),
            ("2/l2", false, l(&["x", "y", "z"])),
            ("2/ttl2", true, s(b"val")),
        ];
        assert_eq!(keys.len(), want.len());
        for (name, has_ttl, value) in &want {
            let (expire, got) = &keys[*name];
            assert_eq!(got, value, "{name}");
            assert_eq!(expire.is_some(), *has_ttl, "{name}");
        }
        // PEXPIREs of 3600000, 7200000 and 100000000 ms, a few ms before SAVE's ctime.
        for (name, ttl) in [
            ("0/s:small", 3_600_000),
            ("0/l:small", 7_200_000),
            ("2/ttl2", 100_000_000),
        ] {
            let left = keys[name].0.unwrap() - ctime_ms;
            assert!((ttl - 1000..=ttl + 1000).contains(&left), "{name}: {left}");
        }

        // Our writer encodes every key as Redis did: strings byte for byte (LZF aside, whose
        // exact output depends on the compressor), lists with the very same listpack nodes.
        for (name, (expire, value)) in &keys {
            let key = name.split_once('/').unwrap().1.as_bytes();
            let mut ours = Vec::new();
            if let Some(e) = expire {
                write_expire_ms(&mut ours, *e);
            }
            match value {
                RdbValue::Str(v) => write_string_record(&mut ours, key, v, true),
                RdbValue::Int(v) => write_int_record(&mut ours, key, *v, true),
                RdbValue::List(items) => {
                    write_list_record(
                        &mut ours,
                        key,
                        items.len(),
                        items.iter().map(|e| &e[..]),
                        true,
                    );
                    assert_eq!(record_nodes(&ours), record_nodes(&raw[name]), "{name}");
                    continue;
                }
            }
            if name != "0/s:long" {
                assert_eq!(ours, raw[name], "{name}");
            }
        }
    }

    #[test]
    fn blob_errors_point_into_the_file() {
        let items: Vec<&[u8]> = vec![b"alpha", b"beta", b"gamma"];
        let mut f = Vec::new();
        write_header(&mut f);
        write_list_record(&mut f, b"k", 3, items.iter().copied(), false);
        let f = finish_file(f);
        // header 9, type 1, key 2, node count 1, container 1, blob length 1: listpack at 15.
        assert_eq!(&f[15 + 4..15 + 6], &[3, 0]);
        let mut bad = f.clone();
        bad[15 + 4] = 4;
        let e = read_all(&bad).unwrap_err();
        assert_eq!(e.offset, 15 + 4);
        assert_eq!(e.msg, "listpack header says 4 entries but it has 3");
        // Inside a compressed node the offset is the node's, the message says where inside.
        let long: Vec<u8> = b"abcd".repeat(30);
        let mut f = Vec::new();
        write_header(&mut f);
        write_list_record(&mut f, b"k", 1, std::iter::once(&long[..]), true);
        assert_eq!(f[14], 0xC3, "the node is LZF-compressed");
        // Corrupt the listpack's count through a re-compressed node.
        let mut lp = lp_build(&[&long]);
        lp[4] = 9;
        let mut g = Vec::new();
        write_header(&mut g);
        g.extend_from_slice(&[RDB_TYPE_LIST_QUICKLIST_2, 1, b'k', 1, 2]);
        write_string(&mut g, &lp, true);
        let g = finish_file(g);
        let e = read_all(&g).unwrap_err();
        assert_eq!(e.offset, 14);
        assert_eq!(
            e.msg,
            "listpack header says 9 entries but it has 1 (at byte 4 of the decompressed listpack)"
        );
    }
}

//! One shard's data: its logical databases, each a hash table from byte keys to values, plus an
//! index of the keys that carry a TTL.
//!
//! Expiry is both lazy and active, as in Redis: a lookup never returns a key past its deadline (it
//! deletes it on the spot and counts it in `expired_keys`), and [`Keyspace::active_expire_cycle`]
//! samples keys with a TTL to reclaim the ones nobody reads, within a budget. The clock is always a
//! parameter (`now_ms`, unix milliseconds) and never read here, so time is testable without sleeps.
//! A key is expired when `now_ms > deadline` (strictly), exactly as Redis's `keyIsExpired`.
//!
//! # Representation, and why
//!
//! The target is fewer bytes per key than Redis (~113 B/key RSS for 1M small string keys), so the
//! common small key costs one table slot and no heap allocation at all:
//!
//! - [`SmallBytes`] (16 bytes) holds up to 15 bytes inline; longer data lives in one heap block
//!   (exact size when created, with sds-like spare room once grown by APPEND/SETRANGE). String
//!   values and list elements use it (and the `expires` index's copy of a key).
//! - [`Value`] (16 bytes) is a tagged cell: an inline or heap string (same layout as `SmallBytes`),
//!   a 64-bit integer, or a boxed list. Hashes, sets and sorted sets become more kinds of the same
//!   tag byte. Three of its bytes belong to the entry holding it, which keeps the key's access
//!   clock there (Redis's 24-bit LRU field, for OBJECT IDLETIME), so a value string is inline
//!   only up to 12 bytes.
//! - A table slot is `{ key, value }` = 32 bytes in a `hashbrown::HashTable` (we hash once per
//!   command). The key takes all 16 of its bytes inline (keys up to 16 bytes, like
//!   redis-benchmark's `key:000000012345`, need no allocation); its one tag bit, "key on heap",
//!   and the "has TTL" bit live in two spare bits of the value's tag byte. Writers reach a value
//!   only through [`Slot`], so those bits survive any change of the value.
//! - The deadline is not in the slot (most keys have none): a key with a TTL has its bit set and
//!   its deadline lives in the DB's `expires` index, an `IndexMap` that gives O(1) lookup and O(1)
//!   uniform random sampling by position for the active cycle. Keys without a TTL never touch it.
//!
//! For 1M keys `key:<n>` (10 bytes) with 16-byte values that is a 32-byte slot (+1 control byte) at
//! the table's load factor (hashbrown keeps it between 7/16 and 7/8 full), plus one 16-byte heap
//! block for the value: measured 101 B/key RSS with glibc malloc (less with mimalloc), and ~70 B/key
//! with no per-key allocation at all when the key is ≤ 16 bytes and the value ≤ 12 bytes (or an
//! integer).

use hashbrown::HashTable;
use indexmap::IndexMap;
use std::borrow::Borrow;
use std::collections::VecDeque;
use std::fmt;
use std::hash::Hasher;
use std::time::{Duration, Instant};

pub use cell::MAX_LEN;

/// A list value. Elements are [`SmallBytes`], so short elements need no allocation of their own.
/// (A denser listpack-like encoding can replace it later behind the same `Value` kind.)
pub type List = VecDeque<SmallBytes>;

/// A hash value: field → value, in insertion order (as Redis's listpack keeps small hashes), with
/// O(1) access by position for HRANDFIELD and a cursor for HSCAN.
pub type Hash = IndexMap<SmallBytes, SmallBytes, ahash::RandomState>;

/// A set value, in insertion order, with O(1) access by position (SPOP, SRANDMEMBER, SSCAN).
pub type Set = indexmap::IndexSet<SmallBytes, ahash::RandomState>;

/// A sorted-set value (see [`crate::zset`]).
pub use crate::zset::Zset;

/// The 16-byte tagged cell behind [`SmallBytes`] and [`Value`]. All `unsafe` of this module is here.
mod cell {
    use super::{Hash, List, Set, Zset};
    use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
    use std::ptr::NonNull;

    /// Bytes stored inline, without a heap block.
    pub const INLINE_CAP: usize = 15;
    /// Bytes a stored *value* keeps inline. Bytes 12..15 of a value cell are its owner's (see
    /// [`Cell::owner_bytes`]: the keyspace keeps the key's access clock there), so a 13–15 byte
    /// value string takes a heap block (or is an integer). `SmallBytes` keep all 15.
    pub const VALUE_INLINE_CAP: usize = 12;
    /// Largest string a cell can hold (30-bit length, 1 GiB - 1). Redis caps strings at
    /// 512 MiB (`proto-max-bulk-len`), well below.
    pub const MAX_LEN: usize = LEN_MASK as usize;

    // The tag is byte 15 of the cell. For heap strings it is the top byte of `meta` (stored
    // little-endian so that holds on any platform); its lowest bit then says whether the block
    // has a capacity header.
    const TAG_HEAP: u8 = 0x80;
    /// Two spare bits the owner may use (the keyspace keeps "key on heap" and "has TTL" of the
    /// entry holding this value there). Every constructor leaves them 0.
    pub const OWNER_BITS: u8 = 0x60;
    const KIND_MASK: u8 = 0x1F;
    /// Non-heap kinds: 0..=15 is an inline string of that length.
    pub const KIND_INT: u8 = 16;
    pub const KIND_LIST: u8 = 17;
    pub const KIND_HASH: u8 = 18;
    pub const KIND_SET: u8 = 19;
    pub const KIND_ZSET: u8 = 20;

    const META_HEAP: u64 = 1 << 63;
    const META_OWNER_SHIFT: u32 = 56;
    /// The block has spare room: it starts [`HEADER`] bytes before the data with its capacity
    /// (a little-endian `u32`). Only strings grown by APPEND/SETRANGE have one; a string made
    /// whole (SET, the common case) is an exact-size block of `len` bytes.
    ///
    /// Why not a capacity field in the cell: its bits now hold the owner bytes.
    const META_CAP_HEADER: u64 = 1 << 56;
    const LEN_MASK: u64 = (1 << 30) - 1;
    const HEADER: usize = 4;

    #[derive(Clone, Copy)]
    #[repr(C)]
    struct Ptr {
        ptr: NonNull<u8>,
        /// Little-endian encoded: heap bit, 2 owner bits, 4 unused bits, capacity-header bit,
        /// 24 owner-byte bits, 2 unused bits, 30-bit length.
        meta: u64,
    }

    #[repr(C, align(8))]
    union Raw {
        bytes: [u8; 16],
        ptr: Ptr,
    }

    /// What a cell holds, decoded from its tag.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Repr {
        Inline(usize),
        Heap,
        Int,
        List,
        Hash,
        Set,
        Zset,
    }

    /// Owns whatever its tag says: an inline string, a heap block, an integer or a boxed list.
    pub struct Cell(Raw);

    // SAFETY: a cell uniquely owns its heap block or list (like `Box`); it has no interior
    // mutability and no shared ownership, so moving it to or sharing it with another thread is as
    // safe as for `Box<[u8]>` / `Box<List>`.
    unsafe impl Send for Cell {}
    unsafe impl Sync for Cell {}

    fn grow_cap(need: usize) -> usize {
        // Like sds: double small strings, add 1 MiB to big ones, so repeated APPENDs are amortized
        // O(1) without wasting much on large values.
        const MAX_PREALLOC: usize = 1024 * 1024;
        let cap = if need < MAX_PREALLOC {
            need.saturating_mul(2)
        } else {
            need.saturating_add(MAX_PREALLOC)
        };
        cap.min(MAX_LEN).max(need)
    }

    fn layout(cap: usize) -> Layout {
        // cap <= MAX_LEN < isize::MAX, align 1: always valid.
        Layout::from_size_align(cap, 1).expect("cell layout")
    }

    impl Cell {
        #[inline]
        pub fn tag(&self) -> u8 {
            // SAFETY: every constructor initializes all 16 bytes; byte 15 is an integer byte in
            // every representation.
            unsafe { self.0.bytes[15] }
        }

        #[inline]
        pub fn repr(&self) -> Repr {
            let t = self.tag();
            if t & TAG_HEAP != 0 {
                return Repr::Heap;
            }
            match t & KIND_MASK {
                k if k as usize <= INLINE_CAP => Repr::Inline(k as usize),
                KIND_INT => Repr::Int,
                KIND_LIST => Repr::List,
                KIND_HASH => Repr::Hash,
                KIND_SET => Repr::Set,
                KIND_ZSET => Repr::Zset,
                _ => unreachable!("cell kinds are only built here"),
            }
        }

        /// The owner bits (a subset of [`OWNER_BITS`]).
        #[inline]
        pub fn owner_bits(&self) -> u8 {
            self.tag() & OWNER_BITS
        }

        #[inline]
        pub fn set_owner_bits(&mut self, bits: u8) {
            // SAFETY: writes only byte 15, an integer byte in every representation; the pointer
            // bytes (0..8) are untouched, and only the two owner bits change.
            unsafe {
                self.0.bytes[15] = (self.0.bytes[15] & !OWNER_BITS) | (bits & OWNER_BITS);
            }
        }

        /// The three owner bytes (cell bytes 12..15) of a value cell, as a 24-bit number. Every
        /// constructor leaves them 0. Only meaningful for cells built as values (an inline
        /// `SmallBytes` of 13–15 bytes keeps data there).
        #[inline]
        pub fn owner_bytes(&self) -> u32 {
            // SAFETY: bytes 12..15 are integer bytes in every representation (inline data or
            // padding, the int's zero padding, or `meta`'s middle bytes).
            let b = unsafe { &self.0.bytes };
            u32::from_le_bytes([b[12], b[13], b[14], 0])
        }

        #[inline]
        pub fn set_owner_bytes(&mut self, v: u32) {
            debug_assert!(!matches!(self.repr(), Repr::Inline(n) if n > VALUE_INLINE_CAP));
            let v = v.to_le_bytes();
            // SAFETY: as above; the pointer bytes (0..8), the length and the tag are untouched.
            unsafe { self.0.bytes[12..15].copy_from_slice(&v[..3]) }
        }

        fn inline(data: &[u8], bits: u8) -> Cell {
            debug_assert!(data.len() <= INLINE_CAP);
            let mut b = [0u8; 16];
            b[..data.len()].copy_from_slice(data);
            b[15] = data.len() as u8 | bits;
            Cell(Raw { bytes: b })
        }

        /// A heap string of `data` with room for `cap` bytes (`cap >= data.len()`, both <= MAX_LEN):
        /// an exact-size block when `cap == data.len()`, else one with a capacity header.
        fn heap(data: &[u8], cap: usize, bits: u8) -> Cell {
            assert!(
                cap <= MAX_LEN && data.len() <= cap,
                "string too long for a cell"
            );
            let header = cap != data.len();
            let size = if header { cap + HEADER } else { cap.max(1) };
            // SAFETY: layout has non-zero size; the header and data are written before use, and
            // the data pointer stays inside the block.
            let ptr = unsafe {
                let p = alloc(layout(size));
                let Some(p) = NonNull::new(p) else {
                    handle_alloc_error(layout(size))
                };
                let d = if header {
                    let c = (cap as u32).to_le_bytes();
                    std::ptr::copy_nonoverlapping(c.as_ptr(), p.as_ptr(), HEADER);
                    NonNull::new_unchecked(p.as_ptr().add(HEADER))
                } else {
                    p
                };
                std::ptr::copy_nonoverlapping(data.as_ptr(), d.as_ptr(), data.len());
                d
            };
            Cell(Raw {
                ptr: Ptr {
                    ptr,
                    meta: Self::meta(data.len(), header, bits).to_le(),
                },
            })
        }

        fn meta(len: usize, header: bool, bits: u8) -> u64 {
            META_HEAP
                | (u64::from(bits & OWNER_BITS) << META_OWNER_SHIFT)
                | if header { META_CAP_HEADER } else { 0 }
                | len as u64
        }

        /// A string cell: inline when it fits, else one exact-size heap block.
        pub fn string(data: &[u8]) -> Cell {
            if data.len() <= INLINE_CAP {
                Self::inline(data, 0)
            } else {
                Self::heap(data, data.len(), 0)
            }
        }

        /// A string cell for a value: as [`Cell::string`], inline only up to
        /// [`VALUE_INLINE_CAP`].
        pub fn value_string(data: &[u8]) -> Cell {
            if data.len() <= VALUE_INLINE_CAP {
                Self::inline(data, 0)
            } else {
                Self::heap(data, data.len(), 0)
            }
        }

        pub fn int(v: i64) -> Cell {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&v.to_le_bytes());
            b[15] = KIND_INT;
            Cell(Raw { bytes: b })
        }

        /// A cell owning a boxed collection, tagged `kind`.
        fn boxed<T>(b: Box<T>, kind: u8) -> Cell {
            let p = NonNull::from(Box::leak(b)).cast::<u8>();
            Cell(Raw {
                ptr: Ptr {
                    ptr: p,
                    meta: ((kind as u64) << 56).to_le(),
                },
            })
        }

        pub fn list(l: Box<List>) -> Cell {
            Self::boxed(l, KIND_LIST)
        }

        pub fn hash(h: Box<Hash>) -> Cell {
            Self::boxed(h, KIND_HASH)
        }

        pub fn set(s: Box<Set>) -> Cell {
            Self::boxed(s, KIND_SET)
        }

        pub fn zset(z: Box<Zset>) -> Cell {
            Self::boxed(z, KIND_ZSET)
        }

        /// The boxed collection, if the cell is of kind `want`. Safety: `T` must be the type
        /// `boxed` was called with for that kind (each `as_*` pairs one kind with one type).
        #[inline]
        unsafe fn boxed_ref<T>(&self, want: Repr) -> Option<&T> {
            if self.repr() == want {
                Some(self.0.ptr.ptr.cast::<T>().as_ref())
            } else {
                None
            }
        }

        /// Same, mutably. Safety: as [`Cell::boxed_ref`].
        #[inline]
        unsafe fn boxed_mut<T>(&mut self, want: Repr) -> Option<&mut T> {
            if self.repr() == want {
                Some(self.0.ptr.ptr.cast::<T>().as_mut())
            } else {
                None
            }
        }

        /// Where this cell's out-of-line data starts (a heap string's bytes, a boxed
        /// collection), for a prefetch hint; `None` when it has none.
        #[inline]
        pub fn heap_ptr(&self) -> Option<*const u8> {
            match self.repr() {
                Repr::Inline(_) | Repr::Int => None,
                // SAFETY: every other representation wrote `ptr`.
                _ => Some(unsafe { self.0.ptr.ptr.as_ptr() as *const u8 }),
            }
        }

        /// A heap string's data pointer and length.
        #[inline]
        fn heap_parts(&self) -> (NonNull<u8>, usize) {
            // SAFETY: only called when the tag says Heap, so `ptr` was the field written.
            let p = unsafe { self.0.ptr };
            (p.ptr, (u64::from_le(p.meta) & LEN_MASK) as usize)
        }

        /// A heap string's capacity: its header's, or its length for an exact-size block.
        fn heap_cap(&self) -> usize {
            // SAFETY: only called when the tag says Heap.
            let p = unsafe { self.0.ptr };
            let m = u64::from_le(p.meta);
            if m & META_CAP_HEADER == 0 {
                return (m & LEN_MASK) as usize;
            }
            let mut c = [0u8; HEADER];
            // SAFETY: a block with a header starts `HEADER` bytes before the data.
            unsafe {
                std::ptr::copy_nonoverlapping(p.ptr.as_ptr().sub(HEADER), c.as_mut_ptr(), HEADER)
            };
            u32::from_le_bytes(c) as usize
        }

        /// Where a heap string's block starts and the layout it was allocated with.
        fn heap_block(&self) -> (*mut u8, Layout) {
            // SAFETY: only called when the tag says Heap.
            let p = unsafe { self.0.ptr };
            if u64::from_le(p.meta) & META_CAP_HEADER == 0 {
                let (ptr, len) = self.heap_parts();
                (ptr.as_ptr(), layout(len.max(1)))
            } else {
                // SAFETY: the header precedes the data inside the block.
                let start = unsafe { p.ptr.as_ptr().sub(HEADER) };
                (start, layout(self.heap_cap() + HEADER))
            }
        }

        /// Sets a heap string's length (`<=` its capacity), leaving every other bit.
        fn set_heap_len(&mut self, len: usize) {
            // SAFETY: only called when the tag says Heap; `meta` is plain bits.
            unsafe {
                let m = u64::from_le(self.0.ptr.meta);
                self.0.ptr.meta = ((m & !LEN_MASK) | len as u64).to_le();
            }
        }

        /// The bytes of a string cell (inline or heap); `None` for other kinds.
        #[inline]
        pub fn str_bytes(&self) -> Option<&[u8]> {
            match self.repr() {
                // SAFETY: inline strings were written through `bytes`.
                Repr::Inline(n) => Some(unsafe { &self.0.bytes[..n] }),
                Repr::Heap => {
                    let (p, len) = self.heap_parts();
                    // SAFETY: the block holds `cap >= len` initialized bytes owned by this cell.
                    Some(unsafe { std::slice::from_raw_parts(p.as_ptr(), len) })
                }
                _ => None,
            }
        }

        pub fn as_int(&self) -> Option<i64> {
            match self.repr() {
                Repr::Int => {
                    // SAFETY: int cells were written through `bytes`.
                    let b = unsafe { &self.0.bytes };
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&b[..8]);
                    Some(i64::from_le_bytes(w))
                }
                _ => None,
            }
        }

        pub fn as_list(&self) -> Option<&List> {
            // SAFETY: list cells own a leaked `Box<List>` in `ptr`.
            unsafe { self.boxed_ref(Repr::List) }
        }

        pub fn as_list_mut(&mut self) -> Option<&mut List> {
            // SAFETY: as above, and `&mut self` makes the access unique.
            unsafe { self.boxed_mut(Repr::List) }
        }

        pub fn as_hash(&self) -> Option<&Hash> {
            // SAFETY: hash cells own a leaked `Box<Hash>`.
            unsafe { self.boxed_ref(Repr::Hash) }
        }

        pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
            // SAFETY: as above, uniquely borrowed.
            unsafe { self.boxed_mut(Repr::Hash) }
        }

        pub fn as_set(&self) -> Option<&Set> {
            // SAFETY: set cells own a leaked `Box<Set>`.
            unsafe { self.boxed_ref(Repr::Set) }
        }

        pub fn as_set_mut(&mut self) -> Option<&mut Set> {
            // SAFETY: as above, uniquely borrowed.
            unsafe { self.boxed_mut(Repr::Set) }
        }

        pub fn as_zset(&self) -> Option<&Zset> {
            // SAFETY: zset cells own a leaked `Box<Zset>`.
            unsafe { self.boxed_ref(Repr::Zset) }
        }

        pub fn as_zset_mut(&mut self) -> Option<&mut Zset> {
            // SAFETY: as above, uniquely borrowed.
            unsafe { self.boxed_mut(Repr::Zset) }
        }

        /// Heap bytes this cell owns beyond itself (for memory estimates).
        pub fn heap_size(&self) -> usize {
            match self.repr() {
                Repr::Heap => self.heap_block().1.size(),
                Repr::List => self.as_list().map_or(0, |l| {
                    std::mem::size_of::<List>()
                        + l.capacity() * std::mem::size_of::<super::SmallBytes>()
                        + l.iter().map(|e| e.0.heap_size()).sum::<usize>()
                }),
                Repr::Hash => self.as_hash().map_or(0, |h| {
                    // Entries (hash + key + value) plus the index table, as IndexMap lays them out.
                    std::mem::size_of::<Hash>()
                        + h.capacity() * (8 + 2 * std::mem::size_of::<super::SmallBytes>() + 8)
                        + h.iter()
                            .map(|(k, v)| k.0.heap_size() + v.0.heap_size())
                            .sum::<usize>()
                }),
                Repr::Set => self.as_set().map_or(0, |s| {
                    std::mem::size_of::<Set>()
                        + s.capacity() * (8 + std::mem::size_of::<super::SmallBytes>() + 8)
                        + s.iter().map(|m| m.0.heap_size()).sum::<usize>()
                }),
                Repr::Zset => self
                    .as_zset()
                    .map_or(0, |z| std::mem::size_of::<Zset>() + z.heap_size()),
                _ => 0,
            }
        }

        /// Resizes a value's string cell to `new_len` (growing only), zero-filling new bytes, and
        /// returns the whole string mutably. An int cell is first turned into its decimal text.
        /// Returns `None` for non-strings or when `new_len > MAX_LEN`. The owner bits and owner
        /// bytes survive every change of representation.
        pub fn str_grow(&mut self, new_len: usize) -> Option<&mut [u8]> {
            if new_len > MAX_LEN {
                return None;
            }
            let bits = self.owner_bits();
            let owner = self.owner_bytes();
            if let Some(v) = self.as_int() {
                let mut buf = itoa::Buffer::new();
                *self = Cell::value_string(buf.format(v).as_bytes());
                self.set_owner_bits(bits);
                self.set_owner_bytes(owner);
            }
            match self.repr() {
                Repr::Inline(n) => {
                    let new_len = new_len.max(n);
                    if new_len <= VALUE_INLINE_CAP {
                        // SAFETY: inline cell, written through `bytes`; byte 15 stays the tag and
                        // bytes 12..15 (past the data) stay the owner's.
                        unsafe {
                            let b = &mut self.0.bytes;
                            b[n..new_len].fill(0);
                            b[15] = new_len as u8 | bits;
                            Some(&mut b[..new_len])
                        }
                    } else {
                        let mut data = [0u8; INLINE_CAP];
                        // SAFETY: as above.
                        data[..n].copy_from_slice(unsafe { &self.0.bytes[..n] });
                        *self = Cell::heap(&data[..n], grow_cap(new_len), bits);
                        self.set_owner_bytes(owner);
                        Some(self.heap_extend(n, new_len))
                    }
                }
                Repr::Heap => {
                    let (_, len) = self.heap_parts();
                    let new_len = new_len.max(len);
                    if new_len > self.heap_cap() {
                        let new_cap = grow_cap(new_len);
                        if self.has_header() {
                            let (start, old) = self.heap_block();
                            // SAFETY: `start` was allocated with `old`; the new size is non-zero
                            // and valid for align 1; the header moves with the block.
                            let np = unsafe { realloc(start, old, new_cap + HEADER) };
                            let Some(np) = NonNull::new(np) else {
                                handle_alloc_error(layout(new_cap + HEADER))
                            };
                            let c = (new_cap as u32).to_le_bytes();
                            // SAFETY: the new block has `new_cap + HEADER` bytes.
                            unsafe {
                                std::ptr::copy_nonoverlapping(c.as_ptr(), np.as_ptr(), HEADER);
                                self.0.ptr.ptr = NonNull::new_unchecked(np.as_ptr().add(HEADER));
                            }
                        } else {
                            // An exact block has no room for the header: move to a new one.
                            let grown =
                                Cell::heap(self.str_bytes().unwrap_or_default(), new_cap, bits);
                            *self = grown;
                            self.set_owner_bytes(owner);
                        }
                    }
                    Some(self.heap_extend(len, new_len))
                }
                _ => None,
            }
        }

        /// Whether a heap string's block has a capacity header.
        fn has_header(&self) -> bool {
            // SAFETY: only called when the tag says Heap.
            u64::from_le(unsafe { self.0.ptr.meta }) & META_CAP_HEADER != 0
        }

        /// Zero-fills a heap string from `len` to `new_len` (within its capacity), sets its length
        /// and returns the whole string.
        fn heap_extend(&mut self, len: usize, new_len: usize) -> &mut [u8] {
            debug_assert!(new_len <= self.heap_cap());
            let (p, _) = self.heap_parts();
            self.set_heap_len(new_len);
            // SAFETY: the block has `cap >= new_len` bytes, the first `len` initialized; the
            // slice is uniquely borrowed through `&mut self`.
            unsafe {
                std::ptr::write_bytes(p.as_ptr().add(len), 0, new_len - len);
                std::slice::from_raw_parts_mut(p.as_ptr(), new_len)
            }
        }
    }

    impl Drop for Cell {
        fn drop(&mut self) {
            match self.repr() {
                Repr::Heap => {
                    let (start, layout) = self.heap_block();
                    // SAFETY: allocated by `heap`/`str_grow` with this layout, owned by us.
                    unsafe { dealloc(start, layout) }
                }
                // SAFETY (three arms): built by `boxed` from a `Box` of that kind's type, owned.
                Repr::List => {
                    drop(unsafe { Box::from_raw(self.0.ptr.ptr.cast::<List>().as_ptr()) })
                }
                Repr::Hash => {
                    drop(unsafe { Box::from_raw(self.0.ptr.ptr.cast::<Hash>().as_ptr()) })
                }
                Repr::Set => drop(unsafe { Box::from_raw(self.0.ptr.ptr.cast::<Set>().as_ptr()) }),
                Repr::Zset => {
                    drop(unsafe { Box::from_raw(self.0.ptr.ptr.cast::<Zset>().as_ptr()) })
                }
                _ => {}
            }
        }
    }

    impl Clone for Cell {
        /// A standalone copy: the owner bits and owner bytes are not copied.
        fn clone(&self) -> Cell {
            let mut c = match self.repr() {
                Repr::Inline(_) | Repr::Int => {
                    // SAFETY: plain bytes, no ownership.
                    let mut b = unsafe { self.0.bytes };
                    if !matches!(self.repr(), Repr::Inline(n) if n > VALUE_INLINE_CAP) {
                        b[12..15].fill(0);
                    }
                    Cell(Raw { bytes: b })
                }
                // Exact-size, and never inline: a heap value string of 13–15 bytes stays one.
                Repr::Heap => {
                    let b = self.str_bytes().unwrap_or_default();
                    Cell::heap(b, b.len(), 0)
                }
                Repr::List => Cell::list(Box::new(self.as_list().cloned().unwrap_or_default())),
                Repr::Hash => Cell::hash(Box::new(self.as_hash().cloned().unwrap_or_default())),
                Repr::Set => Cell::set(Box::new(self.as_set().cloned().unwrap_or_default())),
                Repr::Zset => Cell::zset(Box::new(self.as_zset().cloned().unwrap_or_default())),
            };
            c.set_owner_bits(0);
            c
        }
    }
}

use cell::{Cell, Repr};

/// Binary-safe bytes in 16 bytes: up to 15 inline, longer in one heap block.
///
/// Why not `Vec<u8>`/`Bytes`: those are 24–32 bytes plus a heap block even for a 5-byte key;
/// most keys and list elements are short, so inline storage is where the memory goes.
#[derive(Clone)]
pub struct SmallBytes(Cell);

impl SmallBytes {
    pub fn new(data: &[u8]) -> SmallBytes {
        SmallBytes(Cell::string(data))
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        self.0.str_bytes().unwrap_or_default()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// True when the bytes live inside the 16-byte value itself.
    pub fn is_inline(&self) -> bool {
        matches!(self.0.repr(), Repr::Inline(_))
    }

    /// Heap bytes owned (0 when inline).
    pub fn heap_size(&self) -> usize {
        self.0.heap_size()
    }
}

impl std::ops::Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> Self {
        SmallBytes::new(b)
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for SmallBytes {}

impl std::hash::Hash for SmallBytes {
    // Must hash exactly like `[u8]` so maps keyed by `SmallBytes` can be queried with `&[u8]`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

/// The type of a value, as TYPE reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    List,
    Hash,
    Set,
    Zset,
}

impl Kind {
    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::Zset => "zset",
        }
    }
}

/// A string value as stored: raw bytes, or an integer kept in binary (what INCR produces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrRef<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

impl StrRef<'_> {
    /// Length of the string form (digits and sign for integers).
    pub fn len(&self) -> usize {
        match self {
            StrRef::Bytes(b) => b.len(),
            StrRef::Int(v) => itoa::Buffer::new().format(*v).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer if it is one in Redis's strict `string2ll` sense.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrRef::Bytes(b) => crate::cmd::parse_i64(b),
            StrRef::Int(v) => Some(*v),
        }
    }

    /// Calls `f` with the string form (integers are formatted on the stack).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrRef::Bytes(b) => f(b),
            StrRef::Int(v) => f(itoa::Buffer::new().format(*v).as_bytes()),
        }
    }
}

/// A stored value: 16 bytes, a tagged cell (inline/heap string, integer, boxed list).
///
/// Why integers: counters (INCR) update in place without parsing or formatting, and 16–20 digit
/// numbers (timestamps, ids) need no heap block. The encoding is invisible to clients.
#[derive(Clone)]
pub struct Value(Cell);

impl Value {
    /// A string value. Canonical integers too long to sit inline (13–20 chars) are stored as
    /// integers, like Redis's `tryObjectEncoding`; the bytes read back are identical.
    pub fn string(data: &[u8]) -> Value {
        if data.len() > cell::VALUE_INLINE_CAP && data.len() <= 20 {
            if let Some(v) = crate::cmd::parse_i64(data) {
                return Value::int(v);
            }
        }
        Value(Cell::value_string(data))
    }

    pub fn int(v: i64) -> Value {
        Value(Cell::int(v))
    }

    pub fn list(l: List) -> Value {
        Value(Cell::list(Box::new(l)))
    }

    pub fn hash(h: Hash) -> Value {
        Value(Cell::hash(Box::new(h)))
    }

    pub fn set(s: Set) -> Value {
        Value(Cell::set(Box::new(s)))
    }

    pub fn zset(z: Zset) -> Value {
        Value(Cell::zset(Box::new(z)))
    }

    pub fn kind(&self) -> Kind {
        match self.0.repr() {
            Repr::Inline(_) | Repr::Heap | Repr::Int => Kind::String,
            Repr::List => Kind::List,
            Repr::Hash => Kind::Hash,
            Repr::Set => Kind::Set,
            Repr::Zset => Kind::Zset,
        }
    }

    /// The string, or `None` for other types (the caller replies WRONGTYPE).
    #[inline]
    pub fn as_str(&self) -> Option<StrRef<'_>> {
        match self.0.as_int() {
            Some(v) => Some(StrRef::Int(v)),
            None => self.0.str_bytes().map(StrRef::Bytes),
        }
    }

    pub fn as_list(&self) -> Option<&List> {
        self.0.as_list()
    }

    pub fn as_list_mut(&mut self) -> Option<&mut List> {
        self.0.as_list_mut()
    }

    pub fn as_hash(&self) -> Option<&Hash> {
        self.0.as_hash()
    }

    pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        self.0.as_hash_mut()
    }

    pub fn as_set(&self) -> Option<&Set> {
        self.0.as_set()
    }

    pub fn as_set_mut(&mut self) -> Option<&mut Set> {
        self.0.as_set_mut()
    }

    pub fn as_zset(&self) -> Option<&Zset> {
        self.0.as_zset()
    }

    pub fn as_zset_mut(&mut self) -> Option<&mut Zset> {
        self.0.as_zset_mut()
    }

    /// Appends to a string value; returns the new length (`None` if not a string or too long).
    pub fn append(&mut self, data: &[u8]) -> Option<usize> {
        let old = self.as_str()?.len();
        let new_len = old.checked_add(data.len())?;
        let s = self.0.str_grow(new_len)?;
        s[old..].copy_from_slice(data);
        Some(new_len)
    }

    /// Overwrites bytes at `offset`, zero-padding as needed (SETRANGE); returns the new length.
    pub fn set_range(&mut self, offset: usize, data: &[u8]) -> Option<usize> {
        let end = offset.checked_add(data.len())?;
        let s = self.0.str_grow(end)?;
        s[offset..end].copy_from_slice(data);
        Some(s.len())
    }

    /// Heap bytes owned beyond the 16-byte cell (for memory estimates).
    pub fn heap_size(&self) -> usize {
        self.0.heap_size()
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.as_str(), self.as_list()) {
            (Some(StrRef::Int(v)), _) => write!(f, "Int({v})"),
            (Some(StrRef::Bytes(b)), _) => write!(f, "Str({:?})", String::from_utf8_lossy(b)),
            (_, Some(l)) => write!(f, "List({l:?})"),
            _ => match (self.as_hash(), self.as_set()) {
                (Some(h), _) => write!(f, "Hash({h:?})"),
                (_, Some(s)) => write!(f, "Set({s:?})"),
                _ => match self.as_zset() {
                    Some(z) => write!(f, "Zset({:?})", z.iter().collect::<Vec<_>>()),
                    None => write!(f, "?"),
                },
            },
        }
    }
}

/// What a write does to the key's TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ttl {
    /// Remove any TTL (plain SET).
    Clear,
    /// Keep the existing TTL (SET KEEPTTL, INCR, APPEND…).
    Keep,
    /// Expire at this absolute unix time in milliseconds.
    At(i64),
}

/// Counters Redis reports in INFO stats.
#[derive(Clone, Debug, Default)]
pub struct KeyspaceStats {
    /// Keys deleted because their TTL passed (lazily or by the active cycle).
    pub expired_keys: u64,
    /// Successful / failed read lookups (`lookupKeyRead`).
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// Running estimate of the share of sampled volatile keys found expired (0..=1).
    pub expired_stale_perc: f64,
    /// Active cycles that stopped because their time budget ran out.
    pub expired_time_cap_reached_count: u64,
    /// Time spent in active expire cycles, in microseconds (when a time budget is used).
    pub expire_cycle_time_used_us: u64,
}

/// How much one active expire cycle may do.
#[derive(Clone, Copy, Debug)]
pub struct ExpireBudget {
    /// Wall time; checked every 16 sampling rounds (as Redis), so it may overshoot by one slice.
    pub time: Option<Duration>,
    /// Upper bound on keys sampled in this cycle (deterministic budget, for tests and tuning).
    pub max_sampled: Option<u64>,
}

impl ExpireBudget {
    /// Redis's slow cycle: at most 25% of one `1/hz` period.
    pub fn for_hz(hz: u32) -> ExpireBudget {
        let us = 25 * 1_000_000 / 100 / u64::from(hz.max(1));
        ExpireBudget {
            time: Some(Duration::from_micros(us.max(1))),
            max_sampled: None,
        }
    }

    pub fn time(d: Duration) -> ExpireBudget {
        ExpireBudget {
            time: Some(d),
            max_sampled: None,
        }
    }

    pub fn keys(n: u64) -> ExpireBudget {
        ExpireBudget {
            time: None,
            max_sampled: Some(n),
        }
    }
}

/// What one active expire cycle did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpireCycleStats {
    pub sampled: u64,
    pub expired: u64,
    /// Stopped because the budget (time or keys) ran out, not because expired keys got rare.
    pub budget_exhausted: bool,
}

/// Keys sampled per round in one DB (Redis's `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`).
pub const EXPIRE_KEYS_PER_LOOP: usize = 20;
/// Keep sampling a DB while more than this percentage of a round was expired (Redis 7.0 with the
/// default `active-expire-effort 1`: `ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE` = 10).
pub const EXPIRE_ACCEPTABLE_STALE_PERCENT: u64 = 10;

/// Where a value lives in the table. Reading goes through `Deref<Target = Value>`; writing only
/// through these methods, so the entry's bookkeeping bits stored in the value's tag byte (key on
/// heap, has TTL) can never be clobbered by replacing the value.
#[repr(transparent)]
pub struct Slot(Value);

impl std::ops::Deref for Slot {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl Slot {
    /// Replaces the value in place (the key's TTL and access clock are unaffected).
    pub fn set(&mut self, v: Value) {
        let bits = self.0 .0.owner_bits();
        let clock = self.0 .0.owner_bytes();
        self.0 = v;
        self.0 .0.set_owner_bits(bits);
        self.0 .0.set_owner_bytes(clock);
    }

    pub fn as_list_mut(&mut self) -> Option<&mut List> {
        self.0.as_list_mut()
    }

    pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        self.0.as_hash_mut()
    }

    pub fn as_set_mut(&mut self) -> Option<&mut Set> {
        self.0.as_set_mut()
    }

    pub fn as_zset_mut(&mut self) -> Option<&mut Zset> {
        self.0.as_zset_mut()
    }

    /// See [`Value::append`].
    pub fn append(&mut self, data: &[u8]) -> Option<usize> {
        self.0.append(data)
    }

    /// See [`Value::set_range`].
    pub fn set_range(&mut self, offset: usize, data: &[u8]) -> Option<usize> {
        self.0.set_range(offset, data)
    }
}

/// Below this many keys a DB's table fits in the caches: [`Keyspace::prefetch`] skips it.
const PREFETCH_MIN_KEYS: usize = 32 * 1024;
/// Keys prefetched together: enough to overlap many misses, few enough that the first lines are
/// still cached when their command runs.
const PREFETCH_GROUP: usize = 32;
/// Longer keys are not hashed twice for a prefetch.
const PREFETCH_MAX_KEY: usize = 128;

/// Asks the CPU to start loading the cache line at `p` (no effect where there is no such hint).
#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Owner bits of the value cell, used by [`Entry`].
const KEY_ON_HEAP: u8 = 0x40;
const HAS_TTL: u8 = 0x20;
const _: () = assert!((KEY_ON_HEAP | HAS_TTL) == cell::OWNER_BITS);

/// A key stored in 16 bytes with no tag of its own (the tag bit lives in the entry's value):
/// inline when it has at most 16 bytes and does not end with a zero byte (its length is 16 minus
/// the trailing zero padding), otherwise an exact-size heap block `(ptr, len)`.
///
/// Why: redis-benchmark's keys (`key:000000012345`) and many real ones are exactly 16 bytes;
/// fitting them inline saves an allocation and a cache miss per lookup.
#[repr(C, align(8))]
union KeyBytes {
    inline: [u8; 16],
    heap: (std::ptr::NonNull<u8>, u64),
}

impl KeyBytes {
    /// The encoded key and whether it went to the heap.
    fn new(key: &[u8]) -> (KeyBytes, bool) {
        if key.len() <= 16 && key.last() != Some(&0) {
            let mut b = [0u8; 16];
            b[..key.len()].copy_from_slice(key);
            (KeyBytes { inline: b }, false)
        } else {
            let p = std::ptr::NonNull::from(Box::leak(Box::<[u8]>::from(key))).cast::<u8>();
            (
                KeyBytes {
                    heap: (p, key.len() as u64),
                },
                true,
            )
        }
    }

    #[inline]
    fn get(&self, on_heap: bool) -> &[u8] {
        if on_heap {
            // SAFETY: written by `new` as a leaked `Box<[u8]>` of that length, still owned.
            unsafe { std::slice::from_raw_parts(self.heap.0.as_ptr(), self.heap.1 as usize) }
        } else {
            // SAFETY: inline keys were written through `inline`.
            let b = unsafe { &self.inline };
            let pad = u128::from_le_bytes(*b).leading_zeros() as usize / 8;
            &b[..16 - pad]
        }
    }

    /// Frees a heap key. Safety: `self` is a heap key not freed before and not used after.
    unsafe fn free(&mut self) {
        let (p, len) = self.heap;
        let slice = std::ptr::slice_from_raw_parts_mut(p.as_ptr(), len as usize);
        drop(Box::from_raw(slice));
    }
}

/// One table slot: 32 bytes, key and value side by side. The key's access clock (Redis's 24-bit
/// LRU field, see [`lru_clock`]) lives in the value's owner bytes, so it costs no space.
struct Entry {
    key: KeyBytes,
    val: Slot,
}

// SAFETY: an entry uniquely owns its heap key block (like `Box<[u8]>`) and its value.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

impl Entry {
    fn new(key: &[u8], mut val: Value, has_ttl: bool, clock: u32) -> Entry {
        let (k, on_heap) = KeyBytes::new(key);
        let bits = if on_heap { KEY_ON_HEAP } else { 0 } | if has_ttl { HAS_TTL } else { 0 };
        val.0.set_owner_bits(bits);
        val.0.set_owner_bytes(clock);
        Entry {
            key: k,
            val: Slot(val),
        }
    }

    /// The LRU clock of the key's last access.
    #[inline]
    fn clock(&self) -> u32 {
        self.val.0 .0.owner_bytes()
    }

    #[inline]
    fn touch(&mut self, clock: u32) {
        self.val.0 .0.set_owner_bytes(clock);
    }

    #[inline]
    fn bits(&self) -> u8 {
        self.val.0 .0.owner_bits()
    }

    #[inline]
    fn key(&self) -> &[u8] {
        self.key.get(self.bits() & KEY_ON_HEAP != 0)
    }

    /// Has a deadline in the DB's `expires` index.
    #[inline]
    fn has_ttl(&self) -> bool {
        self.bits() & HAS_TTL != 0
    }

    fn set_has_ttl(&mut self, on: bool) {
        let bits = (self.bits() & !HAS_TTL) | if on { HAS_TTL } else { 0 };
        self.val.0 .0.set_owner_bits(bits);
    }

    /// Frees the key and hands back the value as a standalone one.
    fn into_value(self) -> Value {
        let mut me = std::mem::ManuallyDrop::new(self);
        if me.bits() & KEY_ON_HEAP != 0 {
            // SAFETY: a heap key, freed exactly once here; `me` is never dropped.
            unsafe { me.key.free() };
        }
        // SAFETY: moves the value out of an entry that will not be dropped.
        let mut v = unsafe { std::ptr::read(&me.val.0) };
        v.0.set_owner_bits(0);
        v.0.set_owner_bytes(0);
        v
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if self.bits() & KEY_ON_HEAP != 0 {
            // SAFETY: a heap key, freed exactly once (the value field is dropped after this).
            unsafe { self.key.free() }
        }
    }
}

type Expires = IndexMap<SmallBytes, i64, ahash::RandomState>;

struct Db {
    table: HashTable<Entry>,
    /// Deadline of every key whose entry has `HAS_TTL` set, and only those.
    expires: Expires,
    /// Running average TTL of sampled volatile keys (INFO keyspace `avg_ttl`), in ms.
    avg_ttl: i64,
}

impl Db {
    fn new() -> Db {
        Db {
            table: HashTable::new(),
            expires: IndexMap::with_hasher(ahash::RandomState::new()),
            avg_ttl: 0,
        }
    }
}

/// One shard's logical databases and expiry state. See the module docs.
pub struct Keyspace {
    dbs: Vec<Db>,
    hasher: ahash::RandomState,
    stats: KeyspaceStats,
    rng: fastrand::Rng,
    /// DB the next active cycle starts with (round-robin, like Redis's `current_db`).
    expire_next_db: usize,
    /// Changes since start-up (Redis's `server.dirty`): save points and INFO persistence.
    dirty: u64,
    /// The point-in-time snapshot being written, if any (BGSAVE/SAVE). See [`Snapshot`].
    snap: Option<Box<Snapshot>>,
    /// Keys (per DB) some client is blocked on (BLPOP & co), and how many.
    watched: Vec<hashbrown::HashSet<Box<[u8]>, ahash::RandomState>>,
    watched_len: usize,
    /// Watched keys that received a list or sorted set since [`Keyspace::take_ready`] last ran.
    ready: Vec<(usize, Box<[u8]>)>,
    /// WATCH (optimistic locking) state; `None` while nobody watches, so the write path pays
    /// one branch. See [`Cas`].
    cas: Option<Box<Cas>>,
    /// Whether [`Keyspace::lookup_read`] updates the key's access clock: off while a command
    /// Redis runs with `LOOKUP_NOTOUCH` executes (TYPE, TTL, EXISTS…). See
    /// [`Keyspace::set_read_touches`].
    read_touches: bool,
    /// Whether [`Keyspace::lookup_write`] updates it: off for a `CLIENT NO-TOUCH` client's
    /// commands (Redis 7.2 applies `LOOKUP_NOTOUCH` to all its lookups). A new value always
    /// gets the current clock, as a new Redis object does.
    write_touches: bool,
    /// The access clock keys loaded from a snapshot get: read once, when loading starts.
    load_clock: Option<u32>,
}

/// The largest LRU clock value (Redis's `LRU_CLOCK_MAX`: the clock has 24 bits).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Redis's LRU clock at `now_ms` (`getLRUClock`): unix seconds in 24 bits, wrapping about every
/// 194 days. Each key keeps the clock of its last access (OBJECT IDLETIME).
#[inline]
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms.max(0) as u64 / 1000) & u64::from(LRU_CLOCK_MAX)) as u32
}

/// Milliseconds since an access at `clock`, seen at clock `now`: Redis's
/// `estimateObjectIdleTime`, its wrap-around arithmetic included.
pub fn idle_ms(now: u32, clock: u32) -> u64 {
    let (now, clock) = (u64::from(now), u64::from(clock));
    if now >= clock {
        (now - clock) * 1000
    } else {
        (now + (u64::from(LRU_CLOCK_MAX) - clock)) * 1000
    }
}

/// Finds `key` and applies lazy expiry: a key past its deadline is deleted (and counted) and
/// reported absent. Takes the table and index separately so the result borrows only the table.
/// With `write`, a running snapshot first saves the entry as it is (copy-before-write); a lazy
/// deletion is a write too.
#[allow(clippy::too_many_arguments)]
#[inline]
fn find_live<'a>(
    table: &'a mut HashTable<Entry>,
    expires: &mut Expires,
    stats: &mut KeyspaceStats,
    snap: &mut Option<Box<Snapshot>>,
    dbi: usize,
    h: u64,
    key: &[u8],
    now_ms: i64,
    write: bool,
) -> Option<&'a mut Entry> {
    let entry = table.find_entry(h, |e| e.key() == key).ok()?;
    let expired = entry.get().has_ttl() && matches!(expires.get(key), Some(&when) if now_ms > when);
    if let Some(s) = snap {
        if write || expired {
            s.before_write(dbi, entry.bucket_index(), entry.get(), expires);
        }
    }
    if expired {
        entry.remove();
        expires.swap_remove(key);
        stats.expired_keys += 1;
        crate::notify::emit(crate::notify::EXPIRED, "expired", dbi, key);
        return None;
    }
    Some(entry.into_mut())
}

impl Keyspace {
    /// A keyspace with `databases` empty logical DBs (at least one).
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            hasher: ahash::RandomState::new(),
            stats: KeyspaceStats::default(),
            rng: fastrand::Rng::new(),
            expire_next_db: 0,
            dirty: 0,
            snap: None,
            watched: Vec::new(),
            watched_len: 0,
            ready: Vec::new(),
            cas: None,
            read_touches: true,
            write_touches: true,
            load_clock: None,
        }
    }

    /// Same, with a fixed random seed for the active expire sampler (reproducible tests).
    pub fn with_seed(databases: usize, seed: u64) -> Keyspace {
        let mut ks = Keyspace::new(databases);
        ks.rng = fastrand::Rng::with_seed(seed);
        ks
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    pub fn stats(&self) -> &KeyspaceStats {
        &self.stats
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&mut self) {
        self.stats = KeyspaceStats::default();
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Whether reads update the access clock of the keys they find (on by default). The caller
    /// turns it off around a command that must not (Redis's `LOOKUP_NOTOUCH` commands), and back
    /// on after it.
    #[inline]
    pub fn set_read_touches(&mut self, on: bool) {
        self.read_touches = on;
    }

    /// Starts loading, ahead of use, the memory that looking up `keys` in `db` will touch: each
    /// key's table slot and, when kept on the heap, its bytes and the first line of its value.
    ///
    /// Why: with a big keyspace nearly every lookup misses the CPU caches two or three times
    /// (control bytes, slot, heap key), and one command waits for each miss in turn. A pipelined
    /// batch knows its keys up front, so their misses can be overlapped instead: first every
    /// key's slot, then every heap key, then the commands run on warm lines. Small tables are
    /// cache-resident and skipped; a key equal to the one before (a hot key) is skipped too, and
    /// so is a lone key (pipeline 1), which would only be probed twice.
    #[inline(never)] // one call per batch; kept out of line so profiles show it
    pub fn prefetch<'k>(&self, db: usize, keys: impl Iterator<Item = &'k [u8]>) {
        let Some(d) = self.dbs.get(db) else { return };
        if d.table.len() < PREFETCH_MIN_KEYS {
            return;
        }
        let mut hashes = [(0u64, &[][..]); PREFETCH_GROUP];
        let mut prev: &[u8] = &[];
        let mut keys = keys.peekable();
        while keys.peek().is_some() {
            let mut n = 0;
            for key in keys.by_ref() {
                if key.len() > PREFETCH_MAX_KEY || key == prev {
                    continue;
                }
                prev = key;
                hashes[n] = (self.hash(key), key);
                n += 1;
                if n == PREFETCH_GROUP {
                    break;
                }
            }
            // One key alone has no other miss to overlap with: its lookup pays for it anyway.
            if n < 2 {
                return;
            }
            // Pass 1: the control bytes are read here (those misses overlap, each lookup being
            // independent of the last); the candidate slots are only requested. (Requesting the
            // control bytes first, from hashbrown's layout, measured no better.)
            for &(h, _) in &hashes[..n] {
                let _ = d.table.find(h, |e| {
                    prefetch_line(e as *const Entry as *const u8);
                    false
                });
            }
            // Pass 2: the slots have arrived (or are on their way); request the heap keys.
            for &(h, _) in &hashes[..n] {
                let _ = d.table.find(h, |e| {
                    if e.bits() & KEY_ON_HEAP != 0 {
                        prefetch_line(e.key().as_ptr());
                    }
                    if let Some(p) = e.val.0 .0.heap_ptr() {
                        prefetch_line(p);
                    }
                    false
                });
            }
        }
    }

    /// Whether in-place writes update the access clock (see [`Keyspace::set_read_touches`]).
    #[inline]
    pub fn set_write_touches(&mut self, on: bool) {
        self.write_touches = on;
    }

    /// Lookup for a read command (`lookupKeyRead`): lazy expiry, counts a keyspace hit or miss,
    /// and records the access (see [`Keyspace::set_read_touches`]).
    /// `db` must be below [`databases`](Self::databases) (SELECT guarantees it).
    pub fn lookup_read(&mut self, db: usize, key: &[u8], now_ms: i64) -> Option<&Value> {
        let h = self.hash(key);
        let touch = self.read_touches;
        let d = &mut self.dbs[db];
        let found = find_live(
            &mut d.table,
            &mut d.expires,
            &mut self.stats,
            &mut self.snap,
            db,
            h,
            key,
            now_ms,
            false,
        );
        match found {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                if touch {
                    e.touch(lru_clock(now_ms));
                }
                Some(&e.val.0)
            }
            None => {
                self.stats.keyspace_misses += 1;
                crate::notify::emit(crate::notify::KEY_MISS, "keymiss", db, key);
                None
            }
        }
    }

    /// OBJECT's lookup (`LOOKUP_NOTOUCH|LOOKUP_NONOTIFY`): lazy expiry and a keyspace hit or
    /// miss, but the access clock is left alone and a miss raises no `keymiss` event. Returns
    /// the value and the clock of its key's last access.
    pub fn lookup_object(&mut self, db: usize, key: &[u8], now_ms: i64) -> Option<(&Value, u32)> {
        let h = self.hash(key);
        let d = &mut self.dbs[db];
        let found = find_live(
            &mut d.table,
            &mut d.expires,
            &mut self.stats,
            &mut self.snap,
            db,
            h,
            key,
            now_ms,
            false,
        );
        match found {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                let clock = e.clock();
                Some((&e.val.0, clock))
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// Sets the access clock of `key` (RESTORE … IDLETIME, Redis's `objectSetLRUOrLFU`).
    pub fn set_clock(&mut self, db: usize, key: &[u8], clock: u32) {
        let h = self.hash(key);
        if let Some(e) = self.dbs[db].table.find_mut(h, |e| e.key() == key) {
            e.touch(clock);
        }
    }

    /// Lookup for a write command (`lookupKeyWrite`): lazy expiry, no hit/miss stats.
    /// The value may be changed in place through the [`Slot`]; its TTL is unaffected.
    pub fn lookup_write(&mut self, db: usize, key: &[u8], now_ms: i64) -> Option<&mut Slot> {
        let h = self.hash(key);
        let touch = self.write_touches;
        let d = &mut self.dbs[db];
        let e = find_live(
            &mut d.table,
            &mut d.expires,
            &mut self.stats,
            &mut self.snap,
            db,
            h,
            key,
            now_ms,
            true,
        )?;
        if touch {
            e.touch(lru_clock(now_ms));
        }
        if let Some(c) = &mut self.cas {
            // Whether the command really changes it is known only after it ran: see
            // `settle_touches`.
            c.maybe_touched(db, key);
        }
        Some(&mut e.val)
    }

    /// Does `key` exist (not expired)? Lazy expiry, no stats, and not a write.
    pub fn contains(&mut self, db: usize, key: &[u8], now_ms: i64) -> bool {
        let h = self.hash(key);
        let d = &mut self.dbs[db];
        find_live(
            &mut d.table,
            &mut d.expires,
            &mut self.stats,
            &mut self.snap,
            db,
            h,
            key,
            now_ms,
            false,
        )
        .is_some()
    }

    /// Sets `key` to `val` (creating or overwriting, whatever the old type), with `ttl` deciding
    /// what happens to its expiry. An expired old key counts as absent (so `Keep` keeps nothing).
    pub fn set(&mut self, db: usize, key: &[u8], val: Value, ttl: Ttl, now_ms: i64) {
        if self.watched_len > 0 && matches!(val.kind(), Kind::List | Kind::Zset) {
            self.signal_ready(db, key);
        }
        let h = self.hash(key);
        let hasher = &self.hasher;
        let d = &mut self.dbs[db];
        match find_live(
            &mut d.table,
            &mut d.expires,
            &mut self.stats,
            &mut self.snap,
            db,
            h,
            key,
            now_ms,
            true,
        ) {
            Some(e) => {
                e.val.set(val);
                // A new value, as Redis's new object: accessed now.
                e.touch(lru_clock(now_ms));
                match ttl {
                    Ttl::Keep => {}
                    Ttl::Clear => {
                        if e.has_ttl() {
                            e.set_has_ttl(false);
                            d.expires.swap_remove(key);
                        }
                    }
                    Ttl::At(when) => {
                        e.set_has_ttl(true);
                        set_deadline(&mut d.expires, key, when);
                    }
                }
            }
            None => {
                if let Some(s) = &mut self.snap {
                    // A full table rehashes on insert, moving entries the scan has not reached:
                    // finish this DB's share of the snapshot first.
                    if d.table.len() == d.table.capacity() {
                        s.finish_db(db, &d.table, &d.expires);
                    }
                }
                if let Ttl::At(when) = ttl {
                    set_deadline(&mut d.expires, key, when);
                }
                crate::notify::emit(crate::notify::NEW, "new", db, key);
                let e = Entry::new(key, val, matches!(ttl, Ttl::At(_)), lru_clock(now_ms));
                let at = d.table.insert_unique(h, e, |e| hasher.hash_one(e.key()));
                if let Some(s) = &mut self.snap {
                    s.dbs[db].mark(at.bucket_index());
                }
            }
        }
        if self.cas.is_some() {
            self.touch(db, key);
        }
    }

    /// Removes `key`, returning its value. A key already past its deadline is expired (counted in
    /// `expired_keys`) and `None` is returned, as DEL does in Redis.
    pub fn remove(&mut self, db: usize, key: &[u8], now_ms: i64) -> Option<Value> {
        let h = self.hash(key);
        let d = &mut self.dbs[db];
        let entry = d.table.find_entry(h, |e| e.key() == key).ok()?;
        if let Some(s) = &mut self.snap {
            s.before_write(db, entry.bucket_index(), entry.get(), &d.expires);
        }
        let (e, _) = entry.remove();
        if self.cas.is_some() {
            self.touch(db, key);
        }
        let d = &mut self.dbs[db];
        if e.has_ttl() {
            if let Some((_, _, when)) = d.expires.swap_remove_full(key) {
                if now_ms > when {
                    self.stats.expired_keys += 1;
                    crate::notify::emit(crate::notify::EXPIRED, "expired", db, key);
                    return None;
                }
            }
        }
        Some(e.into_value())
    }

    /// The key's deadline (absolute unix ms), or `None` if it has no TTL or does not exist.
    /// Does not apply lazy expiry: call after a lookup.
    pub fn expire_at(&self, db: usize, key: &[u8]) -> Option<i64> {
        let d = &self.dbs[db];
        if d.expires.is_empty() {
            return None;
        }
        d.expires.get(key).copied()
    }

    /// Sets the deadline of an existing key; false if the key does not exist. Does not apply lazy
    /// expiry (call after a lookup); a deadline in the past makes the key expire on next access.
    pub fn set_expire(&mut self, db: usize, key: &[u8], when_ms: i64) -> bool {
        let h = self.hash(key);
        let d = &mut self.dbs[db];
        match d.table.find_entry(h, |e| e.key() == key) {
            Ok(mut entry) => {
                if let Some(s) = &mut self.snap {
                    s.before_write(db, entry.bucket_index(), entry.get(), &d.expires);
                }
                entry.get_mut().set_has_ttl(true);
                set_deadline(&mut d.expires, key, when_ms);
                if self.cas.is_some() {
                    self.touch(db, key);
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Removes the key's TTL; true if it had one (PERSIST). Does not apply lazy expiry.
    pub fn persist(&mut self, db: usize, key: &[u8]) -> bool {
        let h = self.hash(key);
        let d = &mut self.dbs[db];
        match d.table.find_entry(h, |e| e.key() == key) {
            Ok(mut entry) if entry.get().has_ttl() => {
                if let Some(s) = &mut self.snap {
                    s.before_write(db, entry.bucket_index(), entry.get(), &d.expires);
                }
                entry.get_mut().set_has_ttl(false);
                d.expires.swap_remove(key);
                if self.cas.is_some() {
                    self.touch(db, key);
                }
                true
            }
            _ => false,
        }
    }

    /// Keys in `db`, including expired ones not reclaimed yet (what DBSIZE reports, as Redis).
    pub fn len(&self, db: usize) -> usize {
        self.dbs[db].table.len()
    }

    /// True when no DB holds any key.
    pub fn is_empty(&self) -> bool {
        self.dbs.iter().all(|d| d.table.is_empty())
    }

    /// Keys in `db` that have a TTL (INFO keyspace `expires=`).
    pub fn volatile_len(&self, db: usize) -> usize {
        self.dbs[db].expires.len()
    }

    /// Running average TTL of the volatile keys the active cycle sampled (INFO `avg_ttl`), ms.
    pub fn avg_ttl(&self, db: usize) -> i64 {
        self.dbs[db].avg_ttl
    }

    /// Empties one DB and frees its tables; returns how many keys it held.
    pub fn clear(&mut self, db: usize) -> usize {
        if self.cas.is_some() {
            self.touch_db(db);
        }
        let d = &self.dbs[db];
        if let Some(s) = &mut self.snap {
            s.finish_db(db, &d.table, &d.expires);
        }
        let n = d.table.len();
        self.dbs[db] = Db::new();
        n
    }

    /// Empties every DB; returns how many keys they held.
    pub fn clear_all(&mut self) -> usize {
        (0..self.dbs.len()).map(|i| self.clear(i)).sum()
    }

    /// Every entry of `db` with its deadline, in table order, expired ones included (the caller
    /// decides: KEYS skips them, a snapshot may drop them). For SAVE and KEYS.
    pub fn iter(&self, db: usize) -> impl Iterator<Item = (&[u8], &Value, Option<i64>)> + '_ {
        let d = &self.dbs[db];
        d.table.iter().map(move |e| {
            let when = if e.has_ttl() {
                d.expires.get(e.key()).copied()
            } else {
                None
            };
            (e.key(), &e.val.0, when)
        })
    }

    /// Keys of `db` that are not logically expired at `now_ms` (KEYS). Deletes nothing.
    pub fn live_keys(&self, db: usize, now_ms: i64) -> impl Iterator<Item = &[u8]> + '_ {
        self.iter(db)
            .filter(move |(_, _, when)| when.is_none_or(|w| now_ms <= w))
            .map(|(k, _, _)| k)
    }

    /// Gives back memory after mass deletion: shrinks tables filled below 1/8 (Redis resizes
    /// below 10%). O(n) per table shrunk, so call it from the periodic timer, not per command.
    pub fn shrink_sparse(&mut self) {
        if self.snap.is_some() {
            // Shrinking rehashes; a running snapshot's scan relies on entries staying put.
            return;
        }
        let hasher = &self.hasher;
        for d in &mut self.dbs {
            if d.table.capacity() > 64 && d.table.len() * 8 < d.table.capacity() {
                d.table
                    .shrink_to(d.table.len(), |e| hasher.hash_one(e.key()));
            }
            if d.expires.capacity() > 64 && d.expires.len() * 8 < d.expires.capacity() {
                d.expires.shrink_to(d.expires.len());
            }
        }
    }

    /// One active expiry cycle, like Redis's `activeExpireCycle` (slow mode): for each DB in
    /// turn, sample up to [`EXPIRE_KEYS_PER_LOOP`] random keys that have a TTL, delete the expired
    /// ones, and repeat on that DB while more than [`EXPIRE_ACCEPTABLE_STALE_PERCENT`]% of a round
    /// was expired. Stops when the budget runs out (the next cycle resumes with the next DB).
    pub fn active_expire_cycle(&mut self, now_ms: i64, budget: ExpireBudget) -> ExpireCycleStats {
        let start = budget.time.map(|_| Instant::now());
        let mut out = ExpireCycleStats::default();
        let ndb = self.dbs.len();
        let mut iteration: u64 = 0;

        'dbs: for _ in 0..ndb {
            let dbi = self.expire_next_db % ndb;
            self.expire_next_db = (dbi + 1) % ndb;
            let d = &mut self.dbs[dbi];
            loop {
                iteration += 1;
                if d.expires.is_empty() {
                    d.avg_ttl = 0;
                    break;
                }
                let mut n = d.expires.len().min(EXPIRE_KEYS_PER_LOOP) as u64;
                if let Some(max) = budget.max_sampled {
                    n = n.min(max.saturating_sub(out.sampled));
                    if n == 0 {
                        out.budget_exhausted = true;
                        break 'dbs;
                    }
                }
                let (mut sampled, mut expired) = (0u64, 0u64);
                let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
                for _ in 0..n {
                    let len = d.expires.len();
                    if len == 0 {
                        break;
                    }
                    let idx = self.rng.usize(..len);
                    let Some((k, &when)) = d.expires.get_index(idx) else {
                        break;
                    };
                    sampled += 1;
                    if now_ms > when {
                        crate::notify::emit(crate::notify::EXPIRED, "expired", dbi, k.as_slice());
                        let h = self.hasher.hash_one(k.as_slice());
                        if let Ok(e) = d.table.find_entry(h, |e| e.key() == k.as_slice()) {
                            if let Some(s) = &mut self.snap {
                                s.before_write(dbi, e.bucket_index(), e.get(), &d.expires);
                            }
                            e.remove();
                        }
                        d.expires.swap_remove_index(idx);
                        expired += 1;
                    } else {
                        ttl_sum = ttl_sum.saturating_add(when - now_ms);
                        ttl_samples += 1;
                    }
                }
                out.sampled += sampled;
                out.expired += expired;
                self.stats.expired_keys += expired;
                if ttl_samples > 0 {
                    // Running average weighting the newest sample 2%, as Redis.
                    let avg = ttl_sum / ttl_samples;
                    if d.avg_ttl == 0 {
                        d.avg_ttl = avg;
                    }
                    d.avg_ttl = (d.avg_ttl / 50) * 49 + avg / 50;
                }
                if let (Some(limit), Some(t0)) = (budget.time, start) {
                    if iteration.is_multiple_of(16) && t0.elapsed() > limit {
                        out.budget_exhausted = true;
                        self.stats.expired_time_cap_reached_count += 1;
                        break 'dbs;
                    }
                }
                if sampled == 0 || expired * 100 / sampled <= EXPIRE_ACCEPTABLE_STALE_PERCENT {
                    break;
                }
            }
        }

        if let Some(t0) = start {
            self.stats.expire_cycle_time_used_us += t0.elapsed().as_micros() as u64;
        }
        let current = if out.sampled > 0 {
            out.expired as f64 / out.sampled as f64
        } else {
            0.0
        };
        self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
        out
    }
}

impl Keyspace {
    /// Changes since start-up (Redis's `server.dirty`).
    pub fn dirty(&self) -> u64 {
        self.dirty
    }

    /// Counts `n` changes, as the command that made them counts them in Redis (`server.dirty
    /// += n`): SET 1, RPUSH of 3 elements 3, DEL of 2 keys 2… Commands say it; the keyspace
    /// cannot tell a read-modify-write that changed nothing from one that did.
    #[inline]
    pub fn add_dirty(&mut self, n: u64) {
        self.dirty += n;
    }

    /// Inserts a key read from a snapshot at start-up. False if the key is already there (a
    /// corrupt file); does not count as a change.
    pub fn load_insert(
        &mut self,
        db: usize,
        key: &[u8],
        val: Value,
        expire_ms: Option<i64>,
    ) -> bool {
        let h = self.hash(key);
        let hasher = &self.hasher;
        let d = &mut self.dbs[db];
        if d.table.find(h, |e| e.key() == key).is_some() {
            return false;
        }
        if let Some(when) = expire_ms {
            set_deadline(&mut d.expires, key, when);
        }
        // Loaded keys were accessed when loading began (the clock is read once, not per key).
        let clock = *self
            .load_clock
            .get_or_insert_with(|| lru_clock(crate::shard::now_ms()));
        let e = Entry::new(key, val, expire_ms.is_some(), clock);
        d.table.insert_unique(h, e, |e| hasher.hash_one(e.key()));
        true
    }

    /// Makes room for `additional` more keys in `db` (start-up load, from RDB's size hints).
    pub fn reserve(&mut self, db: usize, additional: usize) {
        let hasher = &self.hasher;
        self.dbs[db]
            .table
            .reserve(additional, |e| hasher.hash_one(e.key()));
    }

    /// Whether a snapshot is being written.
    pub fn snapshot_active(&self) -> bool {
        self.snap.is_some()
    }

    /// Starts a point-in-time snapshot into `sink`: from now on every entry is handed to the sink
    /// exactly once, as it is at this instant, whatever writes follow. O(buckets / 64) to set up.
    ///
    /// Why copy-before-write and not a copy: cloning 1M keys would stall the shard for tens of
    /// milliseconds and double its memory; instead the scan walks table buckets in order, and a
    /// write that reaches an entry the scan has not passed saves it first. That works because a
    /// hash table only moves entries when it rehashes, and a rehash is preceded by finishing the
    /// DB's share (see [`Keyspace::set`]); shrinking waits until the snapshot ends.
    pub fn snapshot_begin(&mut self, sink: Box<dyn SnapshotSink>) {
        assert!(self.snap.is_none(), "one snapshot at a time");
        let dbs = self
            .dbs
            .iter()
            .map(|d| DbSnap {
                next: 0,
                done: if d.table.is_empty() {
                    Vec::new()
                } else {
                    vec![0; d.table.num_buckets().div_ceil(64)]
                },
                finished: d.table.is_empty(),
                keys: d.table.len() as u64,
                volatile: d.expires.len() as u64,
            })
            .collect();
        self.snap = Some(Box::new(Snapshot {
            dbs,
            cur: 0,
            sink,
            early: 0,
        }));
    }

    /// Advances the snapshot's scan until the sink's output holds at least `budget_bytes` or a
    /// bounded number of buckets was scanned. Returns true once every entry has been handed over.
    pub fn snapshot_step(&mut self, budget_bytes: usize) -> bool {
        const MAX_BUCKETS: usize = 64 * 1024;
        let Some(s) = &mut self.snap else {
            return true;
        };
        let mut scanned = 0;
        while s.cur < self.dbs.len() {
            let dbi = s.cur;
            let d = &self.dbs[dbi];
            let ds = &mut s.dbs[dbi];
            if ds.finished {
                s.cur += 1;
                continue;
            }
            if ds.next == 0 {
                s.sink.begin_db(dbi, ds.keys, ds.volatile);
            }
            let nb = d.table.num_buckets();
            while ds.next < nb {
                let b = ds.next;
                ds.next += 1;
                scanned += 1;
                if ds.done[b / 64] & (1 << (b % 64)) == 0 {
                    if let Some(e) = d.table.get_bucket(b) {
                        emit(&mut *s.sink, dbi, e, &d.expires);
                    }
                }
                if scanned >= MAX_BUCKETS || s.sink.output().len() >= budget_bytes {
                    return false;
                }
            }
            ds.finished = true;
            ds.done = Vec::new();
            s.cur += 1;
        }
        true
    }

    /// The running snapshot's encoded bytes not yet taken (the writer drains it between steps).
    pub fn snapshot_output(&mut self) -> Option<&mut Vec<u8>> {
        self.snap.as_mut().map(|s| s.sink.output())
    }

    /// Ends the snapshot (complete or abandoned) and hands back its sink.
    pub fn snapshot_end(&mut self) -> Option<Box<dyn SnapshotSink>> {
        self.snap.take().map(|s| s.sink)
    }

    /// Entries the running snapshot saved ahead of its scan because a write reached them first.
    pub fn snapshot_early(&self) -> u64 {
        self.snap.as_ref().map_or(0, |s| s.early)
    }
}

/// Receives a snapshot's entries: the RDB encoder when saving, a collector in tests.
pub trait SnapshotSink: Send {
    /// The scan reached `db`, which held `keys` keys (`volatile` with a TTL) when the snapshot
    /// began (RDB's RESIZEDB hint). Entries of `db` may have come earlier, out of scan order.
    fn begin_db(&mut self, db: usize, keys: u64, volatile: u64);
    /// One key as it was when the snapshot began. Keys past their deadline are included.
    fn entry(&mut self, db: usize, key: &[u8], val: &Value, expire_ms: Option<i64>);
    /// Encoded bytes not yet taken by the writer.
    fn output(&mut self) -> &mut Vec<u8>;
    /// Entries received so far.
    fn entries(&self) -> u64;
}

/// One DB's progress in a snapshot.
struct DbSnap {
    /// Buckets below `next` have been scanned.
    next: usize,
    /// Buckets at or above `next` already dealt with out of order: their entry was saved before a
    /// write, or was created after the snapshot began. One bit per bucket.
    done: Vec<u64>,
    finished: bool,
    keys: u64,
    volatile: u64,
}

impl DbSnap {
    #[inline]
    fn pending(&self, b: usize) -> bool {
        !self.finished && b >= self.next && self.done[b / 64] & (1 << (b % 64)) == 0
    }

    #[inline]
    fn mark(&mut self, b: usize) {
        if !self.finished && b >= self.next {
            self.done[b / 64] |= 1 << (b % 64);
        }
    }
}

/// A running point-in-time snapshot of one keyspace (see [`Keyspace::snapshot_begin`]).
struct Snapshot {
    dbs: Vec<DbSnap>,
    /// The DB the scan is in.
    cur: usize,
    sink: Box<dyn SnapshotSink>,
    early: u64,
}

impl Snapshot {
    /// Called before an entry at `bucket` of `dbi` changes or goes: saves it if the scan has not.
    #[inline]
    fn before_write(&mut self, dbi: usize, bucket: usize, e: &Entry, expires: &Expires) {
        let ds = &mut self.dbs[dbi];
        if ds.pending(bucket) {
            ds.done[bucket / 64] |= 1 << (bucket % 64);
            self.early += 1;
            emit(&mut *self.sink, dbi, e, expires);
        }
    }

    /// Saves every entry of `dbi` the scan has not reached, before the table rehashes or clears.
    fn finish_db(&mut self, dbi: usize, table: &HashTable<Entry>, expires: &Expires) {
        let ds = &mut self.dbs[dbi];
        if ds.finished {
            return;
        }
        if ds.next == 0 {
            self.sink.begin_db(dbi, ds.keys, ds.volatile);
        }
        for b in ds.next..table.num_buckets() {
            if ds.done[b / 64] & (1 << (b % 64)) == 0 {
                if let Some(e) = table.get_bucket(b) {
                    emit(&mut *self.sink, dbi, e, expires);
                }
            }
        }
        ds.next = table.num_buckets();
        ds.finished = true;
        ds.done = Vec::new();
    }
}

#[inline]
fn emit(sink: &mut dyn SnapshotSink, dbi: usize, e: &Entry, expires: &Expires) {
    let when = if e.has_ttl() {
        expires.get(e.key()).copied()
    } else {
        None
    };
    sink.entry(dbi, e.key(), &e.val.0, when);
}

fn set_deadline(expires: &mut Expires, key: &[u8], when: i64) {
    match expires.get_mut(key) {
        Some(w) => *w = when,
        None => {
            expires.insert(SmallBytes::new(key), when);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &Value) -> Vec<u8> {
        v.as_str().unwrap().with_bytes(|b| b.to_vec())
    }

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    /// Prefetching is only a hint: over a big table, with keys present, absent, empty, long or
    /// repeated, it changes nothing that a lookup then sees.
    #[test]
    fn prefetch_is_only_a_hint() {
        let mut ks = Keyspace::new(2);
        for i in 0..PREFETCH_MIN_KEYS as u64 * 2 {
            let key = format!("counter:{i:012}");
            ks.set(0, key.as_bytes(), Value::string(b"v"), Ttl::Clear, 0);
        }
        let long = vec![b'k'; PREFETCH_MAX_KEY + 1];
        let keys: Vec<&[u8]> = vec![
            b"counter:000000000001",
            b"counter:000000000001",
            b"nope",
            b"",
            &long,
        ];
        let many: Vec<&[u8]> = keys
            .iter()
            .cycle()
            .take(PREFETCH_GROUP * 3 + 1)
            .copied()
            .collect();
        let len = ks.dbs[0].table.len();
        for db in [0, 1, 7] {
            ks.prefetch(db, many.iter().copied());
        }
        assert_eq!(ks.dbs[0].table.len(), len);
        assert!(ks.lookup_read(0, b"counter:000000000001", 0).is_some());
        assert!(ks.lookup_read(0, b"nope", 0).is_none());
    }

    #[test]
    fn small_bytes_inline_and_heap() {
        for n in [0usize, 1, 14, 15, 16, 17, 100, 5000] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let b = SmallBytes::new(&data);
            assert_eq!(b.as_slice(), &data[..]);
            assert_eq!(b.is_inline(), n <= 15, "n={n}");
            assert_eq!(b.heap_size(), if n <= 15 { 0 } else { n });
            let c = b.clone();
            assert_eq!(c, b);
            drop(b);
            assert_eq!(c.as_slice(), &data[..]);
        }
    }

    #[test]
    fn owner_bits_survive_and_do_not_leak_into_bytes() {
        for n in [3usize, 15, 40] {
            let data = vec![b'x'; n];
            let mut v = Value::string(&data);
            v.0.set_owner_bits(KEY_ON_HEAP | HAS_TTL);
            assert_eq!(v.0.owner_bits(), KEY_ON_HEAP | HAS_TTL);
            assert_eq!(s(&v), data);
            // Growing (inline -> heap, heap realloc) keeps them.
            v.append(&[b'y'; 20]).unwrap();
            assert_eq!(v.0.owner_bits(), KEY_ON_HEAP | HAS_TTL);
            assert_eq!(v.as_str().unwrap().len(), n + 20);
            // A clone is standalone.
            assert_eq!(v.clone().0.owner_bits(), 0);
            v.0.set_owner_bits(0);
            assert_eq!(v.0.owner_bits(), 0);
        }
        let mut i = Value::int(7);
        i.0.set_owner_bits(HAS_TTL);
        assert_eq!(i.as_str(), Some(StrRef::Int(7)));
        assert_eq!(i.append(b"1"), Some(2));
        assert_eq!(i.0.owner_bits(), HAS_TTL);
        let mut l = Value::list(List::new());
        l.0.set_owner_bits(KEY_ON_HEAP);
        assert_eq!(l.kind(), Kind::List);
    }

    #[test]
    fn keys_up_to_16_bytes_are_inline() {
        let cases: &[&[u8]] = &[
            b"",
            b"a",
            b"key:000000012345",
            b"exactly16bytes!!",
            b"seventeen bytes!!",
            b"ends with zero\0",
            b"zero\0",
            b"\0",
            b"\0\0\0a",
            b"a\0b",
            b"16 bytes ending\0",
        ];
        for &k in cases {
            let e = Entry::new(k, Value::string(b"v"), false, 0);
            assert_eq!(e.key(), k);
            let heap = e.bits() & KEY_ON_HEAP != 0;
            assert_eq!(heap, k.len() > 16 || k.last() == Some(&0), "{k:?}");
            assert_eq!(s(&e.into_value()), b"v");
        }
        let mut ks = Keyspace::new(1);
        for &k in cases {
            ks.set(0, k, Value::string(k), Ttl::At(5), 0);
        }
        for &k in cases {
            assert_eq!(s(ks.lookup_read(0, k, 0).unwrap()), k);
            assert_eq!(ks.expire_at(0, k), Some(5));
        }
        assert_eq!(ks.len(0), cases.len());
        let mut listed: Vec<Vec<u8>> = ks.iter(0).map(|(k, _, _)| k.to_vec()).collect();
        listed.sort();
        let mut want: Vec<Vec<u8>> = cases.iter().map(|k| k.to_vec()).collect();
        want.sort();
        assert_eq!(listed, want);
        for &k in cases {
            assert!(ks.remove(0, k, 0).is_some());
        }
        assert!(ks.is_empty());
    }

    #[test]
    fn slot_set_keeps_key_and_ttl() {
        let mut ks = Keyspace::new(1);
        let long = b"a key longer than sixteen bytes";
        ks.set(0, long, Value::string(b"x"), Ttl::At(100), 0);
        let slot = ks.lookup_write(0, long, 0).unwrap();
        slot.set(Value::int(5));
        slot.set(Value::list(List::new()));
        slot.set(Value::string(&[b'z'; 100]));
        assert_eq!(slot.append(b"!"), Some(101));
        assert_eq!(ks.expire_at(0, long), Some(100));
        assert_eq!(
            ks.lookup_read(0, long, 0).unwrap().as_str().unwrap().len(),
            101
        );
        assert_eq!(ks.live_keys(0, 0).collect::<Vec<_>>(), vec![&long[..]]);
    }

    #[test]
    fn value_kinds() {
        assert_eq!(Value::string(b"abc").kind(), Kind::String);
        assert_eq!(Value::int(-5).as_str(), Some(StrRef::Int(-5)));
        // Long canonical integers are stored as integers; non-canonical ones stay bytes.
        assert_eq!(
            Value::string(b"1234567890123456789").as_str(),
            Some(StrRef::Int(1234567890123456789))
        );
        assert!(matches!(
            Value::string(b"01234567890123456789").as_str(),
            Some(StrRef::Bytes(_))
        ));
        let l: List = [SmallBytes::new(b"a")].into_iter().collect();
        let v = Value::list(l);
        assert_eq!(v.kind(), Kind::List);
        assert!(v.as_str().is_none());
        assert_eq!(v.as_list().unwrap().len(), 1);
        let v2 = v.clone();
        drop(v);
        assert_eq!(v2.as_list().unwrap()[0].as_slice(), b"a");
    }

    #[test]
    fn append_and_setrange_grow_across_inline_boundary() {
        let mut v = Value::string(b"hello");
        assert_eq!(v.append(b" world"), Some(11));
        assert_eq!(s(&v), b"hello world");
        assert_eq!(v.append(b", and more text"), Some(26));
        assert_eq!(s(&v), b"hello world, and more text");
        for i in 0..1000 {
            v.append(format!("{i},").as_bytes()).unwrap();
        }
        assert!(s(&v).ends_with(b"998,999,"));
        let mut v = Value::int(42);
        assert_eq!(v.append(b"x"), Some(3));
        assert_eq!(s(&v), b"42x");
        let mut v = Value::string(b"");
        assert_eq!(v.set_range(3, b"ab"), Some(5));
        assert_eq!(s(&v), b"\0\0\0ab");
        assert_eq!(v.set_range(20, b"z"), Some(21));
        assert_eq!(&s(&v)[..6], b"\0\0\0ab\0");
        assert_eq!(v.set_range(0, b"Q"), Some(21));
        assert_eq!(s(&v)[0], b'Q');
        assert!(Value::list(List::new()).append(b"x").is_none());
        assert!(Value::string(b"x").set_range(MAX_LEN, b"x").is_none());
    }

    #[test]
    fn owner_bytes_survive_every_representation_and_never_show_in_the_data() {
        let clock = 0xAB_CDEF;
        let values = || {
            vec![
                Value::string(b""),
                Value::string(b"twelve bytes"),
                Value::string(b"thirteen byte"),
                Value::string(b"fifteen bytes!!"),
                Value::string(&[b'x'; 40]),
                Value::string(b"1234567890123"),
                Value::int(-7),
                Value::list(List::from(vec![SmallBytes::new(b"fifteen bytes!!")])),
                Value::hash(Hash::default()),
                Value::set(Set::default()),
                Value::zset(Zset::default()),
            ]
        };
        for mut v in values() {
            let before = format!("{v:?}");
            assert_eq!(v.0.owner_bytes(), 0, "{before}");
            v.0.set_owner_bits(HAS_TTL);
            v.0.set_owner_bytes(clock);
            assert_eq!(format!("{v:?}"), before);
            assert_eq!(v.0.owner_bytes(), clock);
            assert_eq!(v.0.owner_bits(), HAS_TTL);
            let c = v.clone();
            assert_eq!((c.0.owner_bytes(), c.0.owner_bits()), (0, 0));
            assert_eq!(format!("{c:?}"), before);
            if v.as_str().is_some() {
                // Growing: inline -> heap, exact block -> block with spare room, realloc.
                let mut want = v.as_str().unwrap().with_bytes(|b| b.to_vec());
                for chunk in [&b"ab"[..], &[b'y'; 30], &[b'z'; 5000]] {
                    v.append(chunk).unwrap();
                    want.extend_from_slice(chunk);
                    assert_eq!(s(&v), want);
                    assert_eq!(v.0.owner_bytes(), clock);
                    assert_eq!(v.0.owner_bits(), HAS_TTL);
                }
                assert!(v.heap_size() >= want.len());
            }
        }
    }

    #[test]
    fn value_strings_inline_up_to_12_bytes_small_bytes_up_to_15() {
        for n in 0..=20usize {
            let data = vec![b'a'; n];
            let v = Value::string(&data);
            assert_eq!(v.heap_size() == 0, n <= cell::VALUE_INLINE_CAP, "n={n}");
            assert_eq!(SmallBytes::new(&data).is_inline(), n <= cell::INLINE_CAP);
        }
        // Canonical integers of 13+ digits need no block at all.
        let v = Value::string(b"1700000000123");
        assert_eq!(
            (v.heap_size(), v.as_str()),
            (0, Some(StrRef::Int(1700000000123)))
        );
        // A grown string keeps spare room (and reports it).
        let mut v = Value::string(&[b'q'; 20]);
        assert_eq!(v.heap_size(), 20);
        v.append(b"!").unwrap();
        assert!(v.heap_size() > 21);
    }

    #[test]
    fn access_clock_follows_reads_and_writes_but_not_object_or_notouch_reads() {
        let mut ks = Keyspace::new(1);
        let t0 = 1_700_000_000_000i64;
        let clock = |ks: &mut Keyspace, t: i64| ks.lookup_object(0, b"k", t).map(|(_, c)| c);
        ks.set(0, b"k", Value::string(b"v"), Ttl::Clear, t0);
        assert_eq!(clock(&mut ks, t0 + 5_000), Some(lru_clock(t0)));
        // OBJECT itself does not touch; a plain read does.
        assert_eq!(clock(&mut ks, t0 + 6_000), Some(lru_clock(t0)));
        ks.lookup_read(0, b"k", t0 + 7_000);
        assert_eq!(clock(&mut ks, t0 + 9_000), Some(lru_clock(t0 + 7_000)));
        // A read with touching off (TYPE, TTL, EXISTS) leaves it.
        ks.set_read_touches(false);
        ks.lookup_read(0, b"k", t0 + 8_000);
        ks.set_read_touches(true);
        assert_eq!(clock(&mut ks, t0 + 9_000), Some(lru_clock(t0 + 7_000)));
        // Writes touch, in place or by replacing the value; the clock survives the new value.
        ks.lookup_write(0, b"k", t0 + 10_000)
            .unwrap()
            .append(b"more")
            .unwrap();
        assert_eq!(clock(&mut ks, t0 + 11_000), Some(lru_clock(t0 + 10_000)));
        ks.set(0, b"k", Value::string(&[b'w'; 100]), Ttl::Keep, t0 + 12_000);
        assert_eq!(clock(&mut ks, t0 + 13_000), Some(lru_clock(t0 + 12_000)));
        ks.lookup_write(0, b"k", t0 + 14_000)
            .unwrap()
            .set(Value::list(List::new()));
        assert_eq!(clock(&mut ks, t0 + 15_000), Some(lru_clock(t0 + 14_000)));
        // The value read back out of the table carries no clock.
        let v = ks.remove(0, b"k", t0 + 16_000).unwrap();
        assert_eq!(v.0.owner_bytes(), 0);
        assert_eq!(clock(&mut ks, t0 + 16_000), None);
        // OBJECT counts hits and misses, as Redis's lookup does.
        assert_eq!(ks.stats().keyspace_misses, 1);
    }

    #[test]
    fn idle_time_is_redis_estimate_including_the_wrap() {
        assert_eq!(idle_ms(100, 100), 0);
        assert_eq!(idle_ms(130, 100), 30_000);
        // The clock wrapped after the access: Redis's formula (one second short of modular).
        assert_eq!(idle_ms(5, LRU_CLOCK_MAX - 10), 15_000);
        assert_eq!(lru_clock(-5), 0);
        assert_eq!(lru_clock((i64::from(LRU_CLOCK_MAX) + 3) * 1000), 2);
    }

    #[test]
    fn set_get_remove_and_types() {
        let mut ks = Keyspace::new(2);
        assert!(ks.lookup_read(0, b"k", 0).is_none());
        ks.set(0, b"k", Value::string(b"v"), Ttl::Clear, 0);
        assert_eq!(s(ks.lookup_read(0, b"k", 0).unwrap()), b"v");
        assert!(ks.lookup_read(1, b"k", 0).is_none());
        assert_eq!(ks.len(0), 1);
        assert_eq!(ks.len(1), 0);
        assert_eq!(ks.stats().keyspace_hits, 1);
        assert_eq!(ks.stats().keyspace_misses, 2);
        let long = vec![b'k'; 100];
        ks.set(0, &long, Value::string(&[1u8; 100]), Ttl::Clear, 0);
        assert_eq!(s(ks.lookup_write(0, &long, 0).unwrap()), vec![1u8; 100]);
        assert!(ks.remove(0, &long, 0).is_some());
        assert!(ks.remove(0, &long, 0).is_none());
        assert_eq!(ks.clear_all(), 1);
        assert!(ks.is_empty());
    }

    #[test]
    fn lazy_expiry_and_ttl_policies() {
        let mut ks = Keyspace::new(1);
        ks.set(0, b"k", Value::string(b"v"), Ttl::At(100), 0);
        assert_eq!(ks.expire_at(0, b"k"), Some(100));
        assert_eq!(ks.volatile_len(0), 1);
        // Expired only when now > deadline.
        assert!(ks.lookup_read(0, b"k", 100).is_some());
        assert!(ks.lookup_read(0, b"k", 101).is_none());
        assert_eq!(ks.stats().expired_keys, 1);
        assert_eq!(ks.len(0), 0);
        assert_eq!(ks.volatile_len(0), 0);

        ks.set(0, b"k", Value::string(b"v"), Ttl::At(100), 0);
        ks.set(0, b"k", Value::string(b"w"), Ttl::Keep, 50);
        assert_eq!(ks.expire_at(0, b"k"), Some(100));
        ks.set(0, b"k", Value::string(b"x"), Ttl::Clear, 50);
        assert_eq!(ks.expire_at(0, b"k"), None);
        assert_eq!(ks.volatile_len(0), 0);

        // KEEPTTL on an expired key keeps nothing: the old key is gone first.
        ks.set(0, b"k", Value::string(b"v"), Ttl::At(100), 0);
        ks.set(0, b"k", Value::string(b"w"), Ttl::Keep, 200);
        assert_eq!(ks.expire_at(0, b"k"), None);
        assert_eq!(ks.stats().expired_keys, 2);

        assert!(ks.set_expire(0, b"k", 300));
        assert!(!ks.set_expire(0, b"nokey", 300));
        assert!(ks.persist(0, b"k"));
        assert!(!ks.persist(0, b"k"));

        // DEL of an expired key reports nothing removed and counts the expiry.
        ks.set(0, b"d", Value::string(b"v"), Ttl::At(10), 0);
        assert!(ks.remove(0, b"d", 11).is_none());
        assert_eq!(ks.stats().expired_keys, 3);
        assert_eq!(ks.volatile_len(0), 0);
    }

    #[test]
    fn iter_and_live_keys() {
        let mut ks = Keyspace::new(1);
        ks.set(0, b"a", Value::string(b"1"), Ttl::Clear, 0);
        ks.set(0, b"b", Value::string(b"2"), Ttl::At(10), 0);
        let mut all: Vec<_> = ks.iter(0).map(|(k, _, w)| (k.to_vec(), w)).collect();
        all.sort();
        assert_eq!(all, vec![(b"a".to_vec(), None), (b"b".to_vec(), Some(10))]);
        let mut live: Vec<_> = ks.live_keys(0, 10).map(|k| k.to_vec()).collect();
        live.sort();
        assert_eq!(live, vec![b"a".to_vec(), b"b".to_vec()]);
        let live: Vec<_> = ks.live_keys(0, 11).map(|k| k.to_vec()).collect();
        assert_eq!(live, vec![b"a".to_vec()]);
        // Listing deletes nothing.
        assert_eq!(ks.len(0), 2);
    }

    #[test]
    fn active_expiry_reclaims_everything_without_reads() {
        let mut ks = Keyspace::with_seed(16, 7);
        for i in 0..10_000 {
            let k = format!("key:{i}");
            ks.set(3, k.as_bytes(), Value::string(b"v"), Ttl::At(1_000 + i), 0);
        }
        for i in 0..100 {
            let k = format!("keep:{i}");
            ks.set(3, k.as_bytes(), Value::string(b"v"), Ttl::Clear, 0);
        }
        assert_eq!(ks.len(3), 10_100);
        let now = 1_000_000;
        let mut cycles = 0;
        while ks.len(3) > 100 {
            let st = ks.active_expire_cycle(now, ExpireBudget::keys(2_000));
            assert!(st.sampled <= 2_000, "budget respected: {st:?}");
            cycles += 1;
            assert!(cycles <= 10, "too many cycles");
        }
        assert_eq!(ks.len(3), 100);
        assert_eq!(ks.volatile_len(3), 0);
        assert_eq!(ks.stats().expired_keys, 10_000);
        assert_eq!(ks.stats().keyspace_hits + ks.stats().keyspace_misses, 0);
        ks.shrink_sparse();
        assert_eq!(ks.len(3), 100);
    }

    #[test]
    fn active_expiry_stops_when_few_are_stale() {
        let mut ks = Keyspace::with_seed(1, 1);
        for i in 0..1_000 {
            let k = format!("key:{i}");
            // Only 1% are past their deadline at now=500.
            let when = if i % 100 == 0 { 100 } else { 10_000 };
            ks.set(0, k.as_bytes(), Value::string(b"v"), Ttl::At(when), 0);
        }
        let st = ks.active_expire_cycle(500, ExpireBudget::time(Duration::from_secs(1)));
        // One or two rounds, then the stale share is acceptable.
        assert!(st.sampled <= 2 * EXPIRE_KEYS_PER_LOOP as u64, "{st:?}");
        assert!(!st.budget_exhausted);
        assert!(ks.avg_ttl(0) > 0);
    }

    #[test]
    fn active_expiry_time_budget() {
        let mut ks = Keyspace::with_seed(1, 3);
        for i in 0..50_000 {
            let k = format!("key:{i}");
            ks.set(0, k.as_bytes(), Value::string(b"v"), Ttl::At(1), 0);
        }
        // A zero time budget stops at the first clock check (every 16 rounds of 20 keys).
        let st = ks.active_expire_cycle(10, ExpireBudget::time(Duration::ZERO));
        assert!(st.budget_exhausted);
        assert_eq!(st.sampled, 16 * EXPIRE_KEYS_PER_LOOP as u64);
        assert_eq!(st.expired, st.sampled);
        assert_eq!(ks.stats().expired_time_cap_reached_count, 1);
        let st = ks.active_expire_cycle(10, ExpireBudget::for_hz(10));
        assert!(st.expired > 0);
    }

    #[test]
    fn active_expiry_with_no_volatile_keys_is_cheap() {
        let mut ks = Keyspace::new(16);
        ks.set(0, b"a", Value::string(b"1"), Ttl::Clear, 0);
        let st = ks.active_expire_cycle(10, ExpireBudget::keys(100));
        assert_eq!(st, ExpireCycleStats::default());
    }

    type Saved = (usize, Vec<u8>, String, Option<i64>);

    /// Collects what a snapshot hands over, to compare with the state it began from.
    #[derive(Default)]
    struct Collect {
        got: std::sync::Arc<std::sync::Mutex<Vec<Saved>>>,
        out: Vec<u8>,
    }

    impl SnapshotSink for Collect {
        fn begin_db(&mut self, _db: usize, _keys: u64, _volatile: u64) {}
        fn entry(&mut self, db: usize, key: &[u8], val: &Value, expire_ms: Option<i64>) {
            self.got
                .lock()
                .unwrap()
                .push((db, key.to_vec(), format!("{val:?}"), expire_ms));
            self.out.extend_from_slice(&[0; 16]);
        }
        fn output(&mut self) -> &mut Vec<u8> {
            &mut self.out
        }
        fn entries(&self) -> u64 {
            self.got.lock().unwrap().len() as u64
        }
    }

    type Image = std::collections::BTreeMap<(usize, Vec<u8>), (String, Option<i64>)>;

    fn image(ks: &Keyspace) -> Image {
        let mut m = Image::new();
        for db in 0..ks.databases() {
            for (k, v, w) in ks.iter(db) {
                m.insert((db, k.to_vec()), (format!("{v:?}"), w));
            }
        }
        m
    }

    #[test]
    fn snapshot_is_point_in_time_under_writes() {
        for seed in 0..20u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut ks = Keyspace::with_seed(3, seed);
            let n = rng.usize(0..3000);
            for i in 0..n {
                let k = format!("k{}", rng.usize(0..4000));
                let ttl = if i % 5 == 0 {
                    Ttl::At(1_000 + i as i64)
                } else {
                    Ttl::Clear
                };
                let v = if i % 7 == 0 {
                    Value::list(
                        (0..3)
                            .map(|j| SmallBytes::new(format!("e{j}").as_bytes()))
                            .collect(),
                    )
                } else {
                    Value::string(format!("v{i}").as_bytes())
                };
                ks.set(rng.usize(0..3), k.as_bytes(), v, ttl, 0);
            }
            let before = image(&ks);
            let sink = Collect::default();
            let got = sink.got.clone();
            ks.snapshot_begin(Box::new(sink));
            let mut now = 0;
            let mut done = false;
            let mut rounds = 0;
            while !done {
                rounds += 1;
                for _ in 0..rng.usize(0..200) {
                    let db = rng.usize(0..3);
                    let k = format!("k{}", rng.usize(0..8000));
                    match rng.u8(0..10) {
                        0..=2 => ks.set(db, k.as_bytes(), Value::string(b"new"), Ttl::Keep, now),
                        3 => {
                            ks.remove(db, k.as_bytes(), now);
                        }
                        4 => {
                            if let Some(slot) = ks.lookup_write(db, k.as_bytes(), now) {
                                if let Some(l) = slot.as_list_mut() {
                                    l.push_back(SmallBytes::new(b"pushed"));
                                } else {
                                    slot.append(b"+");
                                }
                            }
                        }
                        5 => {
                            ks.set_expire(db, k.as_bytes(), 5_000);
                        }
                        6 => {
                            ks.persist(db, k.as_bytes());
                        }
                        7 => {
                            now += 50;
                            ks.active_expire_cycle(now, ExpireBudget::keys(50));
                            ks.lookup_read(db, k.as_bytes(), now);
                        }
                        8 => {
                            if rng.u8(0..30) == 0 {
                                ks.clear(db);
                            }
                        }
                        _ => {
                            ks.shrink_sparse();
                        }
                    }
                }
                done = ks.snapshot_step(rng.usize(16..4096));
                ks.snapshot_output().unwrap().clear();
                assert!(rounds < 100_000);
            }
            ks.snapshot_end().unwrap();
            let mut after = Image::new();
            for (db, k, v, w) in got.lock().unwrap().iter() {
                let dup = after.insert((*db, k.clone()), (v.clone(), *w));
                assert!(dup.is_none(), "seed {seed}: key saved twice: {k:?}");
            }
            assert_eq!(before, after, "seed {seed}");
            assert!(!ks.snapshot_active());
        }
    }

    #[test]
    fn snapshot_survives_table_growth() {
        let mut ks = Keyspace::new(1);
        for i in 0..1000 {
            ks.set(0, format!("a{i}").as_bytes(), Value::int(i), Ttl::Clear, 0);
        }
        let before = image(&ks);
        let sink = Collect::default();
        let got = sink.got.clone();
        ks.snapshot_begin(Box::new(sink));
        assert!(!ks.snapshot_step(64));
        // Enough inserts to rehash the table several times mid-scan.
        for i in 0..20_000 {
            ks.set(0, format!("b{i}").as_bytes(), Value::int(i), Ttl::Clear, 0);
            ks.remove(0, format!("a{}", i % 1000).as_bytes(), 0);
        }
        while !ks.snapshot_step(64) {}
        ks.snapshot_end();
        let after: Image = got
            .lock()
            .unwrap()
            .iter()
            .map(|(db, k, v, w)| ((*db, k.clone()), (v.clone(), *w)))
            .collect();
        assert_eq!(got.lock().unwrap().len(), 1000);
        assert_eq!(before, after);
    }
}

/// Keys clients are blocked on. The keyspace only knows *which* keys are watched, so that storing
/// a list under one (Redis's `signalKeyAsReady`, done in `dbAdd`) is noticed without every writer
/// having to remember it; the blocked clients themselves live in [`crate::blocking`].
impl Keyspace {
    /// Starts watching `key` in `db` (idempotent).
    pub fn watch(&mut self, db: usize, key: &[u8]) {
        if self.watched.len() <= db {
            self.watched.resize_with(db + 1, Default::default);
        }
        if !self.watched[db].contains(key) {
            self.watched[db].insert(key.into());
            self.watched_len += 1;
        }
    }

    /// Stops watching `key` in `db`.
    pub fn unwatch(&mut self, db: usize, key: &[u8]) {
        if let Some(set) = self.watched.get_mut(db) {
            if set.remove(key) {
                self.watched_len -= 1;
            }
        }
    }

    /// Marks a watched key as ready (a value that may serve its blocked clients was stored).
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.watched.get(db).is_some_and(|s| s.contains(key))
            && !self.ready.iter().any(|(d, k)| *d == db && &**k == key)
        {
            self.ready.push((db, key.into()));
        }
    }

    /// Whether any watched key became ready (cheap: checked after every command).
    #[inline]
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The keys that became ready, in the order they did.
    pub fn take_ready(&mut self) -> Vec<(usize, Box<[u8]>)> {
        std::mem::take(&mut self.ready)
    }
}

/// How a watched key stood when WATCH ran: what EXEC compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WatchedAs {
    /// Absent, or present without a deadline.
    Plain,
    /// Present with this deadline (unix ms): passing it before EXEC fails the transaction.
    Deadline(i64),
    /// Present but already past its deadline (Redis's "stale" key): its deletion is no change.
    Stale,
}

/// A key and the DB it lives in.
type DbKey = (usize, Box<[u8]>);

/// One shard's WATCH bookkeeping for clients on any core.
///
/// Why per shard: a watched key is only ever modified by its owner, so the owner can tell, at the
/// moment of the change, that a watcher's EXEC must fail — no message per write. The watcher is
/// identified by a watch id (one per WATCH … EXEC/UNWATCH period of a client), so cleanup sent
/// late for an old period can never undo a newer one.
#[derive(Default)]
struct Cas {
    keys: hashbrown::HashMap<DbKey, Vec<(u64, WatchedAs)>, ahash::RandomState>,
    by_id: hashbrown::HashMap<u64, Vec<DbKey>, ahash::RandomState>,
    /// Watch ids whose keys were touched: their EXEC fails.
    dirty: hashbrown::HashSet<u64, ahash::RandomState>,
    /// Keys looked up for writing by the running command, touched if it changed anything.
    pending: Vec<(usize, Box<[u8]>)>,
}

impl Cas {
    fn maybe_touched(&mut self, db: usize, key: &[u8]) {
        if self.keys.contains_key(&(db, Box::<[u8]>::from(key))) {
            self.pending.push((db, key.into()));
        }
    }
}

/// WATCH: which keys are watched by whom, and which watchers saw a change (Redis's
/// `touchWatchedKey` on every modification, `touchAllWatchedKeysInDb` on FLUSHDB/FLUSHALL).
impl Keyspace {
    /// Registers watch `id` on `key` (idempotent per id and key).
    pub fn cas_watch(&mut self, id: u64, db: usize, key: &[u8], now_ms: i64) {
        let as_ = if !self.contains_raw(db, key) {
            WatchedAs::Plain
        } else {
            match self.expire_at(db, key) {
                Some(when) if now_ms > when => WatchedAs::Stale,
                Some(when) => WatchedAs::Deadline(when),
                None => WatchedAs::Plain,
            }
        };
        let cas = self.cas.get_or_insert_with(Default::default);
        let k: (usize, Box<[u8]>) = (db, key.into());
        let list = cas.keys.entry(k.clone()).or_default();
        if list.iter().any(|(i, _)| *i == id) {
            return;
        }
        list.push((id, as_));
        cas.by_id.entry(id).or_default().push(k);
    }

    /// Forgets watch `id` on this shard (EXEC, DISCARD, UNWATCH, RESET, disconnect).
    pub fn cas_unwatch(&mut self, id: u64) {
        let Some(cas) = &mut self.cas else { return };
        cas.dirty.remove(&id);
        if let Some(keys) = cas.by_id.remove(&id) {
            for k in keys {
                if let Some(list) = cas.keys.get_mut(&k) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        cas.keys.remove(&k);
                    }
                }
            }
        }
        if cas.by_id.is_empty() {
            self.cas = None;
        }
    }

    /// Whether EXEC under watch `id` must fail: a watched key was touched, or has passed the
    /// deadline it had when watched (expired, whether or not it was deleted yet).
    pub fn cas_failed(&self, id: u64, now_ms: i64) -> bool {
        let Some(cas) = &self.cas else { return false };
        if cas.dirty.contains(&id) {
            return true;
        }
        let Some(keys) = cas.by_id.get(&id) else {
            return false;
        };
        keys.iter().any(|k| {
            cas.keys.get(k).is_some_and(|list| {
                list.iter()
                    .any(|&(i, as_)| i == id && matches!(as_, WatchedAs::Deadline(w) if now_ms > w))
            })
        })
    }

    /// Whether any client watches a key here (the write path checks this first).
    #[inline]
    pub fn cas_active(&self) -> bool {
        self.cas.is_some()
    }

    /// After a command: the keys it looked up for writing count as touched if it changed
    /// anything (`dirty` grew past `dirty_before`), as Redis signals only real modifications.
    pub fn settle_touches(&mut self, dirty_before: u64) {
        let Some(cas) = &mut self.cas else { return };
        if cas.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut cas.pending);
        if self.dirty > dirty_before {
            for (db, key) in &pending {
                self.touch(*db, key);
            }
        }
        if let Some(cas) = &mut self.cas {
            let mut p = pending;
            p.clear();
            cas.pending = p;
        }
    }

    /// `key` changed: every watcher's EXEC fails, except that deleting a key that was already
    /// stale when watched is no change (it only stops being stale).
    fn touch(&mut self, db: usize, key: &[u8]) {
        let exists = self.contains_raw(db, key);
        let Some(cas) = &mut self.cas else { return };
        let Some(list) = cas.keys.get_mut(&(db, Box::<[u8]>::from(key))) else {
            return;
        };
        for (id, as_) in list.iter_mut() {
            if *as_ == WatchedAs::Stale && !exists {
                *as_ = WatchedAs::Plain;
                continue;
            }
            cas.dirty.insert(*id);
        }
    }

    /// FLUSHDB/FLUSHALL of `db` (before it is emptied): touches the watched keys it holds.
    fn touch_db(&mut self, db: usize) {
        let Some(cas) = &mut self.cas else { return };
        let d = &self.dbs[db];
        let hasher = &self.hasher;
        for ((kdb, key), list) in cas.keys.iter_mut() {
            if *kdb != db {
                continue;
            }
            let h = hasher.hash_one(&**key);
            if d.table.find(h, |e| e.key() == &**key).is_none() {
                continue;
            }
            for (id, as_) in list.iter_mut() {
                if *as_ == WatchedAs::Stale {
                    *as_ = WatchedAs::Plain;
                    continue;
                }
                cas.dirty.insert(*id);
            }
        }
    }

    /// SWAPDB on this shard: DBs `a` and `b` trade contents. Watchers of keys in either are
    /// touched as Redis's `touchAllWatchedKeysInDb` does (a stale key replaced by nothing or by
    /// another stale key is no change), and clients blocked on a key that now holds a list or
    /// sorted set are served.
    pub fn swap_dbs(&mut self, a: usize, b: usize, now_ms: i64) {
        if a == b {
            return;
        }
        if let Some(s) = &mut self.snap {
            // The running snapshot scans by DB: take both as they are first.
            for dbi in [a, b] {
                let d = &self.dbs[dbi];
                s.finish_db(dbi, &d.table, &d.expires);
            }
        }
        if self.cas.is_some() {
            self.touch_swap(a, b, now_ms);
            self.touch_swap(b, a, now_ms);
        }
        self.dbs.swap(a, b);
        for dbi in [a, b] {
            let keys: Vec<Box<[u8]>> = match self.watched.get(dbi) {
                Some(set) if !set.is_empty() => set.iter().cloned().collect(),
                _ => continue,
            };
            for key in keys {
                let ready = self
                    .lookup_read_raw(dbi, &key, now_ms)
                    .is_some_and(|v| matches!(v.kind(), Kind::List | Kind::Zset));
                if ready {
                    self.signal_ready(dbi, &key);
                }
            }
        }
    }

    /// The live value of `key` without lazy deletion or stats (SWAPDB's wake-ups).
    fn lookup_read_raw(&self, db: usize, key: &[u8], now_ms: i64) -> Option<&Value> {
        let d = &self.dbs[db];
        let e = d.table.find(self.hash(key), |e| e.key() == key)?;
        if e.has_ttl() && d.expires.get(key).is_some_and(|&w| now_ms > w) {
            return None;
        }
        Some(&e.val.0)
    }

    /// Touches the watchers of keys in `emptied` that SWAPDB replaces with `replaced`'s.
    fn touch_swap(&mut self, emptied: usize, replaced: usize, now_ms: i64) {
        let state = |ks: &Keyspace, db: usize, key: &[u8]| -> (bool, bool) {
            let exists = ks.contains_raw(db, key);
            let expired = exists && ks.expire_at(db, key).is_some_and(|w| now_ms > w);
            (exists, expired)
        };
        let Some(cas) = &self.cas else { return };
        let keys: Vec<DbKey> = cas
            .keys
            .keys()
            .filter(|(db, _)| *db == emptied)
            .cloned()
            .collect();
        for k in keys {
            let (in_emptied, _) = state(self, emptied, &k.1);
            let (in_replaced, replaced_expired) = state(self, replaced, &k.1);
            if !in_emptied && !in_replaced {
                continue;
            }
            let Some(cas) = &mut self.cas else { return };
            let Some(list) = cas.keys.get_mut(&k) else {
                continue;
            };
            for (id, as_) in list.iter_mut() {
                if *as_ == WatchedAs::Stale {
                    if !in_replaced {
                        // Expired key now gone: no logical change.
                        *as_ = WatchedAs::Plain;
                        continue;
                    } else if replaced_expired {
                        // A stale key replaced by another stale key.
                        continue;
                    }
                } else if !in_emptied && replaced_expired {
                    // No key replaced by a stale one.
                    *as_ = WatchedAs::Stale;
                    continue;
                }
                cas.dirty.insert(*id);
            }
        }
    }

    /// Whether the table holds `key`, expired or not (no lazy expiry, no stats).
    fn contains_raw(&self, db: usize, key: &[u8]) -> bool {
        let h = self.hash(key);
        self.dbs[db].table.find(h, |e| e.key() == key).is_some()
    }
}

/// Tables with at most this many buckets are listed whole in one SCAN visit (fewer than 112
/// keys: cheaper to list than to probe).
const SCAN_WHOLE_TABLE_BUCKETS: usize = 128;
/// One SCAN visit covers `2^SCAN_BLOCK_BITS` consecutive home buckets.
const SCAN_BLOCK_BITS: u32 = 4;
const SCAN_BLOCK: usize = 1 << SCAN_BLOCK_BITS;
/// hashbrown's probe group width (`Group::WIDTH`) with its SSE2 groups.
const PROBE_GROUP: usize = 16;
/// Whether SCAN may use its fast walk, which follows hashbrown's probe with the group width
/// above: only where hashbrown uses SSE2 groups. Elsewhere the exhaustive tag walk is used.
const SCAN_FAST: bool = cfg!(all(target_feature = "sse2", target_arch = "x86_64"));
/// hashbrown's control byte (its "tag") is the top 7 bits of the hash; the probe starts at the
/// hash's low bits.
const TAG_SHIFT: u32 = 57;
/// RANDOMKEY: random bucket picks before falling back to a walk from a random bucket.
const RANDOM_PICKS: usize = 64;
/// RANDOMKEY: expired keys deleted while looking for a live one before taking the first live
/// key in table order instead.
const RANDOM_EXPIRED_TRIES: usize = 100;

/// SCAN and RANDOMKEY (see `cmd::keys`).
///
/// # SCAN cursors
///
/// A key's *home* is `hash & (buckets - 1)`: the bucket a lookup's probe starts at. A SCAN
/// *visit* takes the keys of 16 consecutive homes, those whose `(hash >> 4) & (buckets/16 - 1)`
/// is the cursor's value, and the cursor moves over these block numbers in Redis's
/// reverse-binary order (`dictScan`, applied to `hash >> 4`). A block number is a function of the
/// key's hash alone, not of where its entry sits, so the guarantee is Redis's whatever the table
/// does between calls (growth, shrinking, an in-place rehash that moves entries without changing
/// the bucket count, clearing): every key present for the whole iteration is returned at least
/// once.
///
/// The keys of a home are the entries with that home along its probe sequence, up to the first
/// group holding an EMPTY slot (where a lookup stops). The fast walk reads those slots directly;
/// where a free slot may be a tombstone rather than EMPTY it asks hashbrown's own probe
/// (`iter_hash_buckets`) whether the lookup goes on. The exhaustive walk (other platforms, and
/// the rare case the fast one cannot decide) runs that probe once for each of the 128 tags.
///
/// Why not a bucket-index walk with a table generation in the cursor: an in-place rehash
/// reorders entries without changing the bucket count, and the existing write paths have no
/// hook to bump a generation, so such a walk could miss keys.
impl Keyspace {
    /// One SCAN step over `db` from `cursor` (Redis's `dictScan` loop in `scanGenericCommand`):
    /// visits a block of homes, calls `f` with each of its keys (expired ones too, with their
    /// deadline), advances the cursor, and repeats while the cursor is not 0, fewer than `count`
    /// keys were seen, and at most `max_visits` extra blocks were visited. Returns the next
    /// cursor (0: this DB is done; below `buckets / 16` otherwise) and the blocks visited.
    pub fn scan_step(
        &self,
        db: usize,
        mut cursor: u64,
        count: usize,
        max_visits: usize,
        mut f: impl FnMut(&[u8], &Value, Option<i64>),
    ) -> (u64, usize) {
        let d = &self.dbs[db];
        if d.table.is_empty() {
            return (0, 0);
        }
        let nb = d.table.num_buckets();
        let vmask = if nb <= SCAN_WHOLE_TABLE_BUCKETS {
            0
        } else {
            (nb >> SCAN_BLOCK_BITS) as u64 - 1
        };
        let walk = ScanWalk {
            ks: self,
            d,
            mask: nb - 1,
            tombstones: tombstones(&d.table),
        };
        let (mut seen, mut visits) = (0usize, 0usize);
        loop {
            seen += if vmask == 0 {
                d.table.iter().for_each(|e| emit_entry(d, e, &mut f));
                d.table.len()
            } else {
                walk.visit(((cursor & vmask) as usize) << SCAN_BLOCK_BITS, &mut f)
            };
            visits += 1;
            // Set the bits above the mask so the reversed increment carries through them.
            cursor |= !vmask;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            if cursor == 0 || visits > max_visits || seen >= count {
                return (cursor, visits);
            }
        }
    }

    /// The value of `key` as stored: no lazy expiry, no hit/miss counting. For a second look at
    /// a key a lookup has just found live (COPY duplicates it only once the destination is
    /// known to be free).
    pub fn peek(&self, db: usize, key: &[u8]) -> Option<&Value> {
        let h = self.hash(key);
        self.dbs[db]
            .table
            .find(h, |e| e.key() == key)
            .map(|e| &e.val.0)
    }

    /// A random key of `db` that is not expired (RANDOMKEY), or `None` when it has none.
    /// Expired keys met on the way are deleted, as Redis does. Uniform over occupied buckets
    /// while the table is not sparse (random picks, rejecting empty buckets).
    pub fn random_key(&mut self, db: usize, now_ms: i64) -> Option<Vec<u8>> {
        for _ in 0..RANDOM_EXPIRED_TRIES {
            let key = self.random_entry_key(db)?;
            if self.contains(db, &key, now_ms) {
                return Some(key);
            }
        }
        // Nearly everything sampled was expired: any live key will do.
        self.live_keys(db, now_ms).next().map(<[u8]>::to_vec)
    }

    /// The key of a random entry of `db`, expired or not.
    fn random_entry_key(&mut self, db: usize) -> Option<Vec<u8>> {
        let d = &self.dbs[db];
        let rng = &mut self.rng;
        if d.table.is_empty() {
            return None;
        }
        let nb = d.table.num_buckets();
        for _ in 0..RANDOM_PICKS {
            if let Some(e) = d.table.get_bucket(rng.usize(..nb)) {
                return Some(e.key().to_vec());
            }
        }
        let start = rng.usize(..nb);
        (0..nb)
            .find_map(|j| d.table.get_bucket((start + j) % nb))
            .map(|e| e.key().to_vec())
    }
}

/// Tombstones (DELETED control bytes) in a table: hashbrown keeps `growth_left` equal to the
/// bucket capacity less the items and the tombstones, and reports `items + growth_left` as its
/// capacity.
fn tombstones(t: &HashTable<Entry>) -> usize {
    let nb = t.num_buckets();
    let full_capacity = if nb < 8 {
        nb.saturating_sub(1)
    } else {
        nb / 8 * 7
    };
    full_capacity.saturating_sub(t.capacity())
}

/// Hands one entry to a SCAN callback, with its deadline.
fn emit_entry(d: &Db, e: &Entry, f: &mut impl FnMut(&[u8], &Value, Option<i64>)) {
    let when = if e.has_ttl() {
        d.expires.get(e.key()).copied()
    } else {
        None
    };
    f(e.key(), &e.val.0, when);
}

/// Finds the keys of home buckets for SCAN (see the `impl Keyspace` above `scan_step`).
struct ScanWalk<'a> {
    ks: &'a Keyspace,
    d: &'a Db,
    mask: usize,
    tombstones: usize,
}

impl ScanWalk<'_> {
    fn home_of(&self, e: &Entry) -> usize {
        self.ks.hash(e.key()) as usize & self.mask
    }

    /// Emits every key whose home is in `first .. first + SCAN_BLOCK`; returns how many.
    fn visit(&self, first: usize, f: &mut impl FnMut(&[u8], &Value, Option<i64>)) -> usize {
        if !SCAN_FAST {
            let mut n = 0;
            for home in first..first + SCAN_BLOCK {
                for i in self.by_tags(home) {
                    if let Some(e) = self.d.table.get_bucket(i) {
                        emit_entry(self.d, e, f);
                        n += 1;
                    }
                }
            }
            return n;
        }
        // The first probe group of every home of the block: one read, one hash per slot.
        const SPAN: usize = SCAN_BLOCK + PROBE_GROUP - 1;
        let mut slots: [Option<(&Entry, usize)>; SPAN] = [None; SPAN];
        for (j, s) in slots.iter_mut().enumerate() {
            *s = self
                .d
                .table
                .get_bucket((first + j) & self.mask)
                .map(|e| (e, self.home_of(e)));
        }
        let mut n = 0;
        for off in 0..SCAN_BLOCK {
            let home = first + off;
            let mut has_free = false;
            for s in &slots[off..off + PROBE_GROUP] {
                match s {
                    None => has_free = true,
                    Some((e, h)) if *h == home => {
                        emit_entry(self.d, e, f);
                        n += 1;
                    }
                    Some(_) => {}
                }
            }
            // Without tombstones a free slot is EMPTY: lookups from `home` stop in this group.
            if !(has_free && self.tombstones == 0) {
                n += self.probe_on(home, has_free, f);
            }
        }
        n
    }

    /// Follows `home`'s probe sequence past its first group as a lookup does (on to the next
    /// group while the current one has no EMPTY slot) and emits the entries of `home` met there.
    /// `has_free`: the first group has a slot without an entry.
    fn probe_on(
        &self,
        home: usize,
        mut has_free: bool,
        f: &mut impl FnMut(&[u8], &Value, Option<i64>),
    ) -> usize {
        let table = &self.d.table;
        let (mut pos, mut stride) = (home, 0usize);
        let mut found = Vec::new();
        let mut ended = false;
        // A probe visits each of the `buckets / PROBE_GROUP` groups at most once.
        for _ in 0..(self.mask + 1) / PROBE_GROUP {
            let next = (pos + stride + PROBE_GROUP) & self.mask;
            let goes_on = if !has_free {
                true
            } else if self.tombstones == 0 {
                false
            } else {
                match self.probe_reaches(home, next) {
                    Some(b) => b,
                    None => break,
                }
            };
            if !goes_on {
                ended = true;
                break;
            }
            stride += PROBE_GROUP;
            pos = next;
            has_free = false;
            for j in 0..PROBE_GROUP {
                let i = (pos + j) & self.mask;
                match table.get_bucket(i) {
                    None => has_free = true,
                    Some(e) if self.home_of(e) == home => found.push(i),
                    Some(_) => {}
                }
            }
        }
        if !ended {
            // Undecidable here (a next group with no entry after free slots that may all be
            // tombstones): every entry of `home` beyond its first group, by tags.
            found = self.by_tags(home);
            found.retain(|&i| i.wrapping_sub(home) & self.mask >= PROBE_GROUP);
        }
        for &i in &found {
            if let Some(e) = table.get_bucket(i) {
                emit_entry(self.d, e, f);
            }
        }
        found.len()
    }

    /// Whether a lookup from `home` that reached the group just before `next` goes on into
    /// `next` (that group has no EMPTY slot), asked of hashbrown's probe with the tag of an entry
    /// in `next`; `None` if `next` holds no entry.
    fn probe_reaches(&self, home: usize, next: usize) -> Option<bool> {
        let table = &self.d.table;
        let (i, e) = (0..PROBE_GROUP).find_map(|j| {
            let i = (next + j) & self.mask;
            table.get_bucket(i).map(|e| (i, e))
        })?;
        let tag = self.ks.hash(e.key()) >> TAG_SHIFT;
        Some(
            table
                .iter_hash_buckets((tag << TAG_SHIFT) | home as u64)
                .any(|x| x == i),
        )
    }

    /// The buckets of every entry whose home is `home`: hashbrown's probe from `home` once per
    /// possible tag walks exactly the groups a lookup would.
    fn by_tags(&self, home: usize) -> Vec<usize> {
        let table = &self.d.table;
        let mut idx = Vec::new();
        for tag in 0..128u64 {
            idx.extend(table.iter_hash_buckets((tag << TAG_SHIFT) | home as u64));
        }
        idx.sort_unstable();
        idx.dedup();
        idx.retain(|&i| table.get_bucket(i).is_some_and(|e| self.home_of(e) == home));
        idx
    }
}

#[cfg(test)]
mod scan_tests {
    use super::*;
    use std::collections::HashSet;

    fn scan_all(ks: &Keyspace, db: usize, count: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut cursor = 0;
        for _ in 0..1_000_000 {
            cursor = ks
                .scan_step(db, cursor, count, count * 10, |k, _, _| {
                    out.push(k.to_vec())
                })
                .0;
            if cursor == 0 {
                return out;
            }
        }
        panic!("scan did not finish");
    }

    #[test]
    fn scan_returns_every_key() {
        let mut ks = Keyspace::new(2);
        assert!(scan_all(&ks, 0, 10).is_empty());
        for n in [1usize, 5, 100, 3000, 20_000] {
            ks.clear(0);
            for i in 0..n {
                ks.set(0, format!("k{i}").as_bytes(), Value::int(1), Ttl::Clear, 0);
            }
            let got = scan_all(&ks, 0, 7);
            assert_eq!(got.len(), n, "no duplicates without resizing");
            let set: HashSet<_> = got.into_iter().collect();
            assert_eq!(set.len(), n);
        }
        assert!(scan_all(&ks, 1, 10).is_empty());
    }

    /// The fast walk finds exactly what the exhaustive one does, home by home, in tables full
    /// to the brim, with tombstones, after churn.
    #[test]
    fn fast_walk_matches_exhaustive_walk() {
        let mut saw_tombstones = false;
        for seed in 0..6u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut ks = Keyspace::with_seed(1, seed);
            let mut next = 0u64;
            let mut live: Vec<u64> = Vec::new();
            for round in 0..40 {
                // Fill up to the load limit, then delete a random share (tombstones where the
                // table was dense), then refill part of it (reusing tombstones).
                let room = ks.dbs[0].table.capacity() - ks.len(0);
                let target = if round == 0 { 5000 } else { room.min(3000) };
                for _ in 0..target {
                    ks.set(
                        0,
                        format!("k{next}").as_bytes(),
                        Value::int(1),
                        Ttl::Clear,
                        0,
                    );
                    live.push(next);
                    next += 1;
                }
                for _ in 0..rng.usize(0..live.len().max(1)) / 2 {
                    let i = rng.usize(0..live.len());
                    let k = live.swap_remove(i);
                    ks.remove(0, format!("k{k}").as_bytes(), 0);
                }
                let d = &ks.dbs[0];
                let nb = d.table.num_buckets();
                if nb <= SCAN_WHOLE_TABLE_BUCKETS || round % 4 != 3 {
                    continue;
                }
                let walk = ScanWalk {
                    ks: &ks,
                    d,
                    mask: nb - 1,
                    tombstones: tombstones(&d.table),
                };
                saw_tombstones |= walk.tombstones > 0;
                let mut total = 0;
                for v in 0..nb / SCAN_BLOCK {
                    let first = v * SCAN_BLOCK;
                    let mut fast = Vec::new();
                    walk.visit(first, &mut |k, _, _| fast.push(k.to_vec()));
                    let mut slow: Vec<Vec<u8>> = (first..first + SCAN_BLOCK)
                        .flat_map(|h| walk.by_tags(h))
                        .map(|i| d.table.get_bucket(i).unwrap().key().to_vec())
                        .collect();
                    fast.sort();
                    slow.sort();
                    assert_eq!(fast, slow, "seed {seed} round {round} block {v}");
                    total += fast.len();
                }
                assert_eq!(total, ks.len(0));
            }
        }
        assert!(saw_tombstones, "the test must cover tables with tombstones");
    }

    /// Keys present throughout are returned whatever the table does between steps: growth,
    /// shrinking, and churn that rehashes in place.
    #[test]
    fn scan_survives_resizes_and_rehashes() {
        for seed in 0..8u64 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut ks = Keyspace::new(1);
            let stable: Vec<Vec<u8>> = (0..2000).map(|i| format!("s{i}").into_bytes()).collect();
            for k in &stable {
                ks.set(0, k, Value::int(1), Ttl::Clear, 0);
            }
            let mut seen = HashSet::new();
            let mut cursor = 0;
            let mut extra = 0u64;
            for step in 0..1_000_000 {
                cursor = ks
                    .scan_step(0, cursor, 10, 100, |k, _, _| {
                        seen.insert(k.to_vec());
                    })
                    .0;
                if cursor == 0 {
                    break;
                }
                assert!(step < 999_999);
                match rng.u8(0..4) {
                    0 => {
                        for _ in 0..rng.usize(0..500) {
                            extra += 1;
                            let k = format!("x{extra}");
                            ks.set(0, k.as_bytes(), Value::int(1), Ttl::Clear, 0);
                        }
                    }
                    1 => {
                        for _ in 0..rng.usize(0..500) {
                            let k = format!("x{}", rng.u64(0..=extra));
                            ks.remove(0, k.as_bytes(), 0);
                        }
                    }
                    2 => ks.shrink_sparse(),
                    _ => {
                        // Churn: tombstones, then in-place rehashes.
                        for _ in 0..200 {
                            extra += 1;
                            let k = format!("x{extra}");
                            ks.set(0, k.as_bytes(), Value::int(1), Ttl::Clear, 0);
                            ks.remove(0, format!("x{}", extra - 1).as_bytes(), 0);
                        }
                    }
                }
            }
            for k in &stable {
                let shown = String::from_utf8_lossy(k);
                assert!(seen.contains(k), "seed {seed}: missed {shown:?}");
            }
        }
    }

    #[test]
    fn random_key_skips_and_deletes_expired() {
        let mut ks = Keyspace::new(1);
        assert_eq!(ks.random_key(0, 0), None);
        for i in 0..50 {
            ks.set(0, format!("e{i}").as_bytes(), Value::int(1), Ttl::At(10), 0);
        }
        ks.set(0, b"live", Value::int(1), Ttl::Clear, 0);
        for _ in 0..20 {
            assert_eq!(ks.random_key(0, 100).as_deref(), Some(&b"live"[..]));
        }
        assert!(ks.random_key(0, 5).is_some_and(|k| !k.is_empty()));
        ks.remove(0, b"live", 100);
        assert_eq!(ks.random_key(0, 100), None);
        assert_eq!(ks.len(0), 0);
        let mut seen = HashSet::new();
        for i in 0..10 {
            ks.set(0, format!("k{i}").as_bytes(), Value::int(1), Ttl::Clear, 0);
        }
        for _ in 0..500 {
            seen.insert(ks.random_key(0, 0).unwrap());
        }
        assert_eq!(seen.len(), 10);
    }

    #[test]
    #[ignore]
    fn scan_speed() {
        let mut ks = Keyspace::new(1);
        for i in 0..1_000_000 {
            ks.set(
                0,
                format!("key:{i:012}").as_bytes(),
                Value::int(1),
                Ttl::Clear,
                0,
            );
        }
        for _ in 0..2 {
            let t = Instant::now();
            let (mut cursor, mut n, mut calls) = (0, 0usize, 0u32);
            loop {
                cursor = ks.scan_step(0, cursor, 10, 100, |_, _, _| n += 1).0;
                calls += 1;
                if cursor == 0 {
                    break;
                }
            }
            let el = t.elapsed();
            eprintln!(
                "{n} keys in {calls} calls: {el:?} ({:?} per call)",
                el / calls
            );
            for i in (0..1_000_000).step_by(3) {
                ks.remove(0, format!("key:{i:012}").as_bytes(), 0);
            }
        }
    }
}

// Appended for the fuzz targets (`crate::fuzzing`); after the tests only to keep clear of
// concurrent edits above.
#[allow(clippy::items_after_test_module)]
impl Keyspace {
    /// Panics on the first broken structural invariant: every deadline in a DB's `expires`
    /// index belongs to an entry of that DB whose "has TTL" bit is set, and every such entry
    /// has one; every entry is found through its own key's hash; a key is inline exactly when
    /// it fits. Why: these are private to this module, and a command that breaks one leaves
    /// no trace in its reply.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        for (i, d) in self.dbs.iter().enumerate() {
            let mut with_ttl = 0usize;
            for e in d.table.iter() {
                let k = e.key();
                let show = || String::from_utf8_lossy(k).into_owned();
                let found = d.table.find(self.hash(k), |x| x.key() == k);
                assert!(
                    found.is_some_and(|x| std::ptr::eq(x, e)),
                    "db {i}: key {:?} not found by its hash",
                    show()
                );
                let fits = k.len() <= 16 && k.last() != Some(&0);
                assert_eq!(
                    e.bits() & KEY_ON_HEAP == 0,
                    fits,
                    "db {i}: key {:?} stored in the wrong place",
                    show()
                );
                if e.has_ttl() {
                    with_ttl += 1;
                    assert!(
                        d.expires.contains_key(k),
                        "db {i}: key {:?} has the TTL bit but no deadline",
                        show()
                    );
                } else {
                    assert!(
                        !d.expires.contains_key(k),
                        "db {i}: key {:?} has a deadline but no TTL bit",
                        show()
                    );
                }
            }
            assert_eq!(
                with_ttl,
                d.expires.len(),
                "db {i}: deadlines for keys that do not exist"
            );
        }
    }
}

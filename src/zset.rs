//! The sorted-set value: members with scores, ordered by (score, member).
//!
//! Two indexes over the same members: `dict` (member → score, insertion order, O(1) lookup and
//! O(1) access by position for ZSCAN/ZRANDMEMBER) and `tree`, a counted B+tree over
//! (score, member) giving rank, select-by-rank and bound searches in O(log n).
//!
//! Why a counted B+tree and not Redis's skiplist: a skiplist needs `unsafe` or an index arena
//! plus one allocation per element; the B+tree keeps up to 64 entries per leaf in one `Vec`
//! (cache friendly, no per-element allocation), lives in two index arenas (safe Rust, leaves
//! linked for O(1) steps while iterating) and its inner nodes carry subtree counts for ranks.
//! Each member is kept twice (dict key, tree entry): short members are inline anyway, and a
//! tree of dict indexes would cost a random memory access per comparison.

use crate::keyspace::SmallBytes;
use indexmap::IndexMap;
use std::cmp::Ordering;

/// Redis's order: by score (`-0.0 == 0.0`), then by member bytes. Scores are never NaN.
pub fn cmp_entries(a: (&[u8], f64), b: (&[u8], f64)) -> Ordering {
    match a.1.partial_cmp(&b.1) {
        Some(Ordering::Equal) | None => a.0.cmp(b.0),
        Some(o) => o,
    }
}

/// A sorted set. Scores are never NaN (callers reject NaN before inserting).
#[derive(Clone, Debug, Default)]
pub struct Zset {
    dict: IndexMap<SmallBytes, f64, ahash::RandomState>,
    tree: Tree,
    /// Heap bytes of the members' own blocks (both copies), kept so `heap_size` is not O(n).
    member_heap: usize,
}

impl Zset {
    pub fn new() -> Zset {
        Zset::default()
    }

    pub fn with_capacity(n: usize) -> Zset {
        Zset {
            dict: IndexMap::with_capacity_and_hasher(n, ahash::RandomState::new()),
            tree: Tree::default(),
            member_heap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.dict.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// The member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.dict.get(member).copied()
    }

    /// Adds `member` or changes its score; returns the previous score. `score` must not be NaN.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        debug_assert!(!score.is_nan());
        if let Some(old) = self.dict.get_mut(member) {
            let prev = *old;
            if prev.to_bits() != score.to_bits() {
                *old = score;
                self.tree.update_score(member, prev, score);
            }
            return Some(prev);
        }
        let d = SmallBytes::new(member);
        let t = SmallBytes::new(member);
        self.member_heap += d.heap_size() + t.heap_size();
        self.dict.insert(d, score);
        self.tree.insert(Entry { score, member: t });
        None
    }

    /// Removes `member`; returns its score. Removal from the position index is `swap_remove`
    /// (the last member moves into the hole), which ZSCAN's cursor relies on.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, m, score) = self.dict.swap_remove_full(member)?;
        let t = self.tree.remove(Target::Key(member, score));
        self.forget(&m, t.as_ref());
        Some(score)
    }

    /// Removes and returns the lowest member.
    pub fn pop_first(&mut self) -> Option<(SmallBytes, f64)> {
        self.pop_rank(0)
    }

    /// Removes and returns the highest member.
    pub fn pop_last(&mut self) -> Option<(SmallBytes, f64)> {
        self.pop_rank(self.len().checked_sub(1)?)
    }

    fn pop_rank(&mut self, rank: usize) -> Option<(SmallBytes, f64)> {
        let e = self.tree.remove(Target::Rank(rank))?;
        if let Some((_, m, _)) = self.dict.swap_remove_full(e.member.as_slice()) {
            self.forget(&m, Some(&e));
        }
        Some((e.member, e.score))
    }

    fn forget(&mut self, dict_copy: &SmallBytes, tree_copy: Option<&Entry>) {
        let bytes = dict_copy.heap_size() + tree_copy.map_or(0, |e| e.member.heap_size());
        self.member_heap = self.member_heap.saturating_sub(bytes);
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.partition_point(|m, s| cmp_entries((m, s), (member, score)).is_lt()))
    }

    /// The member at ascending rank `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let e = self.tree.get(rank)?;
        Some((e.member.as_slice(), e.score))
    }

    /// Ascending from rank `start` (to the end).
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.tree.iter_from(start)
    }

    /// Descending from rank `start` (inclusive) down to rank 0. Empty when `start >= len`.
    pub fn iter_rev_from(&self, start: usize) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.tree.iter_rev_from(start)
    }

    /// All members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.iter_from(0)
    }

    /// The number of leading members (in ascending order) for which `pred` holds. `pred` must be
    /// monotone: true for a prefix of the order, false after (e.g. "score < min").
    pub fn partition_point(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        self.tree
            .partition_point(|e| pred(e.member.as_slice(), e.score))
    }

    /// Removes the members at ascending ranks `start..end` (clamped); returns how many.
    /// A big range (a quarter of the set or more) rebuilds the tree in O(n) instead of paying
    /// O(log n) per member.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        let k = end - start;
        if k == self.len() {
            *self = Zset::default();
            return k;
        }
        if k * 4 >= self.len() {
            let mut all = std::mem::take(&mut self.tree).into_sorted();
            for e in all.drain(start..end) {
                if let Some((_, m, _)) = self.dict.swap_remove_full(e.member.as_slice()) {
                    self.forget(&m, Some(&e));
                }
            }
            self.tree = Tree::from_sorted(all);
        } else {
            for _ in 0..k {
                let Some(e) = self.tree.remove(Target::Rank(start)) else {
                    break;
                };
                if let Some((_, m, _)) = self.dict.swap_remove_full(e.member.as_slice()) {
                    self.forget(&m, Some(&e));
                }
            }
        }
        k
    }

    /// The member at position `i` of the insertion-order index (ZSCAN, ZRANDMEMBER).
    pub fn by_position(&self, i: usize) -> Option<(&[u8], f64)> {
        self.dict.get_index(i).map(|(m, s)| (m.as_slice(), *s))
    }

    /// Heap bytes owned (for memory estimates).
    pub fn heap_size(&self) -> usize {
        // IndexMap: an entries Vec (hash, key, value) plus a hash table of indices (8 bytes and
        // one control byte per bucket, buckets ≈ 8/7 of the capacity).
        let entry = 8 + std::mem::size_of::<SmallBytes>() + 8;
        self.dict.capacity() * (entry + 10) + self.tree.heap_size() + self.member_heap
    }
}

// ---------------------------------------------------------------------------------------------
// The counted B+tree
// ---------------------------------------------------------------------------------------------

const NIL: usize = usize::MAX;

#[derive(Clone, Debug)]
struct Entry {
    score: f64,
    member: SmallBytes,
}

impl Entry {
    #[inline]
    fn cmp_key(&self, member: &[u8], score: f64) -> Ordering {
        cmp_entries((self.member.as_slice(), self.score), (member, score))
    }
}

#[derive(Clone, Debug, Default)]
struct Leaf {
    /// Ascending; never empty unless it is the root.
    entries: Vec<Entry>,
    prev: usize,
    next: usize,
}

/// `kids[i]` holds `counts[i]` entries; `seps[i - 1]` is a key with
/// max(kid i-1) < `seps[i - 1]` <= min(kid i). Separators may be keys removed since (still
/// valid bounds), so descending never needs to update ancestors on removal.
#[derive(Clone, Debug, Default)]
struct Inner {
    seps: Vec<Entry>,
    kids: Vec<usize>,
    counts: Vec<usize>,
}

/// What a removal looks for.
#[derive(Clone, Copy)]
enum Target<'a> {
    Key(&'a [u8], f64),
    Rank(usize),
}

/// Node ids index `leaves` (height 0) or `inners`; freed slots are reused. `LC`/`IC` are the
/// leaf and inner capacities (parameters only so tests can use tiny nodes).
#[derive(Clone, Debug)]
struct Tree<const LC: usize = 64, const IC: usize = 64> {
    leaves: Vec<Leaf>,
    inners: Vec<Inner>,
    free_leaves: Vec<usize>,
    free_inners: Vec<usize>,
    root: usize,
    height: usize,
    len: usize,
}

impl<const LC: usize, const IC: usize> Default for Tree<LC, IC> {
    fn default() -> Self {
        Tree {
            leaves: Vec::new(),
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: NIL,
            height: 0,
            len: 0,
        }
    }
}

impl<const LC: usize, const IC: usize> Tree<LC, IC> {
    /// Below these a node is merged with or refilled from a sibling. A third (not a half) of
    /// the capacity, so alternating insert/remove at a boundary does not split and merge again
    /// and again.
    const LEAF_MIN: usize = if LC / 3 > 1 { LC / 3 } else { 1 };
    const INNER_MIN: usize = if IC / 3 > 2 { IC / 3 } else { 2 };
    /// Fill of a bulk-built node: room for some inserts before splitting.
    const LEAF_FILL: usize = LC - LC / 4;
    const INNER_FILL: usize = IC - IC / 4;

    fn alloc_leaf(&mut self, leaf: Leaf) -> usize {
        match self.free_leaves.pop() {
            Some(i) => {
                self.leaves[i] = leaf;
                i
            }
            None => {
                self.leaves.push(leaf);
                self.leaves.len() - 1
            }
        }
    }

    fn alloc_inner(&mut self, inner: Inner) -> usize {
        match self.free_inners.pop() {
            Some(i) => {
                self.inners[i] = inner;
                i
            }
            None => {
                self.inners.push(inner);
                self.inners.len() - 1
            }
        }
    }

    fn free_leaf(&mut self, i: usize) {
        self.leaves[i] = Leaf::default();
        self.free_leaves.push(i);
    }

    fn free_inner(&mut self, i: usize) {
        self.inners[i] = Inner::default();
        self.free_inners.push(i);
    }

    /// (leaf, index in it) of ascending rank `rank`; None when out of range.
    fn leaf_at(&self, mut rank: usize) -> Option<(usize, usize)> {
        if rank >= self.len {
            return None;
        }
        let mut node = self.root;
        for _ in 0..self.height {
            let inner = &self.inners[node];
            let mut i = 0;
            while i + 1 < inner.counts.len() && rank >= inner.counts[i] {
                rank -= inner.counts[i];
                i += 1;
            }
            node = inner.kids[i];
        }
        Some((node, rank))
    }

    fn get(&self, rank: usize) -> Option<&Entry> {
        let (leaf, pos) = self.leaf_at(rank)?;
        self.leaves.get(leaf)?.entries.get(pos)
    }

    fn iter_from(&self, start: usize) -> Iter<'_> {
        let (leaf, pos) = self.leaf_at(start).unwrap_or((NIL, 0));
        Iter {
            leaves: &self.leaves,
            leaf,
            pos,
            left: self.len.saturating_sub(start),
        }
    }

    fn iter_rev_from(&self, start: usize) -> RevIter<'_> {
        let (leaf, pos, left) = match self.leaf_at(start) {
            Some((leaf, pos)) => (leaf, pos + 1, start + 1),
            None => (NIL, 0, 0),
        };
        RevIter {
            leaves: &self.leaves,
            leaf,
            pos,
            left,
        }
    }

    /// (leaf, index in it) of the entry equal to (member, score).
    fn find(&self, member: &[u8], score: f64) -> Option<(usize, usize)> {
        if self.len == 0 {
            return None;
        }
        let mut node = self.root;
        for _ in 0..self.height {
            let inner = &self.inners[node];
            node = inner.kids[inner
                .seps
                .partition_point(|s| s.cmp_key(member, score).is_le())];
        }
        let entries = &self.leaves[node].entries;
        let pos = entries.partition_point(|e| e.cmp_key(member, score).is_lt());
        match entries.get(pos) {
            Some(e) if e.cmp_key(member, score).is_eq() => Some((node, pos)),
            _ => None,
        }
    }

    fn partition_point(&self, pred: impl Fn(&Entry) -> bool) -> usize {
        if self.len == 0 {
            return 0;
        }
        let mut node = self.root;
        let mut acc = 0;
        for _ in 0..self.height {
            let inner = &self.inners[node];
            let j = inner.seps.partition_point(&pred);
            acc += inner.counts[..j].iter().sum::<usize>();
            node = inner.kids[j];
        }
        acc + self.leaves[node].entries.partition_point(&pred)
    }

    /// Inserts an entry whose key is not in the tree.
    fn insert(&mut self, e: Entry) {
        if self.root == NIL {
            self.root = self.alloc_leaf(Leaf {
                entries: Vec::new(),
                prev: NIL,
                next: NIL,
            });
            self.height = 0;
        }
        self.len += 1;
        if let Some((sep, right, right_count)) = self.ins(self.root, self.height, e) {
            let left_count = self.len - right_count;
            let mut inner = Inner {
                seps: Vec::with_capacity(IC),
                kids: Vec::with_capacity(IC),
                counts: Vec::with_capacity(IC),
            };
            inner.seps.push(sep);
            inner.kids.extend([self.root, right]);
            inner.counts.extend([left_count, right_count]);
            self.root = self.alloc_inner(inner);
            self.height += 1;
        }
    }

    /// Inserts below `node` (at height `h`); on a split returns (separator, new right sibling,
    /// its entry count).
    fn ins(&mut self, node: usize, h: usize, e: Entry) -> Option<(Entry, usize, usize)> {
        if h == 0 {
            return self.leaf_insert(node, e);
        }
        let inner = &self.inners[node];
        let j = inner
            .seps
            .partition_point(|s| s.cmp_key(e.member.as_slice(), e.score).is_le());
        let child = inner.kids[j];
        let split = self.ins(child, h - 1, e);
        let inner = &mut self.inners[node];
        inner.counts[j] += 1;
        let (sep, right, rc) = split?;
        inner.counts[j] -= rc;
        if inner.kids.len() < IC {
            inner.seps.insert(j, sep);
            inner.kids.insert(j + 1, right);
            inner.counts.insert(j + 1, rc);
            return None;
        }
        // Full: split first (so no Vec grows past its capacity), then add the new kid.
        let mid = IC / 2;
        let mut r = Inner {
            seps: Vec::with_capacity(IC),
            kids: Vec::with_capacity(IC),
            counts: Vec::with_capacity(IC),
        };
        r.kids.extend(inner.kids.drain(mid..));
        r.counts.extend(inner.counts.drain(mid..));
        r.seps.extend(inner.seps.drain(mid..));
        let up = inner.seps.pop()?;
        if j < mid {
            inner.seps.insert(j, sep);
            inner.kids.insert(j + 1, right);
            inner.counts.insert(j + 1, rc);
        } else {
            r.seps.insert(j - mid, sep);
            r.kids.insert(j - mid + 1, right);
            r.counts.insert(j - mid + 1, rc);
        }
        let right_count = r.counts.iter().sum();
        let id = self.alloc_inner(r);
        Some((up, id, right_count))
    }

    fn leaf_insert(&mut self, id: usize, e: Entry) -> Option<(Entry, usize, usize)> {
        let leaf = &mut self.leaves[id];
        let pos = leaf
            .entries
            .partition_point(|x| x.cmp_key(e.member.as_slice(), e.score).is_lt());
        if leaf.entries.len() < LC {
            leaf.entries.insert(pos, e);
            return None;
        }
        // Full. Appending past the last leaf (or prepending before the first) leaves the full
        // leaf as it is, so loading in order (ours ascending, Redis's ZSET_2 descending) fills
        // leaves completely.
        let mid = if pos == LC && leaf.next == NIL {
            LC
        } else if pos == 0 && leaf.prev == NIL {
            0
        } else {
            LC / 2
        };
        let mut right = if mid == LC {
            Vec::new()
        } else {
            Vec::with_capacity(LC)
        };
        right.extend(leaf.entries.drain(mid..));
        if pos < mid || (pos == mid && mid < LC) {
            leaf.entries.insert(pos, e);
        } else {
            right.insert(pos - mid, e);
        }
        let next = leaf.next;
        let sep = right.first()?.clone();
        let rc = right.len();
        let r = self.alloc_leaf(Leaf {
            entries: right,
            prev: id,
            next,
        });
        if next != NIL {
            self.leaves[next].prev = r;
        }
        self.leaves[id].next = r;
        Some((sep, r, rc))
    }

    fn remove(&mut self, t: Target<'_>) -> Option<Entry> {
        if self.len == 0 {
            return None;
        }
        let e = self.rem(self.root, self.height, t)?;
        self.len -= 1;
        if self.len == 0 {
            *self = Tree::default();
            return Some(e);
        }
        while self.height > 0 && self.inners[self.root].kids.len() == 1 {
            let old = self.root;
            self.root = self.inners[old].kids[0];
            self.free_inner(old);
            self.height -= 1;
        }
        // Merges leave free slots; after the set shrank a lot, rebuild compactly (amortized
        // O(1): it takes many removals to free that many slots).
        if self.free_leaves.len() > 64 && self.free_leaves.len() > 2 * (self.leaves.len() / 3) {
            *self = Tree::from_sorted(std::mem::take(self).into_sorted());
        }
        Some(e)
    }

    fn rem(&mut self, node: usize, h: usize, t: Target<'_>) -> Option<Entry> {
        if h == 0 {
            let entries = &mut self.leaves[node].entries;
            let pos = match t {
                Target::Key(m, s) => {
                    let p = entries.partition_point(|e| e.cmp_key(m, s).is_lt());
                    if !entries.get(p)?.cmp_key(m, s).is_eq() {
                        return None;
                    }
                    p
                }
                Target::Rank(r) if r < entries.len() => r,
                Target::Rank(_) => return None,
            };
            return Some(entries.remove(pos));
        }
        let inner = &self.inners[node];
        let (j, sub) = match t {
            Target::Key(m, s) => (inner.seps.partition_point(|x| x.cmp_key(m, s).is_le()), t),
            Target::Rank(mut r) => {
                let mut i = 0;
                while i + 1 < inner.counts.len() && r >= inner.counts[i] {
                    r -= inner.counts[i];
                    i += 1;
                }
                (i, Target::Rank(r))
            }
        };
        let child = inner.kids[j];
        let e = self.rem(child, h - 1, sub)?;
        self.inners[node].counts[j] -= 1;
        let underfull = if h == 1 {
            self.leaves[child].entries.len() < Self::LEAF_MIN
        } else {
            self.inners[child].kids.len() < Self::INNER_MIN
        };
        if underfull {
            self.refill(node, j, h - 1);
        }
        Some(e)
    }

    /// Kid `j` of `parent` (at height `h`) is underfull: merge it with a sibling when both fit
    /// in one node, else even them out.
    fn refill(&mut self, parent: usize, j: usize, h: usize) {
        let p = &self.inners[parent];
        if p.kids.len() < 2 {
            return;
        }
        let ai = if j > 0 { j - 1 } else { j };
        let (a, b) = (p.kids[ai], p.kids[ai + 1]);
        if h == 0 {
            self.refill_leaves(parent, ai, a, b);
        } else {
            self.refill_inners(parent, ai, a, b);
        }
    }

    fn refill_leaves(&mut self, parent: usize, ai: usize, a: usize, b: usize) {
        let mut eb = std::mem::take(&mut self.leaves[b].entries);
        let ea = &mut self.leaves[a].entries;
        let p = &mut self.inners[parent];
        if ea.len() + eb.len() <= LC {
            ea.append(&mut eb);
            p.counts[ai] += p.counts[ai + 1];
            p.kids.remove(ai + 1);
            p.counts.remove(ai + 1);
            p.seps.remove(ai);
            let next = self.leaves[b].next;
            self.leaves[a].next = next;
            if next != NIL {
                self.leaves[next].prev = a;
            }
            self.free_leaf(b);
            return;
        }
        let target = (ea.len() + eb.len()) / 2;
        if ea.len() > target {
            eb.splice(0..0, ea.drain(target..));
        } else {
            ea.extend(eb.drain(..target - ea.len()));
        }
        p.counts[ai] = ea.len();
        p.counts[ai + 1] = eb.len();
        if let Some(first) = eb.first() {
            p.seps[ai] = first.clone();
        }
        self.leaves[b].entries = eb;
    }

    fn refill_inners(&mut self, parent: usize, ai: usize, a: usize, b: usize) {
        let mut nb = std::mem::take(&mut self.inners[b]);
        let mut na = std::mem::take(&mut self.inners[a]);
        let p = &mut self.inners[parent];
        if na.kids.len() + nb.kids.len() <= IC {
            na.seps.push(p.seps.remove(ai));
            na.seps.append(&mut nb.seps);
            na.kids.append(&mut nb.kids);
            na.counts.append(&mut nb.counts);
            p.counts[ai] += p.counts[ai + 1];
            p.kids.remove(ai + 1);
            p.counts.remove(ai + 1);
            self.inners[a] = na;
            self.free_inner(b);
            return;
        }
        // Rotate kids one at a time through the parent's separator.
        let target = (na.kids.len() + nb.kids.len()) / 2;
        while na.kids.len() > target {
            let (Some(k), Some(c), Some(s)) = (na.kids.pop(), na.counts.pop(), na.seps.pop())
            else {
                break;
            };
            nb.kids.insert(0, k);
            nb.counts.insert(0, c);
            nb.seps.insert(0, std::mem::replace(&mut p.seps[ai], s));
            p.counts[ai] -= c;
            p.counts[ai + 1] += c;
        }
        while na.kids.len() < target && nb.kids.len() > 1 {
            let (k, c, s) = (nb.kids.remove(0), nb.counts.remove(0), nb.seps.remove(0));
            na.kids.push(k);
            na.counts.push(c);
            na.seps.push(std::mem::replace(&mut p.seps[ai], s));
            p.counts[ai] += c;
            p.counts[ai + 1] -= c;
        }
        self.inners[a] = na;
        self.inners[b] = nb;
    }

    /// Changes the score of (member, old) to `new`: in place when the order keeps it between
    /// its neighbours in the same leaf, else remove + insert (reusing the member).
    fn update_score(&mut self, member: &[u8], old: f64, new: f64) {
        if let Some((leaf, pos)) = self.find(member, old) {
            let entries = &mut self.leaves[leaf].entries;
            let stays = old == new
                || (pos > 0
                    && pos + 1 < entries.len()
                    && entries[pos - 1].cmp_key(member, new).is_lt()
                    && entries[pos + 1].cmp_key(member, new).is_gt());
            if stays {
                entries[pos].score = new;
                return;
            }
        }
        let entry = match self.remove(Target::Key(member, old)) {
            Some(mut e) => {
                e.score = new;
                e
            }
            None => Entry {
                score: new,
                member: SmallBytes::new(member),
            },
        };
        self.insert(entry);
    }

    /// All entries, ascending, taking the tree apart.
    fn into_sorted(mut self) -> Vec<Entry> {
        let mut out = Vec::with_capacity(self.len);
        let mut leaf = self.leaf_at(0).map_or(NIL, |(l, _)| l);
        while let Some(l) = self.leaves.get_mut(leaf) {
            out.append(&mut l.entries);
            leaf = l.next;
        }
        out
    }

    /// A tree of ascending, distinct entries, nodes filled to about three quarters.
    fn from_sorted(entries: Vec<Entry>) -> Self {
        let mut t = Tree::default();
        if entries.is_empty() {
            return t;
        }
        t.len = entries.len();
        // (node, count, its lowest key) of the level being built.
        let mut level: Vec<(usize, usize, Entry)> = Vec::new();
        let mut it = entries.into_iter();
        for size in even_chunks(t.len, Self::LEAF_FILL) {
            let chunk: Vec<Entry> = it.by_ref().take(size).collect();
            let Some(first) = chunk.first().cloned() else {
                break;
            };
            let prev = level.last().map_or(NIL, |l| l.0);
            let id = t.alloc_leaf(Leaf {
                entries: chunk,
                prev,
                next: NIL,
            });
            if prev != NIL {
                t.leaves[prev].next = id;
            }
            level.push((id, size, first));
        }
        while level.len() > 1 {
            let mut up = Vec::new();
            let mut it = level.into_iter();
            for size in even_chunks(it.len(), Self::INNER_FILL) {
                let mut inner = Inner {
                    seps: Vec::with_capacity(IC),
                    kids: Vec::with_capacity(IC),
                    counts: Vec::with_capacity(IC),
                };
                let mut lowest = None;
                for (id, count, key) in it.by_ref().take(size) {
                    if lowest.is_none() {
                        lowest = Some(key);
                    } else {
                        inner.seps.push(key);
                    }
                    inner.kids.push(id);
                    inner.counts.push(count);
                }
                let Some(lowest) = lowest else {
                    break;
                };
                let count = inner.counts.iter().sum();
                up.push((t.alloc_inner(inner), count, lowest));
            }
            level = up;
            t.height += 1;
        }
        t.root = level.first().map_or(NIL, |l| l.0);
        t
    }

    fn heap_size(&self) -> usize {
        use std::mem::size_of;
        let leaves: usize = self
            .leaves
            .iter()
            .map(|l| l.entries.capacity() * size_of::<Entry>())
            .sum();
        let inners: usize = self
            .inners
            .iter()
            .map(|n| {
                n.seps.capacity() * size_of::<Entry>()
                    + n.seps.iter().map(|s| s.member.heap_size()).sum::<usize>()
                    + (n.kids.capacity() + n.counts.capacity()) * size_of::<usize>()
            })
            .sum();
        self.leaves.capacity() * size_of::<Leaf>()
            + self.inners.capacity() * size_of::<Inner>()
            + (self.free_leaves.capacity() + self.free_inners.capacity()) * size_of::<usize>()
            + leaves
            + inners
    }
}

/// Sizes splitting `n` items into the fewest chunks of at most `fill`, as even as possible.
fn even_chunks(n: usize, fill: usize) -> impl Iterator<Item = usize> {
    let chunks = n.div_ceil(fill.max(1)).max(1);
    (0..chunks).map(move |i| n / chunks + usize::from(i < n % chunks))
}

/// Ascending from a (leaf, index), following leaf links.
struct Iter<'a> {
    leaves: &'a [Leaf],
    leaf: usize,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        while self.left > 0 {
            let l = self.leaves.get(self.leaf)?;
            if let Some(e) = l.entries.get(self.pos) {
                self.pos += 1;
                self.left -= 1;
                return Some((e.member.as_slice(), e.score));
            }
            self.leaf = l.next;
            self.pos = 0;
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Descending; `pos` is one past the next entry to yield.
struct RevIter<'a> {
    leaves: &'a [Leaf],
    leaf: usize,
    pos: usize,
    left: usize,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        while self.left > 0 {
            let l = self.leaves.get(self.leaf)?;
            if self.pos > 0 {
                self.pos -= 1;
                let e = l.entries.get(self.pos)?;
                self.left -= 1;
                return Some((e.member.as_slice(), e.score));
            }
            self.leaf = l.prev;
            self.pos = self.leaves.get(self.leaf)?.entries.len();
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    type Key = (Vec<u8>, f64);

    fn cmp_key(a: &Key, b: &Key) -> Ordering {
        cmp_entries((&a.0, a.1), (&b.0, b.1))
    }

    fn same(a: (&[u8], f64), b: &Key) -> bool {
        a.0 == b.0.as_slice() && a.1.to_bits() == b.1.to_bits()
    }

    /// Checks every structural invariant; returns the entries in leaf-link order.
    fn check<const LC: usize, const IC: usize>(t: &Tree<LC, IC>) -> Vec<Key> {
        if t.len == 0 {
            assert!(t.root == NIL || t.leaves[t.root].entries.is_empty());
            return Vec::new();
        }
        let mut leaves = Vec::new();
        let mut inners = Vec::new();
        let total = walk(
            t,
            t.root,
            t.height,
            true,
            None,
            None,
            &mut leaves,
            &mut inners,
        );
        assert_eq!(total, t.len);
        // Leaf links follow the tree order.
        for (i, &l) in leaves.iter().enumerate() {
            let want_prev = if i == 0 { NIL } else { leaves[i - 1] };
            let want_next = leaves.get(i + 1).copied().unwrap_or(NIL);
            assert_eq!(t.leaves[l].prev, want_prev);
            assert_eq!(t.leaves[l].next, want_next);
            let extreme = i == 0 || i + 1 == leaves.len();
            if !extreme {
                assert!(t.leaves[l].entries.len() >= Tree::<LC, IC>::LEAF_MIN);
            }
        }
        // Live and free slots partition the arenas.
        let mut l_all: Vec<usize> = leaves.iter().chain(&t.free_leaves).copied().collect();
        l_all.sort_unstable();
        assert_eq!(l_all, (0..t.leaves.len()).collect::<Vec<_>>());
        let mut i_all: Vec<usize> = inners.iter().chain(&t.free_inners).copied().collect();
        i_all.sort_unstable();
        assert_eq!(i_all, (0..t.inners.len()).collect::<Vec<_>>());
        let out: Vec<Key> = leaves
            .iter()
            .flat_map(|&l| t.leaves[l].entries.iter())
            .map(|e| (e.member.to_vec(), e.score))
            .collect();
        assert!(out.windows(2).all(|w| cmp_key(&w[0], &w[1]).is_lt()));
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn walk<const LC: usize, const IC: usize>(
        t: &Tree<LC, IC>,
        node: usize,
        h: usize,
        root: bool,
        lo: Option<&Entry>,
        hi: Option<&Entry>,
        leaves: &mut Vec<usize>,
        inners: &mut Vec<usize>,
    ) -> usize {
        let in_bounds = |e: &Entry| {
            lo.is_none_or(|lo| lo.cmp_key(&e.member, e.score).is_le())
                && hi.is_none_or(|hi| hi.cmp_key(&e.member, e.score).is_gt())
        };
        if h == 0 {
            let l = &t.leaves[node];
            assert!(root || !l.entries.is_empty(), "empty leaf");
            assert!(l.entries.len() <= LC);
            assert!(l.entries.iter().all(in_bounds), "leaf entry out of bounds");
            leaves.push(node);
            return l.entries.len();
        }
        inners.push(node);
        let n = &t.inners[node];
        assert_eq!(n.kids.len(), n.counts.len());
        assert_eq!(n.kids.len(), n.seps.len() + 1);
        assert!(n.kids.len() <= IC);
        let min = if root { 2 } else { Tree::<LC, IC>::INNER_MIN };
        assert!(n.kids.len() >= min, "inner with {} kids", n.kids.len());
        assert!(n.seps.iter().all(in_bounds), "separator out of bounds");
        let mut sum = 0;
        for (i, &k) in n.kids.iter().enumerate() {
            let klo = if i == 0 { lo } else { Some(&n.seps[i - 1]) };
            let khi = if i + 1 < n.kids.len() {
                Some(&n.seps[i])
            } else {
                hi
            };
            let c = walk(t, k, h - 1, false, klo, khi, leaves, inners);
            assert_eq!(c, n.counts[i], "count of kid {i}");
            sum += c;
        }
        sum
    }

    const SCORES: [f64; 10] = [
        f64::NEG_INFINITY,
        f64::INFINITY,
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.5,
        1e300,
        -1e-300,
        7.0,
    ];

    fn member(rng: &mut fastrand::Rng, pool: u32) -> Vec<u8> {
        let i = rng.u32(..pool);
        match i % 13 {
            0 => format!("a-long-member-name-{i:08}").into_bytes(),
            1 => vec![0xff, (i >> 8) as u8, i as u8, 0],
            _ => format!("m{i}").into_bytes(),
        }
    }

    fn score(rng: &mut fastrand::Rng) -> f64 {
        match rng.u8(..4) {
            0 => SCORES[rng.usize(..SCORES.len())],
            1 => rng.f64() * 200.0 - 100.0,
            _ => rng.i32(-20..20) as f64,
        }
    }

    /// The reference: a sorted Vec plus member → score.
    #[derive(Default)]
    struct Model {
        v: Vec<Key>,
        score: HashMap<Vec<u8>, f64>,
    }

    impl Model {
        fn at(&self, m: &[u8], s: f64) -> Result<usize, usize> {
            self.v
                .binary_search_by(|k| cmp_entries((&k.0, k.1), (m, s)))
        }
        fn insert(&mut self, m: &[u8], s: f64) -> Option<f64> {
            let prev = self.remove(m);
            let p = self.at(m, s).unwrap_err();
            self.v.insert(p, (m.to_vec(), s));
            self.score.insert(m.to_vec(), s);
            prev
        }
        fn remove(&mut self, m: &[u8]) -> Option<f64> {
            let s = self.score.remove(m)?;
            let p = self.at(m, s).unwrap();
            self.v.remove(p);
            Some(s)
        }
        fn rank(&self, m: &[u8]) -> Option<usize> {
            let s = *self.score.get(m)?;
            self.at(m, s).ok()
        }
    }

    /// A monotone predicate: "below a score" or "below a key".
    fn pred(rng: &mut fastrand::Rng, pool: u32) -> impl Fn(&[u8], f64) -> bool {
        let s = score(rng);
        let m = member(rng, pool);
        let by_key = rng.bool();
        move |pm: &[u8], ps: f64| {
            if by_key {
                cmp_entries((pm, ps), (&m, s)).is_lt()
            } else {
                ps < s
            }
        }
    }

    /// Random operations on a bare tree (any node sizes) against the model.
    fn tree_against_model<const LC: usize, const IC: usize>(seed: u64, ops: usize, pool: u32) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut t = Tree::<LC, IC>::default();
        let mut model = Model::default();
        for op in 0..ops {
            match rng.u8(..100) {
                0..=44 => {
                    let m = member(&mut rng, pool);
                    let s = score(&mut rng);
                    match model.insert(&m, s) {
                        Some(prev) => t.update_score(&m, prev, s),
                        None => t.insert(Entry {
                            score: s,
                            member: SmallBytes::new(&m),
                        }),
                    }
                }
                45..=69 => {
                    let m = member(&mut rng, pool);
                    let s = model.score.get(&m).copied().unwrap_or(1.0);
                    let want = model.remove(&m);
                    let got = t.remove(Target::Key(&m, s));
                    assert_eq!(got.map(|e| e.score.to_bits()), want.map(f64::to_bits));
                }
                70..=74 => {
                    let r = rng.usize(..model.v.len() + 2);
                    let got = t.remove(Target::Rank(r));
                    if r < model.v.len() {
                        let k = model.v[r].clone();
                        model.remove(&k.0);
                        let e = got.expect("removed by rank");
                        assert!(same((&e.member, e.score), &k));
                    } else {
                        assert!(got.is_none());
                    }
                }
                75..=84 => {
                    let p = pred(&mut rng, pool);
                    let want = model.v.partition_point(|k| p(&k.0, k.1));
                    assert_eq!(t.partition_point(|e| p(&e.member, e.score)), want);
                }
                85..=92 => {
                    let start = rng.usize(..model.v.len() + 3);
                    let n = rng.usize(..3 * LC);
                    let got: Vec<_> = t.iter_from(start).take(n).collect();
                    let want = model.v.iter().skip(start).take(n);
                    assert_eq!(got.len(), want.len());
                    assert!(got.iter().zip(want).all(|(g, w)| same(*g, w)));
                    let got: Vec<_> = t.iter_rev_from(start).take(n).collect();
                    let want = model
                        .v
                        .get(..=start)
                        .unwrap_or_default()
                        .iter()
                        .rev()
                        .take(n);
                    assert_eq!(got.len(), want.len());
                    assert!(got.iter().zip(want).all(|(g, w)| same(*g, w)));
                }
                93..=97 => {
                    let r = rng.usize(..model.v.len() + 2);
                    match (t.get(r), model.v.get(r)) {
                        (Some(e), Some(k)) => assert!(same((&e.member, e.score), k)),
                        (None, None) => {}
                        (g, w) => panic!("get({r}): {g:?} vs {w:?}"),
                    }
                }
                _ => t = Tree::from_sorted(std::mem::take(&mut t).into_sorted()),
            }
            assert_eq!(t.len, model.v.len());
            if op % 97 == 0 || model.v.len() < 3 {
                let all = check(&t);
                assert_eq!(all.len(), model.v.len());
                assert!(all.iter().zip(&model.v).all(|(g, w)| same((&g.0, g.1), w)));
            }
        }
        let all = check(&t);
        assert!(all.iter().zip(&model.v).all(|(g, w)| same((&g.0, g.1), w)));
    }

    #[test]
    fn tree_with_tiny_nodes_matches_a_sorted_vec() {
        tree_against_model::<2, 4>(1, 20_000, 300);
        tree_against_model::<4, 4>(2, 20_000, 300);
        tree_against_model::<5, 5>(3, 20_000, 1000);
        tree_against_model::<4, 6>(4, 20_000, 60);
        tree_against_model::<8, 7>(5, 30_000, 3000);
    }

    #[test]
    fn tree_with_real_nodes_matches_a_sorted_vec() {
        tree_against_model::<64, 64>(6, 20_000, 200);
        tree_against_model::<64, 64>(7, 60_000, 20_000);
    }

    /// The whole `Zset` (dict, insertion-order positions, memory counter) against the model.
    #[test]
    fn zset_random_operations_match_a_model() {
        let mut rng = fastrand::Rng::with_seed(42);
        let mut z = Zset::new();
        let mut model = Model::default();
        // The dict's order under swap_remove.
        let mut order: Vec<Vec<u8>> = Vec::new();
        let mut pos_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let forget = |order: &mut Vec<Vec<u8>>, pos_of: &mut HashMap<Vec<u8>, usize>, m: &[u8]| {
            let p = pos_of.remove(m).unwrap();
            order.swap_remove(p);
            if let Some(moved) = order.get(p) {
                pos_of.insert(moved.clone(), p);
            }
        };
        for phase in 0..3 {
            // Grow, churn, then shrink.
            let (pool, ops, ins) = [
                (20_000, 40_000, 70),
                (2_000, 30_000, 45),
                (20_000, 30_000, 20),
            ][phase];
            for op in 0..ops {
                let r = rng.u8(..100);
                if r < ins {
                    let m = member(&mut rng, pool);
                    let s = score(&mut rng);
                    let want = model.insert(&m, s);
                    assert_eq!(z.insert(&m, s).map(f64::to_bits), want.map(f64::to_bits));
                    if want.is_none() {
                        pos_of.insert(m.clone(), order.len());
                        order.push(m);
                    }
                    continue;
                }
                match r - ins {
                    0..=19 => {
                        let m = member(&mut rng, pool);
                        let want = model.remove(&m);
                        assert_eq!(z.remove(&m).map(f64::to_bits), want.map(f64::to_bits));
                        if want.is_some() {
                            forget(&mut order, &mut pos_of, &m);
                        }
                    }
                    20..=29 => {
                        let m = member(&mut rng, pool);
                        assert_eq!(z.rank(&m), model.rank(&m));
                        assert_eq!(
                            z.score(&m).map(f64::to_bits),
                            model.score.get(&m).map(|s| s.to_bits())
                        );
                    }
                    30..=34 => {
                        let r = rng.usize(..model.v.len() + 2);
                        match (z.get_by_rank(r), model.v.get(r)) {
                            (Some(g), Some(w)) => assert!(same(g, w)),
                            (None, None) => {}
                            (g, w) => panic!("get_by_rank({r}): {g:?} vs {w:?}"),
                        }
                    }
                    35..=39 => {
                        let p = pred(&mut rng, pool);
                        let want = model.v.partition_point(|k| p(&k.0, k.1));
                        assert_eq!(z.partition_point(&p), want);
                    }
                    40..=44 => {
                        let start = rng.usize(..model.v.len() + 3);
                        let n = rng.usize(..200);
                        let got: Vec<_> = z.iter_from(start).take(n).collect();
                        let want = model.v.iter().skip(start).take(n);
                        assert_eq!(got.len(), want.len());
                        assert!(got.iter().zip(want).all(|(g, w)| same(*g, w)));
                        let got: Vec<_> = z.iter_rev_from(start).take(n).collect();
                        let want = model
                            .v
                            .get(..=start)
                            .unwrap_or_default()
                            .iter()
                            .rev()
                            .take(n);
                        assert_eq!(got.len(), want.len());
                        assert!(got.iter().zip(want).all(|(g, w)| same(*g, w)));
                    }
                    45 => {
                        // Mostly small ranges, sometimes a big one (the rebuild path).
                        let len = model.v.len();
                        let start = rng.usize(..len + 2);
                        let n = if rng.u8(..4) == 0 {
                            rng.usize(..len + 2)
                        } else {
                            rng.usize(..50)
                        };
                        let end = start.saturating_add(n);
                        let doomed: Vec<Key> =
                            model.v.iter().skip(start).take(n).cloned().collect();
                        assert_eq!(z.remove_rank_range(start, end), doomed.len());
                        for k in &doomed {
                            model.remove(&k.0);
                            forget(&mut order, &mut pos_of, &k.0);
                        }
                    }
                    46 => {
                        let (got, want) = if rng.bool() {
                            (z.pop_first(), model.v.first().cloned())
                        } else {
                            (z.pop_last(), model.v.last().cloned())
                        };
                        match (got, want) {
                            (Some(g), Some(w)) => {
                                assert!(same((&g.0, g.1), &w));
                                model.remove(&w.0);
                                forget(&mut order, &mut pos_of, &w.0);
                            }
                            (None, None) => {}
                            (g, w) => panic!("pop: {g:?} vs {w:?}"),
                        }
                    }
                    _ => {
                        let i = rng.usize(..order.len() + 2);
                        match (z.by_position(i), order.get(i)) {
                            (Some((m, s)), Some(w)) => {
                                assert_eq!(m, w.as_slice());
                                assert_eq!(s.to_bits(), model.score[w].to_bits());
                            }
                            (None, None) => {}
                            (g, w) => panic!("by_position({i}): {g:?} vs {w:?}"),
                        }
                    }
                }
                assert_eq!(z.len(), model.v.len());
                if op % 5000 == 0 {
                    full_check(&z, &model);
                }
            }
            full_check(&z, &model);
        }
    }

    fn full_check(z: &Zset, model: &Model) {
        let all = check(&z.tree);
        assert_eq!(all.len(), model.v.len());
        assert!(all.iter().zip(&model.v).all(|(g, w)| same((&g.0, g.1), w)));
        assert!(z.iter().zip(&model.v).all(|(g, w)| same(g, w)));
        assert_eq!(z.iter().count(), model.v.len());
        let heap: usize = z.dict.keys().map(|m| 2 * m.heap_size()).sum();
        assert_eq!(z.member_heap, heap);
        assert!(z.heap_size() >= heap + z.len() * std::mem::size_of::<Entry>());
    }

    #[test]
    fn empty_and_one_member() {
        let mut z = Zset::new();
        assert!(z.is_empty());
        assert_eq!(z.len(), 0);
        assert_eq!(z.rank(b"a"), None);
        assert_eq!(z.get_by_rank(0), None);
        assert_eq!(z.iter().count(), 0);
        assert_eq!(z.iter_from(3).count(), 0);
        assert_eq!(z.iter_rev_from(0).count(), 0);
        assert_eq!(z.partition_point(|_, _| true), 0);
        assert_eq!(z.remove_rank_range(0, 10), 0);
        assert_eq!(z.remove(b"a"), None);
        assert_eq!(z.pop_first(), None);
        assert_eq!(z.pop_last(), None);
        assert_eq!(z.by_position(0), None);

        assert_eq!(z.insert(b"a", 1.5), None);
        assert_eq!(z.len(), 1);
        assert_eq!(z.rank(b"a"), Some(0));
        assert_eq!(z.get_by_rank(0), Some((&b"a"[..], 1.5)));
        assert_eq!(z.get_by_rank(1), None);
        assert_eq!(z.iter_rev_from(0).collect::<Vec<_>>(), [(&b"a"[..], 1.5)]);
        assert_eq!(z.iter_rev_from(1).count(), 0);
        assert_eq!(z.partition_point(|_, s| s < 2.0), 1);
        assert_eq!(z.partition_point(|_, s| s < 1.0), 0);
        assert_eq!(z.insert(b"a", 1.5), Some(1.5), "duplicate insert");
        assert_eq!(z.len(), 1);
        assert_eq!(z.remove_rank_range(1, 5), 0);
        assert_eq!(z.remove_rank_range(0, 1), 1);
        assert!(z.is_empty());
        assert_eq!(z.heap_size(), 0);
        assert_eq!(z.insert(b"b", 2.0), None);
        assert_eq!(z.remove(b"missing"), None);
        assert_eq!(z.remove(b"b"), Some(2.0));
        assert_eq!(z.remove(b"b"), None);
        assert!(z.is_empty());
    }

    #[test]
    fn order_of_equal_scores_zeros_and_infinities() {
        let mut z = Zset::new();
        z.insert(b"b", 0.0);
        z.insert(b"a", -0.0);
        z.insert(b"c", 0.0);
        z.insert(b"inf", f64::INFINITY);
        z.insert(b"ninf", f64::NEG_INFINITY);
        z.insert(b"", 1.0);
        let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        let names: Vec<&[u8]> = got.iter().map(|(m, _)| m.as_slice()).collect();
        assert_eq!(
            names,
            [&b"ninf"[..], b"a", b"b", b"c", b"", b"inf"],
            "-0.0 == 0.0; ties by member bytes"
        );
        assert!(got[1].1.is_sign_negative());
        // 0.0 -> -0.0 keeps the place and stores the new sign.
        assert_eq!(z.insert(b"b", -0.0), Some(0.0));
        assert_eq!(z.rank(b"b"), Some(2));
        assert!(z.score(b"b").unwrap().is_sign_negative());
        assert!(z.get_by_rank(2).unwrap().1.is_sign_negative());
        // -0.0 counts as 0 in bounds.
        assert_eq!(z.partition_point(|_, s| s < 0.0), 1);
        assert_eq!(z.partition_point(|_, s| s <= -0.0), 4);
        assert_eq!(z.partition_point(|_, s| s < f64::INFINITY), 5);
        assert_eq!(z.rank(b"inf"), Some(5));
        // A move across the set, and back.
        assert_eq!(z.insert(b"ninf", 100.0), Some(f64::NEG_INFINITY));
        assert_eq!(z.rank(b"ninf"), Some(4));
        assert_eq!(z.rank(b"a"), Some(0));
        assert_eq!(z.insert(b"ninf", f64::NEG_INFINITY), Some(100.0));
        assert_eq!(z.rank(b"ninf"), Some(0));
        check(&z.tree);
    }

    #[test]
    fn equal_score_updates_do_not_move_and_moves_keep_positions() {
        let mut z = Zset::new();
        for i in 0..1000u32 {
            z.insert(format!("m{i:04}").as_bytes(), f64::from(i % 10));
        }
        let before: Vec<Vec<u8>> = (0..z.len())
            .map(|i| z.by_position(i).unwrap().0.to_vec())
            .collect();
        for i in 0..1000u32 {
            let m = format!("m{i:04}");
            let s = f64::from(i % 10);
            let r = z.rank(m.as_bytes());
            assert_eq!(z.insert(m.as_bytes(), s), Some(s));
            assert_eq!(z.rank(m.as_bytes()), r);
            // Small in-leaf moves and long moves.
            z.insert(m.as_bytes(), s + 0.5);
            z.insert(m.as_bytes(), s);
            assert_eq!(z.rank(m.as_bytes()), r);
        }
        let after: Vec<Vec<u8>> = (0..z.len())
            .map(|i| z.by_position(i).unwrap().0.to_vec())
            .collect();
        assert_eq!(before, after, "score updates keep insertion positions");
        check(&z.tree);
    }

    #[test]
    fn ordered_loads_fill_leaves() {
        for descending in [false, true] {
            let mut z = Zset::new();
            for i in 0..10_000 {
                let i = if descending { 9_999 - i } else { i };
                z.insert(format!("{i:05}").as_bytes(), f64::from(i));
            }
            check(&z.tree);
            let live = z.tree.leaves.len() - z.tree.free_leaves.len();
            assert!(live <= 10_000 / 64 + 2, "{live} leaves");
            assert_eq!(z.get_by_rank(1234).unwrap().1, 1234.0);
        }
    }

    #[test]
    fn shrinking_compacts_the_arena() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut z = Zset::new();
        for i in 0..50_000u32 {
            z.insert(&i.to_le_bytes(), f64::from(rng.u32(..1000)));
        }
        let full = z.heap_size();
        for i in 0..49_990u32 {
            z.remove(&i.to_le_bytes());
        }
        check(&z.tree);
        assert!(
            z.tree.leaves.len() < 200,
            "{} leaf slots",
            z.tree.leaves.len()
        );
        assert!(z.heap_size() < full);
        assert_eq!(z.len(), 10);
    }

    /// 200k inserts and ranks (an O(n) rank would take minutes here).
    #[test]
    fn scale_200k() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut z = Zset::with_capacity(200_000);
        for i in 0..200_000u32 {
            z.insert(
                format!("member:{i}").as_bytes(),
                f64::from(rng.u32(..50_000)),
            );
        }
        assert_eq!(z.len(), 200_000);
        let mut sum = 0;
        for i in (0..200_000u32).step_by(3) {
            let m = format!("member:{i}");
            let r = z.rank(m.as_bytes()).unwrap();
            assert_eq!(z.get_by_rank(r).unwrap().0, m.as_bytes());
            sum += r;
        }
        assert!(sum > 0);
        assert!(z.tree.height >= 2);
        check(&z.tree);
        assert_eq!(z.remove_rank_range(1000, 150_000), 149_000);
        assert_eq!(z.remove_rank_range(10, 20_000), 19_990);
        check(&z.tree);
        assert_eq!(z.len(), 200_000 - 149_000 - 19_990);
    }
}

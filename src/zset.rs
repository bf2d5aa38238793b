//! The sorted-set value: members with scores, ordered by (score, member).
//!
//! Two indexes over the same members: `dict` (member → score, insertion order, O(1) lookup and
//! O(1) access by position for ZSCAN/ZRANDMEMBER) and an ordered index by (score, member) that
//! gives rank, select-by-rank and bound searches.
//!
//! NOTE: this first version's ordered index is a plain `BTreeSet` (O(n) rank); it is replaced by
//! an order-statistic tree with the same API.

use crate::keyspace::SmallBytes;
use indexmap::IndexMap;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// Redis's order: by score (`-0.0 == 0.0`), then by member bytes. Scores are never NaN.
pub fn cmp_entries(a: (&[u8], f64), b: (&[u8], f64)) -> Ordering {
    match a.1.partial_cmp(&b.1) {
        Some(Ordering::Equal) | None => a.0.cmp(b.0),
        Some(o) => o,
    }
}

#[derive(Clone, Debug)]
struct Key {
    score: f64,
    member: SmallBytes,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_entries(
            (self.member.as_slice(), self.score),
            (other.member.as_slice(), other.score),
        )
    }
}

/// A sorted set. Scores are never NaN (callers reject NaN before inserting).
#[derive(Clone, Debug, Default)]
pub struct Zset {
    dict: IndexMap<SmallBytes, f64, ahash::RandomState>,
    tree: BTreeSet<Key>,
}

impl Zset {
    pub fn new() -> Zset {
        Zset::default()
    }

    pub fn with_capacity(n: usize) -> Zset {
        Zset {
            dict: IndexMap::with_capacity_and_hasher(n, ahash::RandomState::new()),
            tree: BTreeSet::new(),
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
            if prev != score || prev.to_bits() != score.to_bits() {
                *old = score;
                self.tree.remove(&Key {
                    score: prev,
                    member: SmallBytes::new(member),
                });
                self.tree.insert(Key {
                    score,
                    member: SmallBytes::new(member),
                });
            }
            return Some(prev);
        }
        self.dict.insert(SmallBytes::new(member), score);
        self.tree.insert(Key {
            score,
            member: SmallBytes::new(member),
        });
        None
    }

    /// Removes `member`; returns its score. Removal from the position index is `swap_remove`
    /// (the last member moves into the hole), which ZSCAN's cursor relies on.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let score = self.dict.swap_remove(member)?;
        self.tree.remove(&Key {
            score,
            member: SmallBytes::new(member),
        });
        Some(score)
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.partition_point(|m, s| cmp_entries((m, s), (member, score)).is_lt()))
    }

    /// The member at ascending rank `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.tree
            .iter()
            .nth(rank)
            .map(|k| (k.member.as_slice(), k.score))
    }

    /// Ascending from rank `start` (to the end).
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.tree
            .iter()
            .skip(start)
            .map(|k| (k.member.as_slice(), k.score))
    }

    /// Descending from rank `start` (inclusive) down to rank 0. Empty when `start >= len`.
    pub fn iter_rev_from(&self, start: usize) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let skip = if start < self.len() {
            self.len() - 1 - start
        } else {
            self.len()
        };
        self.tree
            .iter()
            .rev()
            .skip(skip)
            .map(|k| (k.member.as_slice(), k.score))
    }

    /// All members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.iter_from(0)
    }

    /// The number of leading members (in ascending order) for which `pred` holds. `pred` must be
    /// monotone: true for a prefix of the order, false after (e.g. "score < min").
    pub fn partition_point(&self, pred: impl Fn(&[u8], f64) -> bool) -> usize {
        self.tree
            .iter()
            .take_while(|k| pred(k.member.as_slice(), k.score))
            .count()
    }

    /// Removes the members at ascending ranks `start..end` (clamped); returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        let doomed: Vec<Key> = self
            .tree
            .iter()
            .skip(start)
            .take(end - start)
            .cloned()
            .collect();
        for k in &doomed {
            self.remove(k.member.as_slice());
        }
        doomed.len()
    }

    /// The member at position `i` of the insertion-order index (ZSCAN, ZRANDMEMBER).
    pub fn by_position(&self, i: usize) -> Option<(&[u8], f64)> {
        self.dict.get_index(i).map(|(m, s)| (m.as_slice(), *s))
    }

    /// Heap bytes owned (for memory estimates).
    pub fn heap_size(&self) -> usize {
        let per = std::mem::size_of::<SmallBytes>() + 8;
        self.dict.capacity() * (per + 16)
            + self.tree.len() * (per + 16)
            + self
                .dict
                .keys()
                .map(|m| 2 * m.heap_size())
                .sum::<usize>()
    }
}

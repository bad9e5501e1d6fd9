//! Exact top-k selection over a score array: a k-sized heap whose root is the worst kept item,
//! so almost every item is rejected by one comparison with the root. Ties are broken by item
//! id (the smaller id wins), through a precomputed rank of each item in id order.

/// `true` when `(sa, ra)` ranks before `(sb, rb)`: higher score, then smaller id rank.
#[inline(always)]
pub fn better(sa: f32, ra: u32, sb: f32, rb: u32) -> bool {
    sa > sb || (sa == sb && ra < rb)
}

/// A bounded selection of the best `k` (item, score) pairs.
pub struct TopK<'a> {
    k: usize,
    rank: &'a [u32],
    heap: Vec<(u32, f32)>,
}

impl<'a> TopK<'a> {
    pub fn new(k: usize, rank: &'a [u32]) -> TopK<'a> {
        TopK {
            k,
            rank,
            heap: Vec::with_capacity(k),
        }
    }

    /// How many items it keeps.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The score an item must beat to enter (−∞ until the heap is full).
    #[inline(always)]
    pub fn threshold(&self) -> f32 {
        if self.k == 0 {
            f32::INFINITY
        } else if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap[0].1
        }
    }

    #[inline(always)]
    fn worse(&self, a: usize, b: usize) -> bool {
        let (ia, sa) = self.heap[a];
        let (ib, sb) = self.heap[b];
        better(sb, self.rank[ib as usize], sa, self.rank[ia as usize])
    }

    /// Offers an item; keeps it if it ranks among the best `k` so far.
    #[inline]
    pub fn push(&mut self, item: u32, score: f32) {
        if self.k == 0 || score.is_nan() {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push((item, score));
            let mut c = self.heap.len() - 1;
            while c > 0 {
                let p = (c - 1) / 2;
                if self.worse(c, p) {
                    self.heap.swap(c, p);
                    c = p;
                } else {
                    break;
                }
            }
            return;
        }
        let (ri, si) = self.heap[0];
        if !better(score, self.rank[item as usize], si, self.rank[ri as usize]) {
            return;
        }
        self.heap[0] = (item, score);
        let n = self.heap.len();
        let mut p = 0;
        loop {
            let (l, r) = (2 * p + 1, 2 * p + 2);
            let mut w = p;
            if l < n && self.worse(l, w) {
                w = l;
            }
            if r < n && self.worse(r, w) {
                w = r;
            }
            if w == p {
                break;
            }
            self.heap.swap(p, w);
            p = w;
        }
    }

    /// The kept items, best first.
    pub fn into_sorted(self) -> Vec<(u32, f32)> {
        let rank = self.rank;
        let mut v = self.heap;
        crate::backend::cpu::util::sort_by_shared(&mut v, &|a, b| {
            if better(a.1, rank[a.0 as usize], b.1, rank[b.0 as usize]) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
        v
    }
}

/// Offers every candidate item (`0..n`, or the set bits of `mask` below `n`) to `top`, scoring
/// only the ones it reaches: the one scan that every top-k path shares.
#[inline(always)]
pub fn offer_all(
    top: &mut TopK,
    n: usize,
    mask: Option<&[u64]>,
    mut score: impl FnMut(usize) -> f32,
) {
    match mask {
        None => {
            for j in 0..n {
                let s = score(j);
                if s >= top.threshold() {
                    top.push(j as u32, s);
                }
            }
        }
        Some(m) => super::screen::for_each_set_bit(m, n, |j| {
            let s = score(j);
            if s >= top.threshold() {
                top.push(j as u32, s);
            }
        }),
    }
}

/// Top-k of `scores` over the items whose bit is set in `mask` (all items when `None`).
pub fn top_k(scores: &[f32], mask: Option<&[u64]>, k: usize, rank: &[u32]) -> Vec<(u32, f32)> {
    let mut t = TopK::new(k, rank);
    offer_all(&mut t, scores.len(), mask, |j| scores[j]);
    t.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_full_sort_with_ties_and_masks() {
        let mut s = 7u32;
        for n in [0usize, 1, 5, 64, 65, 1000] {
            // few distinct values: many ties
            let scores: Vec<f32> = (0..n)
                .map(|_| {
                    s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                    ((s >> 16) % 13) as f32 - 6.0
                })
                .collect();
            // id ranks: a permutation
            let rank: Vec<u32> = (0..n as u32)
                .map(|i| (i * 7919) % n.max(1) as u32)
                .collect();
            let mask: Vec<u64> = (0..n.div_ceil(64))
                .map(|w| 0xF0F0_F0F0_0F0F_FFFFu64.rotate_left(w as u32))
                .collect();
            for k in [0, 1, 3, 10, n + 3] {
                for m in [None, Some(&mask[..])] {
                    let mut want: Vec<(u32, f32)> = (0..n)
                        .filter(|j| m.is_none_or(|m| m[j / 64] >> (j % 64) & 1 == 1))
                        .map(|j| (j as u32, scores[j]))
                        .collect();
                    want.sort_by(|a, b| {
                        b.1.partial_cmp(&a.1)
                            .unwrap()
                            .then(rank[a.0 as usize].cmp(&rank[b.0 as usize]))
                    });
                    want.truncate(k);
                    assert_eq!(top_k(&scores, m, k, &rank), want, "n={n} k={k}");
                }
            }
        }
    }
}

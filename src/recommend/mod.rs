//! Recommendations from a `.hearth` bundle, computed on the device.
//!
//! [`Recommender`] holds the item table (f32, f16 or int8 rows, viewed in place in the bundle's
//! buffer), the catalog metadata compiled into bitmasks, and the fold-in Gramian. A [`Profile`]
//! turns a user's events into a user vector; [`Recommender::recommend`] scores every item,
//! applies filters and boosts, selects the exact top-k (ties by id), optionally re-ranks by MMR
//! for diversity, and explains each pick by the history items that contributed most.

pub mod als;
#[cfg(feature = "webgpu")]
pub mod gpu;
pub mod profile;
pub mod topk;

/// The scoring kernels and the int8 screening pass live with the CPU backend's kernels (the
/// fused MatMul → TopK of ONNX retrieval graphs runs them too).
pub use crate::backend::cpu::{dots as kernels, screen};

pub use profile::{Event, Folded, Profile};

use crate::bundle::{Bundle, ItemMeta, Manifest, Metric, Slab, TableDType, TableData};
use crate::error::{Error, Result};
use screen::Post;
use std::collections::HashMap;
use std::sync::OnceLock;
use topk::TopK;

/// Metadata filter; every set field must match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    /// Item category is one of these (empty: any).
    pub categories: Vec<String>,
    pub price_min: Option<f64>,
    pub price_max: Option<f64>,
    pub in_stock: Option<bool>,
}

/// What to recommend.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub k: usize,
    /// Leave out items the user has interacted with.
    pub exclude_seen: bool,
    /// Only these item ids (unknown ids are ignored).
    pub allow: Option<Vec<String>>,
    /// Never these item ids (unknown ids are ignored).
    pub deny: Vec<String>,
    pub filter: Filter,
    /// Added to the score of the named items.
    pub boost: Vec<(String, f32)>,
    /// 0 = pure relevance; up to 1 = MMR with λ = 1 − diversity.
    pub diversity: f32,
    /// Time of the query in ms since the epoch (for decay); default: the latest event.
    pub now: Option<f64>,
    /// How many history items to name in `because`.
    pub explain: usize,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            k: 10,
            exclude_seen: true,
            allow: None,
            deny: Vec::new(),
            filter: Filter::default(),
            boost: Vec::new(),
            diversity: 0.0,
            now: None,
            explain: 3,
        }
    }
}

/// One recommended item.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub item: u32,
    pub score: f32,
    /// History items that contributed most to this score, largest first.
    pub because: Vec<u32>,
}

/// A profile's query after [`Recommender::stage`].
pub enum Staged {
    /// Answered without a scan (a cold start: the popularity prior).
    Done(Vec<Recommendation>),
    /// The folded user vector and the items the user has seen, ready for a top-k scan.
    Vector { folded: Folded, seen: Vec<u32> },
}

/// The user vector prepared for the table's dtype.
enum Prepared {
    F32(Vec<f32>),
    I8(Vec<i16>, f32),
}

/// A loaded recommender bundle.
pub struct Recommender {
    manifest: Manifest,
    table: TableData,
    n: usize,
    d: usize,
    bias: Option<Vec<f32>>,
    gramian: Vec<f32>,
    popularity: Option<Vec<f32>>,
    index: HashMap<String, u32>,
    /// Rank of each item in id order (tie-break).
    rank: Vec<u32>,
    categories: Vec<String>,
    /// One bitmask per category.
    category_masks: Vec<Vec<u64>>,
    inv_norms: OnceLock<Vec<f32>>,
    /// The int8 screening copy of a large f32 or f16 table, built on the first scan that uses it.
    screen: OnceLock<Option<screen::Screen>>,
    screening: bool,
    user_model: Option<Slab>,
}

fn words(n: usize) -> usize {
    n.div_ceil(64)
}

fn full_mask(n: usize) -> Vec<u64> {
    let mut m = vec![u64::MAX; words(n)];
    if n % 64 != 0 {
        *m.last_mut().expect("n > 0") = (1u64 << (n % 64)) - 1;
    }
    m
}

#[inline(always)]
fn bit(m: &[u64], j: usize) -> bool {
    m[j / 64] >> (j % 64) & 1 == 1
}

#[inline(always)]
fn clear_bit(m: &mut [u64], j: usize) {
    m[j / 64] &= !(1u64 << (j % 64));
}

impl Recommender {
    /// Parses, validates and indexes a bundle (one copy of the bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Recommender> {
        Recommender::from_bundle(Bundle::from_bytes(bytes)?)
    }

    pub fn from_bundle(b: Bundle) -> Result<Recommender> {
        let (n, d) = (b.manifest.items.len(), b.manifest.dim);
        let index: HashMap<String, u32> = b
            .manifest
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.clone(), i as u32))
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        crate::backend::cpu::util::sort_indices(&mut order, &|a, b2| {
            b.manifest.items[a].id.cmp(&b.manifest.items[b2].id)
        });
        let mut rank = vec![0u32; n];
        for (r, i) in order.iter().enumerate() {
            rank[*i] = r as u32;
        }
        let mut categories: Vec<String> = Vec::new();
        let mut cat_index: HashMap<&str, usize> = HashMap::new();
        let mut category_masks: Vec<Vec<u64>> = Vec::new();
        for (j, it) in b.manifest.items.iter().enumerate() {
            if let Some(c) = &it.category {
                let k = *cat_index.entry(c.as_str()).or_insert_with(|| {
                    categories.push(c.clone());
                    category_masks.push(vec![0; words(n)]);
                    categories.len() - 1
                });
                category_masks[k][j / 64] |= 1 << (j % 64);
            }
        }
        let mut rec = Recommender {
            table: b.table,
            n,
            d,
            bias: b.bias,
            gramian: Vec::new(),
            popularity: b.popularity,
            index,
            rank,
            categories,
            category_masks,
            inv_norms: OnceLock::new(),
            screen: OnceLock::new(),
            screening: true,
            user_model: b.user_model,
            manifest: b.manifest,
        };
        rec.gramian = match b.gramian {
            Some(g) => g,
            None => {
                let mut all = vec![0f32; n * d];
                for (j, r) in all.chunks_exact_mut(d).enumerate() {
                    rec.row_into(j as u32, r);
                }
                crate::bundle::gramian(&all, d)
            }
        };
        Ok(rec)
    }

    /// Turns the int8 screening pass of large f32 tables ([`screen`]) on (the default) or off.
    /// Results are identical either way; off frees the int8 copy (about a quarter of the f32
    /// table) and every query streams the whole f32 table.
    pub fn set_screening(&mut self, on: bool) {
        self.screening = on;
        if !on {
            self.screen = OnceLock::new();
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn dim(&self) -> usize {
        self.d
    }

    pub fn dtype(&self) -> TableDType {
        self.table.dtype()
    }

    pub fn has_popularity(&self) -> bool {
        self.popularity.is_some()
    }

    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The ONNX bytes of the bundle's user tower, if it has one.
    pub fn user_model(&self) -> Option<&[u8]> {
        self.user_model.as_ref().map(|s| s.bytes())
    }

    /// The item biases, when the bundle has them.
    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_deref()
    }

    /// The candidate bitmask for `q`'s filters and rules with `seen` items left out (bit i of
    /// word i / 64 = item i; `None` means every item), with boosted items taken out of it and
    /// returned beside it with their boosts (they are scored apart, as [`Recommender::select`]
    /// does).
    pub fn candidate_mask(
        &self,
        q: &Query,
        seen: &[u32],
    ) -> Result<(Option<Vec<u64>>, Vec<(u32, f32)>)> {
        self.check_query(q)?;
        let mut m = self.compile_mask(q, seen)?;
        let boosts = self.boosts(q, &mut m)?;
        Ok((m, boosts))
    }

    /// The relevance score of item `j` for user vector `x` in f32 (dot or cosine, plus bias):
    /// the reference the GPU path's scores are compared with, and how it scores boosted items.
    pub fn score_f32(&self, x: &[f32], j: u32) -> f32 {
        let mut row = vec![0f32; self.d];
        self.row_into(j, &mut row);
        let post = self.post(x);
        post.apply(j as usize, kernels::scalar::dot_f32(&row, x))
    }

    /// [`score_f32`](Self::score_f32) of every item: one row buffer, the scoring set up once.
    pub fn scores_f32(&self, x: &[f32]) -> Vec<f32> {
        let mut row = vec![0f32; self.d];
        let post = self.post(x);
        (0..self.n)
            .map(|j| {
                self.row_into(j as u32, &mut row);
                post.apply(j, kernels::scalar::dot_f32(&row, x))
            })
            .collect()
    }

    pub fn gramian(&self) -> &[f32] {
        &self.gramian
    }

    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub fn item(&self, i: u32) -> &ItemMeta {
        &self.manifest.items[i as usize]
    }

    pub fn id(&self, i: u32) -> &str {
        &self.manifest.items[i as usize].id
    }

    fn require(&self, id: &str) -> Result<u32> {
        self.index_of(id)
            .ok_or_else(|| Error::UnknownItem(id.to_string()))
    }

    /// Item `i`'s vector as f32 (dequantized).
    pub fn row_into(&self, i: u32, out: &mut [f32]) {
        let (d, i) = (self.d, i as usize);
        match &self.table {
            TableData::F32(s) => out.copy_from_slice(&s.f32s()[i * d..(i + 1) * d]),
            TableData::F16(s) => {
                for (o, h) in out.iter_mut().zip(&s.u16s()[i * d..(i + 1) * d]) {
                    *o = kernels::f16_to_f32(*h);
                }
            }
            TableData::I8 { rows, scales } => {
                for (o, q) in out.iter_mut().zip(&rows.i8s()[i * d..(i + 1) * d]) {
                    *o = *q as f32 * scales[i];
                }
            }
        }
    }

    fn row(&self, i: u32) -> Vec<f32> {
        let mut r = vec![0f32; self.d];
        self.row_into(i, &mut r);
        r
    }

    /// `1 / |y_j|` for every item (0 for a zero row), computed on first use.
    fn inv_norms(&self) -> &[f32] {
        self.inv_norms.get_or_init(|| {
            let mut r = vec![0f32; self.d];
            (0..self.n as u32)
                .map(|j| {
                    self.row_into(j, &mut r);
                    let n2: f64 = r.iter().map(|v| (*v as f64) * (*v as f64)).sum();
                    if n2 > 0.0 {
                        (1.0 / n2.sqrt()) as f32
                    } else {
                        0.0
                    }
                })
                .collect()
        })
    }

    fn prepare(&self, x: &[f32]) -> Prepared {
        match &self.table {
            TableData::I8 { .. } => {
                let mut q = vec![0i16; self.d];
                let s = kernels::quantize_query_i16(x, &mut q);
                Prepared::I8(q, s)
            }
            _ => Prepared::F32(x.to_vec()),
        }
    }

    /// Raw dot product of row `j` with the prepared query.
    #[inline(always)]
    fn dot(&self, p: &Prepared, j: usize) -> f32 {
        let d = self.d;
        match (&self.table, p) {
            (TableData::F32(s), Prepared::F32(q)) => {
                kernels::dot_f32(&s.f32s()[j * d..(j + 1) * d], q)
            }
            (TableData::F16(s), Prepared::F32(q)) => {
                kernels::dot_f16(&s.u16s()[j * d..(j + 1) * d], q)
            }
            (TableData::I8 { rows, scales }, Prepared::I8(q, qs)) => {
                kernels::dot_i8(&rows.i8s()[j * d..(j + 1) * d], q) as f32 * (qs * scales[j])
            }
            _ => unreachable!("query prepared for the table's dtype"),
        }
    }

    /// The int8 screening copy for a top-`k` scan, where it applies: screening on, an f32 or
    /// f16 table of at least [`screen::MIN_ITEMS`] items, all finite, `k ≤ n / 16` (built on
    /// first use). An int8 table is not screened: its scan already reads int8 rows.
    fn screen_for(&self, k: usize) -> Option<&screen::Screen> {
        if !self.screening || self.n < screen::MIN_ITEMS || k * 16 > self.n {
            return None;
        }
        self.screen
            .get_or_init(|| match &self.table {
                TableData::F32(t) => screen::Screen::build(t.f32s(), self.d),
                TableData::F16(_) => screen::Screen::build_rows(self.n, self.d, |j, row| {
                    self.row_into(j as u32, row)
                }),
                TableData::I8 { .. } => None,
            })
            .as_ref()
    }

    /// Scans the masked items, scoring each as `post.apply(j, dot)`, into `top`.
    fn scan(&self, p: &Prepared, mask: Option<&[u64]>, top: &mut TopK, post: Post) {
        // a large f32 or f16 table: the int8 screening pass, then the survivors rescored
        // exactly (the same offers as the scans below; `post` is monotone: non-negative cosine
        // norms, bias)
        if let Prepared::F32(q) = p {
            if let Some(c) = self
                .screen_for(top.k())
                .and_then(|s| s.candidates(q, mask, top.k(), true, post))
            {
                for j in c {
                    let s = post.apply(j as usize, self.dot(p, j as usize));
                    if s >= top.threshold() {
                        top.push(j, s);
                    }
                }
                return;
            }
        }
        if let (TableData::I8 { rows, scales }, Prepared::I8(q, qs), None) = (&self.table, p, mask)
        {
            // every item of an int8 table: the four-rows integer kernel (exact sums, so the
            // same dots as `dot_i8`), each scaled and offered in item order as `offer_all` does
            const BLOCK: usize = 256;
            let (t, d) = (rows.i8s(), self.d);
            let mut dots = [0i32; BLOCK];
            for j0 in (0..self.n).step_by(BLOCK) {
                let j1 = (j0 + BLOCK).min(self.n);
                let dots = &mut dots[..j1 - j0];
                kernels::dots_i8(&t[j0 * d..j1 * d], q, dots);
                for (j, &dot) in (j0..j1).zip(dots.iter()) {
                    let s = post.apply(j, dot as f32 * (qs * scales[j]));
                    if s >= top.threshold() {
                        top.push(j as u32, s);
                    }
                }
            }
            return;
        }
        if let (TableData::F32(table), Prepared::F32(q), None) = (&self.table, p, mask) {
            // every item of an f32 table: scored a block at a time by the four-rows kernel,
            // then offered in item order exactly as `offer_all` does
            const BLOCK: usize = 256;
            let (t, d) = (table.f32s(), self.d);
            let mut dots = [0f32; BLOCK];
            for j0 in (0..self.n).step_by(BLOCK) {
                let j1 = (j0 + BLOCK).min(self.n);
                let dots = &mut dots[..j1 - j0];
                kernels::dots_f32(&t[j0 * d..j1 * d], q, dots);
                for (j, &dot) in (j0..j1).zip(dots.iter()) {
                    let s = post.apply(j, dot);
                    if s >= top.threshold() {
                        top.push(j as u32, s);
                    }
                }
            }
            return;
        }
        topk::offer_all(top, self.n, mask, |j| post.apply(j, self.dot(p, j)));
    }

    /// Relevance scores of every item for user vector `x` (dot or cosine per the manifest, plus
    /// the item bias): the reference the selection paths are tested against.
    pub fn scores(&self, x: &[f32]) -> Result<Vec<f32>> {
        self.check_vector(x)?;
        let p = self.prepare(x);
        let post = self.post(x);
        Ok((0..self.n)
            .map(|j| post.apply(j, self.dot(&p, j)))
            .collect())
    }

    /// How a dot becomes a score for user vector `x`: cosine scaling, then the item bias.
    fn post(&self, x: &[f32]) -> Post<'_> {
        let cosine = self.manifest.metric == Metric::Cosine;
        let xn = if cosine {
            let n2: f64 = x.iter().map(|v| (*v as f64) * (*v as f64)).sum();
            if n2 > 0.0 {
                (1.0 / n2.sqrt()) as f32
            } else {
                0.0
            }
        } else {
            1.0
        };
        Post {
            scale: xn,
            norms: cosine.then(|| self.inv_norms()),
            bias: self.bias.as_deref(),
        }
    }

    pub(crate) fn check_vector(&self, x: &[f32]) -> Result<()> {
        if x.len() != self.d {
            return Err(Error::Argument(format!(
                "user vector has {} values, this recommender's dimension is {}",
                x.len(),
                self.d
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Argument(format!(
                "user vector value {i} is {}: values must be finite",
                x[i]
            )));
        }
        Ok(())
    }

    /// Compiles the query's filters (and the user's seen items) into a bitmask of candidates;
    /// `None` means every item.
    fn compile_mask(&self, q: &Query, seen: &[u32]) -> Result<Option<Vec<u64>>> {
        let f = &q.filter;
        let any = !f.categories.is_empty()
            || f.price_min.is_some()
            || f.price_max.is_some()
            || f.in_stock.is_some()
            || q.allow.is_some()
            || !q.deny.is_empty()
            || (q.exclude_seen && !seen.is_empty())
            || !q.boost.is_empty();
        if !any {
            return Ok(None);
        }
        let mut m = match &q.allow {
            Some(allow) => {
                let mut m = vec![0u64; words(self.n)];
                for j in allow.iter().filter_map(|id| self.index_of(id)) {
                    m[j as usize / 64] |= 1 << (j % 64);
                }
                m
            }
            None => full_mask(self.n),
        };
        if !f.categories.is_empty() {
            let mut cm = vec![0u64; words(self.n)];
            for c in &f.categories {
                let k = self.categories.iter().position(|x| x == c).ok_or_else(|| {
                    Error::Argument(format!(
                        "filter.category '{c}' is not in this catalog (categories: {})",
                        self.categories.join(", ")
                    ))
                })?;
                for (a, b) in cm.iter_mut().zip(&self.category_masks[k]) {
                    *a |= b;
                }
            }
            for (a, b) in m.iter_mut().zip(&cm) {
                *a &= b;
            }
        }
        if let (Some(lo), Some(hi)) = (f.price_min, f.price_max) {
            if lo > hi {
                return Err(Error::Argument(format!(
                    "filter.priceMin {lo} is above filter.priceMax {hi}"
                )));
            }
        }
        if f.price_min.is_some() || f.price_max.is_some() || f.in_stock.is_some() {
            for (j, it) in self.manifest.items.iter().enumerate() {
                if !bit(&m, j) {
                    continue;
                }
                let price_ok = match (f.price_min, f.price_max, it.price) {
                    (None, None, _) => true,
                    (_, _, None) => false,
                    (lo, hi, Some(p)) => lo.is_none_or(|lo| p >= lo) && hi.is_none_or(|hi| p <= hi),
                };
                let stock_ok = f
                    .in_stock
                    .is_none_or(|want| it.in_stock.unwrap_or(true) == want);
                if !(price_ok && stock_ok) {
                    clear_bit(&mut m, j);
                }
            }
        }
        for j in q.deny.iter().filter_map(|id| self.index_of(id)) {
            clear_bit(&mut m, j as usize);
        }
        if q.exclude_seen {
            for &j in seen {
                clear_bit(&mut m, j as usize);
            }
        }
        Ok(Some(m))
    }

    /// Boosted items leave the scan mask and are offered afterwards with their boost added.
    fn boosts(&self, q: &Query, mask: &mut Option<Vec<u64>>) -> Result<Vec<(u32, f32)>> {
        let mut out = Vec::new();
        for (id, b) in &q.boost {
            if !b.is_finite() {
                return Err(Error::Argument(format!(
                    "boost for '{id}' is {b}: must be finite"
                )));
            }
            if let (Some(j), Some(m)) = (self.index_of(id), mask.as_mut()) {
                if bit(m, j as usize) {
                    clear_bit(m, j as usize);
                    out.push((j, *b));
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn check_query(&self, q: &Query) -> Result<()> {
        if q.k == 0 || q.k > 10_000 {
            return Err(Error::Argument(format!("k = {} must be in 1..=10000", q.k)));
        }
        if !(0.0..=1.0).contains(&q.diversity) {
            return Err(Error::Argument(format!(
                "diversity = {} must be in [0, 1]",
                q.diversity
            )));
        }
        Ok(())
    }

    /// How many candidates MMR re-ranks for `k` results.
    pub(crate) fn pool(q: &Query) -> usize {
        if q.diversity > 0.0 {
            (q.k * 4).max(q.k + 32)
        } else {
            q.k
        }
    }

    /// Top-k for a user vector (from a profile, a user tower, or the caller).
    pub(crate) fn select(&self, x: &[f32], q: &Query, seen: &[u32]) -> Result<Vec<(u32, f32)>> {
        let mut mask = self.compile_mask(q, seen)?;
        let boosts = self.boosts(q, &mut mask)?;
        let p = self.prepare(x);
        let post = self.post(x);
        let mut top = TopK::new(Self::pool(q), &self.rank);
        self.scan(&p, mask.as_deref(), &mut top, post);
        for (j, b) in boosts {
            top.push(j, post.apply(j as usize, self.dot(&p, j as usize)) + b);
        }
        Ok(self.diversify(top.into_sorted(), q))
    }

    /// Cold start: the popularity prior (filtered and boosted like any query).
    fn select_popular(&self, q: &Query, seen: &[u32]) -> Result<Vec<(u32, f32)>> {
        let pop = self.popularity.as_deref().ok_or_else(|| {
            Error::Argument(
                "this profile has no events on catalog items and the bundle has no popularity \
                 prior for a cold start: record an event first, or rebuild the bundle with \
                 popularity"
                    .into(),
            )
        })?;
        let mut mask = self.compile_mask(q, seen)?;
        let boosts = self.boosts(q, &mut mask)?;
        let mut top = TopK::new(Self::pool(q), &self.rank);
        topk::offer_all(&mut top, self.n, mask.as_deref(), |j| pop[j]);
        for (j, b) in boosts {
            top.push(j, pop[j as usize] + b);
        }
        Ok(self.diversify(top.into_sorted(), q))
    }

    /// Maximal marginal relevance over the candidate pool: repeatedly pick the item maximizing
    /// `λ · rel − (1 − λ) · max cos(item, picked)`, with `rel` min-max scaled to [0, 1].
    pub(crate) fn diversify(&self, cands: Vec<(u32, f32)>, q: &Query) -> Vec<(u32, f32)> {
        if q.diversity <= 0.0 || cands.len() <= 1 {
            let mut c = cands;
            c.truncate(q.k);
            return c;
        }
        let lambda = 1.0 - q.diversity as f64;
        let (lo, hi) = cands
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), c| {
                (l.min(c.1), h.max(c.1))
            });
        let span = (hi - lo) as f64;
        let inv = self.inv_norms();
        let rows: Vec<Vec<f32>> = cands.iter().map(|c| self.row(c.0)).collect();
        let mut max_sim = vec![f64::NEG_INFINITY; cands.len()];
        let mut taken = vec![false; cands.len()];
        let mut out = Vec::with_capacity(q.k);
        while out.len() < q.k.min(cands.len()) {
            let mut best: Option<(usize, f64)> = None;
            for (i, c) in cands.iter().enumerate() {
                if taken[i] {
                    continue;
                }
                let rel = if span > 0.0 {
                    (c.1 - lo) as f64 / span
                } else {
                    1.0
                };
                let red = if out.is_empty() { 0.0 } else { max_sim[i] };
                let v = lambda * rel - (1.0 - lambda) * red;
                // candidates are in rank order, so a strict > keeps ties by relevance then id
                if best.is_none_or(|(_, bv)| v > bv) {
                    best = Some((i, v));
                }
            }
            let (b, _) = best.expect("a candidate is left");
            taken[b] = true;
            out.push(cands[b]);
            for (i, c) in cands.iter().enumerate() {
                if !taken[i] {
                    let dot: f64 = rows[i]
                        .iter()
                        .zip(&rows[b])
                        .map(|(x, y)| (*x as f64) * (*y as f64))
                        .sum();
                    let cos = dot * inv[c.0 as usize] as f64 * inv[cands[b].0 as usize] as f64;
                    max_sim[i] = max_sim[i].max(cos);
                }
            }
        }
        out
    }

    /// Recommendations for a profile: fold-in, filter, top-k, diversity, explanations. A
    /// profile without catalog events gets the popularity prior.
    pub fn recommend(&self, profile: &mut Profile, q: &Query) -> Result<Vec<Recommendation>> {
        match self.stage(profile, q)? {
            Staged::Done(list) => Ok(list),
            Staged::Vector { folded, seen } => {
                let picks = self.select(&folded.x, q, &seen)?;
                Ok(self.explain(&folded, picks, q))
            }
        }
    }

    /// The part of [`Recommender::recommend`] before the top-k scan: checks the query and folds
    /// the profile in. A profile without catalog events is answered here (popularity prior);
    /// otherwise the folded vector and the seen items go to a scan (the CPU's
    /// [`Recommender::select`] or the GPU's twin) and then to [`Recommender::explain`].
    pub fn stage(&self, profile: &mut Profile, q: &Query) -> Result<Staged> {
        self.check_query(q)?;
        let seen = profile.items().to_vec();
        let Some(folded) = profile.fold(self, q.now)? else {
            return Ok(Staged::Done(
                self.select_popular(q, &seen)?
                    .into_iter()
                    .map(|(item, score)| Recommendation {
                        item,
                        score,
                        because: Vec::new(),
                    })
                    .collect(),
            ));
        };
        Ok(Staged::Vector { folded, seen })
    }

    /// Attaches `because` explanations (the history items contributing most, up to
    /// `q.explain`) to the picks of a scan.
    pub fn explain(
        &self,
        folded: &Folded,
        picks: Vec<(u32, f32)>,
        q: &Query,
    ) -> Vec<Recommendation> {
        let mut row = vec![0f32; self.d];
        let mut y = vec![0f32; self.d];
        picks
            .into_iter()
            .map(|(item, score)| {
                let because = if q.explain == 0 {
                    Vec::new()
                } else {
                    self.row_into(item, &mut y);
                    folded
                        .because(self, &y, &mut row)
                        .into_iter()
                        .filter(|(_, c)| *c > 0.0)
                        .take(q.explain)
                        .map(|(i, _)| i)
                        .collect()
                };
                Recommendation {
                    item,
                    score,
                    because,
                }
            })
            .collect()
    }

    /// Recommendations for a user vector computed elsewhere (a user tower, a server).
    pub fn recommend_vector(&self, x: &[f32], q: &Query) -> Result<Vec<Recommendation>> {
        self.check_query(q)?;
        self.check_vector(x)?;
        Ok(self
            .select(x, q, &[])?
            .into_iter()
            .map(|(item, score)| Recommendation {
                item,
                score,
                because: Vec::new(),
            })
            .collect())
    }

    /// Items most similar to `id` by cosine of their vectors (the item itself excluded).
    pub fn similar(&self, id: &str, q: &Query) -> Result<Vec<(u32, f32)>> {
        self.check_query(q)?;
        let j0 = self.require(id)?;
        let y = self.row(j0);
        let inv = self.inv_norms();
        let x0 = inv[j0 as usize];
        let mut q2 = q.clone();
        q2.exclude_seen = true;
        let mut mask = self.compile_mask(&q2, &[j0])?;
        let boosts = self.boosts(q, &mut mask)?;
        let p = self.prepare(&y);
        let post = Post {
            scale: x0,
            norms: Some(inv),
            bias: None,
        };
        let mut top = TopK::new(Self::pool(q), &self.rank);
        self.scan(&p, mask.as_deref(), &mut top, post);
        for (j, b) in boosts {
            top.push(j, post.apply(j as usize, self.dot(&p, j as usize)) + b);
        }
        Ok(self.diversify(top.into_sorted(), q))
    }

    /// Top-k for many user vectors at once (`users` is `m × d`, row-major): the table is read
    /// once per block of rows for all users. Results equal `m` single queries without filters.
    pub fn recommend_batch(&self, users: &[f32], k: usize) -> Result<Vec<Vec<(u32, f32)>>> {
        if users.len() % self.d != 0 {
            return Err(Error::Argument(format!(
                "users: {} values is not a multiple of the dimension {}",
                users.len(),
                self.d
            )));
        }
        let q = Query {
            k,
            ..Query::default()
        };
        self.check_query(&q)?;
        let xs: Vec<&[f32]> = users.chunks_exact(self.d).collect();
        for x in &xs {
            self.check_vector(x)?;
        }
        let preps: Vec<Prepared> = xs.iter().map(|x| self.prepare(x)).collect();
        let posts: Vec<_> = xs.iter().map(|x| self.post(x)).collect();
        let mut tops: Vec<TopK> = xs.iter().map(|_| TopK::new(k, &self.rank)).collect();
        if self.screen_for(k).is_some() {
            // each user screened on its own (the int8 copy's pass is compute-bound, so reading
            // it once per block for all users would gain little): a fraction of the f32 scan
            for ((p, post), top) in preps.iter().zip(&posts).zip(tops.iter_mut()) {
                self.scan(p, None, top, *post);
            }
            return Ok(tops.into_iter().map(TopK::into_sorted).collect());
        }
        const BLOCK: usize = 256;
        for start in (0..self.n).step_by(BLOCK) {
            let end = (start + BLOCK).min(self.n);
            for ((p, post), top) in preps.iter().zip(&posts).zip(tops.iter_mut()) {
                for j in start..end {
                    let s = post.apply(j, self.dot(p, j));
                    if s >= top.threshold() {
                        top.push(j as u32, s);
                    }
                }
            }
        }
        Ok(tops.into_iter().map(TopK::into_sorted).collect())
    }
}

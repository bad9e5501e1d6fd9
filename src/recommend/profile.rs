//! On-device personalization: a user's events fold into a user vector by one implicit-ALS step
//! against the fixed item factors,
//!
//! ```text
//! x = (YᵀY + Yᵀ(C − I)Y + λI)⁻¹ Yᵀ C p
//! ```
//!
//! where only the user's own items enter the correction term. With `c_i = 1 + α s r_i`, where
//! `r_i = Σ w · 2^((t − t₀)/h)` over the item's events and `s = 2^(−(now − t₀)/h)` (so `s r_i`
//! is the decayed weight at `now`), the profile keeps `M = Σ r_i y_i y_iᵀ`, `u = Σ y_i` and
//! `v = Σ r_i y_i` in f64. An event updates them in O(d²); the vector is then one d×d Cholesky
//! solve (nalgebra) of `(G + λI + α s M) x = u + α s v`: O(d³/3), ~0.1 ms for d = 64.

use super::Recommender;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::collections::HashMap;

const MS_PER_DAY: f64 = 86_400_000.0;
/// Rebase the decay anchor when weights would grow past 2^this.
const MAX_EXPONENT: f64 = 60.0;

/// `2^x` by plain arithmetic (Taylor series of `e^(f ln 2)` on the fractional part), so native and
/// wasm builds compute bit-identical decays (their libm `exp2`s may differ in the last bit).
fn exp2(x: f64) -> f64 {
    if x < -1000.0 {
        return 0.0;
    }
    let n = x.floor();
    let y = (x - n) * std::f64::consts::LN_2;
    let mut p = 1.0;
    for k in (1..=18).rev() {
        p = 1.0 + p * y / k as f64;
    }
    let mut scale = 1.0;
    let (mut n, base) = if n < 0.0 { (-n, 0.5) } else { (n, 2.0) };
    while n > 0.0 {
        scale *= base;
        n -= 1.0;
    }
    p * scale
}

/// One interaction; in JS `{ item, event, weight?, ts? }`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub item: String,
    /// `view`, `cart`, `purchase`, or any type the bundle's `eventWeights` names.
    #[serde(rename = "event")]
    pub kind: String,
    /// Overrides the bundle's weight for `kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f32>,
    /// Milliseconds since the Unix epoch; `None` means "now" (the latest time seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<f64>,
}

/// A user's interactions and the fold-in state derived from them.
#[derive(Clone)]
pub struct Profile {
    events: Vec<Event>,
    /// item index → r_i (undecayed at the anchor t₀)
    weights: HashMap<u32, f64>,
    items: Vec<u32>,
    t0: Option<f64>,
    latest: Option<f64>,
    m: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
    d: usize,
}

/// The solved fold-in: the user vector and what explanations need.
pub struct Folded {
    pub x: Vec<f32>,
    /// Cholesky factor of `A` (for `A⁻¹ y_j` in explanations).
    chol: nalgebra::Cholesky<f64, nalgebra::Dyn>,
    /// (item, confidence c_i) for each item in the history.
    pub history: Vec<(u32, f64)>,
}

impl Folded {
    /// Contribution of each history item to the score of item vector `y`:
    /// `c_i · y_iᵀ A⁻¹ y` (Hu, Koren & Volinsky 2008, §5). Sorted, largest first.
    pub fn because(&self, rec: &Recommender, y: &[f32], row: &mut [f32]) -> Vec<(u32, f64)> {
        let w = self.chol.solve(&DVector::from_iterator(
            y.len(),
            y.iter().map(|v| *v as f64),
        ));
        let mut out: Vec<(u32, f64)> = self
            .history
            .iter()
            .map(|&(i, c)| {
                rec.row_into(i, row);
                let dot: f64 = row.iter().zip(w.iter()).map(|(a, b)| *a as f64 * b).sum();
                (i, c * dot)
            })
            .collect();
        crate::backend::cpu::util::sort_by_shared(&mut out, &|a, b| {
            b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
        });
        out
    }
}

impl Profile {
    pub fn new(d: usize) -> Profile {
        Profile {
            events: Vec::new(),
            weights: HashMap::new(),
            items: Vec::new(),
            t0: None,
            latest: None,
            m: vec![0.0; d * d],
            u: vec![0.0; d],
            v: vec![0.0; d],
            d,
        }
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item indices the user has interacted with, in first-seen order.
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    pub fn clear(&mut self) {
        *self = Profile::new(self.d);
    }

    fn half_life_ms(rec: &Recommender) -> Option<f64> {
        rec.manifest()
            .fold_in
            .half_life_days
            .map(|h| h * MS_PER_DAY)
    }

    /// Records an event and updates the fold-in state in O(d²). Returns `Ok(false)` (and keeps
    /// the event for export) when the item is not in this catalog; errors on bad weights/times.
    pub fn record(&mut self, rec: &Recommender, e: Event) -> Result<bool> {
        let w = match e.weight {
            Some(w) => w,
            None => *rec
                .manifest()
                .fold_in
                .event_weights
                .get(&e.kind)
                .ok_or_else(|| {
                    Error::Argument(format!(
                        "event type '{}' has no weight in this bundle (known: {}); pass `weight`",
                        e.kind,
                        rec.manifest()
                            .fold_in
                            .event_weights
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
        };
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::Argument(format!(
                "event on '{}': weight {w} must be finite and >= 0",
                e.item
            )));
        }
        if let Some(t) = e.ts {
            if !t.is_finite() {
                return Err(Error::Argument(format!(
                    "event on '{}': timestamp {t} is not a finite number of ms",
                    e.item
                )));
            }
        }
        let idx = rec.index_of(&e.item);
        self.events.push(e.clone());
        let Some(idx) = idx else {
            return Ok(false);
        };
        let hl = Self::half_life_ms(rec);
        let t = e.ts.or(self.latest).unwrap_or(0.0);
        self.latest = Some(self.latest.map_or(t, |l| l.max(t)));
        let t0 = *self.t0.get_or_insert(t);
        // Older events than the anchor get a negative exponent (their weight decays toward 0);
        // newer ones grow the weights, so rebase before they could overflow.
        let exponent = hl.map_or(0.0, |h| (t - t0) / h);
        if exponent > MAX_EXPONENT {
            self.rebuild(rec);
            return Ok(true);
        }
        self.add(rec, idx, w as f64 * exp2(exponent));
        Ok(true)
    }

    fn add(&mut self, rec: &Recommender, idx: u32, dr: f64) {
        let d = self.d;
        let mut row = vec![0f32; d];
        rec.row_into(idx, &mut row);
        let y: Vec<f64> = row.iter().map(|v| *v as f64).collect();
        if !self.weights.contains_key(&idx) {
            self.items.push(idx);
            for (u, y) in self.u.iter_mut().zip(&y) {
                *u += y;
            }
        }
        *self.weights.entry(idx).or_insert(0.0) += dr;
        for a in 0..d {
            let ya = dr * y[a];
            for b in 0..d {
                self.m[a * d + b] += ya * y[b];
            }
            self.v[a] += dr * y[a];
        }
    }

    /// Recomputes the state from the event list with a fresh decay anchor (the latest time).
    fn rebuild(&mut self, rec: &Recommender) {
        let events = std::mem::take(&mut self.events);
        let latest = self.latest;
        self.clear();
        self.t0 = latest;
        self.latest = latest;
        for e in events {
            // weights were validated when first recorded
            let _ = self.record(rec, e);
        }
    }

    /// Solves for the user vector at time `now` (ms; default: the latest event time).
    /// `None` when the profile has no known items (use the cold-start path).
    pub fn fold(&mut self, rec: &Recommender, now: Option<f64>) -> Result<Option<Folded>> {
        if self.items.is_empty() {
            return Ok(None);
        }
        let fi = &rec.manifest().fold_in;
        let now = now.or(self.latest).unwrap_or(0.0);
        let mut s = 1.0;
        if let (Some(h), Some(t0)) = (Self::half_life_ms(rec), self.t0) {
            let e = (now - t0) / h;
            if e > MAX_EXPONENT {
                self.latest = Some(now);
                self.rebuild(rec);
                return self.fold(rec, Some(now));
            }
            s = exp2(-e);
        }
        let d = self.d;
        let a_s = fi.alpha as f64 * s;
        let g = rec.gramian();
        let a = DMatrix::from_fn(d, d, |i, j| {
            g[i * d + j] as f64
                + a_s * self.m[i * d + j]
                + if i == j { fi.lambda as f64 } else { 0.0 }
        });
        let b = DVector::from_fn(d, |i, _| self.u[i] + a_s * self.v[i]);
        let chol = a.cholesky().ok_or_else(|| {
            Error::InvalidBundle(
                "fold-in matrix is not positive definite: the bundle's gramian does not \
                 match its item factors"
                    .into(),
            )
        })?;
        let x = chol.solve(&b);
        let history = self
            .items
            .iter()
            .map(|i| (*i, 1.0 + a_s * self.weights[i]))
            .collect();
        Ok(Some(Folded {
            x: x.iter().map(|v| *v as f32).collect(),
            chol,
            history,
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exp2_is_accurate() {
        for i in -2000..=2000 {
            let x = i as f64 * 0.0377;
            let (got, want) = (super::exp2(x), x.exp2());
            assert!(
                (got - want).abs() <= 4.0 * f64::EPSILON * want,
                "{x}: {got} vs {want}"
            );
        }
    }
}

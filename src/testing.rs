//! Test support, for the crate's unit tests and (feature `test-api`) the integration tests: one
//! seeded generator and one closeness check, so every test draws inputs and states its tolerance
//! the same way. Not in shipped builds.

use crate::tensor::Tensor;

/// SplitMix64 (Steele, Lea & Flood 2014): seeded, fast, and good enough for test inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn f32_in(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }

    /// Uniform in 0..n (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }

    /// `n` values uniform in [lo, hi).
    pub fn f32s(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| self.f32_in(lo, hi)).collect()
    }

    /// An f32 tensor of `shape` with values uniform in [lo, hi).
    pub fn tensor(&mut self, shape: &[usize], lo: f32, hi: f32) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_f32(shape.to_vec(), self.f32s(n, lo, hi)).expect("a valid shape")
    }
}

/// How many of `got` are not bit-identical to `want` (a SIMD kernel against its scalar twin).
pub fn bit_mismatches(got: &[f32], want: &[f32]) -> usize {
    got.iter()
        .zip(want)
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count()
}

/// Asserts `|got − want| ≤ atol + rtol·|want|` elementwise (NaN equals NaN, an infinity only
/// itself), naming `what`, the first index that differs and both values.
pub fn assert_close<G: Copy + Into<f64>, W: Copy + Into<f64>>(
    what: &str,
    got: &[G],
    want: &[W],
    atol: f64,
    rtol: f64,
) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w): (f64, f64) = (g.into(), w.into());
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= atol + rtol * w.abs()
        };
        assert!(
            ok,
            "{what}: index {i}: got {g}, want {w} (atol {atol}, rtol {rtol})"
        );
    }
}

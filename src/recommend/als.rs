//! Implicit-feedback ALS (Hu, Koren & Volinsky 2008) solved by conjugate gradient (Takács,
//! Pilászy & Tikk 2011): each half-step runs a few warm-started CG iterations per row on
//!
//! ```text
//! (YᵀY + λI + Σ_{i ∈ I_u} (c_ui − 1) y_i y_iᵀ) x_u = Σ_{i ∈ I_u} c_ui y_i,   c_ui = 1 + α r_ui
//! ```
//!
//! so a step costs O(d² + |I_u| d) per row instead of a d×d factorization. The user step is the
//! same system the on-device fold-in ([`super::Profile`]) solves exactly, so users trained here
//! and users folded in the browser live in the same space. Native only in practice (the CLI),
//! but plain Rust: threads come from `std::thread::scope`.

/// Training parameters.
#[derive(Clone, Debug)]
pub struct AlsParams {
    pub factors: usize,
    pub iterations: usize,
    pub lambda: f32,
    pub alpha: f32,
    /// CG iterations per row and half-step (3 is the usual choice).
    pub cg_steps: usize,
    pub seed: u64,
    pub threads: usize,
}

impl Default for AlsParams {
    fn default() -> Self {
        AlsParams {
            factors: 64,
            iterations: 15,
            lambda: 0.1,
            alpha: 10.0,
            cg_steps: 3,
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A sparse rows × cols matrix of weights `r` (CSR).
#[derive(Clone, Debug, Default)]
pub struct Csr {
    pub rows: usize,
    pub cols: usize,
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

impl Csr {
    /// From (row, col, weight) triples; duplicates are summed.
    pub fn from_triples(rows: usize, cols: usize, mut t: Vec<(u32, u32, f32)>) -> Csr {
        t.sort_by_key(|x| (x.0, x.1));
        let mut m = Csr {
            rows,
            cols,
            indptr: vec![0; rows + 1],
            ..Csr::default()
        };
        let mut last = None;
        for (r, c, v) in t {
            if last == Some((r, c)) {
                *m.values.last_mut().expect("a value was pushed") += v;
                continue;
            }
            last = Some((r, c));
            m.indices.push(c);
            m.values.push(v);
            m.indptr[r as usize + 1] += 1;
        }
        for r in 0..rows {
            m.indptr[r + 1] += m.indptr[r];
        }
        m
    }

    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }

    pub fn transpose(&self) -> Csr {
        let mut t = Vec::with_capacity(self.indices.len());
        for r in 0..self.rows {
            let (c, v) = self.row(r);
            t.extend(c.iter().zip(v).map(|(c, v)| (*c, r as u32, *v)));
        }
        Csr::from_triples(self.cols, self.rows, t)
    }
}

fn gram(f: &[f32], d: usize) -> Vec<f64> {
    let g = crate::bundle::gramian(f, d);
    g.into_iter().map(|v| v as f64).collect()
}

fn dot(a: &[f32], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum()
}

/// One half-step: updates every row of `x` against fixed factors `y`.
fn half_step(x: &mut [f32], y: &[f32], r: &Csr, p: &AlsParams) {
    let d = p.factors;
    let g = gram(y, d);
    let threads = p.threads.max(1);
    let chunk = r.rows.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (t, xs) in x.chunks_mut(chunk * d).enumerate() {
            let g = &g;
            s.spawn(move || {
                let mut buf = CgBuf::new(d);
                for (k, xu) in xs.chunks_exact_mut(d).enumerate() {
                    let u = t * chunk + k;
                    let (items, weights) = r.row(u);
                    solve_row(xu, y, items, weights, g, p, &mut buf);
                }
            });
        }
    });
}

struct CgBuf {
    x: Vec<f64>,
    r: Vec<f64>,
    p: Vec<f64>,
    ap: Vec<f64>,
}

impl CgBuf {
    fn new(d: usize) -> CgBuf {
        CgBuf {
            x: vec![0.0; d],
            r: vec![0.0; d],
            p: vec![0.0; d],
            ap: vec![0.0; d],
        }
    }
}

/// `out = (G + λI + Σ (c_i − 1) y_i y_iᵀ) v`
fn apply(
    out: &mut [f64],
    v: &[f64],
    y: &[f32],
    items: &[u32],
    w: &[f32],
    g: &[f64],
    p: &AlsParams,
) {
    let d = v.len();
    for a in 0..d {
        out[a] = g[a * d..(a + 1) * d]
            .iter()
            .zip(v)
            .map(|(x, y)| x * y)
            .sum::<f64>()
            + p.lambda as f64 * v[a];
    }
    for (i, r) in items.iter().zip(w) {
        let yi = &y[*i as usize * d..(*i as usize + 1) * d];
        let s = p.alpha as f64 * *r as f64 * dot(yi, v);
        for (o, yv) in out.iter_mut().zip(yi) {
            *o += s * *yv as f64;
        }
    }
}

fn solve_row(
    xu: &mut [f32],
    y: &[f32],
    items: &[u32],
    w: &[f32],
    g: &[f64],
    p: &AlsParams,
    b: &mut CgBuf,
) {
    let d = xu.len();
    if items.is_empty() {
        xu.fill(0.0);
        return;
    }
    for (a, v) in b.x.iter_mut().zip(xu.iter()) {
        *a = *v as f64;
    }
    // r = rhs − A x, rhs = Σ c_i y_i
    apply(&mut b.ap, &b.x, y, items, w, g, p);
    b.r.iter_mut().zip(&b.ap).for_each(|(r, ax)| *r = -ax);
    for (i, r) in items.iter().zip(w) {
        let c = 1.0 + p.alpha as f64 * *r as f64;
        for (rr, yv) in
            b.r.iter_mut()
                .zip(&y[*i as usize * d..(*i as usize + 1) * d])
        {
            *rr += c * *yv as f64;
        }
    }
    b.p.copy_from_slice(&b.r);
    let mut rs: f64 = b.r.iter().map(|v| v * v).sum();
    for _ in 0..p.cg_steps {
        if rs < 1e-20 {
            break;
        }
        apply(&mut b.ap, &b.p, y, items, w, g, p);
        let pap: f64 = b.p.iter().zip(&b.ap).map(|(a, c)| a * c).sum();
        if pap <= 0.0 {
            break;
        }
        let step = rs / pap;
        for k in 0..d {
            b.x[k] += step * b.p[k];
            b.r[k] -= step * b.ap[k];
        }
        let rs_new: f64 = b.r.iter().map(|v| v * v).sum();
        for k in 0..d {
            b.p[k] = b.r[k] + rs_new / rs * b.p[k];
        }
        rs = rs_new;
    }
    for (o, v) in xu.iter_mut().zip(&b.x) {
        *o = *v as f32;
    }
}

/// Trained factors, row-major.
pub struct Factors {
    pub users: Vec<f32>,
    pub items: Vec<f32>,
}

/// Trains on a users × items weight matrix; `on_iter(i)` is called after each iteration.
pub fn train(r: &Csr, p: &AlsParams, mut on_iter: impl FnMut(usize, &Factors)) -> Factors {
    let d = p.factors;
    let mut s = p.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32 * 0.02
    };
    let mut f = Factors {
        users: (0..r.rows * d).map(|_| rnd()).collect(),
        items: (0..r.cols * d).map(|_| rnd()).collect(),
    };
    let rt = r.transpose();
    for it in 0..p.iterations {
        half_step(&mut f.users, &f.items, r, p);
        half_step(&mut f.items, &f.users, &rt, p);
        on_iter(it, &f);
    }
    // end on a user step so trained users equal an exact fold-in up to CG tolerance
    half_step(&mut f.users, &f.items, r, p);
    f
}

/// The implicit-ALS loss `Σ_u Σ_i c_ui (p_ui − x_u·y_i)² + λ(|X|² + |Y|²)`, computed with the
/// Gramian trick (no dense pass over all pairs).
pub fn loss(r: &Csr, f: &Factors, p: &AlsParams) -> f64 {
    let d = p.factors;
    let g = gram(&f.items, d);
    let mut total = 0.0;
    for u in 0..r.rows {
        let xu = &f.users[u * d..(u + 1) * d];
        let xd: Vec<f64> = xu.iter().map(|v| *v as f64).collect();
        // Σ_i (x·y_i)² over all items = xᵀ G x
        let gx: f64 = (0..d)
            .map(|a| {
                xd[a]
                    * g[a * d..(a + 1) * d]
                        .iter()
                        .zip(&xd)
                        .map(|(x, y)| x * y)
                        .sum::<f64>()
            })
            .sum();
        total += gx;
        let (items, w) = r.row(u);
        for (i, rv) in items.iter().zip(w) {
            let s = dot(&f.items[*i as usize * d..(*i as usize + 1) * d], &xd);
            let c = 1.0 + p.alpha as f64 * *rv as f64;
            total += c * (1.0 - s) * (1.0 - s) - s * s;
        }
    }
    let reg: f64 = f
        .users
        .iter()
        .chain(&f.items)
        .map(|v| (*v as f64) * (*v as f64))
        .sum();
    total + p.lambda as f64 * reg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_sums_duplicates_and_transposes() {
        let m = Csr::from_triples(
            3,
            4,
            vec![
                (0, 1, 1.0),
                (2, 3, 2.0),
                (0, 1, 0.5),
                (0, 0, 1.0),
                (2, 0, 1.0),
            ],
        );
        assert_eq!(m.row(0), (&[0u32, 1][..], &[1.0f32, 1.5][..]));
        assert_eq!(m.row(1).0.len(), 0);
        let t = m.transpose();
        assert_eq!(t.row(0), (&[0u32, 2][..], &[1.0f32, 1.0][..]));
        assert_eq!(t.row(3), (&[2u32][..], &[2.0f32][..]));
    }

    #[test]
    fn loss_decreases_and_fits_the_observed_pairs() {
        // two blocks of users × items: a rank-2 structure ALS must recover
        let mut t = Vec::new();
        for u in 0..40u32 {
            for i in 0..30u32 {
                if (u < 20) == (i < 15) && (u * 7 + i * 3) % 4 != 0 {
                    t.push((u, i, 1.0));
                }
            }
        }
        let r = Csr::from_triples(40, 30, t);
        let p = AlsParams {
            factors: 4,
            iterations: 8,
            threads: 2,
            ..AlsParams::default()
        };
        let mut losses = Vec::new();
        let f = train(&r, &p, |_, f| losses.push(loss(&r, f, &p)));
        assert!(
            losses.windows(2).all(|w| w[1] <= w[0] * 1.001),
            "{losses:?}"
        );
        // observed pairs score high, cross-block pairs low
        let s = |u: usize, i: usize| -> f32 {
            (0..4)
                .map(|k| f.users[u * 4 + k] * f.items[i * 4 + k])
                .sum()
        };
        assert!(
            s(0, 1) > 0.5 && s(25, 20) > 0.5,
            "{} {}",
            s(0, 1),
            s(25, 20)
        );
        assert!(s(0, 20).abs() < 0.2 && s(25, 1).abs() < 0.2);
    }
}

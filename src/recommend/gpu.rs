//! Recommendation scoring and top-k on the GPU (feature `webgpu`): the item table is uploaded
//! once (f32; f16 and int8 tables are dequantized on upload), each query uploads its user vector
//! and optional candidate mask, runs `rec_scores` and rounds of `rec_topk` until one workgroup
//! remains, and reads back only the k best (score, item) pairs. The CPU path
//! ([`super::Recommender::recommend_vector`]) is its twin; the parity tests below compare them.
//! Ties go to the smaller item index on the GPU and to the smaller id on the CPU: the same order
//! for bundles whose items are sorted by id (the CLI writes them so).

use super::Query;
use super::Recommender;
use crate::backend::webgpu::dispatch::{grid, no_consts};
use crate::backend::webgpu::{GpuDevice, GpuTensor, Recorder, Shader};
use crate::bundle::Metric;
use crate::error::{Error, Result};
use std::sync::Arc;

/// `shaders/rec_scores.wgsl`: one score per item.
static REC_SCORES: Shader = Shader {
    name: "rec_scores",
    src: include_str!("../../shaders/rec_scores.wgsl"),
    consts: no_consts,
};

/// `shaders/rec_topk.wgsl`: one top-k round.
static REC_TOPK: Shader = Shader {
    name: "rec_topk",
    src: include_str!("../../shaders/rec_topk.wgsl"),
    consts: no_consts,
};

#[derive(Clone, Copy)]
#[repr(C)]
struct ScoresParams {
    n: u32,
    d: u32,
    has_bias: u32,
    has_mask: u32,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct TopkParams {
    n: u32,
    k: u32,
    has_idx: u32,
    _pad: u32,
}

/// Records the scores of every item: `table` `[n, d]` · `q` `[d]` (+ `bias` `[n]`), `f32::MIN`
/// where the candidate `mask` (u32 words, bit i = item i) is clear.
fn rec_scores(
    dev: &GpuDevice,
    rec: &mut Recorder,
    table: &GpuTensor,
    q: &GpuTensor,
    bias: Option<&GpuTensor>,
    mask: Option<&GpuTensor>,
) -> Result<GpuTensor> {
    let (n, d) = (table.shape[0], table.shape[1]);
    let out = dev.alloc(&[n])?;
    let dummy = dev.alloc(&[1])?;
    let (gx, gy) = grid(n.div_ceil(64))?;
    let u = dev.uniform(&ScoresParams {
        n: n as u32,
        d: d as u32,
        has_bias: bias.is_some() as u32,
        has_mask: mask.is_some() as u32,
    });
    let b = bias.map_or(&dummy.buf, |b| &b.buf);
    let m = mask.map_or(&dummy.buf, |m| &m.buf);
    dev.dispatch(
        rec,
        &REC_SCORES,
        &[&table.buf, &q.buf, b, m, &out.buf, &u],
        (gx, gy, 1),
    )?;
    Ok(out)
}

/// Candidates one `rec_topk` workgroup reduces to its best `k`.
const REC_TOPK_CHUNK: usize = 256 * 8;

/// Records one top-k round: the best `k` (≤ 64) of every chunk of [`REC_TOPK_CHUNK`]
/// candidates, as (scores, item indices as u32 bits). `idx` is `None` on the first round
/// (positions are item indices).
fn rec_topk(
    dev: &GpuDevice,
    rec: &mut Recorder,
    vals: &GpuTensor,
    idx: Option<&GpuTensor>,
    n: usize,
    k: usize,
) -> Result<(GpuTensor, GpuTensor)> {
    if k == 0 || k > 64 {
        return Err(Error::Argument(format!(
            "GPU top-k needs 1 <= k <= 64, got {k}"
        )));
    }
    let groups = n.div_ceil(REC_TOPK_CHUNK).max(1);
    let (out_v, out_i) = (dev.alloc(&[groups * k])?, dev.alloc(&[groups * k])?);
    let dummy = dev.alloc(&[1])?;
    let (gx, gy) = grid(groups)?;
    let u = dev.uniform(&TopkParams {
        n: n as u32,
        k: k as u32,
        has_idx: idx.is_some() as u32,
        _pad: 0,
    });
    let i = idx.map_or(&dummy.buf, |i| &i.buf);
    dev.dispatch(
        rec,
        &REC_TOPK,
        &[&vals.buf, i, &out_v.buf, &out_i.buf, &u],
        (gx, gy, 1),
    )?;
    Ok((out_v, out_i))
}

/// A recommender's table resident on the GPU.
pub struct GpuScorer {
    dev: Arc<GpuDevice>,
    table: GpuTensor,
    bias: Option<GpuTensor>,
    n: usize,
    d: usize,
}

impl GpuScorer {
    /// Uploads `rec`'s table (and bias) to `dev`.
    pub fn new(rec: &Recommender, dev: Arc<GpuDevice>) -> Result<GpuScorer> {
        if rec.manifest().metric != Metric::Dot {
            return Err(Error::unsupported(
                "GPU scoring covers the dot metric; this bundle uses cosine (the CPU path handles it)",
            ));
        }
        let (n, d) = (rec.len(), rec.dim());
        let mut all = vec![0f32; n * d];
        for (j, row) in all.chunks_exact_mut(d).enumerate() {
            rec.row_into(j as u32, row);
        }
        let table = dev.upload(&[n, d], &all)?;
        let bias = rec.bias().map(|b| dev.upload(&[n], b)).transpose()?;
        Ok(GpuScorer {
            dev,
            table,
            bias,
            n,
            d,
        })
    }

    /// The device the table lives on.
    pub fn device(&self) -> &Arc<GpuDevice> {
        &self.dev
    }

    /// The `k` best items for user vector `x` among the candidates of `mask` (bit i = item i;
    /// `None` = every item), best first.
    pub async fn top_k_async(
        &self,
        x: &[f32],
        k: usize,
        mask: Option<&[u64]>,
    ) -> Result<Vec<(u32, f32)>> {
        if x.len() != self.d {
            return Err(Error::Argument(format!(
                "user vector has {} values, this recommender's dimension is {}",
                x.len(),
                self.d
            )));
        }
        let dev = &self.dev;
        if let Some(why) = dev.lost() {
            return Err(Error::Gpu(format!("the GPU device was lost ({why})")));
        }
        let mut rec = dev.encoder();
        let q = dev.upload(&[self.d], x)?;
        let mask_t = match mask {
            None => None,
            Some(m) => {
                let words: Vec<u32> = m
                    .iter()
                    .flat_map(|w| [*w as u32, (*w >> 32) as u32])
                    .collect();
                Some(dev.upload(&[words.len()], bytemuck::cast_slice(&words))?)
            }
        };
        let scores = rec_scores(
            dev,
            &mut rec,
            &self.table,
            &q,
            self.bias.as_ref(),
            mask_t.as_ref(),
        )?;
        let (mut v, mut i) = rec_topk(dev, &mut rec, &scores, None, self.n, k)?;
        let mut n = self.n.div_ceil(REC_TOPK_CHUNK).max(1) * k;
        while n > k {
            let (v2, i2) = rec_topk(dev, &mut rec, &v, Some(&i), n, k)?;
            n = n.div_ceil(REC_TOPK_CHUNK).max(1) * k;
            (v, i) = (v2, i2);
        }
        let vals = dev.download_async(rec, &v).await?;
        let idx = dev.download_async(dev.encoder(), &i).await?;
        // an error the browser reported meanwhile (a rejected shader) makes the results void
        if let Some(why) = dev.lost() {
            return Err(Error::Gpu(format!("the GPU device was lost ({why})")));
        }
        Ok(vals
            .as_f32()?
            .iter()
            .zip(idx.as_f32()?)
            .map(|(s, i)| (i.to_bits(), *s))
            .filter(|(i, s)| *i != u32::MAX && *s != f32::MIN)
            .collect())
    }

    /// [`GpuScorer::top_k_async`], blocking (native).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn top_k(&self, x: &[f32], k: usize, mask: Option<&[u64]>) -> Result<Vec<(u32, f32)>> {
        crate::backend::webgpu::block_on(self.top_k_async(x, k, mask))
    }

    /// [`Recommender::select`]'s twin: top-k for a query's filters, rules and boosts (`seen`
    /// lists items to leave out) scored on the GPU. Boosted items are scored on the CPU and
    /// merged, and diversity (MMR) re-ranks the GPU's candidate pool on the CPU, as the CPU path
    /// does. A pool beyond the GPU kernel's 64 (k > 64, or k > 16 with diversity) is scanned on
    /// the CPU.
    pub async fn select_async(
        &self,
        rec: &Recommender,
        x: &[f32],
        q: &Query,
        seen: &[u32],
    ) -> Result<Vec<(u32, f32)>> {
        let pool = Recommender::pool(q);
        if pool > 64 {
            return rec.select(x, q, seen);
        }
        let (mask, boosts) = rec.candidate_mask(q, seen)?;
        let mut top = self.top_k_async(x, pool, mask.as_deref()).await?;
        if !boosts.is_empty() {
            top.extend(boosts.iter().map(|&(j, b)| (j, rec.score_f32(x, j) + b)));
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(pool);
        }
        Ok(rec.diversify(top, q))
    }

    /// [`GpuScorer::select_async`], blocking (native).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn recommend_vector(
        &self,
        rec: &Recommender,
        x: &[f32],
        q: &Query,
        seen: &[u32],
    ) -> Result<Vec<(u32, f32)>> {
        crate::backend::webgpu::block_on(self.select_async(rec, x, q, seen))
    }
}

/// The GPU scan's exact twin on the CPU: every item scored in f32 against the table as
/// [`GpuScorer`] uploads it (f16 and int8 rows dequantized; the CPU's int8 kernel quantizes the
/// query instead, so its scores differ by that rounding), top-`k` with ties to the smaller index.
pub fn reference_top_k(rec: &Recommender, x: &[f32], k: usize) -> Vec<(u32, f32)> {
    let rank: Vec<u32> = (0..rec.len() as u32).collect();
    super::topk::top_k(&rec.scores_f32(x), None, k, &rank)
}

/// Whether a GPU top-k agrees with the CPU's: the same length and, at each rank, the same item
/// or a near-tie (|Δ| ≤ 1e-5 + 1e-5·|score|: f32 sums in another order); `Err` says where they
/// part. The browser checks a probe query with it before trusting the GPU, and the tests use it.
pub fn same_ranking(gpu: &[(u32, f32)], cpu: &[(u32, f32)]) -> std::result::Result<(), String> {
    if gpu.len() != cpu.len() {
        return Err(format!("{} results vs {}", gpu.len(), cpu.len()));
    }
    for (r, (g, c)) in gpu.iter().zip(cpu).enumerate() {
        let tol = 1e-5 + 1e-5 * c.1.abs();
        let twin = cpu.iter().find(|x| x.0 == g.0);
        if (g.1 - c.1).abs() > tol || twin.is_none_or(|t| (t.1 - c.1).abs() > tol) {
            return Err(format!(
                "rank {r}: item {} score {} vs item {} score {}",
                g.0, g.1, c.0, c.1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BundleWriter, FoldIn, ItemMeta, Manifest, TableDType, FORMAT, VERSION};
    use crate::recommend::Filter;

    fn bundle(n: usize, d: usize, seed: u64, dtype: TableDType, bias: bool) -> Recommender {
        let mut rng = crate::testing::Rng::new(seed);
        let mut r = move || rng.f32_in(-0.5, 0.5);
        let items = (0..n)
            .map(|i| ItemMeta {
                id: format!("{i:08}"),
                category: Some(["A", "B", "C"][i % 3].into()),
                ..Default::default()
            })
            .collect();
        let w = BundleWriter {
            manifest: Manifest {
                format: FORMAT.into(),
                version: VERSION,
                dim: d,
                metric: Metric::Dot,
                items,
                fold_in: FoldIn::default(),
                attribution: vec![],
                source: None,
            },
            factors: (0..n * d).map(|_| r()).collect(),
            dtype,
            bias: bias.then(|| (0..n).map(|_| r() * 0.1).collect()),
            popularity: None,
            user_model: None,
        };
        Recommender::from_bytes(&w.to_bytes().unwrap()).unwrap()
    }

    fn dev() -> Arc<GpuDevice> {
        GpuDevice::shared()
            .expect("a GPU adapter (apt-get install mesa-vulkan-drivers for lavapipe)")
    }

    /// GPU top-k equals the CPU's: same items in the same order, scores within 1e-5 + 1e-5·|s|
    /// (the GPU sums a row in another order); an order swap is accepted only between scores
    /// closer than that tolerance.
    fn check(gpu: &[(u32, f32)], cpu: &[(u32, f32)], what: &str) {
        if let Err(e) = same_ranking(gpu, cpu) {
            panic!("{what}: {e}\n gpu {gpu:?}\n cpu {cpu:?}");
        }
    }

    #[test]
    fn same_ranking_accepts_near_ties_only() {
        let cpu = [(1, 0.5), (2, 0.4), (3, 0.4)];
        assert!(same_ranking(&cpu, &cpu).is_ok());
        assert!(same_ranking(&[(1, 0.5), (3, 0.400001), (2, 0.4)], &cpu).is_ok());
        assert!(same_ranking(&[(1, 0.5), (3, 0.4)], &cpu).is_err(), "length");
        assert!(
            same_ranking(&[(2, 0.4), (1, 0.5), (3, 0.4)], &cpu).is_err(),
            "a swap beyond a tie"
        );
        assert!(
            same_ranking(&[(1, 0.5), (2, 0.4), (9, 0.4)], &cpu).is_err(),
            "an item outside the CPU's top-k"
        );
        assert!(
            same_ranking(&[(0, 0.0), (0, 0.0), (0, 0.0)], &cpu).is_err(),
            "a scan that did not run"
        );
    }

    #[test]
    fn gpu_top_k_matches_the_cpu_for_every_table_size_and_filter() {
        let dev = dev();
        // one round (≤ 2048 items), two rounds, three rounds; with and without bias; int8 table
        for (n, d, k, dtype, bias) in [
            (700, 16, 10, TableDType::F32, false),
            (20_000, 64, 10, TableDType::F32, true),
            (600_000, 8, 33, TableDType::F32, false),
            (5_000, 32, 64, TableDType::I8, true),
        ] {
            let rec = bundle(n, d, n as u64 + 7, dtype, bias);
            let gpu = GpuScorer::new(&rec, dev.clone()).unwrap();
            let mut rng = crate::testing::Rng::new(99);
            for t in 0..3 {
                let x: Vec<f32> = rng.f32s(d, -0.5, 0.5);
                // the CPU twin scores the same dequantized table in f32 (not the int8 kernel's
                // quantized query)
                let scores = rec.scores_f32(&x);
                let q = Query {
                    k,
                    exclude_seen: false,
                    ..Query::default()
                };
                let cpu = reference_top_k(&rec, &x, k);
                let got = gpu.recommend_vector(&rec, &x, &q, &[]).unwrap();
                check(
                    &got,
                    &cpu,
                    &format!("n={n} d={d} k={k} {dtype:?} query {t}"),
                );
                // a filter and seen items through the mask
                let qf = Query {
                    k,
                    filter: Filter {
                        categories: vec!["B".into()],
                        ..Default::default()
                    },
                    ..Query::default()
                };
                let seen: Vec<u32> = (0..n as u32).filter(|j| j % 3 == 1).take(5).collect();
                let mask = rec.candidate_mask(&qf, &seen).unwrap().0.unwrap();
                let cpu = super::super::topk::top_k(
                    &scores,
                    Some(&mask),
                    k,
                    &(0..n as u32).collect::<Vec<_>>(),
                );
                let got = gpu.recommend_vector(&rec, &x, &qf, &seen).unwrap();
                check(&got, &cpu, &format!("n={n} filtered, query {t}"));
                assert!(got.iter().all(|(j, _)| j % 3 == 1 && !seen.contains(j)));
            }
        }
    }

    #[test]
    fn fewer_candidates_than_k_and_bad_arguments() {
        let dev = dev();
        let rec = bundle(300, 8, 5, TableDType::F32, false);
        let gpu = GpuScorer::new(&rec, dev).unwrap();
        let allow: Vec<String> = (0..4).map(|i| rec.id(i * 7).to_string()).collect();
        let q = Query {
            k: 10,
            allow: Some(allow),
            ..Query::default()
        };
        let got = gpu.recommend_vector(&rec, &[0.1; 8], &q, &[]).unwrap();
        assert_eq!(got.len(), 4, "only the 4 allowed items: {got:?}");
        // boosts merge like the CPU path's
        let target = 123u32;
        let qb = Query {
            k: 3,
            boost: vec![(rec.id(target).to_string(), 1e3)],
            ..Query::default()
        };
        let got = gpu.recommend_vector(&rec, &[0.1; 8], &qb, &[]).unwrap();
        let cpu = rec.recommend_vector(&[0.1; 8], &qb).unwrap();
        assert_eq!(got[0].0, target);
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            cpu.iter().map(|c| c.item).collect::<Vec<_>>()
        );
        assert_eq!(
            gpu.top_k(&[0.0; 7], 5, None).err().unwrap().code(),
            "ARGUMENT"
        );
        assert_eq!(
            gpu.top_k(&[0.0; 8], 65, None).err().unwrap().code(),
            "ARGUMENT"
        );
    }

    #[test]
    fn profile_recommendations_on_the_gpu_match_the_cpu_with_diversity_and_explanations() {
        use crate::recommend::{Event, Profile, Staged};
        let dev = dev();
        let rec = bundle(3_000, 16, 11, TableDType::F32, true);
        let gpu = GpuScorer::new(&rec, dev).unwrap();
        let mut p = Profile::new(rec.dim());
        for (t, j) in [5u32, 17, 900, 1_234].into_iter().enumerate() {
            let e = Event {
                item: rec.id(j).to_string(),
                kind: "view".into(),
                weight: None,
                ts: Some(t as f64),
            };
            p.record(&rec, e).unwrap();
        }
        // k 10 plain, k 10 with diversity (pool 42 on the GPU), k 20 with diversity (pool 80:
        // the CPU scan), and a filter
        for (k, diversity, cat) in [
            (10, 0.0, None),
            (10, 0.4, None),
            (20, 0.3, None),
            (8, 0.0, Some("A")),
        ] {
            let q = Query {
                k,
                diversity,
                filter: Filter {
                    categories: cat.into_iter().map(String::from).collect(),
                    ..Default::default()
                },
                now: Some(10.0),
                ..Query::default()
            };
            let cpu = rec.recommend(&mut p, &q).unwrap();
            let Staged::Vector { folded, seen } = rec.stage(&mut p, &q).unwrap() else {
                panic!("the profile has catalog events")
            };
            let picks = block_on_select(&gpu, &rec, &folded.x, &q, &seen);
            let got = rec.explain(&folded, picks, &q);
            let what = format!("k={k} diversity={diversity} category={cat:?}");
            check(
                &got.iter().map(|r| (r.item, r.score)).collect::<Vec<_>>(),
                &cpu.iter().map(|r| (r.item, r.score)).collect::<Vec<_>>(),
                &what,
            );
            for (g, c) in got.iter().zip(&cpu) {
                if g.item == c.item {
                    assert_eq!(g.because, c.because, "{what}: explanations");
                }
            }
            assert!(
                got.iter().all(|r| !seen.contains(&r.item)),
                "{what}: seen items left out"
            );
        }
    }

    fn block_on_select(
        gpu: &GpuScorer,
        rec: &Recommender,
        x: &[f32],
        q: &Query,
        seen: &[u32],
    ) -> Vec<(u32, f32)> {
        crate::backend::webgpu::block_on(gpu.select_async(rec, x, q, seen)).unwrap()
    }
}

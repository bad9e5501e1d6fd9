//! Recommendation scoring and top-k on the GPU (feature `webgpu`): the item table is uploaded
//! once (f32; f16 and int8 tables are dequantized on upload), each query uploads its user vector
//! and optional candidate mask, runs `rec_scores` and rounds of `rec_topk` until one workgroup
//! remains, and reads back only the k best (score, item) pairs. The CPU path
//! ([`super::Recommender::recommend_vector`]) is its twin; the parity tests below compare them.
//! Ties go to the smaller item index on the GPU and to the smaller id on the CPU: the same order
//! for bundles whose items are sorted by id (the CLI writes them so).

#[cfg(not(target_arch = "wasm32"))]
use super::Query;
use super::Recommender;
use crate::backend::webgpu::kernels::{self, REC_TOPK_CHUNK};
use crate::backend::webgpu::{GpuDevice, GpuTensor};
use crate::bundle::Metric;
use crate::error::{Error, Result};
use std::sync::Arc;

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
        let scores = kernels::rec_scores(
            dev,
            &mut rec,
            &self.table,
            &q,
            self.bias.as_ref(),
            mask_t.as_ref(),
        )?;
        let (mut v, mut i) = kernels::rec_topk(dev, &mut rec, &scores, None, self.n, k)?;
        let mut n = self.n.div_ceil(REC_TOPK_CHUNK).max(1) * k;
        while n > k {
            let (v2, i2) = kernels::rec_topk(dev, &mut rec, &v, Some(&i), n, k)?;
            n = n.div_ceil(REC_TOPK_CHUNK).max(1) * k;
            (v, i) = (v2, i2);
        }
        let vals = dev.download_async(rec, &v).await?;
        let idx = dev.download_async(dev.encoder(), &i).await?;
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

    /// Top-k for a query's filters, rules and boosts (`seen` lists items to leave out); boosted
    /// items are scored on the CPU and merged, as the CPU path does. Diversity re-ranking stays
    /// on the CPU path. Blocking (native); the browser side is not wired yet.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn recommend_vector(
        &self,
        rec: &Recommender,
        x: &[f32],
        q: &Query,
        seen: &[u32],
    ) -> Result<Vec<(u32, f32)>> {
        if q.diversity > 0.0 {
            return Err(Error::unsupported(
                "diversity (MMR) re-ranking runs on the CPU path",
            ));
        }
        let (mask, boosts) = rec.candidate_mask(q, seen)?;
        let mut top = self.top_k(x, q.k, mask.as_deref())?;
        if !boosts.is_empty() {
            top.extend(boosts.iter().map(|&(j, b)| (j, rec.score_f32(x, j) + b)));
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(q.k);
        }
        Ok(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BundleWriter, FoldIn, ItemMeta, Manifest, TableDType, FORMAT, VERSION};
    use crate::recommend::Filter;

    fn bundle(n: usize, d: usize, seed: u64, dtype: TableDType, bias: bool) -> Recommender {
        let mut s = seed | 1;
        let mut r = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
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
        assert_eq!(gpu.len(), cpu.len(), "{what}: lengths");
        for (r, (g, c)) in gpu.iter().zip(cpu).enumerate() {
            let tol = 1e-5 + 1e-5 * c.1.abs();
            assert!(
                (g.1 - c.1).abs() <= tol,
                "{what} rank {r}: gpu {g:?} cpu {c:?}"
            );
            if g.0 != c.0 {
                let other = cpu
                    .iter()
                    .find(|x| x.0 == g.0)
                    .unwrap_or_else(|| panic!("{what}: gpu picked {g:?}, not in the cpu top-k"));
                assert!(
                    (other.1 - c.1).abs() <= tol,
                    "{what} rank {r}: order differs beyond a near-tie"
                );
            }
        }
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
            let mut s = 99u64;
            for t in 0..3 {
                let x: Vec<f32> = (0..d)
                    .map(|_| {
                        s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                        (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                    })
                    .collect();
                // the CPU twin scores the same dequantized table in f32 (not the int8 kernel's
                // quantized query)
                let scores: Vec<f32> = (0..n as u32).map(|j| rec.score_f32(&x, j)).collect();
                let q = Query {
                    k,
                    exclude_seen: false,
                    ..Query::default()
                };
                let cpu =
                    super::super::topk::top_k(&scores, None, k, &(0..n as u32).collect::<Vec<_>>());
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
}

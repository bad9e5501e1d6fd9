//! The int8 screening pass (`hearth::recommend::screen`) against the plain f32 scan: the same
//! top-k, scores bit for bit and ties by id, on Gaussian and adversarial tables (all-equal and
//! duplicated rows, huge, tiny and zero magnitudes), every k, with masks and monotone epilogues;
//! and a recommender with screening on against the same bundle with it off (filters, boosts,
//! MMR, explanations, cosine, biases).

mod common;

use common::{floats, int_attr, ints, model, node, value_info};
use hearth::bundle::{
    BundleWriter, FoldIn, ItemMeta, Manifest, Metric, TableDType, FORMAT, VERSION,
};
use hearth::recommend::kernels;
use hearth::recommend::screen::{Post, Screen};
use hearth::recommend::topk::{offer_all, TopK};
use hearth::recommend::{Event, Filter, Profile, Query, Recommender};
use hearth::testing::Rng;
use hearth::{Session, Tensor};

/// The plain scan: every (masked) row scored `post(j, dot_f32)` into a top-k.
fn plain(
    table: &[f32],
    x: &[f32],
    mask: Option<&[u64]>,
    k: usize,
    rank: &[u32],
    post: &dyn Fn(usize, f32) -> f32,
) -> Vec<(u32, f32)> {
    let d = x.len();
    let mut top = TopK::new(k, rank);
    offer_all(&mut top, table.len() / d, mask, |j| {
        post(j, kernels::dot_f32(&table[j * d..(j + 1) * d], x))
    });
    top.into_sorted()
}

#[allow(clippy::too_many_arguments)]
/// Screened top-k (the candidates rescored as the recommender does) and how many candidates,
/// or `None` where the screen declined the query.
fn screened(
    s: &Screen,
    table: &[f32],
    x: &[f32],
    mask: Option<&[u64]>,
    k: usize,
    rank: &[u32],
    post: Post,
    largest: bool,
) -> Option<(Vec<(u32, f32)>, usize)> {
    let d = x.len();
    let c = s.candidates(x, mask, k, largest, post)?;
    let mut top = TopK::new(k, rank);
    for &j in &c {
        let j = j as usize;
        let v = post.apply(j, kernels::dot_f32(&table[j * d..(j + 1) * d], x));
        // the smallest: the largest of the negated scores (negation is exact)
        let v = if largest { v } else { -v };
        if v >= top.threshold() {
            top.push(j as u32, v);
        }
    }
    Some((top.into_sorted(), c.len()))
}

fn bits(v: &[(u32, f32)]) -> Vec<(u32, u32)> {
    v.iter().map(|(j, s)| (*j, s.to_bits())).collect()
}

fn gaussian(r: &mut Rng, n: usize, sd: f64) -> Vec<f32> {
    (0..n).map(|_| (r.normal() * sd) as f32).collect()
}

/// Tables with `n` rows of `d` values, by name.
fn tables(n: usize, d: usize) -> Vec<(&'static str, Vec<f32>)> {
    let mut r = Rng(5);
    let mut out = vec![("gaussian", gaussian(&mut r, n * d, 0.1))];
    let row = gaussian(&mut r, d, 1.0);
    out.push((
        "all rows equal",
        row.iter().cycle().take(n * d).copied().collect(),
    ));
    let base = gaussian(&mut r, (n / 3 + 1) * d, 1.0);
    out.push((
        "rows in threes",
        (0..n)
            .flat_map(|j| base[(j / 3) * d..(j / 3 + 1) * d].to_vec())
            .collect(),
    ));
    out.push(("huge", gaussian(&mut r, n * d, 1e30)));
    out.push(("tiny and subnormal", gaussian(&mut r, n * d, 1e-39)));
    // every row on its own scale, from 1e-30 to 1e30, and every seventh row zero
    let mixed: Vec<f32> = (0..n)
        .flat_map(|j| {
            let scale = 10f64.powi((j % 61) as i32 - 30);
            let row = gaussian(&mut r, d, scale);
            if j % 7 == 0 {
                vec![0.0; d]
            } else {
                row
            }
        })
        .collect();
    out.push(("mixed magnitudes, zero rows", mixed));
    // few distinct small integers: exact ties everywhere
    out.push((
        "small integers",
        (0..n * d).map(|_| r.below(3) as f32 - 1.0).collect(),
    ));
    out
}

fn queries(d: usize) -> Vec<(&'static str, Vec<f32>)> {
    let mut r = Rng(17);
    let mut one_hot = vec![0f32; d];
    one_hot[d / 2] = 1.0;
    vec![
        ("uniform", r.f32s(d, -1.0, 1.0)),
        ("gaussian", gaussian(&mut r, d, 3.0)),
        ("zero", vec![0.0; d]),
        ("one-hot", one_hot),
        (
            "integers",
            (0..d).map(|_| r.below(5) as f32 - 2.0).collect(),
        ),
        ("huge", gaussian(&mut r, d, 1e20)),
        ("tiny", gaussian(&mut r, d, 1e-30)),
    ]
}

#[test]
fn screened_top_k_equals_the_plain_scan() {
    let mut r = Rng(99);
    for (n, d) in [(1000usize, 64usize), (700, 37), (300, 3)] {
        let mut rank: Vec<u32> = (0..n as u32).collect();
        r.shuffle(&mut rank);
        let mask: Vec<u64> = (0..n.div_ceil(64))
            .map(|_| r.next_u64() & r.next_u64())
            .collect();
        let bias: Vec<f32> = r.f32s(n, -0.5, 0.5);
        let norm: Vec<f32> = (0..n)
            .map(|j| {
                if j % 5 == 0 {
                    0.0
                } else {
                    0.5 + j as f32 * 1e-3
                }
            })
            .collect();
        for (tname, table) in tables(n, d) {
            let s = Screen::build(&table, d).expect("finite table");
            for (qname, x) in queries(d) {
                let cosine_bias = Post {
                    scale: 0.75,
                    norms: Some(&norm),
                    bias: Some(&bias),
                };
                let posts = [
                    ("identity", Post::default()),
                    ("cosine + bias", cosine_bias),
                ];
                for (pname, post) in posts {
                    // the smallest: offered with an identity epilogue only
                    let mut variants: Vec<(Option<&[u64]>, bool)> =
                        vec![(None, true), (Some(&mask[..]), true)];
                    if post.is_identity() {
                        variants.extend([(None, false), (Some(&mask[..]), false)]);
                    }
                    for k in [1, 2, 10, 64, n - 1, n, n + 5] {
                        for &(m, largest) in &variants {
                            let f = |j: usize, v: f32| post.apply(j, v);
                            let negated = |j: usize, v: f32| -post.apply(j, v);
                            let want = if largest {
                                plain(&table, &x, m, k, &rank, &f)
                            } else {
                                plain(&table, &x, m, k, &rank, &negated)
                            };
                            let what = format!(
                                "{tname} n={n} d={d}, query {qname}, {pname}, k={k}, mask {}, largest {largest}",
                                m.is_some()
                            );
                            match screened(&s, &table, &x, m, k, &rank, post, largest) {
                                Some((got, _)) => assert_eq!(bits(&got), bits(&want), "{what}"),
                                // declined only where the bound could overflow f32
                                None => {
                                    assert!(
                                        tname == "huge"
                                            || tname.starts_with("mixed")
                                            || qname == "huge",
                                        "{what}: declined"
                                    )
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The masked pass (a block with few candidates item by item, a denser one through the
/// four-wide bounds with the mask ANDed into their keep bits) at every density, with whole
/// blocks empty or full and a mask shorter than the table, against the plain scan.
#[test]
fn masked_screening_equals_the_plain_scan_at_every_density() {
    let mut r = Rng(123);
    let (n, d) = (5000usize, 48usize);
    let table = gaussian(&mut r, n * d, 0.1);
    let s = Screen::build(&table, d).unwrap();
    let mut rank: Vec<u32> = (0..n as u32).collect();
    r.shuffle(&mut rank);
    let words = n.div_ceil(64);
    let bias = r.f32s(n, -0.05, 0.05);
    let norms: Vec<f32> = (0..n).map(|j| 0.5 + (j % 13) as f32 * 0.1).collect();
    let mut masks: Vec<(String, Vec<u64>)> = Vec::new();
    for (name, keep_one_in) in [
        ("all", 1u64),
        ("1/2", 2),
        ("1/4", 4),
        ("1/5", 5),
        ("1/10", 10),
    ] {
        let m = (0..words)
            .map(|_| {
                (0..64).fold(0u64, |w, b| {
                    w | ((r.below(keep_one_in as usize) == 0) as u64) << b
                })
            })
            .collect();
        masks.push((name.into(), m));
    }
    masks.push((
        "1/300".into(),
        (0..words)
            .map(|w| if w % 5 == 0 { 1 << (w % 64) } else { 0 })
            .collect(),
    ));
    masks.push(("none".into(), vec![0; words]));
    // every other block of 256 full, the rest empty
    masks.push((
        "alternate blocks".into(),
        (0..words)
            .map(|w| if w / 4 % 2 == 0 { u64::MAX } else { 0 })
            .collect(),
    ));
    // a block at the density threshold (64 of 256), and one bit under it
    masks.push((
        "at the threshold".into(),
        (0..words)
            .map(|w| if w % 4 == 0 { u64::MAX } else { 0 })
            .collect(),
    ));
    masks.push((
        "under the threshold".into(),
        (0..words)
            .map(|w| if w % 4 == 0 { u64::MAX >> 1 } else { 0 })
            .collect(),
    ));
    masks.push(("short".into(), vec![u64::MAX; words / 2]));
    for (mname, m) in &masks {
        for (pname, post) in [
            ("identity", Post::default()),
            (
                "cosine + bias",
                Post {
                    scale: 0.9,
                    norms: Some(&norms),
                    bias: Some(&bias),
                },
            ),
        ] {
            for k in [1usize, 10, 100] {
                for largest in [true, false] {
                    if !largest && !post.is_identity() {
                        continue;
                    }
                    let x = r.f32s(d, -1.0, 1.0);
                    let f = |j: usize, v: f32| {
                        let v = post.apply(j, v);
                        if largest {
                            v
                        } else {
                            -v
                        }
                    };
                    let want = plain(&table, &x, Some(m), k, &rank, &f);
                    let (got, c) = screened(&s, &table, &x, Some(m), k, &rank, post, largest)
                        .expect("a finite table and query are screened");
                    let what = format!("mask {mname}, {pname}, k={k}, largest {largest}");
                    assert_eq!(bits(&got), bits(&want), "{what}");
                    if mname == "all" && k == 10 {
                        assert!(c < 200, "{what}: {c} candidates");
                    }
                }
            }
        }
    }
}

#[test]
fn non_finite_tables_are_not_screened() {
    let mut t = vec![0.5f32; 64 * 10];
    assert!(Screen::build(&t, 64).is_some());
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        t[100] = bad;
        assert!(Screen::build(&t, 64).is_none(), "{bad}");
    }
}

/// The bench's table (`benches/`: 100k × 64, N(0, 0.1²)) and queries (uniform in [-1, 1)),
/// when the cache has it: equality with the plain scan and how many rows the second pass
/// rescored.
#[test]
fn rescoring_on_the_bench_table_is_a_few_dozen_rows() {
    let Ok(cache) = std::env::var("HEARTH_CACHE") else {
        eprintln!("HEARTH_CACHE unset: skipped");
        return;
    };
    let path = std::path::Path::new(&cache).join("bench-models/rec_items.f32");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("{} missing: skipped", path.display());
        return;
    };
    let table: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let d = 64;
    let n = table.len() / d;
    let s = Screen::build(&table, d).unwrap();
    let rank: Vec<u32> = (0..n as u32).collect();
    let mut r = Rng(2024);
    let mut counts = Vec::new();
    for k in [10usize, 100] {
        for _ in 0..20 {
            let x = r.f32s(d, -1.0, 1.0);
            let want = plain(&table, &x, None, k, &rank, &|_, v| v);
            let (got, c) = screened(&s, &table, &x, None, k, &rank, Post::default(), true).unwrap();
            assert_eq!(bits(&got), bits(&want));
            counts.push((k, c));
        }
    }
    for k in [10usize, 100] {
        let c: Vec<usize> = counts.iter().filter(|c| c.0 == k).map(|c| c.1).collect();
        let mean = c.iter().sum::<usize>() as f64 / c.len() as f64;
        eprintln!(
            "bench table {n} × {d}, k = {k}: rows rescored per query mean {mean:.1}, max {}",
            c.iter().max().unwrap()
        );
        assert!(mean < 40.0 * k as f64, "k = {k}: {mean} rows rescored");
    }
}

fn bundle(n: usize, d: usize, metric: Metric, bias: bool) -> Vec<u8> {
    bundle_of(n, d, metric, bias, TableDType::F32)
}

fn bundle_of(n: usize, d: usize, metric: Metric, bias: bool, dtype: TableDType) -> Vec<u8> {
    let mut r = Rng(31);
    let cats = ["A", "B", "C"];
    let items: Vec<ItemMeta> = (0..n)
        .map(|i| ItemMeta {
            id: format!("I{:05}", (i * 7919) % 100_003),
            category: Some(cats[i % 3].to_string()),
            price: Some((i % 40) as f64),
            in_stock: Some(i % 4 != 0),
            ..Default::default()
        })
        .collect();
    // clustered factors with duplicated rows: near-ties and exact ties
    let centers: Vec<Vec<f32>> = (0..8).map(|_| r.f32s(d, -1.0, 1.0)).collect();
    let mut factors = Vec::with_capacity(n * d);
    for i in 0..n {
        if i % 50 == 1 {
            let prev = factors[(i - 1) * d..i * d].to_vec();
            factors.extend(prev);
        } else {
            factors.extend(
                centers[i % 8]
                    .iter()
                    .map(|c| 0.2 * c + 0.1 * r.f32_in(-1.0, 1.0)),
            );
        }
    }
    BundleWriter {
        manifest: Manifest {
            format: FORMAT.into(),
            version: VERSION,
            dim: d,
            metric,
            items,
            fold_in: FoldIn::default(),
            attribution: vec!["test data".into()],
            source: None,
        },
        factors,
        dtype,
        bias: bias.then(|| r.f32s(n, -0.05, 0.05)),
        popularity: None,
        user_model: None,
    }
    .to_bytes()
    .unwrap()
}

#[test]
fn recommender_results_are_identical_with_and_without_screening() {
    let (n, d) = (6000, 32);
    for (metric, bias) in [
        (Metric::Dot, false),
        (Metric::Dot, true),
        (Metric::Cosine, true),
    ] {
        let bytes = bundle(n, d, metric, bias);
        let on = Recommender::from_bytes(&bytes).unwrap();
        let mut off = Recommender::from_bytes(&bytes).unwrap();
        off.set_screening(false);
        let mut r = Rng(8);
        let queries = [
            Query {
                k: 1,
                ..Query::default()
            },
            Query {
                k: 10,
                ..Query::default()
            },
            Query {
                k: 300,
                ..Query::default()
            },
            Query {
                k: 10,
                diversity: 0.4,
                ..Query::default()
            },
            Query {
                k: 20,
                filter: Filter {
                    categories: vec!["B".into()],
                    price_max: Some(30.0),
                    in_stock: Some(true),
                    ..Filter::default()
                },
                deny: vec![on.id(3).to_string()],
                boost: vec![
                    (on.id(17).to_string(), 0.5),
                    (on.id(4000).to_string(), -0.2),
                ],
                ..Query::default()
            },
        ];
        for q in &queries {
            for _ in 0..3 {
                let x = r.f32s(d, -1.0, 1.0);
                let a = on.recommend_vector(&x, q).unwrap();
                let b = off.recommend_vector(&x, q).unwrap();
                let key = |v: &[hearth::recommend::Recommendation]| {
                    v.iter()
                        .map(|r| (r.item, r.score.to_bits()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(key(&a), key(&b), "{metric:?} bias {bias} {q:?}");
            }
            let (sa, sb) = (
                on.similar(on.id(11), q).unwrap(),
                off.similar(off.id(11), q).unwrap(),
            );
            assert_eq!(bits(&sa), bits(&sb), "similar, {metric:?} {q:?}");
            // a profile: fold-in, seen items left out, explanations
            let mut p = Profile::new(d);
            for (t, j) in [5usize, 99, 1234, 5555].iter().enumerate() {
                let e = Event {
                    item: on.id(*j as u32).to_string(),
                    kind: "purchase".into(),
                    weight: None,
                    ts: Some(t as f64),
                };
                p.record(&on, e).unwrap();
            }
            let mut p2 = p.clone();
            assert_eq!(
                on.recommend(&mut p, q).unwrap(),
                off.recommend(&mut p2, q).unwrap()
            );
        }
    }
}

/// `A [rows…, K] · B [K, N] → TopK(k, axis -1, largest)`; with `expose` the product is also a
/// graph output, which keeps the pair unfused (the reference).
fn retrieval_model(
    a_dims: &[i64],
    b: &[f32],
    n: usize,
    k: i64,
    largest: bool,
    expose: bool,
) -> Vec<u8> {
    let kd = b.len() / n;
    let mut tk = node("TopK", &["scores", "k"], &["values", "indices"]);
    tk.attribute = vec![int_attr("axis", -1), int_attr("largest", largest as i64)];
    let mut outputs = vec![value_info("values", 1, &[]), value_info("indices", 7, &[])];
    if expose {
        outputs.push(value_info("scores", 1, &[]));
    }
    let dims: Vec<Result<i64, &str>> = a_dims.iter().map(|d| Ok(*d)).collect();
    model(
        vec![node("MatMul", &["a", "b"], &["scores"]), tk],
        vec![
            floats("b", &[kd as i64, n as i64], b),
            ints("k", &[1], &[k]),
        ],
        vec![value_info("a", 1, &dims)],
        outputs,
    )
}

fn ops(s: &Session) -> Vec<&'static str> {
    s.graph().nodes.iter().map(|n| n.op.name()).collect()
}

#[test]
fn fused_matmul_topk_equals_the_unfused_graph() {
    let (kd, n) = (64usize, 20_000usize);
    let mut r = Rng(4242);
    let gauss = gaussian(&mut r, kd * n, 0.1);
    // columns in pairs (exact ties), every 97th column zero
    let mut ties = gaussian(&mut r, kd * n, 1.0);
    for p in 0..kd {
        for j in 0..n {
            if j % 2 == 1 {
                ties[p * n + j] = ties[p * n + j - 1];
            }
            if j % 97 == 0 {
                ties[p * n + j] = 0.0;
            }
        }
    }
    for (bname, b) in [("gaussian", &gauss), ("tied columns", &ties)] {
        for a_dims in [
            vec![kd as i64],
            vec![1, kd as i64],
            vec![3, kd as i64],
            vec![2, 2, kd as i64],
            vec![8, kd as i64],
        ] {
            let rows: usize = a_dims[..a_dims.len() - 1].iter().product::<i64>() as usize;
            for (k, largest) in [(1i64, true), (10, true), (10, false), (100, true)] {
                let fused = Session::from_bytes(&retrieval_model(&a_dims, b, n, k, largest, false))
                    .unwrap();
                let plain =
                    Session::from_bytes(&retrieval_model(&a_dims, b, n, k, largest, true)).unwrap();
                assert_eq!(ops(&fused), ["MatMulTopK"], "{bname}");
                assert_eq!(ops(&plain), ["MatMul", "TopK"]);
                let shape: Vec<usize> = a_dims.iter().map(|d| *d as usize).collect();
                let mut feeds: Vec<(&str, Vec<f32>)> = vec![
                    ("uniform", r.f32s(rows * kd, -1.0, 1.0)),
                    (
                        "integers",
                        (0..rows * kd).map(|_| r.below(3) as f32 - 1.0).collect(),
                    ),
                    ("zero", vec![0.0; rows * kd]),
                ];
                let mut nan = r.f32s(rows * kd, -1.0, 1.0);
                nan[kd / 2] = f32::NAN;
                feeds.push(("NaN", nan));
                let mut inf = r.f32s(rows * kd, -1.0, 1.0);
                inf[3] = f32::INFINITY;
                feeds.push(("inf", inf));
                for (aname, a) in feeds {
                    let what = format!("{bname}, A {a_dims:?} {aname}, k={k}, largest {largest}");
                    let x = Tensor::from_f32(shape.clone(), a.clone()).unwrap();
                    let got = fused.run(&[("a", &x)]).unwrap();
                    let want = plain.run(&[("a", &x)]).unwrap();
                    let mut out_shape = shape[..shape.len() - 1].to_vec();
                    out_shape.push(k as usize);
                    assert_eq!(got[0].shape(), &out_shape[..], "{what}");
                    assert_eq!(got[1].shape(), want[1].shape(), "{what}");
                    let (gv, wv) = (got[0].as_f32().unwrap(), want[0].as_f32().unwrap());
                    let (gi, wi) = (got[1].to_i64_vec(), want[1].to_i64_vec());
                    if rows <= 4 {
                        // the unfused product is the streamed few-rows one: the same sums
                        let gb: Vec<u32> = gv.iter().map(|v| v.to_bits()).collect();
                        let wb: Vec<u32> = wv.iter().map(|v| v.to_bits()).collect();
                        assert_eq!(gb, wb, "{what}: values");
                        assert_eq!(gi, wi, "{what}: indices");
                    } else {
                        // 5–8 rows: the unfused product is the GEMM, summed in another order;
                        // values within 1e-5 of Σ|a||b| (≤ 64 · 1 · 4σ), indices equal up to
                        // scores that close (near ties)
                        let scores = want[2].as_f32().unwrap();
                        let tol =
                            1e-5 * kd as f32 * 4.0 * if bname == "gaussian" { 0.1 } else { 1.0 };
                        for (t, (g, w)) in gv.iter().zip(wv).enumerate() {
                            if aname == "NaN" || aname == "inf" {
                                // both took the MatMul and TopK kernels (declined screen)
                                assert_eq!(g.is_nan(), w.is_nan(), "{what}: value {t}");
                                assert!(
                                    g.is_nan() || !g.is_finite() && g == w || (g - w).abs() <= tol,
                                    "{what}: value {t}"
                                );
                                continue;
                            }
                            assert!((g - w).abs() <= tol, "{what}: value {t}: {g} vs {w}");
                            let row = t / k as usize;
                            let (a, b) = (gi[t] as usize, wi[t] as usize);
                            assert!(
                                a == b || (scores[row * n + a] - scores[row * n + b]).abs() <= tol,
                                "{what}: index {t}: {a} vs {b}"
                            );
                        }
                    }
                }
            }
        }
    }
    // what is not fused: a small catalogue (its unfused product is the packed GEMM), k from a
    // graph input, B not constant
    let small = gaussian(&mut r, 64 * 4000, 0.1);
    let s = Session::from_bytes(&retrieval_model(&[1, 64], &small, 4000, 10, true, false)).unwrap();
    assert_eq!(ops(&s), ["MatMul", "TopK"]);
}

/// The fused kernel with its screening copy against itself without one (the MatMul and TopK
/// kernels), so the comparison above is known to exercise the screened path.
#[test]
fn fused_kernel_screens_and_equals_its_unscreened_form() {
    use hearth::backend::cpu::reduce;
    use hearth::ir::ops::reduce::ReduceOp;
    let (kd, n) = (64usize, 20_000usize);
    let mut r = Rng(77);
    let b = Tensor::from_f32(vec![kd, n], gaussian(&mut r, kd * n, 0.1)).unwrap();
    for (rows, k, largest) in [(1usize, 10usize, true), (3, 5, false), (8, 50, true)] {
        let op = ReduceOp::MatMulTopK { k, largest };
        let s = reduce::prepack(&op, &[None, Some(&b)]).expect("a screening copy");
        assert_eq!(s.len(), n);
        let a = Tensor::from_f32(vec![rows, kd], r.f32s(rows * kd, -1.0, 1.0)).unwrap();
        let c = s
            .candidates(
                &a.as_f32().unwrap()[..kd],
                None,
                k,
                largest,
                Post::default(),
            )
            .expect("screened");
        assert!(c.len() < n / 20, "{} candidates", c.len());
        let got = reduce::run_packed(&op, &[Some(&a), Some(&b)], Some(&s)).unwrap();
        let want = reduce::run_packed(&op, &[Some(&a), Some(&b)], None).unwrap();
        assert_eq!(got[1].to_i64_vec(), want[1].to_i64_vec());
        let bits = |t: &Tensor| {
            t.as_f32()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        if rows <= 4 {
            assert_eq!(bits(&got[0]), bits(&want[0]));
        }
    }
}

/// f16 and int8 tables (an f16 one screened through an int8 copy of its f32 values; an int8
/// one scanned by the four-rows integer kernel) and `recommend_batch` (each user screened):
/// identical with screening on and off, and equal to single queries.
#[test]
fn f16_int8_and_batched_queries_are_identical_with_and_without_screening() {
    let (n, d) = (6000, 32);
    for dtype in [TableDType::F32, TableDType::F16, TableDType::I8] {
        for (metric, bias) in [(Metric::Dot, false), (Metric::Cosine, true)] {
            let bytes = bundle_of(n, d, metric, bias, dtype);
            let on = Recommender::from_bytes(&bytes).unwrap();
            let mut off = Recommender::from_bytes(&bytes).unwrap();
            off.set_screening(false);
            let mut r = Rng(9);
            let users = r.f32s(5 * d, -1.0, 1.0);
            for k in [1usize, 10, 100, 400] {
                let what = format!("{dtype:?} {metric:?} bias {bias} k={k}");
                let a = on.recommend_batch(&users, k).unwrap();
                let b = off.recommend_batch(&users, k).unwrap();
                assert_eq!(a.len(), 5);
                for (u, (ga, gb)) in a.iter().zip(&b).enumerate() {
                    assert_eq!(bits(ga), bits(gb), "{what}: batch user {u}");
                    // the reference: every score, sorted by score then id
                    let x = &users[u * d..(u + 1) * d];
                    let scores = off.scores(x).unwrap();
                    let mut want: Vec<(u32, f32)> = scores
                        .iter()
                        .enumerate()
                        .map(|(j, s)| (j as u32, *s))
                        .collect();
                    want.sort_by(|p, q| {
                        q.1.partial_cmp(&p.1)
                            .unwrap()
                            .then(on.id(p.0).cmp(on.id(q.0)))
                    });
                    want.truncate(k);
                    assert_eq!(
                        bits(ga),
                        bits(&want),
                        "{what}: batch user {u} vs every score"
                    );
                    let q = Query {
                        k,
                        exclude_seen: false,
                        ..Query::default()
                    };
                    let single = on.recommend_vector(x, &q).unwrap();
                    let single: Vec<(u32, f32)> =
                        single.iter().map(|r| (r.item, r.score)).collect();
                    assert_eq!(
                        bits(ga),
                        bits(&single),
                        "{what}: batch user {u} vs one query"
                    );
                }
                let q = Query {
                    k,
                    filter: Filter {
                        categories: vec!["A".into()],
                        ..Filter::default()
                    },
                    deny: vec![on.id(7).to_string()],
                    ..Query::default()
                };
                let x = &users[..d];
                let (sa, sb) = (
                    on.recommend_vector(x, &q).unwrap(),
                    off.recommend_vector(x, &q).unwrap(),
                );
                assert_eq!(sa, sb, "{what}: filtered");
            }
        }
    }
}

/// A of the wrong inner dimension through a fused node (found by `fuzz/` target `retrieval`):
/// MatMul's shape error, under a node name that holds the MatMul's as well as the TopK's.
#[test]
fn a_wrong_inner_dimension_is_the_matmul_error_naming_both_nodes() {
    let (kd, n) = (64usize, 20_000usize);
    let b = gaussian(&mut Rng(3), kd * n, 0.1);
    let mut tk = node("TopK", &["scores", "k"], &["values", "indices"]);
    tk.attribute = vec![int_attr("axis", -1)];
    let mut mm = node("MatMul", &["a", "b"], &["scores"]);
    mm.name = Some("user_items".into());
    tk.name = Some("top".into());
    let bytes = model(
        vec![mm, tk],
        vec![
            floats("b", &[kd as i64, n as i64], &b),
            ints("k", &[1], &[10]),
        ],
        vec![value_info("a", 1, &[Err("m")])],
        vec![value_info("values", 1, &[]), value_info("indices", 7, &[])],
    );
    let s = Session::from_bytes(&bytes).unwrap();
    assert_eq!(ops(&s), ["MatMulTopK"]);
    let x = Tensor::from_f32(vec![kd + 1], vec![0.5; kd + 1]).unwrap();
    let e = s.run(&[("a", &x)]).unwrap_err().to_string();
    assert!(
        e.contains("'user_items+top'")
            && e.contains("MatMul")
            && e.contains("65")
            && e.contains("64"),
        "{e}"
    );
}

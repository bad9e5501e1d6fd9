//! Recommender tests against independent scalar references (f64 brute force, a dense nalgebra
//! solve of the full implicit-ALS system, a naive MMR).

use hearth::bundle::{
    Bundle, BundleWriter, FoldIn, ItemMeta, Manifest, Metric, TableDType, FORMAT, VERSION,
};
use hearth::recommend::{Event, Filter, Profile, Query, Recommender};
use nalgebra::{DMatrix, DVector};

use hearth::testing::Rng;

const CATS: [&str; 4] = ["Kitchen", "Garden", "Toys", "Lighting"];

fn items(n: usize) -> Vec<ItemMeta> {
    (0..n)
        .map(|i| ItemMeta {
            id: format!("SKU{:05}", (i * 7919) % 100_003),
            name: Some(format!("item {i}")),
            category: Some(CATS[i % 4].to_string()),
            price: if i % 10 == 9 {
                None
            } else {
                Some((i % 50) as f64 + 0.5)
            },
            in_stock: Some(i % 3 != 0),
            ..Default::default()
        })
        .collect()
}

/// Clustered factors: items in a category share a direction, like trained embeddings.
fn factors(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    let centers: Vec<Vec<f32>> = (0..4)
        .map(|_| (0..d).map(|_| r.f32_in(-1.0, 1.0)).collect())
        .collect();
    (0..n)
        .flat_map(|i| {
            let c = centers[i % 4].clone();
            c.into_iter()
                .map(|v| 0.6 * v + 0.4 * r.f32_in(-1.0, 1.0))
                .collect::<Vec<_>>()
        })
        .map(|v| v * 0.3)
        .collect()
}

fn manifest(n: usize, d: usize, metric: Metric, fold_in: FoldIn) -> Manifest {
    Manifest {
        format: FORMAT.into(),
        version: VERSION,
        dim: d,
        metric,
        items: items(n),
        fold_in,
        attribution: vec!["test data".into()],
        source: None,
    }
}

fn writer(n: usize, d: usize, dtype: TableDType) -> BundleWriter {
    BundleWriter {
        manifest: manifest(n, d, Metric::Dot, FoldIn::default()),
        factors: factors(n, d, 42),
        dtype,
        bias: None,
        popularity: Some((0..n).map(|i| ((i * 31) % 97) as f32).collect()),
        user_model: None,
    }
}

fn build(w: &BundleWriter) -> Recommender {
    Recommender::from_bytes(&w.to_bytes().unwrap()).unwrap()
}

fn ev(item: &str, kind: &str, ts: f64) -> Event {
    Event {
        item: item.into(),
        kind: kind.into(),
        weight: None,
        ts: Some(ts),
    }
}

fn ref_scores(rec: &Recommender, x: &[f32]) -> Vec<f64> {
    let mut row = vec![0f32; rec.dim()];
    (0..rec.len() as u32)
        .map(|j| {
            rec.row_into(j, &mut row);
            row.iter().zip(x).map(|(a, b)| *a as f64 * *b as f64).sum()
        })
        .collect()
}

fn ids(rec: &Recommender, v: &[u32]) -> Vec<String> {
    v.iter().map(|j| rec.id(*j).to_string()).collect()
}

#[test]
fn bundle_round_trips_every_dtype() {
    for dt in [TableDType::F32, TableDType::F16, TableDType::I8] {
        let w = writer(300, 24, dt);
        let rec = build(&w);
        assert_eq!((rec.len(), rec.dim(), rec.dtype()), (300, 24, dt));
        assert_eq!(rec.manifest(), &w.manifest);
        let tol = match dt {
            TableDType::F32 => 0.0,
            TableDType::F16 => 1e-3,
            TableDType::I8 => 0.3 / 127.0,
        };
        let mut row = vec![0f32; 24];
        for j in [0u32, 17, 299] {
            rec.row_into(j, &mut row);
            for (a, b) in row.iter().zip(&w.factors[j as usize * 24..][..24]) {
                assert!((a - b).abs() <= tol * 1.01, "{dt:?} row {j}: {a} vs {b}");
            }
        }
        // the gramian stored is YᵀY of the f32 factors
        let g = rec.gramian();
        let y = DMatrix::from_row_slice(
            300,
            24,
            &w.factors.iter().map(|v| *v as f64).collect::<Vec<_>>(),
        );
        let want = y.transpose() * &y;
        for a in 0..24 {
            for b in 0..24 {
                assert!((g[a * 24 + b] as f64 - want[(a, b)]).abs() < 1e-4);
            }
        }
    }
}

#[test]
fn bundle_validation_gives_typed_errors() {
    let good = writer(50, 8, TableDType::F32);
    let check = |w: &BundleWriter, needle: &str| {
        let e = Recommender::from_bytes(&w.to_bytes().unwrap())
            .err()
            .expect("must fail");
        assert_eq!(e.code(), "BUNDLE_INVALID", "{e}");
        assert!(e.to_string().contains(needle), "'{e}' lacks '{needle}'");
    };
    let mut w = writer(50, 8, TableDType::F32);
    w.manifest.items[7].id = w.manifest.items[3].id.clone();
    check(&w, "duplicate item id");
    let mut w = writer(50, 8, TableDType::F32);
    w.manifest.version = VERSION + 1;
    check(&w, "version");
    let mut w = writer(50, 8, TableDType::F32);
    w.manifest.format = "something.else".into();
    check(&w, "format");
    let mut w = writer(50, 8, TableDType::F32);
    w.factors[11] = f32::NAN;
    check(&w, "non-finite");
    let mut w = writer(50, 8, TableDType::F32);
    w.manifest.fold_in.lambda = 0.0;
    check(&w, "lambda");
    // size mismatch between manifest and table: write 50 rows, claim 49 items
    let mut bytes = good.to_bytes().unwrap();
    let json = serde_json::to_string(&good.manifest).unwrap();
    let mut m2 = good.manifest.clone();
    m2.items.pop();
    let json2 = serde_json::to_string(&m2).unwrap();
    let hay = String::from_utf8_lossy(&bytes).to_string();
    let esc = |s: &str| serde_json::to_string(s).unwrap();
    let (a, b) = (esc(&json), esc(&json2));
    let a = &a[1..a.len() - 1];
    let b = &b[1..b.len() - 1];
    assert!(hay.contains(a));
    // pad the shorter manifest so the header length stays the same
    let b = format!("{b}{}", " ".repeat(a.len() - b.len()));
    let pos = hay.find(a).unwrap();
    bytes[pos..pos + a.len()].copy_from_slice(b.as_bytes());
    let e = Recommender::from_bytes(&bytes).err().unwrap();
    assert!(e.to_string().contains("shape"), "{e}");
    // garbage and every truncation: typed errors, no panic
    let full = good.to_bytes().unwrap();
    for cut in (0..full.len()).step_by(97) {
        let e = Bundle::from_bytes(&full[..cut])
            .err()
            .expect("truncated bundle must fail");
        assert_eq!(e.code(), "BUNDLE_INVALID");
    }
    assert_eq!(
        Bundle::from_bytes(b"not a bundle at all")
            .err()
            .unwrap()
            .code(),
        "BUNDLE_INVALID"
    );
}

#[test]
fn top_k_matches_brute_force_for_every_dtype_and_metric() {
    for dt in [TableDType::F32, TableDType::F16, TableDType::I8] {
        for metric in [Metric::Dot, Metric::Cosine] {
            let mut w = writer(2000, 64, dt);
            w.manifest.metric = metric;
            w.bias = Some((0..2000).map(|i| (i % 7) as f32 * 0.01).collect());
            let rec = build(&w);
            let mut r = Rng(9);
            for _ in 0..5 {
                let x: Vec<f32> = (0..64).map(|_| r.f32_in(-1.0, 1.0)).collect();
                let got = rec
                    .recommend_vector(
                        &x,
                        &Query {
                            k: 25,
                            ..Query::default()
                        },
                    )
                    .unwrap();
                // reference: f64 scores of the dequantized table, sorted
                let dots = ref_scores(&rec, &x);
                let xn: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
                let mut row = vec![0f32; 64];
                let want: Vec<f64> = (0..2000)
                    .map(|j| {
                        let mut s = dots[j];
                        if metric == Metric::Cosine {
                            rec.row_into(j as u32, &mut row);
                            let yn: f64 =
                                row.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
                            s /= xn * yn;
                        }
                        s + w.bias.as_ref().unwrap()[j] as f64
                    })
                    .collect();
                let tol = if dt == TableDType::I8 { 2e-3 } else { 1e-5 };
                for (i, g) in got.iter().enumerate() {
                    assert!(
                        (g.score as f64 - want[g.item as usize]).abs()
                            <= tol * (1.0 + want[g.item as usize].abs()),
                        "{dt:?} {metric:?} rank {i}: {} vs {}",
                        g.score,
                        want[g.item as usize]
                    );
                    if i > 0 {
                        assert!(got[i - 1].score >= g.score);
                    }
                }
                // nothing left out scores clearly better than the k-th pick
                let kth = want[got[24].item as usize];
                let picked: std::collections::HashSet<u32> = got.iter().map(|g| g.item).collect();
                for j in 0..2000u32 {
                    if !picked.contains(&j) {
                        assert!(
                            want[j as usize] <= kth + 2.0 * tol * (1.0 + kth.abs()),
                            "{dt:?}: item {j} missed"
                        );
                    }
                }
                // exact agreement with the engine's own score array (same kernels), ties by id
                let s = rec.scores(&x).unwrap();
                let mut order: Vec<u32> = (0..2000).collect();
                order.sort_by(|a, b| {
                    s[*b as usize]
                        .total_cmp(&s[*a as usize])
                        .then(rec.id(*a).cmp(rec.id(*b)))
                });
                assert_eq!(
                    got.iter().map(|g| g.item).collect::<Vec<_>>(),
                    order[..25].to_vec()
                );
            }
        }
    }
}

#[test]
fn batched_queries_equal_single_queries() {
    for dt in [TableDType::F32, TableDType::I8] {
        let rec = build(&writer(1000, 32, dt));
        let mut r = Rng(3);
        let users: Vec<f32> = (0..7 * 32).map(|_| r.f32_in(-1.0, 1.0)).collect();
        let batch = rec.recommend_batch(&users, 10).unwrap();
        for (u, got) in users.chunks(32).zip(&batch) {
            let one = rec
                .recommend_vector(
                    u,
                    &Query {
                        k: 10,
                        exclude_seen: false,
                        ..Query::default()
                    },
                )
                .unwrap();
            assert_eq!(
                got,
                &one.iter().map(|r| (r.item, r.score)).collect::<Vec<_>>()
            );
        }
    }
}

/// Dense reference for one implicit-ALS user step over the whole catalog.
fn dense_fold_in(rec: &Recommender, conf: &[(u32, f64)], alpha: f64, lambda: f64) -> Vec<f64> {
    let (n, d) = (rec.len(), rec.dim());
    let mut y = DMatrix::<f64>::zeros(n, d);
    let mut row = vec![0f32; d];
    for j in 0..n {
        rec.row_into(j as u32, &mut row);
        for k in 0..d {
            y[(j, k)] = row[k] as f64;
        }
    }
    let mut c = DVector::<f64>::from_element(n, 1.0);
    let mut p = DVector::<f64>::zeros(n);
    for (j, r) in conf {
        c[*j as usize] = 1.0 + alpha * r;
        p[*j as usize] = 1.0;
    }
    let cy = DMatrix::from_fn(n, d, |i, k| c[i] * y[(i, k)]);
    let a = y.transpose() * cy + DMatrix::<f64>::identity(d, d) * lambda;
    let b = y.transpose() * DVector::from_fn(n, |i, _| c[i] * p[i]);
    a.lu().solve(&b).unwrap().iter().copied().collect()
}

#[test]
fn fold_in_equals_the_dense_als_solve_and_explanations_sum_to_the_score() {
    let rec = build(&writer(400, 16, TableDType::F32));
    let fi = rec.manifest().fold_in.clone();
    let mut p = Profile::new(16);
    let hist = [
        (3usize, "view"),
        (8, "purchase"),
        (3, "cart"),
        (120, "view"),
        (77, "purchase"),
    ];
    for (i, (j, kind)) in hist.iter().enumerate() {
        assert!(p
            .record(
                &rec,
                ev(&rec.manifest().items[*j].id, kind, i as f64 * 1000.0)
            )
            .unwrap());
    }
    let w = |k: &str| fi.event_weights[k] as f64;
    let conf = [
        (3u32, w("view") + w("cart")),
        (8, w("purchase")),
        (120, w("view")),
        (77, w("purchase")),
    ];
    let want = dense_fold_in(&rec, &conf, fi.alpha as f64, fi.lambda as f64);
    let folded = p.fold(&rec, None).unwrap().unwrap();
    for (a, b) in folded.x.iter().zip(&want) {
        assert!(
            (*a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{a} vs {b}"
        );
    }
    // contributions of the history decompose the dot score exactly (no bias, dot metric)
    let recs = rec
        .recommend(
            &mut p,
            &Query {
                k: 5,
                explain: 10,
                ..Query::default()
            },
        )
        .unwrap();
    let mut y = vec![0f32; 16];
    let mut row = vec![0f32; 16];
    for r in &recs {
        rec.row_into(r.item, &mut y);
        let parts = folded.because(&rec, &y, &mut row);
        let sum: f64 = parts.iter().map(|p| p.1).sum();
        assert!(
            (sum - r.score as f64).abs() < 1e-4 * (1.0 + sum.abs()),
            "{sum} vs {}",
            r.score
        );
        let positive: Vec<u32> = parts.iter().filter(|p| p.1 > 0.0).map(|p| p.0).collect();
        assert_eq!(r.because, positive);
        assert!(
            !hist.iter().any(|(j, _)| *j as u32 == r.item),
            "seen items are excluded"
        );
    }
}

#[test]
fn decay_halves_weights_per_half_life_and_incremental_equals_rebuilt() {
    let mut w = writer(200, 8, TableDType::F32);
    w.manifest.fold_in.half_life_days = Some(10.0);
    let rec = build(&w);
    let day = 86_400_000.0;
    let id = |j: usize| rec.manifest().items[j].id.clone();
    let mut p = Profile::new(8);
    p.record(&rec, ev(&id(5), "purchase", 0.0)).unwrap();
    p.record(&rec, ev(&id(9), "purchase", 10.0 * day)).unwrap();
    // at day 10: item 5's purchase weighs half of item 9's
    let fi = rec.manifest().fold_in.clone();
    let conf = [(5u32, 0.5), (9, 1.0)];
    let want = dense_fold_in(&rec, &conf, fi.alpha as f64, fi.lambda as f64);
    let got = p.fold(&rec, None).unwrap().unwrap().x;
    for (a, b) in got.iter().zip(&want) {
        assert!((*a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs()));
    }
    // 20 days later both are 4x lighter
    let want = dense_fold_in(
        &rec,
        &[(5, 0.125), (9, 0.25)],
        fi.alpha as f64,
        fi.lambda as f64,
    );
    let got = p.fold(&rec, Some(30.0 * day)).unwrap().unwrap().x;
    for (a, b) in got.iter().zip(&want) {
        assert!((*a as f64 - b).abs() <= 1e-5 * (1.0 + b.abs()));
    }
    // a long history forces rebases; the result equals a fresh profile of the same events
    let mut long = Profile::new(8);
    for i in 0..300 {
        long.record(&rec, ev(&id(i % 50), "view", i as f64 * 5.0 * day))
            .unwrap();
    }
    let mut fresh = Profile::new(8);
    for e in long.events().to_vec() {
        fresh.record(&rec, e).unwrap();
    }
    let (a, b) = (
        long.fold(&rec, None).unwrap().unwrap().x,
        fresh.fold(&rec, None).unwrap().unwrap().x,
    );
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()));
    }
    assert!(a.iter().all(|v| v.is_finite()));
}

#[test]
fn filters_and_rules_match_a_brute_force_reference() {
    let rec = build(&writer(3000, 16, TableDType::F32));
    let mut p = Profile::new(16);
    for j in [1usize, 5, 9, 13] {
        p.record(&rec, ev(&rec.manifest().items[j].id, "purchase", 0.0))
            .unwrap();
    }
    let x = p.fold(&rec, None).unwrap().unwrap().x;
    let s = rec.scores(&x).unwrap();
    let items = &rec.manifest().items;
    let allow: Vec<String> = (0..3000).step_by(3).map(|j| items[j].id.clone()).collect();
    let deny: Vec<String> = (0..3000).step_by(5).map(|j| items[j].id.clone()).collect();
    let cases: Vec<(Query, Box<dyn Fn(usize) -> bool>)> = vec![
        (
            Query {
                filter: Filter {
                    categories: vec!["Kitchen".into()],
                    ..Default::default()
                },
                ..Query::default()
            },
            Box::new(|j| items[j].category.as_deref() == Some("Kitchen")),
        ),
        (
            Query {
                filter: Filter {
                    categories: vec!["Toys".into(), "Garden".into()],
                    price_min: Some(10.0),
                    price_max: Some(20.0),
                    ..Default::default()
                },
                ..Query::default()
            },
            Box::new(|j| {
                matches!(items[j].category.as_deref(), Some("Toys" | "Garden"))
                    && items[j].price.is_some_and(|p| (10.0..=20.0).contains(&p))
            }),
        ),
        (
            Query {
                filter: Filter {
                    in_stock: Some(true),
                    ..Default::default()
                },
                ..Query::default()
            },
            Box::new(|j| items[j].in_stock == Some(true)),
        ),
        (
            Query {
                allow: Some(allow.clone()),
                deny: deny.clone(),
                ..Query::default()
            },
            Box::new(|j| j % 3 == 0 && j % 5 != 0),
        ),
        (
            Query {
                exclude_seen: false,
                ..Query::default()
            },
            Box::new(|_| true),
        ),
    ];
    let seen = [1usize, 5, 9, 13];
    for (i, (q, keep)) in cases.iter().enumerate() {
        let got: Vec<u32> = rec
            .recommend(&mut p, q)
            .unwrap()
            .iter()
            .map(|r| r.item)
            .collect();
        let mut want: Vec<u32> = (0..3000)
            .filter(|j| keep(*j) && (!q.exclude_seen || !seen.contains(j)))
            .map(|j| j as u32)
            .collect();
        want.sort_by(|a, b| {
            s[*b as usize]
                .total_cmp(&s[*a as usize])
                .then(rec.id(*a).cmp(rec.id(*b)))
        });
        want.truncate(10);
        assert_eq!(ids(&rec, &got), ids(&rec, &want), "case {i}");
    }
    // boosts add to the score
    let target = (0..3000u32)
        .filter(|j| !seen.contains(&(*j as usize)))
        .min_by(|a, b| s[*a as usize].total_cmp(&s[*b as usize]))
        .unwrap();
    let q = Query {
        boost: vec![(rec.id(target).to_string(), 1e3)],
        ..Query::default()
    };
    let got = rec.recommend(&mut p, &q).unwrap();
    assert_eq!(got[0].item, target);
    assert!((got[0].score - (s[target as usize] + 1e3)).abs() < 1e-2);
    // bad arguments are typed errors
    let bad = |q: Query| rec.recommend(&mut p.clone(), &q).err().unwrap().code();
    assert_eq!(
        bad(Query {
            k: 0,
            ..Query::default()
        }),
        "ARGUMENT"
    );
    assert_eq!(
        bad(Query {
            diversity: 1.5,
            ..Query::default()
        }),
        "ARGUMENT"
    );
    assert_eq!(
        bad(Query {
            filter: Filter {
                categories: vec!["Kitchn".into()],
                ..Default::default()
            },
            ..Query::default()
        }),
        "ARGUMENT"
    );
    assert_eq!(
        bad(Query {
            filter: Filter {
                price_min: Some(5.0),
                price_max: Some(1.0),
                ..Default::default()
            },
            ..Query::default()
        }),
        "ARGUMENT"
    );
    let mut p2 = Profile::new(16);
    let e = p2.record(
        &rec,
        Event {
            item: rec.id(0).into(),
            kind: "wishlist".into(),
            weight: None,
            ts: None,
        },
    );
    assert_eq!(e.err().unwrap().code(), "ARGUMENT");
    assert!(
        !p2.record(&rec, ev("NOT-AN-ITEM", "view", 0.0)).unwrap(),
        "unknown items are kept but ignored"
    );
    assert_eq!(
        rec.similar("NOT-AN-ITEM", &Query::default())
            .err()
            .unwrap()
            .code(),
        "UNKNOWN_ITEM"
    );
}

#[test]
fn mmr_matches_a_naive_reference_and_diversifies() {
    let rec = build(&writer(1500, 16, TableDType::F32));
    let mut p = Profile::new(16);
    for j in [0usize, 4, 8] {
        p.record(&rec, ev(&rec.manifest().items[j].id, "purchase", 0.0))
            .unwrap();
    }
    let plain = rec
        .recommend(
            &mut p,
            &Query {
                k: 10,
                ..Query::default()
            },
        )
        .unwrap();
    let zero = rec
        .recommend(
            &mut p,
            &Query {
                k: 10,
                diversity: 0.0,
                ..Query::default()
            },
        )
        .unwrap();
    assert_eq!(plain, zero);
    let div = 0.7f32;
    let got: Vec<u32> = rec
        .recommend(
            &mut p,
            &Query {
                k: 10,
                diversity: div,
                ..Query::default()
            },
        )
        .unwrap()
        .iter()
        .map(|r| r.item)
        .collect();
    // naive MMR over the same candidate pool (top 42 by relevance)
    let pool: Vec<(u32, f32)> = rec
        .recommend(
            &mut p,
            &Query {
                k: 42,
                ..Query::default()
            },
        )
        .unwrap()
        .iter()
        .map(|r| (r.item, r.score))
        .collect();
    let vec_of = |j: u32| {
        let mut r = vec![0f32; 16];
        rec.row_into(j, &mut r);
        r.iter().map(|v| *v as f64).collect::<Vec<f64>>()
    };
    let cos = |a: u32, b: u32| {
        let (x, y) = (vec_of(a), vec_of(b));
        let d: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        d / (x.iter().map(|v| v * v).sum::<f64>().sqrt()
            * y.iter().map(|v| v * v).sum::<f64>().sqrt())
    };
    let (lo, hi) = (pool.last().unwrap().1 as f64, pool[0].1 as f64);
    let mut want: Vec<u32> = Vec::new();
    while want.len() < 10 {
        let best = pool
            .iter()
            .filter(|c| !want.contains(&c.0))
            .map(|c| {
                let rel = (c.1 as f64 - lo) / (hi - lo);
                let red = want
                    .iter()
                    .map(|w| cos(c.0, *w))
                    .fold(f64::NEG_INFINITY, f64::max);
                let red = if want.is_empty() { 0.0 } else { red };
                (c.0, (1.0 - div as f64) * rel - div as f64 * red)
            })
            .fold(None::<(u32, f64)>, |b, c| {
                if b.is_none_or(|b| c.1 > b.1 + 1e-12) {
                    Some(c)
                } else {
                    b
                }
            })
            .unwrap();
        want.push(best.0);
    }
    assert_eq!(got, want);
    // more diverse: more categories among the picks than without diversity
    let cats = |v: &[u32]| {
        v.iter()
            .map(|j| rec.item(*j).category.clone())
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    assert!(
        cats(&got) > cats(&plain.iter().map(|r| r.item).collect::<Vec<_>>()),
        "diversity must widen categories"
    );
}

#[test]
fn similar_items_and_cold_start() {
    let rec = build(&writer(800, 16, TableDType::F32));
    let id = rec.id(10).to_string();
    let got = rec
        .similar(
            &id,
            &Query {
                k: 8,
                ..Query::default()
            },
        )
        .unwrap();
    let y = {
        let mut r = vec![0f32; 16];
        rec.row_into(10, &mut r);
        r
    };
    let dots = ref_scores(&rec, &y);
    let norm = |j: u32| {
        let mut r = vec![0f32; 16];
        rec.row_into(j, &mut r);
        r.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt()
    };
    let mut want: Vec<(u32, f64)> = (0..800u32)
        .filter(|j| *j != 10)
        .map(|j| (j, dots[j as usize] / (norm(j) * norm(10))))
        .collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (g, w) in got.iter().zip(&want) {
        assert!((g.1 as f64 - w.1).abs() < 1e-5, "{g:?} vs {w:?}");
    }
    assert!(got.iter().all(|g| g.0 != 10));
    // same cluster (category) as item 10
    assert!(got
        .iter()
        .all(|g| rec.item(g.0).category == rec.item(10).category));

    // cold start: popularity order, filters apply
    let mut empty = Profile::new(16);
    let pop: Vec<f32> = (0..800).map(|i| ((i * 31) % 97) as f32).collect();
    let got = rec
        .recommend(
            &mut empty,
            &Query {
                k: 5,
                filter: Filter {
                    categories: vec!["Toys".into()],
                    ..Default::default()
                },
                ..Query::default()
            },
        )
        .unwrap();
    let mut want: Vec<u32> = (0..800u32)
        .filter(|j| rec.item(*j).category.as_deref() == Some("Toys"))
        .collect();
    want.sort_by(|a, b| {
        pop[*b as usize]
            .total_cmp(&pop[*a as usize])
            .then(rec.id(*a).cmp(rec.id(*b)))
    });
    assert_eq!(
        got.iter().map(|r| r.item).collect::<Vec<_>>(),
        want[..5].to_vec()
    );
    assert!(got.iter().all(|r| r.because.is_empty()));
}

#[test]
fn quantized_tables_keep_top10_overlap_with_f32() {
    let (n, d) = (20_000, 64);
    let f = build(&writer(n, d, TableDType::F32));
    for dt in [TableDType::F16, TableDType::I8] {
        let q = build(&writer(n, d, dt));
        let mut r = Rng(77);
        let mut overlap = 0usize;
        let users = 200;
        for _ in 0..users {
            // user vectors like fold-in results: near a cluster center
            let x: Vec<f32> = (0..d).map(|_| r.f32_in(-1.0, 1.0)).collect();
            let k = Query {
                k: 10,
                exclude_seen: false,
                ..Query::default()
            };
            let a: std::collections::HashSet<u32> = f
                .recommend_vector(&x, &k)
                .unwrap()
                .iter()
                .map(|r| r.item)
                .collect();
            overlap += q
                .recommend_vector(&x, &k)
                .unwrap()
                .iter()
                .filter(|r| a.contains(&r.item))
                .count();
        }
        let ratio = overlap as f64 / (users * 10) as f64;
        println!("{dt:?} top-10 overlap with f32: {ratio:.4}");
        assert!(ratio >= 0.95, "{dt:?}: overlap {ratio}");
    }
}

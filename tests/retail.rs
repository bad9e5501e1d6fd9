//! The recommender on real data: UCI Online Retail, trained on purchases before 2011-10-01 and
//! evaluated on the same customers' later purchases (see `hearth::cli::eval`). The model must
//! clearly beat the popularity baseline on every metric.
#![cfg(feature = "cli")]

use hearth::cli::{catalog, eval, events, parse_time, BuildOptions};
use std::path::Path;

#[test]
fn online_retail_model_beats_popularity() {
    let data = std::env::var("HEARTH_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data").into());
    let path = Path::new(&data).join("online-retail/online-retail.csv.gz");
    let log = events::parse_events(&events::read_text(&path).unwrap(), "online-retail").unwrap();
    assert_eq!(
        log.skipped["no customer"], 135_080,
        "the README's count of rows without a customer"
    );
    let items = catalog::derive_catalog(&log, None);
    let (train, test) = log.split(parse_time("2011-10-01").unwrap());
    let r = eval::evaluate(&train, &test, items, &BuildOptions::default()).unwrap();
    println!(
        "users {} items {} model {:?} popularity {:?}",
        r.users, r.items, r.model, r.popularity
    );
    assert!(r.users > 1500, "{} evaluated customers", r.users);
    assert!(r.model.hr10 > 1.4 * r.popularity.hr10);
    assert!(r.model.recall20 > 1.8 * r.popularity.recall20);
    assert!(r.model.ndcg10 > 1.8 * r.popularity.ndcg10);
    assert!(r.model.coverage10 > 5.0 * r.popularity.coverage10);
}

/// f16 and int8 tables of the real trained factors keep the f32 top-10 (overlap ≥ 0.95) for
/// the evaluated customers, with their real folded-in user vectors.
#[test]
fn online_retail_quantized_tables_keep_the_top10() {
    use hearth::bundle::{BundleWriter, TableDType};
    use hearth::recommend::{Profile, Query};
    use hearth::Recommender;
    let data = std::env::var("HEARTH_DATA")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data").into());
    let path = Path::new(&data).join("online-retail/online-retail.csv.gz");
    let log = events::parse_events(&events::read_text(&path).unwrap(), "online-retail").unwrap();
    let items = catalog::derive_catalog(&log, None);
    let (train, test) = log.split(parse_time("2011-10-01").unwrap());
    let r = eval::evaluate(&train, &test, items, &BuildOptions::default()).unwrap();
    let f32_rec = Recommender::from_bytes(&r.bundle).unwrap();
    let (n, d) = (f32_rec.len(), f32_rec.dim());
    let mut factors = vec![0f32; n * d];
    for (j, row) in factors.chunks_exact_mut(d).enumerate() {
        f32_rec.row_into(j as u32, row);
    }
    for dtype in [TableDType::F16, TableDType::I8] {
        let w = BundleWriter {
            manifest: f32_rec.manifest().clone(),
            factors: factors.clone(),
            dtype,
            bias: None,
            popularity: None,
            user_model: None,
        };
        let q_rec = Recommender::from_bytes(&w.to_bytes().unwrap()).unwrap();
        let (mut overlap, mut total) = (0usize, 0usize);
        for (_, events, top10) in &r.lists {
            let mut p = Profile::new(d);
            for e in events {
                p.record(&q_rec, e.clone()).unwrap();
            }
            let got = q_rec
                .recommend(
                    &mut p,
                    &Query {
                        k: 10,
                        explain: 0,
                        ..Query::default()
                    },
                )
                .unwrap();
            overlap += got
                .iter()
                .filter(|g| top10.iter().any(|t| t == q_rec.id(g.item)))
                .count();
            total += top10.len();
        }
        let ratio = overlap as f64 / total as f64;
        println!(
            "{dtype:?}: top-10 overlap with f32 over {} customers: {ratio:.4}",
            r.lists.len()
        );
        assert!(ratio >= 0.95, "{dtype:?}: {ratio}");
    }
}

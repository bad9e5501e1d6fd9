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
    let items = catalog::derive_catalog(&log);
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

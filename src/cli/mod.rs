//! What the `hearth` command-line tool does, as a library (feature `cli`) so tests can call it:
//! reading event logs and catalogs, training implicit ALS into a bundle, importing factors
//! trained elsewhere, and the time-split evaluation; and for knowledge tracing ([`tracer`]),
//! learning bundles from answer logs and their held-out evaluation.

pub mod catalog;
pub mod eval;
pub mod events;
pub mod import;
pub mod tracer;

use crate::bundle::{
    BundleWriter, FoldIn, ItemMeta, Manifest, Metric, TableDType, FORMAT, VERSION,
};
use crate::error::{Error, Result};
use crate::recommend::als::{self, AlsParams, Csr};
use events::EventLog;
use std::collections::HashMap;

/// Parses `YYYY-MM-DD[ HH:MM[:SS]]` (or `T` as separator) as UTC milliseconds since the epoch.
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, time) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim_end_matches('Z')),
        None => (s, ""),
    };
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&dd) {
        return None;
    }
    let mut t = time
        .split(':')
        .filter(|x| !x.is_empty())
        .map(|x| x.parse::<f64>().ok());
    let (hh, mm, ss) = (
        t.next().unwrap_or(Some(0.0))?,
        t.next().unwrap_or(Some(0.0))?,
        t.next().unwrap_or(Some(0.0))?,
    );
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days as f64 * 24.0 + hh) * 60.0 + mm) * 60_000.0 + ss * 1000.0)
}

/// Options of `recommender build`.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub als: AlsParams,
    pub dtype: TableDType,
    pub half_life_days: Option<f64>,
    pub attribution: Vec<String>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            als: AlsParams {
                alpha: 1.0,
                lambda: 20.0,
                iterations: 12,
                ..AlsParams::default()
            },
            dtype: TableDType::F32,
            half_life_days: None,
            attribution: Vec::new(),
        }
    }
}

/// A trained model before serialization.
pub struct Trained {
    pub writer: BundleWriter,
    /// Users in the training matrix, by id (row order of the ALS user factors).
    pub users: Vec<String>,
    pub user_factors: Vec<f32>,
}

/// Trains implicit ALS on `log` (every event counts; filter the log first for a time split)
/// and assembles a bundle over `items` (the catalog, in table order).
pub fn train(log: &EventLog, items: Vec<ItemMeta>, o: &BuildOptions) -> Result<Trained> {
    let fold_in = FoldIn {
        alpha: o.als.alpha,
        lambda: o.als.lambda,
        half_life_days: o.half_life_days,
        ..FoldIn::default()
    };
    let index: HashMap<&str, u32> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.as_str(), i as u32))
        .collect();
    let mut users: Vec<String> = Vec::new();
    let mut user_index: HashMap<&str, u32> = HashMap::new();
    let latest = log
        .events
        .iter()
        .filter_map(|e| e.ts)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut triples = Vec::new();
    let mut buyers: Vec<std::collections::HashSet<u32>> = vec![Default::default(); items.len()];
    for e in &log.events {
        let Some(&i) = index.get(e.item.as_str()) else {
            continue;
        };
        let w = match e.weight {
            Some(w) => w,
            None => *fold_in.event_weights.get(&e.kind).ok_or_else(|| {
                Error::Argument(format!(
                    "event type '{}' has no default weight; add a weight column",
                    e.kind
                ))
            })?,
        };
        // the same decay the on-device profile applies, measured from the log's latest event
        let decay = match (o.half_life_days, e.ts) {
            (Some(h), Some(t)) if latest.is_finite() => {
                0.5f64.powf((latest - t) / (h * 86_400_000.0))
            }
            _ => 1.0,
        };
        let n = users.len() as u32;
        let u = *user_index.entry(e.user.as_str()).or_insert_with(|| {
            users.push(e.user.clone());
            n
        });
        triples.push((u, i, (w as f64 * decay) as f32));
        buyers[i as usize].insert(u);
    }
    if users.is_empty() {
        return Err(Error::Argument(
            "no events on catalog items: nothing to train on".into(),
        ));
    }
    let r = Csr::from_triples(users.len(), items.len(), triples);
    let f = als::train(&r, &o.als, |_, _| {});
    let popularity: Vec<f32> = buyers.iter().map(|b| (1.0 + b.len() as f32).ln()).collect();
    let n_events = log.events.len();
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        dim: o.als.factors,
        metric: Metric::Dot,
        items,
        fold_in,
        attribution: o.attribution.clone(),
        source: Some(serde_json::json!({
            "tool": "hearth recommender build",
            "algorithm": "implicit ALS (conjugate gradient)",
            "factors": o.als.factors, "iterations": o.als.iterations,
            "alpha": o.als.alpha, "lambda": o.als.lambda,
            "users": users.len(), "events": n_events,
        })),
    };
    Ok(Trained {
        writer: BundleWriter {
            manifest,
            factors: f.items,
            dtype: o.dtype,
            bias: None,
            popularity: Some(popularity),
            user_model: None,
        },
        users,
        user_factors: f.users,
    })
}

/// Attribution lines for data from `../shared/data/online-retail`.
pub const ONLINE_RETAIL_ATTRIBUTION: [&str; 2] = [
    "D. Chen, S. L. Sain, K. Guo (2012), \"Data mining for the online retail industry: A case study of RFM model-based customer segmentation using data mining\", J. Database Marketing & Customer Strategy Management 19(3):197-208, doi:10.1057/dbm.2012.17.",
    "UCI ML Repository, Online Retail (doi:10.24432/C5BW33), CC BY 4.0.",
];

#[cfg(test)]
mod tests {
    #[test]
    fn parses_times_as_utc_ms() {
        assert_eq!(super::parse_time("1970-01-01"), Some(0.0));
        assert_eq!(super::parse_time("2011-10-01"), Some(1_317_427_200_000.0));
        assert_eq!(
            super::parse_time("2010-12-01 08:26:00"),
            Some(1_291_191_960_000.0)
        );
        assert_eq!(
            super::parse_time("2010-12-01T08:26:30Z"),
            Some(1_291_191_990_000.0)
        );
        assert_eq!(super::parse_time("2010-13-01"), None);
        assert_eq!(super::parse_time("yesterday"), None);
    }
}

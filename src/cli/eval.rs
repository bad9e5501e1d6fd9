//! Time-split evaluation: train on events before the split, fold each returning customer's
//! training events in through the same [`Profile`] path the browser uses, and score the top-k
//! against the items they bought after the split that they had not bought before.
//!
//! - HR@10: share of customers with at least one such item in their top 10;
//! - Recall@20: `|top20 ∩ T| / |T|`, averaged;
//! - NDCG@10: binary gains, ideal DCG over `min(|T|, 10)` hits;
//! - coverage: distinct items in all top-10 lists / catalog size.
//!
//! The popularity baseline ranks by the bundle's popularity prior (distinct training buyers),
//! with the customer's seen items removed the same way.

use super::events::EventLog;
use super::{train, BuildOptions, Trained};
use crate::bundle::ItemMeta;
use crate::error::Result;
use crate::recommend::{Event, Profile, Query, Recommender};
use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    pub hr10: f64,
    pub recall20: f64,
    pub ndcg10: f64,
    pub coverage10: f64,
}

pub struct EvalReport {
    pub model: Metrics,
    pub popularity: Metrics,
    pub users: usize,
    pub train_events: usize,
    pub items: usize,
    /// The bundle trained on the training events.
    pub bundle: Vec<u8>,
    /// Per evaluated customer: (id, training events, model top-10 ids), ordered by id.
    pub lists: Vec<(String, Vec<Event>, Vec<String>)>,
}

fn score(lists: &[(Vec<u32>, HashSet<u32>)], n_items: usize) -> Metrics {
    let mut m = Metrics::default();
    let mut covered = HashSet::new();
    for (recs, truth) in lists {
        let top10 = &recs[..recs.len().min(10)];
        covered.extend(top10.iter().copied());
        if top10.iter().any(|i| truth.contains(i)) {
            m.hr10 += 1.0;
        }
        let hits20 = recs.iter().take(20).filter(|i| truth.contains(i)).count();
        m.recall20 += hits20 as f64 / truth.len() as f64;
        let dcg: f64 = top10
            .iter()
            .enumerate()
            .filter(|(_, i)| truth.contains(i))
            .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
            .sum();
        let idcg: f64 = (0..truth.len().min(10))
            .map(|r| 1.0 / (r as f64 + 2.0).log2())
            .sum();
        m.ndcg10 += dcg / idcg;
    }
    let n = lists.len().max(1) as f64;
    m.hr10 /= n;
    m.recall20 /= n;
    m.ndcg10 /= n;
    m.coverage10 = covered.len() as f64 / n_items as f64;
    m
}

/// Trains on `train_log`, evaluates on `test_log`. `catalog`: the items the model may recommend
/// (items without training events get zero vectors and are never recommended by the model).
pub fn evaluate(
    train_log: &EventLog,
    test_log: &EventLog,
    catalog: Vec<ItemMeta>,
    o: &BuildOptions,
) -> Result<EvalReport> {
    // only items seen in training can be learned; restrict the catalog to them
    let seen_items: HashSet<&str> = train_log.events.iter().map(|e| e.item.as_str()).collect();
    let items: Vec<ItemMeta> = catalog
        .into_iter()
        .filter(|it| seen_items.contains(it.id.as_str()))
        .collect();
    let Trained { writer, .. } = train(train_log, items, o)?;
    let bundle = writer.to_bytes()?;
    let rec = Recommender::from_bytes(&bundle)?;

    let mut history: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for e in &train_log.events {
        history.entry(e.user.as_str()).or_default().push(Event {
            item: e.item.clone(),
            kind: e.kind.clone(),
            weight: e.weight,
            ts: e.ts,
        });
    }
    let mut future: BTreeMap<&str, HashSet<u32>> = BTreeMap::new();
    for e in &test_log.events {
        if e.kind != "purchase" {
            continue;
        }
        if let Some(i) = rec.index_of(&e.item) {
            future.entry(e.user.as_str()).or_default().insert(i);
        }
    }
    let (mut model, mut pop, mut lists) = (Vec::new(), Vec::new(), Vec::new());
    for (user, truth) in future {
        let Some(evs) = history.get(user) else {
            continue;
        };
        let mut p = Profile::new(rec.dim());
        for e in evs {
            p.record(&rec, e.clone())?;
        }
        let seen: HashSet<u32> = p.items().iter().copied().collect();
        let truth: HashSet<u32> = truth.difference(&seen).copied().collect();
        if truth.is_empty() {
            continue;
        }
        let q = Query {
            k: 20,
            explain: 0,
            ..Query::default()
        };
        let recs: Vec<u32> = rec.recommend(&mut p, &q)?.iter().map(|r| r.item).collect();
        let deny: Vec<String> = seen.iter().map(|i| rec.id(*i).to_string()).collect();
        let baseline: Vec<u32> = rec
            .recommend(&mut Profile::new(rec.dim()), &Query { deny, ..q.clone() })?
            .iter()
            .map(|r| r.item)
            .collect();
        lists.push((
            user.to_string(),
            evs.clone(),
            recs.iter()
                .take(10)
                .map(|i| rec.id(*i).to_string())
                .collect(),
        ));
        model.push((recs, truth.clone()));
        pop.push((baseline, truth));
    }
    Ok(EvalReport {
        model: score(&model, rec.len()),
        popularity: score(&pop, rec.len()),
        users: model.len(),
        train_events: train_log.events.len(),
        items: rec.len(),
        bundle,
        lists,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let t = |v: &[u32]| v.iter().copied().collect::<HashSet<u32>>();
        // user 1: hit at rank 0 and rank 12 of 2 truths; user 2: no hit
        let lists = vec![
            ((0..20).collect::<Vec<u32>>(), t(&[0, 12])),
            ((100..120).collect::<Vec<u32>>(), t(&[5])),
        ];
        let m = score(&lists, 200);
        assert_eq!(m.hr10, 0.5);
        assert_eq!(m.recall20, 0.5);
        let ndcg1 = 1.0 / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg10 - ndcg1 / 2.0).abs() < 1e-12);
        assert_eq!(m.coverage10, 20.0 / 200.0);
    }
}

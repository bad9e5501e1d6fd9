//! Fuzzes the bundle load path (safetensors header, manifest JSON, tensor validation) and, when
//! a bundle loads, a profile event, a diversified recommendation and a similar-items query.
//! Any panic, abort or unbounded allocation is a bug.
#![no_main]

use hearth::recommend::{Event, Profile, Query};
use hearth::Recommender;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rec) = Recommender::from_bytes(data) else { return };
    let first = rec.id(0).to_string();
    let mut p = Profile::new(rec.dim());
    let _ = p.record(&rec, Event { item: first.clone(), kind: "view".into(), weight: Some(1.0), ts: Some(0.0) });
    let q = Query { k: 5, diversity: 0.5, ..Query::default() };
    let _ = rec.recommend(&mut p, &q);
    let _ = rec.similar(&first, &q);
});

//! Fuzzes the learning (knowledge-tracing) bundle load path: safetensors header, manifest JSON,
//! question bank, IRT/Elo/BKT/FSRS parameters. A tracer built from a bundle that loads must
//! answer a short session (observe, predict, mastery, next in both modes, due) with values or
//! typed errors. Any panic, abort or unbounded allocation is a bug.
#![no_main]

use hearth::bundle::learning::LearningBundle;
use hearth::education::tracer::{Mode, NextArgs, Tracer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = LearningBundle::from_bytes(data) else {
        return;
    };
    let Ok(tracer) = Tracer::from_bundle(bundle) else {
        return;
    };
    let n = tracer.bank().questions().len();
    if n == 0 {
        return;
    }
    let ids: Vec<String> = [0, n / 2, n - 1]
        .iter()
        .map(|&i| tracer.bank().questions()[i].id.clone())
        .collect();
    let mut learner = tracer.learner();
    let day = 86_400_000.0;
    for (k, id) in ids.iter().enumerate() {
        let _ = learner.observe(&tracer, id, k % 2 == 0, 1.7e12 + k as f64 * day);
        let _ = learner.predict(&tracer, id);
    }
    let _ = learner.mastery(&tracer);
    for mode in [Mode::Practice, Mode::Assess] {
        let args = NextArgs {
            k: 3,
            mode,
            ..NextArgs::default()
        };
        let _ = learner.next(&tracer, &args);
    }
    let _ = learner.due(&tracer, 1.7e12 + 30.0 * day, true);
    let _ = tracer.info();
    let _ = tracer.questions();
});

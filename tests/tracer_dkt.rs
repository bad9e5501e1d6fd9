//! The sequence model of a learning bundle (DKT through ONNX), streamed: `tools/dkt_models.py`
//! writes DKT models as PyTorch exports them (an embedding or one-hot input, an ONNX LSTM/GRU,
//! a Linear + Sigmoid head; weights: a fixed random recurrence with a head trained on sequences
//! simulated from BKT) and onnxruntime's P(correct) over three simulated 200-answer sequences
//! into `$HEARTH_CACHE/dkt-models-v2`. Here a learner streams those answers one at a time, with
//! the recurrent state carried between steps, and must give onnxruntime's probabilities on the
//! whole sequence and the full re-run's (both within 1e-5) after every answer; the IR rewrite
//! that exposes the state, the bundle's validation and `next`/`predict`/`mastery` on the
//! model's probabilities are checked too.

mod common;

use hearth::bundle::learning::{
    ItemModel, LearningManifest, LearningWriter, QuestionMeta, LEARNING_FORMAT, LEARNING_VERSION,
};
use hearth::education::dkt::{KtEncoding, KtInput, KtKind, KtOutput, KtPer, KtSpec, KtState};
use hearth::education::tracer::{NextArgs, Tracer};
use hearth::ir::stream::expose_recurrent_state;
use hearth::{Error, Session};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Probabilities agree with onnxruntime's and with the full re-run within this (absolute).
const TOL: f64 = 1e-5;

fn models_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(write_models).clone()
}

fn write_models() -> PathBuf {
    common::generated_dir("dkt-models-v2", "dkt_models.py", "dkt_reference.json")
}

fn model(name: &str) -> Vec<u8> {
    std::fs::read(models_dir().join(format!("{name}.onnx"))).unwrap()
}

struct Reference {
    skills: usize,
    /// (skill, correct) per learner.
    sequences: Vec<Vec<(u32, bool)>>,
    /// model → learner → step → P(correct) per skill.
    p: Value,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string(models_dir().join("dkt_reference.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let sequences = v["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            q.as_array()
                .unwrap()
                .iter()
                .map(|a| (a[0].as_u64().unwrap() as u32, a[1].as_u64().unwrap() == 1))
                .collect()
        })
        .collect();
    Reference {
        skills: v["skills"].as_u64().unwrap() as usize,
        sequences,
        p: v["p"].clone(),
    }
}

/// 110 skills as 11 topics × 10 subtopics, two questions per skill (`q{s}a`, `q{s}b`).
fn manifest(skills: usize, kt: Option<KtSpec>) -> LearningManifest {
    let topics: Vec<String> = (0..skills.div_ceil(10)).map(|t| format!("T{t}")).collect();
    let subtopics: Vec<String> = (0..skills)
        .map(|s| format!("T{}.S{}", s / 10, s % 10))
        .collect();
    let questions = (0..2 * skills)
        .map(|q| QuestionMeta {
            id: format!("q{}{}", q / 2, if q % 2 == 0 { "a" } else { "b" }),
            topic: topics[q / 20].clone(),
            subtopic: Some(subtopics[q / 2].clone()),
            ..QuestionMeta::default()
        })
        .collect();
    LearningManifest {
        format: LEARNING_FORMAT.into(),
        version: LEARNING_VERSION,
        topics,
        subtopics,
        levels: vec![],
        questions,
        model: ItemModel::Elo,
        elo: Default::default(),
        fsrs: Default::default(),
        attribution: vec![],
        kt,
        source: None,
    }
}

fn spec(skills: usize, encoding: KtEncoding) -> KtSpec {
    let index = encoding == KtEncoding::Index;
    KtSpec {
        kind: KtKind::Dkt,
        input: KtInput {
            name: if index { "ids" } else { "x" }.into(),
            encoding,
            dtype: if index { "int64" } else { "float32" }.into(),
            offset: index as u32,
            padding_id: index.then_some(0),
            batch_first: true,
        },
        output: KtOutput {
            name: "p".into(),
            per: KtPer::Skill,
        },
        skills: (0..skills)
            .map(|s| format!("T{}.S{}", s / 10, s % 10))
            .collect(),
        question_skill: (0..2 * skills as u32).map(|q| q / 2).collect(),
        state: KtState::Carry,
    }
}

fn bundle(m: LearningManifest, kt_model: Option<Vec<u8>>) -> Vec<u8> {
    LearningWriter {
        manifest: m,
        irt: None,
        elo: None,
        bkt: None,
        kt_model,
    }
    .to_bytes()
    .unwrap()
}

fn tracer(name: &str, spec: KtSpec) -> hearth::Result<Tracer> {
    let skills = spec.skills.len();
    Tracer::from_bytes(&bundle(manifest(skills, Some(spec)), Some(model(name))))
}

fn encoding_of(name: &str) -> KtEncoding {
    if name.contains("onehot") {
        KtEncoding::Onehot
    } else {
        KtEncoding::Index
    }
}

/// Streams every reference sequence through a learner: after each answer, mastery().kt and
/// predict() must give onnxruntime's row for that step and the full re-run's.
fn check_streaming(name: &str, state: KtState) {
    let r = reference();
    let mut sp = spec(r.skills, encoding_of(name));
    sp.state = state;
    let t = tracer(name, sp).unwrap();
    let dkt = t.dkt().expect("the bundle's model");
    let mut worst: f64 = 0.0;
    for (l, seq) in r.sequences.iter().enumerate() {
        let full = dkt.run_sequence(seq).unwrap();
        assert_eq!(full.len(), seq.len() * r.skills);
        let mut learner = t.learner();
        // before the first answer the model has no prediction: IRT/Elo predicts
        assert_eq!(learner.predict(&t, "q0a").unwrap().model, "elo");
        for (step, &(s, c)) in seq.iter().enumerate() {
            let q = format!("q{s}a");
            learner
                .observe(&t, &q, c, 1.7e12 + step as f64 * 86_400_000.0)
                .unwrap();
            let want = r.p[name][l][step].as_array().unwrap();
            let kt = learner.mastery(&t).kt.unwrap();
            assert_eq!(kt.len(), r.skills);
            for (k, e) in kt.iter().enumerate() {
                let got = e.p_correct.unwrap();
                let ort = want[k].as_f64().unwrap();
                let rerun = full[step * r.skills + k] as f64;
                worst = worst.max((got - ort).abs()).max((got - rerun).abs());
                assert!(
                    (got - ort).abs() <= TOL && (got - rerun).abs() <= TOL,
                    "{name} learner {l} step {step} skill {k}: streamed {got}, onnxruntime \
                     {ort}, full re-run {rerun}"
                );
            }
            let p = learner.predict(&t, &format!("q{s}b")).unwrap();
            assert_eq!(p.model, "dkt");
            assert!((p.p_correct - want[s as usize].as_f64().unwrap()).abs() <= TOL);
        }
        assert_eq!(learner.kt_state().unwrap().steps() as usize, seq.len());
    }
    eprintln!(
        "{name} ({state:?}): largest difference {worst:.2e} over {} answers",
        3 * 200
    );
}

#[test]
fn lstm_streamed_matches_onnxruntime_and_the_full_rerun() {
    check_streaming("dkt_index", KtState::Carry);
}

#[test]
fn onehot_lstm_without_initial_state_streams() {
    check_streaming("dkt_onehot", KtState::Carry);
}

#[test]
fn gru_streams() {
    check_streaming("dkt_gru", KtState::Carry);
}

#[test]
fn stacked_lstm_streams_each_layers_state() {
    check_streaming("dkt_stacked", KtState::Carry);
    let (s, states) =
        Session::from_bytes_rewritten(&model("dkt_stacked"), expose_recurrent_state).unwrap();
    assert_eq!(states.len(), 2);
    assert_eq!(
        states[1].inputs,
        ["/rnn/LSTM_1/initial_h", "/rnn/LSTM_1/initial_c"]
    );
    // h0/c0 [2, batch, 64] were only sliced for the layers: no longer inputs
    let names: Vec<&str> = s.inputs().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(
        !names.contains(&"h0") && !names.contains(&"c0"),
        "{names:?}"
    );
}

#[test]
fn rerun_state_gives_the_same_probabilities() {
    check_streaming("dkt_gru", KtState::Rerun);
}

#[test]
fn the_rewrite_exposes_the_recurrent_state() {
    // PyTorch's h0/c0 → hn/cn are kept under their names
    let (s, states) =
        Session::from_bytes_rewritten(&model("dkt_index"), expose_recurrent_state).unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].inputs, ["h0", "c0"]);
    assert_eq!(states[0].outputs, ["hn", "cn"]);
    assert_eq!(s.inputs().len(), 3);
    // an absent initial_h becomes an input, the unread Y_h an output
    let (s, states) =
        Session::from_bytes_rewritten(&model("dkt_gru"), expose_recurrent_state).unwrap();
    assert_eq!(states[0].inputs, ["/rnn/GRU/initial_h"]);
    assert_eq!(states[0].outputs, ["/rnn/GRU/Y_h"]);
    let names: Vec<&str> = s.outputs().iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["p", "/rnn/GRU/Y_h"]);
    assert_eq!(states[0].shape(1), [1, 1, 64]);
    // bidirectional cannot stream
    let e = Session::from_bytes_rewritten(&model("dkt_bidir"), expose_recurrent_state).unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    assert!(e.to_string().contains("both directions"), "{e}");
    // nothing to carry
    let e = Session::from_bytes_rewritten(&model("dkt_gru"), |g| {
        g.nodes.retain(|n| !matches!(n.op, hearth::ir::Op::Rnn(_)));
        expose_recurrent_state(g)
    })
    .unwrap_err();
    assert!(e.to_string().contains("no LSTM, GRU or RNN node"), "{e}");
}

fn invalid(name: &str, spec: KtSpec) -> String {
    match tracer(name, spec) {
        Err(Error::InvalidBundle(m)) => m,
        Err(e) => panic!("expected BUNDLE_INVALID, got {e}"),
        Ok(_) => panic!("a bad bundle loaded"),
    }
}

#[test]
fn bad_kt_manifests_name_the_field() {
    let s = 110;
    let base = || spec(s, KtEncoding::Index);
    let m = invalid("dkt_bidir", base());
    assert!(
        m.contains("kt_model") && m.contains("both directions"),
        "{m}"
    );
    let mut k = base();
    k.input.name = "input".into();
    let m = invalid("dkt_index", k);
    assert!(
        m.contains("kt.input.name 'input'") && m.contains("'ids'"),
        "{m}"
    );
    let mut k = base();
    k.output.name = "logits".into();
    let m = invalid("dkt_index", k);
    assert!(m.contains("kt.output.name 'logits'"), "{m}");
    let mut k = base();
    k.input.dtype = "int32".into();
    let m = invalid("dkt_index", k);
    assert!(
        m.contains("kt.input.dtype 'int32'") && m.contains("int64"),
        "{m}"
    );
    let mut k = base();
    k.input.padding_id = Some(5);
    let m = invalid("dkt_index", k);
    assert!(m.contains("kt.input.paddingId 5"), "{m}");
    let mut k = base();
    k.question_skill.pop();
    let m = invalid("dkt_index", k);
    assert!(m.contains("kt.questionSkill has 219 entries"), "{m}");
    let mut k = base();
    k.question_skill[3] = 110;
    let m = invalid("dkt_index", k);
    assert!(m.contains("kt.questionSkill[3] = 110"), "{m}");
    // per-question output on a per-skill model: the probe step sees the width
    let mut k = base();
    k.output.per = KtPer::Question;
    let m = invalid("dkt_index", k);
    assert!(
        m.contains("kt.output 'p'") && m.contains("220 per answer"),
        "{m}"
    );
    // the one-hot ids must fit the input's width
    let mut k = spec(s, KtEncoding::Onehot);
    k.input.offset = 1;
    let m = invalid("dkt_onehot", k);
    assert!(m.contains("220 wide"), "{m}");
    // a model of another encoding
    let m = invalid("dkt_onehot", base());
    assert!(m.contains("kt.input.name 'ids'"), "{m}");
    // rerun cannot feed the state inputs of a model that takes them
    let mut k = base();
    k.state = KtState::Rerun;
    let m = invalid("dkt_index", k);
    assert!(m.contains("input 'h0'"), "{m}");
    // kt without the model, and a model that is not ONNX
    let e = Tracer::from_bytes(&bundle(manifest(s, Some(base())), None));
    assert!(
        matches!(&e, Err(Error::InvalidBundle(m)) if m.contains("needs the tensor 'kt_model'")),
        "{:?}",
        e.err()
    );
    let e = Tracer::from_bytes(&bundle(manifest(s, Some(base())), Some(vec![1, 2, 3])));
    assert!(
        matches!(&e, Err(Error::InvalidBundle(m)) if m.starts_with("tensor 'kt_model'")),
        "{:?}",
        e.err()
    );
    // unknown fields in the JSON are refused by name
    let mut v = serde_json::to_value(base()).unwrap();
    v["input"]["offest"] = 1.into();
    let e = serde_json::from_value::<KtSpec>(v).unwrap_err();
    assert!(e.to_string().contains("offest"), "{e}");
}

#[test]
fn next_and_predict_use_the_models_probabilities() {
    let r = reference();
    let t = tracer("dkt_index", spec(r.skills, KtEncoding::Index)).unwrap();
    let mut learner = t.learner();
    for (step, &(s, c)) in r.sequences[0].iter().take(50).enumerate() {
        learner
            .observe(
                &t,
                &format!("q{s}a"),
                c,
                1.7e12 + step as f64 * 86_400_000.0,
            )
            .unwrap();
    }
    let row = r.p["dkt_index"][0][49].as_array().unwrap();
    let args = NextArgs {
        k: 5,
        ..NextArgs::default()
    };
    let next = learner.next(&t, &args).unwrap();
    assert_eq!(next.len(), 5);
    // the bank spreads over topics (10 model skills each): each topic's closest to 0.7
    let mut best: Vec<f64> = row
        .chunks(10)
        .map(|c| {
            c.iter()
                .map(|p| (p.as_f64().unwrap() - 0.7).abs())
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    best.sort_by(f64::total_cmp);
    for n in &next {
        let skill: usize = n.question[1..n.question.len() - 1].parse().unwrap();
        let p = row[skill].as_f64().unwrap();
        assert!((n.p_correct - p).abs() <= TOL, "{n:?} vs {p}");
        assert!(
            n.reason.starts_with(&format!("P(correct) {p:.2}")),
            "{}",
            n.reason
        );
    }
    // the five topics whose best is closest to the target
    let mut d: Vec<f64> = next.iter().map(|n| (n.p_correct - 0.7).abs()).collect();
    d.sort_by(f64::total_cmp);
    for (a, b) in d.iter().zip(&best) {
        assert!((a - b).abs() <= TOL, "{d:?} vs {:?}", &best[..5]);
    }
    let info = t.info();
    let kt = info.kt.unwrap();
    assert_eq!((kt.state.as_str(), kt.recurrent.len()), ("carry", 1));
    // a refused answer (a day before the question's last) leaves the model's state unchanged
    let before = learner.kt_state().unwrap().clone();
    let (s, _) = r.sequences[0][49];
    assert!(learner
        .observe(&t, &format!("q{s}a"), true, 1.0e12)
        .is_err());
    assert_eq!(learner.kt_state().unwrap(), &before);
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_declares_the_model_from_its_inputs() {
    use hearth::cli::tracer::{attach_kt, KtOptions};
    let r = reference();
    let mut w = LearningWriter {
        manifest: manifest(r.skills, None),
        irt: None,
        elo: None,
        bkt: None,
        kt_model: None,
    };
    let o = KtOptions {
        offset: 1,
        padding_id: Some(0),
        ..KtOptions::default()
    };
    attach_kt(&mut w, model("dkt_index"), &o).unwrap();
    // the bank's skills are its subtopics, in question order: the generator's skill ids
    assert_eq!(
        w.manifest.kt.as_ref(),
        Some(&spec(r.skills, KtEncoding::Index))
    );
    let t = Tracer::from_bytes(&w.to_bytes().unwrap()).unwrap();
    assert_eq!(t.info().kt.unwrap().recurrent, ["/rnn/LSTM"]);
    // one-hot is read from a float input; topics as the model's skills
    let mut w2 = LearningWriter {
        manifest: manifest(r.skills, None),
        irt: None,
        elo: None,
        bkt: None,
        kt_model: None,
    };
    let o = KtOptions {
        skills_from_topics: true,
        ..KtOptions::default()
    };
    attach_kt(&mut w2, model("dkt_onehot"), &o).unwrap();
    let kt = w2.manifest.kt.as_ref().unwrap();
    assert_eq!(
        (kt.input.encoding, kt.input.name.as_str(), kt.skills.len()),
        (KtEncoding::Onehot, "x", 11)
    );
    assert_eq!(kt.question_skill[25], 1);
    // 11 skills on a model of 110: the probe step sees the output's width
    let e = Tracer::from_bytes(&w2.to_bytes().unwrap()).err().unwrap();
    assert!(e.to_string().contains("expected 11 per answer"), "{e}");
}

/// A learner's state with the sequence model's state (carried recurrent state, or the history
/// for `rerun`) saved and restored gives bit for bit what the learner it came from gives, after
/// more answers too; a state with the wrong shapes is refused naming the field.
#[test]
fn a_restored_learner_carries_the_sequence_models_state_exactly() {
    let r = reference();
    for state in [KtState::Carry, KtState::Rerun] {
        let mut sp = spec(r.skills, KtEncoding::Index);
        sp.state = state;
        let t = tracer("dkt_gru", sp).unwrap();
        let seq = &r.sequences[0];
        let (head, tail) = seq.split_at(seq.len() / 2);
        let mut full = t.learner();
        for (step, &(s, c)) in head.iter().enumerate() {
            full.observe(
                &t,
                &format!("q{s}a"),
                c,
                1.7e12 + step as f64 * 86_400_000.0,
            )
            .unwrap();
        }
        let saved = serde_json::to_value(&full).unwrap();
        let mut restored = t
            .restore(serde_json::from_value(saved.clone()).unwrap())
            .unwrap();
        assert_eq!(restored, full);
        for (step, &(s, c)) in tail.iter().enumerate() {
            let ts = 1.7e12 + (head.len() + step) as f64 * 86_400_000.0;
            let q = format!("q{s}b");
            assert_eq!(
                restored.observe(&t, &q, c, ts).unwrap(),
                full.observe(&t, &q, c, ts).unwrap()
            );
        }
        assert_eq!(restored.mastery(&t), full.mastery(&t));
        assert_eq!(
            restored.predict(&t, "q0a").unwrap(),
            full.predict(&t, "q0a").unwrap()
        );
        // shapes that do not fit the model
        let mut bad = saved.clone();
        bad["kt"]["p"].as_array_mut().unwrap().pop();
        match t.restore(serde_json::from_value(bad).unwrap()) {
            Err(hearth::Error::Argument(m)) => assert!(m.contains("kt: a P(correct) row"), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut bad = saved;
        bad["kt"]["steps"] = serde_json::json!(0);
        assert!(matches!(
            t.restore(serde_json::from_value(bad).unwrap()),
            Err(hearth::Error::Argument(_))
        ));
    }
}

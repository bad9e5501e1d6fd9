//! Knowledge tracing at the JS boundary: the `Tracer` and `Learner` classes over
//! [`crate::education::tracer`]. Results and options cross with serde-wasm-bindgen and the
//! serde derives of that module (camelCase fields, JSON-compatible values: plain objects and
//! numbers); errors are mapped once, as everywhere at this boundary (`UNKNOWN_ITEM`,
//! `BUNDLE_INVALID`, `ARGUMENT` with the option named).

use super::{arg_error, to_js};
use crate::education::tracer::{NextArgs, Tracer, TracerLearner};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

fn out<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| arg_error(format!("result: {e}")))
}

/// A large or free-form result as one JSON string parsed on the JS side.
fn json<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let s = serde_json::to_string(v).map_err(|e| arg_error(format!("result: {e}")))?;
    js_sys::JSON::parse(&s)
}

/// A loaded `.hearth` learning bundle.
#[wasm_bindgen(js_name = Tracer)]
pub struct WasmTracer {
    inner: Rc<Tracer>,
}

#[wasm_bindgen(js_class = Tracer)]
impl WasmTracer {
    /// Parses and validates a learning bundle (`BUNDLE_INVALID` naming the field).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmTracer, JsValue> {
        Ok(WasmTracer {
            inner: Rc::new(Tracer::from_bytes(bytes).map_err(to_js)?),
        })
    }

    /// `{ format, version, model, numQuestions, topics, skills: [{ skill, topic }], levels,
    /// attribution, hasKtModel, source }`.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        // through JSON: `source` is free-form JSON already
        json(&self.inner.info())
    }

    /// Every question: `[{ id, topic, skill, level, levelName?, keywords, difficulty,
    /// discrimination, model }]`, in bank order. Through one JSON string rather than
    /// serde-wasm-bindgen: for a bank of 10,000 questions, one `JSON.parse` instead of ~100,000
    /// boundary calls.
    pub fn questions(&self) -> Result<JsValue, JsValue> {
        json(&self.inner.questions())
    }

    /// One question (as in `questions()`); `UNKNOWN_ITEM` for an id not in the bank.
    pub fn question(&self, id: &str) -> Result<JsValue, JsValue> {
        out(&self.inner.question(id).map_err(to_js)?)
    }

    /// A learner who has answered nothing.
    #[wasm_bindgen(js_name = newLearner)]
    pub fn new_learner(&self) -> WasmLearner {
        WasmLearner {
            learner: self.inner.learner(),
            tracer: self.inner.clone(),
        }
    }

    /// A learner from a state `Learner.exportState()` gave (for this bundle), checked field
    /// by field: `ARGUMENT` `learner state: …` for a state of another bundle or a damaged one.
    #[wasm_bindgen(js_name = restoreLearner)]
    pub fn restore_learner(&self, state: JsValue) -> Result<WasmLearner, JsValue> {
        let state: TracerLearner = serde_wasm_bindgen::from_value(state)
            .map_err(|e| arg_error(format!("learner state: {e}")))?;
        Ok(WasmLearner {
            learner: self.inner.restore(state).map_err(to_js)?,
            tracer: self.inner.clone(),
        })
    }

    /// The bundle's ONNX knowledge-tracing model, if any (load it with `Session.fromBytes`).
    #[wasm_bindgen(js_name = ktModel)]
    pub fn kt_model(&self) -> Option<js_sys::Uint8Array> {
        self.inner.kt_model().map(js_sys::Uint8Array::from)
    }
}

/// One learner's state over a tracer's bank.
#[wasm_bindgen(js_name = Learner)]
pub struct WasmLearner {
    tracer: Rc<Tracer>,
    learner: TracerLearner,
}

/// A stored answer, as the package keeps them.
#[derive(Deserialize)]
struct StoredAnswer {
    question: String,
    correct: bool,
    ts: f64,
}

/// What a replay did.
#[derive(Serialize)]
struct Replayed {
    applied: u32,
    /// Ids of answers skipped because the bundle no longer has the question.
    skipped: Vec<String>,
}

#[wasm_bindgen(js_class = Learner)]
impl WasmLearner {
    /// Records an answer at `ts` (ms); returns `{ question, correct, pCorrectBefore, ability,
    /// topic, skill, review, answered }`. `UNKNOWN_ITEM` for an id not in the bank, `ARGUMENT`
    /// for a bad time; the state is unchanged on error.
    pub fn observe(&mut self, question: &str, correct: bool, ts: f64) -> Result<JsValue, JsValue> {
        let o = self
            .learner
            .observe(&self.tracer, question, correct, ts)
            .map_err(to_js)?;
        out(&o)
    }

    /// Replays stored answers `[{ question, correct, ts }]` in order; answers to questions the
    /// bundle no longer has are skipped. Returns `{ applied, skipped: [ids] }`.
    #[wasm_bindgen(js_name = observeMany)]
    pub fn observe_many(&mut self, answers: JsValue) -> Result<JsValue, JsValue> {
        let list: Vec<StoredAnswer> = serde_wasm_bindgen::from_value(answers)
            .map_err(|e| arg_error(format!("answers: {e}")))?;
        let mut r = Replayed {
            applied: 0,
            skipped: Vec::new(),
        };
        for a in list {
            match self
                .learner
                .observe(&self.tracer, &a.question, a.correct, a.ts)
            {
                Ok(_) => r.applied += 1,
                Err(crate::Error::UnknownItem(id)) => r.skipped.push(id),
                Err(e) => return Err(to_js(e)),
            }
        }
        out(&r)
    }

    /// `{ question, pCorrect, information, model, pCorrectBkt, pMastery }`.
    pub fn predict(&self, question: &str) -> Result<JsValue, JsValue> {
        out(&self
            .learner
            .predict(&self.tracer, question)
            .map_err(to_js)?)
    }

    /// `{ ability: { mean, sd, lo, hi, answered }, topics: [{ topic, mean, sd, lo, hi,
    /// answered, pMastery }], skills: [{ skill, topic, mean, sd, lo, hi, answered }] }`.
    pub fn mastery(&self) -> Result<JsValue, JsValue> {
        out(&self.learner.mastery(&self.tracer))
    }

    /// `options`: `{ k = 5, targetSuccess = 0.7, topic?, level?, exclude?: ids, mode?:
    /// 'practice' | 'assess' }`; returns `[{ question, topic, skill, level, pCorrect,
    /// information, reason }]`.
    pub fn next(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let args: NextArgs = if options.is_undefined() || options.is_null() {
            NextArgs::default()
        } else {
            serde_wasm_bindgen::from_value(options)
                .map_err(|e| arg_error(format!("options: {e}")))?
        };
        out(&self.learner.next(&self.tracer, &args).map_err(to_js)?)
    }

    /// Review cards at `now` (ms): due ones, most overdue first; with `all`, every card.
    /// `[{ question, due, retrievability, stability, difficulty, state, reps, lapses,
    /// scheduledDays }]`.
    pub fn due(&self, now: f64, all: bool) -> Result<JsValue, JsValue> {
        out(&self.learner.due(&self.tracer, now, all).map_err(to_js)?)
    }

    /// The whole state (posteriors, Elo, BKT, review cards, the sequence model's state) as a
    /// structured-clonable JS value (plain objects, arrays, a `Map` of cards, numbers: every
    /// f64 exact), for `Tracer.restoreLearner`.
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> Result<JsValue, JsValue> {
        serde_wasm_bindgen::to_value(&self.learner)
            .map_err(|e| arg_error(format!("learner state: {e}")))
    }

    /// Answers observed.
    #[wasm_bindgen(getter)]
    pub fn answered(&self) -> u32 {
        self.learner.answered()
    }

    /// Forgets every answer.
    pub fn clear(&mut self) {
        self.learner = self.tracer.learner();
    }
}

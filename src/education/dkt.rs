//! Sequence models of knowledge tracing through ONNX (DKT and its relatives, as PyTorch exports
//! them), streamed: the learning bundle carries the model (`kt_model`) and its manifest's `kt`
//! ([`KtSpec`]) says how an answer becomes the model's input and which output is P(correct).
//!
//! - Input: the DKT encoding, id = `offset` + skill + S·correct for S skills, either as an
//!   index (int64/int32 `[batch, seq]`, the usual `nn.Embedding` input) or one-hot (float32
//!   `[batch, seq, width]`, width ≥ offset + 2S). `paddingId` (index encoding) is the id the
//!   exporter padded batches with; it must lie outside the answers' ids.
//! - Output: P(correct) for the next answer, per skill (width S) or per question (width n),
//!   `[batch, seq, width]`; the last step's row is the learner's state.
//! - State `carry` (the default): the model's LSTM/GRU/RNN state is exposed as graph inputs and
//!   outputs at load ([`crate::ir::stream::expose_recurrent_state`]) and each answer runs one
//!   step of length 1 from the carried state, so an answer costs the same after 10 answers or
//!   10,000. State `rerun`: for models without such a node (attention models), every answer
//!   re-runs the whole history.
//!
//! Everything is checked at load: the spec against the bank ([`KtSpec::validate`]) and the
//! model against the spec (input and output names, dtypes, widths; one probe step), each a
//! [`Error::InvalidBundle`] naming the field.

use crate::error::{Error, Result};
use crate::ir::stream::{expose_recurrent_state, RecurrentState};
use crate::session::Session;
use crate::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// The manifest's `kt`: how the bundle's ONNX model (`kt_model`) reads answers and what it
/// predicts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KtSpec {
    /// The model family; `dkt` (the id = skill + S·correct encoding).
    pub kind: KtKind,
    pub input: KtInput,
    pub output: KtOutput,
    /// The model's skill names (S of them), in the order of its skill ids.
    pub skills: Vec<String>,
    /// The model skill of each question, in the manifest's question order.
    pub question_skill: Vec<u32>,
    /// How the learner's state is kept between answers. Default `carry`.
    #[serde(default)]
    pub state: KtState,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KtKind {
    Dkt,
}

/// How an answer becomes the model's input.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KtInput {
    /// The model input that takes the answers.
    pub name: String,
    /// `index` (an id per step) or `onehot` (a vector per step).
    pub encoding: KtEncoding,
    /// The input's element type: `int64` or `int32` for `index`, `float32` for `onehot`.
    pub dtype: String,
    /// Added to skill + S·correct. Default 0.
    #[serde(default)]
    pub offset: u32,
    /// The id batches were padded with (index encoding), outside the answers' ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding_id: Option<i64>,
    /// Whether the input is `[batch, seq, …]` (PyTorch's `batch_first=True`) rather than
    /// `[seq, batch, …]`. Default true.
    #[serde(default = "yes")]
    pub batch_first: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KtEncoding {
    Index,
    Onehot,
}

/// Which output is P(correct).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KtOutput {
    pub name: String,
    /// `skill`: one probability per model skill; `question`: one per question.
    pub per: KtPer,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum KtPer {
    Skill,
    Question,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KtState {
    /// Carry the recurrent nodes' state: one step per answer.
    #[default]
    Carry,
    /// Re-run the whole history on every answer.
    Rerun,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidBundle(msg.into())
}

impl KtSpec {
    /// Checks the spec against a bank of `questions` questions; errors name the field
    /// (`manifest kt.…`).
    pub fn validate(&self, questions: usize) -> Result<()> {
        let s = self.skills.len();
        if s == 0 {
            return Err(bad("manifest kt.skills: at least one skill is needed"));
        }
        for (k, name) in self.skills.iter().enumerate() {
            if name.is_empty() {
                return Err(bad(format!("manifest kt.skills[{k}] is empty")));
            }
        }
        if self.question_skill.len() != questions {
            return Err(bad(format!(
                "manifest kt.questionSkill has {} entries, expected one per question ({questions})",
                self.question_skill.len()
            )));
        }
        if let Some(k) = self.question_skill.iter().position(|&x| x as usize >= s) {
            return Err(bad(format!(
                "manifest kt.questionSkill[{k}] = {}: the model has {s} skills",
                self.question_skill[k]
            )));
        }
        let want = match self.input.encoding {
            KtEncoding::Index => ["int64", "int32"].as_slice(),
            KtEncoding::Onehot => ["float32"].as_slice(),
        };
        if !want.contains(&self.input.dtype.as_str()) {
            return Err(bad(format!(
                "manifest kt.input.dtype '{}': the {:?} encoding takes {}",
                self.input.dtype,
                self.input.encoding,
                want.join(" or ")
            )));
        }
        let (lo, hi) = self.id_range();
        if self.input.dtype == "int32" && hi > i32::MAX as i64 {
            return Err(bad(format!(
                "manifest kt.input: ids up to {hi} do not fit int32"
            )));
        }
        match (self.input.encoding, self.input.padding_id) {
            (KtEncoding::Onehot, Some(_)) => {
                return Err(bad(
                    "manifest kt.input.paddingId: the onehot encoding pads with zero vectors, \
                     not an id",
                ))
            }
            (KtEncoding::Index, Some(p)) if (lo..hi).contains(&p) => {
                return Err(bad(format!(
                    "manifest kt.input.paddingId {p} is an answer's id (answers use {lo}..{hi})"
                )))
            }
            _ => {}
        }
        if self.input.name.is_empty() || self.output.name.is_empty() {
            return Err(bad(
                "manifest kt.input.name and kt.output.name must name the model's input and output",
            ));
        }
        Ok(())
    }

    /// The answers' ids: `offset ..offset + 2S` (end exclusive).
    fn id_range(&self) -> (i64, i64) {
        let lo = self.input.offset as i64;
        (lo, lo + 2 * self.skills.len() as i64)
    }

    /// The id of an answer to model skill `skill`.
    pub fn id(&self, skill: u32, correct: bool) -> i64 {
        self.input.offset as i64 + skill as i64 + self.skills.len() as i64 * correct as i64
    }

    /// The output row's width: S per skill, n per question.
    fn width(&self) -> usize {
        match self.output.per {
            KtPer::Skill => self.skills.len(),
            KtPer::Question => self.question_skill.len(),
        }
    }
}

/// A loaded sequence model with its spec.
#[derive(Debug)]
pub struct Dkt {
    spec: KtSpec,
    session: Session,
    /// The recurrent nodes' state (empty for `rerun`).
    states: Vec<RecurrentState>,
    /// Positions in the session's outputs: P(correct), then each state output.
    p_out: usize,
    state_outs: Vec<usize>,
    /// One-hot width (the input's last dim).
    onehot_width: usize,
}

/// One learner's sequence-model state: the carried recurrent state (or the history, for
/// `rerun`) and the latest P(correct) row (empty before the first answer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct DktState {
    state: Vec<Vec<f32>>,
    history: Vec<i64>,
    p: Vec<f32>,
    steps: u32,
}

impl DktState {
    /// Answers the model has read.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// The latest P(correct) row (per skill or per question; empty before any answer).
    pub fn row(&self) -> &[f32] {
        &self.p
    }
}

impl Dkt {
    /// Loads `model` for `spec` (validated against a bank of `questions` questions first).
    /// Errors: [`Error::InvalidBundle`] naming the field, with the engine's reason.
    pub fn new(model: &[u8], spec: KtSpec, questions: usize) -> Result<Dkt> {
        spec.validate(questions)?;
        let engine = |e: Error| bad(format!("tensor 'kt_model': {e}"));
        let (session, states) = match spec.state {
            KtState::Carry => {
                Session::from_bytes_rewritten(model, expose_recurrent_state).map_err(engine)?
            }
            KtState::Rerun => (Session::from_bytes(model).map_err(engine)?, Vec::new()),
        };
        let inputs = session.inputs();
        let Some(inp) = inputs.iter().find(|i| i.name == spec.input.name) else {
            return Err(bad(format!(
                "manifest kt.input.name '{}' is not an input of the model (inputs: {})",
                spec.input.name,
                names(inputs.iter().map(|i| i.name.as_str()))
            )));
        };
        let state_names: Vec<&str> = states
            .iter()
            .flat_map(|s| s.inputs.iter().map(String::as_str))
            .collect();
        if let Some(other) = inputs
            .iter()
            .find(|i| i.name != spec.input.name && !state_names.contains(&i.name.as_str()))
        {
            return Err(bad(format!(
                "tensor 'kt_model': input '{}' is neither kt.input.name nor a recurrent state \
                 the tracer can feed{}",
                other.name,
                if spec.state == KtState::Rerun {
                    " (state 'rerun' feeds only kt.input.name: declare 'carry' for a model \
                     that takes its state)"
                } else {
                    ""
                }
            )));
        }
        if let Some(d) = inp.dtype {
            if d.name() != spec.input.dtype {
                return Err(bad(format!(
                    "manifest kt.input.dtype '{}': the model's input '{}' is {}",
                    spec.input.dtype,
                    inp.name,
                    d.name()
                )));
            }
        }
        let rank = inp.shape.as_ref().map(Vec::len);
        let want_rank = match spec.input.encoding {
            KtEncoding::Index => 2,
            KtEncoding::Onehot => 3,
        };
        if rank.is_some_and(|r| r != want_rank) {
            return Err(bad(format!(
                "manifest kt.input.encoding {:?}: the model's input '{}' has rank {}, expected {want_rank}",
                spec.input.encoding,
                inp.name,
                rank.unwrap_or(0)
            )));
        }
        let (_, hi) = spec.id_range();
        let onehot_width = match spec.input.encoding {
            KtEncoding::Index => 0,
            KtEncoding::Onehot => {
                let w = inp
                    .shape
                    .as_ref()
                    .and_then(|s| s.last())
                    .and_then(|d| d.known())
                    .unwrap_or(hi as usize);
                if (w as i64) < hi {
                    return Err(bad(format!(
                        "manifest kt.input: the one-hot ids reach {} but the model's input '{}' \
                         is {w} wide",
                        hi - 1,
                        inp.name
                    )));
                }
                w
            }
        };
        let outputs = session.outputs();
        let Some(p_out) = outputs.iter().position(|o| o.name == spec.output.name) else {
            return Err(bad(format!(
                "manifest kt.output.name '{}' is not an output of the model (outputs: {})",
                spec.output.name,
                names(outputs.iter().map(|o| o.name.as_str()))
            )));
        };
        let state_outs = states
            .iter()
            .flat_map(|s| s.outputs.iter())
            .map(|n| {
                outputs
                    .iter()
                    .position(|o| &o.name == n)
                    .expect("the rewrite made it an output")
            })
            .collect();
        let dkt = Dkt {
            spec,
            session,
            states,
            p_out,
            state_outs,
            onehot_width,
        };
        // one probe step: shapes and widths that only a run shows
        let mut probe = dkt.start();
        dkt.observe(&mut probe, 0, false).map_err(|e| match e {
            Error::InvalidBundle(m) => bad(m),
            e => bad(format!("tensor 'kt_model' (a probe step): {e}")),
        })?;
        Ok(dkt)
    }

    pub fn spec(&self) -> &KtSpec {
        &self.spec
    }

    /// The recurrent state the model carries (empty for `rerun`).
    pub fn recurrent(&self) -> &[RecurrentState] {
        &self.states
    }

    /// A learner who has answered nothing: zero state.
    pub fn start(&self) -> DktState {
        DktState {
            state: self
                .states
                .iter()
                .flat_map(|s| s.inputs.iter().map(|_| vec![0.0; s.hidden]))
                .collect(),
            ..DktState::default()
        }
    }

    /// Checks a learner's state that was stored and read back against this model: the carried
    /// state's shapes, the P(correct) row (empty or one probability per output), the history
    /// (`rerun`: one input id per step). Errors ([`Error::Argument`]) name the field.
    pub fn check_state(&self, st: &DktState) -> Result<()> {
        let zero = self.start();
        let shapes = |s: &[Vec<f32>]| s.iter().map(Vec::len).collect::<Vec<_>>();
        if shapes(&st.state) != shapes(&zero.state)
            || st.state.iter().flatten().any(|v| !v.is_finite())
        {
            return Err(Error::Argument(format!(
                "kt: the carried state has shapes {:?}, the model's {:?} (finite values)",
                shapes(&st.state),
                shapes(&zero.state)
            )));
        }
        let w = self.spec.width();
        if !(st.p.is_empty() || st.p.len() == w) || st.p.iter().any(|p| !(0.0..=1.0).contains(p)) {
            return Err(Error::Argument(format!(
                "kt: a P(correct) row of {} values, the model's has {w} probabilities",
                st.p.len()
            )));
        }
        let ids = self.spec.input.offset as i64..self.spec.id(self.spec.skills.len() as u32, true);
        let history = match self.spec.state {
            KtState::Carry => 0,
            KtState::Rerun => st.steps as usize,
        };
        if st.history.len() != history || st.history.iter().any(|id| !ids.contains(id)) {
            return Err(Error::Argument(format!(
                "kt: a history of {} input ids after {} steps (ids in {ids:?})",
                st.history.len(),
                st.steps
            )));
        }
        if (st.steps == 0) != st.p.is_empty() {
            return Err(Error::Argument(format!(
                "kt: {} steps with a P(correct) row of {} values",
                st.steps,
                st.p.len()
            )));
        }
        Ok(())
    }

    /// The input tensor of `ids` (one sequence).
    fn input(&self, ids: &[i64]) -> Result<Tensor> {
        let t = ids.len();
        let seq_shape = |inner: Option<usize>| {
            let mut s = if self.spec.input.batch_first {
                vec![1, t]
            } else {
                vec![t, 1]
            };
            s.extend(inner);
            s
        };
        match self.spec.input.encoding {
            KtEncoding::Index => {
                let data = if self.spec.input.dtype == "int32" {
                    TensorData::I32(ids.iter().map(|&i| i as i32).collect())
                } else {
                    TensorData::I64(ids.to_vec())
                };
                Tensor::new(seq_shape(None), data)
            }
            KtEncoding::Onehot => {
                let w = self.onehot_width;
                let mut v = vec![0.0f32; t * w];
                for (k, &id) in ids.iter().enumerate() {
                    v[k * w + id as usize] = 1.0;
                }
                Tensor::from_f32(seq_shape(Some(w)), v)
            }
        }
    }

    /// Runs `ids` from `state` (one tensor per state input); returns every step's row and
    /// the state after the last.
    fn run(&self, ids: &[i64], state: &[Vec<f32>]) -> Result<(Vec<f32>, Vec<Vec<f32>>)> {
        let x = self.input(ids)?;
        let mut tensors = Vec::with_capacity(state.len());
        let mut k = 0;
        for s in &self.states {
            for _ in &s.inputs {
                tensors.push(Tensor::from_f32(s.shape(1), state[k].clone())?);
                k += 1;
            }
        }
        let mut feeds: Vec<(&str, &Tensor)> = vec![(self.spec.input.name.as_str(), &x)];
        let names = self.states.iter().flat_map(|s| s.inputs.iter());
        for (n, t) in names.zip(&tensors) {
            feeds.push((n.as_str(), t));
        }
        let out = self.session.run(&feeds)?;
        let p = out[self.p_out].as_f32()?;
        let w = self.spec.width();
        if p.len() != ids.len() * w {
            return Err(bad(format!(
                "manifest kt.output '{}' (per {:?}): the model gave {} values ({:?}) for {} \
                 answers, expected {w} per answer",
                self.spec.output.name,
                self.spec.output.per,
                p.len(),
                out[self.p_out].shape(),
                ids.len()
            )));
        }
        if let Some(x) = p.iter().find(|x| !(0.0..=1.0).contains(*x)) {
            return Err(bad(format!(
                "manifest kt.output '{}': the model gave {x}, not a probability (name the \
                 output after the sigmoid)",
                self.spec.output.name
            )));
        }
        let next = self
            .state_outs
            .iter()
            .map(|&o| out[o].as_f32().map(<[f32]>::to_vec))
            .collect::<Result<Vec<_>>>()?;
        Ok((p.to_vec(), next))
    }

    /// Reads one answer to model skill `skill`: one step from the carried state (`carry`) or
    /// the whole history again (`rerun`). The state is unchanged on error.
    pub fn observe(&self, st: &mut DktState, skill: u32, correct: bool) -> Result<()> {
        if skill as usize >= self.spec.skills.len() {
            return Err(Error::Argument(format!(
                "model skill {skill}: the model has {} skills",
                self.spec.skills.len()
            )));
        }
        let id = self.spec.id(skill, correct);
        let w = self.spec.width();
        match self.spec.state {
            KtState::Carry => {
                let (p, next) = self.run(&[id], &st.state)?;
                st.p = p;
                st.state = next;
            }
            KtState::Rerun => {
                let mut h = st.history.clone();
                h.push(id);
                let (p, _) = self.run(&h, &[])?;
                st.p = p[p.len() - w..].to_vec();
                st.history = h;
            }
        }
        st.steps += 1;
        Ok(())
    }

    /// The whole sequence of `(skill, correct)` answers run at once from zero state (the
    /// full re-run): every step's row, `answers.len() × width` values.
    pub fn run_sequence(&self, answers: &[(u32, bool)]) -> Result<Vec<f32>> {
        let ids: Vec<i64> = answers.iter().map(|&(s, c)| self.spec.id(s, c)).collect();
        let zero = self.start();
        Ok(self.run(&ids, &zero.state)?.0)
    }

    /// P(correct) on question `q` (bank index) after the answers `st` has read; `None` before
    /// the first answer (the model has no prediction yet).
    pub fn p_correct(&self, st: &DktState, q: usize) -> Option<f64> {
        if st.p.is_empty() {
            return None;
        }
        let i = match self.spec.output.per {
            KtPer::Skill => self.spec.question_skill[q] as usize,
            KtPer::Question => q,
        };
        Some(st.p[i] as f64)
    }

    /// P(correct) per model skill: the row itself (per skill), or the mean over each skill's
    /// questions (per question; `None` for a skill without questions). `None` before the
    /// first answer.
    pub fn skill_p(&self, st: &DktState) -> Option<Vec<Option<f64>>> {
        if st.p.is_empty() {
            return None;
        }
        Some(match self.spec.output.per {
            KtPer::Skill => st.p.iter().map(|&x| Some(x as f64)).collect(),
            KtPer::Question => {
                let s = self.spec.skills.len();
                let (mut sum, mut n) = (vec![0.0; s], vec![0u32; s]);
                for (q, &k) in self.spec.question_skill.iter().enumerate() {
                    sum[k as usize] += st.p[q] as f64;
                    n[k as usize] += 1;
                }
                sum.iter()
                    .zip(&n)
                    .map(|(&a, &c)| (c > 0).then(|| a / c as f64))
                    .collect()
            }
        })
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

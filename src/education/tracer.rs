//! A learning bundle put to work for one app: [`Tracer`] (the bank, its metadata and the review
//! scheduler) and [`TracerLearner`] (one learner's state), addressed by question ids and topic
//! names, with results ready for display. The wasm boundary and the CLI both use these, so the
//! native and the browser builds give the same numbers.
//!
//! A learner's skills are the bank's (topic, subtopic) pairs — a question without a subtopic
//! practises its topic itself. Besides the engine's state ([`Learner`]: overall and per-topic
//! ability, Elo, BKT per topic, FSRS cards), a [`TracerLearner`] keeps one ability posterior
//! per skill. Every answer is also a review of its question's card: correct = Good, wrong =
//! Again. When the bundle carries a sequence model ([`super::dkt`]), the learner also carries
//! its state: `predict`, `next` (practice mode) and `observe`'s prediction use its P(correct)
//! once it has read an answer, and `mastery` adds its per-skill view.

use super::dkt::{Dkt, DktState};
use super::fsrs::{self, Rating, Scheduler};
use super::irt::{Ability, Estimate};
use super::{
    most_informative_with, next_exercises, next_exercises_by, Learner, NextOptions, QuestionBank,
};
use crate::bundle::learning::{LearningBundle, LearningManifest};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A loaded learning bundle.
pub struct Tracer {
    manifest: LearningManifest,
    bank: QuestionBank,
    scheduler: Scheduler,
    kt_model: Option<Vec<u8>>,
    /// The sequence model, when the manifest declares one (`kt`).
    dkt: Option<Dkt>,
    /// Skill index of every question.
    skill_of: Vec<u32>,
    /// (name, topic index) of every skill.
    skills: Vec<(String, u32)>,
}

/// What a bundle holds, for display.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracerInfo {
    pub format: String,
    pub version: u32,
    /// `irt1pl`, `irt2pl` or `elo`.
    pub model: String,
    pub num_questions: usize,
    pub topics: Vec<String>,
    /// The skills (subtopics, or topics without one): `{ skill, topic }`.
    pub skills: Vec<SkillName>,
    pub levels: Vec<String>,
    pub attribution: Vec<String>,
    pub has_kt_model: bool,
    /// The sequence model: `{ kind, state, skills, recurrent }` when the manifest declares one.
    pub kt: Option<KtInfo>,
    pub source: Option<serde_json::Value>,
}

/// The bundle's sequence model, for display.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KtInfo {
    /// `dkt`.
    pub kind: String,
    /// `carry` (one step per answer) or `rerun` (the whole history per answer).
    pub state: String,
    /// The model's skill names.
    pub skills: Vec<String>,
    /// The recurrent nodes whose state is carried.
    pub recurrent: Vec<String>,
}

/// One model skill's P(correct) from the sequence model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KtSkill {
    pub skill: String,
    /// `None` before the first answer, or for a per-question model's skill without questions.
    pub p_correct: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillName {
    pub skill: String,
    pub topic: String,
}

/// One question with its metadata and parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionInfo {
    pub id: String,
    pub topic: String,
    /// The subtopic, or the topic when the question has none.
    pub skill: String,
    pub level: u8,
    /// The level's name, when the bundle names levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level_name: Option<String>,
    pub keywords: Vec<String>,
    /// IRT b, or the Elo rating when the question has no IRT parameters (same logit scale).
    pub difficulty: f64,
    /// IRT a (1 for Rasch and for Elo).
    pub discrimination: f64,
    /// Which model predicts the question: `irt` or `elo`.
    pub model: String,
}

/// An ability posterior's summary: EAP mean, SD, the central 95% credible interval and the
/// answers behind it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AbilitySummary {
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
    pub answered: u32,
}

/// One topic's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicMastery {
    pub topic: String,
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
    pub answered: u32,
    /// BKT P(mastered) before the next opportunity.
    pub p_mastery: f64,
}

/// One skill's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillMastery {
    pub skill: String,
    pub topic: String,
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
    pub answered: u32,
}

/// Everything `mastery()` reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mastery {
    /// The overall ability (all answers).
    pub ability: AbilitySummary,
    /// Per topic, in the bundle's topic order.
    pub topics: Vec<TopicMastery>,
    /// Per skill (subtopic), in the bundle's skill order.
    pub skills: Vec<SkillMastery>,
    /// The sequence model's P(correct) per model skill (`kt.skills` order), when the bundle
    /// has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kt: Option<Vec<KtSkill>>,
}

/// A review card for display (times in ms since the epoch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub question: String,
    pub due: f64,
    /// P(recall) at the `now` it was computed for.
    pub retrievability: f64,
    pub stability: f64,
    pub difficulty: f64,
    /// `new`, `learning`, `review` or `relearning`.
    pub state: String,
    pub reps: u32,
    pub lapses: u32,
    pub scheduled_days: u32,
}

/// What `observe` returns: the prediction the answer is scored against and the state after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    pub question: String,
    pub correct: bool,
    /// P(correct) predicted just before this answer.
    pub p_correct_before: f64,
    pub ability: AbilitySummary,
    pub topic: TopicMastery,
    pub skill: SkillMastery,
    pub review: Review,
    /// Answers observed so far.
    pub answered: u32,
}

/// What `predict` returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub question: String,
    pub p_correct: f64,
    /// Fisher information about the ability at its current estimate.
    pub information: f64,
    /// `dkt` (the sequence model, once it has read an answer), `irt` or `elo`.
    pub model: String,
    /// BKT P(correct) of the question's topic (mastery, guess and slip).
    pub p_correct_bkt: f64,
    /// BKT P(mastered) of the question's topic.
    pub p_mastery: f64,
}

/// One proposed exercise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Next {
    pub question: String,
    pub topic: String,
    pub skill: String,
    pub level: u8,
    pub p_correct: f64,
    pub information: f64,
    /// "P(correct) 0.68 — practises Linear Algebra › Matrices".
    pub reason: String,
}

/// Which policy `next` follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Predicted success closest to the target, spread over topics.
    #[default]
    Practice,
    /// Maximum Fisher information (placement tests).
    Assess,
}

/// A level given by its index or its name.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Level {
    Index(u8),
    Name(String),
}

/// A number or a string, without serde's buffering `untagged` (smaller in wasm).
impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Level, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Level;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a level index (0..=255) or a level name")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Level, E> {
                u8::try_from(v)
                    .map(Level::Index)
                    .map_err(|_| E::custom(format!("level {v} is not in 0..=255")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Level, E> {
                self.visit_u64(
                    u64::try_from(v).map_err(|_| E::custom(format!("level {v} is negative")))?,
                )
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Level, E> {
                if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
                    Ok(Level::Index(v as u8))
                } else {
                    Err(E::custom(format!("level {v} is not an integer in 0..=255")))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Level, E> {
                Ok(Level::Name(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The options of `next`, as JS passes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NextArgs {
    pub k: usize,
    pub target_success: f64,
    pub topic: Option<String>,
    pub level: Option<Level>,
    pub exclude: Vec<String>,
    pub mode: Mode,
}

impl Default for NextArgs {
    fn default() -> Self {
        NextArgs {
            k: 5,
            target_success: 0.7,
            topic: None,
            level: None,
            exclude: Vec::new(),
            mode: Mode::Practice,
        }
    }
}

fn state_name(s: fsrs::CardState) -> &'static str {
    match s {
        fsrs::CardState::New => "new",
        fsrs::CardState::Learning => "learning",
        fsrs::CardState::Review => "review",
        fsrs::CardState::Relearning => "relearning",
    }
}

/// The central 95% interval of a grid posterior (linear interpolation of its CDF between
/// grid points).
fn interval(a: &Ability) -> (f64, f64) {
    let w = a.posterior();
    let g = a.grid();
    let quantile = |p: f64| {
        let mut c = 0.0;
        for (q, &wq) in w.iter().enumerate() {
            if c + wq >= p {
                let frac = if wq > 0.0 { (p - c) / wq } else { 0.0 };
                // mass wq spread over [θ_q − h/2, θ_q + h/2]
                let h = (g.hi - g.lo) / (g.points - 1) as f64;
                return (g.theta(q) - h / 2.0 + frac * h).clamp(g.lo, g.hi);
            }
            c += wq;
        }
        g.hi
    };
    (quantile(0.025), quantile(0.975))
}

fn summary(a: &Ability) -> AbilitySummary {
    let Estimate { mean, sd } = a.estimate();
    let (lo, hi) = interval(a);
    AbilitySummary {
        mean,
        sd,
        lo,
        hi,
        answered: a.answers(),
    }
}

impl Tracer {
    /// A tracer over a validated bundle.
    pub fn from_bundle(b: LearningBundle) -> Result<Tracer> {
        let scheduler = Scheduler::new(b.manifest.fsrs.clone())
            .map_err(|e| Error::InvalidBundle(format!("manifest fsrs: {e}")))?;
        let mut skills: Vec<(String, u32)> = Vec::new();
        let mut skill_index: HashMap<(u32, Option<u32>), u32> = HashMap::new();
        let bank = b.bank;
        let mut skill_of = Vec::with_capacity(bank.questions().len());
        for q in bank.questions() {
            let key = (q.skill, q.subtopic);
            let s = *skill_index.entry(key).or_insert_with(|| {
                let name = match q.subtopic {
                    Some(s) => bank.subtopics()[s as usize].clone(),
                    None => bank.skills()[q.skill as usize].clone(),
                };
                skills.push((name, q.skill));
                (skills.len() - 1) as u32
            });
            skill_of.push(s);
        }
        let dkt = match (&b.manifest.kt, &b.kt_model) {
            (Some(spec), Some(bytes)) => {
                Some(Dkt::new(bytes, spec.clone(), bank.questions().len())?)
            }
            (Some(_), None) => {
                return Err(Error::InvalidBundle(
                    "manifest kt needs the tensor 'kt_model' (the ONNX model)".into(),
                ))
            }
            (None, _) => None,
        };
        Ok(Tracer {
            manifest: b.manifest,
            bank,
            scheduler,
            kt_model: b.kt_model,
            dkt,
            skill_of,
            skills,
        })
    }

    /// Parses, validates and loads a learning bundle.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tracer> {
        Tracer::from_bundle(LearningBundle::from_bytes(bytes)?)
    }

    pub fn bank(&self) -> &QuestionBank {
        &self.bank
    }

    pub fn manifest(&self) -> &LearningManifest {
        &self.manifest
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The sequence model, when the manifest declares one.
    pub fn dkt(&self) -> Option<&Dkt> {
        self.dkt.as_ref()
    }

    /// The bundle's ONNX knowledge-tracing model, if it has one.
    pub fn kt_model(&self) -> Option<&[u8]> {
        self.kt_model.as_deref()
    }

    pub fn info(&self) -> TracerInfo {
        let m = &self.manifest;
        TracerInfo {
            format: m.format.clone(),
            version: m.version,
            model: m.model.name().into(),
            num_questions: m.questions.len(),
            topics: m.topics.clone(),
            skills: self
                .skills
                .iter()
                .map(|(s, t)| SkillName {
                    skill: s.clone(),
                    topic: m.topics[*t as usize].clone(),
                })
                .collect(),
            levels: m.levels.clone(),
            attribution: m.attribution.clone(),
            has_kt_model: self.kt_model.is_some(),
            kt: self.dkt.as_ref().map(|d| KtInfo {
                kind: "dkt".into(),
                state: match d.spec().state {
                    super::dkt::KtState::Carry => "carry",
                    super::dkt::KtState::Rerun => "rerun",
                }
                .into(),
                skills: d.spec().skills.clone(),
                recurrent: d.recurrent().iter().map(|r| r.node.clone()).collect(),
            }),
            source: m.source.clone(),
        }
    }

    /// The question index of `id`, or [`Error::UnknownItem`].
    pub fn require(&self, id: &str) -> Result<u32> {
        self.bank
            .index(id)
            .ok_or_else(|| Error::UnknownItem(id.to_string()))
    }

    fn question_info(&self, i: usize) -> QuestionInfo {
        let m = &self.manifest.questions[i];
        let (difficulty, discrimination, model) = match self.bank.irt(i as u32) {
            Some(p) => (p.difficulty, p.discrimination, "irt"),
            None => (
                self.bank.elo(i as u32).map_or(0.0, |r| r.rating),
                1.0,
                "elo",
            ),
        };
        QuestionInfo {
            id: m.id.clone(),
            topic: m.topic.clone(),
            skill: self.skills[self.skill_of[i] as usize].0.clone(),
            level: m.level,
            level_name: self.manifest.levels.get(m.level as usize).cloned(),
            keywords: m.keywords.clone(),
            difficulty,
            discrimination,
            model: model.into(),
        }
    }

    /// Every question, in bank order.
    pub fn questions(&self) -> Vec<QuestionInfo> {
        (0..self.bank.questions().len())
            .map(|i| self.question_info(i))
            .collect()
    }

    /// One question by id, or [`Error::UnknownItem`].
    pub fn question(&self, id: &str) -> Result<QuestionInfo> {
        Ok(self.question_info(self.require(id)? as usize))
    }

    /// A learner who has answered nothing.
    pub fn learner(&self) -> TracerLearner {
        TracerLearner {
            learner: Learner::new(&self.bank),
            skill_ability: vec![Ability::new(); self.skills.len()],
            answered: 0,
            kt: self.dkt.as_ref().map(Dkt::start),
        }
    }

    /// A learner from a state saved earlier ([`TracerLearner`] serializes every field: the
    /// posteriors, Elo, BKT, review cards and the sequence model's state), checked against
    /// this bundle first, so a state from another bundle or a corrupted copy is refused rather
    /// than used. The restored learner gives exactly (bit for bit) the results of the learner
    /// it was saved from, and so of replaying that learner's answers: the package keeps one
    /// such state with its answers so that opening a learner replays only the newest ones.
    ///
    /// Errors: [`Error::Argument`] `learner state: …` naming the field that does not fit.
    pub fn restore(&self, state: TracerLearner) -> Result<TracerLearner> {
        let bad = |e: Error| match e {
            Error::Argument(m) => Error::Argument(format!("learner state: {m}")),
            e => e,
        };
        state.learner.check(&self.bank).map_err(bad)?;
        if state.skill_ability.len() != self.skills.len() {
            return Err(Error::Argument(format!(
                "learner state: {} skill posteriors, the bundle has {} skills",
                state.skill_ability.len(),
                self.skills.len()
            )));
        }
        for (s, a) in state.skill_ability.iter().enumerate() {
            a.check(&format!("skill '{}' ability", self.skills[s].0))
                .map_err(bad)?;
        }
        match (&self.dkt, &state.kt) {
            (Some(d), Some(st)) => d.check_state(st).map_err(bad)?,
            (None, None) => {}
            (Some(_), None) => {
                return Err(Error::Argument(
                    "learner state: no sequence-model state, the bundle has a kt model".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(Error::Argument(
                    "learner state: a sequence-model state, the bundle has no kt model".into(),
                ))
            }
        }
        Ok(state)
    }

    fn topic_mastery(&self, l: &TracerLearner, t: u32) -> TopicMastery {
        let m = &l.learner.mastery()[t as usize];
        let a = &l.learner.skill_ability_posterior(t);
        let s = summary(a);
        TopicMastery {
            topic: self.manifest.topics[t as usize].clone(),
            mean: s.mean,
            sd: s.sd,
            lo: s.lo,
            hi: s.hi,
            answered: m.answers,
            p_mastery: m.p_mastery,
        }
    }

    fn skill_mastery(&self, l: &TracerLearner, s: u32) -> SkillMastery {
        let (name, topic) = &self.skills[s as usize];
        let a = summary(&l.skill_ability[s as usize]);
        SkillMastery {
            skill: name.clone(),
            topic: self.manifest.topics[*topic as usize].clone(),
            mean: a.mean,
            sd: a.sd,
            lo: a.lo,
            hi: a.hi,
            answered: a.answered,
        }
    }

    fn review_info(&self, q: u32, card: &fsrs::Card, now: i64) -> Review {
        Review {
            question: self.bank.questions()[q as usize].id.clone(),
            due: card.due as f64,
            retrievability: self.scheduler.retrievability(card, now),
            stability: card.stability,
            difficulty: card.difficulty,
            state: state_name(card.state).into(),
            reps: card.reps,
            lapses: card.lapses,
            scheduled_days: card.scheduled_days,
        }
    }
}

/// One learner's state over a [`Tracer`]'s bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TracerLearner {
    learner: Learner,
    skill_ability: Vec<Ability>,
    answered: u32,
    /// The sequence model's state, when the bundle has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kt: Option<DktState>,
}

/// `ts` as whole ms, checked: finite and within ±8.64e15 (the range of a JS `Date`).
fn time_ms(ts: f64, what: &str) -> Result<i64> {
    if !(ts.is_finite() && ts.abs() <= 8.64e15) {
        return Err(Error::Argument(format!(
            "{what} must be a time in ms since the epoch, got {ts}"
        )));
    }
    Ok(ts.floor() as i64)
}

impl TracerLearner {
    /// The engine's state (overall and per-topic ability, Elo, BKT, cards).
    pub fn inner(&self) -> &Learner {
        &self.learner
    }

    /// Answers observed.
    pub fn answered(&self) -> u32 {
        self.answered
    }

    /// The sequence model's state, when the bundle has one.
    pub fn kt_state(&self) -> Option<&DktState> {
        self.kt.as_ref()
    }

    /// The sequence model's P(correct) on question index `q`, once it has read an answer.
    fn kt_p(&self, tracer: &Tracer, q: u32) -> Option<f64> {
        tracer
            .dkt
            .as_ref()?
            .p_correct(self.kt.as_ref()?, q as usize)
    }

    /// P(correct) on question index `q`: the sequence model's once it has read an answer,
    /// else IRT/Elo's.
    fn p_correct(&self, tracer: &Tracer, q: u32) -> f64 {
        self.kt_p(tracer, q).unwrap_or_else(|| {
            self.learner
                .p_correct(&tracer.bank, q)
                .expect("index in range")
        })
    }

    /// Records one answer to question `id` at `ts` (ms since the epoch): the IRT posteriors
    /// (overall, topic, skill), Elo, the topic's BKT mastery and the question's FSRS card (Good
    /// when correct, Again when wrong). O(grid) per answer.
    ///
    /// Errors, with the state unchanged: [`Error::UnknownItem`] for an id not in the bank;
    /// [`Error::Argument`] for a `ts` that is not a time or lies on a day before this
    /// question's last answer.
    pub fn observe(
        &mut self,
        tracer: &Tracer,
        id: &str,
        correct: bool,
        ts: f64,
    ) -> Result<Observed> {
        let q = tracer.require(id)?;
        let now = time_ms(ts, "answer.ts")?;
        let p_before = self.p_correct(tracer, q);
        // the sequence model's step is computed before anything changes and kept only when
        // the review accepts the answer
        let kt = match (&tracer.dkt, &self.kt) {
            (Some(d), Some(st)) => {
                let mut st = st.clone();
                let skill = d.spec().question_skill[q as usize];
                d.observe(&mut st, skill, correct)?;
                Some(st)
            }
            _ => None,
        };
        // the review first: it is the only step that can refuse the answer
        let rating = if correct { Rating::Good } else { Rating::Again };
        let card = self
            .learner
            .review(&tracer.bank, &tracer.scheduler, q, rating, now)
            .map_err(|e| Error::Argument(format!("answer to '{id}': {e}")))?;
        self.learner.observe(&tracer.bank, q, correct)?;
        if kt.is_some() {
            self.kt = kt;
        }
        let s = tracer.skill_of[q as usize];
        if let Some(p) = tracer.bank.irt(q) {
            self.skill_ability[s as usize].observe(p, correct)?;
        }
        self.answered += 1;
        let topic = tracer.bank.questions()[q as usize].skill;
        Ok(Observed {
            question: id.to_string(),
            correct,
            p_correct_before: p_before,
            ability: summary(self.learner.ability_posterior()),
            topic: tracer.topic_mastery(self, topic),
            skill: tracer.skill_mastery(self, s),
            review: tracer.review_info(q, &card, now),
            answered: self.answered,
        })
    }

    /// The predicted success on question `id` (posterior predictive of the overall ability
    /// with IRT parameters, the Elo expectation otherwise), its information and the topic's
    /// BKT view. Errors: [`Error::UnknownItem`].
    pub fn predict(&self, tracer: &Tracer, id: &str) -> Result<Prediction> {
        let q = tracer.require(id)?;
        let bank = &tracer.bank;
        let topic = bank.questions()[q as usize].skill;
        let p_mastery = self.learner.p_mastery(topic).expect("topic in range");
        let bkt = bank.bkt(topic).expect("topic in range");
        let kt = self.kt_p(tracer, q);
        Ok(Prediction {
            question: id.to_string(),
            p_correct: self.p_correct(tracer, q),
            information: self.learner.information(bank, q).expect("index in range"),
            model: if kt.is_some() {
                "dkt"
            } else if bank.irt(q).is_some() {
                "irt"
            } else {
                "elo"
            }
            .into(),
            p_correct_bkt: bkt.p_correct(p_mastery),
            p_mastery,
        })
    }

    /// The overall ability and every topic's and skill's state.
    pub fn mastery(&self, tracer: &Tracer) -> Mastery {
        Mastery {
            ability: summary(self.learner.ability_posterior()),
            topics: (0..tracer.manifest.topics.len() as u32)
                .map(|t| tracer.topic_mastery(self, t))
                .collect(),
            skills: (0..tracer.skills.len() as u32)
                .map(|s| tracer.skill_mastery(self, s))
                .collect(),
            kt: match (&tracer.dkt, &self.kt) {
                (Some(d), Some(st)) => {
                    let p = d.skill_p(st);
                    Some(
                        d.spec()
                            .skills
                            .iter()
                            .enumerate()
                            .map(|(k, name)| KtSkill {
                                skill: name.clone(),
                                p_correct: p.as_ref().and_then(|p| p[k]),
                            })
                            .collect(),
                    )
                }
                _ => None,
            },
        }
    }

    /// The next exercises: in `practice` mode the `k` whose predicted success is closest to
    /// `target_success`, spread over topics ([`next_exercises`]); in `assess` mode the `k` most
    /// informative ([`most_informative_with`]). `topic`, `level` and `exclude` filter; the last
    /// question answered is never proposed.
    ///
    /// Errors: [`Error::UnknownItem`] for an excluded id not in the bank; [`Error::Argument`]
    /// for an unknown topic or level, k outside 1..=10,000, a target outside (0, 1).
    pub fn next(&self, tracer: &Tracer, args: &NextArgs) -> Result<Vec<Next>> {
        if !(1..=10_000).contains(&args.k) {
            return Err(Error::Argument(format!(
                "options.k must be an integer from 1 to 10000, got {}",
                args.k
            )));
        }
        let m = &tracer.manifest;
        let skill = match &args.topic {
            None => None,
            Some(t) => Some(m.topics.iter().position(|x| x == t).ok_or_else(|| {
                Error::Argument(format!(
                    "options.topic '{t}' is not a topic of this bundle (topics: {})",
                    m.topics.join(", ")
                ))
            })? as u32),
        };
        let level = match &args.level {
            None => None,
            Some(Level::Index(l)) => {
                if !m.levels.is_empty() && *l as usize >= m.levels.len() {
                    return Err(Error::Argument(format!(
                        "options.level {l} is not below the {} levels",
                        m.levels.len()
                    )));
                }
                Some(*l)
            }
            Some(Level::Name(n)) => Some(m.levels.iter().position(|x| x == n).ok_or_else(|| {
                Error::Argument(format!(
                    "options.level '{n}' is not a level of this bundle (levels: {})",
                    m.levels.join(", ")
                ))
            })? as u8),
        };
        let exclude = args
            .exclude
            .iter()
            .map(|id| tracer.require(id))
            .collect::<Result<Vec<u32>>>()?;
        let opts = NextOptions {
            k: args.k,
            target_success: args.target_success,
            exclude,
            skill,
            level,
        };
        let picks = match args.mode {
            Mode::Practice if self.kt.as_ref().is_some_and(|st| st.steps() > 0) => {
                next_exercises_by(&tracer.bank, &self.learner, &opts, &|i| {
                    self.p_correct(tracer, i as u32)
                })
            }
            Mode::Practice => next_exercises(&tracer.bank, &self.learner, &opts),
            Mode::Assess => most_informative_with(&tracer.bank, &self.learner, &opts),
        }
        .map_err(|e| match e {
            Error::Argument(msg) => Error::Argument(format!("options: {msg}")),
            e => e,
        })?;
        Ok(picks
            .into_iter()
            .map(|s| {
                let i = s.question as usize;
                let q = &tracer.bank.questions()[i];
                Next {
                    question: q.id.clone(),
                    topic: m.topics[q.skill as usize].clone(),
                    skill: tracer.skills[tracer.skill_of[i] as usize].0.clone(),
                    level: q.level,
                    p_correct: s.p_correct,
                    information: self
                        .learner
                        .information(&tracer.bank, s.question)
                        .expect("index in range"),
                    reason: s.reason,
                }
            })
            .collect())
    }

    /// Review cards at `now` (ms): those due (due ≤ now), most overdue first; with `all`, every
    /// card of an answered question, soonest due first.
    pub fn due(&self, tracer: &Tracer, now: f64, all: bool) -> Result<Vec<Review>> {
        let now = time_ms(now, "options.now")?;
        let mut v: Vec<(u32, &fsrs::Card)> = self
            .learner
            .cards()
            .filter(|(_, c)| all || c.due <= now)
            .collect();
        // (due, question) keys are unique
        v.sort_unstable_by_key(|&(q, c)| (c.due, q));
        Ok(v.into_iter()
            .map(|(q, c)| tracer.review_info(q, c, now))
            .collect())
    }
}

//! Knowledge tracing and next-exercise selection, computed on the learner's device.
//!
//! ```text
//! QuestionBank (questions, skills, fitted parameters) ──► Learner::observe (answers)
//!     ──► Learner::mastery (per skill, with uncertainty)
//!     ──► next_exercises (predicted success near a target, spread over skills, with reasons)
//!     ──► most_informative (maximum Fisher information, for placement tests)
//! ```
//!
//! The models, one file each: [`irt`] (Rasch/2PL fitting by EM, the ability posterior on a
//! grid), [`elo`] (ratings for questions without fitted parameters), [`bkt`] (Bayesian
//! Knowledge Tracing per skill), [`dkt`] (sequence models through ONNX, streamed with their
//! recurrent state carried) and [`fsrs`] (FSRS-6 review scheduling). Every type that holds
//! parameters or learner state derives serde, so bundles and saved learners can carry them.

pub mod bkt;
pub mod dkt;
pub mod elo;
pub mod fsrs;
pub mod irt;
pub mod tracer;

use crate::error::{Error, Result};
use bkt::BktParams;
use elo::{EloOptions, EloRating};
use irt::{Ability, Estimate, ItemParams};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One exercise of a question bank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Unique, non-empty.
    pub id: String,
    /// Index into the bank's skills (topics).
    pub skill: u32,
    /// Index into the bank's subtopics, if the question has one.
    pub subtopic: Option<u32>,
    /// Ordinal level (0 = basic, higher = harder), as the content author set it.
    pub level: u8,
}

/// Questions, their skills and subtopics, and the fitted model parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionBank {
    skills: Vec<String>,
    subtopics: Vec<String>,
    questions: Vec<Question>,
    irt: Vec<Option<ItemParams>>,
    elo: Vec<EloRating>,
    bkt: Vec<BktParams>,
    index: HashMap<String, u32>,
}

/// `field` must have one entry per item of `per` (`want` of them).
fn same_len(field: &str, got: usize, want: usize, per: &str) -> Result<()> {
    if got == want {
        return Ok(());
    }
    Err(Error::Argument(format!(
        "{field}: {got} entries for {want} {per}"
    )))
}

impl QuestionBank {
    /// A bank without fitted parameters (every question predicted by Elo at rating 0, BKT at
    /// [`BktParams::default`]). Errors ([`Error::Argument`]): no skill, no question, an empty or
    /// repeated id, a skill or subtopic index out of range, more than u32::MAX questions.
    pub fn new(
        skills: Vec<String>,
        subtopics: Vec<String>,
        questions: Vec<Question>,
    ) -> Result<QuestionBank> {
        if skills.is_empty() {
            return Err(Error::Argument(
                "skills: at least one skill is needed".into(),
            ));
        }
        if questions.is_empty() {
            return Err(Error::Argument("questions: the bank is empty".into()));
        }
        if questions.len() > u32::MAX as usize {
            return Err(Error::Argument("questions: more than u32::MAX".into()));
        }
        let mut index = HashMap::with_capacity(questions.len());
        for (k, q) in questions.iter().enumerate() {
            if q.id.is_empty() {
                return Err(Error::Argument(format!("questions[{k}].id is empty")));
            }
            if q.skill as usize >= skills.len() {
                return Err(Error::Argument(format!(
                    "questions[{k}].skill = {} is not below the {} skills",
                    q.skill,
                    skills.len()
                )));
            }
            if let Some(s) = q.subtopic {
                if s as usize >= subtopics.len() {
                    return Err(Error::Argument(format!(
                        "questions[{k}].subtopic = {s} is not below the {} subtopics",
                        subtopics.len()
                    )));
                }
            }
            if index.insert(q.id.clone(), k as u32).is_some() {
                return Err(Error::Argument(format!(
                    "questions[{k}].id '{}' is repeated",
                    q.id
                )));
            }
        }
        let n = questions.len();
        Ok(QuestionBank {
            bkt: vec![BktParams::default(); skills.len()],
            skills,
            subtopics,
            irt: vec![None; n],
            elo: vec![EloRating::default(); n],
            questions,
            index,
        })
    }

    /// Sets the IRT parameters, one entry per question (None: not fitted, Elo predicts it).
    pub fn with_irt(mut self, params: Vec<Option<ItemParams>>) -> Result<QuestionBank> {
        same_len("irt", params.len(), self.questions.len(), "questions")?;
        for (k, p) in params.iter().enumerate() {
            if let Some(p) = p {
                p.validate(&format!("irt[{k}]"))?;
            }
        }
        self.irt = params;
        Ok(self)
    }

    /// Sets the question Elo ratings, one per question.
    pub fn with_elo(mut self, ratings: Vec<EloRating>) -> Result<QuestionBank> {
        same_len("elo", ratings.len(), self.questions.len(), "questions")?;
        for (k, r) in ratings.iter().enumerate() {
            r.validate(&format!("elo[{k}]"))?;
        }
        self.elo = ratings;
        Ok(self)
    }

    /// Sets the BKT parameters, one per skill.
    pub fn with_bkt(mut self, params: Vec<BktParams>) -> Result<QuestionBank> {
        same_len("bkt", params.len(), self.skills.len(), "skills")?;
        for p in &params {
            p.validate()?;
        }
        self.bkt = params;
        Ok(self)
    }

    /// The question index of `id`.
    pub fn index(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Index of `id`, or [`Error::Argument`] naming the unknown id.
    pub fn require(&self, id: &str) -> Result<u32> {
        self.index(id)
            .ok_or_else(|| Error::Argument(format!("unknown question id '{id}'")))
    }

    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    pub fn skills(&self) -> &[String] {
        &self.skills
    }

    pub fn subtopics(&self) -> &[String] {
        &self.subtopics
    }

    /// The question's IRT parameters, if fitted.
    pub fn irt(&self, question: u32) -> Option<&ItemParams> {
        self.irt.get(question as usize).and_then(|p| p.as_ref())
    }

    pub fn elo(&self, question: u32) -> Option<&EloRating> {
        self.elo.get(question as usize)
    }

    pub fn bkt(&self, skill: u32) -> Option<&BktParams> {
        self.bkt.get(skill as usize)
    }

    fn check(&self, question: u32) -> Result<&Question> {
        self.questions.get(question as usize).ok_or_else(|| {
            Error::Argument(format!(
                "question index {question} is not below the {} questions",
                self.questions.len()
            ))
        })
    }
}

/// One skill's state for display: the IRT ability posterior from this skill's answers
/// (N(0, 1) prior), the BKT mastery probability, and the answer count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkillMastery {
    pub skill: u32,
    pub ability: Estimate,
    /// BKT P(mastered) before the next opportunity.
    pub p_mastery: f64,
    pub answers: u32,
}

/// A learner's state over one bank: the overall and per-skill ability posteriors (IRT), an Elo
/// rating, the BKT mastery per skill, FSRS review cards, and the last question answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    ability: Ability,
    skill_ability: Vec<Ability>,
    elo: EloRating,
    elo_options: EloOptions,
    mastery: Vec<f64>,
    last: Option<u32>,
    cards: BTreeMap<u32, fsrs::Card>,
}

impl Learner {
    /// A learner who has answered nothing (N(0, 1) abilities, Elo 0, BKT at p_init).
    pub fn new(bank: &QuestionBank) -> Learner {
        Learner {
            ability: Ability::new(),
            skill_ability: vec![Ability::new(); bank.skills.len()],
            elo: EloRating::default(),
            elo_options: EloOptions::default(),
            mastery: bank.bkt.iter().map(|p| p.p_init).collect(),
            last: None,
            cards: BTreeMap::new(),
        }
    }

    /// Records one answer. O(grid): the overall and the skill's ability posterior each take one
    /// pass when the question has IRT parameters; Elo (learner rating only, the question's is
    /// the bank's) and BKT are O(1).
    ///
    /// Errors ([`Error::Argument`]): a question index out of range, or a learner made for a
    /// bank with another number of skills; the state is unchanged on error.
    pub fn observe(&mut self, bank: &QuestionBank, question: u32, correct: bool) -> Result<()> {
        let q = bank.check(question)?;
        let skill = q.skill as usize;
        if self.skill_ability.len() != bank.skills.len() || self.mastery.len() != bank.skills.len()
        {
            return Err(Error::Argument(format!(
                "learner has {} skills, the bank {}",
                self.skill_ability.len(),
                bank.skills.len()
            )));
        }
        if let Some(p) = bank.irt(question) {
            self.ability.observe(p, correct)?;
            self.skill_ability[skill].observe(p, correct)?;
        }
        elo::update_learner(
            &mut self.elo,
            &bank.elo[question as usize],
            correct,
            &self.elo_options,
        );
        self.mastery[skill] = bank.bkt[skill].observe(self.mastery[skill], correct);
        self.last = Some(question);
        Ok(())
    }

    /// [`Learner::observe`] by question id; an unknown id is an [`Error::Argument`].
    pub fn observe_id(&mut self, bank: &QuestionBank, id: &str, correct: bool) -> Result<()> {
        let q = bank.require(id)?;
        self.observe(bank, q, correct)
    }

    /// The overall ability estimate (EAP mean and posterior SD).
    pub fn ability(&self) -> Estimate {
        self.ability.estimate()
    }

    /// The overall ability posterior.
    pub fn ability_posterior(&self) -> &Ability {
        &self.ability
    }

    pub fn elo(&self) -> EloRating {
        self.elo
    }

    /// The last question answered.
    pub fn last(&self) -> Option<u32> {
        self.last
    }

    /// Per-skill state, in skill order.
    pub fn mastery(&self) -> Vec<SkillMastery> {
        self.skill_ability
            .iter()
            .zip(&self.mastery)
            .enumerate()
            .map(|(s, (a, &p))| SkillMastery {
                skill: s as u32,
                ability: a.estimate(),
                p_mastery: p,
                answers: a.answers(),
            })
            .collect()
    }

    /// Predicted P(correct) for a question, O(1): with IRT parameters, the posterior predictive
    /// of the overall ability (probit approximation, [`ItemParams::p_correct_approx`]);
    /// otherwise the Elo expectation σ(learner − question). `None` for an index out of range.
    pub fn p_correct(&self, bank: &QuestionBank, question: u32) -> Option<f64> {
        let est = self.ability.estimate();
        self.predict(bank, question as usize, est)
    }

    #[inline]
    fn predict(&self, bank: &QuestionBank, q: usize, est: Estimate) -> Option<f64> {
        match bank.irt.get(q)? {
            Some(p) => Some(p.p_correct_approx(est.mean, est.sd)),
            None => Some(elo::expected(self.elo.rating, bank.elo[q].rating)),
        }
    }

    /// Reviews a question's FSRS card at `now` (ms since the epoch), creating it if new.
    /// Errors: an index out of range, or those of [`fsrs::Scheduler::review`].
    pub fn review(
        &mut self,
        bank: &QuestionBank,
        scheduler: &fsrs::Scheduler,
        question: u32,
        rating: fsrs::Rating,
        now: i64,
    ) -> Result<fsrs::Card> {
        bank.check(question)?;
        let card = self
            .cards
            .get(&question)
            .copied()
            .unwrap_or_else(|| fsrs::Card::new(now));
        let next = scheduler.review(&card, now, rating)?;
        self.cards.insert(question, next);
        Ok(next)
    }

    /// Questions whose review is due at `now`, most overdue first (ties by index).
    pub fn due(&self, now: i64) -> Vec<(u32, fsrs::Card)> {
        let mut v: Vec<(u32, fsrs::Card)> = self
            .cards
            .iter()
            .filter(|(_, c)| c.due <= now)
            .map(|(&q, &c)| (q, c))
            .collect();
        v.sort_unstable_by_key(|&(q, c)| (c.due, q));
        v
    }
}

/// One proposed exercise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub question: u32,
    /// Predicted P(correct) ([`Learner::p_correct`]).
    pub p_correct: f64,
    /// The selection score: |p − target| for [`next_exercises`] (lower is better), the Fisher
    /// information for [`most_informative`] (higher is better).
    pub score: f64,
    /// Why, for the learner: "P(correct) 0.68 — practises Linear Algebra › Matrices".
    pub reason: String,
}

/// Options of [`next_exercises`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextOptions {
    /// How many exercises. Default 5.
    pub k: usize,
    /// Predicted success to aim at, in (0, 1). Default 0.7.
    pub target_success: f64,
    /// Question indices never to propose (the last answered one is always excluded).
    pub exclude: Vec<u32>,
    /// Only questions of this skill (topic) index. Default: every skill.
    pub skill: Option<u32>,
    /// Only questions of this level. Default: every level.
    pub level: Option<u8>,
}

impl Default for NextOptions {
    fn default() -> Self {
        NextOptions {
            k: 5,
            target_success: 0.7,
            exclude: Vec::new(),
            skill: None,
            level: None,
        }
    }
}

impl NextOptions {
    /// Whether question `q` passes the skill and level filters.
    #[inline]
    fn admits(&self, q: &Question) -> bool {
        self.skill.is_none_or(|s| q.skill == s) && self.level.is_none_or(|l| q.level == l)
    }
}

fn sorted_exclusions(learner: &Learner, exclude: &[u32]) -> Vec<u32> {
    let mut ex: Vec<u32> = exclude.iter().copied().chain(learner.last).collect();
    ex.sort_unstable();
    ex.dedup();
    ex
}

fn describe(bank: &QuestionBank, q: &Question, p: f64, lead: &str) -> String {
    let skill = &bank.skills[q.skill as usize];
    match q.subtopic.map(|s| &bank.subtopics[s as usize]) {
        Some(sub) if sub != skill => format!("P(correct) {p:.2} — {lead} {skill} › {sub}"),
        _ => format!("P(correct) {p:.2} — {lead} {skill}"),
    }
}

/// Orders (score, question) pairs: score first (a total order, so no NaN can panic), then index.
#[inline]
fn key_cmp(a: &(f64, u32), b: &(f64, u32)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// Inserts `item` into `list` (kept sorted ascending by [`key_cmp`], at most `k` long).
#[inline]
fn insert_bounded(list: &mut Vec<(f64, u32)>, k: usize, item: (f64, u32)) {
    if list.len() == k {
        if key_cmp(&item, &list[k - 1]).is_ge() {
            return;
        }
        list.pop();
    }
    let at = list.partition_point(|e| key_cmp(e, &item).is_lt());
    list.insert(at, item);
}

/// The `k` exercises whose predicted success is closest to `target_success`, spread over skills.
///
/// Every question except the excluded ones and the last answered is scored by
/// |P(correct) − target| ([`Learner::p_correct`]). Each skill keeps its `k` best; the result
/// takes every skill's best first (closest to the target first), then every skill's second
/// best, and so on, so `k` suggestions cover min(k, skills with a candidate) skills. Ties go to
/// the lower question index.
///
/// Cost: one pass over the N questions, O(N (log E + log k)) with E exclusions, plus
/// O(S k log(S k)) for S skills; it allocates S lists of k entries and the result, never per
/// question. Errors ([`Error::Argument`]): k = 0, a target outside (0, 1), a learner for a
/// bank with another number of skills.
pub fn next_exercises(
    bank: &QuestionBank,
    learner: &Learner,
    options: &NextOptions,
) -> Result<Vec<Suggestion>> {
    let est = learner.ability.estimate();
    next_exercises_by(bank, learner, options, &|i| {
        learner.predict(bank, i, est).expect("index in range")
    })
}

/// [`next_exercises`] with another model's P(correct) for question index `i` (a sequence
/// model's, [`dkt`]); the learner gives the exclusions (its last answer). `dyn`: one copy of
/// the selection in the wasm for both callers.
pub fn next_exercises_by(
    bank: &QuestionBank,
    learner: &Learner,
    options: &NextOptions,
    p_correct: &dyn Fn(usize) -> f64,
) -> Result<Vec<Suggestion>> {
    let k = options.k;
    let target = options.target_success;
    if k == 0 {
        return Err(Error::Argument("k must be ≥ 1".into()));
    }
    if !(target > 0.0 && target < 1.0) {
        return Err(Error::Argument(format!(
            "target_success must be inside (0, 1), got {target}"
        )));
    }
    if learner.skill_ability.len() != bank.skills.len() {
        return Err(Error::Argument(format!(
            "learner has {} skills, the bank {}",
            learner.skill_ability.len(),
            bank.skills.len()
        )));
    }
    let k_skill = k.min(bank.questions.len());
    let ex = sorted_exclusions(learner, &options.exclude);
    let mut per_skill: Vec<Vec<(f64, u32)>> = (0..bank.skills.len())
        .map(|_| Vec::with_capacity(k_skill))
        .collect();
    for (i, q) in bank.questions.iter().enumerate() {
        if !options.admits(q) || (!ex.is_empty() && ex.binary_search(&(i as u32)).is_ok()) {
            continue;
        }
        let p = p_correct(i);
        insert_bounded(
            &mut per_skill[q.skill as usize],
            k_skill,
            ((p - target).abs(), i as u32),
        );
    }
    let mut picked: Vec<(usize, f64, u32)> = per_skill
        .iter()
        .flat_map(|l| l.iter().enumerate().map(|(rank, &(d, q))| (rank, d, q)))
        .collect();
    // the keys are unique (one entry per question), so an unstable sort gives the same order
    // (and is smaller in wasm than the stable one)
    picked.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    Ok(picked
        .into_iter()
        .take(k)
        .map(|(_, d, q)| {
            let question = &bank.questions[q as usize];
            let p = p_correct(q as usize);
            Suggestion {
                question: q,
                p_correct: p,
                score: d,
                reason: describe(bank, question, p, "practises"),
            }
        })
        .collect())
}

/// The `k` questions with the largest Fisher information at the learner's current ability (EAP
/// mean): a² P (1 − P) with IRT parameters, P (1 − P) from Elo otherwise (a = 1). For placement
/// tests: each answer then shrinks the posterior SD the most. Ties go to the lower index.
/// Excludes `exclude` and the last answered question. One pass, O(N (log E + log k)).
/// Errors: k = 0.
pub fn most_informative(
    bank: &QuestionBank,
    learner: &Learner,
    k: usize,
    exclude: &[u32],
) -> Result<Vec<Suggestion>> {
    most_informative_with(
        bank,
        learner,
        &NextOptions {
            k,
            exclude: exclude.to_vec(),
            ..NextOptions::default()
        },
    )
}

/// The Fisher information of question `q` about the learner's ability at its EAP mean `theta`
/// (a² P (1 − P) with IRT parameters, P (1 − P) of the Elo expectation otherwise).
#[inline]
fn information_at(bank: &QuestionBank, learner: &Learner, q: usize, theta: f64) -> f64 {
    match &bank.irt[q] {
        Some(p) => p.information(theta),
        None => {
            let p = elo::expected(learner.elo.rating, bank.elo[q].rating);
            p * (1.0 - p)
        }
    }
}

impl Learner {
    /// The Fisher information of `question` at the current ability estimate (see
    /// [`most_informative`]); `None` for an index out of range.
    pub fn information(&self, bank: &QuestionBank, question: u32) -> Option<f64> {
        bank.questions.get(question as usize)?;
        Some(information_at(
            bank,
            self,
            question as usize,
            self.ability.estimate().mean,
        ))
    }

    /// Checks a state that was stored and read back (see [`crate::education::tracer::Tracer::restore`])
    /// against `bank`: one ability posterior and one BKT mastery in [0, 1] per skill, valid
    /// posteriors, a finite Elo rating and valid Elo options, the last question and every
    /// card's question in the bank, finite card parameters. Errors ([`Error::Argument`]) name
    /// the field.
    pub fn check(&self, bank: &QuestionBank) -> Result<()> {
        let skills = bank.skills.len();
        let n = bank.questions.len();
        self.ability.check("ability")?;
        if self.skill_ability.len() != skills || self.mastery.len() != skills {
            return Err(Error::Argument(format!(
                "the state has {} topic posteriors and {} BKT masteries, the bundle {skills} topics",
                self.skill_ability.len(),
                self.mastery.len()
            )));
        }
        for (s, a) in self.skill_ability.iter().enumerate() {
            a.check(&format!("topic {s} ability"))?;
        }
        if let Some((s, m)) = self
            .mastery
            .iter()
            .enumerate()
            // BKT's updates drift past 1 by rounding (1 + 5e-9 after 3,000 answers): a
            // probability up to that, not a value of another kind
            .find(|(_, m)| !(-1e-3..=1.0 + 1e-3).contains(*m))
        {
            return Err(Error::Argument(format!(
                "topic {s}: BKT mastery {m} is not a probability"
            )));
        }
        self.elo.validate("elo")?;
        self.elo_options.validate()?;
        if let Some(q) = self.last.filter(|&q| q as usize >= n) {
            return Err(Error::Argument(format!(
                "last question {q}: the bundle has {n} questions"
            )));
        }
        for (&q, c) in &self.cards {
            if q as usize >= n {
                return Err(Error::Argument(format!(
                    "a review card for question {q}: the bundle has {n} questions"
                )));
            }
            if !(c.stability.is_finite() && c.difficulty.is_finite()) {
                return Err(Error::Argument(format!(
                    "the review card of question {q} has stability {}, difficulty {}",
                    c.stability, c.difficulty
                )));
            }
        }
        Ok(())
    }

    /// Every review card, by question index.
    pub fn cards(&self) -> impl Iterator<Item = (u32, &fsrs::Card)> {
        self.cards.iter().map(|(&q, c)| (q, c))
    }

    /// The ability posterior from one skill's answers (N(0, 1) prior); panics for a skill out
    /// of range.
    pub fn skill_ability_posterior(&self, skill: u32) -> &Ability {
        &self.skill_ability[skill as usize]
    }

    /// The BKT mastery probability of a skill before its next opportunity.
    pub fn p_mastery(&self, skill: u32) -> Option<f64> {
        self.mastery.get(skill as usize).copied()
    }
}

/// [`most_informative`] with the filters of [`NextOptions`] (`k`, `exclude`, `skill`, `level`;
/// `target_success` is not used).
pub fn most_informative_with(
    bank: &QuestionBank,
    learner: &Learner,
    options: &NextOptions,
) -> Result<Vec<Suggestion>> {
    let k = options.k;
    if k == 0 {
        return Err(Error::Argument("k must be ≥ 1".into()));
    }
    let ex = sorted_exclusions(learner, &options.exclude);
    let est = learner.ability.estimate();
    let mut best: Vec<(f64, u32)> = Vec::with_capacity(k.min(bank.questions.len()));
    let cap = k.min(bank.questions.len());
    for (i, q) in bank.questions.iter().enumerate() {
        if !options.admits(q) || (!ex.is_empty() && ex.binary_search(&(i as u32)).is_ok()) {
            continue;
        }
        let info = information_at(bank, learner, i, est.mean);
        // Negated so the ascending bounded list keeps the largest.
        insert_bounded(&mut best, cap, (-info, i as u32));
    }
    Ok(best
        .into_iter()
        .map(|(neg, q)| {
            let question = &bank.questions[q as usize];
            let p = learner
                .predict(bank, q as usize, est)
                .expect("index in range");
            Suggestion {
                question: q,
                p_correct: p,
                score: -neg,
                reason: describe(bank, question, p, "placement check on"),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(n: usize, skills: usize) -> QuestionBank {
        let questions = (0..n)
            .map(|i| Question {
                id: format!("Q{i}"),
                skill: (i % skills) as u32,
                subtopic: Some((i % skills) as u32),
                level: 0,
            })
            .collect();
        let names: Vec<String> = (0..skills).map(|s| format!("Skill {s}")).collect();
        let subs: Vec<String> = (0..skills).map(|s| format!("Sub {s}")).collect();
        let irt = (0..n)
            .map(|i| {
                Some(ItemParams {
                    discrimination: 1.0,
                    difficulty: -3.0 + 6.0 * i as f64 / n as f64,
                })
            })
            .collect();
        QuestionBank::new(names, subs, questions)
            .unwrap()
            .with_irt(irt)
            .unwrap()
    }

    #[test]
    fn next_spreads_over_skills_and_excludes() {
        let b = bank(200, 4);
        let mut l = Learner::new(&b);
        l.observe(&b, 100, true).unwrap();
        let opts = NextOptions {
            exclude: vec![99, 101],
            ..NextOptions::default()
        };
        let s = next_exercises(&b, &l, &opts).unwrap();
        assert_eq!(s.len(), 5);
        let mut skills: Vec<u32> = s
            .iter()
            .map(|x| b.questions()[x.question as usize].skill)
            .collect();
        for x in &s {
            assert!(![99, 100, 101].contains(&x.question));
            assert!((x.p_correct - 0.7).abs() < 0.1, "{x:?}");
            assert!(x.reason.starts_with("P(correct) 0."), "{}", x.reason);
            assert!(x.reason.contains("Skill"), "{}", x.reason);
        }
        skills.truncate(4);
        skills.sort();
        assert_eq!(skills, vec![0, 1, 2, 3]);
        let m = most_informative(&b, &l, 3, &[]).unwrap();
        let est = l.ability();
        for x in &m {
            let p = b.irt(x.question).unwrap();
            assert!((p.difficulty - est.mean).abs() < 0.2);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(QuestionBank::new(vec![], vec![], vec![]).is_err());
        let q = |id: &str, skill| Question {
            id: id.into(),
            skill,
            subtopic: None,
            level: 0,
        };
        let names = vec!["A".to_string()];
        assert!(QuestionBank::new(names.clone(), vec![], vec![q("a", 0), q("a", 0)]).is_err());
        assert!(QuestionBank::new(names.clone(), vec![], vec![q("a", 1)]).is_err());
        assert!(QuestionBank::new(names.clone(), vec![], vec![q("", 0)]).is_err());
        let b = bank(10, 2);
        let mut l = Learner::new(&b);
        assert!(l.observe(&b, 10, true).is_err());
        assert!(
            matches!(l.observe_id(&b, "nope", true), Err(Error::Argument(m)) if m.contains("nope"))
        );
        for t in [0.0, 1.0, f64::NAN] {
            let o = NextOptions {
                target_success: t,
                ..NextOptions::default()
            };
            assert!(next_exercises(&b, &l, &o).is_err());
        }
        let o = NextOptions {
            k: 0,
            ..NextOptions::default()
        };
        assert!(next_exercises(&b, &l, &o).is_err());
        let bad = vec![
            Some(ItemParams {
                discrimination: f64::NAN,
                difficulty: 0.0
            });
            10
        ];
        assert!(b.clone().with_irt(bad).is_err());
        assert!(b.clone().with_irt(vec![None; 3]).is_err());
    }
}

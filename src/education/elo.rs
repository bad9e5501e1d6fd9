//! Elo ratings for learners and questions, for questions that have no fitted IRT parameters.
//!
//! The adaptation of Elo's chess rating to learners and items follows Pelánek (2016),
//! "Applications of the Elo rating system in adaptive educational systems", Computers &
//! Education 98:169-179. Ratings live on the logit scale of the Rasch model (not Elo's
//! 400-point scale): a learner of rating θ answers a question of rating d correctly with the
//! expectation
//!
//! ```text
//! E = σ(θ − d) = 1 / (1 + e^(−(θ − d)))
//! ```
//!
//! and after an answer x ∈ {0, 1} both ratings move by the surprise x − E:
//!
//! ```text
//! θ ← θ + K(n_learner) (x − E),   d ← d − K(n_question) (x − E)
//! ```
//!
//! where n is how many answers that rating has already absorbed. The K factor follows
//! Pelánek's uncertainty function K(n) = k0 / (1 + decay · n): large for new learners and new
//! questions, shrinking as evidence accumulates. Defaults k0 = 0.8, decay = 0.05 (so K(0) = 0.8,
//! K(20) = 0.4, K(180) = 0.08).

use super::irt::sigmoid;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The K-factor schedule K(n) = k0 / (1 + decay · n).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EloOptions {
    pub k0: f64,
    pub decay: f64,
}

impl Default for EloOptions {
    fn default() -> Self {
        EloOptions {
            k0: 0.8,
            decay: 0.05,
        }
    }
}

impl EloOptions {
    /// Checks k0 > 0 and decay ≥ 0, both finite.
    pub fn validate(&self) -> Result<()> {
        if !(self.k0.is_finite() && self.k0 > 0.0) {
            return Err(Error::Argument(format!(
                "elo.k0 must be finite and > 0, got {}",
                self.k0
            )));
        }
        if !(self.decay.is_finite() && self.decay >= 0.0) {
            return Err(Error::Argument(format!(
                "elo.decay must be finite and ≥ 0, got {}",
                self.decay
            )));
        }
        Ok(())
    }

    /// K(n) = k0 / (1 + decay · n).
    #[inline]
    pub fn k(&self, n: u32) -> f64 {
        self.k0 / (1.0 + self.decay * n as f64)
    }
}

/// One rating and how many answers it has absorbed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EloRating {
    pub rating: f64,
    pub answers: u32,
}

impl EloRating {
    /// Checks the rating is finite.
    pub fn validate(&self, what: &str) -> Result<()> {
        if !self.rating.is_finite() {
            return Err(Error::Argument(format!(
                "{what}.rating must be finite, got {}",
                self.rating
            )));
        }
        Ok(())
    }
}

/// E = σ(learner − question).
#[inline]
pub fn expected(learner: f64, question: f64) -> f64 {
    sigmoid(learner - question)
}

/// Updates both ratings after one answer; returns the expectation E before the update.
pub fn update(
    learner: &mut EloRating,
    question: &mut EloRating,
    correct: bool,
    options: &EloOptions,
) -> f64 {
    let e = update_learner(learner, question, correct, options);
    let surprise = if correct { 1.0 } else { 0.0 } - e;
    question.rating -= options.k(question.answers) * surprise;
    question.answers = question.answers.saturating_add(1);
    e
}

/// Updates the learner's rating only (the question's rating is fixed, as when it was estimated
/// from many learners); returns E before the update.
pub fn update_learner(
    learner: &mut EloRating,
    question: &EloRating,
    correct: bool,
    options: &EloOptions,
) -> f64 {
    let e = expected(learner.rating, question.rating);
    let surprise = if correct { 1.0 } else { 0.0 } - e;
    learner.rating += options.k(learner.answers) * surprise;
    learner.answers = learner.answers.saturating_add(1);
    e
}

/// Question ratings from a log, replayed once in the given order with [`update`]; every learner
/// starts at 0. `answers` are (learner key, question index, correct). O(answers + learners log
/// learners). Errors: an empty log, a question index ≥ `n_questions`, invalid options.
pub fn fit(
    answers: &[(u32, u32, bool)],
    n_questions: usize,
    options: &EloOptions,
) -> Result<Vec<EloRating>> {
    options.validate()?;
    if answers.is_empty() {
        return Err(Error::Argument("answers: the log is empty".into()));
    }
    let mut learners: Vec<u32> = answers.iter().map(|a| a.0).collect();
    learners.sort_unstable();
    learners.dedup();
    let mut lr = vec![EloRating::default(); learners.len()];
    let mut qr = vec![EloRating::default(); n_questions];
    for (k, &(l, q, correct)) in answers.iter().enumerate() {
        let Some(question) = qr.get_mut(q as usize) else {
            return Err(Error::Argument(format!(
                "answers[{k}].question = {q} is not below n_questions = {n_questions}"
            )));
        };
        let li = learners
            .binary_search(&l)
            .expect("every learner was collected");
        update(&mut lr[li], question, correct, options);
    }
    Ok(qr)
}

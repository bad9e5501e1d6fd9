//! The FSRS-6 spaced-repetition scheduler (Free Spaced Repetition Scheduler, J. Ye et al.;
//! <https://github.com/open-spaced-repetition/fsrs4anki/wiki/The-Algorithm>), written to give
//! the same cards as ts-fsrs 5.4.2's scheduler with short-term scheduling on (its default,
//! `BasicScheduler`) and no interval fuzz; the defaults here are ts-fsrs's (learning steps
//! 1m/10m, relearning step 10m, request retention 0.9, maximum interval 36,500 days).
//! tests/education.rs replays histories that tools/gen_fsrs_reference.mjs scheduled with
//! ts-fsrs under the defaults, under other weights/steps/retention/cap, without steps, and with
//! `enable_short_term: false` (ts-fsrs's `LongTermScheduler`: every review schedules in whole
//! days, no learning steps, no same-day stability formula). Not implemented: interval fuzz.
//!
//! The memory model, with weights w₀…w₂₀ ([`DEFAULT_W`]), grade G ∈ {1 Again, 2 Hard, 3 Good,
//! 4 Easy}, stability S (days until R falls to 90%), difficulty D ∈ [1, 10], t the elapsed
//! whole days:
//!
//! ```text
//! retrievability   R(t, S) = (1 + F t / S)^(−w₂₀),  F = 0.9^(−1/w₂₀) − 1
//! interval         I(S)    = S (r^(−1/w₂₀) − 1) / F  at requested retention r, rounded, ≥ 1, ≤ max
//! first review     S₀(G) = max(w_{G−1}, 0.1),   D₀(G) = w₄ − e^{w₅ (G−1)} + 1 (clamped to [1, 10])
//! difficulty       D' = w₇ D₀(4) + (1 − w₇) (D + (−w₆ (G − 3)) (10 − D) / 9),  clamped to [1, 10]
//! recall (G ≥ 2)   S' = S (1 + e^{w₈} (11 − D) S^{−w₉} (e^{w₁₀ (1 − R)} − 1) · w₁₅[G=2] · w₁₆[G=4])
//! lapse (G = 1)    S' = min(w₁₁ D^{−w₁₂} ((S + 1)^{w₁₃} − 1) e^{w₁₄ (1 − R)},  S / e^{w₁₇ w₁₈})
//! same day (t = 0) S' = S · S^{−w₁₉} e^{w₁₇ (G − 3 + w₁₈)}, the factor at least 1 when G ≥ 2
//! ```
//!
//! Stabilities are clamped to [0.001, 36500]. Like ts-fsrs, intermediate values are rounded to
//! 8 decimals (`roundTo`) at the same places, and whole days are counted between UTC calendar
//! dates. Card states follow ts-fsrs: New → Learning (through the learning steps) → Review;
//! a lapse in Review → Relearning (through the relearning steps) → Review; a step of a day or
//! more, or the last step passed, schedules in days.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// FSRS-6's published default weights (ts-fsrs `default_w`, FSRS-6 with decay w₂₀ = 0.1542).
pub const DEFAULT_W: [f64; 21] = [
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796, 1.4835,
    0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
];

const S_MIN: f64 = 0.001;
const S_MAX: f64 = 36500.0;
const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;

/// A review grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rating {
    Again = 1,
    Hard = 2,
    Good = 3,
    Easy = 4,
}

impl Rating {
    fn g(self) -> f64 {
        self as u8 as f64
    }
}

impl TryFrom<u8> for Rating {
    type Error = Error;
    /// 1 Again, 2 Hard, 3 Good, 4 Easy; anything else is an [`Error::Argument`].
    fn try_from(v: u8) -> Result<Rating> {
        Ok(match v {
            1 => Rating::Again,
            2 => Rating::Hard,
            3 => Rating::Good,
            4 => Rating::Easy,
            _ => {
                return Err(Error::Argument(format!(
                    "rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy), got {v}"
                )))
            }
        })
    }
}

/// Where a card is in its life (ts-fsrs `State`, same numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardState {
    New = 0,
    Learning = 1,
    Review = 2,
    Relearning = 3,
}

/// One card's scheduling state. Times are ms since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub state: CardState,
    /// Days until retrievability falls to 90% (0 for a new card).
    pub stability: f64,
    /// 1 (easy) … 10 (hard) (0 for a new card).
    pub difficulty: f64,
    pub due: i64,
    pub last_review: Option<i64>,
    /// Whole days scheduled by the last review (0 within the learning steps).
    pub scheduled_days: u32,
    /// Index of the current (re)learning step.
    pub learning_steps: u32,
    pub reps: u32,
    pub lapses: u32,
}

impl Card {
    /// A new card, due at `now`.
    pub fn new(now: i64) -> Card {
        Card {
            state: CardState::New,
            stability: 0.0,
            difficulty: 0.0,
            due: now,
            last_review: None,
            scheduled_days: 0,
            learning_steps: 0,
            reps: 0,
            lapses: 0,
        }
    }
}

/// Scheduler settings; the defaults are ts-fsrs's (fuzz is never applied).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FsrsParams {
    /// The 21 FSRS-6 weights; clamped on use to ts-fsrs's ranges (`CLAMP_PARAMETERS`).
    pub w: [f64; 21],
    /// Desired retention at the due date, in (0, 1]. Default 0.9.
    pub request_retention: f64,
    /// Longest interval in days. Default 36,500.
    pub maximum_interval: u32,
    /// Learning steps in minutes (New/Learning). Default [1, 10].
    pub learning_steps: Vec<u32>,
    /// Relearning steps in minutes (after a lapse). Default [10].
    pub relearning_steps: Vec<u32>,
    /// Short-term scheduling (ts-fsrs's default, `BasicScheduler`): learning and relearning
    /// steps in minutes, and the same-day stability formula. `false`: ts-fsrs's
    /// `LongTermScheduler`, every review scheduled in whole days (the steps are ignored).
    /// Default true.
    #[serde(default = "short_term_default")]
    pub enable_short_term: bool,
}

fn short_term_default() -> bool {
    true
}

impl Default for FsrsParams {
    fn default() -> Self {
        FsrsParams {
            w: DEFAULT_W,
            request_retention: 0.9,
            maximum_interval: 36500,
            learning_steps: vec![1, 10],
            relearning_steps: vec![10],
            enable_short_term: true,
        }
    }
}

/// JavaScript's `Math.round`: halves round towards +∞.
#[inline]
fn js_round(x: f64) -> f64 {
    // x − floor(x) is exact in binary floating point, so the half test is too.
    let f = x.floor();
    if x - f >= 0.5 {
        f + 1.0
    } else {
        f
    }
}

/// ts-fsrs `roundTo(x, 8)`.
#[inline]
fn round8(x: f64) -> f64 {
    js_round(x * 1e8) / 1e8
}

/// ts-fsrs `clamp`: min(max(v, lo), hi).
#[inline]
fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

/// ts-fsrs `clipParameters` (w₁₉ may reach 0 without short-term scheduling).
fn clip_parameters(w: &[f64; 21], relearning_steps: usize, short_term: bool) -> [f64; 21] {
    let mut ranges: [(f64, f64); 21] = [
        (S_MIN, 100.0),
        (S_MIN, 100.0),
        (S_MIN, 100.0),
        (S_MIN, 100.0),
        (1.0, 10.0),
        (0.001, 4.0),
        (0.001, 4.0),
        (0.001, 0.75),
        (0.0, 4.5),
        (0.0, 0.8),
        (0.001, 3.5),
        (0.001, 5.0),
        (0.001, 0.25),
        (0.001, 0.9),
        (0.0, 4.0),
        (0.0, 1.0),
        (1.0, 6.0),
        (0.0, 2.0),
        (0.0, 2.0),
        (if short_term { 0.01 } else { 0.0 }, 0.8),
        (0.1, 0.8),
    ];
    if relearning_steps > 1 {
        let w11 = clamp(w[11], ranges[11].0, ranges[11].1);
        let w13 = clamp(w[13], ranges[13].0, ranges[13].1);
        let w14 = clamp(w[14], ranges[14].0, ranges[14].1);
        let value = -(w11.ln() + (2f64.powf(w13) - 1.0).ln() + w14 * 0.3) / relearning_steps as f64;
        let ceiling = clamp(round8(value.max(0.0).sqrt()), 0.01, 2.0);
        ranges[17].1 = ceiling;
        ranges[18].1 = ceiling;
    }
    let mut out = [0.0; 21];
    for i in 0..21 {
        out[i] = clamp(w[i], ranges[i].0, ranges[i].1);
    }
    out
}

/// An FSRS-6 scheduler: validated, clamped settings and the derived decay constants.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheduler {
    params: FsrsParams,
    /// −w₂₀.
    decay: f64,
    /// F = 0.9^(1/decay) − 1 (rounded to 8 decimals, as ts-fsrs does).
    factor: f64,
    /// (r^(1/decay) − 1) / F (rounded to 8 decimals).
    interval_modifier: f64,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new(FsrsParams::default()).expect("default FSRS parameters are valid")
    }
}

impl Scheduler {
    /// Validates the settings (finite weights, retention in (0, 1], maximum interval ≥ 1) and
    /// clamps the weights to ts-fsrs's ranges. Errors: [`Error::Argument`] naming the field.
    pub fn new(mut params: FsrsParams) -> Result<Scheduler> {
        if let Some(i) = params.w.iter().position(|v| !v.is_finite()) {
            return Err(Error::Argument(format!(
                "fsrs.w[{i}] must be finite, got {}",
                params.w[i]
            )));
        }
        let r = params.request_retention;
        if !(r > 0.0 && r <= 1.0) {
            return Err(Error::Argument(format!(
                "fsrs.request_retention must be in (0, 1], got {r}"
            )));
        }
        if params.maximum_interval == 0 {
            return Err(Error::Argument("fsrs.maximum_interval must be ≥ 1".into()));
        }
        params.w = clip_parameters(
            &params.w,
            params.relearning_steps.len(),
            params.enable_short_term,
        );
        let decay = -params.w[20];
        let factor = round8((0.9f64.ln() / decay).exp() - 1.0);
        let interval_modifier = round8((r.powf(1.0 / decay) - 1.0) / factor);
        Ok(Scheduler {
            params,
            decay,
            factor,
            interval_modifier,
        })
    }

    /// The settings in use (weights after clamping).
    pub fn params(&self) -> &FsrsParams {
        &self.params
    }

    /// R(t, S) = (1 + F t / S)^decay, rounded to 8 decimals.
    pub fn forgetting_curve(&self, elapsed_days: f64, stability: f64) -> f64 {
        round8((1.0 + self.factor * elapsed_days / stability).powf(self.decay))
    }

    /// The interval in whole days for stability `s`: round(S · modifier), in [1, maximum_interval].
    pub fn next_interval(&self, stability: f64) -> u32 {
        let ivl = js_round(stability * self.interval_modifier).max(1.0);
        ivl.min(self.params.maximum_interval as f64) as u32
    }

    /// Probability of recall at `now` (ts-fsrs `get_retrievability`): 0 for a new card, else
    /// R(t, S) with t the whole days (floor of the elapsed ms) since the last review, ≥ 0.
    pub fn retrievability(&self, card: &Card, now: i64) -> f64 {
        match (card.state, card.last_review) {
            (CardState::New, _) => 0.0,
            (_, last) => {
                let t = last
                    .map(|l| (now - l).div_euclid(DAY_MS).max(0))
                    .unwrap_or(0);
                self.forgetting_curve(t as f64, round8(card.stability))
            }
        }
    }

    fn init_difficulty(&self, g: f64) -> f64 {
        let w = &self.params.w;
        round8(w[4] - ((g - 1.0) * w[5]).exp() + 1.0)
    }

    fn next_difficulty(&self, d: f64, g: f64) -> f64 {
        let w = &self.params.w;
        let delta = -w[6] * (g - 3.0);
        let next = d + round8(delta * (10.0 - d) / 9.0);
        let reverted = round8(w[7] * self.init_difficulty(4.0) + (1.0 - w[7]) * next);
        clamp(reverted, 1.0, 10.0)
    }

    fn next_recall_stability(&self, d: f64, s: f64, r: f64, rating: Rating) -> f64 {
        let w = &self.params.w;
        let hard = if rating == Rating::Hard { w[15] } else { 1.0 };
        let easy = if rating == Rating::Easy { w[16] } else { 1.0 };
        round8(clamp(
            s * (1.0
                + w[8].exp()
                    * (11.0 - d)
                    * s.powf(-w[9])
                    * (((1.0 - r) * w[10]).exp() - 1.0)
                    * hard
                    * easy),
            S_MIN,
            S_MAX,
        ))
    }

    fn next_forget_stability(&self, d: f64, s: f64, r: f64) -> f64 {
        let w = &self.params.w;
        round8(clamp(
            w[11] * d.powf(-w[12]) * ((s + 1.0).powf(w[13]) - 1.0) * ((1.0 - r) * w[14]).exp(),
            S_MIN,
            S_MAX,
        ))
    }

    fn next_short_term_stability(&self, s: f64, g: f64) -> f64 {
        let w = &self.params.w;
        let sinc = s.powf(-w[19]) * (w[17] * (g - 3.0 + w[18])).exp();
        let sinc = if g >= 2.0 { sinc.max(1.0) } else { sinc };
        round8(clamp(s * sinc, S_MIN, S_MAX))
    }

    /// (difficulty, stability) after a review `t` whole days after the last one
    /// (ts-fsrs `next_state`); `r` is the retrievability at the review.
    fn next_memory(&self, card: &Card, t: i64, rating: Rating, r: Option<f64>) -> (f64, f64) {
        let (d, s) = (card.difficulty, card.stability);
        let g = rating.g();
        if d == 0.0 && s == 0.0 {
            let w = &self.params.w;
            return (
                clamp(self.init_difficulty(g), 1.0, 10.0),
                w[rating as usize - 1].max(0.1),
            );
        }
        let r = r.unwrap_or_else(|| self.forgetting_curve(t as f64, s));
        let short_term = self.params.enable_short_term;
        let new_s = if t == 0 && short_term {
            self.next_short_term_stability(s, g)
        } else if rating == Rating::Again {
            let w = &self.params.w;
            let after_fail = self.next_forget_stability(d, s, r);
            let w17_w18 = if short_term { w[17] * w[18] } else { 0.0 };
            let floor = round8(s / w17_w18.exp());
            clamp(floor, S_MIN, after_fail)
        } else {
            self.next_recall_stability(d, s, r, rating)
        };
        (self.next_difficulty(d, g), new_s)
    }

    /// ts-fsrs `BasicLearningStepsStrategy`: (minutes, next step) for this grade, if any.
    fn learning_step(&self, state: CardState, step: u32, rating: Rating) -> Option<(u32, u32)> {
        let steps = match state {
            CardState::Relearning | CardState::Review => &self.params.relearning_steps,
            _ => &self.params.learning_steps,
        };
        let step = step as usize;
        if steps.is_empty() || step >= steps.len() {
            return None;
        }
        if state == CardState::Review {
            return (rating == Rating::Again).then_some((steps[step], 0));
        }
        match rating {
            Rating::Again => Some((steps[0], 0)),
            Rating::Hard => {
                let m = if steps.len() == 1 {
                    js_round(steps[0] as f64 * 1.5)
                } else {
                    js_round((steps[0] as f64 + steps[1] as f64) / 2.0)
                };
                Some((m as u32, step as u32))
            }
            Rating::Good => steps
                .get(step + 1)
                .filter(|&&m| m > 0)
                .map(|&m| (m, step as u32 + 1)),
            Rating::Easy => None,
        }
    }

    /// ts-fsrs `applyLearningSteps`: a step under a day keeps the card in `to_state` for
    /// minutes; otherwise it goes to Review, by the step (≥ 1 day) or by the FSRS interval.
    fn apply_learning_steps(
        &self,
        current: &Card,
        next: &mut Card,
        rating: Rating,
        to_state: CardState,
        now: i64,
    ) {
        let (minutes, next_step) = self
            .learning_step(current.state, current.learning_steps, rating)
            .unwrap_or((0, 0));
        if minutes > 0 && minutes < 1440 {
            next.learning_steps = next_step;
            next.scheduled_days = 0;
            next.state = to_state;
            next.due = now + minutes as i64 * MINUTE_MS;
        } else {
            next.state = CardState::Review;
            if minutes >= 1440 {
                next.learning_steps = next_step;
                next.due = now + minutes as i64 * MINUTE_MS;
                next.scheduled_days = minutes / 1440;
            } else {
                next.learning_steps = 0;
                let ivl = self.next_interval(next.stability);
                next.scheduled_days = ivl;
                next.due = now + ivl as i64 * DAY_MS;
            }
        }
    }

    /// The card after a review graded `rating` at `now` (ms since the epoch).
    ///
    /// Errors ([`Error::Argument`]): `now` before the card's last review; a reviewed card whose
    /// stability or difficulty is not finite or below FSRS's minimum (S ≥ 0.001, D ≥ 1).
    pub fn review(&self, card: &Card, now: i64, rating: Rating) -> Result<Card> {
        if card.state != CardState::New {
            let (d, s) = (card.difficulty, card.stability);
            if !(d.is_finite() && s.is_finite() && d >= 1.0 && s >= S_MIN) {
                return Err(Error::Argument(format!(
                    "card: a reviewed card needs difficulty ≥ 1 and stability ≥ {S_MIN}, got \
                     difficulty {d}, stability {s}"
                )));
            }
        }
        let elapsed = match (card.state, card.last_review) {
            (CardState::New, _) | (_, None) => 0,
            (_, Some(last)) => now.div_euclid(DAY_MS) - last.div_euclid(DAY_MS),
        };
        if elapsed < 0 {
            return Err(Error::Argument(format!(
                "now ({now}) is before the card's last review ({:?})",
                card.last_review
            )));
        }
        let mut base = *card;
        base.last_review = Some(now);
        base.reps = base.reps.saturating_add(1);
        let with_memory = |(d, s): (f64, f64)| {
            let mut c = base;
            c.difficulty = d;
            c.stability = s;
            c
        };
        if !self.params.enable_short_term {
            return Ok(self.review_long_term(card, base, elapsed, now, rating));
        }
        match card.state {
            CardState::New | CardState::Learning | CardState::Relearning => {
                let mut next = with_memory(self.next_memory(card, elapsed, rating, None));
                let to = if card.state == CardState::New {
                    CardState::Learning
                } else {
                    card.state
                };
                self.apply_learning_steps(card, &mut next, rating, to, now);
                Ok(next)
            }
            CardState::Review => {
                let r = self.forgetting_curve(elapsed as f64, card.stability);
                if rating == Rating::Again {
                    let mut next = with_memory(self.next_memory(card, elapsed, rating, Some(r)));
                    self.apply_learning_steps(card, &mut next, rating, CardState::Relearning, now);
                    next.lapses = next.lapses.saturating_add(1);
                    return Ok(next);
                }
                let mem = |g| with_memory(self.next_memory(card, elapsed, g, Some(r)));
                let (hard, good, easy) = (mem(Rating::Hard), mem(Rating::Good), mem(Rating::Easy));
                let mut hard_ivl = self.next_interval(hard.stability);
                let mut good_ivl = self.next_interval(good.stability);
                hard_ivl = hard_ivl.min(good_ivl);
                good_ivl = good_ivl.max(hard_ivl + 1);
                let easy_ivl = self.next_interval(easy.stability).max(good_ivl + 1);
                let (mut next, ivl) = match rating {
                    Rating::Hard => (hard, hard_ivl),
                    Rating::Good => (good, good_ivl),
                    _ => (easy, easy_ivl),
                };
                next.state = CardState::Review;
                next.learning_steps = 0;
                next.scheduled_days = ivl;
                next.due = now + ivl as i64 * DAY_MS;
                Ok(next)
            }
        }
    }
}

impl Scheduler {
    /// ts-fsrs `LongTermScheduler`: the four grades' memory states and whole-day intervals
    /// (Again ≤ Hard < Good < Easy), every card to Review. A new card starts from the initial
    /// state; any other is reviewed at its retrievability after `elapsed` days, and Again is a
    /// lapse.
    fn review_long_term(
        &self,
        card: &Card,
        base: Card,
        elapsed: i64,
        now: i64,
        rating: Rating,
    ) -> Card {
        let r = (card.state != CardState::New)
            .then(|| self.forgetting_curve(elapsed as f64, card.stability));
        let t = if card.state == CardState::New {
            0
        } else {
            elapsed
        };
        let grades = [Rating::Again, Rating::Hard, Rating::Good, Rating::Easy];
        let mut ivl = [0u32; 4];
        let mut next = [base; 4];
        for (k, &g) in grades.iter().enumerate() {
            let (d, s) = self.next_memory(card, t, g, r);
            next[k].difficulty = d;
            next[k].stability = s;
            ivl[k] = self.next_interval(s);
        }
        ivl[0] = ivl[0].min(ivl[1]);
        ivl[1] = ivl[1].max(ivl[0] + 1);
        ivl[2] = ivl[2].max(ivl[1] + 1);
        ivl[3] = ivl[3].max(ivl[2] + 1);
        let k = rating as usize - 1;
        let mut c = next[k];
        c.state = CardState::Review;
        c.learning_steps = 0;
        c.scheduled_days = ivl[k];
        c.due = now + ivl[k] as i64 * DAY_MS;
        if rating == Rating::Again && card.state != CardState::New {
            c.lapses = c.lapses.saturating_add(1);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_round_halves_up() {
        assert_eq!(js_round(5.5), 6.0);
        assert_eq!(js_round(-5.5), -5.0);
        assert_eq!(js_round(-5.6), -6.0);
        assert_eq!(js_round(2.4), 2.0);
    }

    #[test]
    fn first_good_goes_to_the_second_learning_step() {
        let s = Scheduler::default();
        let c = s.review(&Card::new(0), 0, Rating::Good).unwrap();
        assert_eq!(c.state, CardState::Learning);
        assert_eq!(c.due, 10 * MINUTE_MS);
        assert_eq!(c.stability, DEFAULT_W[2]);
        assert!(s.review(&c, -DAY_MS, Rating::Good).is_err());
        assert!(Rating::try_from(0).is_err() && Rating::try_from(5).is_err());
        let mut p = FsrsParams::default();
        p.w[3] = f64::NAN;
        assert!(Scheduler::new(p).is_err());
    }
}

//! Bayesian Knowledge Tracing (Corbett & Anderson 1995, "Knowledge tracing: modeling the
//! acquisition of procedural knowledge", UMUAI 4:253-278).
//!
//! Per skill, a two-state hidden Markov model: the learner has not mastered (U) or has mastered
//! (L) the skill. With parameters p_init = P(L₁), p_learn = P(U → L) between two practice
//! opportunities (no forgetting: L → L), p_guess = P(correct | U), p_slip = P(wrong | L):
//!
//! ```text
//! P(correct_t)            = P(L_t) (1 − slip) + (1 − P(L_t)) guess
//! P(L_t | correct_t)      = P(L_t) (1 − slip) / P(correct_t)
//! P(L_t | wrong_t)        = P(L_t) slip / (1 − P(correct_t))
//! P(L_{t+1} | o_1..t)     = P(L_t | o_1..t) + (1 − P(L_t | o_1..t)) learn
//! ```
//!
//! [`fit`] estimates the four parameters from ordered per-learner sequences by EM
//! (Baum–Welch; Rabiner 1989, "A tutorial on hidden Markov models", Proc. IEEE 77(2), with
//! scaled forward/backward variables), which never decreases the likelihood.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// BKT parameters of one skill; every value lies strictly inside (0, 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BktParams {
    pub p_init: f64,
    pub p_learn: f64,
    pub p_guess: f64,
    pub p_slip: f64,
}

impl Default for BktParams {
    /// A neutral starting point: p_init 0.3, p_learn 0.1, p_guess 0.2, p_slip 0.1.
    fn default() -> Self {
        BktParams {
            p_init: 0.3,
            p_learn: 0.1,
            p_guess: 0.2,
            p_slip: 0.1,
        }
    }
}

impl BktParams {
    /// Checks every probability is finite and strictly inside (0, 1) (so every observation
    /// has positive probability and the forward pass never divides by zero).
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("p_init", self.p_init),
            ("p_learn", self.p_learn),
            ("p_guess", self.p_guess),
            ("p_slip", self.p_slip),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::Argument(format!(
                    "bkt.{name} must be a probability strictly inside (0, 1), got {v}"
                )));
            }
        }
        Ok(())
    }

    /// P(correct) at mastery probability `p_mastery`.
    #[inline]
    pub fn p_correct(&self, p_mastery: f64) -> f64 {
        p_mastery * (1.0 - self.p_slip) + (1.0 - p_mastery) * self.p_guess
    }

    /// P(L | this answer), before the learning transition.
    #[inline]
    pub fn posterior(&self, p_mastery: f64, correct: bool) -> f64 {
        let pc = self.p_correct(p_mastery);
        if correct {
            p_mastery * (1.0 - self.p_slip) / pc
        } else {
            p_mastery * self.p_slip / (1.0 - pc)
        }
    }

    /// One online step: the mastery probability before the next opportunity,
    /// P(L_{t+1} | o_1..t) = post + (1 − post) learn with post = [`BktParams::posterior`].
    #[inline]
    pub fn observe(&self, p_mastery: f64, correct: bool) -> f64 {
        let post = self.posterior(p_mastery, correct);
        post + (1.0 - post) * self.p_learn
    }
}

/// The filtered mastery P(L_t | o_1..t) after each observation (before the transition).
/// Errors: invalid parameters.
pub fn forward(params: &BktParams, obs: &[bool]) -> Result<Vec<f64>> {
    params.validate()?;
    let mut out = Vec::with_capacity(obs.len());
    let mut p = params.p_init;
    for &o in obs {
        let post = params.posterior(p, o);
        out.push(post);
        p = post + (1.0 - post) * params.p_learn;
    }
    Ok(out)
}

/// ln P(o_1..T) summed over sequences (the forward algorithm). Errors: invalid parameters.
pub fn log_likelihood<S: AsRef<[bool]>>(params: &BktParams, sequences: &[S]) -> Result<f64> {
    params.validate()?;
    let mut ll = 0.0;
    for s in sequences {
        let mut p = params.p_init;
        for &o in s.as_ref() {
            let pc = params.p_correct(p);
            ll += if o { pc } else { 1.0 - pc }.ln();
            let post = params.posterior(p, o);
            p = post + (1.0 - post) * params.p_learn;
        }
    }
    Ok(ll)
}

/// Options of [`fit`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BktFitOptions {
    /// Starting parameters.
    pub init: BktParams,
    /// Upper bounds on guess and slip (default 0.5 each, so a mastered learner is always
    /// more likely to be right than an unmastered one). All parameters are also kept in
    /// [1e-6, 1 − 1e-6].
    pub max_guess: f64,
    pub max_slip: f64,
    pub max_iterations: usize,
    /// Stop when the log-likelihood rises by less than `tolerance · (1 + |ℓ|)`.
    pub tolerance: f64,
}

impl Default for BktFitOptions {
    fn default() -> Self {
        BktFitOptions {
            init: BktParams::default(),
            max_guess: 0.5,
            max_slip: 0.5,
            max_iterations: 500,
            tolerance: 1e-10,
        }
    }
}

/// The result of [`fit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BktFit {
    pub params: BktParams,
    /// ln-likelihood at `params`.
    pub log_likelihood: f64,
    /// ln-likelihood at the start of every iteration (non-decreasing).
    pub trace: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

const EPS: f64 = 1e-6;

/// Fits one skill's parameters by EM (Baum–Welch) on ordered per-learner sequences of answers.
///
/// E-step: scaled forward α̂ and backward β̂ per sequence; γ_t(k) = α̂_t(k) β̂_t(k) and
/// ξ_t(U→L) = α̂_t(U) learn e_L(o_{t+1}) β̂_{t+1}(L) / c_{t+1}. M-step (closed form):
/// p_init = mean γ₁(L); p_learn = Σ ξ(U→L) / Σ_{t<T} γ_t(U); p_guess = Σ γ_t(U)[correct] / Σ γ_t(U);
/// p_slip = Σ γ_t(L)[wrong] / Σ γ_t(L); each then clamped to its bounds. The expected
/// complete-data log-likelihood separates into one concave Bernoulli term per parameter, so the
/// clamped value is the constrained maximiser and the likelihood still never decreases.
/// O(total answers) per iteration.
///
/// Errors ([`Error::Argument`]): no sequence with an answer, invalid starting parameters or
/// bounds.
pub fn fit<S: AsRef<[bool]>>(sequences: &[S], options: &BktFitOptions) -> Result<BktFit> {
    options.init.validate()?;
    for (name, v) in [
        ("max_guess", options.max_guess),
        ("max_slip", options.max_slip),
    ] {
        if !(v > EPS && v <= 1.0 - EPS) {
            return Err(Error::Argument(format!(
                "options.{name} must lie in (1e-6, 1 − 1e-6], got {v}"
            )));
        }
    }
    if !(options.tolerance.is_finite() && options.tolerance >= 0.0) {
        return Err(Error::Argument(format!(
            "options.tolerance must be finite and ≥ 0, got {}",
            options.tolerance
        )));
    }
    let longest = sequences
        .iter()
        .map(|s| s.as_ref().len())
        .max()
        .unwrap_or(0);
    if longest == 0 {
        return Err(Error::Argument(
            "sequences: no sequence has an answer".into(),
        ));
    }
    let clamp = |v: f64, hi: f64| v.clamp(EPS, hi);
    let mut p = BktParams {
        p_init: clamp(options.init.p_init, 1.0 - EPS),
        p_learn: clamp(options.init.p_learn, 1.0 - EPS),
        p_guess: clamp(options.init.p_guess, options.max_guess),
        p_slip: clamp(options.init.p_slip, options.max_slip),
    };
    // Scaled forward (alpha), backward (beta) and scale factors, reused across sequences.
    let mut alpha = vec![[0.0f64; 2]; longest];
    let mut beta = vec![[0.0f64; 2]; longest];
    let mut c = vec![0.0f64; longest];
    let mut trace = Vec::new();
    let mut iterations = 0;
    let mut converged = false;
    loop {
        let emit = |o: bool| -> [f64; 2] {
            if o {
                [p.p_guess, 1.0 - p.p_slip]
            } else {
                [1.0 - p.p_guess, p.p_slip]
            }
        };
        let (mut init_l, mut n_seq) = (0.0, 0.0);
        let (mut xi_ul, mut gamma_u_trans) = (0.0, 0.0);
        let (mut gu, mut gu_correct, mut gl, mut gl_wrong) = (0.0, 0.0, 0.0, 0.0);
        let mut ll = 0.0;
        for s in sequences {
            let obs = s.as_ref();
            let t_len = obs.len();
            if t_len == 0 {
                continue;
            }
            // Forward.
            for t in 0..t_len {
                let e = emit(obs[t]);
                let (pu, pl) = if t == 0 {
                    (1.0 - p.p_init, p.p_init)
                } else {
                    let a = alpha[t - 1];
                    (a[0] * (1.0 - p.p_learn), a[0] * p.p_learn + a[1])
                };
                let (u, l) = (pu * e[0], pl * e[1]);
                c[t] = u + l;
                alpha[t] = [u / c[t], l / c[t]];
                ll += c[t].ln();
            }
            // Backward.
            beta[t_len - 1] = [1.0, 1.0];
            for t in (0..t_len - 1).rev() {
                let e = emit(obs[t + 1]);
                let b = beta[t + 1];
                beta[t] = [
                    ((1.0 - p.p_learn) * e[0] * b[0] + p.p_learn * e[1] * b[1]) / c[t + 1],
                    e[1] * b[1] / c[t + 1],
                ];
            }
            n_seq += 1.0;
            for t in 0..t_len {
                let g_u = alpha[t][0] * beta[t][0];
                let g_l = alpha[t][1] * beta[t][1];
                if t == 0 {
                    init_l += g_l;
                }
                gu += g_u;
                gl += g_l;
                if obs[t] {
                    gu_correct += g_u;
                } else {
                    gl_wrong += g_l;
                }
                if t + 1 < t_len {
                    let e = emit(obs[t + 1]);
                    xi_ul += alpha[t][0] * p.p_learn * e[1] * beta[t + 1][1] / c[t + 1];
                    gamma_u_trans += g_u;
                }
            }
        }
        if let Some(&last) = trace.last() {
            let last: f64 = last;
            if ll - last <= options.tolerance * (1.0 + last.abs()) {
                trace.push(ll);
                converged = true;
                break;
            }
        }
        trace.push(ll);
        if iterations == options.max_iterations {
            break;
        }
        iterations += 1;
        p.p_init = clamp(init_l / n_seq, 1.0 - EPS);
        if gamma_u_trans > 0.0 {
            p.p_learn = clamp(xi_ul / gamma_u_trans, 1.0 - EPS);
        }
        if gu > 0.0 {
            p.p_guess = clamp(gu_correct / gu, options.max_guess);
        }
        if gl > 0.0 {
            p.p_slip = clamp(gl_wrong / gl, options.max_slip);
        }
    }
    Ok(BktFit {
        params: p,
        log_likelihood: *trace.last().expect("one E-step ran"),
        trace,
        iterations,
        converged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BktParams {
        BktParams {
            p_init: 0.25,
            p_learn: 0.15,
            p_guess: 0.22,
            p_slip: 0.08,
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        for bad in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let p = BktParams {
                p_slip: bad,
                ..params()
            };
            assert!(matches!(p.validate(), Err(Error::Argument(m)) if m.contains("p_slip")));
            assert!(forward(&p, &[true]).is_err());
        }
        let empty: Vec<Vec<bool>> = vec![vec![], vec![]];
        assert!(fit(&empty, &BktFitOptions::default()).is_err());
    }
}

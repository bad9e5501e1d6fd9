//! `hearth tracer build` and `hearth tracer eval`: answer logs in, learning bundles and
//! held-out metrics out.
//!
//! Two input formats:
//! * `mathe`: the MathE export (`;`-separated, CRLF, cp1252; columns `Student ID;Student
//!   Country;Question ID;Type of Answer;Question Level;Topic;Subtopic;Keywords`, one row per
//!   answer, question metadata repeated on every row, no answer order).
//! * `csv` (generic): a header with `learner,question,correct` and optionally `ts` (ms since the
//!   epoch, or `YYYY-MM-DD[ HH:MM[:SS]]`), plus an optional question file with `id,topic` and
//!   optionally `subtopic`, `level` (a number or a name) and `keywords` (comma-separated).

use super::parse_time;
use crate::bundle::learning::{
    ItemModel, LearningManifest, LearningWriter, QuestionMeta, LEARNING_FORMAT, LEARNING_VERSION,
};
use crate::education::bkt::{self, BktFitOptions, BktParams};
use crate::education::dkt::{KtEncoding, KtInput, KtKind, KtOutput, KtPer, KtSpec, KtState};
use crate::education::elo::{self, EloOptions};
use crate::education::fsrs::FsrsParams;
use crate::education::irt::{self, FitOptions, IrtModel, Response};
use crate::education::tracer::Tracer;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// Attribution lines for data from `../shared/data/mathe`.
pub const MATHE_ATTRIBUTION: [&str; 2] = [
    "B. F. Azevedo, M. F. Pacheco, F. P. Fernandes, A. I. Pereira (2024), \"Dataset of mathematics learning and assessment of higher education students using the MathE platform\", Data in Brief.",
    "UCI ML Repository, MathE dataset (id 1031), CC BY 4.0.",
];

/// One answer of a log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    /// Index into [`AnswerLog::learners`].
    pub learner: u32,
    /// Index into [`AnswerLog::questions`].
    pub question: u32,
    pub correct: bool,
    /// ms since the epoch, when the log has times.
    pub ts: Option<f64>,
}

/// An answer log with its question bank.
#[derive(Clone, Debug, Default)]
pub struct AnswerLog {
    pub questions: Vec<QuestionMeta>,
    pub topics: Vec<String>,
    pub subtopics: Vec<String>,
    pub levels: Vec<String>,
    pub learners: Vec<String>,
    pub answers: Vec<Answer>,
}

impl AnswerLog {
    /// Whether every answer has a time (so answers can be ordered).
    pub fn ordered(&self) -> bool {
        !self.answers.is_empty() && self.answers.iter().all(|a| a.ts.is_some())
    }

    fn learner(&mut self, index: &mut HashMap<String, u32>, id: &str) -> u32 {
        let n = self.learners.len() as u32;
        *index.entry(id.to_string()).or_insert_with(|| {
            self.learners.push(id.to_string());
            n
        })
    }
}

/// Windows-1252 → UTF-8 (0x80–0x9F are the code page's letters and signs, the rest Latin-1).
pub fn decode_cp1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9f => HIGH[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect()
}

/// Interns `name` into `list`, returning its index.
fn intern(list: &mut Vec<String>, index: &mut HashMap<String, u32>, name: &str) -> u32 {
    let n = list.len() as u32;
    *index.entry(name.to_string()).or_insert_with(|| {
        list.push(name.to_string());
        n
    })
}

const MATHE_COLUMNS: [&str; 8] = [
    "Student ID",
    "Student Country",
    "Question ID",
    "Type of Answer",
    "Question Level",
    "Topic",
    "Subtopic",
    "Keywords",
];

/// Parses a MathE export (bytes as read: cp1252). Errors name the line and the column.
pub fn read_mathe(bytes: &[u8], what: &str) -> Result<AnswerLog> {
    let text = decode_cp1252(bytes);
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.trim_start_matches('\u{feff}').split(';').collect())
        .unwrap_or_default();
    if header.len() < MATHE_COLUMNS.len()
        || header
            .iter()
            .zip(MATHE_COLUMNS)
            .any(|(h, want)| h.trim() != want)
    {
        return Err(Error::Argument(format!(
            "{what}: not a MathE export: the header is {header:?}, expected {:?} (';'-separated)",
            MATHE_COLUMNS.join(";")
        )));
    }
    let mut log = AnswerLog {
        // MathE's two levels, easiest first
        levels: vec!["Basic".into(), "Advanced".into()],
        ..AnswerLog::default()
    };
    let (mut li, mut qi, mut ti, mut si) = <(
        HashMap<String, u32>,
        HashMap<String, u32>,
        HashMap<String, u32>,
        HashMap<String, u32>,
    )>::default();
    let mut level_i: HashMap<String, u32> = [("Basic".into(), 0), ("Advanced".into(), 1)].into();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(';').map(str::trim).collect();
        let at = |c: usize| format!("{what} line {}: column '{}'", n + 1, MATHE_COLUMNS[c]);
        if f.len() < MATHE_COLUMNS.len() {
            return Err(Error::Argument(format!(
                "{what} line {}: {} fields, expected {}",
                n + 1,
                f.len(),
                MATHE_COLUMNS.len()
            )));
        }
        if f[0].is_empty() || f[2].is_empty() || f[5].is_empty() {
            let c = if f[0].is_empty() {
                0
            } else if f[2].is_empty() {
                2
            } else {
                5
            };
            return Err(Error::Argument(format!("{} is empty", at(c))));
        }
        let correct = match f[3] {
            "1" => true,
            "0" => false,
            v => {
                return Err(Error::Argument(format!(
                    "{} is '{v}', expected 0 or 1",
                    at(3)
                )))
            }
        };
        let learner = log.learner(&mut li, f[0]);
        let topic = f[5].to_string();
        let subtopic = (!f[6].is_empty()).then(|| f[6].to_string());
        let level = intern(&mut log.levels, &mut level_i, f[4]);
        let known = log.questions.len() as u32;
        let q = *qi.entry(f[2].to_string()).or_insert(known);
        if q == known {
            intern(&mut log.topics, &mut ti, &topic);
            if let Some(s) = &subtopic {
                intern(&mut log.subtopics, &mut si, s);
            }
            log.questions.push(QuestionMeta {
                id: f[2].to_string(),
                topic,
                subtopic,
                level: level as u8,
                keywords: f[7]
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(String::from)
                    .collect(),
            });
        }
        log.answers.push(Answer {
            learner,
            question: q,
            correct,
            ts: None,
        });
    }
    if log.answers.is_empty() {
        return Err(Error::Argument(format!("{what}: no answers")));
    }
    Ok(log)
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

fn column(headers: &csv::StringRecord, names: &[&str]) -> Option<usize> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
}

/// Parses a generic answer log (`learner,question,correct[,ts]`) and, when given, a question
/// file (`id,topic[,subtopic][,level][,keywords]`). Without a question file every question is
/// in one topic, "All". Questions answered but missing from the question file are an error;
/// questions listed but never answered stay in the bank (without fitted parameters).
pub fn read_csv(answers: &str, questions: Option<&str>, what: &str) -> Result<AnswerLog> {
    let mut log = AnswerLog::default();
    let (mut qi, mut ti, mut si, mut level_i) = <(
        HashMap<String, u32>,
        HashMap<String, u32>,
        HashMap<String, u32>,
        HashMap<String, u32>,
    )>::default();
    let mut numeric_levels = true;
    if let Some(text) = questions {
        let mut r = csv_reader(text);
        let h = r
            .headers()
            .map_err(|e| Error::Argument(format!("questions: {e}")))?
            .clone();
        let need = |names: &[&str]| {
            column(&h, names).ok_or_else(|| {
                Error::Argument(format!(
                    "questions: no '{}' column (header: {:?})",
                    names[0],
                    h.iter().collect::<Vec<_>>()
                ))
            })
        };
        let (c_id, c_topic) = (need(&["id", "question"])?, need(&["topic", "skill"])?);
        let c_sub = column(&h, &["subtopic", "subskill"]);
        let c_level = column(&h, &["level"]);
        let c_kw = column(&h, &["keywords"]);
        let rows: Vec<csv::StringRecord> = r
            .records()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Argument(format!("questions: {e}")))?;
        for rec in &rows {
            if let Some(c) = c_level {
                let l = rec.get(c).unwrap_or("");
                numeric_levels &= l.is_empty() || l.parse::<u8>().is_ok();
            }
        }
        for (n, rec) in rows.iter().enumerate() {
            let get = |c: usize| rec.get(c).unwrap_or("");
            let id = get(c_id);
            let topic = get(c_topic);
            if id.is_empty() || topic.is_empty() {
                return Err(Error::Argument(format!(
                    "questions line {}: id and topic must not be empty",
                    n + 2
                )));
            }
            let known = log.questions.len() as u32;
            if *qi.entry(id.to_string()).or_insert(known) != known {
                return Err(Error::Argument(format!(
                    "questions line {}: question '{id}' is listed twice",
                    n + 2
                )));
            }
            intern(&mut log.topics, &mut ti, topic);
            let subtopic = c_sub.map(get).filter(|s| !s.is_empty()).map(String::from);
            if let Some(s) = &subtopic {
                intern(&mut log.subtopics, &mut si, s);
            }
            let level = match c_level.map(get).filter(|s| !s.is_empty()) {
                None => 0,
                Some(l) if numeric_levels => l.parse::<u8>().expect("checked numeric"),
                Some(l) => intern(&mut log.levels, &mut level_i, l) as u8,
            };
            log.questions.push(QuestionMeta {
                id: id.to_string(),
                topic: topic.to_string(),
                subtopic,
                level,
                keywords: c_kw
                    .map(get)
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(String::from)
                    .collect(),
            });
        }
    }
    let mut r = csv_reader(answers);
    let h = r
        .headers()
        .map_err(|e| Error::Argument(format!("{what}: {e}")))?
        .clone();
    let need = |names: &[&str]| {
        column(&h, names).ok_or_else(|| {
            Error::Argument(format!(
                "{what}: no '{}' column (header: {:?}; expected learner,question,correct[,ts])",
                names[0],
                h.iter().collect::<Vec<_>>()
            ))
        })
    };
    let c_l = need(&["learner", "student", "user"])?;
    let c_q = need(&["question", "item", "question_id"])?;
    let c_c = need(&["correct"])?;
    let c_ts = column(&h, &["ts", "timestamp", "time"]);
    let mut li = HashMap::new();
    let has_bank = questions.is_some();
    for (n, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| Error::Argument(format!("{what}: {e}")))?;
        let line = n + 2;
        let get = |c: usize| rec.get(c).unwrap_or("");
        let (l, q) = (get(c_l), get(c_q));
        if l.is_empty() || q.is_empty() {
            return Err(Error::Argument(format!(
                "{what} line {line}: learner and question must not be empty"
            )));
        }
        let correct = match get(c_c).to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            v => {
                return Err(Error::Argument(format!(
                    "{what} line {line}: correct is '{v}', expected 1/0 or true/false"
                )))
            }
        };
        let ts =
            match c_ts.map(get).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => Some(s.parse::<f64>().ok().or_else(|| parse_time(s)).ok_or_else(
                    || {
                        Error::Argument(format!(
                    "{what} line {line}: ts '{s}' is neither ms nor YYYY-MM-DD[ HH:MM[:SS]]"
                ))
                    },
                )?),
            };
        let question = match qi.get(q) {
            Some(&i) => i,
            None if has_bank => {
                return Err(Error::Argument(format!(
                    "{what} line {line}: question '{q}' is not in the question file"
                )))
            }
            None => {
                intern(&mut log.topics, &mut ti, "All");
                let i = log.questions.len() as u32;
                qi.insert(q.to_string(), i);
                log.questions.push(QuestionMeta {
                    id: q.to_string(),
                    topic: "All".into(),
                    ..QuestionMeta::default()
                });
                i
            }
        };
        let learner = log.learner(&mut li, l);
        log.answers.push(Answer {
            learner,
            question,
            correct,
            ts,
        });
    }
    if log.answers.is_empty() {
        return Err(Error::Argument(format!("{what}: no answers")));
    }
    Ok(log)
}

/// Reads a log from a file in `format` (`mathe` or `csv`).
pub fn read_log(path: &Path, format: &str, questions: Option<&Path>) -> Result<AnswerLog> {
    let what = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::Argument(format!("reading {what}: {e}")))?;
    match format {
        "mathe" => read_mathe(&bytes, &what),
        "csv" => {
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::Argument(format!("{what}: not UTF-8 text")))?;
            let q = questions
                .map(|p| {
                    std::fs::read_to_string(p)
                        .map_err(|e| Error::Argument(format!("reading {}: {e}", p.display())))
                })
                .transpose()?;
            read_csv(&text, q.as_deref(), &what)
        }
        f => Err(Error::Argument(format!(
            "--format {f}: expected mathe or csv"
        ))),
    }
}

/// Options of [`build`].
#[derive(Clone, Debug)]
pub struct TracerBuildOptions {
    pub model: ItemModel,
    /// SD of the N(0, sd²) prior on each difficulty. Default 1 (on MathE's held-out split it
    /// predicted better than 3: see benches/README.md).
    pub difficulty_prior_sd: f64,
    pub attribution: Vec<String>,
    /// Seed of the replay order of Elo when the log has no times.
    pub seed: u64,
}

impl Default for TracerBuildOptions {
    fn default() -> Self {
        TracerBuildOptions {
            model: ItemModel::Irt1pl,
            difficulty_prior_sd: 1.0,
            attribution: Vec::new(),
            seed: 2026,
        }
    }
}

/// SplitMix64: the CLI's seeded shuffles.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Fits the bank's parameters on `log` and assembles a learning bundle.
///
/// * IRT (unless `model` is Elo): marginal maximum likelihood by EM over the default 61-point
///   grid ([`irt::fit`]), N(0, `difficulty_prior_sd`²) on b and (2PL) N(0, 0.5²) on ln a.
///   Questions without answers in the log get no IRT parameters (Elo predicts them).
/// * Elo: the log replayed once ([`elo::fit`]) in time order, or, without times, in a seeded
///   random order (the order of a MathE export is by question, which would bias the replay).
/// * BKT per topic by EM on each learner's time-ordered answers to the topic ([`bkt::fit`]);
///   without times, [`BktParams::default`] (and the source says so).
pub fn build(log: &AnswerLog, o: &TracerBuildOptions) -> Result<LearningWriter> {
    let n = log.questions.len();
    let mut source = serde_json::json!({
        "tool": "hearth tracer build",
        "learners": log.learners.len(),
        "answers": log.answers.len(),
        "questions": n,
    });
    let mut answered = vec![false; n];
    for a in &log.answers {
        answered[a.question as usize] = true;
    }
    let irt = match o.model {
        ItemModel::Elo => None,
        model => {
            let resp: Vec<Response> = log
                .answers
                .iter()
                .map(|a| Response {
                    learner: a.learner,
                    item: a.question,
                    correct: a.correct,
                })
                .collect();
            let fit = irt::fit(
                &resp,
                n,
                &FitOptions {
                    model: if model == ItemModel::Irt2pl {
                        IrtModel::TwoPl
                    } else {
                        IrtModel::Rasch
                    },
                    difficulty_prior_sd: o.difficulty_prior_sd,
                    ..FitOptions::default()
                },
            )?;
            source["irt"] = serde_json::json!({
                "method": "marginal maximum likelihood, EM (Bock-Aitkin) on a 61-point grid over [-5, 5], N(0, 1) abilities",
                "difficultyPriorSd": o.difficulty_prior_sd,
                "logDiscriminationPriorSd": if model == ItemModel::Irt2pl { Some(0.5) } else { None },
                "iterations": fit.iterations, "converged": fit.converged,
                "penalisedLogLikelihood": fit.log_likelihood,
                "fitted": answered.iter().filter(|&&x| x).count(),
            });
            Some(
                fit.items
                    .iter()
                    .zip(&answered)
                    .map(|(p, &a)| a.then_some(*p))
                    .collect(),
            )
        }
    };
    let mut order: Vec<usize> = (0..log.answers.len()).collect();
    let ordered = log.ordered();
    if ordered {
        order.sort_by(|&a, &b| {
            log.answers[a]
                .ts
                .unwrap_or(0.0)
                .total_cmp(&log.answers[b].ts.unwrap_or(0.0))
        });
    } else {
        Mix(o.seed).shuffle(&mut order);
    }
    let elo_log: Vec<(u32, u32, bool)> = order
        .iter()
        .map(|&k| {
            let a = &log.answers[k];
            (a.learner, a.question, a.correct)
        })
        .collect();
    let elo_options = EloOptions::default();
    let elo = elo::fit(&elo_log, n, &elo_options)?;
    source["elo"] = serde_json::json!({
        "order": if ordered { "time".to_string() } else { format!("seeded shuffle (seed {}): the log has no times", o.seed) },
    });
    let topic_of: HashMap<&str, usize> = log
        .topics
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    let bkt = if ordered {
        let mut params = Vec::with_capacity(log.topics.len());
        let mut fits = Vec::new();
        for t in 0..log.topics.len() {
            let mut seqs: HashMap<u32, Vec<bool>> = HashMap::new();
            for &k in &order {
                let a = &log.answers[k];
                if topic_of[log.questions[a.question as usize].topic.as_str()] == t {
                    seqs.entry(a.learner).or_default().push(a.correct);
                }
            }
            let seqs: Vec<Vec<bool>> = seqs.into_values().collect();
            match bkt::fit(&seqs, &BktFitOptions::default()) {
                Ok(f) => {
                    fits.push(serde_json::json!({ "topic": log.topics[t], "iterations": f.iterations, "logLikelihood": f.log_likelihood }));
                    params.push(f.params);
                }
                Err(_) => params.push(BktParams::default()),
            }
        }
        source["bkt"] = serde_json::json!({ "method": "EM (Baum-Welch) per topic on time-ordered answers", "fits": fits });
        Some(params)
    } else {
        source["bkt"] =
            serde_json::json!({ "method": "default parameters: the log has no answer order" });
        None
    };
    let manifest = LearningManifest {
        format: LEARNING_FORMAT.into(),
        version: LEARNING_VERSION,
        topics: log.topics.clone(),
        subtopics: log.subtopics.clone(),
        levels: log.levels.clone(),
        questions: log.questions.clone(),
        model: o.model,
        elo: elo_options,
        fsrs: FsrsParams::default(),
        attribution: o.attribution.clone(),
        kt: None,
        source: Some(source),
    };
    Ok(LearningWriter {
        manifest,
        irt,
        elo: Some(elo),
        bkt,
        kt_model: None,
    })
}

/// AUC (the Mann–Whitney statistic, ties counted half).
pub fn auc(pred: &[(f64, bool)]) -> f64 {
    let mut v = pred.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut pos) = (0.0, 0.0);
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        for e in &v[i..j] {
            if e.1 {
                rank_sum += mid;
                pos += 1.0;
            }
        }
        i = j;
    }
    let neg = v.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Mean negative log-likelihood, predictions clamped to [1e-6, 1 − 1e-6].
pub fn log_loss(pred: &[(f64, bool)]) -> f64 {
    pred.iter()
        .map(|&(p, y)| {
            let p = p.clamp(1e-6, 1.0 - 1e-6);
            -if y { p.ln() } else { (1.0 - p).ln() }
        })
        .sum::<f64>()
        / pred.len() as f64
}

/// Options of [`evaluate`].
#[derive(Clone, Debug)]
pub struct EvalOptions {
    pub build: TracerBuildOptions,
    /// Every `test_every`-th learner (in a seeded shuffle) is held out. Default 5.
    pub test_every: usize,
    /// Answers of each held-out learner observed before predicting the rest. Default 5.
    pub seen: usize,
    pub seed: u64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            build: TracerBuildOptions::default(),
            test_every: 5,
            seen: 5,
            seed: 2026,
        }
    }
}

/// One row of the evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalRow {
    pub name: String,
    pub auc: f64,
    pub log_loss: f64,
}

/// What [`evaluate`] measured.
#[derive(Clone, Debug)]
pub struct EvalReport {
    pub test_learners: usize,
    pub predictions: usize,
    pub rows: Vec<EvalRow>,
}

/// Held-out evaluation, split by learner: bundles are built (with [`build`], so exactly what
/// ships) from the training learners' answers only; each held-out learner with more than
/// `seen` answers has `seen` of them observed through a [`Tracer`] learner (in time order, or
/// in a seeded random order without times) and the rest predicted. Rows: IRT-1PL, IRT-2PL,
/// Elo, and the baselines global correct rate and per-question rate (shrunk to the global rate
/// with 2 pseudo-answers).
pub fn evaluate(log: &AnswerLog, o: &EvalOptions) -> Result<EvalReport> {
    if o.test_every < 2 {
        return Err(Error::Argument("test_every must be ≥ 2".into()));
    }
    let mut rng = Mix(o.seed);
    let mut learners: Vec<u32> = (0..log.learners.len() as u32).collect();
    rng.shuffle(&mut learners);
    let mut test = vec![false; log.learners.len()];
    for &l in learners.iter().step_by(o.test_every) {
        test[l as usize] = true;
    }
    let train = AnswerLog {
        answers: log
            .answers
            .iter()
            .filter(|a| !test[a.learner as usize])
            .copied()
            .collect(),
        ..log.clone()
    };
    let n = log.questions.len();
    let global =
        train.answers.iter().filter(|a| a.correct).count() as f64 / train.answers.len() as f64;
    let (mut qc, mut qn) = (vec![0.0; n], vec![0.0; n]);
    for a in &train.answers {
        qn[a.question as usize] += 1.0;
        qc[a.question as usize] += a.correct as u8 as f64;
    }
    let per_q: Vec<f64> = (0..n)
        .map(|i| (qc[i] + 2.0 * global) / (qn[i] + 2.0))
        .collect();
    let models = [ItemModel::Irt1pl, ItemModel::Irt2pl, ItemModel::Elo];
    let tracers = models
        .iter()
        .map(|&model| {
            let w = build(
                &train,
                &TracerBuildOptions {
                    model,
                    ..o.build.clone()
                },
            )?;
            Tracer::from_bytes(&w.to_bytes()?)
        })
        .collect::<Result<Vec<Tracer>>>()?;
    let mut by_learner: Vec<Vec<Answer>> = vec![Vec::new(); log.learners.len()];
    for a in log.answers.iter().filter(|a| test[a.learner as usize]) {
        by_learner[a.learner as usize].push(*a);
    }
    let mut preds: Vec<Vec<(f64, bool)>> = vec![Vec::new(); models.len() + 2];
    let mut test_learners = 0;
    for answers in by_learner.iter_mut().filter(|a| a.len() > o.seen) {
        test_learners += 1;
        if log.ordered() {
            answers.sort_by(|a, b| a.ts.unwrap_or(0.0).total_cmp(&b.ts.unwrap_or(0.0)));
        } else {
            rng.shuffle(answers);
        }
        let (seen, rest) = answers.split_at(o.seen);
        for (m, t) in tracers.iter().enumerate() {
            let mut l = t.learner();
            for a in seen {
                let id = &log.questions[a.question as usize].id;
                l.observe(t, id, a.correct, a.ts.unwrap_or(0.0))?;
            }
            for a in rest {
                let id = &log.questions[a.question as usize].id;
                preds[m].push((l.predict(t, id)?.p_correct, a.correct));
            }
        }
        for a in rest {
            preds[models.len()].push((global, a.correct));
            preds[models.len() + 1].push((per_q[a.question as usize], a.correct));
        }
    }
    let names = [
        "IRT-1PL",
        "IRT-2PL",
        "Elo",
        "global rate",
        "per-question rate",
    ];
    Ok(EvalReport {
        test_learners,
        predictions: preds[0].len(),
        rows: names
            .iter()
            .zip(&preds)
            .map(|(name, p)| EvalRow {
                name: name.to_string(),
                auc: auc(p),
                log_loss: log_loss(p),
            })
            .collect(),
    })
}

/// How `hearth tracer build --kt-model FILE` declares the sequence model (the `--kt-…`
/// options). `None` fields are read from the model: its first input and output, the input's
/// dtype, and the encoding that dtype implies (`index` for integers, `onehot` for float32).
#[derive(Clone, Debug, Default)]
pub struct KtOptions {
    pub input: Option<String>,
    pub output: Option<String>,
    pub encoding: Option<KtEncoding>,
    pub offset: u32,
    pub padding_id: Option<i64>,
    pub per: Option<KtPer>,
    /// The model's skills: the bank's skills (`skill`: each subtopic, or topic without one;
    /// the default) or its topics (`topic`).
    pub skills_from_topics: bool,
    pub state: KtState,
    pub seq_first: bool,
}

/// Adds the ONNX sequence model `model` to the bundle `w` with the manifest `kt` that `o`
/// describes. The model's skill ids follow the bank's skill order (first appearance in the
/// question list) or its topic order. Load the bundle back (the CLI does) to check the model
/// against the spec.
pub fn attach_kt(w: &mut LearningWriter, model: Vec<u8>, o: &KtOptions) -> Result<()> {
    let m = &w.manifest;
    let (skills, question_skill) = if o.skills_from_topics {
        let index: HashMap<&str, u32> = m
            .topics
            .iter()
            .enumerate()
            .map(|(k, t)| (t.as_str(), k as u32))
            .collect();
        let qs = m
            .questions
            .iter()
            .map(|q| index.get(q.topic.as_str()).copied().unwrap_or(0))
            .collect();
        (m.topics.clone(), qs)
    } else {
        let mut names: Vec<String> = Vec::new();
        let mut index: HashMap<(String, Option<String>), u32> = HashMap::new();
        let qs = m
            .questions
            .iter()
            .map(|q| {
                let key = (q.topic.clone(), q.subtopic.clone());
                *index.entry(key).or_insert_with(|| {
                    names.push(q.subtopic.clone().unwrap_or_else(|| q.topic.clone()));
                    (names.len() - 1) as u32
                })
            })
            .collect();
        (names, qs)
    };
    let session = crate::session::Session::from_bytes(&model)
        .map_err(|e| Error::Argument(format!("--kt-model: {e}")))?;
    let first_in = session
        .inputs()
        .first()
        .ok_or_else(|| Error::Argument("--kt-model: the model has no input".into()))?;
    let input = o.input.clone().unwrap_or_else(|| first_in.name.clone());
    let info = session
        .inputs()
        .iter()
        .find(|i| i.name == input)
        .ok_or_else(|| {
            Error::Argument(format!("--kt-input '{input}' is not an input of the model"))
        })?;
    let dtype = info.dtype.map_or("int64", |d| d.name()).to_string();
    let encoding = o.encoding.unwrap_or(if dtype == "float32" {
        KtEncoding::Onehot
    } else {
        KtEncoding::Index
    });
    let output = match &o.output {
        Some(n) => n.clone(),
        None => session
            .outputs()
            .first()
            .map(|x| x.name.clone())
            .ok_or_else(|| Error::Argument("--kt-model: the model has no output".into()))?,
    };
    w.manifest.kt = Some(KtSpec {
        kind: KtKind::Dkt,
        input: KtInput {
            name: input,
            encoding,
            dtype,
            offset: o.offset,
            padding_id: o.padding_id,
            batch_first: !o.seq_first,
        },
        output: KtOutput {
            name: output,
            per: o.per.unwrap_or(KtPer::Skill),
        },
        skills,
        question_skill,
        state: o.state,
    });
    w.kt_model = Some(model);
    Ok(())
}

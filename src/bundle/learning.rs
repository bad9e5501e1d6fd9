//! The `.hearth` learning bundle (knowledge tracing): the same container as the recommender
//! bundle — one safetensors file whose header metadata holds a JSON manifest under the key
//! `hearth` — with `format: "hearth.learning"`.
//!
//! The manifest ([`LearningManifest`]) holds the question bank (ids, topics, subtopics, levels,
//! keywords), the Elo and FSRS settings and the data's attribution. Tensors, one entry per
//! question (`n`) or per topic (`t`), all little-endian:
//!
//! | name | dtype, shape | |
//! |---|---|---|
//! | `irt_difficulty` | F64 `[n]` | IRT b (with `irt_discrimination` and `irt_fitted`) |
//! | `irt_discrimination` | F64 `[n]` | IRT a (1 for Rasch) |
//! | `irt_fitted` | U8 `[n]` | 1 where the question has fitted IRT parameters, 0 where Elo predicts it |
//! | `elo_rating` | F64 `[n]` | question Elo rating (logit scale) |
//! | `elo_answers` | U32 `[n]` | answers each rating absorbed |
//! | `bkt` | F64 `[t, 4]` | BKT p_init, p_learn, p_guess, p_slip per topic |
//! | `kt_model` | U8 `[bytes]` | optional ONNX knowledge-tracing model (manifest `kt` says how to run it: [`KtSpec`]) |
//!
//! Every tensor is optional: a bank without IRT parameters is predicted by Elo (rating 0 when
//! absent), one without `bkt` uses [`BktParams::default`]. Everything is validated on load; a bad
//! bundle is an [`Error::InvalidBundle`] (`BUNDLE_INVALID`) naming the field.

use super::{bad, Raw, MANIFEST_KEY};
use crate::education::bkt::BktParams;
use crate::education::dkt::KtSpec;
use crate::education::elo::{EloOptions, EloRating};
use crate::education::fsrs::FsrsParams;
use crate::education::irt::ItemParams;
use crate::education::{Question, QuestionBank};
use crate::error::{Error, Result};
use safetensors::Dtype;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The manifest `format` value of a learning bundle.
pub const LEARNING_FORMAT: &str = "hearth.learning";
/// The newest learning-manifest version this build reads and the one it writes.
pub const LEARNING_VERSION: u32 = 1;

/// One question of the bank. `id` and `topic` are required; `topic` and `subtopic` must be
/// listed in the manifest's `topics` / `subtopics`. Other fields are ignored.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct QuestionMeta {
    pub id: String,
    pub topic: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtopic: Option<String>,
    /// Index into the manifest's `levels` (0 = the easiest level the author set).
    #[serde(default)]
    pub level: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

/// Which item model produced the bundle's IRT parameters.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ItemModel {
    /// Rasch: one difficulty per question.
    #[default]
    Irt1pl,
    /// Two-parameter logistic: difficulty and discrimination.
    Irt2pl,
    /// No IRT parameters: every question is predicted by its Elo rating.
    Elo,
}

impl ItemModel {
    pub fn name(self) -> &'static str {
        match self {
            ItemModel::Irt1pl => "irt1pl",
            ItemModel::Irt2pl => "irt2pl",
            ItemModel::Elo => "elo",
        }
    }

    pub fn parse(s: &str) -> Result<ItemModel> {
        match s {
            "irt1pl" | "rasch" | "1pl" => Ok(ItemModel::Irt1pl),
            "irt2pl" | "2pl" => Ok(ItemModel::Irt2pl),
            "elo" => Ok(ItemModel::Elo),
            _ => Err(Error::Argument(format!(
                "model '{s}': expected irt1pl, irt2pl or elo"
            ))),
        }
    }
}

/// The learning bundle's JSON manifest.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LearningManifest {
    pub format: String,
    pub version: u32,
    /// Topic names; a question's `topic` is one of them. Their order is the order of the `bkt`
    /// tensor's rows and of `mastery()`.
    pub topics: Vec<String>,
    #[serde(default)]
    pub subtopics: Vec<String>,
    /// Level names, easiest first (`level` indexes them); may be empty.
    #[serde(default)]
    pub levels: Vec<String>,
    pub questions: Vec<QuestionMeta>,
    #[serde(default)]
    pub model: ItemModel,
    /// The learner's Elo K-factor schedule.
    #[serde(default)]
    pub elo: EloOptions,
    /// Review scheduling (FSRS-6); absent: ts-fsrs's defaults.
    #[serde(default)]
    pub fsrs: FsrsParams,
    /// Attribution lines of the data the bundle was built from; shown by apps.
    #[serde(default)]
    pub attribution: Vec<String>,
    /// The sequence model (`kt_model`): how answers become its input, which output is
    /// P(correct), how its state is kept ([`KtSpec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kt: Option<KtSpec>,
    /// Free-form provenance (tool, parameters, fit statistics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<serde_json::Value>,
}

/// A validated learning bundle: the manifest, the question bank with its parameters, and the
/// optional ONNX model's bytes.
pub struct LearningBundle {
    pub manifest: LearningManifest,
    pub bank: QuestionBank,
    pub kt_model: Option<Vec<u8>>,
}

const KNOWN_TENSORS: [&str; 7] = [
    "irt_difficulty",
    "irt_discrimination",
    "irt_fitted",
    "elo_rating",
    "elo_answers",
    "bkt",
    "kt_model",
];

fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect()
}

fn u32s(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

fn finite(name: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(bad(format!(
            "tensor '{name}' has a non-finite value at element {i}"
        ))),
    }
}

impl LearningBundle {
    /// Parses and validates a learning bundle.
    pub fn from_bytes(bytes: &[u8]) -> Result<LearningBundle> {
        let (header_len, meta, manifest) =
            super::read_manifest::<LearningManifest>(bytes, "learning")?;
        if manifest.format != LEARNING_FORMAT {
            return Err(bad(format!(
                "manifest format '{}', expected '{LEARNING_FORMAT}'{}",
                manifest.format,
                if manifest.format == super::FORMAT {
                    " (this is a recommender bundle: load it with loadRecommender)"
                } else {
                    ""
                }
            )));
        }
        if manifest.version == 0 || manifest.version > LEARNING_VERSION {
            return Err(bad(format!(
                "manifest version {} is not supported: this build reads versions \
                 1..={LEARNING_VERSION}; upgrade hearth-ml to load it",
                manifest.version
            )));
        }
        let bank = bank_from_manifest(&manifest)?;
        let (n, t) = (manifest.questions.len(), manifest.topics.len());

        let data_start = 8 + header_len;
        let tensors = meta.tensors();
        for name in tensors.keys() {
            if !KNOWN_TENSORS.contains(&name.as_str()) {
                return Err(bad(format!(
                    "unknown tensor '{name}' (known: {})",
                    KNOWN_TENSORS.join(", ")
                )));
            }
        }
        let read = |name: &str, dtype: Dtype, shape: &[usize]| -> Result<Option<&[u8]>> {
            let Some(info) = tensors.get(name) else {
                return Ok(None);
            };
            if info.dtype != dtype {
                return Err(bad(format!(
                    "tensor '{name}' has dtype {:?}, expected {dtype:?}",
                    info.dtype
                )));
            }
            if !shape.is_empty() && info.shape != shape {
                return Err(bad(format!(
                    "tensor '{name}' has shape {:?}, expected {shape:?} ({n} questions, {t} topics)",
                    info.shape
                )));
            }
            let (a, b) = info.data_offsets;
            Ok(Some(&bytes[data_start + a..data_start + b]))
        };

        let b = read("irt_difficulty", Dtype::F64, &[n])?.map(f64s);
        let a = read("irt_discrimination", Dtype::F64, &[n])?.map(f64s);
        let fitted = read("irt_fitted", Dtype::U8, &[n])?;
        let mut bank = bank;
        match (b, a, fitted) {
            (None, None, None) => {
                if manifest.model != ItemModel::Elo {
                    return Err(bad(format!(
                        "manifest model '{}' needs the tensors irt_difficulty, \
                         irt_discrimination and irt_fitted",
                        manifest.model.name()
                    )));
                }
            }
            (Some(b), Some(a), Some(fitted)) => {
                let mut params = Vec::with_capacity(n);
                for k in 0..n {
                    match fitted[k] {
                        0 => params.push(None),
                        1 => {
                            let p = ItemParams {
                                discrimination: a[k],
                                difficulty: b[k],
                            };
                            p.validate(&format!(
                                "irt (question '{}', element {k})",
                                manifest.questions[k].id
                            ))
                            .map_err(|e| bad(e.to_string()))?;
                            if manifest.model == ItemModel::Irt1pl && a[k] != 1.0 {
                                return Err(bad(format!(
                                    "tensor 'irt_discrimination'[{k}] = {}: an irt1pl (Rasch) \
                                     bundle has discrimination 1",
                                    a[k]
                                )));
                            }
                            params.push(Some(p));
                        }
                        v => {
                            return Err(bad(format!(
                                "tensor 'irt_fitted'[{k}] = {v}: expected 0 or 1"
                            )))
                        }
                    }
                }
                bank = bank.with_irt(params).map_err(|e| bad(e.to_string()))?;
            }
            _ => {
                return Err(bad(
                    "tensors irt_difficulty, irt_discrimination and irt_fitted go together: \
                     give all three or none",
                ))
            }
        }
        match (
            read("elo_rating", Dtype::F64, &[n])?.map(f64s),
            read("elo_answers", Dtype::U32, &[n])?.map(u32s),
        ) {
            (None, None) => {}
            (Some(r), answers) => {
                finite("elo_rating", &r)?;
                let answers = answers.unwrap_or_else(|| vec![0; n]);
                let ratings = r
                    .iter()
                    .zip(&answers)
                    .map(|(&rating, &answers)| EloRating { rating, answers })
                    .collect();
                bank = bank.with_elo(ratings).map_err(|e| bad(e.to_string()))?;
            }
            (None, Some(_)) => return Err(bad("tensor 'elo_answers' needs 'elo_rating'")),
        }
        if let Some(v) = read("bkt", Dtype::F64, &[t, 4])?.map(f64s) {
            let mut params = Vec::with_capacity(t);
            for (k, row) in v.chunks_exact(4).enumerate() {
                let p = BktParams {
                    p_init: row[0],
                    p_learn: row[1],
                    p_guess: row[2],
                    p_slip: row[3],
                };
                p.validate().map_err(|e| {
                    bad(format!(
                        "tensor 'bkt' row {k} (topic '{}'): {e}",
                        manifest.topics[k]
                    ))
                })?;
                params.push(p);
            }
            bank = bank.with_bkt(params).map_err(|e| bad(e.to_string()))?;
        }
        let kt_model = read("kt_model", Dtype::U8, &[])?.map(<[u8]>::to_vec);
        if let Some(info) = tensors.get("kt_model") {
            if info.shape.len() != 1 {
                return Err(bad(
                    "tensor 'kt_model' must be a 1-D U8 tensor of ONNX bytes",
                ));
            }
        }
        if let Some(kt) = &manifest.kt {
            kt.validate(n)?;
            if kt_model.is_none() {
                return Err(bad(
                    "manifest kt needs the tensor 'kt_model' (the ONNX model)",
                ));
            }
        }
        crate::education::fsrs::Scheduler::new(manifest.fsrs.clone())
            .map_err(|e| bad(format!("manifest fsrs: {e}")))?;
        manifest
            .elo
            .validate()
            .map_err(|e| bad(format!("manifest {e}")))?;
        Ok(LearningBundle {
            manifest,
            bank,
            kt_model,
        })
    }
}

/// The bank of a manifest's questions (no parameters yet), every field checked.
fn bank_from_manifest(m: &LearningManifest) -> Result<QuestionBank> {
    if m.topics.is_empty() {
        return Err(bad("manifest topics: at least one topic is needed"));
    }
    if m.questions.is_empty() {
        return Err(bad("manifest questions: the bank is empty"));
    }
    let index = |list: &[String], what: &str| -> Result<HashMap<String, u32>> {
        let mut h = HashMap::with_capacity(list.len());
        for (k, s) in list.iter().enumerate() {
            if s.is_empty() {
                return Err(bad(format!("manifest {what}[{k}] is empty")));
            }
            if h.insert(s.clone(), k as u32).is_some() {
                return Err(bad(format!("manifest {what}[{k}] '{s}' is repeated")));
            }
        }
        Ok(h)
    };
    let topics = index(&m.topics, "topics")?;
    let subtopics = index(&m.subtopics, "subtopics")?;
    let mut questions = Vec::with_capacity(m.questions.len());
    for (k, q) in m.questions.iter().enumerate() {
        let skill = *topics.get(&q.topic).ok_or_else(|| {
            bad(format!(
                "manifest questions[{k}] ('{}'): topic '{}' is not in topics",
                q.id, q.topic
            ))
        })?;
        let subtopic = match &q.subtopic {
            None => None,
            Some(s) => Some(*subtopics.get(s).ok_or_else(|| {
                bad(format!(
                    "manifest questions[{k}] ('{}'): subtopic '{s}' is not in subtopics",
                    q.id
                ))
            })?),
        };
        if !m.levels.is_empty() && q.level as usize >= m.levels.len() {
            return Err(bad(format!(
                "manifest questions[{k}] ('{}'): level {} is not below the {} levels",
                q.id,
                q.level,
                m.levels.len()
            )));
        }
        questions.push(Question {
            id: q.id.clone(),
            skill,
            subtopic,
            level: q.level,
        });
    }
    QuestionBank::new(m.topics.clone(), m.subtopics.clone(), questions)
        .map_err(|e| bad(format!("manifest {e}")))
}

/// Builds learning bundle files (used by the CLI and by tests).
pub struct LearningWriter {
    pub manifest: LearningManifest,
    /// One entry per question (None: not fitted); None: no IRT tensors.
    pub irt: Option<Vec<Option<ItemParams>>>,
    pub elo: Option<Vec<EloRating>>,
    /// One per topic.
    pub bkt: Option<Vec<BktParams>>,
    pub kt_model: Option<Vec<u8>>,
}

fn le_f64(v: impl IntoIterator<Item = f64>) -> Vec<u8> {
    v.into_iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl LearningWriter {
    /// Serializes the bundle (no validation beyond lengths: load it back to check it).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let (n, t) = (self.manifest.questions.len(), self.manifest.topics.len());
        let mut ts: Vec<(String, Raw)> = Vec::new();
        let mut put = |name: &str, dtype, shape: Vec<usize>, data| {
            ts.push((name.to_string(), Raw { dtype, shape, data }))
        };
        if let Some(irt) = &self.irt {
            super::same_len_arg("irt", irt.len(), n)?;
            let p = |k: usize| irt[k].unwrap_or_default();
            put(
                "irt_difficulty",
                Dtype::F64,
                vec![n],
                le_f64((0..n).map(|k| p(k).difficulty)),
            );
            put(
                "irt_discrimination",
                Dtype::F64,
                vec![n],
                le_f64((0..n).map(|k| p(k).discrimination)),
            );
            put(
                "irt_fitted",
                Dtype::U8,
                vec![n],
                irt.iter().map(|p| p.is_some() as u8).collect(),
            );
        }
        if let Some(elo) = &self.elo {
            super::same_len_arg("elo", elo.len(), n)?;
            put(
                "elo_rating",
                Dtype::F64,
                vec![n],
                le_f64(elo.iter().map(|r| r.rating)),
            );
            put(
                "elo_answers",
                Dtype::U32,
                vec![n],
                elo.iter().flat_map(|r| r.answers.to_le_bytes()).collect(),
            );
        }
        if let Some(bkt) = &self.bkt {
            super::same_len_arg("bkt", bkt.len(), t)?;
            put(
                "bkt",
                Dtype::F64,
                vec![t, 4],
                le_f64(
                    bkt.iter()
                        .flat_map(|p| [p.p_init, p.p_learn, p.p_guess, p.p_slip]),
                ),
            );
        }
        if let Some(m) = &self.kt_model {
            put("kt_model", Dtype::U8, vec![m.len()], m.clone());
        }
        let json = serde_json::to_string(&self.manifest)
            .map_err(|e| Error::Argument(format!("manifest: {e}")))?;
        let meta: HashMap<String, String> = [(MANIFEST_KEY.to_string(), json)].into();
        safetensors::serialize(ts.iter().map(|(k, v)| (k.as_str(), v)), Some(meta))
            .map_err(|e| Error::Argument(format!("serializing the bundle: {e}")))
    }
}

//! The `.hearth` recommender bundle: one safetensors file whose header metadata holds a JSON
//! manifest under the key `hearth`.
//!
//! A bundle is a plain safetensors file, so Python's `safetensors` reads it as is. Tensors:
//!
//! | name | dtype, shape | |
//! |---|---|---|
//! | `item_factors` | F32 / F16 / I8 `[n, d]` | the item embedding table |
//! | `item_scales` | F32 `[n]` | per-row scale, required with an I8 table (`row = scale · i8`) |
//! | `item_bias` | F32 `[n]` | optional additive item bias |
//! | `gramian` | F32 `[d, d]` | `YᵀY` of the f32 factors, for fold-in (computed at load if absent) |
//! | `popularity` | F32 `[n]` | optional cold-start prior (higher is more popular) |
//! | `user_model` | U8 `[bytes]` | optional ONNX user tower |
//!
//! The manifest ([`Manifest`]) holds the item ids and metadata, the fold-in parameters and the
//! data's attribution. The safetensors writer orders tensors by decreasing alignment and pads
//! the header to 8 bytes, so a bundle loaded into an 8-aligned buffer ([`AlignedBytes`]) is read
//! in place: the table is copied once, from the network buffer into wasm memory, and never again.

#[cfg(feature = "education")]
pub mod learning;

use crate::error::{Error, Result};
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

/// The manifest `format` value.
pub const FORMAT: &str = "hearth.recommender";
/// The newest manifest version this build reads and the one it writes.
pub const VERSION: u32 = 1;
/// Largest embedding dimension a bundle may have (fold-in keeps a few d × d f64 matrices).
pub const MAX_DIM: usize = 2048;
/// The safetensors metadata key holding the manifest JSON.
pub const MANIFEST_KEY: &str = "hearth";

/// How a user vector scores an item.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// `x · y_j (+ b_j)`: what implicit ALS and most two-tower models are trained for.
    #[default]
    Dot,
    /// `x · y_j / (|x| |y_j|) (+ b_j)`.
    Cosine,
}

/// One catalog item. `id` is required; the rest is optional metadata used by filters and shown
/// to users. Unknown fields are kept (`extra`) and handed back to JS untouched.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ItemMeta {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, rename = "inStock", skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// How a user's interactions fold into a user vector (implicit ALS, Hu–Koren–Volinsky):
/// confidence `c_i = 1 + alpha · r_i` where `r_i` sums the user's event weights on item `i`,
/// each decayed by `2^(-age / half_life)`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FoldIn {
    pub alpha: f32,
    pub lambda: f32,
    /// Half-life of an event's weight in days; `None` means no decay.
    #[serde(default, rename = "halfLifeDays")]
    pub half_life_days: Option<f64>,
    /// Weight of each event type; events of other types need an explicit weight.
    #[serde(rename = "eventWeights")]
    pub event_weights: BTreeMap<String, f32>,
}

impl Default for FoldIn {
    fn default() -> Self {
        FoldIn {
            alpha: 10.0,
            lambda: 0.1,
            half_life_days: None,
            event_weights: [("view", 0.25), ("cart", 0.5), ("purchase", 1.0)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }
}

/// The bundle's JSON manifest.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub dim: usize,
    #[serde(default)]
    pub metric: Metric,
    pub items: Vec<ItemMeta>,
    #[serde(default, rename = "foldIn")]
    pub fold_in: FoldIn,
    /// Attribution lines of the data the bundle was built from; shown by apps.
    #[serde(default)]
    pub attribution: Vec<String>,
    /// Free-form provenance (tool, parameters, training metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<serde_json::Value>,
}

/// Element type of the item table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableDType {
    F32,
    F16,
    /// int8 with one f32 scale per row.
    I8,
}

impl TableDType {
    pub fn name(self) -> &'static str {
        match self {
            TableDType::F32 => "f32",
            TableDType::F16 => "f16",
            TableDType::I8 => "int8",
        }
    }

    pub fn parse(s: &str) -> Result<TableDType> {
        match s {
            "f32" | "float32" => Ok(TableDType::F32),
            "f16" | "float16" => Ok(TableDType::F16),
            "int8" | "i8" => Ok(TableDType::I8),
            _ => Err(Error::Argument(format!(
                "table dtype '{s}': expected f32, f16 or int8"
            ))),
        }
    }
}

/// Bytes in an 8-aligned allocation, so tensors inside can be viewed as `f32`/`u16` in place.
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    /// A zeroed buffer of `len` bytes (fill it through [`AlignedBytes::as_mut`]).
    pub fn zeroed(len: usize) -> AlignedBytes {
        AlignedBytes {
            words: vec![0; len.div_ceil(8)],
            len,
        }
    }

    pub fn copy_from(bytes: &[u8]) -> AlignedBytes {
        let mut a = AlignedBytes::zeroed(bytes.len());
        a.as_mut().copy_from_slice(bytes);
        a
    }

    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    pub fn as_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

/// A tensor of the bundle: its bytes stay in the shared buffer.
#[derive(Clone)]
pub struct Slab {
    buf: Arc<AlignedBytes>,
    range: Range<usize>,
}

impl Slab {
    pub fn bytes(&self) -> &[u8] {
        &self.buf.as_bytes()[self.range.clone()]
    }

    pub fn f32s(&self) -> &[f32] {
        bytemuck::cast_slice(self.bytes())
    }

    pub fn u16s(&self) -> &[u16] {
        bytemuck::cast_slice(self.bytes())
    }

    pub fn i8s(&self) -> &[i8] {
        bytemuck::cast_slice(self.bytes())
    }
}

/// The item table as stored.
#[derive(Clone)]
pub enum TableData {
    F32(Slab),
    F16(Slab),
    I8 { rows: Slab, scales: Vec<f32> },
}

impl TableData {
    pub fn dtype(&self) -> TableDType {
        match self {
            TableData::F32(_) => TableDType::F32,
            TableData::F16(_) => TableDType::F16,
            TableData::I8 { .. } => TableDType::I8,
        }
    }
}

/// A validated bundle.
pub struct Bundle {
    pub manifest: Manifest,
    pub table: TableData,
    pub bias: Option<Vec<f32>>,
    /// `YᵀY`, `d × d`, row-major; `None` when the file has none (the recommender computes it).
    pub gramian: Option<Vec<f32>>,
    pub popularity: Option<Vec<f32>>,
    pub user_model: Option<Slab>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidBundle(msg.into())
}

fn finite(name: &str, v: &[f32]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(bad(format!(
            "tensor '{name}' has a non-finite value at element {i}"
        ))),
    }
}

const KNOWN_TENSORS: [&str; 6] = [
    "item_factors",
    "item_scales",
    "item_bias",
    "gramian",
    "popularity",
    "user_model",
];

/// A Hearth bundle's safetensors header (its length and tensor table) and its JSON manifest, or
/// `BUNDLE_INVALID` saying what is wrong (`kind`: which bundle the caller expects).
pub(crate) fn read_manifest<M: serde::de::DeserializeOwned>(
    bytes: &[u8],
    kind: &str,
) -> Result<(usize, safetensors::tensor::Metadata, M)> {
    let (header_len, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let json = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get(MANIFEST_KEY))
        .ok_or_else(|| {
            bad(format!(
                "the safetensors header has no '{MANIFEST_KEY}' manifest: \
                 is this a Hearth {kind} bundle?"
            ))
        })?;
    let manifest = serde_json::from_str(json).map_err(|e| bad(format!("manifest: {e}")))?;
    Ok((header_len, meta, manifest))
}

impl Bundle {
    /// Parses and validates a bundle held in `buf`; tensors are viewed in place.
    pub fn from_aligned(buf: Arc<AlignedBytes>) -> Result<Bundle> {
        let bytes = buf.as_bytes();
        let (header_len, meta, manifest) = read_manifest::<Manifest>(bytes, "recommender")?;
        if manifest.format != FORMAT {
            return Err(bad(format!(
                "manifest format '{}', expected '{FORMAT}'",
                manifest.format
            )));
        }
        if manifest.version == 0 || manifest.version > VERSION {
            return Err(bad(format!(
                "manifest version {} is not supported: this build reads versions 1..={VERSION}; \
                 upgrade hearth-ml to load it",
                manifest.version
            )));
        }
        let (n, d) = (manifest.items.len(), manifest.dim);
        if n == 0 || d == 0 {
            return Err(bad(format!("empty catalog: {n} items of dimension {d}")));
        }
        if d > MAX_DIM {
            return Err(bad(format!(
                "dimension {d} is above the limit of {MAX_DIM} (fold-in keeps d × d matrices)"
            )));
        }
        let mut seen = HashSet::with_capacity(n);
        for (i, item) in manifest.items.iter().enumerate() {
            if item.id.is_empty() {
                return Err(bad(format!("item {i} has an empty id")));
            }
            if !seen.insert(item.id.as_str()) {
                return Err(bad(format!("duplicate item id '{}' (item {i})", item.id)));
            }
        }
        let fi = &manifest.fold_in;
        if !(fi.alpha.is_finite() && fi.alpha >= 0.0 && fi.lambda.is_finite() && fi.lambda > 0.0) {
            return Err(bad(format!(
                "foldIn: alpha must be >= 0 and lambda > 0, got alpha {} lambda {}",
                fi.alpha, fi.lambda
            )));
        }
        if let Some(h) = fi.half_life_days {
            if !(h.is_finite() && h > 0.0) {
                return Err(bad(format!("foldIn.halfLifeDays must be > 0, got {h}")));
            }
        }
        if let Some((k, w)) = fi
            .event_weights
            .iter()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(bad(format!(
                "foldIn.eventWeights['{k}'] = {w} must be >= 0"
            )));
        }

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
        let slab = |name: &str, dtypes: &[Dtype], shape: &[usize]| -> Result<Option<Slab>> {
            let Some(info) = tensors.get(name) else {
                return Ok(None);
            };
            if !dtypes.contains(&info.dtype) {
                return Err(bad(format!(
                    "tensor '{name}' has dtype {:?}, expected one of {dtypes:?}",
                    info.dtype
                )));
            }
            if !shape.is_empty() && info.shape != shape {
                return Err(bad(format!(
                    "tensor '{name}' has shape {:?}, expected {shape:?} (catalog of {n} items, dim {d})",
                    info.shape
                )));
            }
            let (a, b) = info.data_offsets;
            let range = data_start + a..data_start + b;
            let align = info.dtype.bitsize().div_ceil(8).max(1);
            if range.start % align != 0 {
                return Err(bad(format!(
                    "tensor '{name}' starts at byte {} which is not {align}-aligned; \
                     write bundles with safetensors >= 0.4 (it orders tensors by alignment)",
                    range.start
                )));
            }
            Ok(Some(Slab {
                buf: buf.clone(),
                range,
            }))
        };

        let table_info = tensors
            .get("item_factors")
            .ok_or_else(|| bad("no 'item_factors' tensor"))?;
        let factors = slab(
            "item_factors",
            &[Dtype::F32, Dtype::F16, Dtype::I8],
            &[n, d],
        )?
        .expect("checked above");
        let table = match table_info.dtype {
            Dtype::F32 => {
                finite("item_factors", factors.f32s())?;
                TableData::F32(factors)
            }
            Dtype::F16 => {
                if let Some(i) = factors.u16s().iter().position(|h| h & 0x7c00 == 0x7c00) {
                    return Err(bad(format!(
                        "tensor 'item_factors' has a non-finite value at element {i}"
                    )));
                }
                TableData::F16(factors)
            }
            _ => {
                let scales = slab("item_scales", &[Dtype::F32], &[n])?.ok_or_else(|| {
                    bad("an int8 'item_factors' table needs 'item_scales' (F32 [n])")
                })?;
                let scales = scales.f32s().to_vec();
                finite("item_scales", &scales)?;
                TableData::I8 {
                    rows: factors,
                    scales,
                }
            }
        };
        if table_info.dtype != Dtype::I8 && tensors.contains_key("item_scales") {
            return Err(bad("'item_scales' is only valid with an int8 table"));
        }
        let vec_f32 = |name: &str, shape: &[usize]| -> Result<Option<Vec<f32>>> {
            match slab(name, &[Dtype::F32], shape)? {
                None => Ok(None),
                Some(s) => {
                    let v = s.f32s().to_vec();
                    finite(name, &v)?;
                    Ok(Some(v))
                }
            }
        };
        let bias = vec_f32("item_bias", &[n])?;
        let gramian = vec_f32("gramian", &[d, d])?;
        let popularity = vec_f32("popularity", &[n])?;
        let user_model = slab("user_model", &[Dtype::U8], &[])?;
        if let Some(info) = tensors.get("user_model") {
            if info.shape.len() != 1 {
                return Err(bad(
                    "tensor 'user_model' must be a 1-D U8 tensor of ONNX bytes",
                ));
            }
        }
        Ok(Bundle {
            manifest,
            table,
            bias,
            gramian,
            popularity,
            user_model,
        })
    }

    /// Copies `bytes` once into an aligned buffer and parses it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle> {
        Bundle::from_aligned(Arc::new(AlignedBytes::copy_from(bytes)))
    }
}

/// Builds bundle files (used by the CLI and by tests).
pub struct BundleWriter {
    pub manifest: Manifest,
    /// `n × d` row-major f32 factors; stored as `dtype`.
    pub factors: Vec<f32>,
    pub dtype: TableDType,
    pub bias: Option<Vec<f32>>,
    pub popularity: Option<Vec<f32>>,
    pub user_model: Option<Vec<u8>>,
}

struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::View for &Raw {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// `field` must have `want` entries, one per item (an [`Error::Argument`] otherwise).
#[cfg(feature = "education")]
fn same_len_arg(field: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::Argument(format!(
            "{field}: {got} entries, expected {want}"
        )))
    }
}

fn le_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Symmetric int8 quantization of one row: `row ≈ scale · q`, `q ∈ [-127, 127]`.
pub fn quantize_row_i8(row: &[f32], out: &mut [i8]) -> f32 {
    let max = row.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let scale = max / 127.0;
    for (o, x) in out.iter_mut().zip(row) {
        *o = (x / scale).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

/// `YᵀY` of an `n × d` table, accumulated in f64.
pub fn gramian(factors: &[f32], d: usize) -> Vec<f32> {
    let mut g = vec![0f64; d * d];
    for row in factors.chunks_exact(d) {
        for a in 0..d {
            let ra = row[a] as f64;
            for b in a..d {
                g[a * d + b] += ra * row[b] as f64;
            }
        }
    }
    let mut out = vec![0f32; d * d];
    for a in 0..d {
        for b in a..d {
            out[a * d + b] = g[a * d + b] as f32;
            out[b * d + a] = g[a * d + b] as f32;
        }
    }
    out
}

impl BundleWriter {
    /// Serializes the bundle. The Gramian is computed from the f32 factors.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let (n, d) = (self.manifest.items.len(), self.manifest.dim);
        if self.factors.len() != n * d {
            return Err(Error::Argument(format!(
                "factors: {} values for {n} items × {d} dims",
                self.factors.len()
            )));
        }
        let mut t: Vec<(String, Raw)> = Vec::new();
        let mut put = |name: &str, dtype, shape: Vec<usize>, data| {
            t.push((name.to_string(), Raw { dtype, shape, data }))
        };
        match self.dtype {
            TableDType::F32 => put(
                "item_factors",
                Dtype::F32,
                vec![n, d],
                le_f32(&self.factors),
            ),
            TableDType::F16 => put(
                "item_factors",
                Dtype::F16,
                vec![n, d],
                self.factors
                    .iter()
                    .flat_map(|x| half::f16::from_f32(*x).to_bits().to_le_bytes())
                    .collect(),
            ),
            TableDType::I8 => {
                let mut q = vec![0i8; n * d];
                let scales: Vec<f32> = self
                    .factors
                    .chunks_exact(d)
                    .zip(q.chunks_exact_mut(d))
                    .map(|(r, o)| quantize_row_i8(r, o))
                    .collect();
                put(
                    "item_factors",
                    Dtype::I8,
                    vec![n, d],
                    bytemuck::cast_slice(&q).to_vec(),
                );
                put("item_scales", Dtype::F32, vec![n], le_f32(&scales));
            }
        }
        put(
            "gramian",
            Dtype::F32,
            vec![d, d],
            le_f32(&gramian(&self.factors, d)),
        );
        if let Some(b) = &self.bias {
            put("item_bias", Dtype::F32, vec![n], le_f32(b));
        }
        if let Some(p) = &self.popularity {
            put("popularity", Dtype::F32, vec![n], le_f32(p));
        }
        if let Some(m) = &self.user_model {
            put("user_model", Dtype::U8, vec![m.len()], m.clone());
        }
        let json = serde_json::to_string(&self.manifest)
            .map_err(|e| Error::Argument(format!("manifest: {e}")))?;
        let meta: HashMap<String, String> = [(MANIFEST_KEY.to_string(), json)].into();
        safetensors::serialize(t.iter().map(|(k, v)| (k.as_str(), v)), Some(meta))
            .map_err(|e| Error::Argument(format!("serializing the bundle: {e}")))
    }
}

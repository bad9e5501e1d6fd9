//! The `ai.onnx.ml` family: the classical-ML operators scikit-learn, XGBoost and LightGBM
//! converters (skl2onnx, onnxmltools) write. Tree ensembles of every opset are compiled at load
//! into one compact form ([`Ensemble`]); the kernels are in `backend/cpu/ml/`.

use crate::ir::fact::{Dim, Fact};
use crate::tensor::DType;

/// How scores become outputs (`post_transform`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostTransform {
    None,
    Softmax,
    Logistic,
    SoftmaxZero,
    Probit,
}

/// How the leaves reached in each tree combine (`aggregate_function`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    Average,
    Sum,
    Min,
    Max,
}

/// A node's test: go to the true child when `x <op> value` holds (`Member`: when `x` is one of
/// the node's set of values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Member,
}

/// Bit set on a child index when it names a leaf (an index into `leaves`) rather than a node.
pub const LEAF: u32 = 1 << 31;

/// One interior node of a compiled tree. Children are node indices, or leaf indices with
/// [`LEAF`] set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node<T> {
    pub value: T,
    pub feature: u32,
    pub true_child: u32,
    pub false_child: u32,
    pub mode: Mode,
    /// A NaN feature takes the true branch (`nodes_missing_value_tracks_true`).
    pub missing_true: bool,
    /// For [`Mode::Member`]: the node's values are `sets[set.0..set.1]`.
    pub set: (u32, u32),
}

/// Thresholds in the precision the model gives them (`nodes_values` is float, the
/// `_as_tensor` and opset-5 forms may be double): comparisons then match the exporter's.
#[derive(Clone, Debug, PartialEq)]
pub enum Nodes {
    F32(Vec<Node<f32>>),
    F64(Vec<Node<f64>>),
}

/// A tree ensemble of any opset in one compact form: node arrays per tree, leaves as ranges
/// of `(target, weight)` pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    pub nodes: Nodes,
    /// Per tree: its root (a node index, or a leaf index with [`LEAF`] set for a one-leaf tree).
    pub roots: Vec<u32>,
    /// Per leaf: its weights are `weights[leaves[i].0..leaves[i].1]`.
    pub leaves: Vec<(u32, u32)>,
    pub weights: Vec<(u32, f64)>,
    /// Values of `Member` nodes.
    pub sets: Vec<f64>,
    pub n_targets: usize,
    /// The largest feature index any node reads (inputs need more columns than this).
    pub max_feature: usize,
    pub aggregate: Aggregate,
    pub post_transform: PostTransform,
    pub base_values: Vec<f64>,
    /// Classifiers: labels and how ONNX Runtime picks them (TreeEnsembleClassifier).
    pub classifier: Option<TreeClassifier>,
    /// The branch-free layout of the same trees when every node has one comparison mode and
    /// f32 thresholds (what scikit-learn, XGBoost and LightGBM export); `None` otherwise.
    /// (Only with feature `ml`: the only loader and walk of the layout.)
    #[cfg(feature = "ml")]
    pub fast: Option<FastTrees>,
    /// The ONNX op this came from: `TreeEnsembleClassifier`, `TreeEnsembleRegressor` or the
    /// opset-5 `TreeEnsemble` (whose scores have the input's float type; the others' are f32).
    pub op_name: &'static str,
}

/// Trees laid out for a branch-free walk: every leaf is a node whose children are itself, so a
/// row takes exactly `depth[t]` steps in tree `t` and many rows can be walked in lock step.
///
/// Only [`fast_trees`] makes one, and it checks what the walk relies on to skip bounds checks:
/// every root and child is an index into `nodes`, and no node reads a feature above
/// `max_feature`.
#[cfg(feature = "ml")]
#[derive(Clone, Debug, PartialEq)]
pub struct FastTrees {
    /// The comparison every node makes (Leq, Lt, Gte or Gt).
    mode: Mode,
    /// Interior nodes first, then one node per leaf (leaf `i` at `leaf_base + i`).
    nodes: Vec<FastNode>,
    leaf_base: u32,
    /// Per tree: root node and depth (interior nodes on the longest path).
    roots: Vec<(u32, u32)>,
    /// The largest feature a node reads (bit 31 masked off).
    max_feature: u32,
    /// Some node sends a NaN feature to its true child (bit 31 of its `feature`); when none
    /// does, the walk skips the NaN test (a NaN then fails every comparison, as it should).
    missing: bool,
    /// When every leaf has exactly one weight (gradient boosting: one score per tree, or per
    /// tree and class): leaf `i`'s `(target, weight)`, read without the `leaves` → `weights`
    /// indirection.
    single: Option<Vec<(u32, f64)>>,
}

#[cfg(feature = "ml")]
impl FastTrees {
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// Every root and child in the layout is an index into this slice.
    pub fn nodes(&self) -> &[FastNode] {
        &self.nodes
    }
    pub fn leaf_base(&self) -> u32 {
        self.leaf_base
    }
    pub fn roots(&self) -> &[(u32, u32)] {
        &self.roots
    }
    pub fn max_feature(&self) -> u32 {
        self.max_feature
    }
    pub fn missing(&self) -> bool {
        self.missing
    }
    pub fn single(&self) -> Option<&[(u32, f64)]> {
        self.single.as_deref()
    }
}

/// 16 bytes: threshold, feature (bit 31: a NaN takes the true branch), children.
#[cfg(feature = "ml")]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FastNode {
    pub value: f32,
    pub feature: u32,
    pub true_child: u32,
    pub false_child: u32,
}

/// The branch-free layout of `nodes` (None when the modes differ, a node is EQ/NEQ/MEMBER, or
/// a tree is deeper than 64). `leaves` and `weights` as in [`Ensemble`].
#[cfg(feature = "ml")]
pub fn fast_trees(
    nodes: &[Node<f32>],
    roots: &[u32],
    leaves: &[(u32, u32)],
    weights: &[(u32, f64)],
) -> Option<FastTrees> {
    let n_leaves = leaves.len();
    let mode = nodes.first().map_or(Mode::Leq, |n| n.mode);
    if !matches!(mode, Mode::Leq | Mode::Lt | Mode::Gte | Mode::Gt)
        || nodes.iter().any(|n| n.mode != mode || n.feature >= 1 << 31)
    {
        return None;
    }
    // what the walk's unchecked loads rely on: every root and child names a node or a leaf
    // (the loader's do; a model whose do not walks node by node, with checks)
    let in_range = |c: u32| {
        if c & LEAF != 0 {
            ((c & !LEAF) as usize) < n_leaves
        } else {
            (c as usize) < nodes.len()
        }
    };
    if !roots.iter().all(|&r| in_range(r))
        || !nodes
            .iter()
            .all(|n| in_range(n.true_child) && in_range(n.false_child))
    {
        return None;
    }
    let base = nodes.len() as u32;
    let at = |c: u32| if c & LEAF != 0 { base + (c & !LEAF) } else { c };
    let mut out: Vec<FastNode> = nodes
        .iter()
        .map(|n| FastNode {
            value: n.value,
            feature: n.feature | if n.missing_true { 1 << 31 } else { 0 },
            true_child: at(n.true_child),
            false_child: at(n.false_child),
        })
        .collect();
    out.extend((0..n_leaves as u32).map(|i| FastNode {
        value: 0.0,
        feature: 0,
        true_child: base + i,
        false_child: base + i,
    }));
    // depth of every interior node's subtree, children before parents (memoised DFS)
    let mut depth: Vec<u32> = vec![u32::MAX; nodes.len()];
    let mut fast_roots = Vec::with_capacity(roots.len());
    for &r in roots {
        if r & LEAF != 0 {
            fast_roots.push((at(r), 0));
            continue;
        }
        let mut stack = vec![(r as usize, false)];
        while let Some((i, done)) = stack.pop() {
            let kids = [nodes[i].true_child, nodes[i].false_child];
            if done {
                let d = kids
                    .iter()
                    .map(|&c| if c & LEAF != 0 { 0 } else { depth[c as usize] })
                    .max()
                    .unwrap_or(0);
                depth[i] = d + 1;
                continue;
            }
            if depth[i] != u32::MAX {
                continue;
            }
            stack.push((i, true));
            for c in kids {
                if c & LEAF == 0 && depth[c as usize] == u32::MAX {
                    stack.push((c as usize, false));
                }
            }
        }
        if depth[r as usize] > 64 {
            return None;
        }
        fast_roots.push((r, depth[r as usize]));
    }
    let single = leaves
        .iter()
        .map(|&(a, b)| (b == a + 1).then(|| weights[a as usize]))
        .collect();
    Some(FastTrees {
        mode,
        nodes: out,
        leaf_base: base,
        roots: fast_roots,
        max_feature: nodes.iter().map(|n| n.feature).max().unwrap_or(0),
        missing: nodes.iter().any(|n| n.missing_true),
        single,
    })
}

/// The class labels of a classifier: int64 or string.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    I64(Vec<i64>),
    Str(Vec<String>),
}

impl Labels {
    pub fn len(&self) -> usize {
        match self {
            Labels::I64(v) => v.len(),
            Labels::Str(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn dtype(&self) -> DType {
        match self {
            Labels::I64(_) => DType::I64,
            Labels::Str(_) => DType::Str,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TreeClassifier {
    pub labels: Labels,
    /// Two classes and every weight for one class: one score, the other derived.
    pub binary: bool,
    pub weights_all_positive: bool,
}

/// `LinearClassifier` / `LinearRegressor`: `scores = X · coefficientsᵀ + intercepts`.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// `[targets, features]`, row-major.
    pub coefficients: Vec<f32>,
    pub intercepts: Vec<f32>,
    pub targets: usize,
    pub post_transform: PostTransform,
    /// Classifiers only.
    pub labels: Option<Labels>,
}

/// The kernel of an SVM.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kernel {
    Linear,
    Poly { gamma: f32, coef0: f32, degree: f32 },
    Rbf { gamma: f32 },
    Sigmoid { gamma: f32, coef0: f32 },
}

/// `SVMClassifier` / `SVMRegressor`.
#[derive(Clone, Debug, PartialEq)]
pub struct Svm {
    pub kernel: Kernel,
    /// `[vectors, features]`; empty in linear mode (coefficients are then `[classes, features]`).
    pub support_vectors: Vec<f32>,
    pub vectors_per_class: Vec<usize>,
    pub coefficients: Vec<f32>,
    pub rho: Vec<f32>,
    pub prob_a: Vec<f32>,
    pub prob_b: Vec<f32>,
    pub post_transform: PostTransform,
    /// Classifiers: the labels; regressors: `None`.
    pub labels: Option<Labels>,
    /// Regressor: `one_class`.
    pub one_class: bool,
    pub features: usize,
}

/// A key or value list of `LabelEncoder` / `CategoryMapper`.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    I64(Vec<i64>),
    F32(Vec<f32>),
    Str(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::I64(v) => v.len(),
            Column::F32(v) => v.len(),
            Column::Str(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn dtype(&self) -> DType {
        match self {
            Column::I64(_) => DType::I64,
            Column::F32(_) => DType::F32,
            Column::Str(_) => DType::Str,
        }
    }
}

/// The ops of the `ai.onnx.ml` domain Hearth runs.
#[derive(Clone, Debug, PartialEq)]
pub enum MlOp {
    /// `TreeEnsembleClassifier` (outputs: labels, scores), `TreeEnsembleRegressor` and opset-5
    /// `TreeEnsemble` (output: scores).
    Trees(Box<Ensemble>),
    Linear(Box<Linear>),
    Svm(Box<Svm>),
    /// `(x - offset) * scale`, per column or one value for all.
    Scaler {
        offset: Vec<f32>,
        scale: Vec<f32>,
    },
    Normalizer {
        norm: Norm,
    },
    Binarizer {
        threshold: f32,
    },
    /// Replaces `replaced` (NaN matches NaN) with the column's imputed value.
    Imputer {
        imputed: Column,
        replaced: Column,
    },
    /// One column per category, appended as a last axis.
    OneHotEncoder {
        categories: Column,
        zeros: bool,
    },
    /// Key → value, `default` for keys not in the table.
    LabelEncoder {
        keys: Column,
        values: Column,
        default: Column,
    },
    /// strings ↔ int64 both ways.
    CategoryMapper {
        strings: Vec<String>,
        ints: Vec<i64>,
        default_string: String,
        default_int: i64,
    },
    /// `Y[..., i] = X[..., indices[i]]` on the last axis.
    ArrayFeatureExtractor,
    /// Concatenates the inputs' last axes, each cut or zero-padded to its `inputdimensions`.
    FeatureVectorizer {
        dims: Vec<usize>,
    },
    /// Label → probability maps. Only as a graph output: the session turns its `[N, C]` input
    /// into a sequence of maps ([`Session::run_values`](crate::Session::run_values)); inside
    /// the graph it passes the probabilities through.
    ZipMap {
        labels: Labels,
    },
    /// A map (int64 or string keys) → a `[1, V]` tensor of its values at the vocabulary's keys,
    /// zero (or `""`) for a key the map lacks; keys not in the vocabulary are ignored.
    DictVectorizer {
        vocabulary: Labels,
    },
    /// A map of int64 keys → a `[1, n]` tensor of its values cast to `to`: in key order
    /// (`dense`), or at index = key for keys `0..max_map`, padded (sparse).
    CastMap {
        to: DType,
        dense: bool,
        max_map: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    Max,
    L1,
    L2,
}

impl MlOp {
    pub fn name(&self) -> &'static str {
        match self {
            MlOp::Trees(e) => e.op_name,
            MlOp::Linear(l) if l.labels.is_some() => "LinearClassifier",
            MlOp::Linear(_) => "LinearRegressor",
            MlOp::Svm(s) if s.labels.is_some() => "SVMClassifier",
            MlOp::Svm(_) => "SVMRegressor",
            MlOp::Scaler { .. } => "Scaler",
            MlOp::Normalizer { .. } => "Normalizer",
            MlOp::Binarizer { .. } => "Binarizer",
            MlOp::Imputer { .. } => "Imputer",
            MlOp::OneHotEncoder { .. } => "OneHotEncoder",
            MlOp::LabelEncoder { .. } => "LabelEncoder",
            MlOp::CategoryMapper { .. } => "CategoryMapper",
            MlOp::ArrayFeatureExtractor => "ArrayFeatureExtractor",
            MlOp::FeatureVectorizer { .. } => "FeatureVectorizer",
            MlOp::ZipMap { .. } => "ZipMap",
            MlOp::DictVectorizer { .. } => "DictVectorizer",
            MlOp::CastMap { .. } => "CastMap",
        }
    }

    /// Whether the op reads a map (the executor hands it the value, not a tensor).
    pub fn takes_map(&self) -> bool {
        matches!(self, MlOp::DictVectorizer { .. } | MlOp::CastMap { .. })
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let first = inputs.first().cloned().unwrap_or_default();
        let rows = || -> Option<Vec<Dim>> {
            let s = first.shape.as_ref()?;
            Some(vec![match s.len() {
                0 | 1 => Dim::Known(1),
                _ => s[0].clone(),
            }])
        };
        let with_cols = |n: usize| {
            rows().map(|mut r| {
                r.push(Dim::Known(n));
                r
            })
        };
        match self {
            MlOp::Trees(e) => {
                let dtype = match e.op_name {
                    "TreeEnsemble" => first.dtype,
                    _ => Some(DType::F32),
                };
                let scores = Fact::new(dtype, with_cols(scores_width(e)));
                match &e.classifier {
                    Some(c) => vec![Fact::new(Some(c.labels.dtype()), rows()), scores],
                    None => vec![scores],
                }
            }
            MlOp::Linear(l) => {
                let cols = match &l.labels {
                    Some(lb) if l.targets == 1 && lb.len() == 2 => 2,
                    _ => l.targets,
                };
                let scores = Fact::new(Some(DType::F32), with_cols(cols));
                match &l.labels {
                    Some(lb) => vec![Fact::new(Some(lb.dtype()), rows()), scores],
                    None => vec![scores],
                }
            }
            MlOp::Svm(s) => match &s.labels {
                Some(lb) => vec![
                    Fact::new(Some(lb.dtype()), rows()),
                    Fact::new(Some(DType::F32), None),
                ],
                None => vec![Fact::new(Some(DType::F32), with_cols(1))],
            },
            MlOp::Scaler { .. } | MlOp::Normalizer { .. } => {
                vec![Fact::new(Some(DType::F32), first.shape)]
            }
            MlOp::Binarizer { .. } => vec![Fact::new(first.dtype, first.shape)],
            MlOp::Imputer { .. } => vec![Fact::new(first.dtype, first.shape)],
            MlOp::OneHotEncoder { categories, .. } => {
                let shape = first.shape.map(|mut s| {
                    s.push(Dim::Known(categories.len()));
                    s
                });
                vec![Fact::new(Some(DType::F32), shape)]
            }
            MlOp::LabelEncoder { values, .. } => {
                vec![Fact::new(Some(values.dtype()), first.shape)]
            }
            MlOp::CategoryMapper { .. } => {
                let dtype = match first.dtype {
                    Some(DType::Str) => Some(DType::I64),
                    Some(DType::I64) => Some(DType::Str),
                    _ => None,
                };
                vec![Fact::new(dtype, first.shape)]
            }
            MlOp::ArrayFeatureExtractor => vec![Fact::new(first.dtype, None)],
            MlOp::FeatureVectorizer { dims } => {
                vec![Fact::new(Some(DType::F32), with_cols(dims.iter().sum()))]
            }
            MlOp::ZipMap { .. } => vec![Fact::new(Some(DType::F32), first.shape)],
            MlOp::DictVectorizer { vocabulary } => {
                let shape = vec![Dim::Known(1), Dim::Known(vocabulary.len())];
                vec![Fact::new(first.dtype, Some(shape))]
            }
            MlOp::CastMap { to, dense, max_map } => {
                let n = if *dense {
                    Dim::Any
                } else {
                    Dim::Known(*max_map)
                };
                vec![Fact::new(Some(*to), Some(vec![Dim::Known(1), n]))]
            }
        }
    }
}

/// Columns of a tree ensemble's scores: a two-class classifier always writes two.
pub fn scores_width(e: &Ensemble) -> usize {
    match &e.classifier {
        Some(c) => c.labels.len().max(e.n_targets),
        None => e.n_targets,
    }
}

//! Builders of the `ai.onnx.ml` domain (registered under that domain, opsets 1–5). Tree
//! ensembles of every form (`nodes_*` tuples of opsets 1–3 with float or `_as_tensor` double
//! attributes, and the opset-5 `TreeEnsemble` arrays) are compiled here into one
//! [`Ensemble`].

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::ml::*;
use crate::ir::Op;
use crate::tensor::{DType, TensorData};
use std::collections::HashMap;

fn ml(op: MlOp) -> Result<Op> {
    Ok(Op::Ml(op))
}

/// Registers every `ai.onnx.ml` op Hearth implements.
pub fn register(r: &mut Registry) {
    r.insert_ml("TreeEnsembleClassifier", |c| tree_classic(c, true));
    r.insert_ml("TreeEnsembleRegressor", |c| tree_classic(c, false));
    r.insert_ml("TreeEnsemble", tree_unified);
    r.insert_ml("LinearClassifier", |c| linear(c, true));
    r.insert_ml("LinearRegressor", |c| linear(c, false));
    r.insert_ml("SVMClassifier", |c| svm(c, true));
    r.insert_ml("SVMRegressor", |c| svm(c, false));
    r.insert_ml("Scaler", |c| {
        ml(MlOp::Scaler {
            offset: c.floats_opt("offset")?.unwrap_or_else(|| vec![0.0]),
            scale: c.floats_opt("scale")?.unwrap_or_else(|| vec![1.0]),
        })
    });
    r.insert_ml("Normalizer", |c| {
        let norm = match c.string("norm", "MAX")?.as_str() {
            "MAX" => Norm::Max,
            "L1" => Norm::L1,
            "L2" => Norm::L2,
            o => return Err(c.invalid(format!("norm must be MAX, L1 or L2, got '{o}'"))),
        };
        ml(MlOp::Normalizer { norm })
    });
    r.insert_ml("Binarizer", |c| {
        ml(MlOp::Binarizer {
            threshold: c.float("threshold", 0.0)?,
        })
    });
    r.insert_ml("Imputer", |c| {
        let imputed =
            match (
                c.floats_opt("imputed_value_floats")?,
                c.ints_opt("imputed_value_int64s")?,
            ) {
                (Some(f), None) if !f.is_empty() => Column::F32(f),
                (None, Some(i)) if !i.is_empty() => Column::I64(i),
                _ => return Err(c.invalid(
                    "exactly one of imputed_value_floats and imputed_value_int64s must be given",
                )),
            };
        let replaced = match imputed {
            Column::I64(_) => Column::I64(vec![c.int("replaced_value_int64", 0)?]),
            _ => Column::F32(vec![c.float("replaced_value_float", 0.0)?]),
        };
        ml(MlOp::Imputer { imputed, replaced })
    });
    r.insert_ml("OneHotEncoder", |c| {
        let categories = match (c.strings_opt("cats_strings")?, c.ints_opt("cats_int64s")?) {
            (Some(s), None) => Column::Str(s),
            (None, Some(i)) => Column::I64(i),
            _ => return Err(c.invalid("exactly one of cats_strings and cats_int64s must be given")),
        };
        ml(MlOp::OneHotEncoder {
            categories,
            zeros: c.int("zeros", 1)? != 0,
        })
    });
    r.insert_ml("LabelEncoder", label_encoder);
    r.insert_ml("CategoryMapper", |c| {
        let strings = c.strings_opt("cats_strings")?.unwrap_or_default();
        let ints = c.ints_opt("cats_int64s")?.unwrap_or_default();
        if strings.len() != ints.len() {
            return Err(c.invalid(format!(
                "cats_strings has {} entries but cats_int64s {}",
                strings.len(),
                ints.len()
            )));
        }
        ml(MlOp::CategoryMapper {
            strings,
            ints,
            default_string: c.string("default_string", "_Unused")?,
            default_int: c.int("default_int64", -1)?,
        })
    });
    r.insert_ml("ArrayFeatureExtractor", |_| ml(MlOp::ArrayFeatureExtractor));
    r.insert_ml("FeatureVectorizer", |c| {
        let dims = c.ints_opt("inputdimensions")?.unwrap_or_default();
        if dims.len() != c.num_inputs || dims.iter().any(|&d| d < 0) {
            return Err(c.invalid(format!(
                "inputdimensions {dims:?} must give a size >= 0 for each of the {} inputs",
                c.num_inputs
            )));
        }
        ml(MlOp::FeatureVectorizer {
            dims: dims.into_iter().map(|d| d as usize).collect(),
        })
    });
    r.insert_ml("ZipMap", |c| {
        let labels = class_labels(c, "classlabels_strings", "classlabels_int64s")?;
        ml(MlOp::ZipMap { labels })
    });
    r.insert_ml("DictVectorizer", |c| {
        let vocabulary = class_labels(c, "string_vocabulary", "int64_vocabulary")?;
        ml(MlOp::DictVectorizer { vocabulary })
    });
    r.insert_ml("CastMap", |c| {
        let to = match c.string("cast_to", "TO_FLOAT")?.as_str() {
            "TO_FLOAT" => DType::F32,
            "TO_INT64" => DType::I64,
            "TO_STRING" => DType::Str,
            o => {
                return Err(c.invalid(format!(
                    "cast_to must be TO_FLOAT, TO_INT64 or TO_STRING, got '{o}'"
                )))
            }
        };
        let dense = match c.string("map_form", "DENSE")?.as_str() {
            "DENSE" => true,
            "SPARSE" => false,
            o => return Err(c.invalid(format!("map_form must be DENSE or SPARSE, got '{o}'"))),
        };
        let max_map = c.int("max_map", 1)?;
        if !dense && !(1..=1 << 31).contains(&max_map) {
            return Err(c.invalid(format!(
                "max_map must be a positive size when map_form is SPARSE, got {max_map}"
            )));
        }
        ml(MlOp::CastMap {
            to,
            dense,
            max_map: max_map.max(0) as usize,
        })
    });
}

fn post_transform(c: &NodeCtx) -> Result<PostTransform> {
    Ok(match c.string("post_transform", "NONE")?.as_str() {
        "NONE" => PostTransform::None,
        "SOFTMAX" => PostTransform::Softmax,
        "LOGISTIC" => PostTransform::Logistic,
        "SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
        "PROBIT" => PostTransform::Probit,
        o => {
            return Err(c.invalid(format!(
                "post_transform must be NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO or PROBIT, got '{o}'"
            )))
        }
    })
}

fn class_labels(c: &NodeCtx, strings: &str, ints: &str) -> Result<Labels> {
    match (c.strings_opt(strings)?, c.ints_opt(ints)?) {
        (Some(s), None) if !s.is_empty() => Ok(Labels::Str(s)),
        (None, Some(i)) if !i.is_empty() => Ok(Labels::I64(i)),
        (Some(s), Some(i)) if i.is_empty() && !s.is_empty() => Ok(Labels::Str(s)),
        (Some(s), Some(i)) if s.is_empty() && !i.is_empty() => Ok(Labels::I64(i)),
        _ => Err(c.invalid(format!("exactly one of {strings} and {ints} must be given"))),
    }
}

/// A float list attribute that may instead be given as a double tensor (`<name>_as_tensor`).
fn floats_or_tensor(c: &NodeCtx, name: &str) -> Result<Option<(Vec<f64>, bool)>> {
    if let Some(t) = c.tensor_opt(&format!("{name}_as_tensor"))? {
        return Ok(Some((t.to_f64_vec(), t.dtype() == DType::F64)));
    }
    Ok(c.floats_opt(name)?
        .map(|v| (v.into_iter().map(f64::from).collect(), false)))
}

fn ints(c: &NodeCtx, name: &str) -> Result<Vec<i64>> {
    Ok(c.ints_opt(name)?.unwrap_or_default())
}

fn aggregate(c: &NodeCtx) -> Result<Aggregate> {
    Ok(match c.string("aggregate_function", "SUM")?.as_str() {
        "SUM" => Aggregate::Sum,
        "AVERAGE" => Aggregate::Average,
        "MIN" => Aggregate::Min,
        "MAX" => Aggregate::Max,
        o => {
            return Err(c.invalid(format!(
                "aggregate_function must be SUM, AVERAGE, MIN or MAX, got '{o}'"
            )))
        }
    })
}

fn index(c: &NodeCtx, v: i64, what: &str) -> Result<u32> {
    u32::try_from(v)
        .ok()
        .filter(|&v| v < LEAF)
        .ok_or_else(|| c.invalid(format!("{what} {v} is out of range")))
}

/// The nodes of one compiled ensemble, before they are given a threshold precision.
struct Built {
    nodes: Vec<Node<f64>>,
    roots: Vec<u32>,
    leaves: Vec<(u32, u32)>,
    weights: Vec<(u32, f64)>,
    sets: Vec<f64>,
    max_feature: usize,
}

impl Built {
    fn finish(
        self,
        double: bool,
        n_targets: usize,
        aggregate: Aggregate,
        post_transform: PostTransform,
        base_values: Vec<f64>,
        classifier: Option<TreeClassifier>,
        op_name: &'static str,
    ) -> Ensemble {
        let mut fast = None;
        let nodes = if double {
            Nodes::F64(self.nodes)
        } else {
            Nodes::F32(
                self.nodes
                    .into_iter()
                    .map(|n| Node {
                        value: n.value as f32,
                        feature: n.feature,
                        true_child: n.true_child,
                        false_child: n.false_child,
                        mode: n.mode,
                        missing_true: n.missing_true,
                        set: n.set,
                    })
                    .collect(),
            )
        };
        if let Nodes::F32(n) = &nodes {
            fast = fast_trees(n, &self.roots, &self.leaves, &self.weights);
        }
        Ensemble {
            fast,
            nodes,
            roots: self.roots,
            leaves: self.leaves,
            weights: self.weights,
            sets: self.sets,
            n_targets,
            max_feature: self.max_feature,
            aggregate,
            post_transform,
            base_values,
            classifier,
            op_name,
        }
    }
}

/// `TreeEnsembleClassifier` / `TreeEnsembleRegressor` (ai.onnx.ml opsets 1 and 3).
fn tree_classic(c: &NodeCtx, classifier: bool) -> Result<Op> {
    let tree_ids = ints(c, "nodes_treeids")?;
    let node_ids = ints(c, "nodes_nodeids")?;
    let features = ints(c, "nodes_featureids")?;
    let (values, double) = floats_or_tensor(c, "nodes_values")?.unwrap_or_default();
    let modes = c.strings_opt("nodes_modes")?.unwrap_or_default();
    let trues = ints(c, "nodes_truenodeids")?;
    let falses = ints(c, "nodes_falsenodeids")?;
    let missing = ints(c, "nodes_missing_value_tracks_true")?;
    let n = node_ids.len();
    for (name, len) in [
        ("nodes_treeids", tree_ids.len()),
        ("nodes_featureids", features.len()),
        ("nodes_values", values.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", trues.len()),
        ("nodes_falsenodeids", falses.len()),
    ] {
        if len != n {
            return Err(c.invalid(format!(
                "{name} has {len} entries but nodes_nodeids has {n}"
            )));
        }
    }
    if !missing.is_empty() && missing.len() != n {
        return Err(c.invalid(format!(
            "nodes_missing_value_tracks_true has {} entries for {n} nodes",
            missing.len()
        )));
    }
    let p = if classifier { "class" } else { "target" };
    let w_tree = ints(c, &format!("{p}_treeids"))?;
    let w_node = ints(c, &format!("{p}_nodeids"))?;
    let w_id = ints(c, &format!("{p}_ids"))?;
    let (w_value, w_double) = floats_or_tensor(c, &format!("{p}_weights"))?.unwrap_or_default();
    if [w_node.len(), w_id.len(), w_value.len()]
        .iter()
        .any(|&l| l != w_tree.len())
    {
        return Err(c.invalid(format!(
            "{p}_treeids, {p}_nodeids, {p}_ids and {p}_weights must have the same length"
        )));
    }
    let (base_values, b_double) = floats_or_tensor(c, "base_values")?.unwrap_or_default();
    let labels = if classifier {
        Some(class_labels(
            c,
            "classlabels_strings",
            "classlabels_int64s",
        )?)
    } else {
        None
    };
    let n_targets = match &labels {
        Some(l) => l.len(),
        None => c.int("n_targets", 1)?.max(1) as usize,
    };
    if let Some(&bad) = w_id.iter().find(|&&i| i < 0 || i as usize >= n_targets) {
        return Err(c.invalid(format!(
            "{p}_ids holds {bad}, outside the {n_targets} {}",
            if classifier { "classes" } else { "targets" }
        )));
    }

    // (tree, node id) → position in the nodes_* tuples
    let mut at: HashMap<(i64, i64), usize> = HashMap::with_capacity(n);
    let mut tree_order: Vec<i64> = vec![];
    for i in 0..n {
        if at.insert((tree_ids[i], node_ids[i]), i).is_some() {
            return Err(c.invalid(format!(
                "node {} of tree {} is defined twice",
                node_ids[i], tree_ids[i]
            )));
        }
        if tree_order.last() != Some(&tree_ids[i]) && !tree_order.contains(&tree_ids[i]) {
            tree_order.push(tree_ids[i]);
        }
    }
    let mut leaf_weights: HashMap<usize, Vec<(u32, f64)>> = HashMap::new();
    for k in 0..w_tree.len() {
        let i = *at.get(&(w_tree[k], w_node[k])).ok_or_else(|| {
            c.invalid(format!(
                "a weight names node {} of tree {}, which does not exist",
                w_node[k], w_tree[k]
            ))
        })?;
        leaf_weights
            .entry(i)
            .or_default()
            .push((w_id[k] as u32, w_value[k]));
    }
    let mode_of = |s: &str| -> Result<Option<Mode>> {
        Ok(Some(match s {
            "BRANCH_LEQ" => Mode::Leq,
            "BRANCH_LT" => Mode::Lt,
            "BRANCH_GTE" => Mode::Gte,
            "BRANCH_GT" => Mode::Gt,
            "BRANCH_EQ" => Mode::Eq,
            "BRANCH_NEQ" => Mode::Neq,
            "LEAF" => return Ok(None),
            o => return Err(c.invalid(format!("unknown node mode '{o}'"))),
        }))
    };
    // number interior nodes and leaves in the order they appear
    let mut code = vec![0u32; n];
    let (mut n_nodes, mut n_leaves) = (0u32, 0u32);
    let mut is_leaf = vec![false; n];
    for i in 0..n {
        if mode_of(&modes[i])?.is_none() {
            is_leaf[i] = true;
            code[i] = LEAF | n_leaves;
            n_leaves += 1;
        } else {
            code[i] = n_nodes;
            n_nodes += 1;
        }
    }
    let mut b = Built {
        nodes: Vec::with_capacity(n_nodes as usize),
        roots: vec![],
        leaves: Vec::with_capacity(n_leaves as usize),
        weights: Vec::with_capacity(w_tree.len()),
        sets: vec![],
        max_feature: 0,
    };
    let child = |tree: i64, id: i64, what: &str| -> Result<u32> {
        at.get(&(tree, id)).map(|&j| code[j]).ok_or_else(|| {
            c.invalid(format!(
                "{what} of a node of tree {tree} names node {id}, which does not exist"
            ))
        })
    };
    for i in 0..n {
        if is_leaf[i] {
            let start = b.weights.len() as u32;
            if let Some(w) = leaf_weights.get(&i) {
                b.weights.extend_from_slice(w);
            }
            b.leaves.push((start, b.weights.len() as u32));
        } else {
            let feature = index(c, features[i], "nodes_featureids")?;
            b.max_feature = b.max_feature.max(feature as usize);
            b.nodes.push(Node {
                value: values[i],
                feature,
                true_child: child(tree_ids[i], trues[i], "nodes_truenodeids")?,
                false_child: child(tree_ids[i], falses[i], "nodes_falsenodeids")?,
                mode: mode_of(&modes[i])?.unwrap_or(Mode::Leq),
                missing_true: missing.get(i).is_some_and(|&m| m != 0),
                set: (0, 0),
            });
        }
    }
    // a tree's root is node 0 (ONNX: node ids start at 0 in each tree)
    for t in tree_order {
        b.roots.push(child(t, 0, "the root")?);
    }
    check_acyclic(c, &b)?;
    let classifier = labels.map(|labels| {
        let mut ids = w_id.clone();
        ids.sort_unstable();
        ids.dedup();
        TreeClassifier {
            binary: labels.len() == 2 && ids.len() == 1,
            weights_all_positive: w_value.iter().all(|&w| w >= 0.0),
            labels,
        }
    });
    let ensemble = b.finish(
        double || w_double || b_double,
        n_targets,
        if classifier.is_some() {
            Aggregate::Sum
        } else {
            aggregate(c)?
        },
        post_transform(c)?,
        base_values,
        classifier.clone(),
        if classifier.is_some() {
            "TreeEnsembleClassifier"
        } else {
            "TreeEnsembleRegressor"
        },
    );
    ml(MlOp::Trees(Box::new(ensemble)))
}

/// Every path from a root ends at a leaf within the node count (no cycles).
fn check_acyclic(c: &NodeCtx, b: &Built) -> Result<()> {
    // nodes are visited in a DFS; a node seen twice on one path is a cycle
    let n = b.nodes.len();
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    for &r in &b.roots {
        if r & LEAF != 0 {
            continue;
        }
        let mut stack = vec![(r as usize, false)];
        while let Some((i, exit)) = stack.pop() {
            if exit {
                state[i] = 2;
                continue;
            }
            match state[i] {
                1 => return Err(c.invalid("a tree has a cycle")),
                2 => continue,
                _ => {}
            }
            state[i] = 1;
            stack.push((i, true));
            for ch in [b.nodes[i].true_child, b.nodes[i].false_child] {
                if ch & LEAF == 0 {
                    if state[ch as usize] == 1 {
                        return Err(c.invalid("a tree has a cycle"));
                    }
                    stack.push((ch as usize, false));
                }
            }
        }
    }
    Ok(())
}

/// The opset-5 `TreeEnsemble`.
fn tree_unified(c: &NodeCtx) -> Result<Op> {
    let tensor = |name: &str| -> Result<Option<std::sync::Arc<crate::tensor::Tensor>>> {
        c.tensor_opt(name)
    };
    let splits = tensor("nodes_splits")?.ok_or_else(|| c.invalid("missing nodes_splits"))?;
    // onnxruntime compares in the input's type; Hearth computes float inputs in f32, so the
    // splits (float, double or float16) are f32 here
    let double = false;
    let splits = splits.to_f64_vec();
    let modes = match tensor("nodes_modes")? {
        Some(t) => t.to_i64_vec(),
        None => return Err(c.invalid("missing nodes_modes")),
    };
    let features = ints(c, "nodes_featureids")?;
    let trues = ints(c, "nodes_truenodeids")?;
    let falses = ints(c, "nodes_falsenodeids")?;
    let true_leafs = ints(c, "nodes_trueleafs")?;
    let false_leafs = ints(c, "nodes_falseleafs")?;
    let missing = ints(c, "nodes_missing_value_tracks_true")?;
    let roots = ints(c, "tree_roots")?;
    let leaf_targets = ints(c, "leaf_targetids")?;
    let leaf_weights = tensor("leaf_weights")?
        .map(|t| t.to_f64_vec())
        .unwrap_or_default();
    let members = tensor("membership_values")?
        .map(|t| t.to_f64_vec())
        .unwrap_or_default();
    let n = splits.len();
    for (name, len) in [
        ("nodes_modes", modes.len()),
        ("nodes_featureids", features.len()),
        ("nodes_truenodeids", trues.len()),
        ("nodes_falsenodeids", falses.len()),
        ("nodes_trueleafs", true_leafs.len()),
        ("nodes_falseleafs", false_leafs.len()),
    ] {
        if len != n {
            return Err(c.invalid(format!("{name} has {len} entries but nodes_splits has {n}")));
        }
    }
    if !missing.is_empty() && missing.len() != n {
        return Err(c.invalid("nodes_missing_value_tracks_true must have one entry per node"));
    }
    if leaf_targets.len() != leaf_weights.len() {
        return Err(c.invalid("leaf_targetids and leaf_weights must have the same length"));
    }
    let n_targets = c.int("n_targets", 1)?.max(1) as usize;
    if let Some(&bad) = leaf_targets
        .iter()
        .find(|&&t| t < 0 || t as usize >= n_targets)
    {
        return Err(c.invalid(format!(
            "leaf_targetids holds {bad}, n_targets is {n_targets}"
        )));
    }
    // membership sets, in the order of the MEMBER nodes, separated by NaN
    let mut groups: Vec<(u32, u32)> = vec![];
    let mut sets: Vec<f64> = vec![];
    let mut start = 0u32;
    for &m in &members {
        if m.is_nan() {
            groups.push((start, sets.len() as u32));
            start = sets.len() as u32;
        } else {
            sets.push(m);
        }
    }
    if start as usize != sets.len() || (groups.is_empty() && !members.is_empty()) {
        groups.push((start, sets.len() as u32));
    }
    let mut next_group = 0usize;
    let mut b = Built {
        nodes: Vec::with_capacity(n),
        roots: vec![],
        leaves: (0..leaf_targets.len() as u32).map(|i| (i, i + 1)).collect(),
        weights: leaf_targets
            .iter()
            .zip(&leaf_weights)
            .map(|(&t, &w)| (t as u32, w))
            .collect(),
        sets,
        max_feature: 0,
    };
    let n_leaves = leaf_targets.len();
    let child = |id: i64, leaf: bool, what: &str| -> Result<u32> {
        let limit = if leaf { n_leaves } else { n };
        if id < 0 || id as usize >= limit {
            return Err(c.invalid(format!(
                "{what} {id} is outside the {limit} {}",
                if leaf { "leaves" } else { "nodes" }
            )));
        }
        Ok(if leaf { LEAF | id as u32 } else { id as u32 })
    };
    for i in 0..n {
        let mode = match modes[i] {
            0 => Mode::Leq,
            1 => Mode::Lt,
            2 => Mode::Gte,
            3 => Mode::Gt,
            4 => Mode::Eq,
            5 => Mode::Neq,
            6 => Mode::Member,
            o => return Err(c.invalid(format!("unknown node mode {o}"))),
        };
        let set = if mode == Mode::Member {
            let g = *groups.get(next_group).ok_or_else(|| {
                c.invalid("membership_values has fewer sets than there are BRANCH_MEMBER nodes")
            })?;
            next_group += 1;
            g
        } else {
            (0, 0)
        };
        let feature = index(c, features[i], "nodes_featureids")?;
        b.max_feature = b.max_feature.max(feature as usize);
        b.nodes.push(Node {
            value: splits[i],
            feature,
            true_child: child(trues[i], true_leafs[i] != 0, "nodes_truenodeids")?,
            false_child: child(falses[i], false_leafs[i] != 0, "nodes_falsenodeids")?,
            mode,
            missing_true: missing.get(i).is_some_and(|&m| m != 0),
            set,
        });
    }
    for &r in &roots {
        b.roots.push(child(r, false, "tree_roots")?);
    }
    check_acyclic(c, &b)?;
    let agg = match c.int("aggregate_function", 1)? {
        0 => Aggregate::Average,
        1 => Aggregate::Sum,
        2 => Aggregate::Min,
        3 => Aggregate::Max,
        o => return Err(c.invalid(format!("aggregate_function {o} is not 0..=3"))),
    };
    let post = match c.int("post_transform", 0)? {
        0 => PostTransform::None,
        1 => PostTransform::Softmax,
        2 => PostTransform::Logistic,
        3 => PostTransform::SoftmaxZero,
        4 => PostTransform::Probit,
        o => return Err(c.invalid(format!("post_transform {o} is not 0..=4"))),
    };
    let e = b.finish(double, n_targets, agg, post, vec![], None, "TreeEnsemble");
    ml(MlOp::Trees(Box::new(e)))
}

fn linear(c: &NodeCtx, classifier: bool) -> Result<Op> {
    let coefficients = c
        .floats_opt("coefficients")?
        .ok_or_else(|| c.invalid("missing coefficients"))?;
    let intercepts = c.floats_opt("intercepts")?.unwrap_or_default();
    let (labels, targets) = if classifier {
        let l = class_labels(c, "classlabels_strings", "classlabels_ints")?;
        (Some(l), intercepts.len())
    } else {
        (None, c.int("targets", 1)?.max(1) as usize)
    };
    if targets == 0 || coefficients.len() % targets != 0 {
        return Err(c.invalid(format!(
            "{} coefficients do not split into {targets} rows (one per intercept or target)",
            coefficients.len()
        )));
    }
    if !intercepts.is_empty() && intercepts.len() != targets {
        return Err(c.invalid(format!(
            "{} intercepts for {targets} targets",
            intercepts.len()
        )));
    }
    if let Some(l) = &labels {
        if targets > 1 && l.len() != targets {
            return Err(c.invalid(format!(
                "{} class labels for {targets} score columns",
                l.len()
            )));
        }
    }
    ml(MlOp::Linear(Box::new(Linear {
        coefficients,
        intercepts: if intercepts.is_empty() {
            vec![0.0; targets]
        } else {
            intercepts
        },
        targets,
        post_transform: post_transform(c)?,
        labels,
    })))
}

fn svm(c: &NodeCtx, classifier: bool) -> Result<Op> {
    let params = c.floats_opt("kernel_params")?.unwrap_or_default();
    let (gamma, coef0, degree) = (
        params.first().copied().unwrap_or(0.0),
        params.get(1).copied().unwrap_or(0.0),
        params.get(2).copied().unwrap_or(0.0),
    );
    let kernel = match c.string("kernel_type", "LINEAR")?.as_str() {
        "LINEAR" => Kernel::Linear,
        "POLY" => Kernel::Poly {
            gamma,
            coef0,
            degree,
        },
        "RBF" => Kernel::Rbf { gamma },
        "SIGMOID" => Kernel::Sigmoid { gamma, coef0 },
        o => {
            return Err(c.invalid(format!(
                "kernel_type must be LINEAR, POLY, RBF or SIGMOID, got '{o}'"
            )))
        }
    };
    let support_vectors = c.floats_opt("support_vectors")?.unwrap_or_default();
    let coefficients = c
        .floats_opt("coefficients")?
        .ok_or_else(|| c.invalid("missing coefficients"))?;
    let rho = c.floats_opt("rho")?.unwrap_or_default();
    let prob_a = c.floats_opt("prob_a")?.unwrap_or_default();
    let prob_b = c.floats_opt("prob_b")?.unwrap_or_default();
    if prob_a.len() != prob_b.len() {
        return Err(c.invalid("prob_a and prob_b must have the same length"));
    }
    let labels = if classifier {
        Some(class_labels(c, "classlabels_strings", "classlabels_ints")?)
    } else {
        None
    };
    let vectors_per_class: Vec<usize> = if classifier {
        ints(c, "vectors_per_class")?
            .into_iter()
            .map(|v| usize::try_from(v).map_err(|_| c.invalid("vectors_per_class < 0")))
            .collect::<Result<_>>()?
    } else {
        vec![c.int("n_supports", 0)?.max(0) as usize]
    };
    let n_vectors: usize = vectors_per_class.iter().sum();
    let n_classes = labels.as_ref().map_or(1, |l| l.len());
    let features = if n_vectors > 0 {
        if support_vectors.len() % n_vectors != 0 {
            return Err(c.invalid(format!(
                "{} support vector values do not split into {n_vectors} vectors",
                support_vectors.len()
            )));
        }
        let f = support_vectors.len() / n_vectors;
        let want = if classifier {
            n_vectors * (n_classes.max(2) - 1)
        } else {
            n_vectors
        };
        if coefficients.len() != want {
            return Err(c.invalid(format!(
                "{} coefficients, expected {want}",
                coefficients.len()
            )));
        }
        if classifier {
            if vectors_per_class.len() != n_classes {
                return Err(c.invalid("vectors_per_class needs one entry per class"));
            }
            let pairs = n_classes * (n_classes - 1) / 2;
            if rho.len() != pairs || (!prob_a.is_empty() && prob_a.len() != pairs) {
                return Err(c.invalid(format!(
                    "rho (and prob_a/prob_b when given) need one value per pair of classes ({pairs})"
                )));
            }
        } else if rho.is_empty() {
            return Err(c.invalid("missing rho"));
        }
        f
    } else {
        let rows = if classifier { n_classes } else { 1 };
        if coefficients.len() % rows != 0 || rho.is_empty() {
            return Err(
                c.invalid("linear SVM coefficients must split into one row per class, with rho")
            );
        }
        coefficients.len() / rows
    };
    ml(MlOp::Svm(Box::new(Svm {
        kernel: if n_vectors > 0 {
            kernel
        } else {
            Kernel::Linear
        },
        support_vectors,
        vectors_per_class,
        coefficients,
        rho,
        prob_a,
        prob_b,
        post_transform: post_transform(c)?,
        labels,
        one_class: c.int("one_class", 0)? != 0,
        features,
    })))
}

fn label_encoder(c: &NodeCtx) -> Result<Op> {
    if c.opset < 2 {
        // opset 1: classes_strings maps string ↔ index, the direction given by the input type
        let strings = c
            .strings_opt("classes_strings")?
            .ok_or_else(|| c.invalid("missing classes_strings"))?;
        let ints = (0..strings.len() as i64).collect();
        return ml(MlOp::CategoryMapper {
            strings,
            ints,
            default_string: c.string("default_string", "_Unused")?,
            default_int: c.int("default_int64", -1)?,
        });
    }
    let column = |prefix: &str| -> Result<Option<Column>> {
        if let Some(t) = c.tensor_opt(&format!("{prefix}_tensor"))? {
            return Ok(Some(match t.data() {
                TensorData::Str(v) => Column::Str(v.clone()),
                TensorData::F32(_) | TensorData::F64(_) | TensorData::F16(_) => {
                    Column::F32(t.to_f64_vec().into_iter().map(|v| v as f32).collect())
                }
                _ => Column::I64(t.to_i64_vec()),
            }));
        }
        if let Some(v) = c.strings_opt(&format!("{prefix}_strings"))? {
            return Ok(Some(Column::Str(v)));
        }
        if let Some(v) = c.ints_opt(&format!("{prefix}_int64s"))? {
            return Ok(Some(Column::I64(v)));
        }
        if let Some(v) = c.floats_opt(&format!("{prefix}_floats"))? {
            return Ok(Some(Column::F32(v)));
        }
        Ok(None)
    };
    let keys = column("keys")?.ok_or_else(|| c.invalid("missing keys"))?;
    let values = column("values")?.ok_or_else(|| c.invalid("missing values"))?;
    if keys.len() != values.len() {
        return Err(c.invalid(format!("{} keys but {} values", keys.len(), values.len())));
    }
    let default = match c.tensor_opt("default_tensor")? {
        Some(t) if t.numel() == 1 => match t.data() {
            TensorData::Str(v) => Column::Str(v.clone()),
            TensorData::F32(_) | TensorData::F64(_) | TensorData::F16(_) => {
                Column::F32(vec![t.to_f64_vec()[0] as f32])
            }
            _ => Column::I64(t.to_i64_vec()),
        },
        Some(_) => return Err(c.invalid("default_tensor must hold one value")),
        None => match values {
            Column::Str(_) => Column::Str(vec![c.string("default_string", "_Unused")?]),
            Column::I64(_) => Column::I64(vec![c.int("default_int64", -1)?]),
            Column::F32(_) => Column::F32(vec![c.float("default_float", -0.0)?]),
        },
    };
    if default.dtype() != values.dtype() {
        return Err(c.invalid("the default must have the values' type"));
    }
    ml(MlOp::LabelEncoder {
        keys,
        values,
        default,
    })
}

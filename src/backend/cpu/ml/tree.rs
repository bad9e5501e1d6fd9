//! Tree ensembles: every tree is walked for all rows before the next tree (its nodes stay in
//! cache), over the compact node arrays of [`Ensemble`]; scores are accumulated in f64 and
//! finished the way ONNX Runtime finishes them (base values, binary classifiers' second
//! column, post transforms).

use super::post::{probit, write_one, write_scores};
use super::{input, rows_cols};
use crate::error::{Error, Result};
use crate::ir::ops::ml::{
    Aggregate, Ensemble, FastNode, FastTrees, Labels, Mode, Node, Nodes, TreeClassifier, LEAF,
};
use crate::tensor::{numel_checked, Tensor, TensorData};

/// A feature value type the nodes compare in (the thresholds' precision).
trait Feature: Copy + PartialOrd + Into<f64> {
    fn is_nan(self) -> bool;
}
impl Feature for f32 {
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}
impl Feature for f64 {
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

/// The leaf row `x` reaches from `root`.
#[inline]
fn walk<T: Feature>(nodes: &[Node<T>], sets: &[f64], root: u32, x: &[T]) -> usize {
    let mut i = root;
    while i & LEAF == 0 {
        let n = &nodes[i as usize];
        let v = x[n.feature as usize];
        let go = match n.mode {
            Mode::Leq => v <= n.value,
            Mode::Lt => v < n.value,
            Mode::Gte => v >= n.value,
            Mode::Gt => v > n.value,
            Mode::Eq => v == n.value,
            Mode::Neq => v != n.value,
            Mode::Member => {
                let f: f64 = v.into();
                sets[n.set.0 as usize..n.set.1 as usize].contains(&f)
            }
        } || (n.missing_true && v.is_nan());
        i = if go { n.true_child } else { n.false_child };
    }
    (i & !LEAF) as usize
}

/// Raw per-row, per-target aggregates and whether each got any score.
fn accumulate<T: Feature>(
    e: &Ensemble,
    nodes: &[Node<T>],
    x: &[T],
    rows: usize,
    cols: usize,
) -> (Vec<f64>, Vec<bool>) {
    let t = e.n_targets;
    let mut score = vec![0.0f64; rows * t];
    let mut has = vec![false; rows * t];
    for &root in &e.roots {
        for r in 0..rows {
            let leaf = walk(nodes, &e.sets, root, &x[r * cols..(r + 1) * cols]);
            let (a, b) = e.leaves[leaf];
            for &(target, w) in &e.weights[a as usize..b as usize] {
                let k = r * t + target as usize;
                score[k] = if !has[k] {
                    w
                } else {
                    match e.aggregate {
                        Aggregate::Sum | Aggregate::Average => score[k] + w,
                        Aggregate::Min => score[k].min(w),
                        Aggregate::Max => score[k].max(w),
                    }
                };
                has[k] = true;
            }
        }
    }
    (score, has)
}

/// How many rows walk one tree in lock step (their loads overlap).
const BLOCK: usize = 8;

/// [`accumulate`] over the branch-free layout: each block of rows takes exactly the tree's
/// depth in steps, every step a select, no data-dependent branch.
fn accumulate_fast(
    e: &Ensemble,
    f: &FastTrees,
    x: &[f32],
    rows: usize,
    cols: usize,
) -> (Vec<f64>, Vec<bool>) {
    macro_rules! by_mode {
        ($missing:literal) => {
            match f.mode() {
                Mode::Leq => walk_all::<$missing>(e, f, x, rows, cols, |v, t| v <= t),
                Mode::Lt => walk_all::<$missing>(e, f, x, rows, cols, |v, t| v < t),
                Mode::Gte => walk_all::<$missing>(e, f, x, rows, cols, |v, t| v >= t),
                _ => walk_all::<$missing>(e, f, x, rows, cols, |v, t| v > t),
            }
        };
    }
    if f.missing() {
        by_mode!(true)
    } else {
        by_mode!(false)
    }
}

/// One step from node `i` for the row whose features start at `x[at]`: the child the node's
/// test picks (a leaf's children are itself). `MISSING`: some node sends a NaN to its true
/// child (bit 31 of its feature); without, a NaN fails the test like any comparison.
///
/// The two loads skip their bounds checks: with them the whole walk measured 10% slower (p10
/// 16%) in wasm on 300 depth-6 trees × 1,000 rows, 2–4% in a second A/B at a heavier load
/// (benches/README.md, "Tabular models").
///
/// # Safety
/// `i < nodes.len()`, and `at + m < x.len()` where `m` is the largest feature any node reads.
/// [`FastTrees`] guarantees that every child it stores is an index into its nodes, so the
/// caller checks only its roots' and the rows' bounds (`walk_all`, once per run).
#[inline(always)]
unsafe fn step<const MISSING: bool>(
    nodes: &[FastNode],
    x: &[f32],
    at: usize,
    i: u32,
    test: impl Fn(f32, f32) -> bool,
) -> u32 {
    debug_assert!((i as usize) < nodes.len());
    // SAFETY: `i` is a root or a child from `nodes`, in range (the caller's contract)
    let nd = unsafe { *nodes.get_unchecked(i as usize) };
    let feature = if MISSING {
        nd.feature & !(1 << 31)
    } else {
        nd.feature
    };
    debug_assert!(at + (feature as usize) < x.len());
    // SAFETY: `feature` is at most the layout's `max_feature` (the caller's contract)
    let v = unsafe { *x.get_unchecked(at + feature as usize) };
    let go = test(v, nd.value) | (MISSING && (nd.feature >> 31 != 0) & v.is_nan());
    if go {
        nd.true_child
    } else {
        nd.false_child
    }
}

#[inline(always)]
fn walk_all<const MISSING: bool>(
    e: &Ensemble,
    f: &FastTrees,
    x: &[f32],
    rows: usize,
    cols: usize,
    test: impl Fn(f32, f32) -> bool + Copy,
) -> (Vec<f64>, Vec<bool>) {
    let t = e.n_targets;
    let mut score = vec![0.0f64; rows * t];
    let mut has = vec![false; rows * t];
    let nodes = f.nodes();
    // what `step`'s unchecked loads need: the layout's roots and children index `nodes`
    // (checked when it was built), and no node reads past a row of `x`
    assert!(
        rows == 0
            || ((f.max_feature() as usize) < cols
                && rows.checked_mul(cols).is_some_and(|n| n <= x.len())),
        "tree walk: {rows} rows of {cols} features in {} values, nodes read feature {}",
        x.len(),
        f.max_feature()
    );
    let sum = matches!(e.aggregate, Aggregate::Sum | Aggregate::Average);
    let single = f.single().filter(|_| sum);
    let mut add = |r: usize, i: u32| match single {
        Some(s) => {
            let (target, w) = s[(i - f.leaf_base()) as usize];
            let j = r * t + target as usize;
            score[j] += w;
            has[j] = true;
        }
        None => add_leaf(e, f, sum, &mut score, &mut has, r, i),
    };
    if rows < BLOCK {
        // few rows (a single prediction): BLOCK trees at once for each row, so their loads
        // overlap; a tree shallower than the group's deepest stays on its leaf (a self-loop).
        // A last group of fewer trees walks its first tree in the spare lanes and drops them.
        for r in 0..rows {
            for group in f.roots().chunks(BLOCK) {
                let n = group.len();
                let mut idx = [group[0].0; BLOCK];
                let mut depth = 0;
                for (k, &(root, d)) in group.iter().enumerate() {
                    idx[k] = root;
                    depth = depth.max(d);
                }
                for _ in 0..depth {
                    for i in idx.iter_mut() {
                        // SAFETY: `i` is a root or a child; row `r` is in `x` (checked above)
                        *i = unsafe { step::<MISSING>(nodes, x, r * cols, *i, test) };
                    }
                }
                for &i in &idx[..n] {
                    add(r, i);
                }
            }
        }
        return (score, has);
    }
    let full = rows - rows % BLOCK;
    for &(root, depth) in f.roots() {
        for r0 in (0..full).step_by(BLOCK) {
            let at: [usize; BLOCK] = std::array::from_fn(|k| (r0 + k) * cols);
            let mut idx = [root; BLOCK];
            for _ in 0..depth {
                for k in 0..BLOCK {
                    // SAFETY: as above
                    idx[k] = unsafe { step::<MISSING>(nodes, x, at[k], idx[k], test) };
                }
            }
            for (k, &i) in idx.iter().enumerate() {
                add(r0 + k, i);
            }
        }
        for r in full..rows {
            let mut i = root;
            for _ in 0..depth {
                // SAFETY: as above
                i = unsafe { step::<MISSING>(nodes, x, r * cols, i, test) };
            }
            add(r, i);
        }
    }
    (score, has)
}

/// Adds leaf `i`'s weights to row `r`'s scores (trees in order: the sums are the same in either
/// walk). A sum starts from 0, so only min and max need to know whether a score is the first.
#[inline(always)]
fn add_leaf(
    e: &Ensemble,
    f: &FastTrees,
    sum: bool,
    score: &mut [f64],
    has: &mut [bool],
    r: usize,
    i: u32,
) {
    let (a, b) = e.leaves[(i - f.leaf_base()) as usize];
    for &(target, w) in &e.weights[a as usize..b as usize] {
        let j = r * e.n_targets + target as usize;
        score[j] = if sum {
            score[j] + w
        } else if !has[j] {
            w
        } else if e.aggregate == Aggregate::Min {
            score[j].min(w)
        } else {
            score[j].max(w)
        };
        has[j] = true;
    }
}

/// Runs a tree ensemble: `[labels,] scores`.
pub fn run(e: &Ensemble, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "X")?;
    let (rows, cols) = rows_cols(x)?;
    if rows > 0 && cols <= e.max_feature {
        return Err(Error::shape(format!(
            "{}: X has {cols} features per row but the trees read feature {}",
            e.op_name, e.max_feature
        )));
    }
    let (score, has) = match &e.nodes {
        Nodes::F32(n) => {
            let v: Vec<f32>;
            let xs: &[f32] = match x.data() {
                TensorData::F32(d) => d,
                _ => {
                    v = x.to_f64_vec().into_iter().map(|a| a as f32).collect();
                    &v
                }
            };
            match &e.fast {
                Some(f) => accumulate_fast(e, f, xs, rows, cols),
                None => accumulate(e, n, xs, rows, cols),
            }
        }
        Nodes::F64(n) => accumulate(e, n, &x.to_f64_vec(), rows, cols),
    };
    match &e.classifier {
        None => regress(e, rows, score, has),
        Some(c) => classify(e, c, rows, score, has),
    }
}

fn regress(e: &Ensemble, rows: usize, score: Vec<f64>, has: Vec<bool>) -> Result<Vec<Tensor>> {
    let t = e.n_targets;
    let n_trees = e.roots.len().max(1) as f64;
    let origin = if e.base_values.len() == 1 {
        e.base_values[0]
    } else {
        0.0
    };
    let use_base = e.base_values.len() == t;
    let mut out = vec![0f32; numel_checked(&[rows, t])?];
    let mut row = vec![0f64; t];
    for r in 0..rows {
        let (s, h) = (&score[r * t..(r + 1) * t], &has[r * t..(r + 1) * t]);
        if t == 1 {
            let v = match e.aggregate {
                Aggregate::Sum => s[0] + origin,
                Aggregate::Average => s[0] / n_trees + origin,
                _ if h[0] => s[0] + origin,
                _ => origin,
            };
            out[r] = if e.post_transform == crate::ir::ops::ml::PostTransform::Probit {
                probit(v as f32)
            } else {
                v as f32
            };
            continue;
        }
        for j in 0..t {
            let base = if use_base { e.base_values[j] } else { 0.0 };
            row[j] = match e.aggregate {
                Aggregate::Sum => s[j] + base,
                Aggregate::Average => s[j] / n_trees + base,
                _ => base + if h[j] { s[j] } else { 0.0 },
            };
        }
        write_scores(&row, e.post_transform, -1, &mut out[r * t..(r + 1) * t]);
    }
    Ok(vec![Tensor::from_f32(vec![rows, t], out)?])
}

fn classify(
    e: &Ensemble,
    c: &TreeClassifier,
    rows: usize,
    score: Vec<f64>,
    has: Vec<bool>,
) -> Result<Vec<Tensor>> {
    let k = e.n_targets;
    let width = k.max(2);
    let mut z = vec![0f32; numel_checked(&[rows, width])?];
    let mut label = vec![0usize; rows];
    let base = &e.base_values;
    for r in 0..rows {
        let mut s: Vec<f64> = score[r * k..(r + 1) * k].to_vec();
        let mut h: Vec<bool> = has[r * k..(r + 1) * k].to_vec();
        let out = &mut z[r * width..(r + 1) * width];
        if k > 2 {
            for (j, &b) in base.iter().enumerate().take(k) {
                s[j] = if h[j] { s[j] + b } else { b };
                h[j] = true;
            }
            // the first class with the largest score among those that have one
            let mut best: Option<usize> = None;
            for j in 0..k {
                if h[j] && best.is_none_or(|b| s[j] > s[b]) {
                    best = Some(j);
                }
            }
            label[r] = best.unwrap_or(0);
            write_scores(&s, e.post_transform, -1, out);
            continue;
        }
        // two classes
        let mut add_second = -1;
        let mut one = false; // only the positive score is kept
        match base.len() {
            2 => {
                if h[1] {
                    s[1] = base[1] + s[0];
                    s[0] = -s[1];
                    h[1] = true;
                } else {
                    s[1] += base[1];
                    s[0] += base[0];
                }
            }
            1 => {
                s[0] += base[0];
                one = !h[1];
            }
            0 => {
                add_second = 3;
                one = !h[1];
            }
            _ => {}
        }
        let pos = if !one && h[1] {
            s[1]
        } else if h[0] {
            s[0]
        } else {
            0.0
        };
        label[r] = if c.binary {
            let (win, code) = if c.weights_all_positive {
                if pos > 0.5 {
                    (1, 0)
                } else {
                    (0, 1)
                }
            } else if pos > 0.0 {
                (1, 2)
            } else {
                (0, 3)
            };
            add_second = code;
            win
        } else {
            usize::from(pos > 0.0)
        };
        if one {
            write_one(s[0], e.post_transform, add_second, out);
        } else {
            write_scores(&s, e.post_transform, add_second, out);
        }
    }
    let labels = match &c.labels {
        Labels::I64(l) => TensorData::I64(label.iter().map(|&i| l[i.min(l.len() - 1)]).collect()),
        Labels::Str(l) => TensorData::Str(
            label
                .iter()
                .map(|&i| l[i.min(l.len() - 1)].clone())
                .collect(),
        ),
    };
    Ok(vec![
        Tensor::new(vec![rows], labels)?,
        Tensor::from_f32(vec![rows, width], z)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ops::ml::PostTransform;

    /// x0 <= 0.5 ? (x1 < 2 ? leaf0 : leaf1) : leaf2, over f32 thresholds.
    fn small(classifier: Option<TreeClassifier>, post: PostTransform, agg: Aggregate) -> Ensemble {
        let node = |feature, value, mode, t, f| Node {
            value,
            feature,
            true_child: t,
            false_child: f,
            mode,
            missing_true: false,
            set: (0, 0),
        };
        Ensemble {
            nodes: Nodes::F32(vec![
                node(0, 0.5, Mode::Leq, 1, LEAF | 2),
                node(1, 2.0, Mode::Lt, LEAF, LEAF | 1),
            ]),
            roots: vec![0, 0],
            leaves: vec![(0, 1), (1, 2), (2, 3)],
            weights: vec![(0, 1.0), (1, 2.0), (0, -3.0)],
            sets: vec![],
            n_targets: 2,
            max_feature: 1,
            aggregate: agg,
            post_transform: post,
            base_values: vec![],
            classifier,
            op_name: "TreeEnsembleRegressor",
            fast: None,
        }
    }

    /// The branch-free walk gives what the node-by-node walk gives.
    #[test]
    fn fast_layout_matches_the_plain_walk() {
        let mut rng = crate::testing::Rng::new(7);
        for missing in [false, true] {
            let mut e = small(None, PostTransform::None, Aggregate::Sum);
            if let Nodes::F32(n) = &mut e.nodes {
                n[1].mode = Mode::Leq;
                n[0].missing_true = missing;
                e.fast = crate::ir::ops::ml::fast_trees(n, &e.roots, &e.leaves, &e.weights);
            }
            assert!(e.fast.is_some());
            let rows = 37;
            let x: Vec<f32> = (0..rows * 2)
                .map(|i| {
                    if i % 11 == 0 {
                        f32::NAN
                    } else {
                        rng.f32_in(-1.0, 3.0)
                    }
                })
                .collect();
            let t = Tensor::from_f32(vec![rows, 2], x).unwrap();
            let fast = run(&e, &[Some(&t)]).unwrap();
            e.fast = None;
            let plain = run(&e, &[Some(&t)]).unwrap();
            assert_eq!(fast, plain, "missing_true = {missing}");
        }
    }

    /// What [`random_forest`] grows.
    #[derive(Clone, Copy, Debug)]
    struct Shape {
        mode: Mode,
        /// The chance a node sends NaN to its true child.
        missing: f32,
        /// One weight per leaf, tree `k`'s for target `k % 3` (gradient boosting); otherwise
        /// leaves weight 1 or 2 of the 3 targets.
        single: bool,
        aggregate: Aggregate,
    }

    const FOREST: Shape = Shape {
        mode: Mode::Leq,
        missing: 0.3,
        single: false,
        aggregate: Aggregate::Sum,
    };

    /// `trees` random trees of depths 0 to 6 (a one-leaf tree too) over 5 features.
    fn random_forest(rng: &mut crate::testing::Rng, trees: usize, shape: Shape) -> Ensemble {
        let mut roots = vec![];
        struct Grow<'a> {
            rng: &'a mut crate::testing::Rng,
            shape: Shape,
            target: u32,
            nodes: Vec<Node<f32>>,
            leaves: Vec<(u32, u32)>,
            weights: Vec<(u32, f64)>,
        }
        fn grow(g: &mut Grow, depth: u32) -> u32 {
            if depth == 0 || g.rng.f32_in(0.0, 1.0) < 0.15 {
                let a = g.weights.len() as u32;
                let w = g.rng.f32_in(-1.0, 1.0) as f64;
                if g.shape.single {
                    g.weights.push((g.target, w));
                } else {
                    g.weights.push((g.rng.f32_in(0.0, 2.99) as u32, w));
                    if g.rng.f32_in(0.0, 1.0) < 0.3 {
                        g.weights.push((2, g.rng.f32_in(-1.0, 1.0) as f64));
                    }
                }
                g.leaves.push((a, g.weights.len() as u32));
                return LEAF | (g.leaves.len() as u32 - 1);
            }
            let at = g.nodes.len();
            g.nodes.push(Node {
                // thresholds on a coarse grid, so rows hit them exactly (the modes differ there)
                value: (g.rng.f32_in(-4.0, 4.0) as i32) as f32 / 4.0,
                feature: g.rng.f32_in(0.0, 4.99) as u32,
                true_child: 0,
                false_child: 0,
                mode: g.shape.mode,
                missing_true: g.rng.f32_in(0.0, 1.0) < g.shape.missing,
                set: (0, 0),
            });
            let t = grow(g, depth - 1);
            let f = grow(g, depth - 1);
            g.nodes[at].true_child = t;
            g.nodes[at].false_child = f;
            at as u32
        }
        let mut g = Grow {
            rng,
            shape,
            target: 0,
            nodes: vec![],
            leaves: vec![],
            weights: vec![],
        };
        for k in 0..trees {
            g.target = (k % 3) as u32;
            roots.push(grow(&mut g, (k % 7) as u32));
        }
        let Grow {
            nodes,
            leaves,
            weights,
            ..
        } = g;
        let fast = crate::ir::ops::ml::fast_trees(&nodes, &roots, &leaves, &weights);
        Ensemble {
            nodes: Nodes::F32(nodes),
            roots,
            leaves,
            weights,
            sets: vec![],
            n_targets: 3,
            max_feature: 4,
            aggregate: shape.aggregate,
            post_transform: PostTransform::None,
            base_values: vec![],
            classifier: None,
            op_name: "TreeEnsembleRegressor",
            fast,
        }
    }

    /// Rows on the thresholds' grid, off it, and NaN.
    fn random_rows(rng: &mut crate::testing::Rng, rows: usize) -> Tensor {
        let x: Vec<f32> = (0..rows * 5)
            .map(|i| match i % 13 {
                4 => f32::NAN,
                1 | 7 => (rng.f32_in(-6.0, 6.0) as i32) as f32 / 4.0,
                _ => rng.f32_in(-1.5, 1.5),
            })
            .collect();
        Tensor::from_f32(vec![rows, 5], x).unwrap()
    }

    /// Runs `e` with its fast layout and with the plain walk; they must agree bit for bit.
    fn assert_fast_is_plain(e: &mut Ensemble, x: &Tensor, what: &str) {
        assert!(e.fast.is_some(), "{what}");
        let fast = run(e, &[Some(x)]).unwrap();
        let kept = e.fast.take();
        let plain = run(e, &[Some(x)]).unwrap();
        e.fast = kept;
        assert_eq!(fast, plain, "{what}");
    }

    /// Fewer rows than a block walk several trees in lock step: the same sums, bit for bit, as
    /// the node-by-node walk, for every row count below the block and group sizes that do not
    /// divide the trees.
    #[test]
    fn few_rows_walk_trees_in_lock_step_like_the_plain_walk() {
        let mut rng = crate::testing::Rng::new(11);
        for trees in [1, 5, 8, 19, 64] {
            let mut e = random_forest(&mut rng, trees, FOREST);
            for rows in 1..BLOCK + 2 {
                let x = random_rows(&mut rng, rows);
                assert_fast_is_plain(&mut e, &x, &format!("{trees} trees, {rows} rows"));
            }
        }
    }

    /// Every comparison mode, with and without NaN tracks, one weight per leaf (the direct
    /// leaf-weight path) or several, every aggregate, full blocks and a partial last block:
    /// the fast walk gives the plain walk's outputs bit for bit.
    #[test]
    fn fast_walk_matches_the_plain_walk_in_every_mode() {
        let mut rng = crate::testing::Rng::new(23);
        for mode in [Mode::Leq, Mode::Lt, Mode::Gte, Mode::Gt] {
            for missing in [0.0, 0.3] {
                for single in [false, true] {
                    for aggregate in [
                        Aggregate::Sum,
                        Aggregate::Average,
                        Aggregate::Min,
                        Aggregate::Max,
                    ] {
                        let shape = Shape {
                            mode,
                            missing,
                            single,
                            aggregate,
                        };
                        let mut e = random_forest(&mut rng, 23, shape);
                        let fast = e.fast.as_ref().unwrap();
                        assert_eq!(fast.missing(), missing > 0.0);
                        assert_eq!(fast.single().is_some(), single);
                        for rows in [1, 3, BLOCK, BLOCK + 1, 4 * BLOCK + 5] {
                            let x = random_rows(&mut rng, rows);
                            assert_fast_is_plain(&mut e, &x, &format!("{shape:?}, {rows} rows"));
                        }
                    }
                }
            }
        }
    }

    /// A two-class classifier whose trees all score class 1 reads which classes got a score
    /// (`has`): the direct leaf-weight path must record it as the plain walk does.
    #[test]
    fn fast_walk_keeps_which_classes_scored() {
        let mut rng = crate::testing::Rng::new(5);
        let shape = Shape {
            single: true,
            ..FOREST
        };
        for base_values in [vec![], vec![0.25], vec![0.25, -0.5]] {
            let mut e = random_forest(&mut rng, 19, shape);
            e.n_targets = 2;
            for w in e.weights.iter_mut() {
                w.0 = 1;
            }
            e.fast = match &e.nodes {
                Nodes::F32(n) => crate::ir::ops::ml::fast_trees(n, &e.roots, &e.leaves, &e.weights),
                Nodes::F64(_) => None,
            };
            e.base_values = base_values;
            e.post_transform = PostTransform::Logistic;
            e.classifier = Some(TreeClassifier {
                labels: Labels::I64(vec![0, 1]),
                binary: true,
                weights_all_positive: false,
            });
            e.op_name = "TreeEnsembleClassifier";
            for rows in [1, 2 * BLOCK + 3] {
                let x = random_rows(&mut rng, rows);
                let what = format!("{:?}, {rows} rows", e.base_values);

                assert_fast_is_plain(&mut e, &x, &what);
            }
        }
    }

    /// The walk's loads skip bounds checks, so the layout is refused (the plain walk, which
    /// checks, runs instead) when a child or root is out of range; rows too short for the
    /// nodes' features are an error before any walk.
    #[test]
    fn fast_layout_refuses_indices_out_of_range() {
        let e = small(None, PostTransform::None, Aggregate::Sum);
        let Nodes::F32(mut n) = e.nodes.clone() else {
            unreachable!()
        };
        n.iter_mut().for_each(|n| n.mode = Mode::Leq);
        let ok = crate::ir::ops::ml::fast_trees(&n, &e.roots, &e.leaves, &e.weights);
        assert_eq!(ok.as_ref().map(|f| f.max_feature()), Some(1));
        n[1].true_child = 7; // no node 7
        assert!(crate::ir::ops::ml::fast_trees(&n, &e.roots, &e.leaves, &e.weights).is_none());
        n[1].true_child = LEAF | 9; // no leaf 9
        assert!(crate::ir::ops::ml::fast_trees(&n, &e.roots, &e.leaves, &e.weights).is_none());
        let mut e = e;
        e.fast = ok;
        let x = Tensor::from_f32(vec![3, 1], vec![0.0; 3]).unwrap();
        assert!(run(&e, &[Some(&x)]).is_err());
    }

    fn run1(e: &Ensemble, x: Vec<f32>) -> Vec<Tensor> {
        let n = x.len() / 2;
        let x = Tensor::from_f32(vec![n, 2], x).unwrap();
        run(e, &[Some(&x)]).unwrap()
    }

    #[test]
    fn regressor_walks_and_sums_against_a_scalar_walk() {
        let e = small(None, PostTransform::None, Aggregate::Sum);
        let rows = [[0.0f32, 1.0], [0.5, 3.0], [0.7, 0.0], [f32::NAN, 0.0]];
        let y = run1(&e, rows.concat());
        let got = y[0].as_f32().unwrap();
        for (r, x) in rows.iter().enumerate() {
            // the same tree written out by hand, counted twice (two roots)
            let want = if x[0] <= 0.5 {
                if x[1] < 2.0 {
                    [2.0, 0.0]
                } else {
                    [0.0, 4.0]
                }
            } else {
                [-6.0, 0.0]
            };
            assert_eq!(&got[r * 2..r * 2 + 2], &want, "row {r}");
        }
        let e = small(None, PostTransform::None, Aggregate::Average);
        assert_eq!(run1(&e, vec![0.0, 1.0])[0].as_f32().unwrap(), &[1.0, 0.0]);
        let e = small(None, PostTransform::Softmax, Aggregate::Sum);
        let p = run1(&e, vec![0.0, 1.0]);
        let p = p[0].as_f32().unwrap();
        let want = 1.0 / (1.0 + (-2.0f32).exp());
        assert!((p[0] - want).abs() < 1e-6 && (p[0] + p[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn missing_values_follow_the_track() {
        let mut e = small(None, PostTransform::None, Aggregate::Sum);
        if let Nodes::F32(n) = &mut e.nodes {
            n[0].missing_true = true;
        }
        let y = run1(&e, vec![f32::NAN, 5.0]);
        assert_eq!(y[0].as_f32().unwrap(), &[0.0, 4.0]);
    }

    #[test]
    fn multiclass_labels_are_the_best_score() {
        let c = TreeClassifier {
            labels: Labels::Str(vec!["a".into(), "b".into(), "c".into()]),
            binary: false,
            weights_all_positive: false,
        };
        let mut e = small(Some(c), PostTransform::None, Aggregate::Sum);
        e.n_targets = 3;
        e.weights[2] = (2, 0.5);
        let y = run1(&e, vec![0.0, 3.0, 0.9, 0.0]);
        assert_eq!(y[0].as_str().unwrap(), &["b".to_string(), "c".to_string()]);
        assert_eq!(y[1].shape(), &[2, 3]);
    }

    #[test]
    fn too_few_features_is_an_error() {
        let e = small(None, PostTransform::None, Aggregate::Sum);
        let x = Tensor::from_f32(vec![1, 1], vec![0.0]).unwrap();
        assert!(run(&e, &[Some(&x)]).is_err());
    }
}

//! `hearth`: the native command-line tool (feature `cli`).
//!
//! ```text
//! hearth recommender build  --events FILE [--catalog FILE] --out FILE [options]
//! hearth recommender import --item-factors FILE [--ids FILE] --catalog FILE --out FILE [--dtype …]
//! hearth recommender eval   --events FILE --split YYYY-MM-DD [options] [--lists-out FILE]
//! hearth recommender inspect FILE
//! hearth tracer build --answers FILE [--format mathe|csv] [--questions FILE] --out FILE [options]
//! hearth tracer eval  --answers FILE [--format mathe|csv] [--questions FILE] [options]
//! hearth tracer inspect FILE
//! hearth inspect MODEL.onnx
//! hearth spec MODEL.onnx [--out SPEC.json] [--embed OUT.onnx [--spec SPEC.json]]
//! ```
//! Options: `--factors N` (64), `--iterations N` (12), `--alpha X` (1), `--lambda X` (20),
//! `--dtype f32|f16|int8` (f32), `--half-life-days X` (none), `--threads N`,
//! `--attribution online-retail|"text"` (repeatable).

use hearth::bundle::{BundleWriter, FoldIn, Manifest, Metric, TableDType, FORMAT, VERSION};
use hearth::cli::{self, catalog, eval, events, import, BuildOptions};
use hearth::{Error, Recommender, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "usage:
  hearth recommender build  --events FILE [--catalog FILE | --in-stock-days N] --out FILE [--split DATE] [options]
  hearth recommender import --item-factors FILE(.csv|.npy|.json|.parquet) [--ids FILE] --catalog FILE --out FILE [--dtype f32|f16|int8]
  hearth recommender eval   --events FILE --split YYYY-MM-DD [--catalog FILE] [options] [--lists-out FILE --bundle-out FILE]
  hearth recommender inspect FILE
  hearth tracer build --answers FILE [--format mathe|csv] [--questions FILE] --out FILE [--model irt1pl|irt2pl|elo] [--attribution mathe|TEXT]
  hearth tracer eval  --answers FILE [--format mathe|csv] [--questions FILE] [--seen N] [--test-every N] [--seed N]
  hearth tracer inspect FILE
  hearth inspect MODEL.onnx          (inputs, outputs, opsets, ops with counts, what Hearth cannot run)
  hearth spec MODEL.onnx [--out SPEC.json] [--embed OUT.onnx [--spec SPEC.json]]
                                     (a feature-spec template from the inputs; --embed writes the template,
                                      or --spec's file, into OUT.onnx's metadata_props as 'hearth.features')
tracer options: --model irt1pl (default), irt2pl or elo; --difficulty-prior-sd X (1); --seed N (2026)
  --kt-model DKT.onnx adds a sequence model (DKT, id = offset + skill + S*correct): --kt-input NAME,
  --kt-output NAME (the model's first), --kt-encoding index|onehot (from the input dtype), --kt-offset N (0),
  --kt-padding-id N, --kt-per skill|question, --kt-skills skill|topic, --kt-state carry|rerun,
  --kt-layout batch-first|seq-first
  --format defaults to mathe for a .csv file whose header is MathE's, csv otherwise
recommender options: --factors N (64) --iterations N (12) --alpha X (1) --lambda X (20) --dtype f32|f16|int8
         --half-life-days X --threads N --attribution online-retail|TEXT (repeatable)";

struct Args {
    flags: HashMap<String, Vec<String>>,
    positional: Vec<String>,
}

impl Args {
    fn parse(v: &[String]) -> Result<Args> {
        let mut a = Args {
            flags: HashMap::new(),
            positional: Vec::new(),
        };
        let mut i = 0;
        while i < v.len() {
            if let Some(k) = v[i].strip_prefix("--") {
                let val = v
                    .get(i + 1)
                    .ok_or_else(|| Error::Argument(format!("--{k} needs a value")))?;
                a.flags.entry(k.to_string()).or_default().push(val.clone());
                i += 2;
            } else {
                a.positional.push(v[i].clone());
                i += 1;
            }
        }
        Ok(a)
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.flags.get(k).and_then(|v| v.last()).map(String::as_str)
    }
    fn need(&self, k: &str) -> Result<&str> {
        self.get(k)
            .ok_or_else(|| Error::Argument(format!("--{k} is required\n{USAGE}")))
    }
    fn num<T: std::str::FromStr>(&self, k: &str, default: T) -> Result<T> {
        match self.get(k) {
            None => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|_| Error::Argument(format!("--{k} {s}: not a number"))),
        }
    }
}

fn build_options(a: &Args) -> Result<BuildOptions> {
    let mut o = BuildOptions::default();
    o.als.factors = a.num("factors", o.als.factors)?;
    o.als.iterations = a.num("iterations", o.als.iterations)?;
    o.als.alpha = a.num("alpha", o.als.alpha)?;
    o.als.lambda = a.num("lambda", o.als.lambda)?;
    o.als.threads = a.num("threads", o.als.threads)?;
    if !(1..=1024).contains(&o.als.factors) || !(o.als.lambda > 0.0) || !(o.als.alpha >= 0.0) {
        return Err(Error::Argument(
            "--factors must be 1..=1024, --lambda > 0, --alpha >= 0".into(),
        ));
    }
    if let Some(d) = a.get("dtype") {
        o.dtype = TableDType::parse(d)?;
    }
    if let Some(h) = a.get("half-life-days") {
        o.half_life_days = Some(
            h.parse()
                .map_err(|_| Error::Argument(format!("--half-life-days {h}")))
                .and_then(|h: f64| {
                    if h > 0.0 {
                        Ok(h)
                    } else {
                        Err(Error::Argument("--half-life-days must be > 0".into()))
                    }
                })?,
        );
    }
    for t in a.flags.get("attribution").into_iter().flatten() {
        if t == "online-retail" {
            o.attribution
                .extend(cli::ONLINE_RETAIL_ATTRIBUTION.iter().map(|s| s.to_string()));
        } else {
            o.attribution.push(t.clone());
        }
    }
    Ok(o)
}

fn load_log(a: &Args) -> Result<events::EventLog> {
    let path = Path::new(a.need("events")?);
    let t = Instant::now();
    let log = events::parse_events(&events::read_text(path)?, &path.display().to_string())?;
    let mut skipped: Vec<_> = log.skipped.iter().collect();
    skipped.sort();
    eprintln!(
        "read {} events on {} items from {} in {:.1} s (skipped: {skipped:?})",
        log.events.len(),
        log.items.len(),
        path.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(log)
}

fn catalog_for(a: &Args, log: &events::EventLog) -> Result<Vec<hearth::bundle::ItemMeta>> {
    match a.get("catalog") {
        Some(c) => catalog::read_catalog(Path::new(c)),
        None if !log.items.is_empty() => {
            let days = a
                .get("in-stock-days")
                .map(|d| {
                    d.parse::<f64>()
                        .map_err(|_| Error::Argument(format!("--in-stock-days {d}")))
                })
                .transpose()?;
            let items = catalog::derive_catalog(log, days);
            if days.is_some() {
                let n = items.iter().filter(|i| i.in_stock == Some(true)).count();
                eprintln!("catalog: {} items from the log, {n} in stock (sold in the last {} days of the log)", items.len(), days.unwrap_or(0.0));
            }
            Ok(items)
        }
        None => Err(Error::Argument(
            "--catalog is required for a log without item descriptions".into(),
        )),
    }
}

fn split_time(a: &Args) -> Result<Option<f64>> {
    a.get("split")
        .map(|s| {
            cli::parse_time(s)
                .ok_or_else(|| Error::Argument(format!("--split {s}: expected YYYY-MM-DD")))
        })
        .transpose()
}

fn write(path: &str, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Argument(format!("creating {}: {e}", dir.display())))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::Argument(format!("writing {path}: {e}")))
}

fn build(a: &Args) -> Result<()> {
    let o = build_options(a)?;
    let mut log = load_log(a)?;
    let items = catalog_for(a, &log)?;
    if let Some(t) = split_time(a)? {
        log = log.split(t).0;
        eprintln!("training on the {} events before --split", log.events.len());
    }
    let t = Instant::now();
    let trained = cli::train(&log, items, &o)?;
    let bytes = trained.writer.to_bytes()?;
    let out = a.need("out")?;
    write(out, &bytes)?;
    eprintln!(
        "trained {} users × {} items, {} factors, in {:.1} s",
        trained.users.len(),
        trained.writer.manifest.items.len(),
        o.als.factors,
        t.elapsed().as_secs_f64()
    );
    println!(
        "wrote {out}: {} bytes ({} table)",
        bytes.len(),
        o.dtype.name()
    );
    Ok(())
}

fn import_cmd(a: &Args) -> Result<()> {
    let path = PathBuf::from(a.need("item-factors")?);
    let items = catalog::read_catalog(Path::new(a.need("catalog")?))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let imp = match ext {
        "npy" => {
            let ids = match a.get("ids") {
                Some(p) => events::read_text(Path::new(p))?
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect(),
                None => items.iter().map(|i| i.id.clone()).collect(),
            };
            let bytes = std::fs::read(&path)
                .map_err(|e| Error::Argument(format!("reading {}: {e}", path.display())))?;
            import::from_npy(&bytes, ids)?
        }
        "json" | "jsonl" | "ndjson" => import::from_json_lines(&events::read_text(&path)?)?,
        "csv" | "gz" => import::from_csv(&events::read_text(&path)?)?,
        "parquet" => import::from_parquet(
            std::fs::read(&path)
                .map_err(|e| Error::Argument(format!("reading {}: {e}", path.display())))?,
        )?,
        _ => {
            return Err(Error::Argument(format!(
                "{}: unknown factor format (csv, npy, json lines, parquet)",
                path.display()
            )))
        }
    };
    let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let (factors, missing, dropped) = import::align(&imp, &ids);
    eprintln!("{} factor rows of dim {}; {missing} catalog items have none (zero vectors), {dropped} rows are not in the catalog", imp.ids.len(), imp.dim);
    let o = build_options(a)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        dim: imp.dim,
        metric: if a.get("metric") == Some("cosine") {
            Metric::Cosine
        } else {
            Metric::Dot
        },
        items,
        fold_in: FoldIn {
            alpha: o.als.alpha,
            lambda: o.als.lambda,
            half_life_days: o.half_life_days,
            ..FoldIn::default()
        },
        attribution: o.attribution.clone(),
        source: Some(
            serde_json::json!({ "tool": "hearth recommender import", "factors": path.display().to_string() }),
        ),
    };
    let w = BundleWriter {
        manifest,
        factors,
        dtype: o.dtype,
        bias: None,
        popularity: None,
        user_model: None,
    };
    let bytes = w.to_bytes()?;
    let out = a.need("out")?;
    write(out, &bytes)?;
    println!("wrote {out}: {} bytes", bytes.len());
    Ok(())
}

fn eval_cmd(a: &Args) -> Result<()> {
    let o = build_options(a)?;
    let log = load_log(a)?;
    let items = catalog_for(a, &log)?;
    let split =
        split_time(a)?.ok_or_else(|| Error::Argument(format!("--split is required\n{USAGE}")))?;
    let (train, test) = log.split(split);
    let t = Instant::now();
    let r = eval::evaluate(&train, &test, items, &o)?;
    eprintln!(
        "trained on {} events ({} items, {} factors, alpha {}, lambda {}, {} iterations); evaluated {} customers in {:.1} s",
        r.train_events, r.items, o.als.factors, o.als.alpha, o.als.lambda, o.als.iterations, r.users, t.elapsed().as_secs_f64()
    );
    eprintln!(
        "catalog coverage@10 model={:.4} popularity={:.4}",
        r.model.coverage10, r.popularity.coverage10
    );
    if let Some(p) = a.get("bundle-out") {
        write(p, &r.bundle)?;
    }
    if let Some(p) = a.get("lists-out") {
        let n: usize = a.num("lists", 500)?;
        let lists: Vec<serde_json::Value> = r
            .lists
            .iter()
            .take(n)
            .map(|(u, evs, top)| {
                let evs: Vec<serde_json::Value> = evs
                    .iter()
                    .map(|e| serde_json::json!({ "item": e.item, "event": e.kind, "ts": e.ts }))
                    .collect();
                serde_json::json!({ "customer": u, "events": evs, "top10": top })
            })
            .collect();
        write(p, serde_json::to_string(&lists).expect("json").as_bytes())?;
    }
    println!(
        "HR@10 model={:.4} popularity={:.4} recall@20 model={:.4} popularity={:.4} ndcg@10 model={:.4} popularity={:.4}",
        r.model.hr10, r.popularity.hr10, r.model.recall20, r.popularity.recall20, r.model.ndcg10, r.popularity.ndcg10
    );
    Ok(())
}

fn inspect(a: &Args) -> Result<()> {
    let p = a
        .positional
        .get(2)
        .ok_or_else(|| Error::Argument(format!("inspect needs a bundle path\n{USAGE}")))?;
    let bytes = std::fs::read(p).map_err(|e| Error::Argument(format!("reading {p}: {e}")))?;
    let r = Recommender::from_bytes(&bytes)?;
    let m = r.manifest();
    println!(
        "{p}: {} bytes, format {} v{}",
        bytes.len(),
        m.format,
        m.version
    );
    println!(
        "{} items × {} dims ({} table, {:?} metric), popularity: {}",
        r.len(),
        r.dim(),
        r.dtype().name(),
        m.metric,
        r.has_popularity()
    );
    println!("categories: {}", r.categories().join(", "));
    println!(
        "fold-in: {}",
        serde_json::to_string(&m.fold_in).expect("json")
    );
    if let Some(s) = &m.source {
        println!("source: {s}");
    }
    for line in &m.attribution {
        println!("attribution: {line}");
    }
    Ok(())
}

fn tracer_log(a: &Args) -> Result<cli::tracer::AnswerLog> {
    let path = Path::new(a.need("answers")?);
    let format = match a.get("format") {
        Some(f) => f.to_string(),
        None => {
            let head = std::fs::read(path)
                .map_err(|e| Error::Argument(format!("reading {}: {e}", path.display())))?;
            if head.starts_with(b"Student ID;") {
                "mathe".into()
            } else {
                "csv".into()
            }
        }
    };
    let t = Instant::now();
    let log = cli::tracer::read_log(path, &format, a.get("questions").map(Path::new))?;
    eprintln!(
        "read {} answers by {} learners on {} questions ({} topics, {} subtopics) from {} ({format}) in {:.1} s{}",
        log.answers.len(),
        log.learners.len(),
        log.questions.len(),
        log.topics.len(),
        log.subtopics.len(),
        path.display(),
        t.elapsed().as_secs_f64(),
        if log.ordered() { "" } else { "; no answer times: no answer order" }
    );
    Ok(log)
}

fn tracer_options(a: &Args) -> Result<cli::tracer::TracerBuildOptions> {
    let mut o = cli::tracer::TracerBuildOptions::default();
    if let Some(m) = a.get("model") {
        o.model = hearth::bundle::learning::ItemModel::parse(m)?;
    }
    o.difficulty_prior_sd = a.num("difficulty-prior-sd", o.difficulty_prior_sd)?;
    if !(o.difficulty_prior_sd.is_finite() && o.difficulty_prior_sd > 0.0) {
        return Err(Error::Argument("--difficulty-prior-sd must be > 0".into()));
    }
    o.seed = a.num("seed", o.seed)?;
    for t in a.flags.get("attribution").into_iter().flatten() {
        if t == "mathe" {
            o.attribution
                .extend(cli::tracer::MATHE_ATTRIBUTION.iter().map(|s| s.to_string()));
        } else {
            o.attribution.push(t.clone());
        }
    }
    Ok(o)
}

/// The `--kt-…` options of `tracer build`.
fn kt_options(a: &Args) -> Result<cli::tracer::KtOptions> {
    use hearth::education::dkt::{KtEncoding, KtPer, KtState};
    let pick = |k: &str, names: &[&str]| -> Result<Option<usize>> {
        match a.get(k) {
            None => Ok(None),
            Some(v) => names.iter().position(|n| *n == v).map(Some).ok_or_else(|| {
                Error::Argument(format!("--{k} '{v}': expected {}", names.join(" or ")))
            }),
        }
    };
    Ok(cli::tracer::KtOptions {
        input: a.get("kt-input").map(str::to_string),
        output: a.get("kt-output").map(str::to_string),
        encoding: pick("kt-encoding", &["index", "onehot"])?
            .map(|k| [KtEncoding::Index, KtEncoding::Onehot][k]),
        offset: a.num("kt-offset", 0)?,
        padding_id: a
            .get("kt-padding-id")
            .map(|_| a.num("kt-padding-id", 0))
            .transpose()?,
        per: pick("kt-per", &["skill", "question"])?.map(|k| [KtPer::Skill, KtPer::Question][k]),
        skills_from_topics: pick("kt-skills", &["skill", "topic"])? == Some(1),
        state: pick("kt-state", &["carry", "rerun"])?
            .map_or(KtState::Carry, |k| [KtState::Carry, KtState::Rerun][k]),
        seq_first: pick("kt-layout", &["batch-first", "seq-first"])? == Some(1),
    })
}

fn tracer_build(a: &Args) -> Result<()> {
    let o = tracer_options(a)?;
    let log = tracer_log(a)?;
    let t = Instant::now();
    let mut w = cli::tracer::build(&log, &o)?;
    if let Some(path) = a.get("kt-model") {
        let model =
            std::fs::read(path).map_err(|e| Error::Argument(format!("reading {path}: {e}")))?;
        cli::tracer::attach_kt(&mut w, model, &kt_options(a)?)?;
    }
    let bytes = w.to_bytes()?;
    // what the browser will load: check it before writing
    hearth::education::tracer::Tracer::from_bytes(&bytes)?;
    let out = a.need("out")?;
    write(out, &bytes)?;
    eprintln!(
        "fitted {} in {:.1} s",
        o.model.name(),
        t.elapsed().as_secs_f64()
    );
    println!("wrote {out}: {} bytes", bytes.len());
    Ok(())
}

fn tracer_eval(a: &Args) -> Result<()> {
    let log = tracer_log(a)?;
    let o = cli::tracer::EvalOptions {
        build: tracer_options(a)?,
        test_every: a.num("test-every", 5)?,
        seen: a.num("seen", 5)?,
        seed: a.num("seed", 2026)?,
    };
    let t = Instant::now();
    let r = cli::tracer::evaluate(&log, &o)?;
    eprintln!(
        "held out every {}th learner (seed {}): {} learners, {} predicted answers, {} observed per learner{}; {:.1} s",
        o.test_every,
        o.seed,
        r.test_learners,
        r.predictions,
        o.seen,
        if log.ordered() { " (their first, by time)" } else { " (a seeded random pick: the log has no order)" },
        t.elapsed().as_secs_f64()
    );
    println!("{:<18} {:>7} {:>9}", "model", "AUC", "log loss");
    for row in &r.rows {
        println!("{:<18} {:>7.4} {:>9.4}", row.name, row.auc, row.log_loss);
    }
    Ok(())
}

fn tracer_inspect(a: &Args) -> Result<()> {
    let p = a
        .positional
        .get(2)
        .ok_or_else(|| Error::Argument(format!("inspect needs a bundle path\n{USAGE}")))?;
    let bytes = std::fs::read(p).map_err(|e| Error::Argument(format!("reading {p}: {e}")))?;
    let t = hearth::education::tracer::Tracer::from_bytes(&bytes)?;
    let info = t.info();
    println!(
        "{p}: {} bytes, format {} v{}, model {}",
        bytes.len(),
        info.format,
        info.version,
        info.model
    );
    println!(
        "{} questions, {} topics, {} skills, levels {:?}, ONNX model: {}",
        info.num_questions,
        info.topics.len(),
        info.skills.len(),
        info.levels,
        info.has_kt_model
    );
    if let Some(kt) = &info.kt {
        println!(
            "sequence model: {} over {} skills, state {} (recurrent nodes: {})",
            kt.kind,
            kt.skills.len(),
            kt.state,
            if kt.recurrent.is_empty() {
                "none".into()
            } else {
                kt.recurrent.join(", ")
            }
        );
    }
    if let Some(s) = &info.source {
        println!("source: {s}");
    }
    for line in &info.attribution {
        println!("attribution: {line}");
    }
    Ok(())
}

/// `hearth inspect MODEL.onnx`: what the file declares and whether Hearth runs it.
fn inspect_model(path: &Path) -> Result<()> {
    use hearth::onnx::proto::{type_proto, ModelProto, TypeProto, ValueInfoProto};
    use prost::Message;
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Argument(format!("{}: cannot read: {e}", path.display())))?;
    let m = ModelProto::decode(&bytes[..])
        .map_err(|e| Error::model(format!("{}: not an ONNX model ({e})", path.display())))?;
    fn ty(t: Option<&TypeProto>) -> String {
        match t.and_then(|t| t.value.as_ref()) {
            Some(type_proto::Value::TensorType(t)) => {
                let dims: Vec<String> = t
                    .shape
                    .iter()
                    .flat_map(|s| &s.dim)
                    .map(|d| {
                        use hearth::onnx::proto::tensor_shape_proto::dimension::Value as D;
                        match &d.value {
                            Some(D::DimValue(n)) => n.to_string(),
                            Some(D::DimParam(p)) => p.clone(),
                            None => "?".into(),
                        }
                    })
                    .collect();
                format!(
                    "{}[{}]",
                    hearth::tensor::onnx_dtype_name(t.elem_type.unwrap_or(0)),
                    dims.join(", ")
                )
            }
            Some(type_proto::Value::SequenceType(s)) => {
                format!("seq({})", ty(s.elem_type.as_deref()))
            }
            Some(type_proto::Value::MapType(mt)) => format!(
                "map({}, {})",
                hearth::tensor::onnx_dtype_name(mt.key_type.unwrap_or(0)),
                ty(mt.value_type.as_deref())
            ),
            Some(type_proto::Value::OptionalType(o)) => {
                format!("optional({})", ty(o.elem_type.as_deref()))
            }
            _ => "?".into(),
        }
    }
    let g = m.graph.unwrap_or_default();
    let inits: std::collections::HashSet<&str> = g
        .initializer
        .iter()
        .filter_map(|t| t.name.as_deref())
        .collect();
    let show = |what: &str, vs: &[ValueInfoProto]| {
        for v in vs {
            let name = v.name.as_deref().unwrap_or("");
            if !inits.contains(name) {
                println!("{what} {name}: {}", ty(v.r#type.as_ref()));
            }
        }
    };
    println!("file: {} ({} bytes)", path.display(), bytes.len());
    println!(
        "producer: {} {}",
        m.producer_name.as_deref().unwrap_or("?"),
        m.producer_version.as_deref().unwrap_or("")
    );
    for o in &m.opset_import {
        let d = o.domain.as_deref().unwrap_or("");
        println!(
            "opset: {} {}",
            if d.is_empty() { "ai.onnx" } else { d },
            o.version.unwrap_or(0)
        );
    }
    show("input", &g.input);
    show("output", &g.output);
    let registry = hearth::onnx::ops::Registry::with_all_ops();
    let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for n in &g.node {
        let d = n.domain.as_deref().unwrap_or("");
        let d = if d == "ai.onnx" { "" } else { d };
        *counts
            .entry((d.to_string(), n.op_type.clone().unwrap_or_default()))
            .or_default() += 1;
    }
    let mut missing = vec![];
    for ((d, op), n) in &counts {
        let known = op == "If" && d.is_empty() || registry.get_in(d, op).is_some();
        let dom = if d.is_empty() { "ai.onnx" } else { d };
        println!(
            "op: {dom}:{op} ×{n}{}",
            if known { "" } else { "  (not implemented)" }
        );
        if !known {
            missing.push(format!("{dom}:{op}"));
        }
    }
    match hearth::Session::from_bytes(&bytes) {
        Ok(_) if missing.is_empty() => println!("hearth: loads"),
        Ok(_) => println!("hearth: loads (the ops above are folded or pruned away)"),
        Err(e) => println!("hearth: does not load: {e}"),
    }
    Ok(())
}

/// `hearth spec MODEL.onnx`: a feature-spec template (stdout or `--out`); `--embed OUT.onnx`
/// writes the template (or the checked `--spec` file) into a copy of the model.
fn spec_cmd(path: &Path, a: &Args) -> Result<()> {
    use hearth::tabular::{template, FeatureSpec, Predictor, SpecSource};
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::Argument(format!("{}: cannot read: {e}", p.display())))
    };
    let bytes = read(path)?;
    let spec = match a.get("spec") {
        Some(s) => FeatureSpec::from_json(&String::from_utf8_lossy(&read(Path::new(s))?))?,
        None => template::template(&bytes)?,
    };
    // the spec must fit the model as Hearth loads it
    let session = hearth::Session::from_bytes(&bytes)?;
    Predictor::new(&session, spec.clone(), SpecSource::Given)?;
    let json = spec.to_json();
    match a.get("out") {
        Some(o) => std::fs::write(o, format!("{json}\n"))
            .map_err(|e| Error::Argument(format!("{o}: cannot write: {e}")))?,
        None if a.get("embed").is_none() => println!("{json}"),
        None => {}
    }
    if let Some(out) = a.get("embed") {
        let model = template::embed(&bytes, &spec)?;
        std::fs::write(out, model)
            .map_err(|e| Error::Argument(format!("{out}: cannot write: {e}")))?;
        eprintln!(
            "hearth: wrote {out} with the spec in metadata_props['{}']",
            hearth::tabular::METADATA_KEY
        );
    }
    Ok(())
}

fn run() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let a = Args::parse(&argv)?;
    match (
        a.positional.first().map(String::as_str),
        a.positional.get(1).map(String::as_str),
    ) {
        (Some("recommender"), Some("build")) => build(&a),
        (Some("recommender"), Some("import")) => import_cmd(&a),
        (Some("recommender"), Some("eval")) => eval_cmd(&a),
        (Some("recommender"), Some("inspect")) => inspect(&a),
        (Some("tracer"), Some("build")) => tracer_build(&a),
        (Some("tracer"), Some("eval")) => tracer_eval(&a),
        (Some("tracer"), Some("inspect")) => tracer_inspect(&a),
        (Some("inspect"), Some(path)) => inspect_model(Path::new(path)),
        (Some("spec"), Some(path)) => spec_cmd(Path::new(path), &a),
        _ => Err(Error::Argument(USAGE.into())),
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("hearth: {e}");
        std::process::exit(2);
    }
}

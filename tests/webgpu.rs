//! The GPU backend natively (feature `webgpu`; lavapipe on machines without a GPU):
//! CPU↔GPU parity of every model fixture, where the ops ran, backend choice, device loss, and
//! steady memory over 10,000 runs. Without a GPU adapter these tests fail with the start error
//! (install `mesa-vulkan-drivers`).
#![cfg(feature = "webgpu")]

mod common;

use hearth::backend::webgpu::GpuDevice;
use hearth::conformance::{compare, Tolerance};
use hearth::onnx::tensor::tensor_from_pb;
use hearth::{BackendChoice, BackendKind, Error, Session, SessionOptions, Tensor};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixture(name: &str) -> (Vec<u8>, Vec<(String, Tensor)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/models")
        .join(name);
    let model = std::fs::read(dir.join("model.onnx")).unwrap();
    let set = dir.join("test_data_set_0");
    let inputs = (0..)
        .map_while(|k| std::fs::read(set.join(format!("input_{k}.pb"))).ok())
        .map(|b| tensor_from_pb(&b).unwrap())
        .collect();
    (model, inputs)
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.onnx").is_file() && !p.join("model.onnx.data").exists())
        .collect();
    v.sort();
    v
}

fn on(backend: BackendChoice, model: &[u8]) -> Session {
    Session::with_options(model, &[], &SessionOptions { backend }).unwrap()
}

fn run(s: &Session, inputs: &[(String, Tensor)]) -> Vec<Tensor> {
    let feeds: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (n.as_str(), t)).collect();
    s.run(&feeds).unwrap()
}

/// GPU and CPU backends agree on every fixture within 1e-5 + 1e-4·|cpu| (sums run in another
/// order on the GPU; the ONNX-reference tolerance of tests/models.rs is checked there).
#[test]
fn every_fixture_matches_the_cpu_backend() {
    let tol = Tolerance {
        atol: 1e-5,
        rtol: 1e-4,
    };
    let mut checked = 0;
    for dir in fixtures() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if name == "external_data" {
            continue; // needs its weights file; covered by tests/models.rs
        }
        let (model, inputs) = fixture(&name);
        let (cpu, gpu) = (
            on(BackendChoice::Cpu, &model),
            on(BackendChoice::WebGpu, &model),
        );
        assert_eq!(gpu.backend(), "webgpu");
        let (want, got) = (run(&cpu, &inputs), run(&gpu, &inputs));
        assert_eq!(gpu.fallback_reason(), None, "{name} fell back to the CPU");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            compare(g, w, tol).unwrap_or_else(|m| panic!("{name} output {k}: {m}"));
        }
        println!("{name}: {}", gpu.placement().unwrap().summary());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fixtures");
}

/// The MLP (MatMul + Add + activation ×3) runs on the GPU end to end as three fused dispatches
/// (each bias joined to its MatMul at load, each activation fused on the device), nothing on the
/// CPU, one readback; the attention block's MatMuls, Softmax and LayerNorm run on
/// the GPU, Transposes included; logreg's Gemm fuses its Sigmoid.
#[test]
fn dense_models_run_on_the_gpu() {
    let (model, inputs) = fixture("mlp");
    let s = on(BackendChoice::WebGpu, &model);
    run(&s, &inputs);
    let p = s.placement().unwrap();
    assert_eq!(p.gpu.get("MatMul"), Some(&3), "{}", p.summary());
    assert!(p.cpu.is_empty(), "MLP ops on the CPU: {}", p.summary());
    let biased = s.graph().nodes.iter().filter(|n| n.op.name() == "MatMul");
    assert!(biased.clone().count() == 3 && biased.into_iter().all(|n| n.inputs.len() == 3));
    assert_eq!(
        p.fused,
        3,
        "activation fused into each MatMul: {}",
        p.summary()
    );
    assert_eq!(
        p.downloads,
        1,
        "only the output is read back: {}",
        p.summary()
    );

    let (model, inputs) = fixture("attention");
    let s = on(BackendChoice::WebGpu, &model);
    run(&s, &inputs);
    let p = s.placement().unwrap();
    for op in ["MatMul", "Softmax", "LayerNormalization", "Transpose"] {
        assert!(
            p.gpu.contains_key(op),
            "{op} not on the GPU: {}",
            p.summary()
        );
    }

    let (model, inputs) = fixture("logreg");
    let s = on(BackendChoice::WebGpu, &model);
    run(&s, &inputs);
    let p = s.placement().unwrap();
    assert_eq!(
        (p.gpu.get("Gemm"), p.fused),
        (Some(&1), 1),
        "{}",
        p.summary()
    );
}

/// Placement is decided when the session is built and readable as data: the MLP's nodes are all
/// on the GPU with each activation fused into its MatMul (the bias Adds were joined to them at
/// load); LeNet's convolutions and pooling stay on the CPU with the reason. A node whose actual inputs do not fit its kernel (a
/// Softmax over a non-last axis) is declined at run time with the reason, and the run is right.
#[test]
fn placement_is_decided_at_build_and_declines_are_reported() {
    let (model, _) = fixture("mlp");
    let s = on(BackendChoice::WebGpu, &model);
    let planned = s.planned_placement().unwrap();
    assert!(
        planned.iter().all(|p| p.backend == BackendKind::WebGpu),
        "{planned:?}"
    );
    let fused: Vec<&str> = planned
        .iter()
        .filter_map(|p| p.fused_into.as_deref())
        .collect();
    assert_eq!(fused.len(), 3, "{planned:?}");
    let matmuls: Vec<&str> = planned
        .iter()
        .filter(|p| p.op == "MatMul")
        .map(|p| p.node.as_str())
        .collect();
    assert!(fused.iter().all(|f| matmuls.contains(f)), "{planned:?}");

    let (model, _) = fixture("lenet");
    let s = on(BackendChoice::WebGpu, &model);
    let conv: Vec<_> = s
        .planned_placement()
        .unwrap()
        .iter()
        .filter(|p| p.op == "Conv" || p.op == "MaxPool")
        .collect();
    assert!(!conv.is_empty());
    for p in conv {
        assert_eq!(p.backend, BackendKind::Cpu, "{p:?}");
        assert_eq!(p.reason.as_deref(), Some("no GPU kernel"), "{p:?}");
    }

    // y = Softmax(x, axis = 0) over [2, 3]: a column softmax, which the row shader does not do
    let m = common::model(
        vec![{
            let mut n = common::node("Softmax", &["x"], &["y"]);
            n.attribute.push(common::int_attr("axis", 0));
            n
        }],
        vec![],
        vec![common::value_info("x", 1, &[Ok(2), Ok(3)])],
        vec![common::value_info("y", 1, &[Ok(2), Ok(3)])],
    );
    let s = on(BackendChoice::WebGpu, &m);
    assert_eq!(
        s.planned_placement().unwrap()[0].backend,
        BackendKind::WebGpu
    );
    let x = Tensor::from_f32(vec![2, 3], vec![0.0, 1.0, 2.0, 2.0, 1.0, 0.0]).unwrap();
    let y = s.run(&[("x", &x)]).unwrap().remove(0);
    let p = s.placement().unwrap();
    assert_eq!(p.cpu.get("Softmax"), Some(&1), "{}", p.summary());
    assert_eq!(p.declined.len(), 1, "{p:?}");
    assert!(p.declined[0].1.contains("contiguous row"), "{p:?}");
    let want = on(BackendChoice::Cpu, &m)
        .run(&[("x", &x)])
        .unwrap()
        .remove(0);
    compare(&y, &want, Tolerance::default()).unwrap();
}

#[test]
fn backend_choice_reports_what_runs() {
    let (model, inputs) = fixture("mlp");
    assert_eq!(on(BackendChoice::Cpu, &model).backend(), "cpu");
    assert_eq!(on(BackendChoice::WebGpu, &model).backend(), "webgpu");
    let auto = on(BackendChoice::Auto, &model);
    let probe = auto
        .backend_probe()
        .expect("auto records its probe")
        .clone();
    assert!(
        probe.cpu_ms.is_some() && probe.gpu_ms.is_some(),
        "{probe:?}"
    );
    assert!(probe.adapter.is_some());
    // what it reports is what it chose, and it is the faster of the two it measured
    let faster = if probe.gpu_ms < probe.cpu_ms {
        "webgpu"
    } else {
        "cpu"
    };
    assert_eq!(auto.backend(), faster, "{probe:?}");
    assert!(probe.reason.starts_with(faster), "{probe:?}");
    println!("auto on the mlp: {probe:?} (lavapipe is a CPU emulation, not a GPU)");
    // the second session of the same model takes the cached choice
    let again = on(BackendChoice::Auto, &model);
    assert!(again.backend_probe().unwrap().cached);
    assert_eq!(again.backend(), auto.backend());
    run(&again, &inputs);
    assert!(matches!(
        BackendChoice::parse("gpu"),
        Err(Error::Argument(_))
    ));
}

/// A lost device (destroyed here, as `device.destroy()` in a browser) moves the session to the
/// CPU; the run succeeds with the same outputs and `backend()` says `cpu` from then on.
#[test]
fn device_loss_falls_back_to_the_cpu() {
    let (model, inputs) = fixture("mlp");
    let dev = Arc::new(GpuDevice::start().unwrap());
    let s = Session::with_gpu_device(&model, dev.clone()).unwrap();
    let before = run(&s, &inputs);
    assert_eq!(s.backend(), "webgpu");
    dev.destroy();
    let after = run(&s, &inputs);
    assert_eq!(s.backend(), "cpu");
    assert!(s.fallback_reason().unwrap().contains("lost"));
    let tol = Tolerance {
        atol: 1e-5,
        rtol: 1e-4,
    };
    for (a, b) in after.iter().zip(&before) {
        compare(a, b, tol).unwrap();
    }
    run(&s, &inputs); // and keeps working
}

/// 10,000 runs allocate no new GPU buffers after the first (the pool serves them all).
#[test]
fn ten_thousand_runs_keep_gpu_memory_flat() {
    let (model, inputs) = fixture("mlp");
    let dev = Arc::new(GpuDevice::start().unwrap());
    let s = Session::with_gpu_device(&model, dev.clone()).unwrap();
    run(&s, &inputs);
    let first = dev.pool_stats();
    let t0 = std::time::Instant::now();
    for _ in 0..10_000 {
        run(&s, &inputs);
    }
    let after = dev.pool_stats();
    assert_eq!(
        (after.created, after.created_bytes),
        (first.created, first.created_bytes),
        "buffers were created after the first run"
    );
    println!(
        "10,000 mlp runs: {:.1} µs/run on {} (a CPU emulation: not a GPU figure); {} buffers, {} B; shader compiles {:?}",
        t0.elapsed().as_secs_f64() * 1e6 / 1e4,
        dev.adapter().name,
        after.created,
        after.created_bytes,
        dev.compile_times()
    );
}

#[test]
fn asking_for_webgpu_without_a_device_is_a_typed_error() {
    // no adapter can be forced natively here; check the error the start path returns instead
    let e = Error::BackendUnavailable {
        backend: "webgpu".into(),
        reason: "no GPU adapter".into(),
    };
    assert_eq!(e.code(), "BACKEND_UNAVAILABLE");
}

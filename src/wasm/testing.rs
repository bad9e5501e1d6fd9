//! Test-only exports (feature `test-api`): the conformance judge and a TensorProto decoder for
//! the wasm test runners (`tests/wasm/`, `tests/browser/`). Shipped builds do not have them.

use super::{tensor_to_js, to_js};
use crate::conformance::{self, Outcome, Tolerance};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The byte arrays of a JS array of `Uint8Array`s (test data sets).
fn byte_arrays(a: &Array) -> Vec<Vec<u8>> {
    a.iter()
        .filter_map(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
        .map(|u| u.to_vec())
        .collect()
}

/// The suite's tolerance with the caller's overrides.
fn tolerance(atol: Option<f64>, rtol: Option<f64>) -> Tolerance {
    let d = Tolerance::default();
    Tolerance {
        atol: atol.unwrap_or(d.atol),
        rtol: rtol.unwrap_or(d.rtol),
    }
}

/// A case's outcome as `{ outcome, detail }`: `outcome` is `'pass'`, `'unsupported-op'`,
/// `'unsupported-dtype'` or `'fail'`; `detail` names the op, the dtype or the failure.
/// `fell_back` (a GPU session that moved to the CPU) turns a pass into a failure.
fn outcome_to_js(o: Outcome, fell_back: Option<String>) -> JsValue {
    let (kind, detail) = match (o, fell_back) {
        (Outcome::Pass, Some(why)) => ("fail", format!("fell back to the CPU: {why}")),
        (Outcome::Pass, None) => ("pass", String::new()),
        (Outcome::UnsupportedOp(op), _) => ("unsupported-op", op),
        (Outcome::UnsupportedDType(d), _) => ("unsupported-dtype", d),
        (Outcome::Fail(m), _) => ("fail", m),
    };
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"outcome".into(), &kind.into());
    let _ = Reflect::set(&obj, &"detail".into(), &detail.into());
    obj.into()
}

/// Runs one ONNX node-test case (model bytes, serialised input and expected output tensors) the
/// way the native conformance test does; returns `{ outcome, detail }`.
/// `atol`/`rtol` default to the suite's 1e-5 / 1e-3.
#[wasm_bindgen(js_name = conformanceCase)]
pub fn conformance_case(
    model: &[u8],
    inputs: Array,
    outputs: Array,
    atol: Option<f64>,
    rtol: Option<f64>,
) -> JsValue {
    let o = conformance::run_case(
        model,
        &byte_arrays(&inputs),
        &byte_arrays(&outputs),
        tolerance(atol, rtol),
    );
    outcome_to_js(o, None)
}

/// [`conformanceCase`](conformance_case) on `backend` (`'cpu'`, `'webgpu'`, `'auto'`), async:
/// resolves to the same `{ outcome, detail }`; a case whose WebGPU session fell back to the CPU
/// is a failure.
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = conformanceCaseAsync)]
pub async fn conformance_case_async(
    model: Vec<u8>,
    inputs: Array,
    outputs: Array,
    backend: String,
    atol: Option<f64>,
    rtol: Option<f64>,
) -> Result<JsValue, JsValue> {
    let tol = tolerance(atol, rtol);
    let backend = crate::session::BackendChoice::parse(&backend).map_err(to_js)?;
    let opts = crate::session::SessionOptions { backend };
    let (outcome, session) = conformance::run_case_async(
        &model,
        &byte_arrays(&inputs),
        &byte_arrays(&outputs),
        tol,
        &opts,
    )
    .await;
    Ok(outcome_to_js(
        outcome,
        session.and_then(|s| s.fallback_reason()),
    ))
}

/// Decodes a serialised ONNX `TensorProto` (as in ONNX test data) to `{ name, data, dims, type }`.
#[wasm_bindgen(js_name = decodeTensorProto)]
pub fn decode_tensor_proto(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let (name, t) = crate::onnx::tensor::tensor_from_pb(bytes).map_err(to_js)?;
    let o = tensor_to_js(&t);
    let _ = Reflect::set(&o, &"name".into(), &name.as_str().into());
    Ok(o)
}

/// Test hook (feature `test-api`): runs MatMulInteger's SIMD128 int8 GEMM against its scalar
/// twin inside wasm over every tile edge and extreme values; returns how many outputs differ (0
/// expected).
#[wasm_bindgen(js_name = qgemmCheckForTest)]
pub fn qgemm_check() -> u32 {
    crate::backend::cpu::linalg::qgemm::check_against_scalar() as u32
}

/// Test hook (feature `test-api`): runs the f32 GEMM's SIMD128 micro-kernel against its scalar
/// twin inside wasm over every tile edge, block edge, transposed operand, scale and added C;
/// returns how many outputs are not bit-identical (0 expected).
#[wasm_bindgen(js_name = sgemmCheckForTest)]
pub fn sgemm_check() -> u32 {
    crate::backend::cpu::linalg::sgemm::check_against_scalar() as u32
}

/// Test hook (feature `test-api`): runs the common LSTM's fused SIMD128 gates against the
/// general gate path inside wasm over widths around its 4-lane steps and pre-activations across
/// σ's and tanh's ranges; returns how many outputs are not bit-identical (0 expected).
#[wasm_bindgen(js_name = lstmGatesCheckForTest)]
pub fn lstm_gates_check() -> u32 {
    crate::backend::cpu::rnn::check_gates_against_general() as u32
}

/// Test hook (feature `test-api`): runs the SIMD128 depthwise-convolution kernel against its
/// scalar twin inside wasm over strides 1 and 2, dilations, pads, kernel sizes and widths around
/// its 8-column steps, then the 2-D max pool's the same way; returns how many outputs are not
/// bit-identical (0 expected).
#[wasm_bindgen(js_name = depthwiseCheckForTest)]
pub fn depthwise_check() -> u32 {
    crate::backend::cpu::conv::depthwise_check_against_scalar() as u32
}

/// Test hook (feature `test-api`): runs the few-rows product's SIMD128 kernel (a row-major B
/// streamed in column blocks) against its scalar twin inside wasm over block, group and vector
/// edges; returns how many outputs are not bit-identical (0 expected).
#[wasm_bindgen(js_name = rowsCheckForTest)]
pub fn rows_check() -> u32 {
    crate::backend::cpu::linalg::rows::check_against_scalar() as u32
}

/// Test hook (feature `test-api`): runs TopK's SIMD128 scan (the values that cannot enter the
/// kept k passed over 16 at a time) against its scalar twin inside wasm over ties, both zeros,
/// infinities and NaNs; returns how many answers differ (0 expected).
#[wasm_bindgen(js_name = topkCheckForTest)]
pub fn topk_check() -> u32 {
    crate::backend::cpu::reduce::check_against_scalar() as u32
}

/// Test hook (feature `test-api`): runs the SIMD128 scoring kernels (single dots and the
/// four-rows block scorers, f32 and int8) against their scalar twins inside wasm, over every length 0..=70 and
/// every finite f16 value; returns the number of results that are not
/// bit-identical (0 expected).
#[wasm_bindgen(js_name = recommendKernelCheckForTest)]
pub fn recommend_kernel_check() -> u32 {
    use crate::recommend::kernels::{self, scalar};
    let mut rng = crate::testing::Rng::new(12345);
    let mut r = || rng.f32_in(-1.0, 1.0);
    let mut bad = 0;
    for d in 0..=70 {
        let a: Vec<f32> = (0..d).map(|_| r()).collect();
        let b: Vec<f32> = (0..d).map(|_| r()).collect();
        bad += (kernels::dot_f32(&a, &b).to_bits() != scalar::dot_f32(&a, &b).to_bits()) as u32;
        let h: Vec<u16> = a
            .iter()
            .map(|x| half::f16::from_f32(*x).to_bits())
            .collect();
        bad += (kernels::dot_f16(&h, &b).to_bits() != scalar::dot_f16(&h, &b).to_bits()) as u32;
        let q8: Vec<i8> = a.iter().map(|x| (x * 127.0) as i8).collect();
        let mut q16 = vec![0i16; d];
        kernels::quantize_query_i16(&b, &mut q16);
        bad += (kernels::dot_i8(&q8, &q16) != scalar::dot_i8(&q8, &q16)) as u32;
        // the four-rows-per-step block scorer against single scalar dots (9 rows: a remainder)
        let rows: Vec<f32> = (0..9 * d).map(|_| r()).collect();
        let mut got = [0f32; 9];
        kernels::dots_f32(&rows, &b, &mut got);
        for (t, g) in got.iter().enumerate() {
            let want = scalar::dot_f32(&rows[t * d..(t + 1) * d], &b);
            bad += (g.to_bits() != want.to_bits()) as u32;
        }
        // the four-rows int8 block kernel of the screening pass, extreme codes included
        let rows8: Vec<i8> = (0..9 * d)
            .map(|i| {
                if i % 7 == 0 {
                    -127
                } else {
                    (r() * 127.0) as i8
                }
            })
            .collect();
        let mut got8 = [0i32; 9];
        kernels::dots_i8(&rows8, &q16, &mut got8);
        for (t, g) in got8.iter().enumerate() {
            bad += (*g != scalar::dot_i8(&rows8[t * d..(t + 1) * d], &q16)) as u32;
        }
        // the screening bounds of a block (9: a remainder), one scale a power of two per row,
        // through each epilogue, and their test against a threshold (one NaN norm: kept)
        let scales: Vec<f32> = (0..9).map(|t| 2f32.powi(t - 12)).collect();
        let norms: Vec<f32> = (0..9)
            .map(|t| if t == 5 { f32::NAN } else { r().abs() })
            .collect();
        let bias: Vec<f32> = (0..9).map(|_| r()).collect();
        let b = (r().abs() + 1e-3, 7.25, 1e-44);
        for (nm, bs) in [
            (None, None),
            (Some(&norms[..]), None),
            (Some(&norms[..]), Some(&bias[..])),
        ] {
            let post = crate::backend::cpu::screen::Post {
                scale: r().abs(),
                norms: nm,
                bias: bs,
            };
            // unmasked, a mask (the masked screening pass), an empty mask (its words past
            // the end are zero)
            for m in [None, Some(&[0x16du64][..]), Some(&[][..])] {
                let (mut hb, mut hs) = ([0f32; 9], [0f32; 9]);
                let (mut kb, mut ks) = ([u64::MAX; 2], [u64::MAX; 2]);
                let t = scalar::bound(got8[4], scales[4], b, &post, 4);
                kernels::bounds(&got8, &scales, b, &post, t, m, &mut hb, &mut kb);
                scalar::bounds(&got8, &scales, b, &post, t, m, &mut hs, &mut ks);
                bad += crate::testing::bit_mismatches(&hb, &hs) as u32 + (kb[0] != ks[0]) as u32;
                // the mask's bits only: none outside it
                bad += m.is_some_and(|m| kb[0] & !m.first().copied().unwrap_or(0) != 0) as u32;
            }
        }
    }
    // every finite half through the SIMD conversion (16 halves per dot against a one-hot query;
    // compared by value: the sum turns -0 into +0)
    let all: Vec<u16> = (0..=u16::MAX).filter(|h| h & 0x7c00 != 0x7c00).collect();
    for chunk in all.chunks(16).filter(|c| c.len() == 16) {
        for k in 0..16 {
            let mut q = [0f32; 16];
            q[k] = 1.0;
            bad += (kernels::dot_f16(chunk, &q) != kernels::f16_to_f32(chunk[k])) as u32;
        }
    }
    bad
}

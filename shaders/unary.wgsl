// Elementwise one-input functions: out[i] = f(x[i]) with f chosen by `op` and up to two
// parameters. The U_* constants are prepended at compile time from the Rust enum `UnaryFn`
// (src/backend/webgpu/ops/unary.rs), so the codes are written once. One invocation per element;
// the dispatch may be 2-D when there are more than 65535 workgroups.

struct Params { n: u32, op: u32, alpha: f32, beta: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): WGSL has no erf.
fn erf(v: f32) -> f32 {
    let s = sign(v);
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return s * y;
}

// tanh clamped: beyond |x| = 15 it is ±1 in f32, and some drivers overflow inside tanh.
fn tanh_safe(v: f32) -> f32 { return tanh(clamp(v, -15.0, 15.0)); }

// log with IEEE's log(±0) = -inf: WGSL leaves log(0) to the implementation (SwiftShader returns
// -88.03, the log of the smallest normal). `p.n - p.n` (0) keeps -inf out of constant evaluation,
// where Chromium's compiler rejects it.
fn log_ieee(v: f32) -> f32 {
    if (v == 0.0) { return bitcast<f32>(0xff800000u + (p.n - p.n)); }
    return log(v);
}

fn softplus(v: f32) -> f32 {
    if (v > 20.0) { return v; }
    return log(1.0 + exp(v));
}

fn f(v: f32) -> f32 {
    switch p.op {
        case U_ABS: { return abs(v); }
        case U_NEG: { return -v; }
        case U_RELU: { return select(v, 0.0, v < 0.0); }   // NaN stays NaN (WGSL's max may drop it)
        case U_SQRT: { return sqrt(v); }
        case U_RECIPROCAL: { return 1.0 / v; }
        case U_EXP: { return exp(v); }
        case U_LOG: { return log_ieee(v); }
        case U_FLOOR: { return floor(v); }
        case U_CEIL: { return ceil(v); }
        case U_SIGMOID: { return 1.0 / (1.0 + exp(-v)); }
        case U_TANH: { return tanh_safe(v); }
        case U_SIN: { return sin(v); }
        case U_COS: { return cos(v); }
        case U_SOFTPLUS: { return softplus(v); }
        case U_SOFTSIGN: { return v / (1.0 + abs(v)); }
        case U_LEAKY_RELU: { return select(v, p.alpha * v, v < 0.0); }                      // LeakyRelu
        case U_ELU: { return select(v, p.alpha * (exp(v) - 1.0), v < 0.0); }         // Elu
        case U_SELU: { return p.beta * select(v, p.alpha * (exp(v) - 1.0), v <= 0.0); } // Selu(alpha, gamma)
        case U_HARD_SIGMOID: { return clamp(p.alpha * v + p.beta, 0.0, 1.0); }                // HardSigmoid
        case U_HARD_SWISH: { return v * clamp(v * (1.0 / 6.0) + 0.5, 0.0, 1.0); }          // HardSwish
        case U_GELU: { return 0.5 * v * (1.0 + erf(v * 0.70710678118654752)); }       // Gelu
        case U_GELU_TANH: { return 0.5 * v * (1.0 + tanh_safe(0.7978845608028654 * (v + 0.044715 * v * v * v))); } // Gelu tanh
        case U_ERF: { return erf(v); }
        case U_CLIP: { return clamp(v, p.alpha, p.beta); }                             // Clip
        case U_MISH: { return v * tanh_safe(softplus(v)); }                            // Mish
        case U_ROUND: { return round(v); }                                              // half to even
        case U_SIGN: { return sign(v); }
        case U_THRESHOLDED_RELU: { return select(0.0, v, v > p.alpha); }                           // ThresholdedRelu
        case U_CELU: { return max(0.0, v) + min(0.0, p.alpha * (exp(v / p.alpha) - 1.0)); } // Celu
        default: { return v; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i >= p.n) { return; }
    out[i] = f(x[i]);
}

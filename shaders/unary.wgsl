// Elementwise one-input functions: out[i] = f(x[i]) with f chosen by `op` (codes in
// src/backend/webgpu/kernels.rs, `UnaryCode`) and up to two parameters. One invocation per
// element; the dispatch may be 2-D when there are more than 65535 workgroups.

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
        case 0u: { return abs(v); }
        case 1u: { return -v; }
        case 2u: { return max(v, 0.0); }
        case 3u: { return sqrt(v); }
        case 4u: { return 1.0 / v; }
        case 5u: { return exp(v); }
        case 6u: { return log_ieee(v); }
        case 7u: { return floor(v); }
        case 8u: { return ceil(v); }
        case 9u: { return 1.0 / (1.0 + exp(-v)); }
        case 10u: { return tanh_safe(v); }
        case 11u: { return sin(v); }
        case 12u: { return cos(v); }
        case 13u: { return softplus(v); }
        case 14u: { return v / (1.0 + abs(v)); }
        case 15u: { return select(v, p.alpha * v, v < 0.0); }                      // LeakyRelu
        case 16u: { return select(v, p.alpha * (exp(v) - 1.0), v < 0.0); }         // Elu
        case 17u: { return p.beta * select(v, p.alpha * (exp(v) - 1.0), v <= 0.0); } // Selu(alpha, gamma)
        case 18u: { return clamp(p.alpha * v + p.beta, 0.0, 1.0); }                // HardSigmoid
        case 19u: { return v * clamp(v / 6.0 + 0.5, 0.0, 1.0); }                    // HardSwish
        case 20u: { return 0.5 * v * (1.0 + erf(v * 0.70710678118654752)); }       // Gelu
        case 21u: { return 0.5 * v * (1.0 + tanh_safe(0.7978845608028654 * (v + 0.044715 * v * v * v))); } // Gelu tanh
        case 22u: { return erf(v); }
        case 23u: { return clamp(v, p.alpha, p.beta); }                             // Clip
        case 24u: { return v * tanh_safe(softplus(v)); }                            // Mish
        case 25u: { return round(v); }                                              // half to even
        case 26u: { return sign(v); }
        case 27u: { return select(0.0, v, v > p.alpha); }                           // ThresholdedRelu
        case 28u: { return max(0.0, v) + min(0.0, p.alpha * (exp(v / p.alpha) - 1.0)); } // Celu
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

// Gemm / batched MatMul with a fused bias and activation:
//   C[b, i, j] = act(alpha · Σ_k A[b, i, k] · B[b, k, j] + beta · bias[i, j])
// A and B are read through element strides (row, col, batch), so transposed and batch-broadcast
// operands need no copy. The bias is read through (row, col) strides (0 on a broadcast axis).
// Tiled: each 16×16 workgroup computes one 16×16 output tile, staging 16-wide K slices of A and B
// in workgroup memory. Dispatch: (ceil(n/16), ceil(m/16), batch).

struct Params {
    m: u32, n: u32, k: u32, has_bias: u32,
    a_rs: u32, a_cs: u32, a_bs: u32, act: u32,     // an ACT_* constant (prepended from the Rust enum `Act`)
    b_rs: u32, b_cs: u32, b_bs: u32, _pad0: u32,
    c_rs: u32, c_cs: u32, alpha: f32, beta: f32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const T: u32 = 16u;
var<workgroup> ta: array<array<f32, 16>, 16>;
var<workgroup> tb: array<array<f32, 16>, 16>;

fn activate(x: f32, act: u32) -> f32 {
    switch act {
        case ACT_RELU: { return select(x, 0.0, x < 0.0); }   // NaN stays NaN (WGSL's max may drop it)
        case ACT_SIGMOID: { return 1.0 / (1.0 + exp(-x)); }
        case ACT_TANH: { return tanh(clamp(x, -15.0, 15.0)); }
        default: { return x; }
    }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
    let row = wg.y * T + l.y;
    let col = wg.x * T + l.x;
    let batch = wg.z;
    let a0 = batch * p.a_bs;
    let b0 = batch * p.b_bs;
    var acc = 0.0;
    let tiles = (p.k + T - 1u) / T;
    for (var t = 0u; t < tiles; t++) {
        let ka = t * T + l.x;
        if (row < p.m && ka < p.k) {
            ta[l.y][l.x] = a[a0 + row * p.a_rs + ka * p.a_cs];
        } else {
            ta[l.y][l.x] = 0.0;
        }
        let kb = t * T + l.y;
        if (kb < p.k && col < p.n) {
            tb[l.y][l.x] = b[b0 + kb * p.b_rs + col * p.b_cs];
        } else {
            tb[l.y][l.x] = 0.0;
        }
        workgroupBarrier();
        for (var i = 0u; i < T; i++) {
            acc += ta[l.y][i] * tb[i][l.x];
        }
        workgroupBarrier();
    }
    if (row < p.m && col < p.n) {
        var v = p.alpha * acc;
        if (p.has_bias != 0u) {
            v += p.beta * bias[row * p.c_rs + col * p.c_cs];
        }
        out[batch * p.m * p.n + row * p.n + col] = activate(v, p.act);
    }
}

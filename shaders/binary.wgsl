// Elementwise two-input ops with numpy broadcasting: out[idx] = f(a[idx·sa], b[idx·sb]).
// The output shape and both inputs' element strides (0 on a broadcast axis) are in the uniform,
// up to rank 8. The B_* op constants are prepended at compile time from the Rust enum `BinaryFn`
// (src/backend/webgpu/ops/binary.rs).

struct Params {
    n: u32, rank: u32, op: u32, _pad: u32,
    shape: array<vec4<u32>, 2>,
    sa: array<vec4<u32>, 2>,
    sb: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// x^y with the sign rules of C's pow for a negative base and an integral exponent.
fn pow_c(x: f32, y: f32) -> f32 {
    if (y == 0.0) { return 1.0; }
    let r = pow(abs(x), y);
    if (x < 0.0) {
        // NaN, as C pow. `+ p._pad` (always 0) keeps this out of constant evaluation, where
        // Chromium's WGSL compiler rejects a NaN as a shader-creation error.
        if (floor(y) != y) { return bitcast<f32>(0x7fc00000u + p._pad); }
        if (abs(y % 2.0) == 1.0) { return -r; }
    }
    return r;
}

fn f(x: f32, y: f32) -> f32 {
    switch p.op {
        case B_ADD: { return x + y; }
        case B_SUB: { return x - y; }
        case B_MUL: { return x * y; }
        case B_DIV: { return x / y; }
        case B_POW: { return pow_c(x, y); }
        case B_MAX: { return max(x, y); }
        case B_MIN: { return min(x, y); }
        case B_PRELU: { return select(x, y * x, x < 0.0); }   // PRelu: b is the slope
        default: { return x; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i >= p.n) { return; }
    var rem = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let size = p.shape[d / 4][d % 4];
        let c = rem % size;
        rem = rem / size;
        ia += c * p.sa[d / 4][d % 4];
        ib += c * p.sb[d / 4][d % 4];
    }
    out[i] = f(a[ia], b[ib]);
}

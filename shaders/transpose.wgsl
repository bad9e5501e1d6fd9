// Transpose (any permutation, rank ≤ 8): out[idx] = x[Σ idx_d · stride_d], where stride_d is the
// input's element stride of the axis that output axis d comes from.

struct Params {
    n: u32, rank: u32, _pad0: u32, _pad1: u32,
    shape: array<vec4<u32>, 2>,   // output shape
    st: array<vec4<u32>, 2>,      // input strides, in output axis order
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + li;
    if (i >= p.n) { return; }
    var rem = i;
    var src = 0u;
    for (var d = i32(p.rank) - 1; d >= 0; d--) {
        let size = p.shape[d / 4][d % 4];
        src += (rem % size) * p.st[d / 4][d % 4];
        rem = rem / size;
    }
    out[i] = x[src];
}

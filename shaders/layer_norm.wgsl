// LayerNormalization over contiguous rows of `len` values (all axes from `axis` on):
//   y = (x − mean) / sqrt(var + eps) · scale + bias, scale and bias of `len` values each
// (already broadcast to the normalised shape). One 64-wide workgroup per row, two-pass (mean, then
// variance of the deviations, as on the CPU). Mean and 1/std of each row go to `stats`
// ([mean..., inv_std...], 2·rows values).

struct Params { rows: u32, len: u32, has_bias: u32, eps: f32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

const W: u32 = 64u;
var<workgroup> red: array<f32, 64>;

fn reduce_sum(li: u32, v: f32) -> f32 {
    red[li] = v;
    workgroupBarrier();
    for (var s = W / 2u; s > 0u; s = s / 2u) {
        if (li < s) { red[li] = red[li] + red[li + s]; }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let row = wg.y * nwg.x + wg.x;
    if (row >= p.rows) { return; }
    let base = row * p.len;
    let n = f32(p.len);
    var s = 0.0;
    for (var j = li; j < p.len; j += W) { s += x[base + j]; }
    let mean = reduce_sum(li, s) / n;
    var q = 0.0;
    for (var j = li; j < p.len; j += W) { let d = x[base + j] - mean; q += d * d; }
    let inv = 1.0 / sqrt(reduce_sum(li, q) / n + p.eps);
    for (var j = li; j < p.len; j += W) {
        var y = (x[base + j] - mean) * inv * scale[j];
        if (p.has_bias != 0u) { y += bias[j]; }
        out[base + j] = y;
    }
    if (li == 0u) {
        stats[row] = mean;
        stats[p.rows + row] = inv;
    }
}

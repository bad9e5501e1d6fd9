// Row-wise Softmax / LogSoftmax over contiguous rows of `len` values (the last axis, or the
// trailing block of opset < 13): one 64-wide workgroup per row; max and sum are tree reductions
// in workgroup memory. The max is subtracted before exp, as on the CPU.

struct Params { rows: u32, len: u32, log: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

const W: u32 = 64u;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let row = wg.y * nwg.x + wg.x;
    if (row >= p.rows) { return; } // uniform per workgroup: barriers stay in uniform control flow
    let base = row * p.len;
    // -inf; `+ p._pad` (always 0) keeps it out of constant evaluation, where Chromium's WGSL
    // compiler rejects an infinity as a shader-creation error
    var m = bitcast<f32>(0xff800000u + p._pad);
    for (var j = li; j < p.len; j += W) { m = max(m, x[base + j]); }
    red[li] = m;
    workgroupBarrier();
    for (var s = W / 2u; s > 0u; s = s / 2u) {
        if (li < s) { red[li] = max(red[li], red[li + s]); }
        workgroupBarrier();
    }
    let mx = red[0];
    workgroupBarrier();
    var sum = 0.0;
    for (var j = li; j < p.len; j += W) { sum += exp(x[base + j] - mx); }
    red[li] = sum;
    workgroupBarrier();
    for (var s = W / 2u; s > 0u; s = s / 2u) {
        if (li < s) { red[li] = red[li] + red[li + s]; }
        workgroupBarrier();
    }
    let total = red[0];
    if (p.log != 0u) {
        let shift = mx + log(total);
        for (var j = li; j < p.len; j += W) { out[base + j] = x[base + j] - shift; }
    } else {
        let inv = 1.0 / total;
        for (var j = li; j < p.len; j += W) { out[base + j] = exp(x[base + j] - mx) * inv; }
    }
}

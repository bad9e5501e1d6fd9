// Recommendation scores: one user vector against every row of an f32 item table,
// score[i] = table[i] · q (+ bias[i]), and f32::MIN for items whose bit is clear in the candidate mask
// (filters, seen items), so the top-k pass never selects them. One thread per item; a 2-D grid
// of 64-wide workgroups covers tables beyond 65,535 × 64 items.

struct Params { n: u32, d: u32, has_bias: u32, has_mask: u32 }

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * (nwg.x * 64u) + gid.x;
    if (i >= p.n) { return; }
    if (p.has_mask != 0u && ((mask[i / 32u] >> (i % 32u)) & 1u) == 0u) {
        scores[i] = bitcast<f32>(0xff7fffffu); // f32::MIN, exactly (Chromium rejects inf constants, and Tint a decimal literal that rounds to it)
        return;
    }
    let base = i * p.d;
    var s = 0.0;
    for (var k = 0u; k < p.d; k += 1u) { s += table[base + k] * q[k]; }
    if (p.has_bias != 0u) { s += bias[i]; }
    scores[i] = s;
}

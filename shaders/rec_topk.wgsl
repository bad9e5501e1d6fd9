// One round of top-k selection: each 256-wide workgroup takes a chunk of 256 × 8 candidates
// (score, item index) and writes its best k (k ≤ 64) in order, by k rounds of a workgroup argmax;
// higher score wins, equal scores go to the smaller item index, as on the CPU. The host repeats
// rounds over the previous round's output until one workgroup remains, and reads back only its
// k results. On the first round `idx` is unused (has_idx = 0): the position is the item index.

struct Params { n: u32, k: u32, has_idx: u32, _pad: u32 } // TopkParams in src/recommend/gpu.rs

@group(0) @binding(0) var<storage, read> vals: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> out_vals: array<f32>;
@group(0) @binding(3) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

const W: u32 = 256u;
const PER: u32 = 8u;
var<workgroup> rv: array<f32, 256>;
var<workgroup> ri: array<u32, 256>;

// (a, ia) ranks before (b, ib)
fn better(a: f32, ia: u32, b: f32, ib: u32) -> bool {
    return a > b || (a == b && ia < ib);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let group = wg.y * nwg.x + wg.x;
    let start = group * W * PER;
    if (start >= p.n) { return; } // uniform per workgroup
    let none = bitcast<f32>(0xff7fffffu); // f32::MIN, exactly (Chromium rejects inf constants, and Tint a decimal literal that rounds to it)
    var v: array<f32, 8>;
    var id: array<u32, 8>;
    for (var j = 0u; j < PER; j += 1u) {
        let pos = start + j * W + li;
        if (pos < p.n) {
            v[j] = vals[pos];
            id[j] = select(pos, idx[pos], p.has_idx != 0u);
        } else {
            v[j] = none;
            id[j] = 0xffffffffu;
        }
    }
    for (var r = 0u; r < p.k; r += 1u) {
        // this thread's best remaining candidate
        var bv = none;
        var bi = 0xffffffffu;
        for (var j = 0u; j < PER; j += 1u) {
            if (id[j] != 0xffffffffu && (bi == 0xffffffffu || better(v[j], id[j], bv, bi))) {
                bv = v[j];
                bi = id[j];
            }
        }
        rv[li] = bv;
        ri[li] = bi;
        workgroupBarrier();
        for (var s = W / 2u; s > 0u; s = s / 2u) {
            if (li < s) {
                let ov = rv[li + s];
                let oi = ri[li + s];
                if (oi != 0xffffffffu && (ri[li] == 0xffffffffu || better(ov, oi, rv[li], ri[li]))) {
                    rv[li] = ov;
                    ri[li] = oi;
                }
            }
            workgroupBarrier();
        }
        let wv = rv[0];
        let wi = ri[0];
        if (li == 0u) {
            out_vals[group * p.k + r] = wv;
            out_idx[group * p.k + r] = wi;
        }
        // the owner drops the winner from its candidates
        for (var j = 0u; j < PER; j += 1u) {
            if (id[j] == wi && wi != 0xffffffffu) { id[j] = 0xffffffffu; }
        }
        workgroupBarrier();
    }
}

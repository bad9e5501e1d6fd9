// C = A·B for row-major A (m×k), B (k×n); one invocation per output element.
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: vec4<u32>; // m, k, n, unused

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let m = dims.x; let k = dims.y; let n = dims.z;
    if (id.x >= n || id.y >= m) { return; }
    var acc = 0.0;
    for (var i = 0u; i < k; i++) { acc += a[id.y * k + i] * b[i * n + id.x]; }
    c[id.y * n + id.x] = acc;
}

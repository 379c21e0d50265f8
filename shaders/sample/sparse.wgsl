// sparse(sparsity, std): zeroes, in every column of a rows x cols matrix already holding
// normal(0, std), the k rows with the smallest (row key, row). Prepended with philox.wgsl; the
// Rust twin and the contract are in src/sparse.rs.

struct SparseParams {
    key: vec2<u32>,     // Philox key (seed)
    stream: vec2<u32>,  // stream
    rows: u32,
    cols: u32,
    zeros: u32,         // k = ceil(sparsity * rows)
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: SparseParams;
@group(0) @binding(1) var<storage, read_write> row_keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;

// Row key of element i: word i % 4 of block 2^63 + i / 4 (i < 2^32 here).
@compute @workgroup_size(256)
fn write_row_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = params.rows * params.cols;
    for (var i = gid.x; i < n; i += groups.x * 256u) {
        let words = philox4x32_10(vec4<u32>(i / 4u, 0x80000000u, params.stream), params.key);
        row_keys[i] = words[i % 4u];
    }
}

// Zeroes element i when fewer than k rows of its column come before it in (key, row) order.
@compute @workgroup_size(256)
fn zero_smallest_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = params.rows * params.cols;
    for (var i = gid.x; i < n; i += groups.x * 256u) {
        let row = i / params.cols;
        let col = i % params.cols;
        let key = row_keys[i];
        var before = 0u;
        for (var other = 0u; other < params.rows && before < params.zeros; other++) {
            let other_key = row_keys[other * params.cols + col];
            if other_key < key || (other_key == key && other < row) {
                before++;
            }
        }
        if before < params.zeros {
            values[i] = 0.0;
        }
    }
}

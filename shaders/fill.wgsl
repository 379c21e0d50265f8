// Fills a window of a storage buffer with elements of one tensor. Prepended with philox.wgsl and
// math.wgsl.
// The Rust twins of the samplers are in src/sampler.rs and src/stream.rs: same arithmetic, same
// order. WGSL lets an implementation fuse `a * b + c` (and lavapipe splits `fma` into two roundings),
// so every formula is arranged to give the same bits fused or not where it matters.

// Which sampler this pipeline draws (numbered as KernelDist in src/sampler.rs):
// 0 raw words, 1 uniform, 2 normal (Box-Muller), 3 constant.
override DIST: u32;
const WORKGROUP_SIZE: u32 = 256u;

struct FillParams {
    key: vec2<u32>,         // Philox key: the seed's low and high words
    stream: vec2<u32>,      // counter words 2 and 3: the stream's low and high words
    first_block: vec2<u32>, // global index (lo, hi) of the block holding the window's first element
    first_lane: u32,        // that element's position in its block (index % 4)
    count: u32,             // elements in this window
    dst_offset: u32,        // index in `dst` of the window's first element
    // uniform: (centre, half width, low, high); normal: (mean, std, -, -); constant: (value, -, -, -)
    p: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: FillParams;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;

const TWO_POW_M24: f32 = 5.9604644775390625e-8;
const TWO_POW_M23: f32 = 1.1920928955078125e-7;

// [-1, 1): (w >> 8) * 2^-23 - 1, exact.
fn signed_unit(w: vec4<u32>) -> vec4<f32> {
    return vec4<f32>(w >> vec4<u32>(8u)) * TWO_POW_M23 - vec4<f32>(1.0);
}

fn uniform_block(words: vec4<u32>) -> vec4<f32> {
    let value = vec4<f32>(params.p.x) + vec4<f32>(params.p.y) * signed_unit(words);
    return clamp(value, vec4<f32>(params.p.z), vec4<f32>(params.p.w));
}

fn normal_block(words: vec4<u32>) -> vec4<f32> {
    // (0, 1] radius uniforms from words 0 and 2, [-1, 1) angle fractions from words 1 and 3.
    let radius_u = vec2<f32>(vec2<u32>(words.x >> 8u, words.z >> 8u) + vec2<u32>(1u)) * TWO_POW_M24;
    let angle_t = vec2<f32>(vec2<u32>(words.y >> 8u, words.w >> 8u)) * TWO_POW_M23 - vec2<f32>(1.0);
    let r = sqrt(-2.0 * vec2<f32>(ln_unit(radius_u.x), ln_unit(radius_u.y)));
    let sc0 = sin_cos_pi(angle_t.x);
    let sc1 = sin_cos_pi(angle_t.y);
    let z = vec4<f32>(r.x * sc0.y, r.x * sc0.x, r.y * sc1.y, r.y * sc1.x);
    return vec4<f32>(params.p.x) + vec4<f32>(params.p.y) * z;
}

fn block_bits(words: vec4<u32>) -> vec4<u32> {
    switch DIST {
        case 0u: { return words; }
        case 1u: { return bitcast<vec4<u32>>(uniform_block(words)); }
        case 2u: { return bitcast<vec4<u32>>(normal_block(words)); }
        default: { return vec4<u32>(bitcast<u32>(params.p.x)); }
    }
}

// 64-bit (lo, hi) plus a 32-bit offset.
fn add_u64(a: vec2<u32>, b: u32) -> vec2<u32> {
    let lo = a.x + b;
    return vec2<u32>(lo, a.y + select(0u, 1u, lo < b));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n_blocks = (params.first_lane + params.count + 3u) / 4u;
    let stride = groups.x * WORKGROUP_SIZE;
    // Grid-stride loop: the dispatch size never changes which values land where.
    for (var j = gid.x; j < n_blocks; j += stride) {
        let block = add_u64(params.first_block, j);
        let bits = block_bits(philox4x32_10(vec4<u32>(block, params.stream), params.key));
        for (var lane = 0u; lane < 4u; lane++) {
            // Window-local index of this lane's element; lanes outside the window are skipped.
            let local = 4u * j + lane - params.first_lane;
            if 4u * j + lane >= params.first_lane && local < params.count {
                dst[params.dst_offset + local] = bits[lane];
            }
        }
    }
}

// Fills a window of a storage buffer with elements of one tensor. Prepended with philox.wgsl and
// math.wgsl.
// The Rust twins of the samplers are in src/sampler.rs and src/stream.rs: same arithmetic, same
// order. WGSL lets an implementation fuse `a * b + c` (and lavapipe splits `fma` into two roundings),
// so every formula is arranged to give the same bits fused or not where it matters.

// Which sampler this pipeline draws (numbered as KernelDist in src/sampler.rs):
// 0 raw words, 1 uniform, 2 normal (Box-Muller), 3 constant, 4 truncated normal.
override DIST: u32;
// The 16-bit format `fill16` writes: 1 f16, 2 bf16 (`fill` always writes 32-bit words).
override DTYPE: u32 = 1u;
// true: the window is whole pairs of blocks (first_lane 0, count a multiple of 8) landing on an
// 8-element boundary of the destination (dst_offset a multiple of 8), so each invocation draws
// two neighbouring blocks and stores them with one 32-byte (f32) or 16-byte (16-bit) store
// through `dst_pairs` / `dst16_pairs`. The host splits a window into such an interior and at most
// two partial pieces of fewer than 8 elements (false: element by element). A software adapter
// runs both sides of a branch and stores lane by lane, one loop over the lanes per store, so this
// variant, with no per-element branch and one store per two blocks, is most of the speed of a
// cheap fill there.
override WHOLE_BLOCKS: bool = false;
const WORKGROUP_SIZE: u32 = 256u;

// Mirrored by FillParams in src/gpu/kernels.rs (uniform buffer layout, 96 bytes; one such record
// per window at 256-byte aligned dynamic offsets of one uniform buffer).
struct FillParams {
    key: vec2<u32>,         // Philox key: the seed's low and high words
    stream: vec2<u32>,      // counter words 2 and 3: the stream's low and high words
    first_block: vec2<u32>, // global index (lo, hi) of the block holding the window's first element
    first_lane: u32,        // that element's position in its block (index % 4)
    count: u32,             // elements in this window
    dst_offset: u32,        // index in `dst` (32-bit words) or `dst16` (halves) of that element
    split: u32,             // truncated normal: k < split draws from the lower tail
    step: f32,              // truncated normal: probability step d = mass * 2^-24
    zero: u32,              // always 0: see `opaque`
    // uniform: (centre, half width, low, high); normal: (mean, std, -, -); constant: (value, -, -, -);
    // truncated normal: (mean, std, low, high). Bounds already rounded inwards for 16-bit output.
    p: vec4<f32>,
    // truncated normal: (c_lo, c_hi, c_lo - 1/2, c_hi - 1/2)
    q: vec4<f32>,
    // A box of `count`-element rows, one per workgroup row (workgroup_id.y): row r starts
    // `r * row_stride` elements after the window's first element and lands `r * count` after
    // its destination. One row (a contiguous window) has row_stride 0.
    row_stride: u32,
}

@group(0) @binding(0) var<uniform> params: FillParams;
// 32-bit output (`fill`).
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
// 16-bit output (`fill16`): two elements per word; a word shared with another invocation or
// with bytes outside the fill is updated half by half with atomics.
@group(0) @binding(2) var<storage, read_write> dst16: array<atomic<u32>>;
// The same bytes as `dst` (binding 3) or `dst16` (binding 4), for the WHOLE_BLOCKS variant: one
// element per pair of blocks. FillKernels replaces the text between the markers by
// pair_stores_int64.wgsl on devices with SHADER_INT64: there the pair is stored as 64-bit
// words, half as many stores for llvmpipe (which stores each lane's components one by one).
// BEGIN pair stores
@group(0) @binding(3) var<storage, read_write> dst_pairs: array<array<vec4<u32>, 2>>;
@group(0) @binding(4) var<storage, read_write> dst16_pairs: array<vec4<u32>>;

fn store_pair(index: u32, a: vec4<u32>, b: vec4<u32>) {
    dst_pairs[index] = array<vec4<u32>, 2>(a, b);
}

fn store_pair16(index: u32, a: vec2<u32>, b: vec2<u32>) {
    dst16_pairs[index] = vec4<u32>(a, b);
}
// END pair stores

// `x` unchanged, in a form no compiler can see through (an exclusive or with a uniform that is
// always 0). Shader compilers may rewrite float expressions inexactly: lavapipe (Mesa 22.3)
// rewrites the polynomial of `ln_unit` in `f - 1.0` so that 15% of its results were 1 ulp off the
// operation-by-operation value. math.wgsl puts `opaque` on that argument; the Rust twins need
// nothing.
fn opaque(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ params.zero);
}

const TWO_POW_M24: f32 = 5.9604644775390625e-8;
const TWO_POW_M23: f32 = 1.1920928955078125e-7;

// Integers below 2^24 become f32 exactly through i32 either way; the signed conversion is one
// instruction on x86 (llvmpipe), the unsigned one a sequence.
// [-1, 1): (w >> 8) * 2^-23 - 1, exact.
fn signed_unit(w: vec4<u32>) -> vec4<f32> {
    return vec4<f32>(vec4<i32>(w >> vec4<u32>(8u))) * TWO_POW_M23 - vec4<f32>(1.0);
}

fn uniform_block(words: vec4<u32>) -> vec4<f32> {
    let value = vec4<f32>(params.p.x) + vec4<f32>(params.p.y) * signed_unit(words);
    return clamp(value, vec4<f32>(params.p.z), vec4<f32>(params.p.w));
}

fn normal_block(words: vec4<u32>) -> vec4<f32> {
    // (0, 1] radius uniforms from words 0 and 2, [-1, 1) angle fractions from words 1 and 3.
    let radius_u = vec2<f32>(vec2<i32>(vec2<u32>(words.x >> 8u, words.z >> 8u) + vec2<u32>(1u)))
        * TWO_POW_M24;
    let angle_t = vec2<f32>(vec2<i32>(vec2<u32>(words.y >> 8u, words.w >> 8u))) * TWO_POW_M23
        - vec2<f32>(1.0);
    let r = sqrt(-2.0 * vec2<f32>(ln_unit(radius_u.x), ln_unit(radius_u.y)));
    let sc0 = sin_cos_pi(angle_t.x);
    let sc1 = sin_cos_pi(angle_t.y);
    let z = vec4<f32>(r.x * sc0.y, r.x * sc0.x, r.y * sc1.y, r.y * sc1.x);
    return vec4<f32>(params.p.x) + vec4<f32>(params.p.y) * z;
}

// Standard-units z of one truncated-normal word: the point (k + 1/2) * step into the interval,
// from the lower tail for k < split, else from the upper tail (then negated).
fn trunc_normal_z(word: u32) -> f32 {
    let k = word >> 8u;
    let upper = k >= params.split;
    let base = select(params.q.x, params.q.y, upper);
    let base_q = select(params.q.z, params.q.w, upper);
    let offset = f32(i32(select(k, 0xffffffu - k, upper))) * params.step;
    let z = probit(base + offset, base_q + offset);
    return select(z, -z, upper);
}

fn trunc_normal_block(words: vec4<u32>) -> vec4<f32> {
    let z = vec4<f32>(trunc_normal_z(words.x), trunc_normal_z(words.y), trunc_normal_z(words.z),
        trunc_normal_z(words.w));
    let value = vec4<f32>(params.p.x) + vec4<f32>(params.p.y) * z;
    return clamp(value, vec4<f32>(params.p.z), vec4<f32>(params.p.w));
}

fn block_values(words: vec4<u32>) -> vec4<f32> {
    switch DIST {
        case 1u: { return uniform_block(words); }
        case 2u: { return normal_block(words); }
        case 4u: { return trunc_normal_block(words); }
        case 5u: { return vec4<f32>(words); }
        default: { return vec4<f32>(params.p.x); }
    }
}

// The words of block j of a row whose first block is `first_block`: Philox of its counter, or
// for the index fill (DIST 5, the stores' ceiling, no randomness) the tensor indices of its four
// elements (mod 2^32).
fn block_words(first_block: vec2<u32>, j: u32) -> vec4<u32> {
    if DIST == 5u {
        let first = 4u * (first_block.x + j);
        return vec4<u32>(first, first + 1u, first + 2u, first + 3u);
    }
    return philox4x32_10(vec4<u32>(add_u64(first_block, j), params.stream), params.key);
}

// Row `row` of the window: its first block, its first element's lane in that block, and its
// destination index. The host keeps first_lane + row * row_stride below 2^32.
struct Row {
    first_block: vec2<u32>,
    first_lane: u32,
    dst_offset: u32,
}

fn window_row(row: u32) -> Row {
    let start = params.first_lane + row * params.row_stride;
    return Row(add_u64(params.first_block, start >> 2u), start & 3u,
        params.dst_offset + row * params.count);
}

fn block_bits(words: vec4<u32>) -> vec4<u32> {
    if DIST == 0u {
        return words;
    }
    return bitcast<vec4<u32>>(block_values(words));
}

// IEEE binary16 bits of x, rounded to nearest-even with subnormals and overflow to infinity; the
// Rust twin is nninit::math::f16_bits (tested against the `half` crate on every f32).
fn f16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sign = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    let normal = min(((a - 0x38000000u) + 0x0fffu + ((a >> 13u) & 1u)) >> 13u, 0x7c00u);
    let e = a >> 23u;
    let m = (a & 0x007fffffu) | 0x00800000u;
    let shift = min(126u - min(e, 112u), 25u);
    let r = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let tie = 1u << (shift - 1u);
    let sub = r + select(0u, 1u, rem > tie || (rem == tie && (r & 1u) == 1u));
    let nan_inf = 0x7c00u | select(0u, 0x0200u | ((a >> 13u) & 0x3ffu), a > 0x7f800000u);
    return sign | select(select(normal, sub, a < 0x38800000u), nan_inf, a >= 0x7f800000u);
}

// bfloat16 bits of x, rounded to nearest-even; the Rust twin is nninit::math::bf16_bits.
fn bf16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let rounded = (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
    return select(rounded, (b >> 16u) | 0x40u, (b & 0x7fffffffu) > 0x7f800000u);
}

fn half_bits(v: vec4<f32>) -> vec4<u32> {
    if DTYPE == 2u {
        return vec4<u32>(bf16_bits(v.x), bf16_bits(v.y), bf16_bits(v.z), bf16_bits(v.w));
    }
    return vec4<u32>(f16_bits(v.x), f16_bits(v.y), f16_bits(v.z), f16_bits(v.w));
}

// 64-bit (lo, hi) plus a 32-bit offset.
fn add_u64(a: vec2<u32>, b: u32) -> vec2<u32> {
    let lo = a.x + b;
    return vec2<u32>(lo, a.y + select(0u, 1u, lo < b));
}

// Blocks per workgroup: the window's blocks split into one contiguous span per workgroup, a
// multiple of twice the workgroup size (the WHOLE_BLOCKS loop takes two blocks per invocation
// and pass). Workgroup g walks blocks [g·span, (g+1)·span), each pass one contiguous run of
// memory, and the host may dispatch fewer workgroups than blocks / WORKGROUP_SIZE (a software
// adapter pays per workgroup; each invocation then loops). The dispatch size never changes which
// values land where: block j is always block j.
fn group_span(n_blocks: u32, groups: u32) -> u32 {
    let unit = 2u * WORKGROUP_SIZE;
    return (n_blocks + groups * unit - 1u) / (groups * unit) * unit;
}

// The walk over the blocks of a window, shared by both entry points. Block j covers lane-space
// positions 4j .. 4j+4; position x holds window element x - first_lane, for x in
// [first_lane, first_lane + count).
@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_id: u32,
        @builtin(num_workgroups) groups: vec3<u32>) {
    let row = window_row(group.y);
    let end = row.first_lane + params.count;
    let n_blocks = (end + 3u) / 4u;
    let span = group_span(n_blocks, groups.x);
    let last = min(span * (group.x + 1u), n_blocks);
    if WHOLE_BLOCKS {
        // Blocks j and j + 1 (j even; the window holds whole pairs): independent work for the
        // CPU or GPU to overlap, and one store.
        for (var j = span * group.x + 2u * local_id; j < last; j += 2u * WORKGROUP_SIZE) {
            let bits = block_bits(block_words(row.first_block, j));
            let bits2 = block_bits(block_words(row.first_block, j + 1u));
            store_pair((row.dst_offset >> 3u) + (j >> 1u), bits, bits2);
        }
        return;
    }
    for (var j = span * group.x + local_id; j < last; j += WORKGROUP_SIZE) {
        let bits = block_bits(block_words(row.first_block, j));
        let start = 4u * j;
        // Lanes outside the window are skipped.
        for (var lane = 0u; lane < 4u; lane++) {
            let x = start + lane;
            if x >= row.first_lane && x < end {
                dst[row.dst_offset + x - row.first_lane] = bits[lane];
            }
        }
    }
}

// The same walk for 16-bit output: element `local` of the window is half `dst_offset + local`
// of `dst16` (the low half of a word first). WHOLE_BLOCKS: each pair of blocks is one 16-byte
// store; otherwise two halves of one word written by this block are stored together, and a lone
// half (a word shared with the neighbouring block, or with bytes outside the fill) is cleared and
// set with atomicAnd/atomicOr, which never touch the other half.
@compute @workgroup_size(WORKGROUP_SIZE)
fn fill16(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local_id: u32,
          @builtin(num_workgroups) groups: vec3<u32>) {
    let row = window_row(group.y);
    let end = row.first_lane + params.count;
    let n_blocks = (end + 3u) / 4u;
    let span = group_span(n_blocks, groups.x);
    let last = min(span * (group.x + 1u), n_blocks);
    if WHOLE_BLOCKS {
        for (var j = span * group.x + 2u * local_id; j < last; j += 2u * WORKGROUP_SIZE) {
            let h = half_bits(block_values(block_words(row.first_block, j)));
            let h2 = half_bits(block_values(block_words(row.first_block, j + 1u)));
            store_pair16((row.dst_offset >> 3u) + (j >> 1u),
                vec2<u32>(h.x | (h.y << 16u), h.z | (h.w << 16u)),
                vec2<u32>(h2.x | (h2.y << 16u), h2.z | (h2.w << 16u)));
        }
        return;
    }
    for (var j = span * group.x + local_id; j < last; j += WORKGROUP_SIZE) {
        let halves = half_bits(block_values(block_words(row.first_block, j)));
        let start = 4u * j;
        var lane = 0u;
        while lane < 4u {
            let x = start + lane;
            if x >= row.first_lane && x < end {
                let local = x - row.first_lane;
                let h = row.dst_offset + local;
                let word = h >> 1u;
                if (h & 1u) == 0u && lane < 3u && local + 1u < params.count {
                    atomicStore(&dst16[word], halves[lane] | (halves[lane + 1u] << 16u));
                    lane += 2u;
                    continue;
                }
                let shift = (h & 1u) * 16u;
                atomicAnd(&dst16[word], ~(0xffffu << shift));
                atomicOr(&dst16[word], halves[lane] << shift);
            }
            lane += 1u;
        }
    }
}

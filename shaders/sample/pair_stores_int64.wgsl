// The WHOLE_BLOCKS stores of fill.wgsl as 64-bit words, for devices with wgpu::Features::SHADER_INT64:
// a pair of f32 blocks is one vec4<u64> (4 components instead of 8), a pair of 16-bit blocks one
// vec2<u64>. Little-endian like every wgpu backend: the lower-addressed word is the low half.
@group(0) @binding(3) var<storage, read_write> dst_pairs: array<vec4<u64>>;
@group(0) @binding(4) var<storage, read_write> dst16_pairs: array<vec2<u64>>;

fn words_u64(lo: u32, hi: u32) -> u64 {
    return u64(lo) | (u64(hi) << 32u);
}

fn store_pair(index: u32, a: vec4<u32>, b: vec4<u32>) {
    dst_pairs[index] = vec4<u64>(words_u64(a.x, a.y), words_u64(a.z, a.w), words_u64(b.x, b.y),
        words_u64(b.z, b.w));
}

fn store_pair16(index: u32, a: vec2<u32>, b: vec2<u32>) {
    dst16_pairs[index] = vec2<u64>(words_u64(a.x, a.y), words_u64(b.x, b.y));
}

// Philox4x32-10, exactly as Random123's philox.h. The Rust twin is src/philox.rs, with the same
// names; both answer to tests/data/philox4x32_kat.txt.

const PHILOX_M4X32_0: u32 = 0xD2511F53u;
const PHILOX_M4X32_1: u32 = 0xCD9E8D57u;
const PHILOX_W32_0: u32 = 0x9E3779B9u;
const PHILOX_W32_1: u32 = 0xBB67AE85u;

// The 64-bit product a * b as (low, high) 32-bit halves. WGSL has no 64-bit integers and no
// mul-hi, so the high half is built from 16-bit limbs.
// FillKernels replaces the text between the markers by mul_wide_int64.wgsl (one u64 multiply) on
// devices with SHADER_INT64; both answer to the Philox known-answer vectors.
// BEGIN mul_wide
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    // Hacker's Delight's mulhu: every partial sum below fits in 32 bits.
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let t = a_hi * b_lo + ((a_lo * b_lo) >> 16u);
    let u = a_lo * b_hi + (t & 0xFFFFu);
    return vec2<u32>(a * b, a_hi * b_hi + (t >> 16u) + (u >> 16u));
}
// END mul_wide

fn philox4x32_round(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    // (low, high) halves of the two 64-bit products.
    let p0 = mul_wide(PHILOX_M4X32_0, ctr.x);
    let p1 = mul_wide(PHILOX_M4X32_1, ctr.z);
    return vec4<u32>(p1.y ^ ctr.y ^ key.x, p1.x, p0.y ^ ctr.w ^ key.y, p0.x);
}

fn philox4x32_bumpkey(key: vec2<u32>) -> vec2<u32> {
    return key + vec2<u32>(PHILOX_W32_0, PHILOX_W32_1);
}

// Ten rounds written out (round i uses key + i·W): no loop for a shader compiler to keep.
fn philox4x32_10(ctr_in: vec4<u32>, key_in: vec2<u32>) -> vec4<u32> {
    let w = vec2<u32>(PHILOX_W32_0, PHILOX_W32_1);
    var ctr = philox4x32_round(ctr_in, key_in);
    ctr = philox4x32_round(ctr, key_in + w);
    ctr = philox4x32_round(ctr, key_in + 2u * w);
    ctr = philox4x32_round(ctr, key_in + 3u * w);
    ctr = philox4x32_round(ctr, key_in + 4u * w);
    ctr = philox4x32_round(ctr, key_in + 5u * w);
    ctr = philox4x32_round(ctr, key_in + 6u * w);
    ctr = philox4x32_round(ctr, key_in + 7u * w);
    ctr = philox4x32_round(ctr, key_in + 8u * w);
    return philox4x32_round(ctr, key_in + 9u * w);
}

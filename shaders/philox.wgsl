// Philox4x32-10, exactly as Random123's philox.h. The Rust twin is src/philox.rs, with the same
// names; both answer to tests/data/philox4x32_kat.txt. WGSL has no 64-bit integers, so the high
// half of each 32x32 product is built from 16-bit limbs.

const PHILOX_M4X32_0: u32 = 0xD2511F53u;
const PHILOX_M4X32_1: u32 = 0xCD9E8D57u;
const PHILOX_W32_0: u32 = 0x9E3779B9u;
const PHILOX_W32_1: u32 = 0xBB67AE85u;

// High 32 bits of the 64-bit product a * b, exact (every partial sum fits in 32 bits).
fn mulhi32(a: u32, b: u32) -> u32 {
    let a_lo = a & 0xFFFFu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xFFFFu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_lo = a_hi * b_lo;
    let middle = (lo_lo >> 16u) + (lo_hi & 0xFFFFu) + (hi_lo & 0xFFFFu);
    return a_hi * b_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + (middle >> 16u);
}

fn philox4x32_round(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    let hi0 = mulhi32(PHILOX_M4X32_0, ctr.x);
    let lo0 = PHILOX_M4X32_0 * ctr.x;
    let hi1 = mulhi32(PHILOX_M4X32_1, ctr.z);
    let lo1 = PHILOX_M4X32_1 * ctr.z;
    return vec4<u32>(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
}

fn philox4x32_bumpkey(key: vec2<u32>) -> vec2<u32> {
    return key + vec2<u32>(PHILOX_W32_0, PHILOX_W32_1);
}

fn philox4x32_10(ctr_in: vec4<u32>, key_in: vec2<u32>) -> vec4<u32> {
    var ctr = philox4x32_round(ctr_in, key_in);
    var key = key_in;
    for (var round = 1u; round < 10u; round++) {
        key = philox4x32_bumpkey(key);
        ctr = philox4x32_round(ctr, key);
    }
    return ctr;
}

// The 64-bit product a * b as (low, high) 32-bit halves, with one u64 multiply: for devices with
// wgpu::Features::SHADER_INT64 (on x86 llvmpipe one vpmuludq). The twin of mul_wide_limbs.wgsl.
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
    let p = u64(a) * u64(b);
    return vec2<u32>(u32(p & 0xFFFFFFFFlu), u32(p >> 32u));
}

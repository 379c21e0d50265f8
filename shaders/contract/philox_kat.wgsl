// Runs philox4x32_10 on arbitrary (counter, key) pairs, so the GPU answers to the known-answer
// vectors directly. Prepended with philox.wgsl.

struct PhiloxInput {
    ctr: vec4<u32>,
    key: vec2<u32>,
    _pad: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> inputs: array<PhiloxInput>;
@group(0) @binding(1) var<storage, read_write> outputs: array<vec4<u32>>;

@compute @workgroup_size(64)
fn philox_kat(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x < arrayLength(&inputs) {
        let input = inputs[gid.x];
        outputs[gid.x] = philox4x32_10(input.ctr, input.key);
    }
}

// Portable f32 elementary functions; the Rust twin is src/math.rs (same coefficients, same
// operation order). Coefficients are written as exact decimal expansions of their f32 values.

// ln(1 + x)/x in powers of x, highest first.
const LN1P_C9: f32 = -0.074511863291263580322265625;
const LN1P_C8: f32 = 0.12806610763072967529296875;
const LN1P_C7: f32 = -0.13266031444072723388671875;
const LN1P_C6: f32 = 0.14199650287628173828125;
const LN1P_C5: f32 = -0.16608369350433349609375;
const LN1P_C4: f32 = 0.20000939071178436279296875;
const LN1P_C3: f32 = -0.250015795230865478515625;
const LN1P_C2: f32 = 0.3333334624767303466796875;
const LN1P_C1: f32 = -0.49999988079071044921875;
const LN1P_C0: f32 = 1.0;
// sin(pi c)/c and cos(pi c) in powers of c^2.
const SIN_PI_C3: f32 = -0.5890750885009765625;
const SIN_PI_C2: f32 = 2.549767017364501953125;
const SIN_PI_C1: f32 = -5.167707920074462890625;
const SIN_PI_C0: f32 = 3.1415927410125732421875;
const COS_PI_C4: f32 = 0.231328785419464111328125;
const COS_PI_C3: f32 = -1.33504450321197509765625;
const COS_PI_C2: f32 = 4.05870723724365234375;
const COS_PI_C1: f32 = -4.93480205535888671875;
const COS_PI_C0: f32 = 1.0;
const SQRT_2: f32 = 1.41421353816986083984375;
const LN_2: f32 = 0.693147182464599609375;

// Natural logarithm of a positive normal f32: u = 2^e * f with f in [sqrt(1/2), sqrt(2)).
fn ln_unit(u: f32) -> f32 {
    let bits = bitcast<u32>(u);
    let mantissa = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    let exponent = i32((bits >> 23u) & 0xffu) - 127;
    let high = mantissa > SQRT_2;
    let f = select(mantissa, mantissa * 0.5, high);
    let e = select(exponent, exponent + 1, high);
    let x = f - 1.0;
    var p = LN1P_C9;
    p = p * x + LN1P_C8;
    p = p * x + LN1P_C7;
    p = p * x + LN1P_C6;
    p = p * x + LN1P_C5;
    p = p * x + LN1P_C4;
    p = p * x + LN1P_C3;
    p = p * x + LN1P_C2;
    p = p * x + LN1P_C1;
    p = p * x + LN1P_C0;
    return f32(e) * LN_2 + x * p;
}

// (sin(pi t), cos(pi t)) for t in [-1, 1], by exact reflections to [0, 1/4].
fn sin_cos_pi(t: f32) -> vec2<f32> {
    let a = abs(t);
    let reflect = a > 0.5;
    let b = select(a, 1.0 - a, reflect);
    let swap = b > 0.25;
    let c = select(b, 0.5 - b, swap);
    let c2 = c * c;
    var s = SIN_PI_C3;
    s = s * c2 + SIN_PI_C2;
    s = s * c2 + SIN_PI_C1;
    s = s * c2 + SIN_PI_C0;
    let sin_c = c * s;
    var k = COS_PI_C4;
    k = k * c2 + COS_PI_C3;
    k = k * c2 + COS_PI_C2;
    k = k * c2 + COS_PI_C1;
    let cos_c = k * c2 + COS_PI_C0;
    let sin_b = select(sin_c, cos_c, swap);
    let cos_b = select(cos_c, sin_c, swap);
    return vec2<f32>(select(sin_b, -sin_b, t < 0.0), select(cos_b, -cos_b, reflect));
}

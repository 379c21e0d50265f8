// Portable f32 elementary functions; the Rust twin is src/math.rs (same coefficients, same
// operation order). Coefficients are written as exact decimal expansions of their f32 values.
// `opaque(x)` (x unchanged, hidden from the compiler's algebra) is defined by the shader this is
// prepended to (fill.wgsl), from a uniform that is always zero.

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
    // opaque: lavapipe rewrites this polynomial inexactly when it can see x = f - 1.
    let x = opaque(f - 1.0);
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

// Normal quantile: three degree-9 pieces (src/math.rs PROBIT_COEFFS): C central in w - 2,
// N near tail in sqrt(w) - 3, F far tail in sqrt(w) - 6.65. Highest power first.
const PROBIT_C9: f32 = -0.0000000138614932865266382577829062938690185546875;
const PROBIT_C8: f32 = 0.00000009247518306665369891561567783355712890625;
const PROBIT_C7: f32 = 0.0000004299891998016391880810260772705078125;
const PROBIT_C6: f32 = -0.000006873831807752139866352081298828125;
const PROBIT_C5: f32 = 0.000010756333722383715212345123291015625;
const PROBIT_C4: f32 = 0.00030535311088897287845611572265625;
const PROBIT_C3: f32 = -0.002393086440861225128173828125;
const PROBIT_C2: f32 = -0.00278336065821349620819091796875;
const PROBIT_C1: f32 = 0.353225409984588623046875;
const PROBIT_C0: f32 = 1.9476764202117919921875;
const PROBIT_N9: f32 = -0.000003613411308833747170865535736083984375;
const PROBIT_N8: f32 = -0.000021893598386668600142002105712890625;
const PROBIT_N7: f32 = 0.0000868562492541968822479248046875;
const PROBIT_N6: f32 = -0.0000624879539827816188335418701171875;
const PROBIT_N5: f32 = -0.000316832796670496463775634765625;
const PROBIT_N4: f32 = 0.0016194838099181652069091796875;
const PROBIT_N3: f32 = -0.0048711509443819522857666015625;
const PROBIT_N2: f32 = 0.00967796146869659423828125;
const PROBIT_N1: f32 = 1.41797864437103271484375;
const PROBIT_N0: f32 = 4.006186962127685546875;
const PROBIT_F9: f32 = -0.000000005610846898207455524243414402008056640625;
const PROBIT_F8: f32 = 0.000000031453058824126856052316725254058837890625;
const PROBIT_F7: f32 = -0.00000009802671030456622247584164142608642578125;
const PROBIT_F6: f32 = 0.00000060509938748509739525616168975830078125;
const PROBIT_F5: f32 = -0.000003540668103596544824540615081787109375;
const PROBIT_F4: f32 = 0.0000137120778163080103695392608642578125;
const PROBIT_F3: f32 = -0.00000619029742665588855743408203125;
const PROBIT_F2: f32 = -0.0007271253853105008602142333984375;
const PROBIT_F1: f32 = 1.4268786907196044921875;
const PROBIT_F0: f32 = 9.21494293212890625;
const PROBIT_FAR_CENTRE: f32 = 6.650000095367431640625;

// Phi^-1(p) for a lower-tail probability p in [2^-125, 1/2], with q = p - 1/2 computed
// independently (precision next to the median). w = -ln(4p(1 - p)).
fn probit(p: f32, q: f32) -> f32 {
    let w = -ln_unit((4.0 * p) * (1.0 - p));
    let s = sqrt(w);
    let central = w < 4.0;
    let near = s < 4.0;
    let t = select(select(s - PROBIT_FAR_CENTRE, s - 3.0, near), w - 2.0, central);
    var c = select(select(PROBIT_F9, PROBIT_N9, near), PROBIT_C9, central);
    c = c * t + select(select(PROBIT_F8, PROBIT_N8, near), PROBIT_C8, central);
    c = c * t + select(select(PROBIT_F7, PROBIT_N7, near), PROBIT_C7, central);
    c = c * t + select(select(PROBIT_F6, PROBIT_N6, near), PROBIT_C6, central);
    c = c * t + select(select(PROBIT_F5, PROBIT_N5, near), PROBIT_C5, central);
    c = c * t + select(select(PROBIT_F4, PROBIT_N4, near), PROBIT_C4, central);
    c = c * t + select(select(PROBIT_F3, PROBIT_N3, near), PROBIT_C3, central);
    c = c * t + select(select(PROBIT_F2, PROBIT_N2, near), PROBIT_C2, central);
    c = c * t + select(select(PROBIT_F1, PROBIT_N1, near), PROBIT_C1, central);
    c = c * t + select(select(PROBIT_F0, PROBIT_N0, near), PROBIT_C0, central);
    return select(-1.0, 2.0 * q, central) * c;
}

//! Published coefficients, kept digit for digit as their sources print them.
#![allow(clippy::excessive_precision)]

// fdlibm erf/erfc (see erfc in special.rs for the notice).
pub(super) const ERX: f64 = 8.45062911510467529297e-01;
pub(super) const PP0: f64 = 1.28379167095512558561e-01;
pub(super) const PP1: f64 = -3.25042107247001499370e-01;
pub(super) const PP2: f64 = -2.84817495755985104766e-02;
pub(super) const PP3: f64 = -5.77027029648944159157e-03;
pub(super) const PP4: f64 = -2.37630166566501626084e-05;
pub(super) const QQ1: f64 = 3.97917223959155352819e-01;
pub(super) const QQ2: f64 = 6.50222499887672944485e-02;
pub(super) const QQ3: f64 = 5.08130628187576562776e-03;
pub(super) const QQ4: f64 = 1.32494738004321644526e-04;
pub(super) const QQ5: f64 = -3.96022827877536812320e-06;
pub(super) const PA0: f64 = -2.36211856075265944077e-03;
pub(super) const PA1: f64 = 4.14856118683748331666e-01;
pub(super) const PA2: f64 = -3.72207876035701323847e-01;
pub(super) const PA3: f64 = 3.18346619901161753674e-01;
pub(super) const PA4: f64 = -1.10894694282396677476e-01;
pub(super) const PA5: f64 = 3.54783043256182359371e-02;
pub(super) const PA6: f64 = -2.16637559486879084300e-03;
pub(super) const QA1: f64 = 1.06420880400844228286e-01;
pub(super) const QA2: f64 = 5.40397917702171048937e-01;
pub(super) const QA3: f64 = 7.18286544141962662868e-02;
pub(super) const QA4: f64 = 1.26171219808761642112e-01;
pub(super) const QA5: f64 = 1.36370839120290507362e-02;
pub(super) const QA6: f64 = 1.19844998467991074170e-02;
pub(super) const RA0: f64 = -9.86494403484714822705e-03;
pub(super) const RA1: f64 = -6.93858572707181764372e-01;
pub(super) const RA2: f64 = -1.05586262253232909814e+01;
pub(super) const RA3: f64 = -6.23753324503260060396e+01;
pub(super) const RA4: f64 = -1.62396669462573470355e+02;
pub(super) const RA5: f64 = -1.84605092906711035994e+02;
pub(super) const RA6: f64 = -8.12874355063065934246e+01;
pub(super) const RA7: f64 = -9.81432934416914548592e+00;
pub(super) const SA1: f64 = 1.96512716674392571292e+01;
pub(super) const SA2: f64 = 1.37657754143519042600e+02;
pub(super) const SA3: f64 = 4.34565877475229228821e+02;
pub(super) const SA4: f64 = 6.45387271733267880336e+02;
pub(super) const SA5: f64 = 4.29008140027567833386e+02;
pub(super) const SA6: f64 = 1.08635005541779435134e+02;
pub(super) const SA7: f64 = 6.57024977031928170135e+00;
pub(super) const SA8: f64 = -6.04244152148580987438e-02;
pub(super) const RB0: f64 = -9.86494292470009928597e-03;
pub(super) const RB1: f64 = -7.99283237680523006574e-01;
pub(super) const RB2: f64 = -1.77579549177547519889e+01;
pub(super) const RB3: f64 = -1.60636384855821916062e+02;
pub(super) const RB4: f64 = -6.37566443368389627722e+02;
pub(super) const RB5: f64 = -1.02509513161107724954e+03;
pub(super) const RB6: f64 = -4.83519191608651397019e+02;
pub(super) const SB1: f64 = 3.03380607434824582924e+01;
pub(super) const SB2: f64 = 3.25792512996573918826e+02;
pub(super) const SB3: f64 = 1.53672958608443695994e+03;
pub(super) const SB4: f64 = 3.19985821950859553908e+03;
pub(super) const SB5: f64 = 2.55305040643316442583e+03;
pub(super) const SB6: f64 = 4.74528541206955367215e+02;
pub(super) const SB7: f64 = -2.24409524465858183362e+01;

/// Acklam's inverse-normal rational approximation, central region.
pub(super) const ACKLAM_A: [f64; 6] = [
    -3.969683028665376e+01,
    2.209460984245205e+02,
    -2.759285104469687e+02,
    1.383577518672690e+02,
    -3.066479806614716e+01,
    2.506628277459239e+00,
];
/// Acklam, central region denominator.
pub(super) const ACKLAM_B: [f64; 5] = [
    -5.447609879822406e+01,
    1.615858368580409e+02,
    -1.556989798598866e+02,
    6.680131188771972e+01,
    -1.328068155288572e+01,
];
/// Acklam, tails numerator.
pub(super) const ACKLAM_C: [f64; 6] = [
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e+00,
    -2.549732539343734e+00,
    4.374664141464968e+00,
    2.938163982698783e+00,
];
/// Acklam, tails denominator.
pub(super) const ACKLAM_D: [f64; 4] = [
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e+00,
    3.754408661907416e+00,
];

/// Numerical Recipes (3rd ed.) `gammln`: the leading Lanczos term, g = 671/128.
pub(super) const LANCZOS_0: f64 = 0.999_999_999_999_997_092;
/// `gammln`'s other Lanczos coefficients.
pub(super) const LANCZOS: [f64; 14] = [
    57.156_235_665_862_923_5,
    -59.597_960_355_475_491_2,
    14.136_097_974_741_747_1,
    -0.491_913_816_097_620_199,
    0.339_946_499_848_118_887e-4,
    0.465_236_289_270_485_756e-4,
    -0.983_744_753_048_795_646e-4,
    0.158_088_703_224_912_494e-3,
    -0.210_264_441_724_104_883e-3,
    0.217_439_618_115_212_643e-3,
    -0.164_318_106_536_763_890e-3,
    0.844_182_239_838_527_433e-4,
    -0.261_908_384_015_814_087e-4,
    0.368_991_826_595_316_234e-5,
];

/// Tail expansion of the limiting A² survival in powers of 1/z (see anderson_darling_survival).
pub(super) const AD_TAIL: [f64; 6] = [
    1.0,
    -0.194_444_444_444_444_44,
    0.490_590_862_993_222_92,
    -1.023_028_804_075_387_3,
    3.878_104_156_220_061_6,
    -16.872_203_200_197_037,
];

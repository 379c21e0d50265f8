//! Fuzzes the init-spec parser: `Init::parse` on arbitrary text must never panic; every scheme it
//! accepts must plan (or refuse with an error) on a few shapes and explain its plan without
//! panicking, and its `Display` output must parse back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nninit::scheme::{FanRule, Init};

const SHAPES: &[&[u64]] = &[&[], &[3], &[4, 5], &[2, 3, 4], &[0, 4], &[2, 3, 3, 3], &[1, 1, 1, 1, 1]];

/// True when any f64 parameter is NaN (NaN != NaN, so the round-trip equality cannot hold).
fn has_nan(init: &Init) -> bool {
    // Debug prints NaN as `NaN`; no scheme, mode or nonlinearity name contains that text.
    format!("{init:?}").contains("NaN")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(init) = Init::parse(text) else {
        return;
    };
    let rule = FanRule::torch();
    for shape in SHAPES {
        if let Ok(plan) = init.plan(shape, &rule) {
            let _ = plan.explain().to_string();
        }
    }
    let printed = init.to_string();
    match Init::parse(&printed) {
        Ok(again) => {
            if !has_nan(&init) {
                assert_eq!(again, init, "{text:?} printed as {printed:?} parsed back differently");
            }
        }
        Err(error) => panic!("{text:?} parsed to {init:?}, printed as {printed:?}, which does not parse: {error}"),
    }
});

//! Fuzzes the model JSON parser: `parse_model_json` on arbitrary text must return a value or an
//! error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = nninit::model::json::parse_model_json(text);
    }
});

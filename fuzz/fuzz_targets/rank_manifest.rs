//! Fuzzes the rank manifest reader: `Manifest::from_json` on arbitrary text must return a
//! manifest or an error, never panic, hang or allocate without bound. A manifest it accepts must
//! be exactly what `to_json` writes for it (which `from_json` demands), so `to_json` must give
//! back the input text, and its placements must be ones `place` could have made
//! (`Mesh::check_placements`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nninit::model::parallel::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(manifest) = Manifest::from_json(text, "fuzz") {
        assert!(
            manifest.to_json() == text,
            "{text:?} read, but written differently"
        );
        for tensor in &manifest.tensors {
            let checked =
                manifest
                    .mesh
                    .check_placements(&tensor.name, &tensor.shape, tensor.tp, tensor.dp);
            if let Err(error) = checked {
                panic!("{text:?} read, with a placement `place` never makes: {error}");
            }
        }
    }
});

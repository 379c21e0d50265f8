//! The seed notes' depth study on the GPU: at layer 100 the four cases tell the notes' story, and
//! the JSON output has its documented shape (the SVG chart is the binary's: its test is in
//! src/bin/nninit/svg.rs).

mod common;

use std::sync::OnceLock;

use nninit::backend::draw::Backend;
use nninit::model::study::{DEPTH, StudyCase, run_study, study_json, summary_table, write_json};

fn study() -> &'static [StudyCase] {
    static STUDY: OnceLock<Vec<StudyCase>> = OnceLock::new();
    STUDY.get_or_init(|| {
        let cases = run_study(Backend::Gpu(common::gpu()), 0).expect("study runs");
        println!("{}", summary_table(&cases));
        cases
    })
}

fn std_at_last_layer(name: &str) -> f64 {
    let case = study()
        .iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    let last = case.layers.last().expect("layers");
    assert_eq!(last.layer, DEPTH);
    last.std
}

#[test]
fn layer_100_tells_the_notes_story() {
    let naive = std_at_last_layer("tanh_naive");
    assert!(naive > 0.0 && naive < 1e-20, "naive tanh std {naive:e}");
    let xavier_tanh = std_at_last_layer("tanh_xavier");
    assert!(
        (0.01..=1.0).contains(&xavier_tanh),
        "xavier tanh std {xavier_tanh:e}"
    );
    let xavier_relu = std_at_last_layer("relu_xavier");
    assert!(
        xavier_relu > 0.0 && xavier_relu < 1e-10,
        "xavier relu std {xavier_relu:e}"
    );
    let kaiming = std_at_last_layer("relu_kaiming");
    assert!(
        (0.1..=10.0).contains(&kaiming),
        "kaiming relu std {kaiming:e}"
    );
}

#[test]
fn json_has_every_layer_of_every_case() {
    let json = study_json(study());
    let object = json.as_object().expect("an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["cases"]);
    let cases = json["cases"].as_array().expect("cases array");
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["tanh_naive", "tanh_xavier", "relu_xavier", "relu_kaiming"]
    );
    for case in cases {
        let mut keys: Vec<&String> = case.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["activation", "init", "layers", "name"]);
        assert!(["tanh", "relu"].contains(&case["activation"].as_str().unwrap()));
        assert!(case["init"].is_string());
        let layers = case["layers"].as_array().unwrap();
        assert_eq!(layers.len(), DEPTH);
        for (i, layer) in layers.iter().enumerate() {
            assert_eq!(layer.as_object().unwrap().len(), 3);
            assert_eq!(layer["layer"].as_u64(), Some(i as u64 + 1));
            assert!(layer["mean"].as_f64().is_some_and(f64::is_finite));
            assert!(
                layer["std"]
                    .as_f64()
                    .is_some_and(|s| s.is_finite() && s >= 0.0)
            );
        }
    }
}

#[test]
fn json_file_parses_to_study_json() {
    let dir = std::env::temp_dir().join(format!("nninit-study-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("study.json");
    write_json(study(), &path).expect("json written");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    // Both sides through the same parser: serde_json's default float parsing is not always
    // correctly rounded, so a parsed number may differ from the f64 it was printed from by an ulp.
    let expected: serde_json::Value =
        serde_json::from_str(&study_json(study()).to_string()).unwrap();
    assert_eq!(parsed, expected);
}

/// The contract makes every weight bit-identical on the CPU reference, so the whole study is.
#[test]
fn cpu_reference_gives_the_same_study() {
    let cpu = run_study(Backend::Cpu, 0).expect("study runs on the CPU");
    assert_eq!(cpu, study());
}

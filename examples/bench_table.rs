//! Runs `nninit::bench::run` and prints its table (and writes its JSON with `--json FILE`), the
//! same as `nninit bench` without the `cli` feature:
//! `cargo run --release --example bench_table -- [--quick] [--json FILE]`.

fn main() -> nninit::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1));
    let report = nninit::bench::run(quick)?;
    print!("{}", report.table());
    if let Some(path) = json {
        std::fs::write(path, report.to_json())
            .map_err(|e| nninit::Error::invalid("--json", path, e.to_string()))?;
    }
    Ok(())
}

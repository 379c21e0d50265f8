//! Runs `nninit::bench::run` and prints its table (and writes its JSON with `--json FILE`):
//! `cargo run --release --example bench_table -- [--quick] [--json FILE] [--int64]`.
//! `--int64` opens the device with `SHADER_INT64` when the adapter has it.

fn main() -> nninit::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let json = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1));
    let report = if args.iter().any(|a| a == "--int64") {
        let gpu = pollster::block_on(async {
            let adapter = nninit::gpu::request_adapter().await?;
            let features = adapter.features() & wgpu::Features::SHADER_INT64;
            let (device, queue) = adapter
                .request_device(&wgpu::DeviceDescriptor {
                    label: Some("nninit"),
                    required_features: features,
                    required_limits: adapter.limits(),
                    ..Default::default()
                })
                .await
                .map_err(|e| nninit::Error::gpu("request_device", e))?;
            Ok::<_, nninit::Error>(nninit::GpuContext::from_device(
                adapter.get_info(),
                device,
                queue,
            ))
        })?;
        nninit::bench::run_on(&gpu, quick)?
    } else {
        nninit::bench::run(quick)?
    };
    print!("{}", report.table());
    if let Some(path) = json {
        std::fs::write(path, report.to_json())
            .map_err(|e| nninit::Error::invalid("--json", path, e.to_string()))?;
    }
    Ok(())
}

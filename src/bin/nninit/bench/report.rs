//! A run's rows, the ratios its targets are stated in, as a Markdown table or JSON.

use std::collections::BTreeMap;

use nninit::backend::cpu::CpuIsa;

use super::harness::{BenchRow, RUNS};

/// The rows of one run, the ratios the targets are stated in, and what was measured on.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Every measurement.
    pub rows: Vec<BenchRow>,
    /// Named ratios of medians (throughput over throughput, or time over time for `model_*`);
    /// see `runs::run`.
    pub ratios: BTreeMap<String, f64>,
    /// The adapter, as wgpu describes it.
    pub adapter: String,
    /// Whether the device has `SHADER_INT64` enabled (the kernels then use 64-bit multiplies).
    pub shader_int64: bool,
    /// The CPU's model name.
    pub cpu: String,
    /// The instruction set the CPU reference used by default: the widest this CPU runs, or
    /// `NNINIT_CPU_ISA`'s.
    pub isa: CpuIsa,
    /// Every instruction set this CPU runs, narrowest first.
    pub isas: Vec<CpuIsa>,
    /// Threads of the "all threads" CPU measurements.
    pub threads: usize,
    /// The machine's load averages (1, 5, 15 minutes) just before the run (Linux): other work
    /// that shared the cores.
    pub load: Option<String>,
    /// UTC date of the run, `YYYY-MM-DD`.
    pub date: String,
    /// Whether this was a `--quick` run.
    pub quick: bool,
}

pub fn ratios(rows: &[BenchRow]) -> BTreeMap<String, f64> {
    let rate = |name: &str| {
        rows.iter()
            .find(|r| r.name == name)
            .map(|r| r.elements_per_s)
    };
    let time = |name: &str| rows.iter().find(|r| r.name == name).map(|r| r.median_s);
    let mut ratios = BTreeMap::new();
    let mut put = |key: &str, a: Option<f64>, b: Option<f64>| {
        if let (Some(a), Some(b)) = (a, b) {
            ratios.insert(key.to_string(), a / b);
        }
    };
    for dist in ["normal", "uniform", "trunc_normal"] {
        put(
            &format!("gpu_{dist}_f32_vs_constant"),
            rate(&format!("gpu_{dist}_f32_16M")),
            rate("gpu_constant_f32_16M"),
        );
    }
    for dist in ["normal", "uniform"] {
        put(
            &format!("gpu_{dist}_f32_vs_index"),
            rate(&format!("gpu_{dist}_f32_16M")),
            rate("gpu_index_f32_16M"),
        );
    }
    put(
        "gpu_normal_f32_vs_copy",
        rate("gpu_normal_f32_16M"),
        rate("gpu_copy_f32_16M"),
    );
    put(
        "gpu_constant_f32_vs_clear",
        rate("gpu_constant_f32_16M"),
        rate("gpu_clear_f32_16M"),
    );
    // The peer's faster form: its users write both (`peer.rs`).
    let peer = |dist: &str| {
        let (looped, by_ref) = (
            rate(&format!("rand_distr_loop_{dist}_f32_16M")),
            rate(&format!("rand_distr_fn_{dist}_f32_16M")),
        );
        match (looped, by_ref) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    };
    for dist in ["normal", "uniform"] {
        put(
            &format!("rand_distr_{dist}_f32_loop_vs_fn"),
            rate(&format!("rand_distr_loop_{dist}_f32_16M")),
            rate(&format!("rand_distr_fn_{dist}_f32_16M")),
        );
        put(
            &format!("gpu_{dist}_f32_vs_rand_distr"),
            rate(&format!("gpu_{dist}_f32_16M")),
            peer(dist),
        );
        put(
            &format!("cpu_{dist}_f32_all_threads_vs_rand_distr"),
            rate(&format!("cpu_all_{dist}_f32_16M")),
            peer(dist),
        );
        // One thread, on every instruction set measured: the default's rows carry no suffix.
        for row in rows
            .iter()
            .filter(|r| r.device == "cpu_1t" && r.dist == dist && r.elements == 16 << 20)
        {
            let isa = row
                .name
                .rsplit_once("_16M")
                .map_or("", |(_, suffix)| suffix);
            put(
                &format!("cpu_{dist}_f32_1t{isa}_vs_rand_distr"),
                Some(row.elements_per_s),
                peer(dist),
            );
        }
    }
    // The truncated normal against the peer's plain normal: rand_distr has no truncated one.
    put(
        "cpu_trunc_normal_f32_1t_vs_rand_distr_normal",
        rate("cpu_1t_trunc_normal_f32_16M"),
        peer("normal"),
    );
    // At 64M too (not in --quick): a fill long enough that a machine which gives an idle
    // process its second core only after a few milliseconds (2-vCPU VMs were measured so) shows
    // its sustained scaling.
    for dist in ["normal", "uniform", "trunc_normal"] {
        put(
            &format!("cpu_{dist}_f32_all_threads_vs_1t"),
            rate(&format!("cpu_all_{dist}_f32_16M")),
            rate(&format!("cpu_1t_{dist}_f32_16M")),
        );
        put(
            &format!("cpu_{dist}_f32_all_threads_vs_1t_64M"),
            rate(&format!("cpu_all_{dist}_f32_64M")),
            rate(&format!("cpu_1t_{dist}_f32_64M")),
        );
    }
    put(
        "gpu_normal_f32_vs_cpu_all_threads",
        rate("gpu_normal_f32_16M"),
        rate("cpu_all_normal_f32_16M"),
    );
    put(
        "gpu_normal_f32_vs_host_memset",
        rate("gpu_normal_f32_16M"),
        rate("host_all_memset_f32_16M"),
    );
    put(
        "gpu_normal_f16_vs_f32",
        rate("gpu_normal_f16_16M"),
        rate("gpu_normal_f32_16M"),
    );
    put(
        "model_init_vs_single_fill",
        time("model_300_tensors_normal_f32"),
        time("model_single_fill_normal_f32"),
    );
    put(
        "gpu_fresh_buffer_vs_warm",
        time("gpu_fresh_buffer_normal_f32_16M"),
        time("gpu_warm_buffer_normal_f32_16M"),
    );
    ratios
}

impl BenchReport {
    /// `{"rows":[{"name":..,"device":..,"dist":..,"dtype":..,"elements":..,"median_s":..,
    /// "min_s":..,"max_s":..,"elements_per_s":..,"gb_per_s":..}, ...],"ratios":{...},
    /// "adapter":..,"shader_int64":..,"threads":..,"date":..,"quick":..}`.
    pub fn to_json(&self) -> String {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "device": r.device,
                    "dist": r.dist,
                    "dtype": r.dtype,
                    "elements": r.elements,
                    "median_s": r.median_s,
                    "min_s": r.min_s,
                    "max_s": r.max_s,
                    "elements_per_s": r.elements_per_s,
                    "gb_per_s": r.gb_per_s,
                    "isa": r.isa,
                    "cpu_s": r.cpu_s,
                })
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({
            "rows": rows,
            "ratios": self.ratios,
            "adapter": self.adapter,
            "shader_int64": self.shader_int64,
            "cpu": self.cpu,
            "isa": self.isa.label(),
            "isas": self.isas.iter().map(|i| i.label()).collect::<Vec<_>>(),
            "threads": self.threads,
            "load": self.load,
            "date": self.date,
            "quick": self.quick,
        }))
        .expect("JSON of plain numbers and strings")
    }

    /// A Markdown table of every row (elements/s, GB/s, median and spread) and one of the
    /// ratios.
    pub fn table(&self) -> String {
        let isas: Vec<_> = self.isas.iter().map(|i| i.label()).collect();
        let mut out = format!(
            "adapter: {}; SHADER_INT64: {}\nCPU: {}; instruction sets: {} (default {}); threads: {}\n{}; {} runs each; load average before the run: {}\n\n",
            self.adapter,
            if self.shader_int64 { "on" } else { "off" },
            self.cpu,
            isas.join(", "),
            self.isa.label(),
            self.threads,
            self.date,
            RUNS,
            self.load.as_deref().unwrap_or("unknown")
        );
        out.push_str("| name | device | ISA | dist | dtype | elements | M elem/s | GB/s | median ms | min–max ms | CPU ms |\n");
        out.push_str("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let cpu = r
                .cpu_s
                .map_or("–".to_string(), |c| format!("{:.1}", c * 1e3));
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2}–{:.2} | {cpu} |\n",
                r.name,
                r.device,
                r.isa.as_deref().unwrap_or("–"),
                r.dist,
                r.dtype,
                r.elements,
                r.elements_per_s / 1e6,
                r.gb_per_s,
                r.median_s * 1e3,
                r.min_s * 1e3,
                r.max_s * 1e3,
            ));
        }
        out.push_str("\n| ratio | value |\n|---|---:|\n");
        for (key, value) in &self.ratios {
            out.push_str(&format!("| {key} | {value:.2} |\n"));
        }
        out
    }
}

/// Today's date in UTC as `YYYY-MM-DD` (days-to-civil, proleptic Gregorian).
pub fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

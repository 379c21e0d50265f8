//! The study's SVG chart (plotters, the binary's only): std per layer on a log scale, one
//! labelled line per case.

use std::io::Write;
use std::path::Path;

use plotters::prelude::*;

use nninit::model::atomic_file::write_atomically;
use nninit::model::study::{CASES, StudyCase, WIDTH};
use nninit::{Error, Result};

/// How the legend names a case: its name, activation and init (the naive spec in the notes'
/// words).
fn legend(case: &StudyCase) -> String {
    let init = CASES
        .iter()
        .find(|(_, _, spec, _)| *spec == case.init)
        .map_or(case.init.as_str(), |(_, _, _, shown)| shown);
    format!("{}: {}, {}", case.name, case.activation, init)
}

/// Draws the std of every layer's activations on a log-scale y axis, one labelled line per case,
/// with axis labels and a legend, and writes it to `path` as SVG (atomically). Text is written
/// as SVG `<text>`, so no font is needed to draw it. Layers whose std is not a positive finite
/// number cannot be placed on a log axis and are left out of their line.
///
/// The axis is drawn as log10(std) on a linear scale, labelled `1e-k`: plotters' own log axis
/// (0.3.7) drops every tick below f64::EPSILON (it takes them for the zero point), which would
/// leave the lower half of this chart unlabelled.
pub fn write_svg(cases: &[StudyCase], path: &Path) -> Result<()> {
    let logs = || {
        cases
            .iter()
            .flat_map(|case| case.layers.iter().map(|s| s.std))
            .filter(|std| std.is_finite() && *std > 0.0)
            .map(f64::log10)
    };
    let (Some(low), Some(high)) = (logs().reduce(f64::min), logs().reduce(f64::max)) else {
        return Err(Error::invalid(
            "cases",
            cases.len(),
            "at least one layer with a positive finite std to plot",
        ));
    };
    // Half a decade of room above and below the lines, rounded out to whole decades.
    let low = (low - 0.5).floor();
    let high = (high + 0.5).ceil();
    let last = cases
        .iter()
        .flat_map(|case| case.layers.iter().map(|s| s.layer))
        .max()
        .unwrap_or(1)
        .max(2);

    let mut svg = String::new();
    draw_chart(cases, &mut svg, low..high, last).map_err(|error| Error::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(format!("drawing the chart: {error}")),
    })?;
    write_atomically(path, |writer| {
        writer
            .write_all(svg.as_bytes())
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
    })
}

/// A tick of the log10 axis as the std it stands for: `1e-7` for -7, `3.2e-1` between decades.
fn decade_label(log10: &f64) -> String {
    if (log10 - log10.round()).abs() < 1e-9 {
        format!("1e{}", log10.round() as i64)
    } else {
        format!("{:.1e}", 10f64.powf(*log10))
    }
}

fn draw_chart(
    cases: &[StudyCase],
    svg: &mut String,
    log10_range: std::ops::Range<f64>,
    last_layer: usize,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let colors = [
        RGBColor(214, 39, 40),
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    {
        let root = SVGBackend::with_string(svg, (900, 600)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Activation std through {last_layer} layers of width {WIDTH}, input N(0, 1)"
                ),
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(1usize..last_layer, log10_range)?;
        chart
            .configure_mesh()
            .x_desc("layer")
            .y_desc("std of the layer's activations (log scale)")
            .y_labels(16)
            .y_label_formatter(&decade_label)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .draw()?;
        for (i, case) in cases.iter().enumerate() {
            let color = colors[i % colors.len()];
            let points = case
                .layers
                .iter()
                .filter(|s| s.std.is_finite() && s.std > 0.0)
                .map(|s| (s.layer, s.std.log10()));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(legend(case))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()?;
        root.present()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nninit::Backend;
    use nninit::model::study::run_study;

    /// The study is bit-identical on the CPU reference and the GPU (tests/study.rs), so the
    /// chart is drawn from the CPU's.
    #[test]
    fn svg_is_written_with_every_case_labelled() {
        let study = run_study(Backend::Cpu, 0).expect("study runs on the CPU");
        let dir = std::env::temp_dir().join(format!("nninit-study-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("study.svg");
        write_svg(&study, &path).expect("svg written");
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        for name in ["tanh_naive", "tanh_xavier", "relu_xavier", "relu_kaiming"] {
            assert!(svg.contains(name), "legend lacks {name}");
        }
        assert!(svg.contains("layer"), "x axis label");
        assert!(svg.contains("<polyline"), "lines");
    }
}

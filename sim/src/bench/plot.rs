//! The line chart of `sim bench --plot PATH.svg`, drawn from plain series.
//!
//! One line per [`Series`] through its `(count, y)` points, against a count on the x axis
//! (labelled "10k", "1.5M"). The x axis is logarithmic when the points span several counts.
//! The legend sits in a panel right of the chart, so a full matrix (16+ series) never hides
//! a line. The bench module decides what the series are; this module only draws them.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use std::path::Path;

/// One line of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its legend label.
    pub label: String,
    /// `(x, y)` points, drawn in this order (sort them by `x`).
    pub points: Vec<(f64, f64)>,
}

/// What to draw: the texts around the chart and its series.
#[derive(Clone, Copy, Debug)]
pub struct Chart<'a> {
    /// The caption above the chart.
    pub title: &'a str,
    /// The x axis' description (the x values are counts).
    pub x_desc: &'a str,
    /// The y axis' description.
    pub y_desc: &'a str,
    /// The line above the legend's labels.
    pub legend_title: &'a str,
    /// The lines, in legend order.
    pub series: &'a [Series],
}

/// Width of the chart part of the image, in pixels.
const CHART_WIDTH: u32 = 760;
/// Width of the legend panel.
const LEGEND_WIDTH: u32 = 250;
/// Height of one legend line.
const LEGEND_LINE: u32 = 22;
/// Line colours (Tableau 10: tell-apart colours, none too pale on white). Series past the
/// tenth reuse them with another marker shape.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// How series `i` is drawn: its colour and marker shape (0 circle, 1 triangle, 2 cross).
fn look(i: usize) -> (RGBColor, usize) {
    (COLORS[i % COLORS.len()], (i / COLORS.len()) % 3)
}

/// Checks, before any measuring, that the plot can be written to `path`: an `.svg` name in
/// an existing directory. The error names the path.
pub fn check_path(path: &Path) -> Result<(), String> {
    let shown = path.display();
    if path
        .extension()
        .is_none_or(|e| !e.eq_ignore_ascii_case("svg"))
    {
        return Err(format!(
            "{shown}: the plot is SVG: give a path ending in .svg"
        ));
    }
    if path.is_dir() {
        return Err(format!("{shown}: is a directory, not a file for the plot"));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{shown}: cannot write the plot: directory {} does not exist",
            dir.display()
        ));
    }
    Ok(())
}

/// "10k", "1.5M": particle counts on the x axis. A log axis ticks every 1..9 × 10^k; only
/// 1, 2, 3 and 5 × 10^k get a label, so the labels near the top of a decade do not collide.
fn axis_label(n: f64) -> String {
    let leading = (n / 10f64.powf(n.log10().floor())).round();
    if [1.0, 2.0, 3.0, 5.0].contains(&leading) {
        count_label(n)
    } else {
        String::new()
    }
}

/// "10k", "1.5M".
fn count_label(n: f64) -> String {
    if n >= 1e6 {
        format!("{}M", trim(n / 1e6))
    } else if n >= 1e3 {
        format!("{}k", trim(n / 1e3))
    } else {
        trim(n)
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Draws `chart` into an SVG at `path`. The error names the path.
pub fn render(chart: &Chart<'_>, path: &Path) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: cannot draw the plot: {e}", path.display());
    let series = chart.series;
    let points = || series.iter().flat_map(|s| s.points.iter().copied());
    if points().next().is_none() {
        return Err(fail(&"no points to plot"));
    }
    let height = 560.max(80 + LEGEND_LINE * series.len() as u32);
    let root = SVGBackend::new(path, (CHART_WIDTH + LEGEND_WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (chart_area, legend_area) = root.split_horizontally(CHART_WIDTH);

    let (lo, hi) = points().fold((f64::INFINITY, 0f64), |(lo, hi), (x, _)| {
        (lo.min(x), hi.max(x))
    });
    let y_max = points()
        .map(|(_, y)| y)
        .fold(0f64, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.15;
    if lo < hi {
        // Several counts: a log axis, a little wider than the data.
        let x = (lo / 1.25..hi * 1.25).log_scale();
        draw(&chart_area, chart, x, y_max)
    } else {
        // One count: a plain axis around it (each series is a single point).
        draw(&chart_area, chart, lo * 0.5..hi * 1.5, y_max)
    }
    .map_err(|e| fail(&e))?;
    draw_legend(&legend_area, chart).map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

fn draw<X>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &Chart<'_>,
    x: X,
    y_max: f64,
) -> DrawResult
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let mut plot = ChartBuilder::on(area)
        .caption(chart.title, ("sans-serif", 24))
        .margin(14)
        .x_label_area_size(64)
        .y_label_area_size(70)
        .build_cartesian_2d(x, 0f64..y_max)?;
    plot.configure_mesh()
        .x_desc(chart.x_desc)
        .y_desc(chart.y_desc)
        .x_label_formatter(&|n| axis_label(*n))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style(("sans-serif", 15))
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(240, 240, 240))
        .x_max_light_lines(0)
        .y_max_light_lines(1)
        .axis_desc_style(("sans-serif", 17))
        .draw()?;
    for (i, Series { points, .. }) in chart.series.iter().enumerate() {
        let (color, shape) = look(i);
        // One two-point path per segment rather than one polyline per series: some SVG
        // renderers (ImageMagick's own) fill a polyline's hull despite `fill="none"`.
        plot.draw_series(
            points
                .windows(2)
                .map(|w| PathElement::new(vec![w[0], w[1]], color.stroke_width(2))),
        )?;
        let points = points.iter().copied();
        match shape {
            0 => plot.draw_series(points.map(|p| Circle::new(p, 3, color.filled())))?,
            1 => plot.draw_series(points.map(|p| TriangleMarker::new(p, 5, color.filled())))?,
            _ => plot.draw_series(points.map(|p| Cross::new(p, 4, color.stroke_width(2))))?,
        };
    }
    Ok(())
}

fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, chart: &Chart<'_>) -> DrawResult {
    area.draw(&Text::new(chart.legend_title, (4, 30), ("sans-serif", 15)))?;
    for (i, Series { label, .. }) in chart.series.iter().enumerate() {
        let y = 56 + (i as u32 * LEGEND_LINE) as i32;
        let (color, shape) = look(i);
        area.draw(&PathElement::new(
            vec![(4, y), (30, y)],
            color.stroke_width(2),
        ))?;
        match shape {
            0 => area.draw(&Circle::new((17, y), 3, color.filled()))?,
            1 => area.draw(&TriangleMarker::new((17, y), 5, color.filled()))?,
            _ => area.draw(&Cross::new((17, y), 4, color.stroke_width(2)))?,
        }
        area.draw(&Text::new(label.as_str(), (38, y - 9), ("sans-serif", 16)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sim-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn chart(series: &[Series]) -> Chart<'_> {
        Chart {
            title: "a title",
            x_desc: "particles",
            y_desc: "ns per particle per step",
            legend_title: "layout / threads",
            series,
        }
    }

    #[test]
    fn renders_one_labelled_line_per_series() {
        let series: Vec<Series> = ["soa / 1t", "soa / 2t", "aos / 1t", "aos / 2t"]
            .iter()
            .enumerate()
            .map(|(i, label)| Series {
                label: label.to_string(),
                points: [100_000.0, 300_000.0, 1_000_000.0]
                    .map(|n| (n, 1.0 + i as f64))
                    .to_vec(),
            })
            .collect();
        let path = temp("matrix.svg");
        render(&chart(&series), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        for text in [
            "soa / 1t",
            "soa / 2t",
            "aos / 1t",
            "aos / 2t",
            "a title",
            "layout / threads",
            "ns per particle per step",
        ] {
            assert!(svg.contains(text), "no text {text}");
        }
        // Per series: two segments through its three counts, and one legend line (axes,
        // ticks and grid lines are 1 px wide).
        let wide = svg
            .lines()
            .filter(|l| l.contains("<polyline") && l.contains(r#"stroke-width="2""#))
            .count();
        assert_eq!(wide, 4 * 3);
        for tick in ["100k", "300k", "1M"] {
            assert!(
                svg.lines().any(|l| l.trim() == tick),
                "no axis label {tick}"
            );
        }
    }

    #[test]
    fn nothing_to_plot_is_an_error_naming_the_path() {
        let path = temp("empty.svg");
        let err = render(&chart(&[]), &path).unwrap_err();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }

    #[test]
    fn axis_labels_are_short_and_sparse() {
        assert_eq!(count_label(10_000.0), "10k");
        assert_eq!(count_label(1_500_000.0), "1.5M");
        assert_eq!(count_label(500.0), "500");
        assert_eq!(axis_label(300_000.0), "300k");
        assert_eq!(axis_label(700_000.0), "");
    }

    #[test]
    fn many_series_change_marker_after_ten_colours() {
        assert_ne!(look(0), look(10));
        assert_eq!(look(0).0, look(10).0);
    }

    #[test]
    fn a_single_count_still_plots() {
        let path = temp("single.svg");
        let series = [Series {
            label: "soa / 2t".into(),
            points: vec![(5000.0, 4.0)],
        }];
        render(&chart(&series), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("soa / 2t"));
    }

    #[test]
    fn bad_paths_are_named_in_the_error() {
        let dir = temp("x.svg").parent().unwrap().to_path_buf();
        let missing = dir.join("no-such-dir").join("plot.svg");
        let not_svg = dir.join("plot.png");
        let as_dir = dir.join("a-dir.svg");
        std::fs::create_dir_all(&as_dir).unwrap();
        for (path, needle) in [
            (&missing, "does not exist"),
            (&not_svg, ".svg"),
            (&as_dir, "directory"),
        ] {
            let err = check_path(path).unwrap_err();
            assert!(err.starts_with(&path.display().to_string()), "{err}");
            assert!(err.contains(needle), "{err}");
        }
        assert!(check_path(&dir.join("ok.svg")).is_ok());
        assert!(check_path(Path::new("bench.svg")).is_ok());
    }
}

//! SVG plots of a run: each site's power against its limit over time, energy per session
//! (wanted and delivered), and the OCPP latency distribution.

use std::path::Path;

use plotters::prelude::*;

use super::RunReport;
use crate::SimError;

type Result<T> = std::result::Result<T, String>;

fn file_name(site: &str) -> String {
    site.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes every plot; at most 12 site plots (the sites with the most energy).
pub fn write_all(report: &RunReport, dir: &Path) -> std::result::Result<(), SimError> {
    let fail = |path: &Path, e: String| SimError::Write {
        path: path.display().to_string(),
        message: e,
    };
    let mut sites: Vec<_> = report.series.iter().collect();
    sites.sort_by(|a, b| {
        let ea: f64 = a.power_kw.iter().sum();
        let eb: f64 = b.power_kw.iter().sum();
        eb.total_cmp(&ea)
    });
    for s in sites.into_iter().take(12) {
        let path = dir.join(format!("site-power-{}.svg", file_name(s.site.as_str())));
        site_power(s, &path).map_err(|e| fail(&path, e))?;
    }
    let path = dir.join("sessions.svg");
    sessions(report, &path).map_err(|e| fail(&path, e))?;
    let path = dir.join("latency.svg");
    latency(report, &path).map_err(|e| fail(&path, e))
}

fn site_power(s: &super::SiteSeries, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let t_max =
        s.t_h.last().copied().unwrap_or(1.0).max(0.01) + s.t_h.get(1).copied().unwrap_or(0.0);
    let y_max = s
        .power_kw
        .iter()
        .copied()
        .chain(s.limit_kw.iter().flatten().copied())
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{}: power vs limit", s.site), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..t_max, 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("simulated hours")
        .y_desc("kW")
        .draw()
        .map_err(|e| e.to_string())?;
    let step = |xs: &[f64], ys: Vec<f64>| -> Vec<(f64, f64)> {
        let dt = xs.get(1).copied().unwrap_or(1.0) - xs.first().copied().unwrap_or(0.0);
        xs.iter()
            .zip(ys)
            .flat_map(|(x, y)| [(*x, y), (x + dt, y)])
            .collect()
    };
    chart
        .draw_series(LineSeries::new(step(&s.t_h, s.power_kw.clone()), &BLUE))
        .map_err(|e| e.to_string())?
        .label("site power (chargers' records)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    if s.limit_kw.iter().all(Option::is_some) {
        let limits = s.limit_kw.iter().map(|l| l.unwrap_or(0.0)).collect();
        chart
            .draw_series(LineSeries::new(step(&s.t_h, limits), &RED))
            .map_err(|e| e.to_string())?
            .label("limit in force")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn sessions(report: &RunReport, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut s: Vec<(f64, f64)> = report
        .session_records
        .iter()
        .map(|x| (x.requested.0 / 1000.0, x.delivered.0 / 1000.0))
        .collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = s.len().max(1) as f64;
    let y_max = s.iter().map(|x| x.0.max(x.1)).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption("energy per session (sorted by need)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n, 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("session")
        .y_desc("kWh")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            s.iter()
                .enumerate()
                .map(|(i, x)| Circle::new((i as f64 + 0.5, x.0), 2, BLACK.filled())),
        )
        .map_err(|e| e.to_string())?
        .label("wanted")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLACK.filled()));
    chart
        .draw_series(
            s.iter()
                .enumerate()
                .map(|(i, x)| Circle::new((i as f64 + 0.5, x.1), 2, GREEN.filled())),
        )
        .map_err(|e| e.to_string())?
        .label("delivered")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, GREEN.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

fn latency(report: &RunReport, path: &Path) -> Result<()> {
    let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let buckets = report.ocpp.latency.buckets_ms();
    let x_min = buckets.first().map_or(0.01, |b| b.0 / 1.2).max(0.001);
    let x_max = buckets.last().map_or(10.0, |b| b.0 * 1.2).max(x_min * 10.0);
    let y_max = buckets.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption("OCPP round-trip latency (all actions)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("ms (log, 2 % buckets)")
        .y_desc("calls")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(buckets.iter().map(|(ms, n)| {
            Rectangle::new([(ms / 1.02, 0.0), (*ms, *n as f64)], BLUE.mix(0.7).filled())
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

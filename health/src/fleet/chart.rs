//! An SVG chart of SoH over time for a fleet, written by hand: a few polylines and labels are
//! simpler to produce, review and test as text than a plotting crate's backend, and add no
//! dependency (plotters' SVG backend would pull in font handling for the labels). Each vehicle
//! is a line through the rolling median of its last five per-session SoH values.

use super::rollup::FleetReport;
use crate::stats::median;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;

/// Chart layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartOptions {
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    /// Title.
    pub title: String,
    /// A dashed reference line (the alert threshold), percent.
    pub threshold_pct: Option<f64>,
    /// Legend entries shown at most (the rest are drawn unlabelled).
    pub max_legend: usize,
}

impl Default for ChartOptions {
    fn default() -> Self {
        Self {
            width: 900,
            height: 500,
            title: "Battery state of health over time".to_string(),
            threshold_pct: Some(80.0),
            max_legend: 12,
        }
    }
}

/// One vehicle's line: (time, SoH) pairs.
type Line = Vec<(DateTime<Utc>, f64)>;

const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let cur = lines.last_mut().expect("one line");
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    lines
}

fn rolling_median(ys: &[f64], w: usize) -> Vec<f64> {
    (0..ys.len())
        .filter_map(|i| median(&ys[i.saturating_sub(w - 1)..=i]))
        .collect()
}

/// The fleet's SoH-over-time chart as an SVG document.
pub fn soh_chart_svg(report: &FleetReport, opts: &ChartOptions) -> String {
    let series: Vec<(String, Line)> = report
        .vehicles
        .iter()
        .filter(|v| !v.history.is_empty())
        .map(|v| {
            let ys: Vec<f64> = v.history.iter().map(|p| p.soh_pct).collect();
            let smooth = rolling_median(&ys, 5);
            let name = v.label.clone().unwrap_or_else(|| v.vehicle.to_string());
            (name, v.history.iter().map(|p| p.at).zip(smooth).collect())
        })
        .collect();
    let (w, h) = (f64::from(opts.width), f64::from(opts.height));
    let (left, right, top, bottom) = (60.0, 160.0, 40.0, 70.0);
    let all: Vec<&(DateTime<Utc>, f64)> = series.iter().flat_map(|s| s.1.iter()).collect();
    let t0 = all.iter().map(|p| p.0).min();
    let t1 = all.iter().map(|p| p.0).max();
    let mut ymin = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut ymax = all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if let Some(th) = opts.threshold_pct {
        ymin = ymin.min(th);
        ymax = ymax.max(th);
    }
    if !ymin.is_finite() {
        (ymin, ymax) = (70.0, 100.0);
    }
    let (ymin, ymax) = (
        ((ymin - 2.0) / 5.0).floor() * 5.0,
        ((ymax + 2.0) / 5.0).ceil() * 5.0,
    );
    let span_s = match (t0, t1) {
        (Some(a), Some(b)) => ((b - a).num_seconds() as f64).max(1.0),
        _ => 1.0,
    };
    let px = |t: DateTime<Utc>| {
        left + t0.map_or(0.0, |a| (t - a).num_seconds() as f64 / span_s) * (w - left - right)
    };
    let py = |y: f64| top + (ymax - y) / (ymax - ymin) * (h - top - bottom);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="24" font-size="16">{}</text>"#,
        esc(&opts.title)
    );
    // Axes and y grid.
    let mut y = ymin;
    while y <= ymax + 1e-9 {
        let yy = py(y);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" text-anchor="end">{y:.0} %</text>"##,
            w - right,
            left - 6.0,
            yy + 4.0
        );
        y += 5.0;
    }
    if let (Some(a), Some(_)) = (t0, t1) {
        for k in 0..=4 {
            let t = a + chrono::Duration::seconds((span_s * f64::from(k) / 4.0) as i64);
            let xx = px(t);
            let _ = writeln!(
                s,
                r#"<text x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                h - bottom + 18.0,
                t.format("%Y-%m-%d")
            );
        }
    }
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#333"/><line x1="{left}" y1="{top}" x2="{left}" y2="{0:.1}" stroke="#333"/>"##,
        h - bottom,
        w - right
    );
    if let Some(th) = opts.threshold_pct {
        let yy = py(th);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#d62728" stroke-dasharray="6 4"/>"##,
            w - right
        );
    }
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|(t, y)| format!("{:.1},{:.1}", px(*t), py(*y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"><title>{}</title></polyline>"#,
            path.join(" "),
            esc(name)
        );
        if i < opts.max_legend {
            let ly = top + 16.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                w - right + 10.0,
                ly,
                w - right + 24.0,
                ly + 9.0,
                esc(name)
            );
        }
    }
    let note = format!(
        "Each line: rolling median of 5 sessions. {}",
        crate::DISCLAIMER
    );
    let lines = wrap(&note, ((w - 2.0 * left) / 5.5).max(20.0) as usize);
    for (k, line) in lines.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="{left}" y="{:.1}" font-size="10" fill="#555">{}</text>"##,
            h - bottom + 36.0 + 12.0 * k as f64,
            esc(line)
        );
    }
    s.push_str("</svg>\n");
    s
}

//! Site power from the chargers' own records: each EVSE's power spans are spread over fixed
//! buckets of simulated time and summed per site, so a bucket holds the site's mean power.
//! The limit in force is averaged over the bucket the same way (grid limit, lowered by
//! demand-response windows), which makes "power ≤ limit" an energy comparison per bucket.

use chargegrid_core::network::{Network, Site};
use chrono::{DateTime, Utc};

use super::SiteSeries;
use crate::charger::ChargerRecord;
use crate::ev::AC_VOLTS_NOMINAL;
use crate::scenario::LimitWindow;

/// A site's grid limit in W (a current limit counts as the weakest phase × 230 V × 3).
pub fn grid_limit_w(site: &Site) -> Option<f64> {
    let p = site.grid_limit.max_power.map(|w| w.0);
    let c = site
        .grid_limit
        .max_current
        .map(|c| c.0.iter().map(|a| a.0).fold(f64::INFINITY, f64::min) * AC_VOLTS_NOMINAL * 3.0);
    match (p, c) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

/// Bucket-mean power and limit of every site that has simulated chargers.
pub fn site_series(
    network: &Network,
    records: &[ChargerRecord],
    windows: &[LimitWindow],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    bucket_s: u32,
) -> Vec<SiteSeries> {
    let bucket = f64::from(bucket_s.max(1));
    let total = secs(start, end).max(bucket);
    let n = (total / bucket).ceil() as usize;
    let mut out = Vec::new();
    for site in &network.sites {
        let recs: Vec<&ChargerRecord> = records.iter().filter(|r| r.site == site.id).collect();
        if recs.is_empty() {
            continue;
        }
        let mut energy = vec![0.0f64; n];
        for r in recs {
            for span in &r.power {
                let (a, b) = (
                    secs(start, span.from).max(0.0),
                    secs(start, span.to).min(total),
                );
                if b <= a {
                    continue;
                }
                let mut i = (a / bucket) as usize;
                while i < n && (i as f64) * bucket < b {
                    let lo = a.max(i as f64 * bucket);
                    let hi = b.min((i + 1) as f64 * bucket);
                    energy[i] += span.power.0 * (hi - lo).max(0.0);
                    i += 1;
                }
            }
        }
        let grid = grid_limit_w(site);
        let site_windows: Vec<&LimitWindow> =
            windows.iter().filter(|w| w.site == site.id).collect();
        let limit_kw = (0..n)
            .map(|i| {
                let (lo, hi) = (i as f64 * bucket, ((i + 1) as f64 * bucket).min(total));
                let len = (hi - lo).max(1e-9);
                // Integrate the limit over the bucket at 1-second resolution of window edges.
                let mut edges = vec![lo, hi];
                for w in &site_windows {
                    for t in [secs(start, w.from), secs(start, w.to)] {
                        if t > lo && t < hi {
                            edges.push(t);
                        }
                    }
                }
                edges.sort_by(f64::total_cmp);
                let mut integral = 0.0;
                let mut bounded = grid.is_some();
                for pair in edges.windows(2) {
                    let mid = (pair[0] + pair[1]) / 2.0;
                    let dr = site_windows
                        .iter()
                        .filter(|w| secs(start, w.from) <= mid && mid < secs(start, w.to))
                        .map(|w| w.limit.0)
                        .fold(f64::INFINITY, f64::min);
                    let l = grid.unwrap_or(f64::INFINITY).min(dr);
                    if l.is_finite() {
                        integral += l * (pair[1] - pair[0]);
                        bounded = true;
                    } else {
                        bounded = false;
                    }
                }
                bounded.then(|| integral / len / 1000.0)
            })
            .collect();
        out.push(SiteSeries {
            site: site.id.clone(),
            t_h: (0..n).map(|i| i as f64 * bucket / 3600.0).collect(),
            power_kw: (0..n)
                .map(|i| {
                    let len = (((i + 1) as f64 * bucket).min(total) - i as f64 * bucket).max(1e-9);
                    energy[i] / len / 1000.0
                })
                .collect(),
            limit_kw,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charger::PowerSpan;
    use chargegrid_core::limits::Limit;
    use chargegrid_core::network::Location;
    use chargegrid_core::{ChargerId, SiteId, Watts};
    use chrono::Duration;

    #[test]
    fn spans_are_spread_over_buckets_and_windows_lower_the_limit() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let site = SiteId::new("s").unwrap();
        let network = Network {
            sites: vec![Site {
                tariff: None,
                supply: None,
                id: site.clone(),
                name: "S".into(),
                location: Location::new(36.0, 120.0).unwrap(),
                timezone: "UTC".into(),
                grid_limit: Limit::power(Watts(100_000.0)),
                limit_groups: vec![],
                price_per_kwh: None,
                currency: "CNY".into(),
            }],
            chargers: vec![],
        };
        let mut rec = ChargerRecord::new(ChargerId::new("c").unwrap(), site.clone());
        // 50 kW from 0:30 to 1:30 on one EVSE.
        rec.power(PowerSpan {
            from: t0 + Duration::minutes(30),
            to: t0 + Duration::minutes(90),
            evse: 1,
            power: Watts(50_000.0),
            limit: None,
        });
        let windows = vec![LimitWindow {
            site: site.clone(),
            from: t0 + Duration::minutes(60),
            to: t0 + Duration::minutes(90),
            limit: Watts(20_000.0),
            delivered: false,
        }];
        let s = &site_series(
            &network,
            &[rec],
            &windows,
            t0,
            t0 + Duration::hours(2),
            3600,
        )[0];
        assert_eq!(s.power_kw.len(), 2);
        assert!((s.power_kw[0] - 25.0).abs() < 1e-9);
        assert!((s.power_kw[1] - 25.0).abs() < 1e-9);
        assert_eq!(s.limit_kw[0], Some(100.0));
        assert!(
            (s.limit_kw[1].unwrap() - 60.0).abs() < 1e-9,
            "{:?}",
            s.limit_kw
        );
    }
}

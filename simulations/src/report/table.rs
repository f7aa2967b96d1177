//! The KPI table printed at the end of a run.

use std::fmt::Write;

use super::RunReport;

impl RunReport {
    /// The KPIs as a plain-text table.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let r = self;
        let _ = writeln!(t, "scenario {}  against {}", r.scenario, r.target);
        let _ = writeln!(
            t,
            "simulated {} → {} ({:.1} h) at ×{:.0} in {:.1} s wall",
            r.sim_start.format("%Y-%m-%d %H:%M"),
            r.sim_end.format("%Y-%m-%d %H:%M"),
            (r.sim_end - r.sim_start).num_minutes() as f64 / 60.0,
            r.time_scale,
            r.wall_s
        );
        let c = &r.chargers;
        let _ = writeln!(
            t,
            "chargers        {}/{} booted   boot p50 {:.0} ms  p99 {:.0} ms   connects {}  failed {}",
            c.booted, c.total, c.boot_ms_p50, c.boot_ms_p99, c.connects, c.connect_failures
        );
        let e = &r.energy;
        let _ = writeln!(
            t,
            "energy          {:.1} of {:.1} kWh requested delivered ({:.0} %)",
            e.delivered_kwh,
            e.requested_kwh,
            e.delivered_ratio * 100.0
        );
        let s = &r.sessions;
        let _ = writeln!(
            t,
            "sessions        {} planned, {} arrived, {} started, {} fully served, {} refused, {} cut by the end, {} gave up",
            s.planned, s.arrived, s.started, s.fully_served, s.refused, s.cut_by_end, s.gave_up
        );
        let _ = writeln!(
            t,
            "sites           limit kW   peak kW   violations   max excess kW   energy kWh   sessions"
        );
        for site in r.sites.iter().take(30) {
            let _ = writeln!(
                t,
                "  {:<22} {:>8}  {:>8.1}   {:>10}   {:>13.1}   {:>10.1}   {:>8}",
                site.site.as_str(),
                site.limit_kw.map_or("-".into(), |l| format!("{l:.1}")),
                site.peak_kw,
                site.violations,
                site.max_excess_kw.max(0.0),
                site.energy_kwh,
                site.sessions
            );
        }
        if r.sites.len() > 30 {
            let _ = writeln!(t, "  ... {} more sites in result.json", r.sites.len() - 30);
        }
        let l = &r.limits;
        let _ = writeln!(
            t,
            "limits          {} violating buckets; profiles {} received, {} accepted; {} steps over a charger's own limit",
            l.violations, l.profiles_received, l.profiles_accepted, l.own_limit_exceeded_steps
        );
        for w in &l.demand_response {
            let _ = writeln!(
                t,
                "  demand response {} {:.0} kW {} → {}  signal delivered: {}",
                w.site,
                w.limit.0 / 1000.0,
                w.from.format("%H:%M"),
                w.to.format("%H:%M"),
                w.delivered
            );
        }
        let d = &r.drivers;
        let _ = writeln!(
            t,
            "drivers         {} waited (p50 {:.0} min, p95 {:.0}, max {:.0}); dispatch {:?}; distance {:.1} km, detour mean {:.1} max {:.1} km",
            d.waited,
            d.wait_min_p50,
            d.wait_min_p95,
            d.wait_min_max,
            d.dispatch,
            d.distance_km_mean,
            d.detour_km_mean,
            d.detour_km_max
        );
        for p in &d.dispatch_problems {
            let _ = writeln!(t, "  dispatch: {p}");
        }
        let o = &r.ocpp;
        let _ = writeln!(
            t,
            "ocpp            {} calls ({:.0}/s), {} errors/timeouts, {} sent after being queued offline ({} refused); p50 {:.1} ms p99 {:.1} ms",
            o.messages_sent,
            o.messages_per_s,
            o.errors,
            o.replayed,
            o.replay_errors,
            o.latency.quantile_ms(0.5),
            o.latency.quantile_ms(0.99)
        );
        for a in &o.actions {
            let _ = writeln!(
                t,
                "  {:<24} {:>8} sent   p50 {:>7.1} ms   p99 {:>7.1} ms   errors {}  timeouts {}",
                a.action, a.sent, a.p50_ms, a.p99_ms, a.errors, a.timeouts
            );
        }
        if !o.csms_calls.is_empty() {
            let _ = writeln!(t, "  CSMS calls received: {:?}", o.csms_calls);
        }
        let _ = writeln!(t, "problems        {}", r.error_count);
        for e in r.errors.iter().take(10) {
            let _ = writeln!(t, "  {e}");
        }
        t
    }
}

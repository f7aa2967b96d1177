//! The control loop's Prometheus metrics, registered into the registry the binary passes in.
//! Labels are bounded: a site id, a purpose, an outcome or a trigger; never a charger, a
//! session or a driver.

use prometheus::{
    CounterVec, GaugeVec, Histogram, HistogramOpts, HistogramVec, Opts, Registry,
    exponential_buckets,
};

/// Every metric of the scheduler service.
#[derive(Debug, Clone)]
pub struct SchedulerMetrics {
    /// `chargegrid_scheduler_site_limit_watts{site}`: the site limit in force (grid limit and
    /// demand-response windows).
    pub limit_watts: GaugeVec,
    /// `chargegrid_scheduler_site_allocated_watts{site}`: power handed out (sessions plus what
    /// is held for offline or excluded chargers).
    pub allocated_watts: GaugeVec,
    /// `chargegrid_scheduler_site_drawn_watts{site}`: metered power of the site's sessions.
    pub drawn_watts: GaugeVec,
    /// `chargegrid_scheduler_site_headroom_watts{site}`: what the site has left.
    pub headroom_watts: GaugeVec,
    /// `chargegrid_scheduler_site_month_peak_watts{site}`: the site's highest quarter-hour
    /// demand this billing month (sites whose supply contract has a demand charge).
    pub month_peak_watts: GaugeVec,
    /// `chargegrid_scheduler_statement_correction{site}`: the factor a driver's stated energy is
    /// planned at (median delivered ÷ stated of the site's recent statements); absent until
    /// enough have ended.
    pub statement_correction: GaugeVec,
    /// `chargegrid_scheduler_arrivals_expected_wh{site}`: the energy the site's habit expects to
    /// arrive in the next 24 hours (sites with supply prices; absent elsewhere).
    pub arrivals_expected_wh: GaugeVec,
    /// `chargegrid_scheduler_sessions_scheduled{site}`: sessions in the last allocation.
    pub sessions: GaugeVec,
    /// `chargegrid_scheduler_leader{site}`: 1 while this instance holds the site's lease.
    pub leader: GaugeVec,
    /// `chargegrid_scheduler_chargers_excluded{site}`: chargers assumed to draw their maximum
    /// (profiles refused or ignored).
    pub excluded: GaugeVec,
    /// `chargegrid_scheduler_profiles_sent_total{site,purpose,outcome}`: outcome is
    /// accepted, rejected (a refusal or call error), or failed (no answer, offline).
    pub profiles_sent: CounterVec,
    /// `chargegrid_scheduler_profiles_ignored_total{site}`: metered draw found clearly above
    /// an accepted limit.
    pub profiles_ignored: CounterVec,
    /// `chargegrid_scheduler_readback_mismatches_total{site}`: a composite schedule read back
    /// above what was sent.
    pub readback_mismatches: CounterVec,
    /// `chargegrid_scheduler_reallocations_total{site,trigger}`: passes, by what started them
    /// (change, periodic, takeover, retry).
    pub reallocations: CounterVec,
    /// `chargegrid_scheduler_lease_acquired_total{site}`: times this instance became leader.
    pub lease_acquired: CounterVec,
    /// `chargegrid_scheduler_allocation_seconds`: time in the pure allocation (both passes).
    pub alloc_seconds: Histogram,
    /// `chargegrid_scheduler_pass_seconds{trigger}`: a whole pass, from its trigger (the change
    /// notice for changes) to the last profile answered and the allocation written.
    pub pass_seconds: HistogramVec,
}

impl SchedulerMetrics {
    /// Creates a site's counters at 0 when its task starts, so rates and alerts work before
    /// the first event.
    pub fn touch_site(&self, site: &str) {
        self.profiles_ignored.with_label_values(&[site]);
        self.readback_mismatches.with_label_values(&[site]);
        for outcome in ["accepted", "rejected", "failed"] {
            self.profiles_sent
                .with_label_values(&[site, "tx_default", outcome]);
        }
    }

    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauge = |name: &str, help: &str| -> Result<GaugeVec, prometheus::Error> {
            let g = GaugeVec::new(Opts::new(name, help), &["site"])?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let counter =
            |name: &str, help: &str, labels: &[&str]| -> Result<CounterVec, prometheus::Error> {
                let c = CounterVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        let alloc_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "chargegrid_scheduler_allocation_seconds",
                "Time spent in the pure allocation of one site",
            )
            .buckets(exponential_buckets(1e-5, 4.0, 10)?),
        )?;
        registry.register(Box::new(alloc_seconds.clone()))?;
        let pass_seconds = HistogramVec::new(
            HistogramOpts::new(
                "chargegrid_scheduler_pass_seconds",
                "Time from a pass's trigger to its profiles answered and allocation written",
            )
            .buckets(exponential_buckets(0.005, 2.0, 14)?),
            &["trigger"],
        )?;
        registry.register(Box::new(pass_seconds.clone()))?;
        Ok(Self {
            limit_watts: gauge(
                "chargegrid_scheduler_site_limit_watts",
                "Site limit in force (grid limit and demand-response windows)",
            )?,
            allocated_watts: gauge(
                "chargegrid_scheduler_site_allocated_watts",
                "Power allocated at the site, including holds for offline or excluded chargers",
            )?,
            drawn_watts: gauge(
                "chargegrid_scheduler_site_drawn_watts",
                "Metered power of the site's sessions",
            )?,
            headroom_watts: gauge(
                "chargegrid_scheduler_site_headroom_watts",
                "Power the site has left after the allocation",
            )?,
            month_peak_watts: gauge(
                "chargegrid_scheduler_site_month_peak_watts",
                "Highest quarter-hour demand of the site this billing month (demand-charged sites)",
            )?,
            statement_correction: gauge(
                "chargegrid_scheduler_statement_correction",
                "Factor a driver's stated energy is planned at (median delivered / stated at the site)",
            )?,
            arrivals_expected_wh: gauge(
                "chargegrid_scheduler_arrivals_expected_wh",
                "Energy the site's habit expects to arrive in the next 24 hours (sites with supply prices)",
            )?,
            sessions: gauge(
                "chargegrid_scheduler_sessions_scheduled",
                "Sessions in the site's last allocation",
            )?,
            leader: gauge(
                "chargegrid_scheduler_leader",
                "1 while this instance holds the site's lease, 0 on standby",
            )?,
            excluded: gauge(
                "chargegrid_scheduler_chargers_excluded",
                "Chargers assumed to draw their maximum because they refuse or ignore profiles",
            )?,
            profiles_sent: counter(
                "chargegrid_scheduler_profiles_sent_total",
                "Charging profiles sent, by purpose and outcome (accepted, rejected, failed)",
                &["site", "purpose", "outcome"],
            )?,
            profiles_ignored: counter(
                "chargegrid_scheduler_profiles_ignored_total",
                "Sessions metered clearly above their accepted limit",
                &["site"],
            )?,
            readback_mismatches: counter(
                "chargegrid_scheduler_readback_mismatches_total",
                "Composite schedules read back above the limit sent",
                &["site"],
            )?,
            reallocations: counter(
                "chargegrid_scheduler_reallocations_total",
                "Allocation passes, by trigger (change, periodic, takeover, retry)",
                &["site", "trigger"],
            )?,
            lease_acquired: counter(
                "chargegrid_scheduler_lease_acquired_total",
                "Times this instance took a site's lease",
                &["site"],
            )?,
            alloc_seconds,
            pass_seconds,
        })
    }
}

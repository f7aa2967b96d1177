//! The scenario file (TOML). Paths inside it are relative to the file. Times are simulated:
//! `start` (RFC 3339 UTC, default: when the run starts), `duration_h`, and `time_scale`
//! simulated seconds per wall second.

use std::path::{Path, PathBuf};

use chargegrid_core::SiteId;
use chargegrid_core::network::Network;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::generate::NetworkGenerator;
use crate::SimError;
use crate::charger::Quirks;
use crate::ev::{Distribution, VehicleKind};

/// A scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (used for output file names).
    pub name: String,
    /// What it shows.
    #[serde(default)]
    pub description: String,
    /// The network file the server must have (same format as `examples/network.toml`).
    #[serde(default)]
    pub network: Option<PathBuf>,
    /// Or a generated network (many sites / chargers); the server needs it too (see
    /// [`Scenario::network_toml`]).
    #[serde(default)]
    pub generate_network: Option<NetworkGenerator>,
    /// Simulate only these sites' chargers (default: all).
    #[serde(default)]
    pub sites: Vec<SiteId>,
    /// Simulated start (default: the start of the run, to the minute). A start in the past
    /// makes the server see every message as sent late (offline); prefer `start_hour_utc`.
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// Start at the next occurrence of this UTC hour (e.g. 10 = 18:00 in Qingdao), so the run
    /// has the scenario's time of day while its timestamps stay ahead of the server's clock.
    #[serde(default)]
    pub start_hour_utc: Option<u32>,
    /// Simulated duration, hours.
    pub duration_h: f64,
    /// Simulated seconds per wall second.
    pub time_scale: f64,
    /// Simulated seconds between periodic meter values.
    #[serde(default = "default_meter_interval")]
    pub meter_interval_s: u32,
    /// Simulated seconds per KPI / plot bucket (site power is averaged over a bucket).
    #[serde(default = "default_sample_interval")]
    pub sample_interval_s: u32,
    /// Physics step, simulated seconds (default: the meter interval, at most 60).
    #[serde(default)]
    pub step_s: Option<u32>,
    /// Heartbeat interval in wall seconds (default: what BootNotification returns).
    #[serde(default)]
    pub heartbeat_wall_s: Option<u64>,
    /// RNG seed: the same seed gives the same EVs.
    #[serde(default)]
    pub seed: u64,
    /// How the chargers come up.
    #[serde(default)]
    pub boot: BootPlan,
    /// EV arrivals from distributions.
    #[serde(default)]
    pub arrivals: Vec<ArrivalGroup>,
    /// EV arrivals replayed from ACN-Data.
    #[serde(default)]
    pub acn: Option<AcnReplay>,
    /// Drivers without a site are dispatched.
    #[serde(default)]
    pub dispatch: Option<DispatchPlan>,
    /// Demand response and outages.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Misbehaving chargers.
    #[serde(default)]
    pub quirks: Vec<QuirkAssignment>,
    /// The directory the file was read from (paths inside are relative to it).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn default_meter_interval() -> u32 {
    60
}

fn default_sample_interval() -> u32 {
    300
}

/// How chargers connect at the start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootPlan {
    /// Spread first connections over this many wall seconds (0: all at once, a boot storm).
    #[serde(default)]
    pub spread_s: f64,
}

/// A group of EVs with the same kind of visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalGroup {
    /// The site they go to; none: dispatched (see [`Scenario::dispatch`]).
    #[serde(default)]
    pub site: Option<SiteId>,
    /// How many.
    pub count: usize,
    /// Vehicle type.
    pub vehicle: VehicleKind,
    /// Arrival, hours after the start.
    pub arrive_h: Distribution,
    /// Stay, hours.
    pub stay_h: Distribution,
    /// SoC at arrival, percent.
    pub arrival_soc_pct: Distribution,
    /// SoC the car stops at, percent.
    #[serde(default = "default_target")]
    pub target_soc_pct: f64,
    /// Energy wanted, kWh (default: enough to reach the target SoC).
    #[serde(default)]
    pub energy_kwh: Option<Distribution>,
    /// Wants DC.
    #[serde(default)]
    pub dc: bool,
}

fn default_target() -> f64 {
    90.0
}

/// Arrivals from an ACN-Data file: one day's sessions, shifted so the day starts at the
/// scenario start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcnReplay {
    /// The `.csv.gz` file (relative to the scenario file).
    pub file: PathBuf,
    /// The site whose chargers take the sessions.
    pub site: SiteId,
    /// The day to replay (UTC date of arrival; default: the day with most sessions).
    #[serde(default)]
    pub day: Option<NaiveDate>,
    /// At most this many sessions (the earliest).
    #[serde(default)]
    pub max_sessions: Option<usize>,
    /// Vehicle type of every car.
    #[serde(default = "default_acn_vehicle")]
    pub vehicle: VehicleKind,
}

fn default_acn_vehicle() -> VehicleKind {
    VehicleKind::SmallCar
}

/// Where dispatched drivers are and how they choose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchPlan {
    /// Drivers start within `radius_km` of this point.
    pub center_lat: f64,
    /// Longitude of the centre.
    pub center_lon: f64,
    /// Radius, km.
    pub radius_km: f64,
    /// Ask the server's recommendation API (else: nearest site).
    #[serde(default = "yes")]
    pub use_api: bool,
    /// Detour drivers accept, km.
    #[serde(default)]
    pub max_detour_km: Option<f64>,
}

fn yes() -> bool {
    true
}

/// Something that happens during the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// The grid operator asks a site to stay under `limit_kw` for a while.
    DemandResponse {
        /// The site.
        site: SiteId,
        /// Start, hours after the run's start.
        at_h: f64,
        /// Length, hours.
        duration_h: f64,
        /// The limit, kW.
        limit_kw: f64,
        /// The operator is told this many simulated minutes ahead (as real programmes do).
        #[serde(default = "default_notice")]
        notice_min: f64,
    },
    /// A share of the chargers loses its network for a while (simulated minutes).
    Outage {
        /// Start, hours after the run's start.
        at_h: f64,
        /// Length, simulated minutes.
        duration_min: f64,
        /// Share of chargers affected (0..=1).
        #[serde(default = "one")]
        share: f64,
    },
}

fn default_notice() -> f64 {
    15.0
}

fn one() -> f64 {
    1.0
}

/// Quirks for some chargers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuirkAssignment {
    /// These chargers.
    #[serde(default)]
    pub chargers: Vec<String>,
    /// Or this share of all chargers (chosen with the seed).
    #[serde(default)]
    pub share: f64,
    /// The quirks.
    pub quirks: Quirks,
}

/// Reads and checks a scenario file.
pub fn load_scenario(path: &Path) -> Result<Scenario, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let mut s: Scenario = toml::from_str(&text)
        .map_err(|e| SimError::invalid(path.display().to_string(), e.to_string()))?;
    s.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    s.check()?;
    Ok(s)
}

impl Scenario {
    /// Checks the numbers and that the network can be built.
    pub fn check(&self) -> Result<(), SimError> {
        let bad = |m: &str| Err(SimError::invalid(format!("scenario {}", self.name), m));
        if !(self.duration_h > 0.0 && self.duration_h.is_finite()) {
            return bad("duration_h must be positive");
        }
        if !(self.time_scale > 0.0 && self.time_scale.is_finite()) {
            return bad("time_scale must be positive");
        }
        if self.start_hour_utc.is_some_and(|h| h > 23) {
            return bad("start_hour_utc must be 0-23");
        }
        if self.meter_interval_s == 0 || self.sample_interval_s == 0 {
            return bad("intervals must be positive");
        }
        if self.network.is_some() == self.generate_network.is_some() {
            return bad("name exactly one of network and generate_network");
        }
        let network = self.network()?;
        for site in self
            .sites
            .iter()
            .chain(self.arrivals.iter().filter_map(|a| a.site.as_ref()))
        {
            if !network.sites.iter().any(|s| &s.id == site) {
                return bad(&format!("unknown site {site}"));
            }
        }
        if self.arrivals.iter().any(|a| a.site.is_none()) && self.dispatch.is_none() {
            return bad("arrivals without a site need a [dispatch] section");
        }
        Ok(())
    }

    /// The simulated start for a run beginning at `now`.
    pub fn start_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if let Some(s) = self.start {
            return s;
        }
        let minute = now - chrono::Duration::seconds(i64::from(now.timestamp() as u32 % 60));
        match self.start_hour_utc {
            None => minute,
            Some(h) => {
                let today = now
                    .date_naive()
                    .and_hms_opt(h, 0, 0)
                    .map_or(minute, |t| t.and_utc());
                if today >= now {
                    today
                } else {
                    today + chrono::Duration::days(1)
                }
            }
        }
    }

    /// A path from the file, made relative to the file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The network (read and validated, or generated).
    pub fn network(&self) -> Result<Network, SimError> {
        let network = match (&self.network, &self.generate_network) {
            (Some(file), _) => {
                let path = self.resolve(file);
                let text = std::fs::read_to_string(&path).map_err(|source| SimError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                toml::from_str::<Network>(&text)
                    .map_err(|e| SimError::invalid(path.display().to_string(), e.to_string()))?
            }
            (None, Some(g)) => g.generate()?,
            (None, None) => return Err(SimError::invalid("scenario", "no network")),
        };
        network
            .validate()
            .map_err(|e| SimError::invalid("network", e.to_string()))?;
        Ok(network)
    }

    /// The network as TOML, to give the server (`--network`) for generated networks.
    pub fn network_toml(&self) -> Result<String, SimError> {
        toml::to_string(&self.network()?).map_err(|e| SimError::invalid("network", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_loads_and_plans_its_evs() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".toml") || name.ends_with("-network.toml") {
                continue;
            }
            let s = load_scenario(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            let network = s.network().unwrap();
            let start = s.start_at(Utc::now());
            let plans = super::super::plan_evs(&s, &network, start)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                plans.windows(2).all(|w| w[0].arrival <= w[1].arrival),
                "{name}"
            );
            if !s.arrivals.is_empty() || s.acn.is_some() {
                assert!(!plans.is_empty(), "{name} plans EVs");
            }
            names.push(s.name);
        }
        names.sort();
        assert_eq!(
            names,
            [
                "boot-storm",
                "city-dispatch",
                "demand-response",
                "depot-overnight",
                "highway-hub",
                "mass-reconnect",
                "workplace-acn"
            ]
        );
    }

    #[test]
    fn bad_scenarios_are_refused_with_a_reason() {
        let mut s: Scenario = toml::from_str(
            "name = \"x\"\nduration_h = 1.0\ntime_scale = 10.0\nnetwork = \"depot-network.toml\"",
        )
        .unwrap();
        s.base_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        s.check().unwrap();
        s.duration_h = 0.0;
        assert!(s.check().is_err());
        s.duration_h = 1.0;
        s.sites = vec![SiteId::new("nowhere").unwrap()];
        assert!(s.check().unwrap_err().to_string().contains("unknown site"));
        assert!(
            toml::from_str::<Scenario>(
                "name = \"x\"\nduration_h = 1.0\ntime_scale = 1.0\nbogus = 1"
            )
            .is_err()
        );
    }
}

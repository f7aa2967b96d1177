//! Charge detail records: what a driver is billed for one session, shaped close to OCPI 2.2's
//! CDR (start and end, energy, charging and idle time, cost lines per tariff element and
//! period, the tariff, how the session was authorised, where) so roaming can follow.
//!
//! A record is issued once per ended session and never changes; a correction is a new record
//! that names the one it corrects and carries the difference.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::meter::MeterSample;
use crate::network::Location;
use crate::session::{Session, StopReason};
use chrono::{Duration, TimeZone};

use crate::meter::{MeterSeries, UNKNOWN_CHARGER_MAX};
use crate::tariff::{
    CHARGING_THRESHOLD_W, CostKind, CostLine, Priced, Tariff, minor_digits, round,
};
use crate::{ChargerId, ConnectorId, DriverId, EvseId, FleetId, IdTag, SessionId, SiteId};
use crate::{VehicleId, WattHours};

/// How the session was authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// An RFID card or other token presented at the charger.
    IdTag,
    /// Started from the app or by an operator (OCPP remote start).
    Remote,
    /// Free vending or a charger that asked nobody.
    None,
}

/// One charge detail record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cdr {
    /// `cdr-<session>` for the first record of a session, `cdr-<session>-c<n>` for its n-th
    /// correction.
    pub id: String,
    /// The session.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub session: SessionId,
    /// The record this one corrects (its amounts are the difference to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// Why it was corrected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Where.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub site: SiteId,
    /// The site's position, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::network::LatLon>))]
    pub location: Option<Location>,
    /// Which charger.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub charger: ChargerId,
    /// Which EVSE.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub evse: EvseId,
    /// Which connector.
    #[cfg_attr(feature = "openapi", schema(value_type = u32))]
    pub connector: ConnectorId,
    /// The driver, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub driver: Option<DriverId>,
    /// The fleet, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub fleet: Option<FleetId>,
    /// The vehicle, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub vehicle: Option<VehicleId>,
    /// The token used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub id_tag: Option<IdTag>,
    /// How it was authorised.
    pub auth_method: AuthMethod,
    /// Start (UTC).
    pub started_at: DateTime<Utc>,
    /// End (UTC).
    pub ended_at: DateTime<Utc>,
    /// Energy delivered, Wh.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub energy: WattHours,
    /// Why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub stop_reason: Option<StopReason>,
    /// The priced session; absent when the session had no tariff (a free site, or a charger
    /// nobody registered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Priced>,
}

impl Cdr {
    /// The id of a session's first record.
    pub fn id_of(session: &SessionId) -> String {
        format!("cdr-{session}")
    }

    /// The record of an ended `session` priced on the tariff it started with, in time zone
    /// `tz` of its site. A session without an end is priced as ending at `issued_at`.
    pub fn issue(
        session: &Session,
        samples: &[MeterSample],
        tz: chrono_tz::Tz,
        location: Option<Location>,
        issued_at: DateTime<Utc>,
    ) -> Self {
        let ended_at = session
            .ended_at
            .unwrap_or(issued_at)
            .max(session.started_at);
        let remote = session
            .start_reason
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().contains("remote"));
        let auth_method = if remote {
            AuthMethod::Remote
        } else if session.id_tag.is_some() {
            AuthMethod::IdTag
        } else {
            AuthMethod::None
        };
        Self {
            id: Self::id_of(&session.id),
            session: session.id.clone(),
            corrects: None,
            reason: None,
            issued_at,
            site: session.site.clone(),
            location,
            charger: session.charger.clone(),
            evse: session.evse,
            connector: session.connector,
            driver: session.driver.clone(),
            fleet: session.fleet.clone(),
            vehicle: session.vehicle.clone(),
            id_tag: session.id_tag.clone(),
            auth_method,
            started_at: session.started_at,
            ended_at,
            energy: session.energy,
            stop_reason: session.stop_reason.clone(),
            cost: session
                .tariff
                .as_ref()
                .map(|t| price(t, session, samples, ended_at, &tz)),
        }
    }

    /// The next correction of this record, given every record of its session so far
    /// (`issued`, this one included): the session's figures, with one adjustment line that
    /// brings what the records add up to to `new_total` (so the sum of a session's records is
    /// what the driver owes). A record without cost cannot be corrected into one.
    pub fn correction(
        &self,
        issued: &[Cdr],
        new_total: f64,
        reason: String,
        issued_at: DateTime<Utc>,
    ) -> Option<Self> {
        let cost = self.cost.as_ref()?;
        let owed: f64 = issued
            .iter()
            .filter_map(|c| c.cost.as_ref().map(|p| p.total))
            .sum();
        let n = issued.len().max(1);
        let digits = crate::tariff::minor_digits(&cost.currency);
        let f = 10f64.powi(digits);
        let delta = ((new_total - owed) * f).round() / f;
        let line = CostLine {
            kind: CostKind::Adjustment,
            from: self.started_at,
            to: self.ended_at,
            quantity: 1.0,
            unit_price: delta,
            amount: delta,
        };
        Some(Self {
            id: format!("{}-c{n}", Self::id_of(&self.session)),
            corrects: Some(self.id.clone()),
            reason: Some(reason),
            issued_at,
            cost: Some(Priced {
                lines: vec![line],
                subtotal: delta,
                tax: 0.0,
                total: delta,
                ..cost.clone()
            }),
            ..self.clone()
        })
    }
}

/// Prices `session` (with its meter `samples`) as if it ended at `end` (its end when it has
/// one): the cost lines of a charge detail record, or the cost so far of a live session.
pub fn price<Z: TimeZone>(
    tariff: &Tariff,
    session: &Session,
    samples: &[MeterSample],
    end: DateTime<Utc>,
    tz: &Z,
) -> Priced {
    let start = session.started_at;
    let end = session.ended_at.unwrap_or(end).max(start);
    let flows = energy_flows(session, samples, end);
    let charging_ended_at = flows
        .iter()
        .filter(|f| f.average_w() >= CHARGING_THRESHOLD_W)
        .map(|f| f.to)
        .max()
        .unwrap_or(end)
        .clamp(start, end);
    let digits = minor_digits(&tariff.currency);
    let mut lines = Vec::new();
    if tariff.session_fee > 0.0 {
        lines.push(CostLine {
            kind: CostKind::SessionFee,
            from: start,
            to: end,
            quantity: 1.0,
            unit_price: tariff.session_fee,
            amount: round(tariff.session_fee, digits),
        });
    }
    // Energy and time per constant-price period.
    let cuts = tariff.boundaries(start, end, tz);
    let mut energy: Vec<(DateTime<Utc>, DateTime<Utc>, f64, f64)> = Vec::new();
    let mut time: Vec<(DateTime<Utc>, DateTime<Utc>, f64, f64)> = Vec::new();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let mid = a + (b - a) / 2;
        let (energy_price, time_price) = tariff.prices_at(mid, tz);
        let kwh: f64 = flows.iter().map(|f| f.wh_within(a, b)).sum::<f64>() / 1000.0;
        merge(&mut energy, a, b, kwh, energy_price);
        let charging_to = b.min(charging_ended_at);
        if charging_to > a {
            let hours = (charging_to - a).num_milliseconds() as f64 / 3_600_000.0;
            merge(&mut time, a, charging_to, hours, time_price);
        }
    }
    for (from, to, kwh, price) in energy {
        if kwh > 0.0 {
            lines.push(CostLine {
                kind: CostKind::Energy,
                from,
                to,
                quantity: round(kwh, 4),
                unit_price: price,
                amount: round(kwh * price, digits),
            });
        }
    }
    if tariff.time_per_hour > 0.0 || tariff.windows.iter().any(|w| w.time_per_hour.is_some()) {
        for (from, to, hours, price) in time {
            if price > 0.0 {
                lines.push(CostLine {
                    kind: CostKind::Time,
                    from,
                    to,
                    quantity: round(hours, 4),
                    unit_price: price,
                    amount: round(hours * price, digits),
                });
            }
        }
    }
    let idle_seconds = (end - charging_ended_at).num_seconds().max(0);
    let billable_from = charging_ended_at + Duration::minutes(i64::from(tariff.idle_grace_minutes));
    if tariff.idle_per_minute > 0.0 && end > billable_from {
        let minutes = (end - billable_from).num_milliseconds() as f64 / 60_000.0;
        lines.push(CostLine {
            kind: CostKind::Idle,
            from: billable_from,
            to: end,
            quantity: round(minutes, 2),
            unit_price: tariff.idle_per_minute,
            amount: round(minutes * tariff.idle_per_minute, digits),
        });
    }
    let subtotal = round(lines.iter().map(|l| l.amount).sum(), digits);
    let tax = round(subtotal * tariff.tax_percent / 100.0, digits);
    Priced {
        tariff_id: tariff.id.clone(),
        currency: tariff.currency.clone(),
        charging_ended_at,
        charging_seconds: (charging_ended_at - start).num_seconds(),
        idle_seconds,
        lines,
        subtotal,
        tax,
        total: round(subtotal + tax, digits),
    }
}

/// Adds `(from, to, quantity)` at `price` to `lines`, extending the last line when it has the
/// same price and ends where this begins.
fn merge(
    lines: &mut Vec<(DateTime<Utc>, DateTime<Utc>, f64, f64)>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    quantity: f64,
    price: f64,
) {
    match lines.last_mut() {
        Some(last) if last.3 == price && last.1 == from => {
            last.1 = to;
            last.2 += quantity;
        }
        _ => lines.push((from, to, quantity, price)),
    }
}

/// Energy that flowed evenly over an interval.
#[derive(Debug, Clone, Copy)]
struct Flow {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    wh: f64,
}

impl Flow {
    fn seconds(&self) -> f64 {
        (self.to - self.from).num_milliseconds() as f64 / 1000.0
    }

    fn average_w(&self) -> f64 {
        let s = self.seconds();
        if s <= 0.0 {
            return 0.0;
        }
        self.wh * 3600.0 / s
    }

    /// The part of it within `[a, b)`.
    fn wh_within(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
        let s = self.seconds();
        if s <= 0.0 {
            // An instantaneous step counts where it happened.
            return if self.to >= a && self.to < b {
                self.wh
            } else {
                0.0
            };
        }
        let lo = self.from.max(a);
        let hi = self.to.min(b);
        if hi <= lo {
            return 0.0;
        }
        self.wh * ((hi - lo).num_milliseconds() as f64 / 1000.0) / s
    }
}

/// When the session's energy flowed: the register's steps as the one counting rule reads them
/// ([`MeterSeries::register_curve`]: phases, units, glitches and resets as the session was
/// counted), scaled to the session's energy.
fn energy_flows(session: &Session, samples: &[MeterSample], end: DateTime<Utc>) -> Vec<Flow> {
    let total = session.energy.value().max(0.0);
    let mut series = MeterSeries::from_samples(samples);
    series
        .points
        .retain(|p| p.at >= session.started_at && p.at <= end);
    let mut flows = Vec::new();
    if let Some(curve) =
        series.register_curve(session.started_at, session.meter_start, UNKNOWN_CHARGER_MAX)
    {
        let mut previous = session.meter_start.map(|_| (session.started_at, 0.0));
        for (p, e) in series.points.iter().zip(&curve.energy) {
            if p.energy.is_none() {
                continue;
            }
            if let Some((t0, e0)) = previous
                && e.0 > e0
            {
                flows.push(Flow {
                    from: t0,
                    to: p.at,
                    wh: e.0 - e0,
                });
            }
            previous = Some((p.at, e.0));
        }
    }
    let counted: f64 = flows.iter().map(|f| f.wh).sum();
    if counted > 0.0 {
        let scale = total / counted;
        for f in &mut flows {
            f.wh *= scale;
        }
        flows
    } else if total > 0.0 {
        vec![Flow {
            from: session.started_at,
            to: end,
            wh: total,
        }]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::{Measurand, MeterLocation, MeterUnit, ReadingContext};
    use crate::session::SessionState;
    use crate::tariff::tests::tou;
    use crate::{ChargerId, ConnectorId, EvseId, SessionId, SiteId};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
    }

    fn register(t: DateTime<Utc>, wh: f64) -> MeterSample {
        MeterSample {
            timestamp: t,
            measurand: Measurand::EnergyActiveImportRegister,
            phase: None,
            unit: MeterUnit::Wh,
            value: wh,
            context: ReadingContext::SamplePeriodic,
            location: MeterLocation::Outlet,
        }
    }

    fn session(start: DateTime<Utc>, end: DateTime<Utc>, wh: f64) -> Session {
        let mut s = Session::new(
            SessionId::new("s1").unwrap(),
            "1".into(),
            SiteId::new("site").unwrap(),
            ChargerId::new("cp").unwrap(),
            (EvseId(1), ConnectorId(1)),
            start,
        );
        s.meter_start = Some(WattHours(0.0));
        s.energy = WattHours(wh);
        s.state = SessionState::Ended;
        s.ended_at = Some(end);
        s
    }

    #[test]
    fn energy_splits_at_a_local_time_of_use_boundary_and_idle_is_billed_after_grace() {
        // UTC+1 (Europe/Berlin in March before DST): 21:00–21:30 UTC is 22:00–22:30 local.
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        // 20:30–21:30 UTC charging at 10 kW: 5 kWh before 21:00 UTC (day price), 5 after.
        let samples = vec![
            register(at(20, 30), 0.0),
            register(at(21, 0), 5000.0),
            register(at(21, 30), 10_000.0),
            register(at(22, 0), 10_000.0),
        ];
        let s = session(at(20, 30), at(22, 0), 10_000.0);
        let p = price(&tou(), &s, &samples, at(23, 0), &tz);
        assert_eq!(p.charging_ended_at, at(21, 30));
        assert_eq!(p.idle_seconds, 1800);
        let energy: Vec<_> = p
            .lines
            .iter()
            .filter(|l| l.kind == CostKind::Energy)
            .collect();
        assert_eq!(energy.len(), 2);
        assert!((energy[0].quantity - 5.0).abs() < 1e-9 && energy[0].unit_price == 0.30);
        assert!((energy[1].quantity - 5.0).abs() < 1e-9 && energy[1].unit_price == 0.20);
        assert_eq!(energy[1].from, at(21, 0));
        let idle = p.lines.iter().find(|l| l.kind == CostKind::Idle).unwrap();
        assert_eq!(idle.from, at(21, 45));
        assert!((idle.quantity - 15.0).abs() < 1e-9);
        // 0.50 + 1.50 + 1.00 + 1.50 = 4.50; tax 0.90.
        assert_eq!(p.subtotal, 4.5);
        assert_eq!(p.tax, 0.9);
        assert_eq!(p.total, 5.4);
    }

    #[test]
    fn a_charger_with_only_per_phase_registers_is_priced_by_when_it_charged() {
        // The same session as above, metered as three phase registers without a total: the
        // core's series sums them, so the energy falls in the same price periods.
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
        let samples: Vec<MeterSample> = [(at(20, 30), 0.0), (at(21, 0), 5000.0)]
            .into_iter()
            .chain([(at(21, 30), 10_000.0), (at(22, 0), 10_000.0)])
            .flat_map(|(t, wh)| {
                ["L1", "L2", "L3"].map(|phase| MeterSample {
                    phase: Some(crate::meter::MeterPhase::from_text(phase)),
                    ..register(t, wh / 3.0)
                })
            })
            .collect();
        let s = session(at(20, 30), at(22, 0), 10_000.0);
        let p = price(&tou(), &s, &samples, at(23, 0), &tz);
        assert_eq!(p.charging_ended_at, at(21, 30));
        let energy: Vec<_> = p
            .lines
            .iter()
            .filter(|l| l.kind == CostKind::Energy)
            .map(|l| (l.quantity, l.unit_price))
            .collect();
        assert_eq!(energy.len(), 2);
        assert!((energy[0].0 - 5.0).abs() < 1e-9 && energy[0].1 == 0.30);
        assert!((energy[1].0 - 5.0).abs() < 1e-9 && energy[1].1 == 0.20);
    }

    #[test]
    fn scaled_to_the_session_energy_when_the_register_reset() {
        let tz = chrono_tz::UTC;
        let samples = vec![
            register(at(10, 0), 0.0),
            register(at(11, 0), 4000.0),
            register(at(11, 30), 100.0),
            register(at(12, 0), 2100.0),
        ];
        let mut s = session(at(10, 0), at(12, 0), 6000.0);
        s.meter_start = None;
        let p = price(&Tariff::flat("f", "CNY", 1.0), &s, &samples, at(12, 0), &tz);
        let kwh: f64 = p.lines.iter().map(|l| l.quantity).sum();
        assert!((kwh - 6.0).abs() < 1e-9, "{kwh}");
        assert_eq!(p.total, 6.0);
    }

    #[test]
    fn without_readings_energy_spreads_over_the_session_and_nothing_is_idle() {
        let tz = chrono_tz::UTC;
        let s = session(at(10, 0), at(12, 0), 8000.0);
        let p = price(&tou(), &s, &[], at(12, 0), &tz);
        assert_eq!(p.idle_seconds, 0);
        assert_eq!(
            p.lines.iter().filter(|l| l.kind == CostKind::Idle).count(),
            0
        );
        assert!(
            (p.lines
                .iter()
                .filter(|l| l.kind == CostKind::Energy)
                .map(|l| l.quantity)
                .sum::<f64>()
                - 8.0)
                .abs()
                < 1e-9
        );
    }
}

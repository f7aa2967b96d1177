//! Meter readings of one EVSE rendered as OCPP `meterValue` entries: energy register, power,
//! current and voltage (per phase on AC), offered current and power, SoC and (1.6 only, the
//! 2.0.1 measurand list has none) temperature. 1.6 values are decimal strings, 2.0.1 numbers.
//! The `kw_in_meter_values` quirk divides power and energy by 1000 but keeps the W/Wh units.

use chargegrid_core::network::OcppVersion;
use chargegrid_ocpp::messages::meter::{MeterNumber, MeterValue, SampledValue, UnitOfMeasure};
use chrono::{DateTime, Utc};

/// What an EVSE measures at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// When (simulated time).
    pub at: DateTime<Utc>,
    /// `Transaction.Begin`, `Sample.Periodic`, `Transaction.End` or `Trigger`.
    pub context: &'static str,
    /// Lifetime import register, Wh.
    pub register_wh: f64,
    /// Active power, W.
    pub power_w: f64,
    /// Current (per phase on AC), A.
    pub current_a: f64,
    /// Voltage (phase-to-neutral on AC), V.
    pub voltage_v: f64,
    /// AC phases, or `None` for DC.
    pub phases: Option<u8>,
    /// Offered power, W.
    pub offered_w: f64,
    /// Offered current, A.
    pub offered_a: f64,
    /// SoC reported by the car, percent.
    pub soc_pct: Option<f64>,
    /// Charger body temperature, °C.
    pub temperature_c: Option<f64>,
}

struct Value1 {
    measurand: &'static str,
    unit: &'static str,
    value: f64,
    phase: Option<&'static str>,
    location: &'static str,
}

fn values(r: &Reading, kw_quirk: bool) -> Vec<Value1> {
    let k = if kw_quirk { 1000.0 } else { 1.0 };
    let v = |measurand, unit, value, phase, location| Value1 {
        measurand,
        unit,
        value,
        phase,
        location,
    };
    let mut out = vec![
        v(
            "Energy.Active.Import.Register",
            "Wh",
            (r.register_wh / k).floor(),
            None,
            "Outlet",
        ),
        v("Power.Active.Import", "W", r.power_w / k, None, "Outlet"),
        v("Power.Offered", "W", r.offered_w / k, None, "Outlet"),
        v("Current.Offered", "A", r.offered_a, None, "Outlet"),
    ];
    match r.phases {
        None => {
            out.push(v("Current.Import", "A", r.current_a, None, "Outlet"));
            out.push(v("Voltage", "V", r.voltage_v, None, "Outlet"));
        }
        Some(n) => {
            let names = [("L1", "L1-N"), ("L2", "L2-N"), ("L3", "L3-N")];
            for (ip, vp) in names.into_iter().take(usize::from(n)) {
                out.push(v("Current.Import", "A", r.current_a, Some(ip), "Outlet"));
                out.push(v("Voltage", "V", r.voltage_v, Some(vp), "Outlet"));
            }
        }
    }
    if let Some(soc) = r.soc_pct {
        out.push(v(
            "SoC",
            "Percent",
            soc.round().clamp(0.0, 100.0),
            None,
            "EV",
        ));
    }
    if let Some(t) = r.temperature_c {
        out.push(v("Temperature", "Celsius", t, None, "Body"));
    }
    out
}

fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One `MeterValueType` for `version` (1.6: values as text with a unit; 2.0.1: numbers with a
/// unit of measure, and no `Temperature`, which 2.0.1's measurand list lacks).
pub fn meter_value(r: &Reading, version: OcppVersion, kw_quirk: bool) -> MeterValue {
    let v16 = version == OcppVersion::V16;
    let sampled_value = values(r, kw_quirk)
        .into_iter()
        .filter(|s| v16 || s.measurand != "Temperature")
        .map(|s| SampledValue {
            value: if v16 {
                MeterNumber::Text(format!("{}", tenth(s.value)))
            } else {
                MeterNumber::Number(tenth(s.value))
            },
            context: Some(r.context.to_string()),
            format: v16.then(|| "Raw".to_string()),
            measurand: Some(s.measurand.to_string()),
            phase: s.phase.map(String::from),
            location: Some(s.location.to_string()),
            unit: v16.then(|| s.unit.to_string()),
            unit_of_measure: (!v16).then(|| UnitOfMeasure {
                unit: Some(s.unit.to_string()),
                multiplier: None,
            }),
        })
        .collect();
    MeterValue {
        timestamp: r.at,
        sampled_value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading() -> Reading {
        Reading {
            at: "2026-05-01T20:00:00Z".parse().unwrap(),
            context: "Sample.Periodic",
            register_wh: 123_456.7,
            power_w: 11_000.0,
            current_a: 15.9,
            voltage_v: 230.0,
            phases: Some(3),
            offered_w: 11_000.0,
            offered_a: 16.0,
            soc_pct: Some(55.4),
            temperature_c: Some(31.0),
        }
    }

    #[test]
    fn renders_both_versions_and_the_kw_quirk() {
        let v16 = serde_json::to_value(meter_value(&reading(), OcppVersion::V16, false)).unwrap();
        let sv = v16["sampledValue"].as_array().unwrap();
        assert_eq!(sv[0]["value"], "123456");
        assert_eq!(sv[1]["value"], "11000");
        assert_eq!(sv.iter().filter(|s| s["measurand"] == "Voltage").count(), 3);
        assert!(sv.iter().any(|s| s["measurand"] == "Temperature"));
        let v201 = serde_json::to_value(meter_value(&reading(), OcppVersion::V201, false)).unwrap();
        let sv = v201["sampledValue"].as_array().unwrap();
        assert_eq!(sv[0]["value"], 123_456.0);
        assert!(sv.iter().all(|s| s["measurand"] != "Temperature"));
        let quirky = serde_json::to_value(meter_value(&reading(), OcppVersion::V16, true)).unwrap();
        assert_eq!(quirky["sampledValue"][1]["value"], "11");
        assert_eq!(quirky["sampledValue"][1]["unit"], "W");
    }
}

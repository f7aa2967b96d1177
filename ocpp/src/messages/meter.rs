//! Meter values in both versions and their conversion to domain [`MeterSample`]s. 1.6 sends
//! each value as text with a `unit`; 2.0.1 sends a number with a `unitOfMeasure` (unit and
//! power-of-ten multiplier). Defaults are filled in as the specs say (measurand
//! `Energy.Active.Import.Register`, context `Sample.Periodic`, location `Outlet`, the
//! measurand's default unit); 1.6 signed data and values that are not finite numbers are
//! skipped and counted.

use chargegrid_core::meter::{
    Measurand, MeterLocation, MeterPhase, MeterSample, MeterUnit, ReadingContext, default_unit,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A set of sampled values at one time (`MeterValueType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValue {
    /// When sampled.
    #[serde(with = "crate::timestamp")]
    pub timestamp: DateTime<Utc>,
    /// The values.
    pub sampled_value: Vec<SampledValue>,
}

/// A sampled value's number: text in 1.6, a number in 2.0.1.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MeterNumber {
    /// 2.0.1.
    Number(f64),
    /// 1.6.
    Text(String),
}

/// Reads either form straight from the JSON token. (An untagged derive would buffer each value
/// and build an error message for every 1.6 text before trying the second form: eleven times
/// per typical MeterValues.)
impl<'de> Deserialize<'de> for MeterNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl serde::de::Visitor<'_> for Either {
            type Value = MeterNumber;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a string holding one")
            }
            fn visit_f64<E>(self, v: f64) -> Result<MeterNumber, E> {
                Ok(MeterNumber::Number(v))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_i64<E>(self, v: i64) -> Result<MeterNumber, E> {
                Ok(MeterNumber::Number(v as f64))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E>(self, v: u64) -> Result<MeterNumber, E> {
                Ok(MeterNumber::Number(v as f64))
            }
            fn visit_str<E>(self, v: &str) -> Result<MeterNumber, E> {
                Ok(MeterNumber::Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<MeterNumber, E> {
                Ok(MeterNumber::Text(v))
            }
        }
        deserializer.deserialize_any(Either)
    }
}

impl MeterNumber {
    /// The number, when it is a finite one.
    pub fn number(&self) -> Option<f64> {
        match self {
            MeterNumber::Number(v) => Some(*v),
            MeterNumber::Text(t) => t.trim().parse::<f64>().ok(),
        }
        .filter(|v| v.is_finite())
    }
}

/// One sampled value (`SampledValueType`), in either version's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampledValue {
    /// The value.
    pub value: MeterNumber,
    /// Reading context (default `Sample.Periodic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// 1.6: `Raw` or `SignedData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Measurand (default `Energy.Active.Import.Register`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurand: Option<String>,
    /// Phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Location (default `Outlet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// 1.6: the unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// 2.0.1: unit and multiplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<UnitOfMeasure>,
}

/// 2.0.1 `UnitOfMeasureType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitOfMeasure {
    /// Unit (default: the measurand's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Power of ten (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<i32>,
}

/// What happened to the sampled values of one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    /// The samples that could be read.
    pub samples: Vec<MeterSample>,
    /// Values skipped (signed data, or not a finite number).
    pub skipped: usize,
}

/// Converts meter values of either version into samples.
pub fn to_samples(values: &[MeterValue]) -> Converted {
    let mut out = Converted::default();
    for mv in values {
        for sv in &mv.sampled_value {
            let multiplier = sv
                .unit_of_measure
                .as_ref()
                .and_then(|u| u.multiplier)
                .unwrap_or(0);
            let value = sv
                .value
                .number()
                .map(|v| v * 10f64.powi(multiplier))
                .filter(|v| v.is_finite());
            let (false, Some(value)) = (sv.format.as_deref() == Some("SignedData"), value) else {
                out.skipped += 1;
                continue;
            };
            let measurand = Measurand::from_text(
                sv.measurand
                    .as_deref()
                    .unwrap_or("Energy.Active.Import.Register"),
            );
            let unit = sv
                .unit
                .as_deref()
                .or_else(|| sv.unit_of_measure.as_ref().and_then(|u| u.unit.as_deref()))
                .map_or_else(|| default_unit(&measurand), MeterUnit::from_text);
            out.samples.push(MeterSample {
                timestamp: mv.timestamp,
                phase: sv.phase.as_deref().map(MeterPhase::from_text),
                unit,
                value,
                context: sv
                    .context
                    .as_deref()
                    .map_or(ReadingContext::SamplePeriodic, ReadingContext::from_text),
                location: sv
                    .location
                    .as_deref()
                    .map_or(MeterLocation::Outlet, MeterLocation::from_text),
                measurand,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn version_16_fills_defaults_and_skips_unreadable_values() {
        let values: Vec<MeterValue> = serde_json::from_value(json!([{
            "timestamp": "2026-05-01T08:30:00Z",
            "sampledValue": [
                {"value": "1234.5"},
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "16.1", "measurand": "Current.Import", "phase": "L2"},
                {"value": "abc"},
                {"value": "xyz", "format": "SignedData"},
                {"value": "21", "measurand": "Temperature", "unit": "Celcius", "location": "Body"},
                {"value": "5", "measurand": "Energy.Active.Import.Register.L1"}
            ]
        }]))
        .unwrap();
        let c = to_samples(&values);
        assert_eq!(c.skipped, 2);
        assert_eq!(c.samples.len(), 5);
        assert_eq!(
            c.samples[0].measurand,
            Measurand::EnergyActiveImportRegister
        );
        assert_eq!(c.samples[0].unit, MeterUnit::Wh);
        assert_eq!(c.samples[0].context, ReadingContext::SamplePeriodic);
        assert_eq!(c.samples[1].normalized(), (7200.0, MeterUnit::W));
        assert_eq!(c.samples[2].unit, MeterUnit::A);
        assert_eq!(c.samples[3].unit, MeterUnit::Celsius);
        assert_eq!(c.samples[3].location, MeterLocation::Body);
        assert!(matches!(c.samples[4].measurand, Measurand::Other(_)));
    }

    #[test]
    fn version_201_multipliers_and_defaults_apply() {
        let values: Vec<MeterValue> = serde_json::from_value(json!([{
            "timestamp": "2026-05-01T08:30:00Z",
            "sampledValue": [
                {"value": 12.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}},
                {"value": 7200, "measurand": "Power.Active.Import"},
                {"value": 48, "measurand": "SoC", "location": "EV", "context": "Transaction.Begin"},
                {"value": 25, "measurand": "Temperature", "unitOfMeasure": {"unit": "Celsius"}},
                {"value": 1e300, "unitOfMeasure": {"multiplier": 9}}
            ]
        }]))
        .unwrap();
        let c = to_samples(&values);
        assert_eq!(c.skipped, 1, "an overflowing value is skipped");
        let s = c.samples;
        assert_eq!(s.len(), 4);
        assert_eq!((s[0].value, &s[0].unit), (12_500.0, &MeterUnit::Wh));
        assert_eq!(s[1].unit, MeterUnit::W);
        assert_eq!(s[2].context, ReadingContext::TransactionBegin);
        assert_eq!(s[2].location, MeterLocation::Ev);
        assert_eq!(s[3].unit, MeterUnit::Celsius);
    }

    #[test]
    fn each_version_writes_its_own_form() {
        let v16 = SampledValue {
            value: MeterNumber::Text("12.5".into()),
            context: None,
            format: None,
            measurand: None,
            phase: None,
            location: None,
            unit: Some("kWh".into()),
            unit_of_measure: None,
        };
        assert_eq!(
            serde_json::to_value(&v16).unwrap(),
            json!({"value": "12.5", "unit": "kWh"})
        );
        let v201 = SampledValue {
            value: MeterNumber::Number(12.5),
            unit: None,
            unit_of_measure: Some(UnitOfMeasure {
                unit: Some("Wh".into()),
                multiplier: Some(3),
            }),
            ..v16
        };
        assert_eq!(
            serde_json::to_value(&v201).unwrap(),
            json!({"value": 12.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}})
        );
    }
}

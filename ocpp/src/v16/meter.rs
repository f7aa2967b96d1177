//! 1.6 meter values → domain [`MeterSample`]s: defaults filled in as the spec says (measurand
//! `Energy.Active.Import.Register`, context `Sample.Periodic`, location `Outlet`, the
//! measurand's default unit), numbers parsed from their text form, signed data skipped.

use chargegrid_core::meter::{
    Measurand, MeterLocation, MeterPhase, MeterSample, MeterUnit, ReadingContext, default_unit,
};

use super::requests::MeterValue;

/// What happened to the sampled values of one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Converted {
    /// The samples that could be read.
    pub samples: Vec<MeterSample>,
    /// Values skipped (signed data, or text that is not a number).
    pub skipped: usize,
}

/// Converts 1.6 meter values into samples.
pub fn to_samples(values: &[MeterValue]) -> Converted {
    let mut out = Converted::default();
    for mv in values {
        for sv in &mv.sampled_value {
            if sv.format.as_deref() == Some("SignedData") {
                out.skipped += 1;
                continue;
            }
            let Some(value) = sv
                .value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
            else {
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
    fn fills_defaults_and_skips_unreadable_values() {
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
}

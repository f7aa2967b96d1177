//! 2.0.1 meter values → domain [`MeterSample`]s: defaults as the spec says (measurand
//! `Energy.Active.Import.Register`, context `Sample.Periodic`, location `Outlet`, unit Wh or the
//! measurand's default), and the unit multiplier applied (`value × 10^multiplier`).

use chargegrid_core::meter::{
    Measurand, MeterLocation, MeterPhase, MeterSample, MeterUnit, ReadingContext, default_unit,
};

use super::requests::MeterValue;

/// Converts 2.0.1 meter values into samples (non-finite results are skipped).
pub fn to_samples(values: &[MeterValue]) -> Vec<MeterSample> {
    let mut out = Vec::new();
    for mv in values {
        for sv in &mv.sampled_value {
            let measurand = Measurand::from_text(
                sv.measurand
                    .as_deref()
                    .unwrap_or("Energy.Active.Import.Register"),
            );
            let unit_of_measure = sv.unit_of_measure.as_ref();
            let unit = unit_of_measure
                .and_then(|u| u.unit.as_deref())
                .map_or_else(|| default_unit(&measurand), MeterUnit::from_text);
            let multiplier = unit_of_measure.and_then(|u| u.multiplier).unwrap_or(0);
            let value = sv.value * 10f64.powi(multiplier);
            if !value.is_finite() {
                continue;
            }
            out.push(MeterSample {
                timestamp: mv.timestamp,
                measurand,
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
    fn multipliers_and_defaults_apply() {
        let values: Vec<MeterValue> = serde_json::from_value(json!([{
            "timestamp": "2026-05-01T08:30:00Z",
            "sampledValue": [
                {"value": 12.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 3}},
                {"value": 7200, "measurand": "Power.Active.Import"},
                {"value": 48, "measurand": "SoC", "location": "EV", "context": "Transaction.Begin"},
                {"value": 25, "measurand": "Temperature", "unitOfMeasure": {"unit": "Celsius"}}
            ]
        }]))
        .unwrap();
        let s = to_samples(&values);
        assert_eq!(s.len(), 4);
        assert_eq!((s[0].value, &s[0].unit), (12_500.0, &MeterUnit::Wh));
        assert_eq!(s[1].unit, MeterUnit::W);
        assert_eq!(s[2].context, ReadingContext::TransactionBegin);
        assert_eq!(s[2].location, MeterLocation::Ev);
        assert_eq!(s[3].unit, MeterUnit::Celsius);
    }
}

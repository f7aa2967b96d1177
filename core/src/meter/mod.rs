//! Meter samples: one measured value with its measurand, phase, unit, context and time,
//! version-neutral (OCPP 1.6 `sampledValue` and 2.0.1 `sampledValue` both map here), and the
//! normalisation of units so every consumer sees W, Wh, A, V, °C and %. [`series`] reads samples
//! into one point per instant; [`register`] is the one rule for the energy a register shows.

pub mod register;
pub mod series;

pub use register::{RegisterCount, RegisterOutcome, UNKNOWN_CHARGER_MAX};
pub use series::{MeterPoint, MeterSeries};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// What was measured (OCPP measurand names; vendor names are kept as `Other`).
    Measurand {
        /// Energy imported by the EV, cumulative register.
        EnergyActiveImportRegister = "Energy.Active.Import.Register",
        /// Energy exported by the EV, cumulative register.
        EnergyActiveExportRegister = "Energy.Active.Export.Register",
        /// Energy imported during the interval.
        EnergyActiveImportInterval = "Energy.Active.Import.Interval",
        /// Active power drawn by the EV.
        PowerActiveImport = "Power.Active.Import",
        /// Active power fed back by the EV.
        PowerActiveExport = "Power.Active.Export",
        /// Power the charger offers the EV.
        PowerOffered = "Power.Offered",
        /// Current drawn by the EV.
        CurrentImport = "Current.Import",
        /// Current fed back by the EV.
        CurrentExport = "Current.Export",
        /// Current the charger offers (pilot signal).
        CurrentOffered = "Current.Offered",
        /// Voltage.
        Voltage = "Voltage",
        /// Frequency.
        Frequency = "Frequency",
        /// State of charge of the EV battery, percent.
        SoC = "SoC",
        /// A temperature (see the sample's location).
        Temperature = "Temperature",
        /// Power factor.
        PowerFactor = "Power.Factor",
        /// Fan speed.
        Rpm = "RPM",
    }
);

crate::text_enum!(
    /// The unit a value was sent in (OCPP `UnitOfMeasure`); `Celcius` is the 1.6 spec's spelling.
    MeterUnit {
        /// Watt-hours.
        Wh = "Wh",
        /// Kilowatt-hours.
        KWh = "kWh",
        /// Watts.
        W = "W",
        /// Kilowatts.
        KW = "kW",
        /// Amperes.
        A = "A",
        /// Volts.
        V = "V",
        /// Degrees Celsius.
        Celsius = "Celsius" | "Celcius",
        /// Degrees Fahrenheit.
        Fahrenheit = "Fahrenheit",
        /// Kelvin.
        K = "K",
        /// Percent.
        Percent = "Percent",
        /// Volt-ampere reactive hours.
        Varh = "varh",
        /// Kilo-volt-ampere reactive hours.
        KVarh = "kvarh",
        /// Volt-ampere reactive.
        Var = "var",
        /// Kilo-volt-ampere reactive.
        KVar = "kvar",
        /// Volt-amperes.
        Va = "VA",
        /// Kilo-volt-amperes.
        KVa = "kVA",
    }
);

crate::text_enum!(
    /// The phase (or phase pair) a value belongs to; absent means total / not phase-specific.
    MeterPhase {
        /// Line 1.
        L1 = "L1",
        /// Line 2.
        L2 = "L2",
        /// Line 3.
        L3 = "L3",
        /// Neutral.
        N = "N",
        /// Line 1 to neutral.
        L1N = "L1-N",
        /// Line 2 to neutral.
        L2N = "L2-N",
        /// Line 3 to neutral.
        L3N = "L3-N",
        /// Line 1 to line 2.
        L1L2 = "L1-L2",
        /// Line 2 to line 3.
        L2L3 = "L2-L3",
        /// Line 3 to line 1.
        L3L1 = "L3-L1",
    }
);

crate::text_enum!(
    /// Why a sample was taken.
    ReadingContext {
        /// Start of a transaction.
        TransactionBegin = "Transaction.Begin",
        /// End of a transaction.
        TransactionEnd = "Transaction.End",
        /// Periodic sample during a transaction.
        SamplePeriodic = "Sample.Periodic",
        /// Clock-aligned sample.
        SampleClock = "Sample.Clock",
        /// Asked for by TriggerMessage.
        Trigger = "Trigger",
        /// Start of an interruption.
        InterruptionBegin = "Interruption.Begin",
        /// End of an interruption.
        InterruptionEnd = "Interruption.End",
        /// Other.
        OtherContext = "Other",
    }
);

crate::text_enum!(
    /// Where the value was measured. Temperature at `Body` is the charger's, at `EV` the car's.
    MeterLocation {
        /// At the outlet (default).
        Outlet = "Outlet",
        /// At the charger's grid inlet.
        Inlet = "Inlet",
        /// Inside the charger.
        Body = "Body",
        /// In the cable.
        Cable = "Cable",
        /// In the EV.
        Ev = "EV",
    }
);

/// One measured value, as received, with its unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterSample {
    /// When it was measured (UTC).
    pub timestamp: DateTime<Utc>,
    /// What was measured.
    pub measurand: Measurand,
    /// Phase, if phase-specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<MeterPhase>,
    /// Unit of `value`.
    pub unit: MeterUnit,
    /// The number.
    pub value: f64,
    /// Why it was sampled.
    pub context: ReadingContext,
    /// Where it was measured.
    pub location: MeterLocation,
}

impl MeterSample {
    /// The value converted to the base unit of its family (kWh → Wh, kW → W, kvar → var,
    /// °F/K → °C), with that base unit. Units without a family are returned unchanged.
    pub fn normalized(&self) -> (f64, MeterUnit) {
        match self.unit {
            MeterUnit::KWh => (self.value * 1000.0, MeterUnit::Wh),
            MeterUnit::KW => (self.value * 1000.0, MeterUnit::W),
            MeterUnit::KVarh => (self.value * 1000.0, MeterUnit::Varh),
            MeterUnit::KVar => (self.value * 1000.0, MeterUnit::Var),
            MeterUnit::KVa => (self.value * 1000.0, MeterUnit::Va),
            MeterUnit::Fahrenheit => ((self.value - 32.0) * 5.0 / 9.0, MeterUnit::Celsius),
            MeterUnit::K => (self.value - 273.15, MeterUnit::Celsius),
            ref u => (self.value, u.clone()),
        }
    }

    /// Whether this is a total (not per-phase, or explicitly summed) energy-import register.
    pub fn is_total_import_register(&self) -> bool {
        self.measurand == Measurand::EnergyActiveImportRegister && self.phase.is_none()
    }
}

/// The unit a measurand is expected in when the charger does not say (OCPP default: Wh for
/// energy, W for power, A, V, Percent for SoC, Celsius for temperature).
pub fn default_unit(measurand: &Measurand) -> MeterUnit {
    match measurand {
        Measurand::PowerActiveImport | Measurand::PowerActiveExport | Measurand::PowerOffered => {
            MeterUnit::W
        }
        Measurand::CurrentImport | Measurand::CurrentExport | Measurand::CurrentOffered => {
            MeterUnit::A
        }
        Measurand::Voltage => MeterUnit::V,
        Measurand::SoC => MeterUnit::Percent,
        Measurand::Temperature => MeterUnit::Celsius,
        _ => MeterUnit::Wh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(measurand: &str, unit: &str, value: f64) -> MeterSample {
        MeterSample {
            timestamp: DateTime::<Utc>::UNIX_EPOCH,
            measurand: measurand.parse().unwrap(),
            phase: None,
            unit: unit.parse().unwrap(),
            value,
            context: ReadingContext::SamplePeriodic,
            location: MeterLocation::Outlet,
        }
    }

    #[test]
    fn units_normalise_to_base() {
        assert_eq!(
            sample("Energy.Active.Import.Register", "kWh", 1.5).normalized(),
            (1500.0, MeterUnit::Wh)
        );
        assert_eq!(
            sample("Power.Active.Import", "kW", 7.4).normalized(),
            (7400.0, MeterUnit::W)
        );
        assert_eq!(
            sample("Temperature", "Celcius", 25.0).normalized(),
            (25.0, MeterUnit::Celsius)
        );
        let (c, u) = sample("Temperature", "K", 300.15).normalized();
        assert!((c - 27.0).abs() < 1e-9 && u == MeterUnit::Celsius);
    }

    #[test]
    fn vendor_measurands_survive() {
        let s = sample("Energy.Active.Import.Register.L1", "Wh", 1.0);
        assert_eq!(
            s.measurand,
            Measurand::Other("Energy.Active.Import.Register.L1".into())
        );
        assert!(!s.is_total_import_register());
        assert!(sample("Energy.Active.Import.Register", "Wh", 1.0).is_total_import_register());
    }
}

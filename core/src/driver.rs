//! People and vehicles: drivers, their id tags (RFID cards), fleets and vehicles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AmpereHours, DriverId, FleetId, IdTag, VehicleId, Volts, WattHours};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A driver: sees and acts on their own sessions and reservations.
    Driver,
    /// A fleet manager: sees their fleet's vehicles, drivers and sessions.
    FleetManager,
    /// A network operator: sees and acts on everything.
    Operator,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// Its id.
    pub id: DriverId,
    /// Login e-mail (unique, lower-cased).
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the account may do.
    pub role: Role,
    /// The fleet the account belongs to (drivers of a fleet, and fleet managers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Argon2 PHC hash of the password.
    pub password_hash: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// Fleets whose manager invited this driver; the driver joins one only by accepting it
    /// (a manager cannot enrol anyone, and so read their sessions, without their consent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fleet_invitations: Vec<FleetId>,
    /// Disabled by an operator (`chargegrid admin operator disable`): it can neither log in
    /// nor use a token it holds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// Invitations one driver may hold at once (older ones are dropped first).
pub const MAX_FLEET_INVITATIONS: usize = 8;

/// Whether a token may charge (OCPP `AuthorizationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdTagStatus {
    /// May charge.
    Accepted,
    /// Blocked by the operator.
    Blocked,
    /// Past its expiry date.
    Expired,
    /// Unknown or not valid.
    Invalid,
    /// Already in use in another transaction and not allowed twice.
    ConcurrentTx,
}

/// A token (RFID card, app token) known to the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTagRecord {
    /// The token.
    pub tag: IdTag,
    /// Its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<DriverId>,
    /// The vehicle it is tied to (fleet cards often are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleId>,
    /// The fleet it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Blocked, or accepted.
    pub status: IdTagStatus,
    /// Expiry, if any (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// OCPP parent id tag (group), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<IdTag>,
    /// Whether the token may be used in two transactions at once.
    #[serde(default)]
    pub allow_concurrent: bool,
}

impl IdTagRecord {
    /// The status to answer at `now`: an accepted token past its expiry is `Expired`.
    pub fn status_at(&self, now: DateTime<Utc>) -> IdTagStatus {
        match (self.status, self.expires_at) {
            (IdTagStatus::Accepted, Some(exp)) if exp <= now => IdTagStatus::Expired,
            (s, _) => s,
        }
    }
}

/// A fleet: a company's vehicles and drivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Its id.
    pub id: FleetId,
    /// Its name.
    pub name: String,
    /// Default departure for fleet vehicles, hours after plug-in (used when nothing is said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_dwell_hours: Option<f64>,
}

/// What a fleet's datasheets say of a traction battery. Every field is optional: an estimate
/// that needs a missing one says so instead of guessing it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatterySpec {
    /// Rated capacity in the charge domain, when new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub nominal_capacity_ah: Option<AmpereHours>,
    /// Rated (nominal) pack voltage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub nominal_voltage_v: Option<Volts>,
    /// Rated energy, when new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominal_energy_kwh: Option<f64>,
    /// Cell chemistry, as the datasheet names it (e.g. `NMC811`, `LFP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chemistry: Option<String>,
    /// Cells in series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells_series: Option<u32>,
    /// Cells in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells_parallel: Option<u32>,
    /// Lowest cell voltage in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub cell_min_voltage_v: Option<Volts>,
    /// Highest cell voltage in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub cell_max_voltage_v: Option<Volts>,
}

impl BatterySpec {
    /// This spec with every field it lacks taken from `base` (a vehicle's own values win over
    /// its model's).
    pub fn or(&self, base: &BatterySpec) -> BatterySpec {
        BatterySpec {
            nominal_capacity_ah: self.nominal_capacity_ah.or(base.nominal_capacity_ah),
            nominal_voltage_v: self.nominal_voltage_v.or(base.nominal_voltage_v),
            nominal_energy_kwh: self.nominal_energy_kwh.or(base.nominal_energy_kwh),
            chemistry: self.chemistry.clone().or_else(|| base.chemistry.clone()),
            cells_series: self.cells_series.or(base.cells_series),
            cells_parallel: self.cells_parallel.or(base.cells_parallel),
            cell_min_voltage_v: self.cell_min_voltage_v.or(base.cell_min_voltage_v),
            cell_max_voltage_v: self.cell_max_voltage_v.or(base.cell_max_voltage_v),
        }
    }

    /// The rated capacity in Ah: given, or the rated energy over the rated voltage. `None`
    /// when neither is known (nothing is guessed).
    pub fn capacity_ah(&self) -> Option<AmpereHours> {
        self.nominal_capacity_ah.or_else(|| {
            let (kwh, v) = (self.nominal_energy_kwh?, self.nominal_voltage_v?);
            (v.0 > 0.0).then(|| AmpereHours(kwh * 1000.0 / v.0))
        })
    }

    /// The rated energy in kWh: given, or the rated Ah times the rated voltage. `None` when
    /// neither is known.
    pub fn energy_kwh(&self) -> Option<f64> {
        self.nominal_energy_kwh.or_else(|| {
            let (ah, v) = (self.nominal_capacity_ah?, self.nominal_voltage_v?);
            Some(ah.0 * v.0 / 1000.0)
        })
    }

    /// Checks the values that are given; the first problem found, named by its field.
    pub fn check(&self) -> Result<(), BatterySpecError> {
        let positive = |name: &'static str, v: Option<f64>, max: f64| match v {
            Some(x) if !(x.is_finite() && x > 0.0 && x <= max) => {
                Err(BatterySpecError::OutOfRange { field: name, max })
            }
            _ => Ok(()),
        };
        positive(
            "nominal_capacity_ah",
            self.nominal_capacity_ah.map(|a| a.0),
            10_000.0,
        )?;
        positive(
            "nominal_voltage_v",
            self.nominal_voltage_v.map(|v| v.0),
            2_000.0,
        )?;
        positive("nominal_energy_kwh", self.nominal_energy_kwh, 2_000.0)?;
        positive(
            "cell_min_voltage_v",
            self.cell_min_voltage_v.map(|v| v.0),
            10.0,
        )?;
        positive(
            "cell_max_voltage_v",
            self.cell_max_voltage_v.map(|v| v.0),
            10.0,
        )?;
        positive("cells_series", self.cells_series.map(f64::from), 2_000.0)?;
        positive(
            "cells_parallel",
            self.cells_parallel.map(f64::from),
            2_000.0,
        )?;
        if let (Some(lo), Some(hi)) = (self.cell_min_voltage_v, self.cell_max_voltage_v)
            && lo >= hi
        {
            return Err(BatterySpecError::CellVoltagesInverted);
        }
        if self
            .chemistry
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > 40)
        {
            return Err(BatterySpecError::Chemistry);
        }
        Ok(())
    }
}

/// What is wrong with a battery specification, named by its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatterySpecError {
    /// A number outside (0, max].
    #[error("battery.{field} must be above 0 and at most {max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// Its largest allowed value.
        max: f64,
    },
    /// The cell voltage window is empty.
    #[error("battery.cell_min_voltage_v must be below cell_max_voltage_v")]
    CellVoltagesInverted,
    /// The chemistry's name is empty or too long.
    #[error("battery.chemistry must be 1 to 40 characters")]
    Chemistry,
}

/// A vehicle model of a fleet: the battery its vehicles share unless a vehicle says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleModel {
    /// The fleet.
    pub fleet: FleetId,
    /// Make and model, as vehicles name it.
    pub name: String,
    /// Its battery.
    #[serde(default)]
    pub battery: BatterySpec,
}

impl Vehicle {
    /// The battery in effect: the vehicle's own fields, then those of its fleet's model of the
    /// same name among `models`.
    pub fn battery_in_effect(&self, models: &[VehicleModel]) -> BatterySpec {
        let own = self.battery.clone().unwrap_or_default();
        match models.iter().find(|m| m.name == self.model) {
            Some(m) => own.or(&m.battery),
            None => own,
        }
    }
}

/// A vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    /// Its id (the VIN when known).
    pub id: VehicleId,
    /// Fleet it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Make and model, used to compare it with its cohort.
    pub model: String,
    /// Nominal usable battery capacity when new.
    pub nominal_capacity: WattHours,
    /// Registration plate or the fleet's own number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Its own battery data (fields left out come from its fleet's model of the same name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<BatterySpec>,
    /// When it was first registered (its battery's age).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_registration: Option<chrono::NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn accepted_tag_expires() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(10);
        let mut rec = IdTagRecord {
            tag: IdTag::new("AA").unwrap(),
            driver: None,
            vehicle: None,
            fleet: None,
            status: IdTagStatus::Accepted,
            expires_at: Some(now - Duration::seconds(1)),
            parent: None,
            allow_concurrent: false,
        };
        assert_eq!(rec.status_at(now), IdTagStatus::Expired);
        rec.expires_at = Some(now + Duration::days(1));
        assert_eq!(rec.status_at(now), IdTagStatus::Accepted);
        rec.status = IdTagStatus::Blocked;
        assert_eq!(rec.status_at(now), IdTagStatus::Blocked);
    }
}

//! Tariffs: what a driver pays for a session, and the pricing of one session against its
//! tariff (the cost lines a charge detail record carries, and the cost so far of a live one).
//!
//! A tariff has a session fee, an energy price per kWh, a time price per hour of charging, an
//! idle fee per minute once charging has ended and a grace period has passed, and time-of-use
//! windows (in the site's local time zone) that replace the energy or time price while they
//! apply. Prices exclude tax; `tax_percent` is added on the subtotal. Amounts are rounded to the
//! currency's minor unit line by line, so the lines add up to the subtotal exactly.
//!
//! Pricing a session ([`crate::cdr::price`]) is pure: it needs the session, its meter samples
//! and the time zone.
//! - Energy is attributed to the time it flowed: the total energy-import register's steps,
//!   spread evenly over each interval between readings, split at tariff boundaries, scaled so
//!   they add up to the session's energy (which bridges resets and drops glitches); with no
//!   register readings, the session's energy is spread evenly over the session.
//! - Charging ends at the end of the last interval in which at least
//!   [`CHARGING_THRESHOLD_W`] flowed on average; the time after that until the session ended is
//!   idle time.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Average power below which an interval counts as idle (a car that is full draws a few watts
/// for its electronics).
pub const CHARGING_THRESHOLD_W: f64 = 50.0;

/// The prices of a site or charger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// The operator's name for it, carried into every charge detail record it prices.
    pub id: String,
    /// ISO 4217 code, three capital letters.
    pub currency: String,
    /// Per kWh delivered, outside the windows that set their own.
    #[serde(default)]
    pub energy_per_kwh: f64,
    /// Per hour of charging (start to the end of charging), outside the windows that set
    /// their own.
    #[serde(default)]
    pub time_per_hour: f64,
    /// Once per session.
    #[serde(default)]
    pub session_fee: f64,
    /// Per minute parked after charging ended, once the grace period has passed.
    #[serde(default)]
    pub idle_per_minute: f64,
    /// Minutes of idle time that are free.
    #[serde(default)]
    pub idle_grace_minutes: u32,
    /// Tax added on the subtotal, percent (prices exclude it).
    #[serde(default)]
    pub tax_percent: f64,
    /// Time-of-use windows in the site's local time; the first that applies wins.
    #[serde(default)]
    pub windows: Vec<TariffWindow>,
}

/// A daily time-of-use window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TariffWindow {
    /// Days it applies (`mon` … `sun`, the day the window starts); every day when empty.
    #[serde(default)]
    pub days: Vec<TariffDay>,
    /// Local start time, `HH:MM`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: NaiveTime,
    /// Local end time, `HH:MM`; a window whose end is not after its start runs past midnight.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub end: NaiveTime,
    /// The energy price while it applies (the tariff's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_per_kwh: Option<f64>,
    /// The time price while it applies (the tariff's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_per_hour: Option<f64>,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TariffDay {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl TariffDay {
    fn of(day: Weekday) -> Self {
        match day {
            Weekday::Mon => Self::Mon,
            Weekday::Tue => Self::Tue,
            Weekday::Wed => Self::Wed,
            Weekday::Thu => Self::Thu,
            Weekday::Fri => Self::Fri,
            Weekday::Sat => Self::Sat,
            Weekday::Sun => Self::Sun,
        }
    }
}

/// What a cost line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    /// The session fee.
    SessionFee,
    /// Energy, per kWh.
    Energy,
    /// Charging time, per hour.
    Time,
    /// Parking after charging ended, per minute.
    Idle,
    /// A correction: the difference to the record it corrects (tax included).
    Adjustment,
}

/// One line of a priced session: a quantity at one unit price over one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostLine {
    /// What it is for.
    pub kind: CostKind,
    /// Start of the period it covers (UTC).
    pub from: DateTime<Utc>,
    /// End of the period it covers (UTC).
    pub to: DateTime<Utc>,
    /// How much: kWh, hours, minutes, or 1 for the session fee.
    pub quantity: f64,
    /// Price of one unit, excluding tax.
    pub unit_price: f64,
    /// `quantity × unit_price`, rounded to the currency's minor unit.
    pub amount: f64,
}

/// A session priced against a tariff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Priced {
    /// The tariff's id.
    pub tariff_id: String,
    /// Its currency.
    pub currency: String,
    /// When charging ended (energy stopped flowing), or the end when it never stopped.
    pub charging_ended_at: DateTime<Utc>,
    /// Seconds from start to the end of charging.
    pub charging_seconds: i64,
    /// Seconds from the end of charging to the end of the session.
    pub idle_seconds: i64,
    /// The lines, session fee first, then energy, time and idle in time order.
    pub lines: Vec<CostLine>,
    /// Sum of the lines.
    pub subtotal: f64,
    /// Tax on the subtotal.
    pub tax: f64,
    /// What the driver pays.
    pub total: f64,
}

impl Tariff {
    /// A tariff of one energy price and nothing else (a site's `price_per_kwh`).
    pub fn flat(id: impl Into<String>, currency: impl Into<String>, energy_per_kwh: f64) -> Self {
        Self {
            id: id.into(),
            currency: currency.into(),
            energy_per_kwh,
            time_per_hour: 0.0,
            session_fee: 0.0,
            idle_per_minute: 0.0,
            idle_grace_minutes: 0,
            tax_percent: 0.0,
            windows: Vec::new(),
        }
    }

    /// Checks the tariff: an id, a currency code, prices finite and not negative, tax between
    /// 0 and 100 %, windows of some length.
    pub fn validate(&self) -> Result<(), DomainError> {
        let bad = |reason: String| {
            Err(DomainError::InvalidQuantity {
                quantity: "tariff",
                reason,
            })
        };
        if self.id.trim().is_empty() || self.id.len() > 64 {
            return bad("id must be 1 to 64 characters".into());
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return bad(format!(
                "{}: currency {:?} is not an ISO 4217 code (three capital letters)",
                self.id, self.currency
            ));
        }
        let mut prices = vec![
            ("energy_per_kwh", self.energy_per_kwh),
            ("time_per_hour", self.time_per_hour),
            ("session_fee", self.session_fee),
            ("idle_per_minute", self.idle_per_minute),
            ("tax_percent", self.tax_percent),
        ];
        for w in &self.windows {
            prices.extend(w.energy_per_kwh.map(|p| ("windows.energy_per_kwh", p)));
            prices.extend(w.time_per_hour.map(|p| ("windows.time_per_hour", p)));
            if let Some(problem) = w.length_problem() {
                return bad(format!("{}: {problem}", self.id));
            }
        }
        for (name, p) in prices {
            if !p.is_finite() || !(0.0..=1e6).contains(&p) {
                return bad(format!(
                    "{}: {name} must be between 0 and 1,000,000, got {p}",
                    self.id
                ));
            }
        }
        if self.tax_percent > 100.0 {
            return bad(format!("{}: tax_percent above 100", self.id));
        }
        Ok(())
    }

    /// Whether a session's price depends on when its energy flowed (time-of-use windows, a
    /// time price or an idle fee): only then does pricing need the meter series.
    pub fn depends_on_timing(&self) -> bool {
        !self.windows.is_empty() || self.time_per_hour > 0.0 || self.idle_per_minute > 0.0
    }

    /// The (energy per kWh, time per hour) prices at `at`, local time in `tz`.
    pub fn prices_at<Z: TimeZone>(&self, at: DateTime<Utc>, tz: &Z) -> (f64, f64) {
        let local = at.with_timezone(tz).naive_local();
        let window = self.windows.iter().find(|w| w.applies_at(local));
        (
            window
                .and_then(|w| w.energy_per_kwh)
                .unwrap_or(self.energy_per_kwh),
            window
                .and_then(|w| w.time_per_hour)
                .unwrap_or(self.time_per_hour),
        )
    }

    /// Every instant in `[from, to]` where a window starts or ends, in order, with `from` and
    /// `to` themselves: between two neighbours the prices do not change.
    pub(crate) fn boundaries<Z: TimeZone>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tz: &Z,
    ) -> Vec<DateTime<Utc>> {
        window_edges(&self.windows, from, to, tz)
    }
}

impl DailyWindow for TariffWindow {
    fn days(&self) -> &[TariffDay] {
        &self.days
    }
    fn start(&self) -> NaiveTime {
        self.start
    }
    fn end(&self) -> NaiveTime {
        self.end
    }
}

/// When a daily time-of-use window applies. Shared by what drivers pay ([`TariffWindow`]) and
/// what a site pays for its grid energy ([`crate::supply::SupplyWindow`]), so both are written
/// and read the same way: the days it starts on (every day when none), a local start and end
/// time (`HH:MM`), running past midnight when the end is not after the start.
pub trait DailyWindow {
    /// Days it starts on; every day when empty.
    fn days(&self) -> &[TariffDay];
    /// Local start time.
    fn start(&self) -> NaiveTime;
    /// Local end time; not after the start means the next day.
    fn end(&self) -> NaiveTime;

    /// Whether it applies at local time `local` (a window past midnight applies after midnight
    /// when it started the day before).
    fn applies_at(&self, local: NaiveDateTime) -> bool {
        let t = local.time();
        let days = self.days();
        let on = |d: Weekday| days.is_empty() || days.contains(&TariffDay::of(d));
        let (start, end) = (self.start(), self.end());
        if start < end {
            on(local.weekday()) && t >= start && t < end
        } else {
            (on(local.weekday()) && t >= start) || (on(local.weekday().pred()) && t < end)
        }
    }

    /// Why the window cannot be used, if it cannot: a window from a time to the same time has
    /// no length.
    fn length_problem(&self) -> Option<String> {
        (self.start() == self.end()).then(|| {
            format!(
                "a window from {} to {} has no length",
                self.start().format("%H:%M"),
                self.end().format("%H:%M")
            )
        })
    }
}

/// Every instant in `[from, to]` where one of `windows` starts or ends (local times in `tz`), in
/// order, with `from` and `to` themselves: between two neighbours no window starts or ends. A
/// local time skipped by a clock change counts from the change.
pub fn window_edges<W: DailyWindow, Z: TimeZone>(
    windows: &[W],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: &Z,
) -> Vec<DateTime<Utc>> {
    let mut out = vec![from, to];
    let first = from.with_timezone(tz).date_naive() - Duration::days(1);
    let last = to.with_timezone(tz).date_naive() + Duration::days(1);
    let mut day = first;
    while day <= last {
        for w in windows {
            for time in [w.start(), w.end()] {
                let local = day.and_time(time);
                let at = tz
                    .from_local_datetime(&local)
                    .earliest()
                    .or_else(|| {
                        tz.from_local_datetime(&(local + Duration::hours(1)))
                            .earliest()
                    })
                    .map(|t| t.with_timezone(&Utc));
                if let Some(at) = at.filter(|at| *at > from && *at < to) {
                    out.push(at);
                }
            }
        }
        day += Duration::days(1);
    }
    out.sort();
    out.dedup();
    out
}

/// Decimal digits of a currency's minor unit (ISO 4217; 2 for every code not listed).
pub fn minor_digits(currency: &str) -> i32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    }
}

/// `x` rounded half away from zero to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tariff with a night window, a session fee, an idle fee after 15 minutes and 20 % tax
    /// (the pricing tests in `cdr` use it too).
    pub(crate) fn tou() -> Tariff {
        Tariff {
            id: "tou".into(),
            currency: "EUR".into(),
            energy_per_kwh: 0.30,
            time_per_hour: 0.0,
            session_fee: 0.50,
            idle_per_minute: 0.10,
            idle_grace_minutes: 15,
            tax_percent: 20.0,
            windows: vec![TariffWindow {
                days: vec![],
                start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
                energy_per_kwh: Some(0.20),
                time_per_hour: None,
            }],
        }
    }

    #[test]
    fn windows_follow_days_and_wrap_midnight() {
        let mut t = tou();
        t.windows[0].days = vec![TariffDay::Sat];
        let utc = chrono_tz::UTC;
        let sat = Utc.with_ymd_and_hms(2026, 3, 7, 23, 0, 0).unwrap();
        assert_eq!(t.prices_at(sat, &utc).0, 0.20);
        // Sunday 03:00 is still in Saturday's night window; Sunday 23:00 is not.
        assert_eq!(t.prices_at(sat + Duration::hours(4), &utc).0, 0.20);
        assert_eq!(t.prices_at(sat + Duration::hours(24), &utc).0, 0.30);
    }

    #[test]
    fn validation_names_the_problem() {
        let mut t = tou();
        t.currency = "eur".into();
        assert!(t.validate().unwrap_err().to_string().contains("ISO 4217"));
        let mut t = tou();
        t.energy_per_kwh = -1.0;
        assert!(
            t.validate()
                .unwrap_err()
                .to_string()
                .contains("energy_per_kwh")
        );
        let mut t = tou();
        t.windows[0].end = t.windows[0].start;
        assert!(t.validate().unwrap_err().to_string().contains("no length"));
        assert!(tou().validate().is_ok());
        assert_eq!(minor_digits("JPY"), 0);
    }
}

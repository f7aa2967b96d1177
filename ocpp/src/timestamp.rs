//! Timestamps as chargers really send them. RFC 3339 with `Z` or an offset is the rule; in the
//! field we also meet timestamps without any offset (taken as UTC, which OCPP mandates), a space
//! instead of `T`, and any number of fractional digits. Everything becomes UTC here.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};

/// Parses a charger timestamp leniently into UTC.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let normal = text.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&normal) {
        return Some(t.with_timezone(&Utc));
    }
    let bare = normal.trim_end_matches('Z');
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(bare, f).ok())
    .map(|naive| naive.and_utc())
}

/// Serde helper: a lenient timestamp field.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {text:?}")))
}

/// Serde helper: an optional lenient timestamp field.
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text {
        None => Ok(None),
        Some(t) => parse(&t)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {t:?}"))),
    }
}

/// Formats a UTC time as OCPP expects (RFC 3339, `Z`, milliseconds).
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Serde helper: a timestamp written as [`format`] does (with [`deserialize`], this module
/// serves `#[serde(with = "crate::timestamp")]`).
pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*t))
}

/// Serde helpers for an optional timestamp: `#[serde(default, with = "crate::timestamp::option",
/// skip_serializing_if = "Option::is_none")]`.
pub mod option {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer};

    /// Writes a present timestamp as [`super::format`] does.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    /// Reads an optional timestamp leniently.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        super::deserialize_option(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accepts_the_forms_seen_in_the_field() {
        let want = Utc.with_ymd_and_hms(2026, 5, 1, 8, 30, 0).unwrap();
        for text in [
            "2026-05-01T08:30:00Z",
            "2026-05-01T08:30:00.000Z",
            "2026-05-01T10:30:00+02:00",
            "2026-05-01T08:30:00.000000Z",
            "2026-05-01T08:30:00",
            "2026-05-01 08:30:00Z",
            "2026-05-01T08:30",
        ] {
            assert_eq!(parse(text), Some(want), "{text}");
        }
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2026-13-01T00:00:00Z"), None);
        assert_eq!(format(want), "2026-05-01T08:30:00.000Z");
    }
}

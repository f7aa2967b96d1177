//! The table of settings: dotted key, and how to parse and apply a value for it. Files, the
//! environment and flags all go through this one table.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Config, LogFormat};

/// A value as it arrived: typed from TOML, or text from the environment or a flag.
#[derive(Debug, Clone)]
pub(super) enum Raw {
    Toml(toml::Value),
    Text(String),
}

type Setter = fn(&mut Config, &Raw) -> Result<(), String>;

/// Every setting chargegrid knows.
pub(super) const KEYS: &[(&str, Setter)] = &[
    ("node_id", |c, v| {
        c.node_id = text(v)?.parse().map_err(|e| format!("{e}"))?;
        Ok(())
    }),
    ("ocpp.listen", |c, v| {
        c.ocpp.listen = addr(v)?;
        Ok(())
    }),
    ("ocpp.allow_unknown_chargers", |c, v| {
        c.ocpp.allow_unknown_chargers = boolean(v)?;
        Ok(())
    }),
    ("ocpp.heartbeat_interval_s", |c, v| {
        c.ocpp.heartbeat_interval = seconds(v, 1, 86_400)?;
        Ok(())
    }),
    ("ocpp.call_timeout_s", |c, v| {
        c.ocpp.call_timeout = seconds(v, 1, 600)?;
        Ok(())
    }),
    ("ocpp.max_frame_bytes", |c, v| {
        c.ocpp.max_frame_bytes = count(v, 1024, 16 * 1024 * 1024)?;
        Ok(())
    }),
    ("ocpp.ping_interval_s", |c, v| {
        c.ocpp.ping_interval = seconds(v, 1, 3_600)?;
        Ok(())
    }),
    ("ocpp.accept_unknown_id_tags", |c, v| {
        c.ocpp.accept_unknown_id_tags = boolean(v)?;
        Ok(())
    }),
    ("ocpp.schemas_dir", |c, v| {
        c.ocpp.schemas_dir = Some(PathBuf::from(text(v)?));
        Ok(())
    }),
    ("api.listen", |c, v| {
        c.api.listen = addr(v)?;
        Ok(())
    }),
    ("api.cors_origins", |c, v| {
        c.api.cors_origins = list(v)?;
        Ok(())
    }),
    ("api.max_body_bytes", |c, v| {
        c.api.max_body_bytes = count(v, 1024, 16 * 1024 * 1024)?;
        Ok(())
    }),
    ("api.rate_limit_per_minute", |c, v| {
        c.api.rate_limit_per_minute = count(v, 1, 1_000_000)? as u32;
        Ok(())
    }),
    ("api.stream_interval_ms", |c, v| {
        c.api.stream_interval = Duration::from_millis(count(v, 10, 60_000)? as u64);
        Ok(())
    }),
    ("metrics.listen", |c, v| {
        c.metrics.listen = addr(v)?;
        Ok(())
    }),
    ("store.url", |c, v| {
        let url = text(v)?;
        if !(url.starts_with("memory://") || url.starts_with("redis://")) {
            return Err(format!(
                "{:?} is not a store URL; expected memory:// or redis://host:port/db",
                chargegrid_store::redis::redact(&url)
            ));
        }
        c.store.url = url;
        Ok(())
    }),
    ("store.connect_timeout_ms", |c, v| {
        let ms = count(v, 1, 600_000)?;
        c.store.connect_timeout = Duration::from_millis(ms as u64);
        Ok(())
    }),
    ("network.file", |c, v| {
        c.network.file = Some(PathBuf::from(text(v)?));
        Ok(())
    }),
    ("log.level", |c, v| {
        c.log.level = text(v)?;
        Ok(())
    }),
    ("log.format", |c, v| {
        c.log.format = match text(v)?.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(format!("{other:?} is not text or json")),
        };
        Ok(())
    }),
];

/// The environment variable for a dotted key: `ocpp.listen` → `CHARGEGRID_OCPP_LISTEN`.
pub(super) fn env_name(key: &str) -> String {
    format!("CHARGEGRID_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// The known key closest to `key`, for "did you mean" hints.
pub(super) fn closest(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|(k, _)| (*k, distance(key, k)))
        .filter(|(_, d)| *d <= 3)
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn text(v: &Raw) -> Result<String, String> {
    match v {
        Raw::Text(s) | Raw::Toml(toml::Value::String(s)) => Ok(s.clone()),
        Raw::Toml(other) => Err(format!("expected a string, got {}", other.type_str())),
    }
}

fn addr(v: &Raw) -> Result<SocketAddr, String> {
    let s = text(v)?;
    s.parse()
        .map_err(|_| format!("{s:?} is not an address like 0.0.0.0:9000 or [::]:9000"))
}

fn boolean(v: &Raw) -> Result<bool, String> {
    match v {
        Raw::Toml(toml::Value::Boolean(b)) => Ok(*b),
        Raw::Text(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(format!("{s:?} is not true or false")),
        },
        Raw::Toml(other) => Err(format!("expected true or false, got {}", other.type_str())),
    }
}

fn count(v: &Raw, min: usize, max: usize) -> Result<usize, String> {
    let n: i64 = match v {
        Raw::Toml(toml::Value::Integer(i)) => *i,
        Raw::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number"))?,
        Raw::Toml(other) => {
            return Err(format!("expected a whole number, got {}", other.type_str()));
        }
    };
    usize::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{n} is outside {min}..={max}"))
}

fn seconds(v: &Raw, min: usize, max: usize) -> Result<Duration, String> {
    Ok(Duration::from_secs(count(v, min, max)? as u64))
}

fn list(v: &Raw) -> Result<Vec<String>, String> {
    match v {
        Raw::Text(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
        Raw::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                toml::Value::String(s) => Ok(s.clone()),
                other => Err(format!("expected strings, got {}", other.type_str())),
            })
            .collect(),
        Raw::Toml(other) => Err(format!(
            "expected a list of strings, got {}",
            other.type_str()
        )),
    }
}

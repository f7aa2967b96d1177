//! The table of settings: dotted key, and how to parse and apply a value for it. Files, the
//! environment and flags all go through this one table.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chargegrid_scheduler::control::ModelKnobs;

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
    ("ocpp.read_settings_at_boot", |c, v| {
        c.ocpp.gateway.read_settings_at_boot = boolean(v)?;
        Ok(())
    }),
    ("ocpp.trusted_proxies", |c, v| {
        c.ocpp.gateway.trusted_proxies = proxies(v)?;
        Ok(())
    }),
    ("api.trusted_proxies", |c, v| {
        c.api.trusted_proxies = proxies(v)?;
        Ok(())
    }),
    ("ocpp.allow_unknown_chargers", |c, v| {
        c.ocpp.gateway.allow_unknown_chargers = boolean(v)?;
        Ok(())
    }),
    ("ocpp.heartbeat_interval_s", |c, v| {
        c.ocpp.gateway.heartbeat_interval = seconds(v, 1, 86_400)?;
        Ok(())
    }),
    ("ocpp.call_timeout_s", |c, v| {
        c.ocpp.gateway.call_timeout = seconds(v, 1, 600)?;
        Ok(())
    }),
    ("ocpp.max_frame_bytes", |c, v| {
        c.ocpp.gateway.max_frame_bytes = count(v, 1024, 16 * 1024 * 1024)?;
        Ok(())
    }),
    ("ocpp.ping_interval_s", |c, v| {
        c.ocpp.gateway.ping_interval = seconds(v, 1, 3_600)?;
        Ok(())
    }),
    ("ocpp.accept_unknown_id_tags", |c, v| {
        c.ocpp.gateway.accept_unknown_id_tags = boolean(v)?;
        Ok(())
    }),
    ("ocpp.schema_validation", |c, v| {
        c.ocpp.schema_validation = boolean(v)?;
        Ok(())
    }),
    ("ocpp.schemas_dir", |c, v| {
        c.ocpp.schemas_dir = Some(PathBuf::from(text(v)?));
        Ok(())
    }),
    ("ocpp.max_messages_per_second", |c, v| {
        c.ocpp.gateway.max_messages_per_second = count(v, 1, 100_000)? as u32;
        Ok(())
    }),
    ("ocpp.max_connections_per_ip", |c, v| {
        c.ocpp.gateway.max_connections_per_ip = count(v, 1, 10_000_000)?;
        Ok(())
    }),
    ("ocpp.handshake_timeout_ms", |c, v| {
        c.ocpp.gateway.handshake_timeout = millis(v, 50, 600_000)?;
        Ok(())
    }),
    ("ocpp.auth_failures_before_backoff", |c, v| {
        c.ocpp.gateway.auth_failures_before_backoff =
            u32::try_from(count(v, 0, 1_000_000)?).unwrap_or(u32::MAX);
        Ok(())
    }),
    ("ocpp.auth_backoff_s", |c, v| {
        c.ocpp.gateway.auth_backoff = seconds(v, 1, 86_400)?;
        Ok(())
    }),
    ("ocpp.max_concurrent_password_checks", |c, v| {
        c.ocpp.gateway.max_concurrent_password_checks = count(v, 1, 1_024)?;
        Ok(())
    }),
    ("ocpp.max_queued_commands", |c, v| {
        c.ocpp.gateway.max_queued_commands = count(v, 1, 100_000)?;
        Ok(())
    }),
    ("ocpp.charger_ca_cert_file", |c, v| {
        c.ocpp.charger_ca.cert_file = Some(PathBuf::from(text(v)?));
        Ok(())
    }),
    ("ocpp.charger_ca_key_file", |c, v| {
        c.ocpp.charger_ca.key_file = Some(PathBuf::from(text(v)?));
        Ok(())
    }),
    ("ocpp.charger_certificate_days", |c, v| {
        c.ocpp.charger_ca.validity_days = count(v, 1, 3_650)? as u32;
        Ok(())
    }),
    ("ocpp.tls_listen", |c, v| {
        tls(c).listen = addr(v)?;
        Ok(())
    }),
    ("ocpp.tls_cert_file", |c, v| {
        tls(c).cert_file = PathBuf::from(text(v)?);
        Ok(())
    }),
    ("ocpp.tls_key_file", |c, v| {
        tls(c).key_file = PathBuf::from(text(v)?);
        Ok(())
    }),
    ("ocpp.tls_client_ca_file", |c, v| {
        tls(c).client_ca_file = Some(PathBuf::from(text(v)?));
        Ok(())
    }),
    ("ocpp.tls_require_client_cert", |c, v| {
        tls(c).require_client_cert = boolean(v)?;
        Ok(())
    }),
    ("admin.email", |c, v| {
        c.admin.email = Some(text(v)?);
        Ok(())
    }),
    ("admin.password", |c, v| {
        c.admin.password = Some(text(v)?);
        Ok(())
    }),
    ("health.enabled", |c, v| {
        c.health.disabled = !boolean(v)?;
        Ok(())
    }),
    ("health.model_voltages", |c, v| {
        c.health.model_voltages = voltages(v)?;
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
    ("api.request_timeout_s", |c, v| {
        c.api.request_timeout = seconds(v, 1, 3_600)?;
        Ok(())
    }),
    ("api.max_connections", |c, v| {
        c.api.max_connections = count(v, 1, 1_000_000)?;
        Ok(())
    }),
    ("api.header_timeout_ms", |c, v| {
        c.api.header_timeout = millis(v, 50, 600_000)?;
        Ok(())
    }),
    ("api.api_key_rate_limit_per_minute", |c, v| {
        c.api.api_key_rate_limit_per_minute = count(v, 1, 1_000_000)? as u32;
        Ok(())
    }),
    ("api.audit_retention_days", |c, v| {
        c.api.audit_retention = Duration::from_secs(count(v, 1, 36_500)? as u64 * 86_400);
        Ok(())
    }),
    ("api.stream_interval_ms", |c, v| {
        c.api.stream_interval = millis(v, 10, 60_000)?;
        Ok(())
    }),
    ("metrics.listen", |c, v| {
        c.metrics.listen = addr(v)?;
        Ok(())
    }),
    ("store.url", |c, v| {
        let url = text(v)?;
        if !chargegrid_store::URL_SCHEMES
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Err(format!(
                "{:?} is not a store URL; expected {}",
                chargegrid_store::redis::redact(&url),
                chargegrid_store::URL_FORMS
            ));
        }
        c.store.url = url;
        Ok(())
    }),
    ("records.url", |c, v| {
        let url = text(v)?;
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            return Err(format!(
                "{:?} is not a records URL; expected sqlite://path/to/file.db or postgres://user@host:port/db",
                chargegrid_store::redis::redact(&url)
            ));
        }
        c.records.url = url;
        Ok(())
    }),
    ("store.sample_retention_days", |c, v| {
        c.store.sample_retention = Duration::from_secs(count(v, 1, 36_500)? as u64 * 86_400);
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
    ("scheduler.enabled", |c, v| {
        c.scheduler.enabled = boolean(v)?;
        Ok(())
    }),
    ("scheduler.policy", |c, v| {
        let policy: chargegrid_scheduler::alloc::Policy =
            text(v)?.parse().map_err(|e| format!("{e}"))?;
        if !policy.respects_limits() {
            return Err(format!("{policy} ignores limits: not for live control"));
        }
        c.scheduler.policy = policy;
        Ok(())
    }),
    ("scheduler.period_s", |c, v| {
        c.scheduler.period = seconds(v, 1, 3_600)?;
        Ok(())
    }),
    ("scheduler.debounce_ms", |c, v| {
        c.scheduler.debounce = millis(v, 0, 1_000)?;
        Ok(())
    }),
    ("scheduler.lease_ttl_s", |c, v| {
        c.scheduler.lease_ttl = seconds(v, 1, 600)?;
        Ok(())
    }),
    ("scheduler.offline_hold_s", |c, v| {
        c.scheduler.offline_hold = seconds(v, 0, 86_400)?;
        Ok(())
    }),
    ("scheduler.command_timeout_s", |c, v| {
        c.scheduler.command_timeout = seconds(v, 1, 600)?;
        Ok(())
    }),
    ("scheduler.voltage_v", |c, v| {
        c.scheduler.voltage_v = number(v, 100.0, 400.0)?;
        Ok(())
    }),
    ("scheduler.default_energy_kwh", |c, v| {
        c.scheduler.default_energy_kwh = number(v, 0.0, 1_000.0)?;
        Ok(())
    }),
    ("scheduler.default_dwell_min", |c, v| {
        c.scheduler.default_dwell = Duration::from_secs(60 * count(v, 1, 7 * 24 * 60)? as u64);
        Ok(())
    }),
    ("scheduler.max_failures", |c, v| {
        c.scheduler.max_failures = count(v, 1, 100)? as u32;
        Ok(())
    }),
    ("scheduler.exclusion_s", |c, v| {
        c.scheduler.exclusion = seconds(v, 1, 7 * 86_400)?;
        Ok(())
    }),
    ("scheduler.verify_grace_s", |c, v| {
        c.scheduler.verify_grace = seconds(v, 0, 86_400)?;
        Ok(())
    }),
    ("scheduler.min_raise_a", |c, v| {
        c.scheduler.min_raise_a = number(v, 0.0, 100.0)?;
        Ok(())
    }),
    ("scheduler.draw_tolerance_a", |c, v| {
        c.scheduler.draw_tolerance_a = number(v, 0.0, 50.0)?;
        Ok(())
    }),
    ("scheduler.draw_margin_a", |c, v| {
        c.scheduler.draw_margin_a = number(v, 0.0, 50.0)?;
        Ok(())
    }),
    ("scheduler.draw_share", |c, v| {
        c.scheduler.draw_share = number(v, 0.0, 0.5)?;
        Ok(())
    }),
    ("scheduler.models", |c, v| {
        c.scheduler.models = models(v)?;
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

/// The TLS section, created with defaults on first use (port 9443; files must be given).
fn tls(c: &mut Config) -> &mut super::TlsConfig {
    c.ocpp.tls.get_or_insert_with(|| super::TlsConfig {
        listen: SocketAddr::from(([0, 0, 0, 0], 9443)),
        cert_file: PathBuf::new(),
        key_file: PathBuf::new(),
        client_ca_file: None,
        require_client_cert: false,
    })
}

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

fn millis(v: &Raw, min: usize, max: usize) -> Result<Duration, String> {
    Ok(Duration::from_millis(count(v, min, max)? as u64))
}

fn number(v: &Raw, min: f64, max: f64) -> Result<f64, String> {
    let n = match v {
        Raw::Toml(toml::Value::Float(f)) => *f,
        Raw::Toml(toml::Value::Integer(i)) => *i as f64,
        Raw::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a number"))?,
        Raw::Toml(other) => return Err(format!("expected a number, got {}", other.type_str())),
    };
    if n.is_finite() && (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is outside {min}..={max}"))
    }
}

/// Per-model knobs: a TOML table of tables (`[scheduler.models."MODEL"]`), or the same as an
/// inline TOML table in text (`{ "MODEL" = { unit = "W" } }`) from the environment or a flag.
fn models(v: &Raw) -> Result<HashMap<String, ModelKnobs>, String> {
    let value = match v {
        Raw::Toml(value) => value.clone(),
        Raw::Text(s) => {
            let doc: toml::Table =
                format!("models = {s}")
                    .parse()
                    .map_err(|e: toml::de::Error| {
                        format!("not an inline TOML table: {}", e.message())
                    })?;
            doc.get("models")
                .cloned()
                .unwrap_or(toml::Value::Table(Default::default()))
        }
    };
    value
        .try_into()
        .map_err(|e: toml::de::Error| format!("bad model knobs: {}", e.message()))
}

/// `{ "Model A" = 355.0 }` in TOML, or `Model A=355,Model B=400` in the environment.
fn voltages(v: &Raw) -> Result<std::collections::BTreeMap<String, f64>, String> {
    let check = |model: &str, volts: f64| {
        if volts.is_finite() && (12.0..=1500.0).contains(&volts) {
            Ok((model.trim().to_string(), volts))
        } else {
            Err(format!(
                "voltage {volts} for {model:?} is outside 12..=1500 V"
            ))
        }
    };
    match v {
        Raw::Toml(toml::Value::Table(t)) => t
            .iter()
            .map(|(model, value)| match value {
                toml::Value::Float(f) => check(model, *f),
                toml::Value::Integer(i) => check(model, *i as f64),
                other => Err(format!(
                    "voltage for {model:?} is a {}, not a number",
                    other.type_str()
                )),
            })
            .collect(),
        Raw::Text(s) => s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| {
                let (model, volts) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("{pair:?} is not MODEL=VOLTS"))?;
                check(
                    model,
                    volts
                        .trim()
                        .parse()
                        .map_err(|_| format!("{volts:?} is not a number"))?,
                )
            })
            .collect(),
        Raw::Toml(other) => Err(format!(
            "expected a table of model = volts, got {}",
            other.type_str()
        )),
    }
}

fn proxies(v: &Raw) -> Result<chargegrid_core::proxies::TrustedProxies, String> {
    chargegrid_core::proxies::TrustedProxies::parse(&list(v)?).map_err(|e| e.to_string())
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

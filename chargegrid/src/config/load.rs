//! Layering: defaults < file < environment < flags. The environment comes in as a map so tests
//! never touch the process environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::keys::{KEYS, Raw, closest, env_name};
use super::{Config, ConfigError};

/// Settings given as command-line flags.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// `(flag, dotted key, value)` for each flag given.
    pub settings: Vec<(&'static str, &'static str, String)>,
}

impl Overrides {
    /// Adds a flag's value when it was given.
    pub fn set(&mut self, flag: &'static str, key: &'static str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.settings.push((flag, key, v.to_string()));
        }
    }
}

/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_FILE_ENV: &str = "CHARGEGRID_CONFIG";

/// Builds the configuration from defaults, the file, `env` and the flags.
pub fn load(flags: &Overrides, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
    load_with_origins(flags, env).map(|(config, _)| config)
}

/// Where one setting's value came from, and the value as written there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `file PATH`, `environment variable NAME` or `flag --NAME`.
    pub from: String,
    /// The value as given (TOML rendered as text).
    pub value: String,
}

/// Like [`load`], also telling, for every setting that is not at its default, where its value
/// came from (the last layer wins: file, then environment, then flags).
pub fn load_with_origins(
    flags: &Overrides,
    env: &HashMap<String, String>,
) -> Result<(Config, std::collections::BTreeMap<String, Origin>), ConfigError> {
    let mut origins = std::collections::BTreeMap::new();
    let config = load_layers(flags, env, &mut origins)?;
    Ok((config, origins))
}

fn load_layers(
    flags: &Overrides,
    env: &HashMap<String, String>,
    origins: &mut std::collections::BTreeMap<String, Origin>,
) -> Result<Config, ConfigError> {
    let mut seen = |key: &str, from: String, value: String| {
        origins.insert(key.to_string(), Origin { from, value });
    };
    let mut config = Config::default();
    let file = flags
        .config_file
        .clone()
        .or_else(|| env.get(CONFIG_FILE_ENV).map(PathBuf::from));
    if let Some(path) = file {
        for (key, value) in read_file(&path)? {
            let from = format!("{}", path.display());
            apply(&mut config, &key, &Raw::Toml(value.clone()), &from)?;
            seen(&key, format!("file {from}"), value.to_string());
        }
    }
    let mut vars: Vec<(&String, &String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with("CHARGEGRID_") && k.as_str() != CONFIG_FILE_ENV)
        .collect();
    vars.sort();
    for (var, value) in vars {
        let Some((key, _)) = KEYS.iter().find(|(k, _)| env_name(k) == *var) else {
            let guess = var.trim_start_matches("CHARGEGRID_").to_ascii_lowercase();
            return Err(ConfigError::UnknownKey {
                key: var.clone(),
                origin: "the environment".into(),
                hint: hint(&guess.replacen('_', ".", 1))
                    .map(env_name)
                    .map_or_else(String::new, |k| format!(" (did you mean {k}?)")),
            });
        };
        let from = format!("environment variable {var}");
        apply(&mut config, key, &Raw::Text(value.clone()), &from)?;
        seen(key, from, value.clone());
    }
    for (flag, key, value) in &flags.settings {
        let from = format!("flag {flag}");
        apply(&mut config, key, &Raw::Text(value.clone()), &from)?;
        seen(key, from, value.clone());
    }
    // Settings that must agree with each other.
    if let Err(e) = config.scheduler.draw_rule().validate() {
        let key = "scheduler.draw_margin_a";
        let origin = ["scheduler.draw_margin_a", "scheduler.draw_tolerance_a"]
            .iter()
            .filter_map(|k| origins.get(*k).map(|o| format!("{k} from {}", o.from)))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ConfigError::InvalidValue {
            key: key.into(),
            origin: if origin.is_empty() {
                "the defaults".into()
            } else {
                origin
            },
            reason: e.to_string(),
        });
    }
    Ok(config)
}

fn hint(key: &str) -> Option<&'static str> {
    closest(key)
}

fn apply(config: &mut Config, key: &str, value: &Raw, origin: &str) -> Result<(), ConfigError> {
    let Some((_, setter)) = KEYS.iter().find(|(k, _)| *k == key) else {
        return Err(ConfigError::UnknownKey {
            key: key.to_string(),
            origin: origin.to_string(),
            hint: hint(key).map_or_else(String::new, |k| format!(" (did you mean {k}?)")),
        });
    };
    setter(config, value).map_err(|reason| ConfigError::InvalidValue {
        key: key.to_string(),
        origin: origin.to_string(),
        reason,
    })
}

/// Reads a TOML file into dotted keys (`[ocpp] listen = ..` → `ocpp.listen`).
fn read_file(path: &Path) -> Result<Vec<(String, toml::Value)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::ParseFile {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
    let mut out = Vec::new();
    for (section, value) in table {
        match value {
            toml::Value::Table(inner) => {
                for (key, value) in inner {
                    out.push((format!("{section}.{key}"), value));
                }
            }
            other => out.push((section, other)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn file(text: &str) -> tempfile_path::TempPath {
        tempfile_path::TempPath::with(text)
    }

    mod tempfile_path {
        use super::*;
        pub struct TempPath(pub PathBuf);
        impl TempPath {
            pub fn with(text: &str) -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "chargegrid-config-test-{}-{}.toml",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                let mut f = std::fs::File::create(&p).unwrap();
                f.write_all(text.as_bytes()).unwrap();
                Self(p)
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn defaults_need_nothing() {
        let c = load(&Overrides::default(), &HashMap::new()).unwrap();
        assert_eq!(c.ocpp.listen.port(), 9000);
        assert_eq!(c.api.listen.port(), 8080);
        assert_eq!(c.metrics.listen.port(), 9100);
        assert_eq!(c.store.url, "memory://");
        assert!(!c.ocpp.gateway.allow_unknown_chargers);
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let f = file(
            "[ocpp]\nlisten = \"127.0.0.1:1000\"\nheartbeat_interval_s = 60\n[api]\nlisten = \"127.0.0.1:1001\"\n[metrics]\nlisten = \"127.0.0.1:1002\"\n",
        );
        let mut flags = Overrides {
            config_file: Some(f.0.clone()),
            ..Overrides::default()
        };
        flags.set("--ocpp-listen", "ocpp.listen", Some("127.0.0.1:3000"));
        let env = env(&[
            ("CHARGEGRID_OCPP_LISTEN", "127.0.0.1:2000"),
            ("CHARGEGRID_API_LISTEN", "127.0.0.1:2001"),
            ("CHARGEGRID_OCPP_ALLOW_UNKNOWN_CHARGERS", "true"),
            ("PATH", "/bin"),
        ]);
        let c = load(&flags, &env).unwrap();
        assert_eq!(c.ocpp.listen.port(), 3000);
        assert_eq!(c.api.listen.port(), 2001);
        assert_eq!(c.metrics.listen.port(), 1002);
        assert_eq!(c.ocpp.gateway.heartbeat_interval, Duration::from_secs(60));
        assert!(c.ocpp.gateway.allow_unknown_chargers);
    }

    #[test]
    fn config_file_can_come_from_the_environment() {
        let f = file("[store]\nurl = \"redis://127.0.0.1:6400/2\"\n");
        let env = env(&[(CONFIG_FILE_ENV, f.0.to_str().unwrap())]);
        let c = load(&Overrides::default(), &env).unwrap();
        assert_eq!(c.store.url, "redis://127.0.0.1:6400/2");
    }

    #[test]
    fn unknown_keys_are_named_with_their_origin_and_a_hint() {
        let f = file("[ocpp]\nlisen = \"0.0.0.0:9000\"\n");
        let flags = Overrides {
            config_file: Some(f.0.clone()),
            ..Overrides::default()
        };
        let err = load(&flags, &HashMap::new()).unwrap_err().to_string();
        assert!(
            err.contains("ocpp.lisen") && err.contains("did you mean ocpp.listen"),
            "{err}"
        );
        assert!(err.contains(&f.0.display().to_string()), "{err}");

        let err = load(
            &Overrides::default(),
            &env(&[("CHARGEGRID_STORE_URI", "memory://")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("CHARGEGRID_STORE_URI") && err.contains("CHARGEGRID_STORE_URL"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("CHARGEGRID_OCPP_LISTEN", "nine-thousand", "ocpp.listen"),
            ("CHARGEGRID_STORE_URL", "postgres://x", "store.url"),
            (
                "CHARGEGRID_OCPP_ALLOW_UNKNOWN_CHARGERS",
                "maybe",
                "ocpp.allow_unknown_chargers",
            ),
            (
                "CHARGEGRID_OCPP_MAX_FRAME_BYTES",
                "10",
                "ocpp.max_frame_bytes",
            ),
            ("CHARGEGRID_NODE_ID", "has space", "node_id"),
        ];
        for (var, value, key) in cases {
            let err = load(&Overrides::default(), &env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key) && err.contains(var), "{var}: {err}");
        }
        let f = file("[ocpp]\nheartbeat_interval_s = \"soon\"\n");
        let flags = Overrides {
            config_file: Some(f.0.clone()),
            ..Overrides::default()
        };
        let err = load(&flags, &HashMap::new()).unwrap_err().to_string();
        assert!(err.contains("expected a whole number"), "{err}");
    }

    #[test]
    fn unreadable_and_invalid_files_are_reported() {
        let flags = Overrides {
            config_file: Some(PathBuf::from("/nonexistent/chargegrid.toml")),
            ..Overrides::default()
        };
        assert!(matches!(
            load(&flags, &HashMap::new()),
            Err(ConfigError::ReadFile { .. })
        ));
        let f = file("[ocpp\n");
        let flags = Overrides {
            config_file: Some(f.0.clone()),
            ..Overrides::default()
        };
        assert!(matches!(
            load(&flags, &HashMap::new()),
            Err(ConfigError::ParseFile { .. })
        ));
    }

    #[test]
    fn the_draw_rule_is_set_and_a_margin_not_above_its_tolerance_is_named() {
        let c = load(
            &Overrides::default(),
            &env(&[
                ("CHARGEGRID_SCHEDULER_DRAW_SHARE", "0.06"),
                ("CHARGEGRID_SCHEDULER_DRAW_TOLERANCE_A", "0.5"),
            ]),
        )
        .unwrap();
        let rule = c.scheduler.control_config("n").draw_rule;
        assert_eq!(
            (rule.tolerance.0, rule.margin.0, rule.share),
            (0.5, 2.0, 0.06)
        );
        let err = load(
            &Overrides::default(),
            &env(&[("CHARGEGRID_SCHEDULER_DRAW_MARGIN_A", "0.8")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("scheduler.draw_margin_a")
                && err.contains("CHARGEGRID_SCHEDULER_DRAW_MARGIN_A")
                && err.contains("above the tolerance"),
            "{err}"
        );
    }

    #[test]
    fn scheduler_keys_and_model_knobs_come_from_file_and_env() {
        let f = file(
            "[scheduler]\nperiod_s = 5\nlease_ttl_s = 9\nvoltage_v = 220.0\n\n[scheduler.models.\"ACME 2\"]\nunit = \"W\"\npurpose = \"TxDefault\"\n",
        );
        let flags = Overrides {
            config_file: Some(f.0.clone()),
            ..Overrides::default()
        };
        let c = load(&flags, &env(&[("CHARGEGRID_SCHEDULER_DEBOUNCE_MS", "80")])).unwrap();
        assert_eq!(c.scheduler.period, Duration::from_secs(5));
        assert_eq!(c.scheduler.lease_ttl, Duration::from_secs(9));
        assert_eq!(c.scheduler.debounce, Duration::from_millis(80));
        let service = c.scheduler.control_config("n1");
        assert_eq!(service.voltage.0, 220.0);
        assert_eq!(service.holder, "n1");
        assert_eq!(
            service.knobs("ACME 2").unit,
            Some(chargegrid_core::command::RateUnit::W)
        );

        let c = load(
            &Overrides::default(),
            &env(&[(
                "CHARGEGRID_SCHEDULER_MODELS",
                "{ \"M\" = { stack_level = 3 } }",
            )]),
        )
        .unwrap();
        assert_eq!(c.scheduler.models["M"].stack_level, 3);
        for (var, value) in [
            ("CHARGEGRID_SCHEDULER_POLICY", "uncontrolled"),
            ("CHARGEGRID_SCHEDULER_MODELS", "{ M = { colour = 1 } }"),
            ("CHARGEGRID_SCHEDULER_DEBOUNCE_MS", "5000"),
        ] {
            let err = load(&Overrides::default(), &env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(var), "{var}: {err}");
        }
    }
}

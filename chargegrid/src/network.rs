//! The operator's network file (sites and chargers, TOML), and the sample network built into
//! the binary so `chargegrid run` works with no configuration at all.

use std::path::Path;

use chargegrid_core::network::Network;

use crate::config::ConfigError;

/// The built-in sample: four sites in Qingdao.
pub const SAMPLE_NETWORK: &str = include_str!("../../examples/network.toml");

/// Parses and validates a network document; `origin` names it in errors.
pub fn parse_network(text: &str, origin: &str) -> Result<Network, ConfigError> {
    let network: Network = toml::from_str(text).map_err(|e| ConfigError::Network {
        path: origin.to_string(),
        message: e.to_string().trim().to_string(),
    })?;
    network.validate().map_err(|e| ConfigError::Network {
        path: origin.to_string(),
        message: e.to_string(),
    })?;
    Ok(network)
}

/// Reads and validates a network file.
pub fn read_network(path: &Path) -> Result<Network, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Network {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_network(&text, &path.display().to_string())
}

/// The built-in sample network.
pub fn sample_network() -> Network {
    parse_network(SAMPLE_NETWORK, "built-in sample")
        .unwrap_or_else(|e| unreachable!("the sample network is checked by a test: {e}"))
}

/// The sample network with one freshly generated password (22 random URL-safe characters,
/// 128 bits) set on every charger: the sample's ids are public, so its chargers must not be
/// open to anyone. One hash serves all 30 chargers (hashing is deliberately slow).
pub fn sample_network_with_password() -> Result<(Network, String), ConfigError> {
    use base64::Engine;
    let password =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
    let hash =
        chargegrid_ocpp_gateway::hash_password(&password).map_err(|e| ConfigError::Network {
            path: "built-in sample".into(),
            message: e.to_string(),
        })?;
    let mut network = sample_network();
    for charger in &mut network.chargers {
        charger.password_hash = Some(hash.clone());
    }
    Ok((network, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_network_is_valid_and_in_qingdao() {
        let n = parse_network(SAMPLE_NETWORK, "sample").unwrap();
        assert_eq!(n.sites.len(), 4);
        assert_eq!(n.chargers.len(), 30);
        for s in &n.sites {
            assert!((35.5..36.5).contains(&s.location.lat()), "{}", s.id);
            assert!((119.9..120.8).contains(&s.location.lon()), "{}", s.id);
        }
        assert!(
            n.chargers
                .iter()
                .any(|c| c.ocpp_version == chargegrid_core::network::OcppVersion::V201)
        );
    }

    #[test]
    fn the_sample_carries_a_fresh_password_on_every_charger() {
        let (n, password) = sample_network_with_password().unwrap();
        let (_, other) = sample_network_with_password().unwrap();
        assert_ne!(password, other);
        assert!(password.len() >= 22, "{password}");
        assert!(n.chargers.iter().all(|c| {
            c.password_hash
                .as_deref()
                .is_some_and(|h| h.starts_with("$argon2id$"))
        }));
        n.validate().unwrap();
    }

    #[test]
    fn bad_networks_name_the_problem() {
        let err = parse_network("[[sites]]\nid = \"a\"\n", "net.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("net.toml") && err.contains("missing field"),
            "{err}"
        );
        let unknown = SAMPLE_NETWORK.replacen(
            "timezone = \"Asia/Shanghai\"",
            "timezone = \"Asia/Qingdao\"",
            1,
        );
        let err = parse_network(&unknown, "net.toml").unwrap_err().to_string();
        assert!(err.contains("Asia/Qingdao"), "{err}");
        let typo = SAMPLE_NETWORK.replacen("price_per_kwh", "price_per_kw", 1);
        let err = parse_network(&typo, "net.toml").unwrap_err().to_string();
        assert!(err.contains("price_per_kw"), "{err}");
    }

    /// The sample with its commented supply contract (the depot's) switched on.
    fn with_supply() -> String {
        SAMPLE_NETWORK
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.starts_with("[sites.supply]")
                        || rest.starts_with("base_price_per_kwh")
                        || rest.starts_with("windows") =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_supply_contract_in_the_operators_guide_is_a_valid_one() {
        let guide = include_str!("../../docs/configuration.md");
        let blocks: Vec<&str> = guide
            .split("```toml\n")
            .skip(1)
            .filter_map(|b| b.split_once("```").map(|(toml, _)| toml))
            .filter(|toml| toml.contains("[sites.supply"))
            .collect();
        assert_eq!(blocks.len(), 2, "the guide's prices and carbon blocks");
        // In place of the sample's commented contract (the depot's).
        let mut text = String::new();
        for line in SAMPLE_NETWORK.lines() {
            if line == "# [sites.supply]" {
                text.push_str(&blocks.concat());
            } else {
                text.push_str(line);
                text.push('\n');
            }
        }
        let text = text
            .replace("# base_price_per_kwh", "#")
            .replace("# windows", "#");
        let n = parse_network(&text, "guide").unwrap();
        let supply = n.sites.iter().find_map(|s| s.supply.as_ref()).unwrap();
        assert_eq!(supply.windows.len(), 3);
        assert_eq!(supply.carbon.as_ref().unwrap().kg_per_kwh_by_hour.len(), 24);
    }

    #[test]
    fn a_site_states_its_supply_prices_and_bad_ones_are_named() {
        let n = parse_network(&with_supply(), "net.toml").unwrap();
        let depot = n
            .sites
            .iter()
            .find(|s| s.id.as_str() == "qd-huangdao-depot")
            .unwrap();
        let supply = depot.supply.as_ref().expect("the depot's supply contract");
        let tz: chrono_tz::Tz = depot.timezone.parse().unwrap();
        // 01:00 in Qingdao is in the valley (23:00 to 07:00); 08:00 is not, and the valley
        // comes at 23:00.
        let night = "2026-03-01T17:00:00Z".parse().unwrap();
        assert_eq!(supply.price_at(night, &tz), 0.32);
        let morning = "2026-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(supply.price_at(morning, &tz), 0.68);
        assert_eq!(
            supply.next_cheaper(morning, &tz),
            Some(("2026-03-01T15:00:00Z".parse().unwrap(), 0.32))
        );
        let bad = with_supply().replace(r#"end = "07:00""#, r#"end = "23:00""#);
        let err = parse_network(&bad, "net.toml").unwrap_err().to_string();
        assert!(
            err.contains("qd-huangdao-depot")
                && err.contains("valley")
                && err.contains("no length"),
            "{err}"
        );
    }
}

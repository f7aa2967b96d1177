//! Choosing a station for a driver. [`ApiDispatcher`] asks the server's recommendation API
//! (`POST /api/v1/recommendations`, after signing drivers up with `POST /api/v1/auth/signup`)
//! and falls back to the nearest site when the endpoint is absent (404) or fails, saying so in
//! the decision; [`NearestDispatcher`] always takes the nearest site.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chargegrid_core::SiteId;
use chargegrid_core::network::Network;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What a driver asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchRequest {
    /// The driver (run-unique).
    pub driver: u64,
    /// Where the driver is.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Energy wanted, kWh.
    pub energy_kwh: f64,
    /// When the driver must leave again, in the server's time (wall clock).
    pub deadline: Option<DateTime<Utc>>,
    /// Detour the driver accepts, km.
    pub max_detour_km: Option<f64>,
}

/// How a site was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DispatchMethod {
    /// The server recommended it.
    Api,
    /// The API was absent or failed: nearest site.
    Fallback,
    /// Nearest site by design.
    Nearest,
}

/// A choice.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchDecision {
    /// The site.
    pub site: SiteId,
    /// How.
    pub method: DispatchMethod,
    /// Why the API was not used, if it was not.
    pub problem: Option<String>,
}

/// Chooses sites for drivers.
#[async_trait]
pub trait Dispatcher: Send + Sync {
    /// A site for this driver, or why none.
    async fn choose(&self, req: &DispatchRequest) -> Result<DispatchDecision, String>;
}

/// Great-circle distance, km.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// The nearest site, always.
#[derive(Debug, Clone)]
pub struct NearestDispatcher {
    sites: Vec<(SiteId, (f64, f64))>,
}

impl NearestDispatcher {
    /// Over a network's sites.
    pub fn new(network: &Network) -> Self {
        Self {
            sites: network
                .sites
                .iter()
                .map(|s| (s.id.clone(), (s.location.lat(), s.location.lon())))
                .collect(),
        }
    }

    /// The nearest site to a point.
    pub fn nearest(&self, lat: f64, lon: f64) -> Option<SiteId> {
        self.sites
            .iter()
            .min_by(|a, b| haversine_km(a.1, (lat, lon)).total_cmp(&haversine_km(b.1, (lat, lon))))
            .map(|s| s.0.clone())
    }
}

#[async_trait]
impl Dispatcher for NearestDispatcher {
    async fn choose(&self, req: &DispatchRequest) -> Result<DispatchDecision, String> {
        self.nearest(req.lat, req.lon)
            .map(|site| DispatchDecision {
                site,
                method: DispatchMethod::Nearest,
                problem: None,
            })
            .ok_or_else(|| "no sites".into())
    }
}

/// Drivers sharing accounts (signing up thousands would measure the password hash).
const ACCOUNTS: u64 = 16;

/// The server's recommendation API, with the nearest site as fallback.
#[derive(Debug)]
pub struct ApiDispatcher {
    base: String,
    run: String,
    client: reqwest::Client,
    tokens: Mutex<Vec<Option<String>>>,
    absent: AtomicBool,
    nearest: NearestDispatcher,
    known_sites: Vec<SiteId>,
}

impl ApiDispatcher {
    /// For the API at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, network: &Network) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            run: format!("{:x}", Utc::now().timestamp_micros()),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            tokens: Mutex::new(vec![None; ACCOUNTS as usize]),
            absent: AtomicBool::new(false),
            nearest: NearestDispatcher::new(network),
            known_sites: network.sites.iter().map(|s| s.id.clone()).collect(),
        }
    }

    async fn token(&self, driver: u64) -> Result<String, (bool, String)> {
        let slot = (driver % ACCOUNTS) as usize;
        if let Some(t) = self.tokens.lock().unwrap_or_else(|e| e.into_inner())[slot].clone() {
            return Ok(t);
        }
        let body = json!({
            "email": format!("sim-{}-{slot}@drivers.example.com", self.run),
            "password": format!("sim-password-{}-{slot}-long-enough", self.run),
            "name": format!("Simulated driver {slot}"),
        });
        let resp = self
            .client
            .post(format!("{}/api/v1/auth/signup", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| (false, format!("signup: {e}")))?;
        let status = resp.status();
        if status.as_u16() == 404 {
            return Err((true, "signup endpoint absent (404)".into()));
        }
        let v: Value = resp
            .json()
            .await
            .map_err(|e| (false, format!("signup body: {e}")))?;
        let token = v["access_token"]
            .as_str()
            .ok_or_else(|| {
                (
                    false,
                    format!("signup answered {status} without access_token"),
                )
            })?
            .to_string();
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())[slot] = Some(token.clone());
        Ok(token)
    }

    async fn ask(&self, req: &DispatchRequest) -> Result<SiteId, (bool, String)> {
        let token = self.token(req.driver).await?;
        let mut body = json!({"lat": req.lat, "lon": req.lon, "energy_kwh": req.energy_kwh});
        if let Some(d) = req.deadline {
            body["deadline"] = json!(chargegrid_ocpp::timestamp::format(d));
        }
        if let Some(km) = req.max_detour_km {
            body["max_detour_km"] = json!(km);
        }
        let resp = self
            .client
            .post(format!("{}/api/v1/recommendations", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| (false, format!("recommendations: {e}")))?;
        let status = resp.status();
        if status.as_u16() == 404 || status.as_u16() == 405 {
            return Err((true, format!("recommendations endpoint absent ({status})")));
        }
        if !status.is_success() {
            return Err((false, format!("recommendations answered {status}")));
        }
        let v: Value = resp
            .json()
            .await
            .map_err(|e| (false, format!("recommendations body: {e}")))?;
        first_site(&v)
            .and_then(|s| SiteId::new(s).ok())
            .filter(|s| self.known_sites.contains(s))
            .ok_or_else(|| (false, "no known site in the recommendations".into()))
    }
}

/// The best station's site from a recommendations answer (a JSON array, or an object holding
/// one under `recommendations`, `stations` or `items`).
fn first_site(v: &Value) -> Option<&str> {
    let list = match v {
        Value::Array(a) => a,
        Value::Object(o) => ["recommendations", "stations", "items"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array))?,
        _ => return None,
    };
    list.first()
        .and_then(|s| s.get("site").or_else(|| s.get("site_id")))
        .and_then(|s| s.as_str().or_else(|| s.get("id").and_then(Value::as_str)))
}

#[async_trait]
impl Dispatcher for ApiDispatcher {
    async fn choose(&self, req: &DispatchRequest) -> Result<DispatchDecision, String> {
        let problem = if self.absent.load(Ordering::Relaxed) {
            Some("recommendation API absent".to_string())
        } else {
            match self.ask(req).await {
                Ok(site) => {
                    return Ok(DispatchDecision {
                        site,
                        method: DispatchMethod::Api,
                        problem: None,
                    });
                }
                Err((absent, why)) => {
                    if absent {
                        self.absent.store(true, Ordering::Relaxed);
                    }
                    Some(why)
                }
            }
        };
        let site = self
            .nearest
            .nearest(req.lat, req.lon)
            .ok_or_else(|| "no sites".to_string())?;
        Ok(DispatchDecision {
            site,
            method: DispatchMethod::Fallback,
            problem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_best_site_from_the_usual_shapes() {
        assert_eq!(
            first_site(&json!([{"site": "a"}, {"site": "b"}])),
            Some("a")
        );
        assert_eq!(
            first_site(&json!({"recommendations": [{"site": {"id": "c"}}]})),
            Some("c")
        );
        assert_eq!(first_site(&json!({"items": [{"site_id": "d"}]})), Some("d"));
        assert_eq!(first_site(&json!([])), None);
        let km = haversine_km((36.0617, 120.3842), (36.1075, 120.4686));
        assert!((8.0..10.0).contains(&km), "{km}");
    }
}

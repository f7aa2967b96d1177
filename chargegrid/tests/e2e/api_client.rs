//! A small HTTP client for the driver API tests: JSON in, JSON and status out.

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The API at one address, optionally as one account.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: Value,
}

impl Reply {
    /// Asserts a problem+json error with this status and returns its `type`.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "{:?}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{:?}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        self.body["type"].as_str().unwrap().to_string()
    }
}

impl Api {
    pub fn new(addr: std::net::SocketAddr) -> Api {
        Api {
            base: format!("http://{addr}/api/v1"),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub async fn raw(&self, method: Method, path: &str, body: Option<String>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            content_type,
            retry_after,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.raw(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.raw(Method::POST, path, Some(body.to_string())).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.raw(Method::PUT, path, Some(body.to_string())).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.raw(Method::DELETE, path, None).await
    }

    /// Signs up a new driver and returns the API as them, with their id.
    pub async fn signup(&self, email: &str) -> (Api, String) {
        let r = self
            .post("/auth/signup", serde_json::json!({"email": email, "password": "correct horse battery", "name": "Test Driver"}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        (
            self.with_token(r.body["access_token"].as_str().unwrap()),
            r.body["driver"]["id"].as_str().unwrap().to_string(),
        )
    }

    /// Logs in; the API as that account (asserts the login succeeds).
    pub async fn login(&self, email: &str, password: &str) -> Api {
        let r = self
            .post(
                "/auth/login",
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(r.status, 200, "login {email}: {:?}", r.body);
        self.with_token(r.body["access_token"].as_str().unwrap())
    }
}

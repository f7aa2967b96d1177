//! The API router and server: routes registered together with their OpenAPI operations (so
//! the document lists exactly the routes served), problem+json for every error including
//! unknown routes, body-size and rate limits, CORS, and request metrics.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use chargegrid_core::Clock;
use chargegrid_store::Store;
use tokio::net::TcpListener;
use tokio::sync::RwLock;
use tower_http::cors::CorsLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dispatch::index::StationIndex;
use crate::ratelimit::RateLimiter;
use crate::routes::{
    api_keys, audit, auth, cdrs, chargers, diagnostics, docs, fleets, health, health_reports,
    maintenance, me, network, recommendations, reservations, sessions, sites, stations, stream,
    vehicles,
};
use crate::{ApiConfig, ApiMetrics, Problem};

/// How long the station index is reused before it is rebuilt from the store.
const INDEX_TTL: Duration = Duration::from_secs(30);

/// The station index, when it was built and from which version of the sites.
type CachedIndex = (Instant, u64, Arc<StationIndex>);

/// Wrong passwords for one e-mail address within 15 minutes after which its logins wait five
/// minutes (answered 429 without checking the password).
pub const LOGIN_FAILURES: u32 = 5;

/// What every request handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Records that outlive the live store (history, charge detail records); `None` on a node
    /// built without one (some tests), where history is the live store's and CDR routes answer
    /// 503.
    pub records: Option<Arc<dyn chargegrid_records::RecordsStore>>,
    /// Injected time.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Arc<ApiConfig>,
    /// Metrics.
    pub metrics: ApiMetrics,
    pub(crate) limiter: Arc<RateLimiter>,
    /// Live session streams open per account.
    pub(crate) streams:
        Arc<std::sync::Mutex<std::collections::HashMap<chargegrid_core::DriverId, usize>>>,
    /// Failed logins per e-mail address: a guessed account backs off.
    pub(crate) logins: Arc<chargegrid_core::throttle::FailureThrottle<String>>,
    index: Arc<RwLock<Option<CachedIndex>>>,
}

impl ApiState {
    /// The state for an API node.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ApiConfig,
        metrics: ApiMetrics,
    ) -> Self {
        Self {
            store,
            records: None,
            clock,
            config: Arc::new(config),
            metrics,
            limiter: Arc::default(),
            streams: Arc::default(),
            logins: Arc::new(chargegrid_core::throttle::FailureThrottle::new(
                LOGIN_FAILURES,
                chrono::Duration::minutes(15),
                chrono::Duration::minutes(5),
                100_000,
            )),
            index: Arc::default(),
        }
    }

    /// This state reading history and charge detail records from `records` too.
    #[must_use]
    pub fn with_records(mut self, records: Arc<dyn chargegrid_records::RecordsStore>) -> Self {
        self.records = Some(records);
        self
    }

    /// The spatial index of stations, rebuilt from the store when any node changed a site
    /// (and at least every 30 s).
    pub(crate) async fn stations(&self) -> Result<Arc<StationIndex>, Problem> {
        let version = self.store.sites_version().await?;
        if let Some((at, built_from, index)) = self.index.read().await.as_ref()
            && at.elapsed() < INDEX_TTL
            && *built_from == version
        {
            return Ok(index.clone());
        }
        let index = Arc::new(StationIndex::new(self.store.list_sites().await?));
        *self.index.write().await = Some((Instant::now(), version, index.clone()));
        Ok(index)
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "chargegrid driver and fleet API", version = "1", description = "Find, reserve, charge, follow; fleets; dispatch. Errors are application/problem+json."),
    modifiers(&BearerAuth),
    components(schemas(Problem))
)]
struct ApiDoc;

fn api_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(api_keys::create_api_key, api_keys::list_api_keys))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(audit::audit_trail))
        .routes(routes!(network::get_network))
        .routes(routes!(network::put_site))
        .routes(routes!(network::delete_site))
        .routes(routes!(network::put_charger))
        .routes(routes!(network::delete_charger))
        .routes(routes!(network::set_password))
        .routes(routes!(me::me))
        .routes(routes!(me::link_id_tag))
        .routes(routes!(me::accept_invitation, me::decline_invitation))
        .routes(routes!(fleets::create_fleet))
        .routes(routes!(fleets::get_fleet))
        .routes(routes!(fleets::create_manager))
        .routes(routes!(fleets::add_driver, fleets::list_drivers))
        .routes(routes!(vehicles::add_vehicle, vehicles::list_vehicles))
        .routes(routes!(vehicles::get_vehicle, vehicles::update_vehicle))
        .routes(routes!(vehicles::put_model, vehicles::list_models))
        .routes(routes!(vehicles::import_vehicles))
        .routes(routes!(diagnostics::refused_handshakes))
        .routes(routes!(chargers::list_chargers))
        .routes(routes!(chargers::get_charger))
        .routes(routes!(chargers::reset))
        .routes(routes!(chargers::remote_start))
        .routes(routes!(chargers::remote_stop))
        .routes(routes!(chargers::availability))
        .routes(routes!(chargers::unlock))
        .routes(routes!(chargers::trigger))
        .routes(routes!(
            chargers::get_configuration,
            chargers::set_configuration
        ))
        .routes(routes!(chargers::clear_cache))
        .routes(routes!(chargers::raw_call))
        .routes(routes!(maintenance::update_firmware))
        .routes(routes!(maintenance::upload_diagnostics))
        .routes(routes!(maintenance::send_local_list))
        .routes(routes!(maintenance::local_list_version))
        .routes(routes!(maintenance::data_transfer))
        .routes(routes!(
            maintenance::set_manual_limit,
            maintenance::clear_manual_limit
        ))
        .routes(routes!(fleets::add_id_tag))
        .routes(routes!(fleets::fleet_sessions))
        .routes(routes!(stations::near))
        .routes(routes!(stations::detail))
        .routes(routes!(recommendations::recommend))
        .routes(routes!(reservations::create, reservations::list))
        .routes(routes!(reservations::cancel))
        .routes(routes!(sessions::start, sessions::history))
        .routes(routes!(sessions::get))
        .routes(routes!(sessions::stop))
        .routes(routes!(sessions::set_needs))
        .routes(routes!(stream::events))
        .routes(routes!(sites::add_window, sites::list_windows))
        .routes(routes!(sites::delete_window))
        .routes(routes!(health_reports::vehicle))
        .routes(routes!(health_reports::vehicle_health_history))
        .routes(routes!(health_reports::rollup))
        .routes(routes!(health_reports::csv))
        .routes(routes!(cdrs::list_cdrs))
        .routes(routes!(cdrs::export_cdrs))
        .routes(routes!(cdrs::get_cdr))
        .routes(routes!(cdrs::correct_cdr))
        .routes(routes!(health_reports::chart))
        .routes(routes!(health_reports::chargers))
}

/// The OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_routes().split_for_parts().1;
    finish_document(&mut doc);
    doc
}

/// What every served or exported document gets after the routes: descriptions and the
/// complete error responses.
fn finish_document(doc: &mut utoipa::openapi::OpenApi) {
    describe_responses(doc);
    complete_error_responses(doc);
}

/// Every error answer is `application/problem+json`, and the statuses the shared layers give
/// are documented on every operation they can reach, so client generators and contract testers
/// see every status a route really returns: 400 (unparsable path or query), 401 and 403
/// (secured operations), 404 (operations with a path parameter), 413, 415 and 422 (operations
/// with a body), 429 (rate limits) and 503 (store unavailable, timeout) everywhere.
fn complete_error_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    const PROBLEM: &str = "application/problem+json";
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        )
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path = path.contains('{');
        for op in operations(item) {
            for (status, response) in &mut op.responses.responses {
                if !status.starts_with('4') && !status.starts_with('5') {
                    continue;
                }
                if let RefOr::T(r) = response
                    && let Some(content) = r.content.shift_remove("application/json")
                {
                    r.content.insert(PROBLEM.to_string(), content);
                }
            }
            let has_params = has_path || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let body = op.request_body.is_some();
            let mut wanted: Vec<(&str, &str)> = vec![
                ("429", "Rate limited (see Retry-After)"),
                (
                    "503",
                    "Unavailable: the store is unreachable or the request timed out",
                ),
            ];
            if has_params || body {
                wanted.push(("400", "Bad request: a malformed parameter or body"));
            }
            if secured {
                wanted.push(("401", "Unauthenticated: missing, invalid or expired token"));
                wanted.push(("403", "Forbidden for this account"));
            }
            if has_path {
                wanted.push(("404", "Not found"));
            }
            if body {
                wanted.push(("413", "Body larger than api.max_body_bytes"));
                wanted.push(("415", "Unsupported content type"));
                wanted.push(("422", "Body of the wrong shape or with invalid values"));
            }
            for (status, description) in wanted {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(description));
            }
        }
    }
}

/// The operations of a path item.
fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

/// OpenAPI requires a description on every response: use the status's reason phrase where the
/// handler's annotation gave none.
fn describe_responses(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            for (status, response) in &mut op.responses.responses {
                if let utoipa::openapi::RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Response")
                        .to_string();
                }
            }
        }
    }
}

async fn track(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let mut response = next.run(req).await;
    // A body over the limit is refused by axum's extractor in plain text: answer it as every
    // other error, problem+json.
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none_or(|v| !v.as_bytes().starts_with(b"application/problem+json"))
    {
        response = Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Request body too large",
        )
        .detail(format!(
            "at most {} bytes; send large imports in several requests",
            state.config.max_body_bytes
        ))
        .into_response();
    }
    state
        .metrics
        .latency
        .with_label_values(&[&route])
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .with_label_values(&[&method, &route, response.status().as_str()])
        .inc();
    response
}

/// Every request but a live stream must finish (body read and handler run) within
/// `request_timeout`; a slow body or a stuck handler is answered 503, not held open.
async fn deadline(
    State(state): State<ApiState>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    if req.uri().path().ends_with("/events") {
        return next.run(req).await;
    }
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            state.metrics.request_timeouts.inc();
            Problem::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "Request took too long",
            )
            .detail("the request was not completed in time; retry")
            .into_response()
        }
    }
}

/// The `/api/v1` router.
pub fn router(state: ApiState) -> Router {
    let (routes, mut openapi) = api_routes().split_for_parts();
    finish_document(&mut openapi);
    // The document never changes: serialise it once, not on every request.
    let document = axum::body::Bytes::from(
        serde_json::to_vec(&openapi).expect("the OpenAPI document serialises"),
    );
    let mut app = routes
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let body = document.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .route("/api/v1/docs", get(docs::page))
        .fallback(|uri: axum::http::Uri| async move {
            Problem::not_found(format!("no route for {}", uri.path()))
        })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::ratelimit::limit,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.max_body_bytes,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::audit::record,
        ))
        .route_layer(middleware::from_fn_with_state(state.clone(), track));
    if !state.config.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = state
            .config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods(tower_http::cors::Any)
                .allow_headers([
                    axum::http::header::AUTHORIZATION,
                    axum::http::header::CONTENT_TYPE,
                ]),
        );
    }
    app.with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves (in-flight requests finish). HTTP/1.1
/// (put an HTTP/2 terminating proxy in front for phones that want it); a client must send each
/// request's headers within `header_timeout`, so slow or silent sockets (slowloris) are closed.
pub async fn serve(
    mut listener: TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = state.config.header_timeout;
    let connections = Arc::new(tokio::sync::Semaphore::new(
        state.config.max_connections.max(1),
    ));
    let metrics = state.metrics.clone();
    let app = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // axum's accept logs and retries errors, pausing a second when out of file descriptors.
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            // Full: close at once rather than queue (the client retries; a flood cannot grow
            // our memory).
            metrics.connections_refused.inc();
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let service = tower::Layer::layer(
            &axum::Extension(axum::extract::ConnectInfo(peer)),
            app.clone(),
        );
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(
                hyper_util::rt::TokioIo::new(tcp),
                hyper_util::service::TowerToHyperService::new(service),
            );
        let conn = graceful.watch(conn);
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = conn.await {
                if e.is_timeout() {
                    metrics.header_timeouts.inc();
                }
                tracing::debug!(%peer, error = %e, "API connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

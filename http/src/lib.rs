//! SCALE's HTTP front (actix-web): every route lives under `/api/v1`; errors are RFC 7807
//! problem+json; callers authenticate with a JWT verified locally.

pub mod auth;
pub mod database_gate;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod rate_limit;
pub mod request_context;
pub mod routes;
pub mod security_headers;
pub mod stalled_peers;
pub mod state;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, Error};

pub use auth::{AuthUser, Authenticator};
pub use problem::ApiError;
pub use rate_limit::{RateLimiter, RateLimits};
pub use request_context::RequestContext;
pub use state::{AppState, Wiring};

/// Largest JSON body accepted (uploads have their own, larger limit).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// HTTP settings that shape the app.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Origins allowed by CORS; no wildcard.
    pub allowed_origins: Vec<String>,
    /// Whether to send `Strict-Transport-Security` (production only).
    pub hsts: bool,
    /// Timings of `/api/v1/ws/jobs` connections.
    pub websocket: routes::ws::Limits,
}

/// Builds the application: middleware, error handlers and every route.
pub fn app(
    state: web::Data<AppState>,
    settings: &HttpSettings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    // Start this worker's accounts shard now, so readiness lists it before the first request.
    state.accounts.local();
    let sentry = sentry_middleware();
    App::new()
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(JSON_LIMIT)
                .error_handler(problem::json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .app_data(web::Data::new(settings.websocket))
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(rate_limit::limit))
                .wrap(from_fn(database_gate::gate))
                .configure(routes::configure),
        )
        .configure(routes::ops::page::configure)
        .configure(openapi::ui::configure)
        .default_service(web::to(routes::not_found))
        .wrap(Condition::new(
            sentry.is_some(),
            from_fn(request_context::tag_sentry_scope),
        ))
        .wrap(Condition::new(sentry.is_some(), sentry.unwrap_or_default()))
        .wrap(cors(&settings.allowed_origins))
        .wrap(RequestContext::new(settings.hsts))
}

/// Sentry's request middleware when a client is bound to the hub current where the app is built
/// (each HTTP worker's, inherited from the one `sentry::init` bound, or a test's): each request
/// gets its own scope, server errors are captured, and a performance transaction named after the
/// route template is started when tracing is on (a traces sample rate above zero). `None`
/// without a client: the middleware would only cost time (a hub and a scope per request for
/// events that go nowhere).
fn sentry_middleware() -> Option<sentry_actix::Sentry> {
    let hub = sentry::Hub::current();
    let client = hub.client().filter(|client| client.is_enabled())?;
    let traced = !matches!(
        client.options().traces_sampling_strategy,
        sentry::TracesSamplingStrategy::Disabled
    );
    Some(
        sentry_actix::Sentry::builder()
            .with_hub(hub)
            .start_transaction(traced)
            .finish(),
    )
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            request_context::REQUEST_ID,
        ])
        .expose_headers([
            request_context::REQUEST_ID,
            request_context::RESPONSE_TIME,
            header::RETRY_AFTER,
            rate_limit::X_RATELIMIT_LIMIT,
            rate_limit::X_RATELIMIT_REMAINING,
        ])
        .supports_credentials()
        .max_age(600)
}

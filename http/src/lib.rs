//! SCALE's HTTP front (actix-web): every route lives under `/api/v1`; errors are RFC 7807
//! problem+json; callers authenticate with a JWT verified locally.

pub mod auth;
pub mod problem;
pub mod request_context;
pub mod routes;

use std::sync::Arc;
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{web, App, Error};
use scale_actors::accounts::service::AccountsService;
use scale_actors::health::HealthService;
use scale_actors::ingest::service::IngestService;
use scale_actors::{Handle, Registry};

pub use auth::{AuthUser, Authenticator};
pub use problem::ApiError;
pub use request_context::RequestContext;

/// Largest JSON body accepted (uploads have their own, larger limit).
pub const JSON_LIMIT: usize = 1024 * 1024;

/// What handlers share: actor handles, the registry and the authenticator.
pub struct AppState {
    /// The health actor.
    pub health: Handle<HealthService>,
    /// The ingest actor.
    pub ingest: Handle<IngestService>,
    /// The accounts actor (the caller's transactions, data and profile).
    pub accounts: Handle<AccountsService>,
    /// Every supervised actor, for readiness and ops.
    pub registry: Registry,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
    /// Whether the chaos endpoints (crash an actor) are enabled.
    pub chaos_enabled: bool,
    /// When the process started (liveness uptime).
    pub started_at: Instant,
}

/// HTTP settings that shape the app.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// Origins allowed by CORS; no wildcard.
    pub allowed_origins: Vec<String>,
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
    App::new()
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(JSON_LIMIT)
                .error_handler(problem::json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(problem::query_error))
        .app_data(web::PathConfig::default().error_handler(problem::path_error))
        .service(web::scope("/api/v1").configure(routes::configure))
        .default_service(web::to(routes::not_found))
        .wrap(sentry_actix::Sentry::new())
        .wrap(cors(&settings.allowed_origins))
        .wrap(RequestContext)
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
        .expose_headers([request_context::REQUEST_ID, request_context::RESPONSE_TIME])
        .supports_credentials()
        .max_age(600)
}

//! Liveness (`GET /health`) and readiness (`GET /health/ready`). Both answer from cached probe
//! results within a few milliseconds, whatever state the dependencies are in.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use scale_actors::health::{GetHealth, HealthReport, Readiness};
use serde_json::json;
use utoipa::OpenApi;

use crate::openapi::Problems;
use crate::problem::Code;
use crate::problem::{extension, ApiError};
use crate::AppState;

/// How long a health route waits for the health actor (it answers from memory).
const ACTOR_WAIT: Duration = Duration::from_millis(25);

/// The health routes' description.
#[derive(OpenApi)]
#[openapi(paths(liveness, readiness))]
pub struct Api;

/// Codes the health routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[("readiness", &[Code::NotReady])];

/// Registers the health routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").get(liveness))
        .service(web::resource("/health/ready").get(readiness));
}

/// `GET /api/v1/health`: the process is alive. Includes dependency states when the health actor
/// answers at once (the web client's insights page reads `services`); `services.workers` is what
/// this process's scheduler and the job table show (`up`, `down`, `unknown`), never assumed, and
/// `process` says what this process runs.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "health",
    security(()),
    responses((status = 200, description = "Alive: `{status: \"ok\", version, uptime_seconds, services: {api, postgres, redis, workers}, process: {role, scheduler}, workers}`; a service is `up`, `down` or `unknown`.", body = Object))
)]
async fn liveness(state: web::Data<AppState>) -> HttpResponse {
    let report = state.health.ask_within(GetHealth, ACTOR_WAIT).await.ok();
    let service = |up: Option<bool>| match up {
        Some(true) => "up",
        Some(false) => "down",
        None => "unknown",
    };
    let pg = report
        .as_ref()
        .map(|r| r.postgres.status == scale_actors::health::DependencyStatus::Up);
    let redis = report
        .as_ref()
        .map(|r| r.redis.status == scale_actors::health::DependencyStatus::Up);
    let workers = report.as_ref().map(|r| &r.workers);
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started_at.elapsed().as_secs(),
        "services": {
            "api": "up",
            "postgres": service(pg),
            "redis": service(redis),
            "workers": workers.map_or(json!("unknown"), |w| json!(w.status)),
        },
        "process": {
            "role": workers.map(|w| w.role),
            "scheduler": workers.map(|w| w.scheduler),
        },
        "workers": workers.map(|w| &w.activity),
    }))
}

/// `GET /api/v1/health/ready`: 200 `ready` or `degraded` (Redis down: in-memory fallback);
/// 503 problem+json when Postgres is down, an actor escalated or the health actor is unreachable.
#[utoipa::path(
    get,
    path = "/api/v1/health/ready",
    tag = "health",
    security(()),
    responses((status = 200, description = "`ready`, or `degraded` (Redis down: in-memory fallback). A 503 `not_ready` problem carries the same report as `checks`.", body = HealthReport))
)]
async fn readiness(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report: HealthReport = state
        .health
        .ask_within(GetHealth, ACTOR_WAIT)
        .await
        .map_err(|e| unavailable(format!("health actor: {e}")))?;
    if report.status == Readiness::Unavailable {
        let detail = report.reasons.join("; ");
        return Err(unavailable(detail).with_extension("checks", extension(&report)));
    }
    Ok(HttpResponse::Ok().json(report))
}

fn unavailable(detail: String) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, Code::NotReady, detail)
}

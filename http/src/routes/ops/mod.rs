//! Operator routes (`/api/v1/ops/*`, admin only): the actor registry, cache statistics, the
//! chaos hooks (crash an actor; the chaos monkey's scenarios) and the live feed of the dashboard
//! (`stream`, built by `feed`); the dashboard page itself is served at `/ops` (`page`).

mod feed;
pub mod page;
mod stream;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use scale_actors::cache::service::Stats;
use scale_chaos::{ChaosMonkey, Start, StartError, Status, Stop};
use scale_supervision::{Control, ControlReply, Crash, Handle};
use serde::Deserialize;
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use crate::auth::AdminUser;
use crate::openapi::Problems;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// The ops routes' description (admin only).
#[derive(OpenApi)]
#[openapi(paths(
    list_actors,
    cache_stats,
    ping_actor,
    crash_actor,
    chaos_status,
    chaos_action,
    stream::stream
))]
pub struct Api;

/// Codes the ops routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    ("chaos_status", &[Code::NotFound]),
    ("chaos_action", &[Code::NotFound, Code::Conflict]),
];

/// Registers the ops routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ops/actors").get(list_actors))
        .service(web::resource("/ops/cache").get(cache_stats))
        .service(web::resource("/ops/actors/{name}/ping").post(ping_actor))
        .service(web::resource("/ops/actors/{name}/crash").post(crash_actor))
        .service(
            web::resource("/ops/chaos")
                .get(chaos_status)
                .post(chaos_action),
        )
        .service(web::resource("/ops/stream").get(stream::stream));
}

/// `GET /api/v1/ops/actors`: every actor's status, restarts, last error, backlog, heartbeat.
#[utoipa::path(get, path = "/api/v1/ops/actors", tag = "ops", security(("bearer" = ["admin"])),
    responses((status = 200, description = "`{actors}`: every supervised actor's live record.", body = Object)))]
async fn list_actors(_: AdminUser, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "actors": state.registry.snapshot() }))
}

/// `GET /api/v1/ops/cache`: `{backend: redis|memory, hits, misses, memory_entries}`.
#[utoipa::path(get, path = "/api/v1/ops/cache", tag = "ops", security(("bearer" = ["admin"])),
    responses((status = 200, description = "The cache's statistics.", body = Object)))]
async fn cache_stats(_: AdminUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.cache.ask(Stats).await?))
}

/// `POST /api/v1/ops/actors/{name}/ping`: proves the actor answers; returns its restart count.
#[utoipa::path(post, path = "/api/v1/ops/actors/{name}/ping", tag = "ops", security(("bearer" = ["admin"])), params(("name" = String, Path, description = "The actor's registry name.")),
    responses((status = 200, description = "`{actor, restarts}`.", body = Object)))]
async fn ping_actor(
    _: AdminUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reply = control(&state, &name, Control::Ping).await?;
    Ok(HttpResponse::Ok().json(json!({ "actor": *name, "restarts": reply.restarts })))
}

/// `POST /api/v1/ops/actors/{name}/crash`: makes the actor panic in a handler (chaos hook; 404
/// unless `CHAOS_ENABLED=true`). Answers with the resulting 5xx problem.
#[utoipa::path(post, path = "/api/v1/ops/actors/{name}/crash", tag = "ops", security(("bearer" = ["admin"])), params(("name" = String, Path, description = "The actor's registry name.")),
    responses((status = 200, description = "`{actor, crashed}`: the actor panicked and restarts.", body = Object)))]
async fn crash_actor(
    admin: AdminUser,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !state.chaos_enabled {
        return Err(ApiError::not_found("Chaos endpoints are disabled"));
    }
    tracing::warn!(actor = %name, admin = %admin.0.id, "chaos crash requested");
    let reason = format!("requested by admin {}", admin.0.id);
    control(&state, &name, Control::Crash(Crash::new(reason))).await?;
    Ok(HttpResponse::Ok().json(json!({ "actor": *name, "crashed": false })))
}

/// What `POST /api/v1/ops/chaos` asks.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum ChaosAction {
    /// Start the named scenario.
    Start {
        /// One of the embedded scenarios.
        scenario: String,
    },
    /// Stop the running scenario.
    Stop,
}

/// The chaos monkey, or the 404 problem every chaos route answers when chaos is disabled.
fn monkey(state: &AppState) -> Result<&Handle<ChaosMonkey>, ApiError> {
    state
        .chaos
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Chaos endpoints are disabled"))
}

/// `GET /api/v1/ops/chaos`: the scenarios available, the running one with its progress and
/// active faults, and the last one that ended (404 unless `CHAOS_ENABLED=true`).
#[utoipa::path(get, path = "/api/v1/ops/chaos", tag = "ops", security(("bearer" = ["admin"])),
    responses((status = 200, description = "The scenarios, the running one with its progress and faults, and the last that ended (404 unless `CHAOS_ENABLED=true`).", body = Object)))]
async fn chaos_status(_: AdminUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let status = monkey(&state)?.ask(Status).await?;
    Ok(HttpResponse::Ok().json(status))
}

/// `POST /api/v1/ops/chaos`: `{"action":"start","scenario":NAME}` starts a scenario (409 when
/// one runs, 422 for an unknown one), `{"action":"stop"}` stops the running one (409 when none
/// runs). 404 unless `CHAOS_ENABLED=true`.
#[utoipa::path(post, path = "/api/v1/ops/chaos", tag = "ops", security(("bearer" = ["admin"])),
    request_body = ChaosAction,
    responses(
        (status = 202, description = "`{running}`: the scenario started.", body = Object),
        (status = 200, description = "`{stopped}`: the running scenario stopped.", body = Object)
    ))]
async fn chaos_action(
    admin: AdminUser,
    state: web::Data<AppState>,
    body: web::Json<ChaosAction>,
) -> Result<HttpResponse, ApiError> {
    let monkey = monkey(&state)?;
    match body.into_inner() {
        ChaosAction::Start { scenario } => {
            tracing::warn!(scenario = %scenario.escape_debug(), admin = %admin.0.id, "chaos scenario requested");
            match monkey.ask(Start(scenario)).await? {
                Ok(run) => Ok(HttpResponse::Accepted().json(json!({ "running": run }))),
                Err(err @ StartError::Busy(_)) => Err(ApiError::new(
                    StatusCode::CONFLICT,
                    Code::Conflict,
                    err.to_string(),
                )),
                Err(err @ (StartError::Unknown(_) | StartError::Invalid(_))) => {
                    Err(ApiError::validation(err.to_string()))
                }
            }
        }
        ChaosAction::Stop => match monkey.ask(Stop).await? {
            Some(run) => Ok(HttpResponse::Ok().json(json!({ "stopped": run }))),
            None => Err(ApiError::new(
                StatusCode::CONFLICT,
                Code::Conflict,
                "No chaos scenario is running",
            )),
        },
    }
}

async fn control(state: &AppState, name: &str, op: Control) -> Result<ControlReply, ApiError> {
    state
        .registry
        .control(name, op)
        .await
        .ok_or_else(|| ApiError::not_found(format!("No actor named `{name}`")))?
        .map_err(ApiError::from)
}

//! Dashboard numbers (`/api/v1/analytics/*`, categorisation spec §8.2): the overview of the last
//! seven days or the current month, and the all-history summary. `?tz=` (an IANA zone; default
//! the profile's zone, else `Asia/Kolkata`) decides what "today" is; transaction dates are
//! calendar dates and are never converted. The analytics actor computes the numbers in SQL;
//! answers are read through the cache under `an:{user}:overview:{timeframe}:{tz}:{date}` and
//! `an:{user}:summary:{tz}:{date}`, which every change to the user's transactions invalidates; an
//! answer is stored under the data version its cache read saw, so one computed while the data
//! changed is never stored after the invalidation.

use std::future::Future;

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};

use scale_actors::analytics::period::{parse_tz, today_in, Timeframe, Tz, DEFAULT_TZ};
use scale_actors::analytics::report::{Overview, Summary};
use scale_actors::analytics::service::{GetOverview, GetSummary, UserTimezone};
use scale_actors::cache::keys;
use scale_actors::cache::service::{Get, Lookup, Set, Version};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi};

use crate::auth::AuthUser;
use crate::openapi::Problems;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// The analytics routes' description.
#[derive(OpenApi)]
#[openapi(paths(overview, summary))]
pub struct Api;

/// Codes the analytics routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    ("overview", &[Code::Validation]),
    ("summary", &[Code::Validation]),
];

/// Registers the analytics routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/analytics/overview").get(overview))
        .service(web::resource("/analytics/summary").get(summary));
}

/// `?timeframe=&tz=` of the overview.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OverviewQuery {
    /// `weekly` (default: the last seven days) or `monthly` (the current calendar month).
    timeframe: Option<String>,
    /// IANA zone deciding "today" (default: the profile's, else `Asia/Kolkata`).
    tz: Option<String>,
}

/// `?tz=` of the summary.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    /// IANA zone deciding "today" (default: the profile's, else `Asia/Kolkata`).
    tz: Option<String>,
}

/// `GET /analytics/overview?timeframe=weekly|monthly&tz=`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/overview",
    tag = "analytics",
    params(OverviewQuery),
    responses((status = 200, description = "The period's numbers.", body = Overview))
)]
async fn overview(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let timeframe = Timeframe::parse(query.timeframe.as_deref())?;
    let (tz, today) = resolve_today(&state, &user, query.tz.as_deref()).await?;
    let key = keys::overview(user.id, timeframe.as_str(), tz.name(), today);
    let msg = GetOverview {
        user: user.id,
        timeframe,
        today,
    };
    read_through(&state, key, async { Ok(state.analytics.ask(msg).await??) }).await
}

/// `GET /analytics/summary?tz=`.
#[utoipa::path(
    get,
    path = "/api/v1/analytics/summary",
    tag = "analytics",
    params(SummaryQuery),
    responses((status = 200, description = "The all-history numbers.", body = Summary))
)]
async fn summary(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<SummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (tz, today) = resolve_today(&state, &user, query.tz.as_deref()).await?;
    let key = keys::summary(user.id, tz.name(), today);
    let msg = GetSummary {
        user: user.id,
        today,
    };
    read_through(&state, key, async { Ok(state.analytics.ask(msg).await??) }).await
}

/// Answers with the JSON cached under `key`, else computes it, caches it for
/// [`AppState::analytics_cache_ttl`] under the version the lookup saw (refused if the user's data
/// changed meanwhile) and answers with it. A failing cache only costs the lookup.
async fn read_through<T: Serialize>(
    state: &AppState,
    key: String,
    compute: impl Future<Output = Result<T, ApiError>>,
) -> Result<HttpResponse, ApiError> {
    let json = |body: String| {
        HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(body)
    };
    let version = match state.cache.ask(Get { key: key.clone() }).await {
        Ok(Lookup {
            value: Some(body), ..
        }) => return Ok(json(body)),
        Ok(Lookup { version, .. }) => version,
        Err(_) => Version::default(),
    };
    let body = serde_json::to_string(&compute.await?).map_err(|err| {
        tracing::error!(%err, "cannot serialise an analytics answer");
        ApiError::internal()
    })?;
    let set = Set {
        key,
        value: body.clone(),
        ttl: state.analytics_cache_ttl,
        version,
    };
    if let Err(err) = state.cache.ask(set).await {
        tracing::warn!(%err, "cannot cache an analytics answer");
    }
    Ok(json(body))
}

/// The caller's zone (the parameter, else the profile's, else [`DEFAULT_TZ`]) and today's date
/// there.
async fn resolve_today(
    state: &AppState,
    user: &AuthUser,
    tz: Option<&str>,
) -> Result<(Tz, NaiveDate), ApiError> {
    let tz = match tz {
        Some(raw) => parse_tz(raw)?,
        None => state
            .analytics
            .ask(UserTimezone { user: user.id })
            .await??
            .and_then(|stored| parse_tz(&stored).ok())
            .unwrap_or(DEFAULT_TZ),
    };
    Ok((tz, today_in(tz, Utc::now())))
}

//! Dashboard numbers (`/api/v1/analytics/*`, categorisation spec §8.2): the overview of the last
//! seven days or the current month, and the all-history summary. `?tz=` (an IANA zone; default
//! the profile's zone, else `Asia/Kolkata`) decides what "today" is; transaction dates are
//! calendar dates and are never converted. The analytics actor computes the numbers in SQL.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};

use scale_actors::analytics::period::{parse_tz, today_in, Timeframe, Tz, DEFAULT_TZ};
use scale_actors::analytics::service::{GetOverview, GetSummary, UserTimezone};
use scale_actors::analytics::AnalyticsError;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::problem::ApiError;
use crate::AppState;

/// Registers the analytics routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/analytics/overview").get(overview))
        .service(web::resource("/analytics/summary").get(summary));
}

/// `?timeframe=&tz=` of the overview.
#[derive(Deserialize)]
struct OverviewQuery {
    timeframe: Option<String>,
    tz: Option<String>,
}

/// `?tz=` of the summary.
#[derive(Deserialize)]
struct SummaryQuery {
    tz: Option<String>,
}

/// `GET /analytics/overview?timeframe=weekly|monthly&tz=`.
async fn overview(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<OverviewQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let timeframe = Timeframe::parse(query.timeframe.as_deref())?;
    let (_, today) = resolve_today(&state, &user, query.tz.as_deref()).await?;
    let msg = GetOverview {
        user: user.id,
        timeframe,
        today,
    };
    Ok(HttpResponse::Ok().json(state.analytics.ask(msg).await??))
}

/// `GET /analytics/summary?tz=`.
async fn summary(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<SummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, today) = resolve_today(&state, &user, query.tz.as_deref()).await?;
    let msg = GetSummary {
        user: user.id,
        today,
    };
    Ok(HttpResponse::Ok().json(state.analytics.ask(msg).await??))
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

impl From<AnalyticsError> for ApiError {
    fn from(err: AnalyticsError) -> Self {
        match err {
            AnalyticsError::Validation(detail) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
            }
            AnalyticsError::Database(cause) => {
                tracing::error!(%cause, "analytics database error");
                ApiError::internal()
            }
        }
    }
}

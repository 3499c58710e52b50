//! Forecast routes (`/api/v1/forecast/*`, categorization spec §6.3–6.5): the spend forecast of
//! the caller's stored transactions or of an uploaded statement (parsed by the ingest actor and
//! never stored), and safe-to-spend. The forecasting actor owns the models and their cache.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use scale_actors::forecasting::answer::{
    predict_horizon, Prediction, Sourced, DEFAULT_PREDICT_DAYS,
};
use scale_actors::forecasting::safe_to_spend::{Horizon, SafeToSpend, DEFAULT_HORIZON};
use scale_actors::forecasting::service::{
    PredictEntries, PredictStored, SafeToSpendOf, FIT_BUDGET,
};
use scale_actors::ingest::service::ParseUpload;
use scale_actors::training::fitting::LedgerEntry;
use scale_statements::pipeline::{Page, Window};
use serde::Deserialize;
use std::time::Duration;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::ingest::read_upload_with;
use crate::auth::AuthUser;
use crate::openapi::forms::ForecastUpload;
use crate::openapi::Problems;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// Largest JSON body of `POST /forecast/predict`.
const JSON_LIMIT: usize = 4 * 1024;
/// Longest a forecast may take: a fit on request plus reading the data and simulating.
const FORECAST_BUDGET: Duration = FIT_BUDGET.saturating_add(Duration::from_secs(5));

/// The forecast routes' description.
#[derive(OpenApi)]
#[openapi(paths(predict, safe_to_spend))]
pub struct Api;

/// Codes the forecast routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    (
        "predict",
        &[
            Code::ForecastTimeout,
            Code::UnsupportedFileType,
            Code::PasswordRequired,
            Code::InvalidPassword,
            Code::UnsupportedEncryption,
            Code::UnreadableFile,
            Code::NoHeaderRow,
        ],
    ),
    ("safe_to_spend", &[Code::ForecastTimeout, Code::Validation]),
];

/// Registers the forecast routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/forecast/predict").post(predict))
        .service(web::resource("/forecast/safe-to-spend").get(safe_to_spend));
}

/// The JSON body of `POST /forecast/predict`.
#[derive(Deserialize, ToSchema)]
struct PredictBody {
    /// Days to forecast, 1..=90 (default 7).
    horizon_days: Option<i64>,
}

/// `?horizon=` of safe-to-spend.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SafeQuery {
    /// Days ahead, 1..=30 (default 7).
    horizon: Option<i64>,
}

/// `POST /forecast/predict`: JSON `{horizon_days}` (1..=90, default 7) forecasts the caller's
/// stored transactions; multipart `file` (+ `password`, `horizon_days`) forecasts the uploaded
/// statement, parsed like `/ingest/parse` and never stored.
#[utoipa::path(
    post,
    path = "/api/v1/forecast/predict",
    tag = "forecasting",
    request_body(content(
        (PredictBody = "application/json"),
        (ForecastUpload = "multipart/form-data")
    )),
    responses((status = 200, description = "One predicted day per horizon day.", body = Sourced<Prediction>))
)]
async fn predict(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_ascii_lowercase());
    let multipart = content_type
        .as_deref()
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let json = content_type
        .as_deref()
        .is_none_or(|ct| ct.starts_with("application/json"));
    let answer = if multipart {
        predict_upload(&user, &state, &req, payload).await?
    } else if json {
        let horizon_days = match read_json(payload).await?.horizon_days {
            Some(days) => horizon(days)?,
            None => DEFAULT_PREDICT_DAYS,
        };
        let msg = PredictStored {
            user: user.id,
            horizon_days,
        };
        state
            .forecast
            .ask_with_budget(msg, FORECAST_BUDGET)
            .await??
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "Send JSON `{horizon_days}` or a multipart `file`",
        ));
    };
    Ok(HttpResponse::Ok().json(answer))
}

/// The forecast of the multipart upload in `payload`, parsed by the ingest actor and not stored.
async fn predict_upload(
    user: &AuthUser,
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Sourced<Prediction>, ApiError> {
    let multipart = Multipart::new(req.headers(), payload);
    let (upload, fields) = read_upload_with(req, multipart, &["horizon_days"]).await?;
    let horizon_days = match fields.last() {
        Some((_, text)) => horizon(
            text.trim()
                .parse()
                .map_err(|_| ApiError::validation("`horizon_days` must be a whole number"))?,
        )?,
        None => DEFAULT_PREDICT_DAYS,
    };
    let window = Window {
        offset: 0,
        limit: None,
    };
    let Page { statement, .. } = state
        .ingest
        .ask_with_budget(ParseUpload { upload, window }, state.ingest_timeout)
        .await??;
    let entries = statement
        .transactions
        .into_iter()
        .map(|t| LedgerEntry {
            date: t.date,
            amount: t.amount,
            merchant: t.merchant,
            status: t.status.to_owned(),
        })
        .collect();
    let msg = PredictEntries {
        user: user.id,
        entries,
        horizon_days,
    };
    Ok(state
        .forecast
        .ask_with_budget(msg, FORECAST_BUDGET)
        .await??)
}

/// `GET /forecast/safe-to-spend?horizon=1..=30` (default 7): §6.5 v2 with its explanation; the
/// exact §6.3 no-data answer without usable transactions.
#[utoipa::path(
    get,
    path = "/api/v1/forecast/safe-to-spend",
    tag = "forecasting",
    params(SafeQuery),
    responses((status = 200, description = "What the caller can spend over the horizon, with its explanation.", body = Sourced<SafeToSpend>))
)]
async fn safe_to_spend(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<SafeQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = query.horizon.unwrap_or(i64::from(DEFAULT_HORIZON));
    let horizon = Horizon::new(u32::try_from(days).unwrap_or(0))?;
    let msg = SafeToSpendOf {
        user: user.id,
        horizon,
    };
    let answer = state
        .forecast
        .ask_with_budget(msg, FORECAST_BUDGET)
        .await??;
    Ok(HttpResponse::Ok().json(answer))
}

/// A checked prediction horizon.
fn horizon(days: i64) -> Result<u32, ApiError> {
    Ok(predict_horizon(days)?)
}

/// Reads the JSON body (at most [`JSON_LIMIT`] bytes; empty means every default).
async fn read_json(mut payload: web::Payload) -> Result<PredictBody, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(Code::BadRequest, e.to_string()))?;
        if body.len() + chunk.len() > JSON_LIMIT {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                format!("The JSON body is over {JSON_LIMIT} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(PredictBody { horizon_days: None });
    }
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(Code::MalformedJson, format!("Malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::validation("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::validation(e.to_string()))
}

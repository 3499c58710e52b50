//! Anomaly alerts (`/api/v1/anomaly/*`, categorization spec §7.3): the caller's alerts, keyset
//! paged (`GET /anomaly/alerts`, and `/anomaly/alerts/{user_id}` for the old client, only for
//! the caller's own id), marking one seen or dismissed, the caller's detector thresholds, a scan
//! on demand, and new alerts live as Server-Sent Events (`GET /anomaly/alerts/stream`). Every
//! route requires the JWT and is scoped to its user: another user's alert answers 404.
//!
//! Imports scan for new alerts too, through `scan_after_import`, which every import route
//! calls once its rows are committed. Every route counts in the `default` rate-limit tier,
//! `POST /anomaly/scan` included: a scan is bounded (at most
//! [`MAX_LEDGER_ROWS`](scale_actors::anomaly::store::MAX_LEDGER_ROWS) rows, milliseconds of
//! detector work on the blocking pool), like an analytics summary, and the `training` tier
//! (3 an hour) would make scans and model training take each other's turns.

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use scale_actors::anomaly::query::{AlertStatus, RawAlertQuery};
use scale_actors::anomaly::service::{
    AlertRaised, GetThresholds, ListAlerts, MarkAlert, PutThresholds, Scan,
};
use scale_actors::anomaly::settings::thresholds_from_json;
use scale_actors::anomaly::store::Judged;
use scale_actors::ingest::store::ImportOutcome;
use scale_monitoring::metrics::LiveConnection;
use serde_json::{json, Value};
use tokio::sync::broadcast::{self, error::RecvError};
use utoipa::OpenApi;
use uuid::Uuid;

use super::training::KEEP_ALIVE;
use crate::auth::AuthUser;
use crate::openapi::Problems;
use crate::problem::{ApiError, Code};
use crate::AppState;

/// The anomaly routes' description.
#[derive(OpenApi)]
#[openapi(paths(
    list,
    stream,
    list_for,
    seen,
    dismiss,
    get_settings,
    put_settings,
    scan
))]
pub struct Api;

/// Codes the anomaly routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    ("list", &[Code::Validation, Code::InvalidCursor]),
    (
        "list_for",
        &[Code::Validation, Code::InvalidCursor, Code::Forbidden],
    ),
];

/// Registers the anomaly routes (the stream before `{user_id}`, which would match it).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/anomaly/alerts").get(list))
        .service(web::resource("/anomaly/alerts/stream").get(stream))
        .service(web::resource("/anomaly/alerts/{user_id}").get(list_for))
        .service(web::resource("/anomaly/alerts/{id}/seen").post(seen))
        .service(web::resource("/anomaly/alerts/{id}/dismiss").post(dismiss))
        .service(
            web::resource("/anomaly/settings")
                .get(get_settings)
                .put(put_settings),
        )
        .service(web::resource("/anomaly/scan").post(scan));
}

/// Scans the rows an import just stored for anomalies, in the background: the import's answer
/// never waits for it, and a failure is logged (the rows are judged again by the next scan on
/// demand). Nothing is scanned when the import stored no row.
pub(crate) fn scan_after_import(state: &web::Data<AppState>, user: Uuid, outcome: &ImportOutcome) {
    if outcome.inserted == 0 {
        return;
    }
    let (state, upload) = (state.clone(), outcome.uploaded_file_id);
    actix_web::rt::spawn(async move {
        let msg = Scan {
            user,
            judged: Judged::Upload(upload),
        };
        match state
            .anomaly
            .ask_with_budget(msg, state.ingest_timeout)
            .await
        {
            Ok(Ok(raised)) => tracing::debug!(%user, alerts = raised.len(), "import scanned"),
            Ok(Err(err)) => tracing::warn!(%err, %user, "anomaly scan after import failed"),
            Err(err) => tracing::warn!(%err, %user, "anomaly scan after import failed"),
        }
    });
}

/// `GET /anomaly/alerts?status&since&limit&cursor` → `{user_id, generated_at, alerts,
/// next_cursor}`, newest day first.
#[utoipa::path(
    get,
    path = "/api/v1/anomaly/alerts",
    tag = "anomaly",
    params(RawAlertQuery),
    responses((status = 200, description = "`{user_id, generated_at, alerts, next_cursor}`, newest day first; pass `next_cursor` as `cursor` for the next page (keyset pagination).", body = Object))
)]
async fn list(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<RawAlertQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner().validate()?;
    let page = state
        .anomaly
        .ask(ListAlerts {
            user: user.id,
            query,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "user_id": user.id,
        "generated_at": Utc::now(),
        "alerts": page.alerts,
        "next_cursor": page.next_cursor,
    })))
}

/// `GET /anomaly/alerts/{user_id}` (the old client's route): the same as [`list`] when the id
/// is the caller's, 403 for another user's, 404 for what is no user id.
#[utoipa::path(
    get,
    path = "/api/v1/anomaly/alerts/{user_id}",
    tag = "anomaly",
    params(("user_id" = String, Path, description = "The caller's own id (another user's is 403)."), RawAlertQuery),
    responses((status = 200, description = "`{user_id, generated_at, alerts, next_cursor}`, newest day first; pass `next_cursor` as `cursor` for the next page (keyset pagination).", body = Object))
)]
async fn list_for(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<RawAlertQuery>,
) -> Result<HttpResponse, ApiError> {
    let Ok(id) = Uuid::parse_str(&path) else {
        return Err(ApiError::not_found("No such user"));
    };
    if id != user.id {
        return Err(ApiError::forbidden("Only your own alerts can be read"));
    }
    list(user, state, query).await
}

/// `POST /anomaly/alerts/{id}/seen` → 204 (an alert already seen or dismissed stays so).
#[utoipa::path(
    post,
    path = "/api/v1/anomaly/alerts/{id}/seen",
    tag = "anomaly",
    params(("id" = String, Path, description = "The alert (another user's or no alert id answers 404).")),
    responses((status = 204, description = "Marked seen (an alert already seen or dismissed stays so)."))
)]
async fn seen(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    mark(&state, &user, id.into_inner(), AlertStatus::Seen).await
}

/// `POST /anomaly/alerts/{id}/dismiss` → 204; a dismissed merchant outlier keeps new outliers
/// at its merchant from being raised for 90 days.
#[utoipa::path(
    post,
    path = "/api/v1/anomaly/alerts/{id}/dismiss",
    tag = "anomaly",
    params(("id" = String, Path, description = "The alert (another user's or no alert id answers 404).")),
    responses((status = 204, description = "Dismissed."))
)]
async fn dismiss(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    mark(&state, &user, id.into_inner(), AlertStatus::Dismissed).await
}

async fn mark(
    state: &AppState,
    user: &AuthUser,
    id: String,
    status: AlertStatus,
) -> Result<HttpResponse, ApiError> {
    state
        .anomaly
        .ask(MarkAlert {
            user: user.id,
            id,
            status,
        })
        .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /anomaly/settings` → the caller's thresholds (rupees; the defaults unless set).
#[utoipa::path(
    get,
    path = "/api/v1/anomaly/settings",
    tag = "anomaly",
    responses((status = 200, description = "The caller's thresholds (rupees; the defaults unless set).", body = Object))
)]
async fn get_settings(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let thresholds = state.anomaly.ask(GetThresholds { user: user.id }).await??;
    Ok(HttpResponse::Ok().json(thresholds))
}

/// `PUT /anomaly/settings` with a JSON object of thresholds (missing ones take the defaults)
/// → the thresholds now in force; an unknown field or a value that is not a finite amount in
/// range is 422.
#[utoipa::path(
    put,
    path = "/api/v1/anomaly/settings",
    tag = "anomaly",
    request_body(content = Object, description = "Thresholds by name (missing ones take the defaults); an unknown name or a value that is not a finite amount in range is 422.", content_type = "application/json"),
    responses((status = 200, description = "The thresholds now in force.", body = Object))
)]
async fn put_settings(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let thresholds = thresholds_from_json(&body)?;
    let thresholds = state
        .anomaly
        .ask(PutThresholds {
            user: user.id,
            thresholds,
        })
        .await??;
    Ok(HttpResponse::Ok().json(thresholds))
}

/// `POST /anomaly/scan`: judges the caller's last 180 days of transactions now →
/// `{user_id, generated_at, count, alerts}` with the alerts raised now (published live too);
/// a re-scan of unchanged data raises none.
#[utoipa::path(
    post,
    path = "/api/v1/anomaly/scan",
    tag = "anomaly",
    responses((status = 200, description = "`{user_id, generated_at, count, alerts}`: the alerts raised now (also published live).", body = Object))
)]
async fn scan(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let msg = Scan {
        user: user.id,
        judged: Judged::Recent,
    };
    let raised = state
        .anomaly
        .ask_with_budget(msg, state.ingest_timeout)
        .await??;
    let alerts: Vec<Value> = raised.iter().map(payload).collect();
    Ok(HttpResponse::Ok().json(json!({
        "user_id": user.id,
        "generated_at": Utc::now(),
        "count": alerts.len(),
        "alerts": alerts,
    })))
}

/// `GET /anomaly/alerts/stream`: the caller's new alerts as Server-Sent Events (`event:
/// alert`, `id:` the alert id, data the alert as the list shows it), with a keep-alive comment
/// when idle; only alerts raised after connecting are sent (the list has the earlier ones).
#[utoipa::path(
    get,
    path = "/api/v1/anomaly/alerts/stream",
    tag = "anomaly",
    responses((status = 200, description = "Server-Sent Events: `event: alert`, `id:` the alert id, `data:` the alert as the list shows it; keep-alive comments when idle.", content_type = "text/event-stream", body = String))
)]
async fn stream(user: AuthUser, state: web::Data<AppState>) -> HttpResponse {
    let live = state.alerts.subscribe();
    let stream = AlertStream::new(user.id, live);
    let frames = futures_util::stream::unfold(stream, |mut stream| async move {
        let frame = stream.next_frame().await?;
        Some((Ok::<_, std::convert::Infallible>(frame), stream))
    });
    super::event_stream(frames)
}

/// One client's alert stream.
struct AlertStream {
    user: Uuid,
    live: broadcast::Receiver<Arc<AlertRaised>>,
    keep_alive: tokio::time::Interval,
    metrics: LiveConnection,
}

impl AlertStream {
    fn new(user: Uuid, live: broadcast::Receiver<Arc<AlertRaised>>) -> Self {
        let mut keep_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            user,
            live,
            keep_alive,
            metrics: LiveConnection::open("alerts_sse"),
        }
    }

    /// The next frame; `None` ends the stream (the bus dropped this subscriber for lagging: the
    /// client reconnects and reads what it missed from the list).
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            tokio::select! {
                received = self.live.recv() => match received {
                    Ok(raised) if raised.user_id == self.user => {
                        self.metrics.delivered(1);
                        return Some(frame(&raised));
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        self.metrics.dropped(missed);
                        return None;
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.keep_alive.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
            }
        }
    }
}

/// An alert as clients receive it: its fields without the owner's id.
pub(crate) fn payload(raised: &AlertRaised) -> Value {
    let mut data = serde_json::to_value(raised).unwrap_or(Value::Null);
    if let Some(fields) = data.as_object_mut() {
        fields.remove("user_id");
    }
    data
}

/// The SSE frame of a new alert.
fn frame(raised: &AlertRaised) -> Bytes {
    Bytes::from(format!(
        "id: {}\nevent: alert\ndata: {}\n\n",
        raised.alert.id,
        payload(raised)
    ))
}

#[cfg(test)]
mod tests {
    use scale_actors::anomaly::alert::{Alert, AlertKind};

    use super::*;

    #[test]
    fn frames_name_the_alert_and_leave_out_the_owner() {
        let raised = AlertRaised {
            user_id: Uuid::from_u128(5),
            status: AlertStatus::New,
            currency: "INR".into(),
            alert: Alert::new(
                AlertKind::DuplicateCharge,
                vec![Uuid::nil()],
                "2026-02-13".into(),
            ),
        };
        let text = String::from_utf8(frame(&raised).to_vec()).unwrap();
        let (head, data) = text.split_once("data: ").unwrap();
        assert_eq!(head, format!("id: {}\nevent: alert\n", raised.alert.id));
        let data: Value = serde_json::from_str(data.trim_end()).unwrap();
        assert_eq!(data["type"], "duplicate_charge");
        assert_eq!(data["status"], "new");
        assert!(data.get("user_id").is_none());
    }
}

//! Training jobs (`/api/v1/training/*`): queue, list, read and cancel the caller's jobs, follow
//! one job's progress as Server-Sent Events, and the old web client's routes (upload a file
//! and train, train, status, latest). The training actor runs the queries, always scoped to the
//! JWT user, so another user's job answers 404 on every route.
//!
//! Job reads (`GET /training/jobs/{id}`, `GET /training/status/{id}`) go through the cache
//! under `job:{id}`. The stored JSON names the owner, so an entry is only ever served to that
//! user. Changes made by this process (create, cancel) overwrite the entry at once; workers in
//! other processes change jobs without touching it, so entries live only [`JOB_CACHE_TTL`]: a
//! polled status is at most that old.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use scale_actors::cache::keys;
use scale_actors::cache::service::{Get, Lookup, Set, Version};
use scale_actors::events::JobEvent;
use scale_actors::ingest::service::ImportUpload;
use scale_actors::jobs::{JobKind, JobStatus};
use scale_actors::training::listing::{parse_kind, RawJobQuery};
use scale_actors::training::service::{CancelJob, CreateJob, Events, GetJob, Latest, ListJobs};
use scale_actors::training::store::{JobPage, JobView};
use scale_actors::training::TrainingError;
use scale_monitoring::metrics::LiveConnection;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast::{self, error::RecvError};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::openapi::forms::StatementUpload;
use crate::openapi::Problems;
use crate::problem::ApiError;
use crate::problem::Code;
use crate::AppState;

/// How long a job read stays cached (workers elsewhere change jobs without invalidating).
pub const JOB_CACHE_TTL: Duration = Duration::from_secs(3);
/// How often an idle event stream sends a comment, so proxies keep the connection open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Most attempts a job may be queued with.
const MAX_ATTEMPTS: i32 = 10;

/// The training routes' description (with the event schema of the job stream).
#[derive(OpenApi)]
#[openapi(
    paths(
        create_job, list_jobs, get_job, cancel_job, job_events, upload, train, status, latest
    ),
    components(schemas(JobEvent))
)]
pub struct Api;

/// Codes the training routes answer besides the ones their kind shares.
pub const PROBLEMS: Problems = &[
    ("create_job", &[Code::JobActive]),
    ("list_jobs", &[Code::Validation, Code::InvalidCursor]),
    ("cancel_job", &[Code::JobFinished]),
    ("job_events", &[Code::InvalidLastEventId]),
    (
        "upload",
        &[
            Code::UnsupportedFileType,
            Code::PasswordRequired,
            Code::InvalidPassword,
            Code::UnsupportedEncryption,
            Code::UnreadableFile,
            Code::NoHeaderRow,
            Code::PayloadTooLarge,
            Code::FileAlreadyImported,
            Code::UploadInProgress,
        ],
    ),
];

/// Registers the training routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/training/jobs")
            .get(list_jobs)
            .post(create_job),
    )
    .service(web::resource("/training/jobs/{id}").get(get_job))
    .service(web::resource("/training/jobs/{id}/cancel").post(cancel_job))
    .service(web::resource("/training/jobs/{id}/events").get(job_events))
    .service(web::resource("/training/upload").post(upload))
    .service(web::resource("/training/train").post(train))
    .service(web::resource("/training/status/{id}").get(status))
    .service(web::resource("/training/latest").get(latest));
}

/// The body of `POST /training/jobs`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewJob {
    /// `categorizer` or `forecaster`.
    #[schema(value_type = JobKind)]
    kind: String,
    /// Attempts allowed, 1..=10.
    #[schema(minimum = 1, maximum = 10)]
    max_attempts: Option<i32>,
}

/// `POST /training/jobs` with `{kind, max_attempts?}`: 202 with the queued job; 409 with the
/// active job's `job_id` when one of the same kind is pending or running.
#[utoipa::path(
    post,
    path = "/api/v1/training/jobs",
    tag = "training",
    request_body = NewJob,
    responses((status = 202, description = "The queued job (`Location`: its URL).", body = JobView))
)]
async fn create_job(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<NewJob>,
) -> Result<HttpResponse, ApiError> {
    let NewJob { kind, max_attempts } = body.into_inner();
    let kind = parse_kind(&kind)?;
    if max_attempts.is_some_and(|n| !(1..=MAX_ATTEMPTS).contains(&n)) {
        return Err(ApiError::validation(format!(
            "`max_attempts` must be an integer 1..={MAX_ATTEMPTS}"
        )));
    }
    let job = create(&state, &user, kind, max_attempts).await??;
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/training/jobs/{}", job.id),
        ))
        .json(job))
}

/// `GET /training/jobs?cursor&limit&status&kind`: `{jobs: [...], next_cursor}`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/training/jobs",
    tag = "training",
    params(RawJobQuery),
    responses((status = 200, description = "One page, newest first; pass `next_cursor` as `cursor` for the next (keyset pagination; `null` on the last page).", body = JobPage))
)]
async fn list_jobs(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<RawJobQuery>,
) -> Result<HttpResponse, ApiError> {
    let msg = ListJobs {
        user: user.id,
        query: query.into_inner().validate()?,
    };
    Ok(HttpResponse::Ok().json(state.training.ask(msg).await??))
}

/// `GET /training/jobs/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/training/jobs/{id}",
    tag = "training",
    params(("id" = Uuid, Path, description = "The job (another user's answers 404).")),
    responses((status = 200, description = "The job.", body = JobView))
)]
async fn get_job(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(cached_job(&state, user.id, id.into_inner()).await?))
}

/// `POST /training/jobs/{id}/cancel`: the cancelled job; 409 `job_finished` when it already
/// reached a final status.
#[utoipa::path(
    post,
    path = "/api/v1/training/jobs/{id}/cancel",
    tag = "training",
    params(("id" = Uuid, Path, description = "The job (another user's answers 404).")),
    responses((status = 200, description = "The cancelled job.", body = JobView))
)]
async fn cancel_job(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let msg = CancelJob {
        user: user.id,
        id: id.into_inner(),
    };
    let job = state.training.ask(msg).await??;
    remember(&state, &job).await;
    Ok(HttpResponse::Ok().json(job))
}

/// `?last_event_id=` of the event stream (for clients that cannot set the header).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// Replay the events after this sequence number (as the `Last-Event-ID` header).
    last_event_id: Option<String>,
}

/// `GET /training/jobs/{id}/events`: the job's events as Server-Sent Events (`id:` the
/// sequence number, `event:` the status or `progress`, `data:` the event JSON). Events after
/// `Last-Event-ID` (header, or `?last_event_id=`) are replayed from the log, then live events
/// follow; the stream ends after a final status. 204 when the job finished and the client has
/// seen its last event (so `EventSource` stops reconnecting).
#[utoipa::path(
    get,
    path = "/api/v1/training/jobs/{id}/events",
    tag = "training",
    params(
        ("id" = Uuid, Path, description = "The job (another user's answers 404)."),
        ("Last-Event-ID" = Option<String>, Header, description = "Replay the events after this sequence number."),
        EventsQuery
    ),
    responses(
        (status = 200, description = "Server-Sent Events: `id:` the sequence number, `event:` the status, `progress` or `recategorized`, `data:` a `JobEvent` (without `user_id`); ends after a final status.", content_type = "text/event-stream", body = String),
        (status = 204, description = "The job finished and the client saw its last event.")
    )
)]
async fn job_events(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("?").to_owned());
    let after = header
        .or_else(|| query.into_inner().last_event_id)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        Code::InvalidLastEventId,
                        "`Last-Event-ID` must be a non-negative integer",
                    )
                })
        })
        .transpose()?
        .unwrap_or(0);
    // Subscribe before reading the job and the log: an event committed later is then either
    // in the log or on the bus, never in neither.
    let live = state.events.subscribe();
    let job = state
        .training
        .ask(GetJob {
            user: user.id,
            id: id.into_inner(),
        })
        .await??;
    let last_seq = after.min(job.event_seq);
    if JobStatus::parse(&job.status).is_some_and(JobStatus::is_final) && last_seq == job.event_seq {
        return Ok(HttpResponse::NoContent().finish());
    }
    let stream = EventStream::new(state.into_inner(), user.id, job.id, last_seq, live);
    let frames = futures_util::stream::unfold(stream, |mut stream| async move {
        let frame = stream.next_frame().await?;
        Some((Ok::<_, std::convert::Infallible>(frame), stream))
    });
    Ok(super::event_stream(frames))
}

/// One client's event stream: replays the log after `last_seq`, then follows the bus.
struct EventStream {
    state: Arc<AppState>,
    user: Uuid,
    job: Uuid,
    /// Sequence number of the last event sent (events at or below it are duplicates).
    last_seq: i64,
    /// Whether the log may hold events the client has not seen.
    replaying: bool,
    /// Events read from the log, not yet sent (at most one log page).
    pending: VecDeque<JobEvent>,
    live: broadcast::Receiver<Arc<JobEvent>>,
    keep_alive: tokio::time::Interval,
    /// Set after a final status was sent.
    done: bool,
    /// This connection in the live-connection metrics.
    metrics: LiveConnection,
}

impl EventStream {
    fn new(
        state: Arc<AppState>,
        user: Uuid,
        job: Uuid,
        last_seq: i64,
        live: broadcast::Receiver<Arc<JobEvent>>,
    ) -> Self {
        let mut keep_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            state,
            user,
            job,
            last_seq,
            replaying: true,
            pending: VecDeque::new(),
            live,
            keep_alive,
            done: false,
            metrics: LiveConnection::open("jobs_sse"),
        }
    }

    /// The next SSE frame; `None` ends the stream (after a final status, when the bus dropped
    /// this subscriber for lagging, or when the log cannot be read — the client reconnects
    /// with `Last-Event-ID` and loses nothing).
    async fn next_frame(&mut self) -> Option<Bytes> {
        while !self.done {
            if let Some(event) = self.pending.pop_front() {
                if event.seq <= self.last_seq {
                    continue;
                }
                self.last_seq = event.seq;
                self.done = event.status.is_final();
                self.metrics.delivered(1);
                return Some(frame(&event));
            }
            if self.replaying {
                let page = Events {
                    user: self.user,
                    job: self.job,
                    after_seq: self.last_seq,
                };
                match self.state.training.ask(page).await {
                    Ok(Ok(events)) => {
                        self.replaying = !events.is_empty();
                        self.pending.extend(events);
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(%err, job = %self.job, "cannot replay job events");
                        return None;
                    }
                    Err(err) => {
                        tracing::warn!(%err, job = %self.job, "cannot replay job events");
                        return None;
                    }
                }
                continue;
            }
            tokio::select! {
                received = self.live.recv() => match received {
                    Ok(event) if event.job_id == self.job && event.user_id == self.user => {
                        if event.seq == self.last_seq + 1 {
                            self.pending.push_back(JobEvent::clone(&event));
                        } else if event.seq > self.last_seq {
                            // A gap (an event never published here): catch up from the log.
                            self.replaying = true;
                        }
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
        None
    }
}

/// The SSE frame of `event`; its data is the event without the owner's id.
fn frame(event: &JobEvent) -> Bytes {
    let mut data = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(fields) = data.as_object_mut() {
        fields.remove("user_id");
    }
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.seq,
        event_name(event)
    ))
}

/// The SSE event type: `progress` for a step of a running job, `recategorized` once a completed
/// categorizer's model was applied to the user's transactions, else the status.
fn event_name(event: &JobEvent) -> &'static str {
    if event.status == JobStatus::Processing && event.step > 0 {
        "progress"
    } else if event.is_recategorized() {
        "recategorized"
    } else {
        event.status.as_str()
    }
}

/// `POST /training/upload` (old client): multipart `file` imported like `POST /ingest/import`,
/// then a categorizer job is queued (the active one is reused) →
/// `{status, message, job_id, transaction_count}`.
#[utoipa::path(
    post,
    path = "/api/v1/training/upload",
    tag = "training",
    request_body(content = StatementUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "Old client: the file imported like `POST /ingest/import` and a categorizer job queued: `{status, message, job_id, transaction_count}`.", body = Object))
)]
async fn upload(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let upload = super::ingest::read_upload(&req, payload).await?;
    let outcome = state
        .ingest
        .ask_with_budget(
            ImportUpload {
                user: user.id,
                upload,
                force: false,
            },
            state.ingest_timeout,
        )
        .await??;
    super::after_import(&state, user.id, &outcome).await;
    let job = queue_categorizer(&state, &user).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": job.status,
        "message": format!(
            "Imported {} transactions; categorizer training is {}",
            outcome.inserted, job.status
        ),
        "job_id": job.id,
        "transaction_count": outcome.inserted,
    })))
}

/// The old client's training options; the categorizer fits in one pass, so they are checked
/// and otherwise ignored.
#[derive(Deserialize, ToSchema)]
struct TrainOptions {
    /// 1..=1000 (checked, otherwise ignored).
    epochs: Option<u32>,
    /// 1..=100000 (checked, otherwise ignored).
    batch_size: Option<u32>,
}

/// `POST /training/train` with `{epochs?, batch_size?}` (old client): queues a categorizer job
/// (the active one is reused) → 202 `{job_id, status}`.
#[utoipa::path(
    post,
    path = "/api/v1/training/train",
    tag = "training",
    request_body = TrainOptions,
    responses((status = 202, description = "Old client: a categorizer job queued (the active one reused): `{job_id, status}`.", body = Object))
)]
async fn train(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Json<TrainOptions>,
) -> Result<HttpResponse, ApiError> {
    if body.epochs.is_some_and(|n| !(1..=1000).contains(&n)) {
        return Err(ApiError::validation("`epochs` must be an integer 1..=1000"));
    }
    if body.batch_size.is_some_and(|n| !(1..=100_000).contains(&n)) {
        return Err(ApiError::validation(
            "`batch_size` must be an integer 1..=100000",
        ));
    }
    let job = queue_categorizer(&state, &user).await?;
    Ok(HttpResponse::Accepted().json(json!({"job_id": job.id, "status": job.status})))
}

/// `GET /training/status/{id}` (old client): the job row in the old shape.
#[utoipa::path(
    get,
    path = "/api/v1/training/status/{id}",
    tag = "training",
    params(("id" = Uuid, Path, description = "The job (another user's answers 404).")),
    responses((status = 200, description = "Old client: the job as `{id, status, model_type, metrics, created_at, updated_at, progress, error}`.", body = Object))
)]
async fn status(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = cached_job(&state, user.id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(old_shape(&job)))
}

/// `GET /training/latest` (old client): the newest job in the old shape, or `null`.
#[utoipa::path(
    get,
    path = "/api/v1/training/latest",
    tag = "training",
    responses((status = 200, description = "Old client: the newest job in the old shape, or `null`.", body = Option<Object>))
)]
async fn latest(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let job = state.training.ask(Latest { user: user.id }).await??;
    Ok(HttpResponse::Ok().json(job.as_ref().map(old_shape)))
}

/// A job as the old client reads it: `{id, status, model_type, metrics, created_at,
/// updated_at, progress, error}`.
fn old_shape(job: &JobView) -> Value {
    json!({
        "id": job.id,
        "status": job.status,
        "model_type": job.kind,
        "metrics": job.metrics,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "progress": job.progress,
        "error": job.error,
    })
}

/// Queues a `kind` job for the caller and caches it (the outer error is the actor's).
async fn create(
    state: &AppState,
    user: &AuthUser,
    kind: JobKind,
    max_attempts: Option<i32>,
) -> Result<Result<JobView, TrainingError>, ApiError> {
    let msg = CreateJob {
        user: user.id,
        role: user.role.as_str(),
        kind,
        max_attempts,
    };
    let created = state.training.ask(msg).await?;
    if let Ok(job) = &created {
        remember(state, job).await;
    }
    Ok(created)
}

/// The caller's new categorizer job, or the active one (the old client's flow never conflicts).
pub(crate) async fn queue_categorizer(
    state: &AppState,
    user: &AuthUser,
) -> Result<JobView, ApiError> {
    match create(state, user, JobKind::Categorizer, None).await? {
        Ok(job) => Ok(job),
        Err(TrainingError::Conflict(active)) => cached_job(state, user.id, active).await,
        Err(err) => Err(err.into()),
    }
}

/// The caller's job `id`, read through the cache (an entry of another user is a 404).
async fn cached_job(state: &AppState, user: Uuid, id: Uuid) -> Result<JobView, ApiError> {
    let cached = state.cache.ask(Get { key: keys::job(id) }).await;
    if let Ok(Lookup {
        value: Some(json), ..
    }) = cached
    {
        if let Ok(job) = serde_json::from_str::<JobView>(&json) {
            if job.user_id != user {
                return Err(ApiError::not_found("job not found"));
            }
            return Ok(job);
        }
    }
    let job = state.training.ask(GetJob { user, id }).await??;
    remember(state, &job).await;
    Ok(job)
}

/// Caches `job` (replacing any older entry) for [`JOB_CACHE_TTL`]. A failing cache only costs
/// the next lookup.
async fn remember(state: &AppState, job: &JobView) {
    let Ok(value) = serde_json::to_string(job) else {
        return;
    };
    let set = Set {
        key: keys::job(job.id),
        value,
        ttl: JOB_CACHE_TTL,
        version: Version::default(),
    };
    if let Err(err) = state.cache.ask(set).await {
        tracing::warn!(%err, job = %job.id, "cannot cache a job");
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn event(status: JobStatus, step: u32) -> JobEvent {
        JobEvent {
            job_id: Uuid::nil(),
            user_id: Uuid::from_u128(7),
            seq: 3,
            status,
            step,
            total: 4,
            progress: 0.25,
            message: "line one\nline two".into(),
            metrics: None,
            at: Utc::now(),
        }
    }

    #[test]
    fn frames_carry_id_type_and_one_data_line_without_the_owner() {
        let text = String::from_utf8(frame(&event(JobStatus::Processing, 1)).to_vec()).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "id: 3");
        assert_eq!(lines[1], "event: progress");
        let data: Value = serde_json::from_str(lines[2].strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["message"], "line one\nline two");
        assert_eq!(data.get("user_id"), None);
        assert_eq!(&lines[3..], ["", ""]);
    }

    #[test]
    fn event_types() {
        assert_eq!(event_name(&event(JobStatus::Pending, 0)), "pending");
        assert_eq!(event_name(&event(JobStatus::Processing, 0)), "processing");
        assert_eq!(event_name(&event(JobStatus::Processing, 2)), "progress");
        assert_eq!(event_name(&event(JobStatus::Completed, 4)), "completed");
        let mut applied = event(JobStatus::Completed, 4);
        applied.metrics = Some(serde_json::json!({"model": "prototypes_v1", "recategorized": 12}));
        assert_eq!(event_name(&applied), "recategorized");
        applied.metrics = Some(serde_json::json!({"model": "prototypes_v1"}));
        assert_eq!(event_name(&applied), "completed");
    }
}

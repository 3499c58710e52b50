//! `GET /api/v1/ws/jobs`: live training-job events and anomaly alerts over a WebSocket.
//!
//! Authentication suits browsers, which cannot set headers on a WebSocket: either the offered
//! sub-protocols `bearer, <token>` (the server answers with `bearer`), or else the first client
//! message `{"type":"auth","token":"…"}` within [`Limits::auth_window`]. A bad token is answered with an
//! `error` message carrying the same code as the HTTP 401, then close 1008. When the token
//! expires the server sends `error` `token_expired` and closes 1008, unless the client sent a
//! fresher token of the same user (`{"type":"auth",…}` again; answered `authenticated`).
//!
//! Client messages (JSON text): `subscribe` / `unsubscribe` with `job_id` (one of the caller's
//! jobs) or `all: true` (every job of the caller), and/or `alerts: true` (the caller's new
//! anomaly alerts), and `ping` (answered `pong`). The server sends `authenticated`,
//! `subscribed`, `unsubscribed`, `event` (the job event's fields), `recategorized` (the same
//! fields, once a completed categorizer's model was applied), `alert` (a new anomaly alert's
//! fields as `GET /anomaly/alerts` shows them, its detector under `alert_type` since `type` is
//! the message's: see `alert_text`),
//! `pong` and `error` (`code`, `message`; the connection stays open unless it is an auth
//! error). A client only ever receives its own jobs' events and its own alerts, each in
//! publication order.
//!
//! Bounded everywhere: each connection holds at most one bounded receiver per bus (jobs,
//! alerts; only while subscribed)
//! and actix-ws's bounded outbox. A client that falls behind the bus (`Lagged`) or does not take
//! a frame within [`Limits::send_timeout`] is closed 1013; one that answers no ping for
//! [`Limits::client_timeout`] is closed 1008.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use futures_util::SinkExt;
use scale_actors::anomaly::service::AlertRaised;
use scale_actors::error::CoreError;
use scale_actors::events::JobEvent;
use scale_actors::training::service::GetJob;
use scale_actors::training::TrainingError;
use scale_monitoring::metrics::LiveConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::{self, error::RecvError};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::openapi::Problems;
use crate::problem::ApiError;
use crate::problem::Code;
use crate::AppState;

/// The sub-protocol that carries the token (`Sec-WebSocket-Protocol: bearer, <token>`).
pub const BEARER_PROTOCOL: &str = "bearer";

/// The connection timings ([`crate::HttpSettings::websocket`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a connection may stay unauthenticated.
    pub auth_window: Duration,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long the client may stay silent (no pong, no message) before it is closed.
    pub client_timeout: Duration,
    /// Longest wait for a frame to enter the connection's outbox before the client counts as
    /// slow.
    pub send_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            auth_window: Duration::from_secs(5),
            ping_interval: Duration::from_secs(10),
            client_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(2),
        }
    }
}
/// Most single jobs one connection may subscribe to.
pub const MAX_JOB_SUBSCRIPTIONS: usize = 100;
/// Largest client frame accepted.
const MAX_FRAME: usize = 4096;

/// The WebSocket route's description, with its message schemas.
#[derive(OpenApi)]
#[openapi(paths(jobs), components(schemas(ClientMessage, Outgoing)))]
pub struct Api;

/// Codes the WebSocket route answers besides the ones its kind shares.
pub const PROBLEMS: Problems = &[("jobs", &[Code::WebsocketUpgradeRequired])];

/// Registers the WebSocket route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ws/jobs").get(jobs));
}

/// Upgrades the request and serves the connection on its own task.
#[utoipa::path(
    get,
    path = "/api/v1/ws/jobs",
    tag = "training",
    security(()),
    params(("Sec-WebSocket-Protocol" = Option<String>, Header, description = "`bearer, <token>` authenticates at once; else the first message must be `auth`.")),
    responses((status = 101, description = "WebSocket (JSON text messages): the client sends `WsClientMessage`s, the server `WsServerMessage`s and `{\"type\":\"alert\", …}` (an alert as `GET /anomaly/alerts` shows it, its detector as `alert_type`). A bad or expired token is an `error` message with the HTTP 401 code, then close 1008."))
)]
async fn jobs(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offered = offered_token(&req);
    let (response, session, stream) =
        actix_ws::handle_with_protocols(&req, body, &[BEARER_PROTOCOL]).map_err(|e| {
            ApiError::bad_request(
                Code::WebsocketUpgradeRequired,
                format!("This route speaks WebSocket only: {e}"),
            )
        })?;
    let limits = req
        .app_data::<web::Data<Limits>>()
        .map(|limits| *limits.get_ref())
        .unwrap_or_default();
    let connection = Connection {
        limits,
        state: state.into_inner(),
        session,
        user: Uuid::nil(),
        all: false,
        jobs: HashSet::new(),
        events: None,
        alerts: None,
        heard: Instant::now(),
        expires: tokio::time::Instant::now(),
        live: LiveConnection::open("websocket"),
    };
    actix_web::rt::spawn(connection.run(stream.max_frame_size(MAX_FRAME), offered));
    Ok(response)
}

/// The token of `Sec-WebSocket-Protocol: bearer, <token>` (empty when `bearer` comes alone).
fn offered_token(req: &HttpRequest) -> Option<String> {
    let offered: Vec<&str> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let position = offered
        .iter()
        .position(|p| p.eq_ignore_ascii_case(BEARER_PROTOCOL))?;
    Some(
        offered
            .get(position + 1)
            .copied()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// What a client may send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = WsClientMessage)]
enum ClientMessage {
    /// The token: as the first message, or later to replace an expiring one.
    Auth { token: String },
    /// Start receiving a job's (or every own job's) events, or the caller's alerts.
    Subscribe(Scope),
    /// Stop receiving them.
    Unsubscribe(Scope),
    /// Asks for a `pong`.
    Ping,
}

/// One job (`job_id`) or all of the caller's jobs (`all: true`), and/or the caller's alerts
/// (`alerts: true`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[schema(as = WsScope)]
struct Scope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    alerts: bool,
}

/// The jobs a scope names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jobs {
    /// None (the scope is about alerts only).
    Neither,
    /// Every job of the caller.
    All,
    /// One job.
    One(Uuid),
}

impl Scope {
    /// The jobs named; a scope naming both `job_id` and `all`, or nothing at all, is refused.
    fn jobs(self) -> Result<Jobs, Outgoing<'static>> {
        match (self.job_id, self.all, self.alerts) {
            (Some(id), false, _) => Ok(Jobs::One(id)),
            (None, true, _) => Ok(Jobs::All),
            (None, false, true) => Ok(Jobs::Neither),
            _ => Err(Outgoing::error(
                Code::InvalidMessage,
                "give `job_id` or `all: true`, and/or `alerts: true`",
            )),
        }
    }
}

/// What the server sends.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = WsServerMessage)]
enum Outgoing<'a> {
    /// The token was accepted.
    Authenticated { user_id: Uuid },
    /// A subscription is in place.
    Subscribed(Scope),
    /// A subscription was dropped.
    Unsubscribed(Scope),
    /// A job event, its fields flattened beside `type`.
    Event(&'a JobEvent),
    /// The event that follows a completed categorizer job once the user's transactions were
    /// re-categorised with its model (metrics `recategorized`: rows changed), flattened the same.
    Recategorized(&'a JobEvent),
    /// Answers `ping`.
    Pong,
    /// A refused message (`code` as in the HTTP problems where one applies).
    Error { code: &'a str, message: String },
}

impl Outgoing<'_> {
    fn error(code: Code, message: impl Into<String>) -> Self {
        Outgoing::Error {
            code: code.as_str(),
            message: message.into(),
        }
    }

    fn text(&self) -> String {
        serde_json::to_string(self).expect("server messages serialise")
    }
}

/// How a connection ends: the close frame to send, or `None` when the client is gone.
type End = Option<CloseReason>;

fn close(code: CloseCode, description: &str) -> End {
    Some(CloseReason {
        code,
        description: Some(description.to_owned()),
    })
}

/// One client connection.
struct Connection {
    limits: Limits,
    state: Arc<AppState>,
    session: Session,
    /// The authenticated caller (nil until then).
    user: Uuid,
    /// When the caller's token expires (the connection is closed then).
    expires: tokio::time::Instant,
    /// Subscribed to every own job.
    all: bool,
    /// Subscribed single jobs.
    jobs: HashSet<Uuid>,
    /// The job bus receiver, held only while a job is subscribed.
    events: Option<broadcast::Receiver<Arc<JobEvent>>>,
    /// The alert bus receiver, held only while alerts are subscribed.
    alerts: Option<broadcast::Receiver<Arc<AlertRaised>>>,
    /// When the client last sent anything (a pong included).
    heard: Instant,
    /// This connection in the live-connection metrics.
    live: LiveConnection,
}

impl Connection {
    async fn run(mut self, mut stream: MessageStream, offered: Option<String>) {
        let Err(end) = self.serve(&mut stream, offered).await;
        if let Some(reason) = end {
            tracing::debug!(user = %self.user, ?reason, "websocket closed by the server");
            let _ =
                tokio::time::timeout(self.limits.send_timeout, self.session.close(Some(reason)))
                    .await;
        }
    }

    async fn serve(
        &mut self,
        stream: &mut MessageStream,
        offered: Option<String>,
    ) -> Result<Infallible, End> {
        let token = match offered {
            Some(token) => token,
            None => self.first_message_token(stream).await?,
        };
        if let Err(error) = self.authenticate(&token).await? {
            return self.refuse(error).await;
        }
        let mut ping = tokio::time::interval(self.limits.ping_interval);
        ping.tick().await;
        loop {
            tokio::select! {
                message = stream.recv() => self.received(message).await?,
                event = next_event(&mut self.events) => self.forward(event).await?,
                alert = next_event(&mut self.alerts) => self.forward_alert(alert).await?,
                _ = ping.tick() => self.heartbeat().await?,
                _ = tokio::time::sleep_until(self.expires) => {
                    return self
                        .refuse(Outgoing::error(Code::TokenExpired, "Bearer token has expired"))
                        .await;
                }
            }
        }
    }

    /// Waits up to [`Limits::auth_window`] for `{"type":"auth","token":…}`.
    async fn first_message_token(&mut self, stream: &mut MessageStream) -> Result<String, End> {
        let refused = |why: &str| Outgoing::error(Code::AuthRequired, why);
        let window = self.limits.auth_window;
        let message = match tokio::time::timeout(window, stream.recv()).await {
            Err(_) => {
                let why = format!("send {{\"type\":\"auth\",\"token\":…}} within {window:?}");
                return self.refuse(refused(&why)).await;
            }
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Err(None),
            Ok(Some(Ok(message))) => message,
        };
        let parsed = match &message {
            Message::Text(text) => serde_json::from_str::<ClientMessage>(text).ok(),
            _ => None,
        };
        match parsed {
            Some(ClientMessage::Auth { token }) => Ok(token),
            _ => {
                self.refuse(refused(
                    "the first message must be {\"type\":\"auth\",\"token\":…}",
                ))
                .await
            }
        }
    }

    /// Verifies `token` like the HTTP extractor does; on success (the same user as before, if
    /// the connection was authenticated already) takes its expiry and greets the client, else
    /// answers the error to send.
    async fn authenticate(&mut self, token: &str) -> Result<Result<(), Outgoing<'static>>, End> {
        let verified = if token.is_empty() {
            Err(ApiError::unauthorized(
                Code::MissingToken,
                "Missing bearer token",
            ))
        } else {
            self.state.auth.verify(token)
        };
        let claims = match verified {
            Ok(claims) => claims,
            Err(err) => return Ok(Err(Outgoing::error(err.code, err.detail))),
        };
        if !self.user.is_nil() && claims.sub != self.user {
            return Ok(Err(Outgoing::error(
                Code::UserMismatch,
                "a connection stays with the user it authenticated as",
            )));
        }
        self.user = claims.sub;
        self.heard = Instant::now();
        let left = claims.exp.saturating_sub(chrono::Utc::now().timestamp());
        self.expires =
            tokio::time::Instant::now() + Duration::from_secs(u64::try_from(left).unwrap_or(0));
        self.send(&Outgoing::Authenticated { user_id: self.user })
            .await
            .map(Ok)
    }

    /// Sends `error` and ends the connection with 1008.
    async fn refuse<T>(&mut self, error: Outgoing<'_>) -> Result<T, End> {
        self.send(&error).await?;
        let code = match &error {
            Outgoing::Error { code, .. } => *code,
            _ => "policy violation",
        };
        Err(close(CloseCode::Policy, code))
    }

    async fn received(
        &mut self,
        message: Option<Result<Message, actix_ws::ProtocolError>>,
    ) -> Result<(), End> {
        let message = match message {
            None => return Err(None),
            Some(Err(err)) => return Err(close(CloseCode::Protocol, &err.to_string())),
            Some(Ok(message)) => message,
        };
        self.heard = Instant::now();
        match message {
            Message::Text(text) => self.command(&text).await,
            Message::Ping(bytes) => self.bounded(Message::Pong(bytes)).await,
            Message::Pong(_) | Message::Nop => Ok(()),
            Message::Binary(_) | Message::Continuation(_) => {
                self.send(&Outgoing::error(
                    Code::InvalidMessage,
                    "send JSON text messages only",
                ))
                .await
            }
            Message::Close(_) => Err(close(CloseCode::Normal, "bye")),
        }
    }

    async fn command(&mut self, text: &str) -> Result<(), End> {
        let reply = match serde_json::from_str::<ClientMessage>(text) {
            Err(err) => Outgoing::error(Code::InvalidMessage, err.to_string()),
            // A fresher token of the same user extends the connection; a refused one leaves it
            // as it was.
            Ok(ClientMessage::Auth { token }) => match self.authenticate(&token).await? {
                Ok(()) => return Ok(()),
                Err(error) => error,
            },
            Ok(ClientMessage::Ping) => Outgoing::Pong,
            Ok(ClientMessage::Subscribe(scope)) => self.subscribe(scope).await,
            Ok(ClientMessage::Unsubscribe(scope)) => self.unsubscribe(scope),
        };
        self.send(&reply).await
    }

    async fn subscribe(&mut self, scope: Scope) -> Outgoing<'static> {
        let jobs = match scope.jobs() {
            Ok(jobs) => jobs,
            Err(error) => return error,
        };
        if scope.alerts && self.alerts.is_none() {
            self.alerts = Some(self.state.alerts.subscribe());
        }
        if jobs == Jobs::Neither {
            return Outgoing::Subscribed(scope);
        }
        // Listen before checking, so no event published meanwhile is missed.
        if self.events.is_none() {
            self.events = Some(self.state.events.subscribe());
        }
        let reply = match jobs {
            Jobs::Neither | Jobs::All => {
                self.all = true;
                Outgoing::Subscribed(scope)
            }
            Jobs::One(_) if self.jobs.len() >= MAX_JOB_SUBSCRIPTIONS => Outgoing::error(
                Code::TooManySubscriptions,
                format!("at most {MAX_JOB_SUBSCRIPTIONS} single jobs per connection; subscribe to `all` instead"),
            ),
            Jobs::One(id) => match self.state.training.ask(GetJob { user: self.user, id }).await {
                Ok(Ok(_)) => {
                    self.jobs.insert(id);
                    Outgoing::Subscribed(scope)
                }
                Ok(Err(TrainingError::Core(CoreError::NotFound(_)))) => {
                    Outgoing::error(Code::JobNotFound, format!("no job {id} of yours"))
                }
                Ok(Err(err)) => {
                    tracing::warn!(%err, "websocket: job lookup failed");
                    Outgoing::error(Code::Unavailable, "cannot check the job right now; retry")
                }
                Err(err) => {
                    tracing::warn!(%err, "websocket: training actor unavailable");
                    Outgoing::error(Code::Unavailable, "cannot check the job right now; retry")
                }
            },
        };
        self.release_idle_receiver();
        reply
    }

    fn unsubscribe(&mut self, scope: Scope) -> Outgoing<'static> {
        match scope.jobs() {
            Ok(Jobs::Neither) => {}
            Ok(Jobs::All) => self.all = false,
            Ok(Jobs::One(id)) => {
                self.jobs.remove(&id);
            }
            Err(error) => return error,
        }
        if scope.alerts {
            self.alerts = None;
        }
        self.release_idle_receiver();
        Outgoing::Unsubscribed(scope)
    }

    /// Drops the bus receiver when nothing is subscribed, so idle connections cost no work.
    fn release_idle_receiver(&mut self) {
        if !self.all && self.jobs.is_empty() {
            self.events = None;
        }
    }

    fn wants(&self, event: &JobEvent) -> bool {
        event.user_id == self.user && (self.all || self.jobs.contains(&event.job_id))
    }

    async fn forward(&mut self, event: Result<Arc<JobEvent>, RecvError>) -> Result<(), End> {
        match event {
            Ok(event) if self.wants(&event) => {
                let message = if event.is_recategorized() {
                    Outgoing::Recategorized(&event)
                } else {
                    Outgoing::Event(&event)
                };
                let sent = self.send(&message).await;
                self.counted(sent)
            }
            Ok(_) => Ok(()),
            Err(RecvError::Lagged(missed)) => {
                tracing::info!(user = %self.user, missed, "websocket: slow client dropped");
                self.live.dropped(missed);
                Err(close(CloseCode::Again, "slow consumer: events were missed"))
            }
            Err(RecvError::Closed) => Err(close(CloseCode::Away, "shutting down")),
        }
    }

    async fn forward_alert(
        &mut self,
        alert: Result<Arc<AlertRaised>, RecvError>,
    ) -> Result<(), End> {
        match alert {
            Ok(alert) if alert.user_id == self.user => {
                let sent = self.bounded(Message::Text(alert_text(&alert).into())).await;
                self.counted(sent)
            }
            Ok(_) => Ok(()),
            Err(RecvError::Lagged(missed)) => {
                tracing::info!(user = %self.user, missed, "websocket: slow client dropped");
                self.live.dropped(missed);
                Err(close(CloseCode::Again, "slow consumer: alerts were missed"))
            }
            Err(RecvError::Closed) => Err(close(CloseCode::Away, "shutting down")),
        }
    }

    async fn heartbeat(&mut self) -> Result<(), End> {
        if self.heard.elapsed() > self.limits.client_timeout {
            return Err(close(CloseCode::Policy, "no pong in time"));
        }
        self.bounded(Message::Ping(Default::default())).await
    }

    /// Counts an event frame as delivered or, when it could not be queued, dropped.
    fn counted(&self, sent: Result<(), End>) -> Result<(), End> {
        match &sent {
            Ok(()) => self.live.delivered(1),
            Err(_) => self.live.dropped(1),
        }
        sent
    }

    /// Queues `message`.
    async fn send(&mut self, message: &Outgoing<'_>) -> Result<(), End> {
        self.bounded(Message::Text(message.text().into())).await
    }

    /// Queues `frame`, waiting at most [`Limits::send_timeout`] for room in the bounded outbox.
    async fn bounded(&mut self, frame: Message) -> Result<(), End> {
        match tokio::time::timeout(self.limits.send_timeout, self.session.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(None),
            Err(_) => {
                tracing::info!(user = %self.user, "websocket: slow client dropped");
                Err(close(CloseCode::Again, "slow consumer"))
            }
        }
    }
}

/// The `alert` message of a new alert: `{"type":"alert", "alert_type": <detector>, …}` with
/// every other field of the alert as the list shows it.
fn alert_text(alert: &AlertRaised) -> String {
    let mut message = super::anomaly::payload(alert);
    if let Some(fields) = message.as_object_mut() {
        if let Some(kind) = fields.remove("type") {
            fields.insert("alert_type".into(), kind);
        }
        fields.insert("type".into(), "alert".into());
        fields.insert("user_id".into(), serde_json::json!(alert.user_id));
    }
    message.to_string()
}

/// The next message of a bus, or never when it is not subscribed.
async fn next_event<T: Clone>(
    events: &mut Option<broadcast::Receiver<Arc<T>>>,
) -> Result<Arc<T>, RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn offered(value: &str) -> Option<String> {
        let req = TestRequest::default()
            .insert_header((header::SEC_WEBSOCKET_PROTOCOL, value))
            .to_http_request();
        offered_token(&req)
    }

    #[test]
    fn the_token_follows_the_bearer_protocol() {
        assert_eq!(
            offered("bearer, abc.def.ghi").as_deref(),
            Some("abc.def.ghi")
        );
        assert_eq!(offered("Bearer,abc").as_deref(), Some("abc"));
        assert_eq!(offered("bearer").as_deref(), Some(""));
        assert_eq!(offered("graphql-ws"), None);
        assert_eq!(
            offered_token(&TestRequest::default().to_http_request()),
            None
        );
    }

    #[test]
    fn client_messages_parse_strictly() {
        let parse = |text: &str| serde_json::from_str::<ClientMessage>(text);
        assert!(matches!(
            parse(r#"{"type":"ping"}"#),
            Ok(ClientMessage::Ping)
        ));
        let id = Uuid::new_v4();
        let sub = parse(&format!(r#"{{"type":"subscribe","job_id":"{id}"}}"#)).unwrap();
        assert!(
            matches!(sub, ClientMessage::Subscribe(s) if s.jobs().is_ok_and(|j| j == Jobs::One(id)))
        );
        let all = parse(r#"{"type":"unsubscribe","all":true}"#).unwrap();
        assert!(
            matches!(all, ClientMessage::Unsubscribe(s) if s.jobs().is_ok_and(|j| j == Jobs::All))
        );
        let alerts = parse(r#"{"type":"subscribe","alerts":true}"#).unwrap();
        assert!(
            matches!(alerts, ClientMessage::Subscribe(s) if s.alerts && s.jobs().is_ok_and(|j| j == Jobs::Neither))
        );
        assert!(parse(r#"{"type":"subscribe","job_id":"nope"}"#).is_err());
        assert!(parse(r#"{"type":"dance"}"#).is_err());
        assert!(parse("not json").is_err());
        let neither = parse(r#"{"type":"subscribe"}"#).unwrap();
        assert!(matches!(neither, ClientMessage::Subscribe(s) if s.jobs().is_err()));
    }

    #[test]
    fn events_are_sent_flat_with_their_type() {
        let event = JobEvent {
            job_id: Uuid::nil(),
            user_id: Uuid::nil(),
            seq: 7,
            status: scale_actors::jobs::JobStatus::Completed,
            step: 3,
            total: 3,
            progress: 1.0,
            message: "done".into(),
            metrics: Some(serde_json::json!({"accuracy": 0.9})),
            at: chrono::Utc::now(),
        };
        let sent: serde_json::Value =
            serde_json::from_str(&Outgoing::Event(&event).text()).unwrap();
        assert_eq!(sent["type"], "event");
        assert_eq!(sent["seq"], 7);
        assert_eq!(sent["status"], "completed");
        assert_eq!(sent["metrics"]["accuracy"], 0.9);
        let ack = Outgoing::Subscribed(Scope {
            job_id: None,
            all: true,
            alerts: false,
        });
        assert_eq!(ack.text(), r#"{"type":"subscribed","all":true}"#);
    }

    #[test]
    fn alerts_are_sent_with_their_detector_as_alert_type() {
        use scale_actors::anomaly::alert::{Alert, AlertKind};
        use scale_actors::anomaly::query::AlertStatus;
        let raised = AlertRaised {
            user_id: Uuid::from_u128(3),
            status: AlertStatus::New,
            currency: "INR".into(),
            alert: Alert::new(
                AlertKind::DuplicateCharge,
                vec![Uuid::nil()],
                "2026-02-13".into(),
            ),
        };
        let sent: serde_json::Value = serde_json::from_str(&alert_text(&raised)).unwrap();
        assert_eq!(sent["type"], "alert");
        assert_eq!(sent["alert_type"], "duplicate_charge");
        assert_eq!(sent["id"], raised.alert.id.as_str());
        assert_eq!(sent["status"], "new");
        assert_eq!(sent["user_id"], raised.user_id.to_string());
    }
}

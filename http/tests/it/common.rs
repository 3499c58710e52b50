//! Shared by the HTTP tests: the app state with real actors, and the problem+json check.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{test, web, HttpResponse};
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scale_actors::anomaly::service::AlertRaised;
use scale_actors::cache::service::{CacheConfig, MEMORY_CAPACITY, MEMORY_TTL};
use scale_actors::categorization::brain::BrainCell;
use scale_actors::events::{Bus, EventBus};
use scale_actors::health::ProbeConfig;
use scale_actors::redis_pool::{self, RedisPool};
use scale_http::auth::{mint_token, Role};
use scale_http::{AppState, Authenticator, RateLimiter, RateLimits, Wiring};
use scale_schema::testing::TestDatabase;
use scale_supervision::{Registry, SupervisorConfig};
use serde_json::Value;
use uuid::Uuid;

pub const SECRET: &str = "front-test-secret-0123456789abcdef0123";
pub const ORIGIN: &str = "https://app.scale.test";

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A Redis key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("scale-test-{}:", Uuid::new_v4())
}

/// Entries in a rate-limit window stored in Redis (0 when the key does not exist).
pub async fn redis_count(redis: &RedisPool, key: &str) -> u64 {
    let mut conn = redis.get().await.unwrap();
    redis::cmd("ZCARD")
        .arg(key)
        .query_async(&mut *conn)
        .await
        .unwrap()
}

/// Builds the real app state over a test database, through the same [`AppState::wire`] as the
/// binary: `TestApp::new(&db).with_rate_limiter(l).state()`, or `.service().await` for the app.
pub struct TestApp {
    url: String,
    rate_limiter: Option<RateLimiter>,
    cache_redis: String,
    cache_timeout: Duration,
    alerts: Option<Bus<AlertRaised>>,
}

impl TestApp {
    /// Real actors over `db`, limits too high to matter, a cache over the test Redis.
    pub fn new(db: &TestDatabase) -> Self {
        Self {
            url: db.url(),
            rate_limiter: None,
            cache_redis: REDIS_URL.to_owned(),
            cache_timeout: Duration::from_secs(2),
            alerts: None,
        }
    }

    /// Uses this rate limiter.
    pub fn with_rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Publishes new anomaly alerts on `bus` (default: this process only).
    pub fn with_alert_bus(mut self, bus: Bus<AlertRaised>) -> Self {
        self.alerts = Some(bus);
        self
    }

    /// Caches in the Redis at `url` (its own key prefix), falling back to memory after `timeout`.
    pub fn with_cache_redis(mut self, url: &str, timeout: Duration) -> Self {
        self.cache_redis = url.to_owned();
        self.cache_timeout = timeout;
        self
    }

    /// The state, with every actor spawned.
    pub fn state(self) -> web::Data<AppState> {
        let probe = ProbeConfig {
            interval: Duration::from_millis(50),
            timeout: Duration::from_millis(500),
        };
        let pg = scale_schema::connect(&self.url, 2, probe.timeout);
        let shard = pg.clone();
        let rate_limiter = self.rate_limiter.unwrap_or_else(|| {
            let limits = RateLimits::uniform(100_000, Duration::from_secs(60));
            RateLimiter::new(
                Some(REDIS_URL),
                unique_prefix(),
                limits,
                Duration::from_secs(2),
            )
            .unwrap()
        });
        let jwks = include_str!("../fixtures/jwks.json");
        AppState::wire(Wiring {
            pg,
            shard_pool: Arc::new(move || shard.clone()),
            redis: Some(redis_pool::connect(REDIS_URL, probe.timeout).unwrap()),
            cache_redis: Some(redis_pool::connect(&self.cache_redis, self.cache_timeout).unwrap()),
            cache: CacheConfig {
                prefix: unique_prefix(),
                timeout: self.cache_timeout,
                memory_capacity: MEMORY_CAPACITY,
                memory_ttl: MEMORY_TTL,
            },
            events: EventBus::local(),
            layer_changes: Bus::local(),
            alerts: self.alerts.unwrap_or_default(),
            brain: BrainCell::shipped(),
            registry: Registry::new(SupervisorConfig::default()),
            probe,
            role: "api",
            ingest_parsers: 2,
            ingest_timeout: Duration::from_secs(120),
            analytics_cache_ttl: Duration::from_secs(300),
            retrain_after: 10,
            rate_limiter,
            auth: Arc::new(Authenticator::new(SECRET, Some(jwks)).unwrap()),
            chaos_enabled: true,
            chaos: None,
        })
    }

    /// The state and the real app over it (migrating the database first), for tests that also
    /// drive the actors or the event bus directly.
    pub async fn start(
        self,
    ) -> (
        web::Data<AppState>,
        impl Service<
            actix_http::Request,
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
        >,
    ) {
        scale_schema::run_migrations(&self.url).await.unwrap();
        let state = self.state();
        let app = test::init_service(scale_http::app(
            state.clone(),
            &scale_http::HttpSettings::default(),
        ))
        .await;
        (state, app)
    }

    /// The real app (migrating the database first).
    pub async fn service(
        self,
    ) -> impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    > {
        self.start().await.1
    }
}

#[derive(serde::Deserialize)]
struct Typed {
    #[allow(dead_code)]
    n: u32,
}

async fn echo(body: web::Json<Typed>) -> HttpResponse {
    let _ = body;
    HttpResponse::NoContent().finish()
}

async fn explode() -> HttpResponse {
    panic!("handler exploded")
}

/// Mounts the probe routes only tests use: `POST /test/echo` (a typed JSON body, 204) and
/// `GET /test/explode` (a panicking handler).
pub fn probe_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/test/echo", web::post().to(echo))
        .route("/test/explode", web::get().to(explode));
}

/// Checks the problem+json contract and returns the body.
pub async fn problem(res: ServiceResponse<impl MessageBody>, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(res.headers().contains_key("x-response-time"));
    let path = res.request().path().to_owned();
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["request_id"], request_id.as_str());
    assert_eq!(body["instance"], path.as_str());
    assert_eq!(body["type"], format!("urn:scale:problem:{code}"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// A new user id with a ten-minute token for it, signed with [`SECRET`].
pub fn user() -> (Uuid, String) {
    user_as(Role::User)
}

/// [`user`] with the given role.
pub fn user_as(role: Role) -> (Uuid, String) {
    let id = Uuid::new_v4();
    (id, mint_token(SECRET, id, role, 600))
}

pub fn bearer(token: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {token}"))
}

/// A GET request, with a bearer token when given.
pub fn get(path: &str, token: Option<&str>) -> actix_http::Request {
    let mut req = test::TestRequest::get().uri(path);
    if let Some(token) = token {
        req = req.insert_header(bearer(token));
    }
    req.to_request()
}

/// Sends a request (JSON body when given) as `token`.
pub async fn send<S, B>(
    app: &S,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> ServiceResponse<B>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = test::TestRequest::default().method(method).uri(path);
    if let Some(token) = token {
        req = req.insert_header(bearer(token));
    }
    if let Some(body) = body {
        req = req.set_json(body);
    }
    test::call_service(app, req.to_request()).await
}

/// Sends a request and expects `status` with a JSON body (`Null` for an empty one).
pub async fn expect<S, B>(
    app: &S,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = send(app, method.clone(), path, Some(token), body).await;
    assert_eq!(res.status().as_u16(), status, "{method} {path}");
    let bytes = test::read_body(res).await;
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    }
}

/// Imports JSON `rows` as `token` through `POST /ingest/import`, expecting every row inserted;
/// returns the import's answer.
pub async fn import_rows<S, B>(app: &S, token: &str, rows: Vec<Value>) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let n = rows.len();
    let body = serde_json::json!({ "transactions": rows });
    let out = expect(
        app,
        Method::POST,
        "/api/v1/ingest/import",
        token,
        Some(body),
        200,
    )
    .await;
    assert_eq!(out["inserted"], n, "{out}");
    out
}

/// Runs `sql` as the superuser (outside row-level security), as a worker or a seed would.
pub async fn execute(db: &TestDatabase, sql: &str) {
    try_execute(db, sql).await.unwrap();
}

/// [`execute`], answering the database's error instead of panicking.
pub async fn try_execute(db: &TestDatabase, sql: &str) -> Result<usize, String> {
    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    diesel::sql_query(sql)
        .execute(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

#[derive(QueryableByName)]
struct Scalar {
    #[diesel(sql_type = Text)]
    v: String,
}

/// The value of a SQL expression, as text.
pub async fn scalar(db: &TestDatabase, expr: &str) -> String {
    let mut conn = AsyncPgConnection::establish(&db.url()).await.unwrap();
    let row: Scalar = diesel::sql_query(format!("SELECT ({expr})::text AS v"))
        .get_result(&mut conn)
        .await
        .unwrap();
    row.v
}

/// A multipart/form-data body: `(field name, file name, bytes)`; returns the content type too.
pub fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "scale-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, filename, bytes) in fields {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match filename {
            Some(f) => format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// A statement fixture's bytes (`tests/fixtures/`, copied from the spec).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

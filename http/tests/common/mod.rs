//! Shared by the HTTP test binaries: the app state with real actors, and the problem+json check.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{test, web, HttpResponse};
use diesel::sql_types::Text;
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scale_actors::accounts::service::AccountsService;
use scale_actors::analytics::service::AnalyticsService;
use scale_actors::cache::service::{CacheConfig, CacheService, MEMORY_CAPACITY, MEMORY_TTL};
use scale_actors::events::EventBus;
use scale_actors::health::{HealthService, PostgresFlag, ProbeConfig};
use scale_actors::ingest::service::IngestService;
use scale_actors::redis_pool;
use scale_actors::training::service::TrainingService;
use scale_http::{AppState, Authenticator, RateLimiter, RateLimits};
use scale_schema::testing::TestDatabase;
use scale_supervision::{spawn, Registry, Sharded, SupervisorConfig};
use serde_json::Value;
use uuid::Uuid;

pub const SECRET: &str = "front-test-secret-0123456789abcdef0123";
pub const ORIGIN: &str = "https://app.scale.test";

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A Redis key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("scale-test-{}:", Uuid::new_v4())
}

/// State with real health, ingest and accounts actors over `db`, and limits too high to matter.
pub fn state(db: &TestDatabase) -> web::Data<AppState> {
    let limits = RateLimits::uniform(100_000, Duration::from_secs(60));
    let limiter = RateLimiter::new(
        Some(REDIS_URL),
        unique_prefix(),
        limits,
        Duration::from_secs(2),
    );
    state_with(db, limiter.unwrap())
}

/// State with real health, ingest and accounts actors over `db` and the given rate limiter.
pub fn state_with(db: &TestDatabase, rate_limiter: RateLimiter) -> web::Data<AppState> {
    state_with_cache(db, rate_limiter, REDIS_URL, Duration::from_secs(2))
}

/// State with real actors over `db`, the given rate limiter, and a cache over `cache_redis`
/// (with its own key prefix) that falls back to memory after `cache_timeout`.
pub fn state_with_cache(
    db: &TestDatabase,
    rate_limiter: RateLimiter,
    cache_redis: &str,
    cache_timeout: Duration,
) -> web::Data<AppState> {
    let probe = ProbeConfig {
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
    };
    let pg = scale_schema::connect(&db.url(), 2, probe.timeout);
    let redis = redis_pool::connect(REDIS_URL, probe.timeout).unwrap();
    let registry = Registry::new(SupervisorConfig::default());
    let reg = registry.clone();
    let health_pg = pg.clone();
    let postgres = PostgresFlag::default();
    let health_flag = postgres.clone();
    let health = spawn(&registry, move || {
        HealthService::new(health_pg.clone(), Some(redis.clone()), probe, reg.clone())
            .with_postgres_flag(health_flag.clone())
    });
    let accounts_pg = pg.clone();
    let accounts = Sharded::new(&registry, move || AccountsService::new(accounts_pg.clone()));
    let analytics_pg = pg.clone();
    let analytics = spawn(&registry, move || {
        AnalyticsService::new(analytics_pg.clone())
    });
    let events = EventBus::local();
    let (training_pg, training_events) = (pg.clone(), events.clone());
    let training = spawn(&registry, move || {
        TrainingService::new(training_pg.clone(), training_events.clone())
    });
    let ingest = spawn(&registry, move || IngestService::new(pg.clone(), 2));
    let cache_pool = redis_pool::connect(cache_redis, cache_timeout).unwrap();
    let cache_config = CacheConfig {
        prefix: unique_prefix(),
        timeout: cache_timeout,
        memory_capacity: MEMORY_CAPACITY,
        memory_ttl: MEMORY_TTL,
    };
    let cache = spawn(&registry, move || {
        CacheService::new(Some(cache_pool.clone()), cache_config.clone())
    });
    let jwks = include_str!("../fixtures/jwks.json");
    web::Data::new(AppState {
        health,
        postgres,
        ingest,
        ingest_timeout: Duration::from_secs(120),
        accounts,
        analytics,
        cache,
        training,
        events,
        analytics_cache_ttl: Duration::from_secs(300),
        registry,
        auth: Arc::new(Authenticator::new(SECRET, Some(jwks)).unwrap()),
        chaos_enabled: true,
        started_at: Instant::now(),
        rate_limiter,
    })
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

/// The real app over a freshly migrated `db`, with the default test state.
pub async fn app(
    db: &TestDatabase,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    scale_schema::run_migrations(&db.url()).await.unwrap();
    test::init_service(scale_http::app(
        state(db),
        &scale_http::HttpSettings::default(),
    ))
    .await
}

/// The real app over a migrated `db` and its state, for tests that also drive the actors or
/// the event bus directly.
pub async fn app_and_state(
    db: &TestDatabase,
) -> (
    web::Data<AppState>,
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
) {
    let state = state(db);
    let app = test::init_service(scale_http::app(
        state.clone(),
        &scale_http::HttpSettings::default(),
    ))
    .await;
    (state, app)
}

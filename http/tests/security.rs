//! Security hardening of the HTTP front: security headers on every response (success, problems,
//! caught panics), HSTS only in production, no `Server` header.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::test;
use scale_http::security_headers::{ALWAYS, HSTS};
use scale_http::HttpSettings;
use scale_schema::testing::TestDatabase;

mod common;

use common::{get, probe_routes, problem, state};

async fn service(
    state: actix_web::web::Data<scale_http::AppState>,
    hsts: bool,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    let settings = HttpSettings {
        hsts,
        ..HttpSettings::default()
    };
    test::init_service(scale_http::app(state, &settings).configure(probe_routes)).await
}

/// Asserts the security headers (HSTS as given) and no `Server` header.
fn assert_secured(headers: &HeaderMap, hsts: bool, what: &str) {
    for (name, value) in ALWAYS {
        assert_eq!(headers.get(&name).unwrap(), value, "{name} on {what}");
    }
    assert_eq!(
        headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .map(|v| v.to_str().unwrap()),
        hsts.then_some(HSTS),
        "HSTS on {what}"
    );
    assert!(!headers.contains_key(header::SERVER), "Server on {what}");
}

/// The panic route's answer: an error that renders its own 500 response.
async fn panic_response(
    app: &impl Service<actix_http::Request, Error = actix_web::Error>,
) -> actix_web::HttpResponse {
    let err = app
        .call(get("/test/explode", None))
        .await
        .err()
        .expect("a panic surfaces as an error that renders itself");
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    res
}

#[actix_rt::test]
async fn every_response_carries_the_security_headers() {
    let db = TestDatabase::create();
    let app = service(state(&db), false).await;
    let res = test::call_service(&app, get("/api/v1/health", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_secured(res.headers(), false, "200");
    let res = test::call_service(&app, get("/api/v1/ops/actors", None)).await;
    assert_secured(res.headers(), false, "401");
    problem(res, 401, "missing_credentials").await;
    for path in ["/api/v1/nope", "/nope"] {
        let res = test::call_service(&app, get(path, None)).await;
        assert_secured(res.headers(), false, path);
        problem(res, 404, "not_found").await;
    }
    let big = format!(
        "{{\"n\": 1, \"pad\": \"{}\"}}",
        "x".repeat(scale_http::JSON_LIMIT)
    );
    let req = test::TestRequest::post()
        .uri("/test/echo")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(big)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_secured(res.headers(), false, "413");
    problem(res, 413, "payload_too_large").await;
    let res = panic_response(&app).await;
    assert_secured(res.headers(), false, "a caught panic");
}

#[actix_rt::test]
async fn hsts_is_sent_only_when_enabled() {
    let db = TestDatabase::create();
    let app = service(state(&db), true).await;
    let res = test::call_service(&app, get("/api/v1/health", None)).await;
    assert_secured(res.headers(), true, "200");
    let res = test::call_service(&app, get("/api/v1/nope", None)).await;
    assert_secured(res.headers(), true, "404");
    let res = panic_response(&app).await;
    assert_secured(res.headers(), true, "a caught panic");
}

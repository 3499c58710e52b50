//! The HTTP front against a real health actor: problem+json on every error path, request ids,
//! timing headers, JWT authentication and role checks, health routes.

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::test;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scale_http::auth::{mint_token, Claims, Role};
use scale_http::HttpSettings;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{bearer, get, probe_routes, problem, TestApp, ORIGIN, SECRET};

/// The real app plus two probe routes only tests mount: a JSON body and a panicking handler.
async fn service(
    db: &TestDatabase,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    let settings = HttpSettings {
        allowed_origins: vec![ORIGIN.into()],
        ..HttpSettings::default()
    };
    test::init_service(scale_http::app(TestApp::new(db).state(), &settings).configure(probe_routes))
        .await
}

#[actix_rt::test]
async fn unknown_routes_and_methods_are_problems() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let res = test::call_service(&app, get("/api/v1/nope", None)).await;
    let body = problem(res, 404, "not_found").await;
    assert_eq!(body["detail"], "No route for GET /api/v1/nope");
    let res = test::call_service(
        &app,
        test::TestRequest::delete()
            .uri("/api/v1/health")
            .to_request(),
    )
    .await;
    problem(res, 405, "method_not_allowed").await;
}

#[actix_rt::test]
async fn bad_bodies_are_problems() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let post = || test::TestRequest::post().uri("/test/echo");
    let json = || (header::CONTENT_TYPE, "application/json");

    let res = test::call_service(
        &app,
        post()
            .insert_header(json())
            .set_payload("{\"n\": ")
            .to_request(),
    )
    .await;
    problem(res, 400, "malformed_json").await;
    let res = test::call_service(
        &app,
        post()
            .insert_header(json())
            .set_payload("{\"n\": \"x\"}")
            .to_request(),
    )
    .await;
    problem(res, 422, "validation").await;
    let res = test::call_service(
        &app,
        post()
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload("{}")
            .to_request(),
    )
    .await;
    problem(res, 415, "unsupported_media_type").await;
    let big = format!(
        "{{\"n\": 1, \"pad\": \"{}\"}}",
        "x".repeat(scale_http::JSON_LIMIT)
    );
    let res = test::call_service(
        &app,
        post().insert_header(json()).set_payload(big).to_request(),
    )
    .await;
    problem(res, 413, "payload_too_large").await;
    let res = test::call_service(
        &app,
        post()
            .insert_header(json())
            .set_payload("{\"n\": 1}")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[actix_rt::test]
async fn a_panicking_handler_is_a_500_problem_and_the_app_keeps_serving() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let req = test::TestRequest::get()
        .uri("/test/explode")
        .insert_header(("x-request-id", "trace-42"))
        .to_request();
    let err = app
        .call(req)
        .await
        .err()
        .expect("a panic surfaces as an error that renders itself");
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers().get("x-request-id").unwrap(), "trace-42");
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/problem+json"
    );
    let body: Value =
        serde_json::from_slice(&actix_web::body::to_bytes(res.into_body()).await.unwrap()).unwrap();
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["request_id"], "trace-42");
    assert_eq!(body["instance"], "/test/explode");
    assert_eq!(body["detail"], "An unexpected error occurred");
    let res = test::call_service(&app, get("/api/v1/health", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_rt::test]
async fn request_ids_are_echoed_or_generated() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let call = |id: Option<&str>| {
        let mut req = test::TestRequest::get().uri("/api/v1/health");
        if let Some(id) = id {
            req = req.insert_header(("x-request-id", id));
        }
        req.to_request()
    };
    let res = test::call_service(&app, call(Some("client-id_1.2:3"))).await;
    assert_eq!(
        res.headers().get("x-request-id").unwrap(),
        "client-id_1.2:3"
    );
    for bad in [None, Some("has space"), Some(&*"x".repeat(129))] {
        let res = test::call_service(&app, call(bad)).await;
        let id = res.headers().get("x-request-id").unwrap().to_str().unwrap();
        assert!(Uuid::parse_str(id).is_ok(), "{id}");
        assert!(res
            .headers()
            .get("x-response-time")
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with("ms"));
    }
}

#[actix_rt::test]
async fn every_authentication_failure_has_its_own_401() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let user = Uuid::new_v4();
    let now = chrono::Utc::now().timestamp();
    let hs = |claims: &Value, secret: &str| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_credentials"),
        (Some("Basic dXNlcjpwYXNz".into()), "missing_credentials"),
        (Some("Bearer ".into()), "missing_token"),
        (Some("Bearer not.a.jwt".into()), "malformed_token"),
        (
            Some(format!(
                "Bearer {}",
                mint_token(SECRET, user, Role::User, -120)
            )),
            "token_expired",
        ),
        // Expired 10 s ago: past the 5 s leeway (jsonwebtoken's default would allow 60 s).
        (
            Some(format!(
                "Bearer {}",
                mint_token(SECRET, user, Role::User, -10)
            )),
            "token_expired",
        ),
        (
            Some(format!(
                "Bearer {}",
                mint_token("another-secret-0123456789abcdef0123", user, Role::User, 60)
            )),
            "invalid_signature",
        ),
        (
            Some(format!(
                "Bearer {}",
                hs(&json!({"sub": "not-a-uuid", "exp": now + 60}), SECRET)
            )),
            "invalid_claims",
        ),
        (
            Some(format!("Bearer {}", hs(&json!({"sub": user}), SECRET))),
            "invalid_claims",
        ),
    ];
    for (authorization, code) in cases {
        let mut req = test::TestRequest::get().uri("/api/v1/ops/actors");
        if let Some(value) = &authorization {
            req = req.insert_header((header::AUTHORIZATION, value.as_str()));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(
            res.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Bearer"
        );
        problem(res, 401, code).await;
    }
}

#[actix_rt::test]
async fn roles_gate_ops_and_jwks_keys_are_accepted() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let user = Uuid::new_v4();
    let res = test::call_service(
        &app,
        get(
            "/api/v1/ops/actors",
            Some(&mint_token(SECRET, user, Role::User, 60)),
        ),
    )
    .await;
    problem(res, 403, "forbidden").await;

    // An ES256 admin token signed by the key published in the JWKS file.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("test-es256".into());
    let claims = Claims {
        sub: user,
        exp: chrono::Utc::now().timestamp() + 60,
        iat: 0,
        role: Some(Role::Admin),
    };
    let key = EncodingKey::from_ec_pem(include_bytes!("../fixtures/es256-private.pem")).unwrap();
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let res = test::call_service(&app, get("/api/v1/ops/actors", Some(&token))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = test::read_body_json(res).await;
    let names: Vec<&str> = body["actors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(names.contains(&"health"), "{names:?}");

    // The same token with an unknown key id is refused.
    header.kid = Some("rotated-away".into());
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let res = test::call_service(&app, get("/api/v1/ops/actors", Some(&token))).await;
    problem(res, 401, "unknown_key").await;
}

#[actix_rt::test]
async fn crashing_an_actor_is_a_500_problem_and_it_answers_next() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let admin = mint_token(SECRET, Uuid::new_v4(), Role::Admin, 60);
    let post = |path: &str| {
        test::TestRequest::post()
            .uri(path)
            .insert_header(bearer(&admin))
            .to_request()
    };
    let res = test::call_service(&app, post("/api/v1/ops/actors/health/crash")).await;
    problem(res, 500, "actor_crashed").await;
    let res = test::call_service(&app, post("/api/v1/ops/actors/health/ping")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["restarts"], 1);
    let res = test::call_service(&app, post("/api/v1/ops/actors/ghost/ping")).await;
    problem(res, 404, "not_found").await;
}

#[actix_rt::test]
async fn health_and_readiness() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let res = test::call_service(&app, get("/api/v1/health", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["services"]["api"], "up");

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let res = test::call_service(&app, get("/api/v1/health/ready", None)).await;
        if res.status() == StatusCode::OK {
            let body: Value = test::read_body_json(res).await;
            assert_eq!(body["status"], "ready");
            assert_eq!(body["postgres"]["status"], "up");
            break;
        }
        problem(res, 503, "not_ready").await;
        assert!(Instant::now() < deadline, "never became ready");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn cors_allows_only_configured_origins() {
    let db = TestDatabase::migrated();
    let app = service(&db).await;
    let preflight = |origin: &str| {
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/health")
            .insert_header((header::ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "GET"))
            .to_request()
    };
    let res = test::call_service(&app, preflight(ORIGIN)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        ORIGIN
    );
    let res = test::call_service(&app, preflight("https://evil.test")).await;
    assert!(res
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
    assert!(res.status().is_client_error());
}

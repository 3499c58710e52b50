//! The OpenAPI document against the app: every route the app serves is documented and every
//! documented operation is served (parity), the document is served without authentication as
//! OpenAPI 3.1, and Swagger UI serves its page and assets.
//!
//! actix lists no routes, so parity is checked from both ends against the real app: every
//! `web::resource("…")` registration in `http/src` with its methods (the source scan) is sent to
//! the app, which must route it (its resource pattern, read with `match_pattern`, is the
//! registration's, under `/api/v1` or at the root) and not answer 405; the resulting
//! `(method, template)` set must equal the document's, and every documented operation must be
//! routed the same way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::test;
use scale_http::openapi::{self, problems, DOCUMENT_PATH};
use scale_http::routes::document::document;
use scale_schema::testing::TestDatabase;
use serde_json::Value;

use crate::common::TestApp;

/// The header the test wrapper sets to the pattern of the resource that routed the request.
const PATTERN: &str = "x-test-matched-pattern";

/// `(METHOD, path template)`.
type Route = (String, String);

/// Every `web::resource("PATH")` registration under `dir` with the methods chained on it
/// (`.get(` … `.delete(`), from the source; `web::resource` with anything but a literal fails.
/// Two files are not the API: `openapi/ui.rs` (Swagger UI, the document's viewer) and
/// `metrics.rs` (the `/metrics` listener, a separate app on its own address).
fn registrations(dir: &Path) -> BTreeSet<Route> {
    let mut found = BTreeSet::new();
    let mut files = vec![dir.to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect::<Vec<PathBuf>>(),
            );
            continue;
        }
        let not_api = path.ends_with("openapi/ui.rs") || path.ends_with("src/metrics.rs");
        if path.extension().is_none_or(|e| e != "rs") || not_api {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let pieces: Vec<&str> = source.split("web::resource(").skip(1).collect();
        for piece in pieces {
            let literal = piece
                .strip_prefix('"')
                .and_then(|rest| rest.split_once('"'))
                .unwrap_or_else(|| panic!("{}: a resource that is not a literal", path.display()));
            let (template, chain) = literal;
            // The methods chained on this resource: up to the end of its `.service(…)`.
            let end = chain.find(";\n").unwrap_or(chain.len());
            let chain = &chain[..end];
            let methods: Vec<&str> = ["get", "post", "put", "patch", "delete", "head"]
                .into_iter()
                .filter(|m| chain.contains(&format!(".{m}(")))
                .collect();
            assert!(
                !methods.is_empty(),
                "{}: {template} has no method",
                path.display()
            );
            for method in methods {
                found.insert((method.to_ascii_uppercase(), template.to_owned()));
            }
        }
    }
    found
}

/// `template` with every `{param}` filled in.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "00000000-0000-4000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The documented `(method, template)` pairs.
fn documented(doc: &Value) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                routes.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[actix_rt::test]
async fn every_route_is_documented_and_every_documented_operation_is_served() {
    let db = TestDatabase::migrated();
    let app = test::init_service(
        scale_http::app(TestApp::new(&db).state(), &Default::default()).wrap_fn(|req, srv| {
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                let pattern = res.request().match_pattern().unwrap_or_default();
                res.headers_mut().insert(
                    PATTERN.parse().unwrap(),
                    HeaderValue::from_str(&pattern).unwrap(),
                );
                Ok(res)
            }
        }),
    )
    .await;
    // Sends `method` to `path` unauthenticated: the pattern that routed it, and whether the
    // resource refused the method.
    let route = |method: String, path: String| {
        let req = test::TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&path)
            .to_request();
        let app = &app;
        async move {
            let res = test::call_service(app, req).await;
            let pattern = res
                .headers()
                .get(PATTERN)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            (pattern, res.status().as_u16() == 405)
        }
    };

    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut served = BTreeSet::new();
    for (method, template) in registrations(&source) {
        let mut routed = None;
        for prefix in ["/api/v1", ""] {
            let full = format!("{prefix}{template}");
            let (pattern, refused) = route(method.clone(), concrete(&full)).await;
            if pattern == full {
                assert!(!refused, "{method} {full}: registered but answered 405");
                routed = Some(full);
                break;
            }
        }
        let full = routed.unwrap_or_else(|| panic!("{method} {template}: registered, not routed"));
        served.insert((method, full));
    }

    let doc = serde_json::to_value(document()).unwrap();
    let documented = documented(&doc);
    for (method, template) in &documented {
        let (pattern, refused) = route(method.clone(), concrete(template)).await;
        assert_eq!(
            &pattern, template,
            "{method} {template}: documented, not routed"
        );
        assert!(!refused, "{method} {template}: documented, answered 405");
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented, not registered: {unserved:?}"
    );
    assert!(served.len() > 50, "the scan found only {}", served.len());
}

#[actix_rt::test]
async fn the_document_is_served_without_authentication_as_openapi_3_1() {
    let db = TestDatabase::migrated();
    let app = TestApp::new(&db).service().await;
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri(DOCUMENT_PATH).to_request(),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let doc: Value = test::read_body_json(res).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc, serde_json::to_value(document()).unwrap());

    // Every operation's problem responses name catalogue codes of their own status, and an
    // authenticated one lists the 401 codes; admin ones the 403.
    let ops = &doc["paths"]["/api/v1/ops/actors"]["get"];
    assert_eq!(ops["security"][0]["bearer"][0], "admin");
    assert!(ops["responses"]["403"]["x-problem-codes"]
        .as_array()
        .unwrap()
        .contains(&Value::from("forbidden")));
    let import = &doc["paths"]["/api/v1/ingest/import"]["post"]["responses"];
    let conflicts = import["409"]["x-problem-codes"].as_array().unwrap();
    assert!(conflicts.contains(&Value::from("file_already_imported")));
    assert!(import["401"]["x-problem-codes"]
        .as_array()
        .unwrap()
        .contains(&Value::from("token_expired")));
    assert!(import["200"]["headers"]["x-ratelimit-remaining"].is_object());
    assert!(doc["paths"]["/api/v1/health"]["get"]["responses"]["401"].is_null());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                for code in response["x-problem-codes"].as_array().into_iter().flatten() {
                    let code = scale_http::problem::Code::ALL
                        .iter()
                        .find(|c| c.as_str() == code)
                        .unwrap_or_else(|| panic!("{method} {path}: unknown {code}"));
                    assert_eq!(code.status().map(|s| s.to_string()).as_ref(), Some(status));
                }
            }
        }
    }
}

#[actix_rt::test]
async fn every_extra_problem_entry_names_a_documented_operation() {
    let doc = serde_json::to_value(document()).unwrap();
    let ids: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for (_, table) in scale_http::routes::openapi() {
        for (id, _) in table {
            assert!(
                ids.contains(id),
                "PROBLEMS names {id}, which is no operation"
            );
        }
    }
    assert_eq!(problems::PROBLEM, "Problem");
}

#[actix_rt::test]
async fn swagger_ui_serves_its_page_and_assets_under_its_own_policy() {
    let db = TestDatabase::migrated();
    let app = TestApp::new(&db).service().await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/docs").to_request()).await;
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/docs/");
    let res = test::call_service(&app, test::TestRequest::get().uri("/docs/").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get(header::CONTENT_SECURITY_POLICY).unwrap(),
        openapi::ui::UI_CSP
    );
    let page = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    for (asset, kind) in [
        ("swagger-ui.css", "text/css"),
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-initializer.js", "javascript"),
    ] {
        assert!(page.contains(asset), "{asset} not in the page");
        let uri = format!("/docs/{asset}");
        let res = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status().as_u16(), 200, "{uri}");
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.contains(kind), "{uri}: {content_type}");
        if asset == "swagger-initializer.js" {
            let script = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            assert!(script.contains(DOCUMENT_PATH), "{script}");
        }
    }
}

#[actix_rt::test]
async fn the_documents_limits_and_job_kinds_are_the_servers() {
    let doc = serde_json::to_value(document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ClassifyBody"]["properties"]["description"]["maxLength"],
        scale_statements::text::DESCRIPTION,
        "{}",
        schemas["ClassifyBody"]
    );
    let descriptions = &schemas["BatchBody"]["properties"]["descriptions"];
    assert_eq!(descriptions["minItems"], 1, "{descriptions}");
    assert_eq!(
        descriptions["maxItems"],
        scale_actors::categorization::service::MAX_BATCH,
        "{descriptions}"
    );
    let job = &schemas["NewJob"]["properties"];
    assert_eq!(job["max_attempts"]["maximum"], 10, "{job}");
    let kinds = &schemas["JobKind"]["enum"];
    let names: Vec<&str> = scale_actors::jobs::JobKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    assert_eq!(kinds, &serde_json::json!(names), "{job}");
}

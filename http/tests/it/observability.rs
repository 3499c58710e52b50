//! What an on-call engineer reads: the JSON access-log line a request writes (through the
//! production log layer) and what reaches Sentry (request tags, actor panics, sampled traces).

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use scale_http::auth::Role;
use scale_schema::testing::TestDatabase;
use sentry::protocol::{EnvelopeItem, Event, Transaction};
use sentry::{ClientOptions, Envelope};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

use crate::common::{bearer, get, user, user_as, TestApp};

/// A log sink shared between the subscriber and the test.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    /// Every line written so far, each parsed as JSON.
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

#[actix_rt::test]
async fn a_request_writes_one_json_access_line_with_every_field() {
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber =
        tracing_subscriber::registry().with(scale_monitoring::json_layer(move || writer.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = TestDatabase::migrated();
    let app = TestApp::new(&db).service().await;
    let (id, token) = user();
    // Other tests' threads may have cached the request span's interest without this
    // thread's subscriber in view (a race of per-thread subscribers); recompute it.
    tracing::callsite::rebuild_interest_cache();
    let path = format!("/api/v1/accounts/transactions/{}", Uuid::new_v4());
    let req = actix_web::test::TestRequest::get()
        .uri(&path)
        .insert_header(bearer(&token))
        .insert_header(("x-request-id", "access-log-test-1"))
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let access: Vec<Value> = sink
        .lines()
        .into_iter()
        .filter(|line| line["message"] == "request completed")
        .collect();
    assert_eq!(access.len(), 1, "{access:?}");
    let line = &access[0];
    let timestamp = line["timestamp"].as_str().expect("timestamp");
    chrono::DateTime::parse_from_rfc3339(timestamp).expect("RFC 3339 timestamp");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["target"], "scale_http::request_context");
    assert_eq!(line["request_id"], "access-log-test-1");
    assert_eq!(line["user_id"], id.to_string());
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/api/v1/accounts/transactions/{id}");
    assert_eq!(line["path"], path);
    assert_eq!(line["status"], 404);
    let duration = line["duration_ms"]
        .as_f64()
        .expect("duration_ms is a number");
    assert!(duration >= 0.0, "{duration}");
    // The request's span rides along too.
    assert_eq!(line["span"]["request_id"], "access-log-test-1", "{line}");

    // An anonymous request logs no user and an unmatched path no raw route.
    let res = actix_web::test::call_service(&app, get("/nowhere/at/all", None)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let line = sink
        .lines()
        .into_iter()
        .rfind(|line| line["message"] == "request completed")
        .unwrap();
    assert_eq!(line["route"], "unmatched");
    assert_eq!(line["path"], "/nowhere/at/all");
    assert!(line.get("user_id").is_none(), "{line}");
}

/// Crashes the health actor through the admin route with Sentry capturing into a test
/// transport configured by `options`; returns what would have been sent and the admin's id.
fn crash_with_sentry(options: ClientOptions) -> (Vec<Envelope>, Uuid) {
    let (admin, token) = user_as(Role::Admin);
    let envelopes = sentry::test::with_captured_envelopes_options(
        || {
            actix_rt::System::new().block_on(async {
                let db = TestDatabase::migrated();
                let app = TestApp::new(&db).service().await;
                let req = actix_web::test::TestRequest::post()
                    .uri("/api/v1/ops/actors/health/crash")
                    .insert_header(bearer(&token))
                    .insert_header(("x-request-id", "sentry-tags-test"))
                    .to_request();
                let res = actix_web::test::call_service(&app, req).await;
                assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            });
        },
        options,
    );
    (envelopes, admin)
}

fn events(envelopes: &[Envelope]) -> Vec<&Event<'static>> {
    envelopes.iter().filter_map(Envelope::event).collect()
}

fn transactions(envelopes: &[Envelope]) -> Vec<&Transaction<'static>> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::Transaction(transaction) => Some(&**transaction),
            _ => None,
        })
        .collect()
}

fn tag<'a>(tags: &'a std::collections::BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    tags.get(key).map(String::as_str)
}

#[test]
fn sentry_gets_the_request_tags_and_the_crashed_actor() {
    let (envelopes, admin) = crash_with_sentry(ClientOptions::default());
    let events = events(&envelopes);

    let actor: Vec<_> = events
        .iter()
        .filter(|event| event.tags.contains_key("actor"))
        .collect();
    assert_eq!(actor.len(), 1, "{events:#?}");
    assert_eq!(tag(&actor[0].tags, "actor"), Some("health"));
    assert_eq!(actor[0].level, sentry::Level::Error);

    let request: Vec<_> = events
        .iter()
        .filter(|event| event.tags.contains_key("request_id"))
        .collect();
    assert_eq!(request.len(), 1, "{events:#?}");
    let tags = &request[0].tags;
    assert_eq!(tag(tags, "request_id"), Some("sentry-tags-test"));
    assert_eq!(tag(tags, "route"), Some("/api/v1/ops/actors/{name}/crash"));
    assert_eq!(tag(tags, "user_id"), Some(admin.to_string().as_str()));
    let user = request[0].user.as_ref().expect("the event names its user");
    assert_eq!(user.id, Some(admin.to_string()));

    // Tracing is off by default: no transaction.
    assert!(transactions(&envelopes).is_empty());
}

#[test]
fn a_traces_sample_rate_sends_a_transaction_named_after_the_route() {
    let (envelopes, admin) = crash_with_sentry(ClientOptions::new().traces_sample_rate(1.0));
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), 1, "{envelopes:#?}");
    let transaction = transactions[0];
    assert_eq!(
        transaction.name.as_deref(),
        Some("POST /api/v1/ops/actors/{name}/crash")
    );
    assert_eq!(
        tag(&transaction.tags, "request_id"),
        Some("sentry-tags-test")
    );
    assert_eq!(
        tag(&transaction.tags, "user_id"),
        Some(admin.to_string().as_str())
    );
}

//! Category discovery and the model list over HTTP, with the real classifier and training
//! actors: clusters of the narrations sent or of the caller's own rows that need a category
//! (never another user's), the caller's trained models only, and every bad body a problem.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use scale_actors::training::fitting::TrainingOutput;
use scale_actors::training::queue;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{bearer, execute, expect, problem, send, user, TestApp};

const DISCOVER: &str = "/api/v1/categorization/discover";
const MODELS: &str = "/api/v1/categorization/models";

/// Every sample text of every cluster.
fn samples(answer: &Value) -> Vec<String> {
    answer["discovered_categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["sample_texts"].as_array().unwrap().clone())
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// Inserts `n` rows per payee for `user`: `PAYEE ORDER i` with `category` and `needs_review`.
async fn seed(db: &TestDatabase, user: Uuid, payees: &[&str], category: &str, review: bool) {
    execute(
        db,
        &format!("INSERT INTO users (id) VALUES ('{user}') ON CONFLICT DO NOTHING"),
    )
    .await;
    for payee in payees {
        execute(
            db,
            &format!(
                "INSERT INTO transactions (user_id, transaction_date, amount, type, description, \
                 category, needs_review, fingerprint, fingerprint_version) \
                 SELECT '{user}', DATE '2026-01-01' + g, -10 * g, 'debit', \
                        '{payee} ORDER ' || chr(64 + g), '{category}', {review}, \
                        md5(random()::text) || md5(random()::text), 2 \
                 FROM generate_series(1, 6) AS g"
            ),
        )
        .await;
    }
}

#[actix_rt::test]
async fn narrations_sent_are_grouped_and_described() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let mut descriptions = Vec::new();
    let mut amounts = Vec::new();
    for i in 0..6 {
        descriptions.push(format!(
            "UPI/DR/4123456{i:05}/SWIGGY/YESB/swiggy@ybl/Food {i}"
        ));
        amounts.push(json!(-100.0));
        descriptions.push(format!("UBER INDIA SYSTEMS RIDE {}", i + 1));
        amounts.push(Value::Null);
    }
    // Unknown fields are ignored.
    let body = json!({"descriptions": descriptions, "amounts": amounts, "n_clusters": 2,
                      "use_latest_model": true});
    let answer = expect(&app, Method::POST, DISCOVER, &token, Some(body), 200).await;
    assert_eq!(answer["total_descriptions"], 12);
    assert_eq!(answer["distinct_descriptions"], 12);
    assert_eq!(answer["n_clusters"], 2);
    let clusters = answer["discovered_categories"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    for (id, cluster) in clusters.iter().enumerate() {
        assert_eq!(cluster["cluster_id"], id);
        assert_eq!(cluster["count"], 6);
        let terms: Vec<&str> = cluster["top_terms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let swiggy = terms.contains(&"swiggy");
        assert!(swiggy != terms.contains(&"uber"), "{cluster}");
        assert_eq!(
            cluster["total_amount"],
            if swiggy { json!(-600.0) } else { Value::Null }
        );
        let confidence = cluster["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence));
        assert_eq!(cluster["is_known"], confidence > 0.7);
        assert!(cluster.get("centroid").is_none());
    }
}

#[actix_rt::test]
async fn without_narrations_the_callers_rows_that_need_a_category_are_grouped() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (me, mine) = user();
    let (other, theirs) = user();
    seed(&db, me, &["SWIGGY"], "Uncategorized", false).await;
    seed(&db, me, &["AMAZON"], "Shopping", true).await;
    seed(&db, me, &["NETFLIX"], "Entertainment", false).await;
    seed(&db, other, &["ZOMATO", "OLA"], "Uncategorized", true).await;
    let body = json!({"n_clusters": 2});
    let answer = expect(&app, Method::POST, DISCOVER, &mine, Some(body.clone()), 200).await;
    assert_eq!(answer["total_descriptions"], 12);
    let texts = samples(&answer);
    assert_eq!(texts.len(), 10, "{answer}");
    assert!(texts
        .iter()
        .all(|t| t.starts_with("SWIGGY") || t.starts_with("AMAZON")));
    // Newest first, with the stored amounts.
    let sums: Vec<f64> = answer["discovered_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["total_amount"].as_f64().unwrap())
        .collect();
    assert_eq!(sums, [-210.0, -210.0]);
    assert!(texts.contains(&"SWIGGY ORDER F".to_owned()));
    // The other user sees only their own rows.
    let answer = expect(
        &app,
        Method::POST,
        DISCOVER,
        &theirs,
        Some(body.clone()),
        200,
    )
    .await;
    assert!(samples(&answer)
        .iter()
        .all(|t| t.starts_with("ZOMATO") || t.starts_with("OLA")));
    // A user with nothing to review is told so.
    let (_, fresh) = user();
    let res = send(&app, Method::POST, DISCOVER, Some(&fresh), Some(body)).await;
    let body = problem(res, 400, "bad_request").await;
    assert_eq!(
        body["detail"],
        "No transactions are Uncategorized or need review"
    );
}

#[actix_rt::test]
async fn bad_discovery_bodies_are_problems() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let few: Vec<String> = (0..9)
        .map(|i| format!("shop {}", "x".repeat(i + 3)))
        .collect();
    let many = vec!["swiggy"; 10_001];
    let cases = [
        (json!({"descriptions": []}), 400, "bad_request"),
        (json!({"descriptions": few}), 400, "bad_request"),
        (json!({"descriptions": many}), 413, "payload_too_large"),
        (
            json!({"descriptions": ["ok", "nul\u{0}"]}),
            422,
            "validation",
        ),
        (
            json!({"descriptions": ["x".repeat(1_001)]}),
            422,
            "validation",
        ),
        (
            json!({"descriptions": ["a", "b"], "amounts": [1.0]}),
            422,
            "validation",
        ),
        (json!({"amounts": [1.0]}), 422, "validation"),
        (json!({"descriptions": "swiggy"}), 422, "validation"),
        (json!({"descriptions": [1, 2]}), 422, "validation"),
        (json!({"n_clusters": 0}), 422, "validation"),
        (json!({"n_clusters": 51}), 422, "validation"),
        (json!({"n_clusters": -1}), 422, "validation"),
        (json!({"n_clusters": 1e30}), 422, "validation"),
        (json!({"n_clusters": "five"}), 422, "validation"),
        (json!({"confidence_threshold": 1.5}), 422, "validation"),
        (json!({"confidence_threshold": -0.1}), 422, "validation"),
    ];
    for (body, status, code) in cases {
        let shown = body.to_string();
        let res = send(&app, Method::POST, DISCOVER, Some(&token), Some(body)).await;
        let answer = problem(res, status, code).await;
        if shown.contains("shop") {
            assert_eq!(answer["detail"], "Need at least 10 descriptions", "{shown}");
        }
        if shown == r#"{"descriptions":[]}"# {
            assert_eq!(answer["detail"], "No descriptions provided");
        }
    }
    let malformed = actix_web::test::TestRequest::post()
        .uri(DISCOVER)
        .insert_header(bearer(&token))
        .insert_header(("content-type", "application/json"))
        .set_payload("{\"descriptions\": [")
        .to_request();
    let res = actix_web::test::call_service(&app, malformed).await;
    problem(res, 400, "malformed_json").await;
    let res = send(&app, Method::POST, DISCOVER, None, Some(json!({}))).await;
    problem(res, 401, "missing_credentials").await;
}

/// Queues a `kind` job as `token` and completes it the way a worker does (claim, then store
/// the model and the final status in one transaction).
async fn completed_job<S, B>(app: &S, db: &TestDatabase, token: &str, kind: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let body = Some(json!({ "kind": kind }));
    let job = expect(app, Method::POST, "/api/v1/training/jobs", token, body, 202).await;
    let pool = scale_schema::connect(&db.url(), 1, Duration::from_secs(10));
    let claim = queue::claim(&pool, Duration::from_secs(60))
        .await
        .unwrap()
        .expect("the queued job");
    assert_eq!(claim.view.id.to_string(), job["id"].as_str().unwrap());
    let output = TrainingOutput {
        metrics: json!({"accuracy": 0.9, "kind": kind}),
        artefact: vec![7; 1234],
        format: "test-model-v1+bytes",
    };
    let done = queue::complete(&pool, &claim.lease, &output).await.unwrap();
    assert_eq!(done.unwrap().status, "completed");
    job["id"].as_str().unwrap().to_owned()
}

#[actix_rt::test]
async fn models_are_the_callers_newest_first_without_their_bytes() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (_, mine) = user();
    let (_, theirs) = user();
    let empty = expect(&app, Method::GET, MODELS, &mine, None, 200).await;
    assert_eq!(empty, json!({"models": []}));
    let categorizer = completed_job(&app, &db, &mine, "categorizer").await;
    let forecaster = completed_job(&app, &db, &mine, "forecaster").await;
    let listed = expect(&app, Method::GET, MODELS, &mine, None, 200).await;
    let models = listed["models"].as_array().unwrap();
    assert_eq!(models.len(), 2, "{listed}");
    assert_eq!(models[0]["job_id"], forecaster.as_str());
    assert_eq!(models[0]["kind"], "forecaster");
    let model = &models[1];
    assert_eq!(model["job_id"], categorizer.as_str());
    assert_eq!(model["kind"], "categorizer");
    assert_eq!(model["format"], "test-model-v1+bytes");
    assert_eq!(model["size_bytes"], 1234);
    assert_eq!(model["metrics"]["accuracy"], 0.9);
    assert!(model["id"].is_string() && model["created_at"].is_string());
    let mut fields: Vec<&String> = model.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "created_at",
            "format",
            "id",
            "job_id",
            "kind",
            "metrics",
            "size_bytes"
        ]
    );
    // Another user never sees them.
    let other = expect(&app, Method::GET, MODELS, &theirs, None, 200).await;
    assert_eq!(other, json!({"models": []}));
    let res = send(&app, Method::GET, MODELS, None, None).await;
    problem(res, 401, "missing_credentials").await;
}

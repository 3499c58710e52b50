//! End-to-end forecast refresh across real `scale serve` processes sharing one database and one
//! Redis: an API process answers safe-to-spend from a model fitted on request and caches it; a
//! worker process completes a forecaster job; the API process hears of it on the job bus and
//! its next answer comes from the new model (`source`, `model_job_id`).

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{Server, SECRET};
use crate::e2e_training::until_bus_live;

/// A grocery bill on each of the 30 days up to today.
fn history() -> Vec<Value> {
    let today = Utc::now().date_naive();
    (0..30u64)
        .map(|ago| {
            let amount = format!("-{}", 250 + (ago * 41) % 300);
            json!({"date": (today - Days::new(ago)).to_string(), "description": "CORNER GROCER", "amount": amount})
        })
        .collect()
}

async fn safe_to_spend(server: &Server, token: &str) -> Value {
    let res = server.get_as(token, "/forecast/safe-to-spend").await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_forecaster_job_completed_by_a_worker_refreshes_the_cached_answer() {
    let db = TestDatabase::migrated();
    let prefix = format!("scale-e2e-{}:", Uuid::new_v4());
    let api = Server::start_with(
        &["serve", "--role", "api"],
        &db.url(),
        &[("REDIS_KEY_PREFIX", prefix.as_str())],
    );
    let worker = Server::start_with(
        &["serve", "--role", "worker"],
        &db.url(),
        &[("REDIS_KEY_PREFIX", &prefix), ("TRAINING_POLL_MS", "100")],
    );
    for server in [&api, &worker] {
        until_bus_live(server).await;
    }
    let user = Uuid::new_v4();
    let token = scale_http::auth::mint_token(SECRET, user, scale_http::auth::Role::User, 600);

    let res = api
        .http
        .post(format!("{}/ingest/import", api.base))
        .bearer_auth(&token)
        .json(&json!({"transactions": history()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let fitted = safe_to_spend(&api, &token).await;
    assert_eq!(fitted["source"], "fitted_on_request", "{fitted}");
    assert!(fitted["model_job_id"].is_null());
    // Cached: the same answer again.
    assert_eq!(safe_to_spend(&api, &token).await, fitted);

    let res = api
        .http
        .post(format!("{}/training/jobs", api.base))
        .bearer_auth(&token)
        .json(&json!({"kind": "forecaster"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let job: Value = res.json().await.unwrap();
    let job_id = job["id"]
        .as_str()
        .or(job["job_id"].as_str())
        .unwrap()
        .to_owned();

    let deadline = Instant::now() + Duration::from_secs(60);
    let trained = loop {
        let answer = safe_to_spend(&api, &token).await;
        if answer["source"] == "trained_model" {
            break answer;
        }
        assert!(Instant::now() < deadline, "the API kept {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(trained["model_job_id"], job_id.as_str());
    assert_eq!(trained["days_analyzed"], fitted["days_analyzed"]);
    assert!(trained["explanation"]["text"].is_string());
}

//! End-to-end learning loop across real `scale serve` processes sharing one database and one
//! Redis: a correction made on one API process answers `user` on another; ten corrections
//! queue one categorizer job that a worker process runs; its completion re-categorises the
//! user's rows (never the ones set by hand) and reaches the user's WebSocket as a
//! `recategorized` message; a new user's `/training/upload` completes.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use tokio_postgres::NoTls;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::common::{Server, SECRET};
use crate::e2e_training::{next_text, until_bus_live};

async fn post(server: &Server, token: &str, path: &str, body: Value) -> Value {
    let (status, answer) = server.post_json_as(token, path, &body).await;
    assert!(status.is_success(), "POST {path}: {status}");
    answer
}

async fn classify(server: &Server, token: &str, description: &str) -> Value {
    let body = json!({"description": description, "amount": -500.0});
    post(server, token, "/categorization/classify", body).await
}

#[tokio::test]
async fn corrections_reach_every_process_and_a_completed_job_recategorises_over_the_websocket() {
    let db = TestDatabase::migrated();
    let prefix = format!("scale-e2e-{}:", Uuid::new_v4());
    let shared = [("REDIS_KEY_PREFIX", prefix.as_str())];
    let api = Server::start_with(&["serve", "--role", "api"], &db.url(), &shared);
    let other = Server::start_with(&["serve", "--role", "api"], &db.url(), &shared);
    let worker = Server::start_with(
        &["serve", "--role", "worker"],
        &db.url(),
        &[("REDIS_KEY_PREFIX", &prefix), ("TRAINING_POLL_MS", "100")],
    );
    for server in [&api, &other, &worker] {
        until_bus_live(server).await;
    }
    let user = Uuid::new_v4();
    let token = scale_http::auth::mint_token(SECRET, user, scale_http::auth::Role::User, 600);

    // A mixed statement: rules, the model and the fallback decide.
    let rows = [
        (
            "2025-03-01",
            "UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym",
            "-320",
        ),
        ("2025-03-02", "KAVERI TEXTILE MILLS 55667788", "-2100"),
        ("2025-03-03", "KAVERI TEXTILE MILLS 99887766", "-1800"),
        ("2025-03-04", "42", "-15"),
    ];
    let transactions: Vec<Value> = rows
        .iter()
        .map(|(date, description, amount)| json!({"date": date, "description": description, "amount": amount}))
        .collect();
    let imported = post(
        &api,
        &token,
        "/ingest/import",
        json!({"transactions": transactions}),
    )
    .await;
    assert_eq!(imported["inserted"], 4);
    let (pg, connection) = tokio_postgres::connect(&db.url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    let sources: Vec<String> = pg
        .query(
            "SELECT category_source FROM transactions WHERE user_id = $1 ORDER BY transaction_date",
            &[&user],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(sources[0], "rule");
    assert_eq!(sources[3], "fallback");
    assert!(
        sources[1] == "model" || sources[1] == "fallback",
        "{sources:?}"
    );

    // The other process caches the user's (empty) layer, then hears of the correction.
    let text = "KAVERI TEXTILE MILLS 11223344";
    assert_ne!(classify(&other, &token, text).await["source"], "user");
    post(
        &api,
        &token,
        "/categorization/feedback",
        json!({"corrections": {text: "Clothing"}}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = classify(&other, &token, text).await;
        if answer["source"] == "user" {
            assert_eq!(answer["category"], "Clothing");
            break;
        }
        assert!(Instant::now() < deadline, "the other process kept {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The fallback row is set by hand: re-categorisation must leave it.
    let manual: Uuid = pg
        .query_one(
            "SELECT id FROM transactions WHERE user_id = $1 AND description = '42'",
            &[&user],
        )
        .await
        .unwrap()
        .get(0);
    let res = api
        .http
        .patch(format!(
            "{}/categorization/transactions/{manual}/category",
            api.base
        ))
        .bearer_auth(&token)
        .json(&json!({"category": "Misc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let url = format!("{}/ws/jobs", other.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let handshake = Duration::from_secs(5);
    assert_eq!(next_text(&mut ws, handshake).await["type"], "authenticated");
    ws.send(Message::text(
        json!({"type": "subscribe", "all": true}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next_text(&mut ws, handshake).await["type"], "subscribed");

    // Two corrections so far; eight more make ten and queue the job.
    let eight: serde_json::Map<String, Value> = (0..8)
        .map(|i| (format!("KAVERI TEXTILE OUTLET {i}"), json!("Clothing")))
        .collect();
    let answer = post(
        &api,
        &token,
        "/categorization/feedback",
        json!({"corrections": eight}),
    )
    .await;
    let job = answer["training_job_id"]
        .as_str()
        .expect("ten corrections queue a job")
        .to_owned();

    let recategorized = loop {
        let message = next_text(&mut ws, Duration::from_secs(60)).await;
        assert_eq!(message["job_id"], job, "{message}");
        assert_ne!(message["status"], "failed", "{message}");
        if message["type"] == "recategorized" {
            break message;
        }
    };
    assert_eq!(recategorized["status"], "completed");
    assert!(
        recategorized["metrics"]["recategorized"].as_u64().unwrap() >= 2,
        "{recategorized}"
    );
    let rows: Vec<(String, String, String)> = pg
        .query("SELECT description, category, category_source FROM transactions WHERE user_id = $1 ORDER BY transaction_date", &[&user])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!((rows[0].1.as_str(), rows[0].2.as_str()), ("Food", "rule"));
    for row in &rows[1..3] {
        assert_eq!(
            (row.1.as_str(), row.2.as_str()),
            ("Clothing", "user"),
            "{row:?}"
        );
    }
    assert_eq!((rows[3].1.as_str(), rows[3].2.as_str()), ("Misc", "manual"));
}

#[tokio::test]
async fn a_new_users_training_upload_completes() {
    let db = TestDatabase::migrated();
    let prefix = format!("scale-e2e-{}:", Uuid::new_v4());
    let server = Server::start_with(
        &["serve"],
        &db.url(),
        &[("REDIS_KEY_PREFIX", &prefix), ("TRAINING_POLL_MS", "100")],
    );
    let token =
        scale_http::auth::mint_token(SECRET, Uuid::new_v4(), scale_http::auth::Role::User, 600);
    // Nothing a rule or a person labelled: the job completes on the rules and global model.
    let csv = "Date,Description,Amount\n2025-03-01,zq,-15\n2025-03-02,xv,-20\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("statement.csv"),
    );
    let res = server
        .http
        .post(format!("{}/training/upload", server.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let job = body["job_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let view: Value = server
            .get_as(&token, &format!("/training/jobs/{job}"))
            .await
            .json()
            .await
            .unwrap();
        if view["status"] == "completed" || view["status"] == "failed" {
            break view;
        }
        assert!(Instant::now() < deadline, "still {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["metrics"]["model"], "rules+global", "{done}");
}

#[tokio::test]
async fn a_new_brain_in_the_categorizer_directory_is_swapped_in_while_serving() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("brain-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = include_str!("../../actors/data/categorization/rules.toml");
    std::fs::write(dir.join("rules.toml"), rules).unwrap();
    std::fs::write(
        dir.join("global.bin"),
        include_bytes!("../../actors/data/categorization/global.bin"),
    )
    .unwrap();

    let missing = dir.join("missing");
    let out = crate::common::cli(
        &["serve"],
        &[("CATEGORIZER_DIR", missing.to_str().unwrap())],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CATEGORIZER_DIR"),
        "{out:?}"
    );

    let db = TestDatabase::migrated();
    let server = Server::start(
        &db.url(),
        &[
            ("CATEGORIZER_DIR", dir.to_str().unwrap()),
            ("CATEGORIZER_RELOAD_SECS", "1"),
        ],
    );
    let token =
        scale_http::auth::mint_token(SECRET, Uuid::new_v4(), scale_http::auth::Role::User, 600);
    let text = "ZENOBIA QUARTZ AGENCIES";
    assert_ne!(classify(&server, &token, text).await["source"], "rule");

    let rule =
        "rules = [\n  { pattern = \"zenobia quartz\", category = \"Shopping\", match = \"word\" },";
    std::fs::write(dir.join("rules.toml"), rules.replacen("rules = [", rule, 1)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = classify(&server, &token, text).await;
        if answer["source"] == "rule" {
            assert_eq!(answer["category"], "Shopping");
            break;
        }
        assert!(Instant::now() < deadline, "never swapped: {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A broken version is refused; the current one keeps serving.
    std::fs::write(dir.join("rules.toml"), "not = [toml").unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(classify(&server, &token, text).await["source"], "rule");
    std::fs::remove_dir_all(dir).unwrap();
}

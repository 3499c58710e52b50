//! End-to-end training jobs: several real `scale serve` processes sharing one database. Three
//! workers process 200 jobs exactly once; a worker killed with SIGKILL mid-job leaves a job
//! that another worker retries once its lease expires, never one stuck in `processing`; a
//! worker stopped with SIGTERM hands its running job straight back.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use scale_schema::testing::TestDatabase;
use serde_json::Value;
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

use crate::common::{admin_token, Server, SECRET};

/// Users with 45 days of labelled history and corrections each.
const SEED: &str = include_str!("../../actors/tests/fixtures/training_users.sql");

/// A superuser connection to the test database (row-level security does not apply).
async fn admin(db: &TestDatabase) -> Client {
    let (client, connection) = tokio_postgres::connect(&db.url(), NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Seeds `n` users and queues one job each (categorizer and forecaster alternately).
async fn queue_jobs(client: &Client, n: usize, max_attempts: i32) -> Vec<Uuid> {
    let users: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    client.execute(SEED, &[&users]).await.unwrap();
    let rows = client
        .query(
            "INSERT INTO training_jobs (user_id, kind, max_attempts) \
             SELECT u, CASE WHEN i % 2 = 0 THEN 'categorizer' ELSE 'forecaster' END, $2 \
             FROM unnest($1::uuid[]) WITH ORDINALITY AS t (u, i) RETURNING id",
            &[&users, &max_attempts],
        )
        .await
        .unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

/// Polls until no job is pending or processing (deadline `within`).
async fn until_all_final(client: &Client, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let open: i64 = client
            .query_one(
                "SELECT count(*) FROM training_jobs WHERE status IN ('pending', 'processing')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{open} jobs still open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each job's logged statuses in order, consecutive repeats collapsed, comma-joined.
async fn paths(client: &Client) -> BTreeMap<Uuid, String> {
    let rows = client
        .query(
            "SELECT job_id, array_agg(status ORDER BY seq) FROM training_job_events GROUP BY job_id",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let mut statuses: Vec<String> = row.get(1);
            statuses.dedup();
            (row.get(0), statuses.join(","))
        })
        .collect()
}

/// The process id in a lease token (`pid:uuid`).
fn lease_pid(owner: &str) -> u32 {
    owner.split_once(':').unwrap().0.parse().unwrap()
}

async fn actor_names(server: &Server, token: &str) -> Vec<String> {
    let listing: Value = server
        .http
        .get(format!("{}/ops/actors", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listing["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the job's first step is stored (fitting then pauses on the chaos step delay);
/// returns the pid of the worker running it.
async fn until_mid_job(client: &Client, job: Uuid) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = client
            .query_one(
                "SELECT status, step, lease_owner FROM training_jobs WHERE id = $1",
                &[&job],
            )
            .await
            .unwrap();
        let (status, step): (&str, i32) = (row.get(0), row.get(1));
        if status == "processing" && step >= 1 {
            return lease_pid(row.get(2));
        }
        assert!(Instant::now() < deadline, "the job never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A worker whose fits pause for ten minutes after their first step.
fn stalling_worker(db: &TestDatabase, env: &[(&str, &str)]) -> Server {
    let mut all = vec![
        ("CHAOS_ENABLED", "true"),
        ("CHAOS_TRAINING_STEP_DELAY_MS", "600000"),
    ];
    all.extend_from_slice(env);
    worker(db, &all)
}

fn worker(db: &TestDatabase, env: &[(&str, &str)]) -> Server {
    let mut all = vec![("DB_POOL_SIZE", "5"), ("TRAINING_POLL_MS", "100")];
    all.extend_from_slice(env);
    Server::start_with(&["serve", "--role", "worker"], &db.url(), &all)
}

#[tokio::test]
async fn three_workers_process_200_jobs_exactly_once() {
    let db = TestDatabase::migrated();
    let client = admin(&db).await;
    let api = Server::start_with(
        &["serve", "--role", "api"],
        &db.url(),
        &[("DB_POOL_SIZE", "3")],
    );
    let workers: Vec<Server> = (0..3)
        .map(|_| worker(&db, &[("TRAINING_WORKERS", "2")]))
        .collect();
    // Queued once every process is up, so all three race for them.
    let jobs = queue_jobs(&client, 200, 3).await;

    let token = admin_token();
    assert!(!actor_names(&api, &token)
        .await
        .contains(&"training-scheduler".to_owned()));
    let ready: Value = workers[0].get("/health/ready").await.json().await.unwrap();
    assert!(ready.to_string().contains("training-scheduler"), "{ready}");

    until_all_final(&client, Duration::from_secs(180)).await;
    let rows = client
        .query(
            "SELECT j.id, j.status, j.attempts, j.lease_owner, \
                    (SELECT count(*) FROM training_models m WHERE m.job_id = j.id) \
             FROM training_jobs j",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 200);
    let paths = paths(&client).await;
    let worker_pids: HashSet<u32> = workers.iter().map(|w| w.child.id()).collect();
    let mut ran_by = HashSet::new();
    for row in &rows {
        let id: Uuid = row.get(0);
        let status: &str = row.get(1);
        let attempts: i32 = row.get(2);
        let models: i64 = row.get(4);
        assert_eq!((status, attempts, models), ("completed", 1, 1), "job {id}");
        assert_eq!(paths[&id], "pending,processing,completed", "job {id}");
        let pid = lease_pid(row.get(3));
        assert!(worker_pids.contains(&pid), "job {id} ran outside a worker");
        ran_by.insert(pid);
    }
    assert!(jobs.iter().all(|id| paths.contains_key(id)));
    assert!(ran_by.len() >= 2, "one worker took every job: {ran_by:?}");
}

#[tokio::test]
async fn a_job_of_a_sigkilled_worker_is_retried_after_its_lease_expires() {
    let db = TestDatabase::migrated();
    let client = admin(&db).await;
    let job = queue_jobs(&client, 1, 3).await[0];
    let lease = [
        ("TRAINING_LEASE_SECS", "2"),
        ("TRAINING_BACKOFF_BASE_MS", "100"),
    ];
    let mut doomed = stalling_worker(&db, &lease);
    assert_eq!(until_mid_job(&client, job).await, doomed.child.id());
    doomed.child.kill().unwrap(); // SIGKILL: no drain, the lease just stops being renewed
    doomed.child.wait().unwrap();

    let survivor = worker(&db, &lease);
    until_all_final(&client, Duration::from_secs(60)).await;
    let row = client
        .query_one(
            "SELECT status, attempts, lease_owner FROM training_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    let (status, attempts): (&str, i32) = (row.get(0), row.get(1));
    assert_eq!((status, attempts), ("completed", 2));
    assert_eq!(lease_pid(row.get(2)), survivor.child.id());
    let paths = paths(&client).await;
    assert_eq!(
        paths[&job],
        "pending,processing,pending,processing,completed"
    );
    let reaped: i64 = client
        .query_one(
            "SELECT count(*) FROM training_job_events \
             WHERE job_id = $1 AND message = 'attempt 1 failed: lease expired; retrying'",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reaped, 1);
}

#[tokio::test]
async fn a_worker_stopped_with_sigterm_hands_its_running_job_back() {
    let db = TestDatabase::migrated();
    let client = admin(&db).await;
    let job = queue_jobs(&client, 1, 3).await[0];
    let mut stopping = stalling_worker(&db, &[]);
    let pid = until_mid_job(&client, job).await;
    assert_eq!(pid, stopping.child.id());
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = stopping.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the worker did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit}");
    let row = client
        .query_one(
            "SELECT status, attempts, message, lease_owner FROM training_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    let (status, attempts, message): (&str, i32, &str) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((status, attempts), ("pending", 0));
    assert_eq!(message, "released by a stopping worker");
    assert_eq!(row.get::<_, Option<&str>>(3), None);
}

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text message, which must come `within`.
pub(crate) async fn next_text(ws: &mut Ws, within: Duration) -> Value {
    use futures_util::StreamExt;
    loop {
        let message = tokio::time::timeout(within, ws.next())
            .await
            .unwrap_or_else(|_| panic!("nothing within {within:?}"))
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Polls `/health/ready` until the server's job event bus runs through Redis.
pub(crate) async fn until_bus_live(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.ready_becomes(reqwest::StatusCode::OK).await.1["events"] != "redis" {
        assert!(Instant::now() < deadline, "the bus never went live");
    }
}

#[tokio::test]
async fn a_websocket_on_the_api_process_gets_every_event_of_a_job_run_by_a_worker_in_order_within_200ms(
) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let db = TestDatabase::migrated();
    let client = admin(&db).await;
    let prefix = format!("scale-e2e-{}:", Uuid::new_v4());
    let shared = [("REDIS_KEY_PREFIX", prefix.as_str())];
    let api = Server::start_with(&["serve", "--role", "api"], &db.url(), &shared);
    // Steps 50 ms apart, so each event is timed on its own rather than in a burst.
    let worker = worker(
        &db,
        &[
            ("REDIS_KEY_PREFIX", &prefix),
            ("CHAOS_ENABLED", "true"),
            ("CHAOS_TRAINING_STEP_DELAY_MS", "50"),
        ],
    );
    until_bus_live(&api).await;
    until_bus_live(&worker).await;

    let user = Uuid::new_v4();
    client.execute(SEED, &[&vec![user]]).await.unwrap();
    let token = scale_http::auth::mint_token(SECRET, user, scale_http::auth::Role::User, 600);
    let url = format!("{}/ws/jobs", api.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("bearer, {token}").parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let handshake = Duration::from_secs(5);
    assert_eq!(next_text(&mut ws, handshake).await["type"], "authenticated");
    let subscribe = serde_json::json!({"type": "subscribe", "all": true});
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    assert_eq!(next_text(&mut ws, handshake).await["type"], "subscribed");

    let created: Value = api
        .http
        .post(format!("{}/training/jobs", api.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"kind": "forecaster"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job: Uuid = created["id"].as_str().unwrap().parse().unwrap();

    let mut seqs = Vec::new();
    let mut worst = Duration::ZERO;
    loop {
        let event = next_text(&mut ws, Duration::from_secs(30)).await;
        let received = chrono::Utc::now();
        assert_eq!(event["type"], "event", "{event}");
        assert_eq!(event["job_id"], job.to_string());
        // `at` is the changing transaction's start: an upper bound of the delivery time.
        let at: chrono::DateTime<chrono::Utc> = event["at"].as_str().unwrap().parse().unwrap();
        worst = worst.max((received - at).to_std().unwrap_or_default());
        seqs.push(event["seq"].as_i64().unwrap());
        if event["status"] == "completed" || event["status"] == "failed" {
            assert_eq!(event["status"], "completed", "{event}");
            break;
        }
    }
    let logged: i64 = client
        .query_one(
            "SELECT count(*) FROM training_job_events WHERE job_id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    assert!(logged >= 4, "a run logs several steps, got {logged}");
    assert_eq!(
        seqs,
        (1..=logged).collect::<Vec<_>>(),
        "every event, in order"
    );
    let owner: String = client
        .query_one(
            "SELECT lease_owner FROM training_jobs WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(lease_pid(&owner), worker.child.id(), "the worker ran it");
    assert!(
        worst <= Duration::from_millis(200),
        "slowest event took {worst:?}"
    );
}

/// `services.workers` of `GET /health` once it equals `want` (deadline 30 s); returns the body.
async fn until_workers(server: &Server, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body: Value = server
            .http
            .get(format!("{}/health", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["services"]["workers"] == want {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "workers never became {want}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_api_process_reports_workers_from_the_job_table_not_by_assumption() {
    let db = TestDatabase::migrated();
    let client = admin(&db).await;
    let api = Server::start_with(&["serve", "--role", "api"], &db.url(), &[]);

    let idle = until_workers(&api, "unknown").await;
    assert_eq!(idle["process"]["role"], "api");
    assert!(idle["process"]["scheduler"].is_null(), "{idle}");
    assert!(idle["workers"]["last_claim_at"].is_null(), "{idle}");

    // A job due for five minutes that nobody claimed: no worker is serving the queue.
    let job = queue_jobs(&client, 1, 3).await[0];
    client
        .execute(
            "UPDATE training_jobs SET run_after = now() - interval '5 minutes' WHERE id = $1",
            &[&job],
        )
        .await
        .unwrap();
    let stuck = until_workers(&api, "down").await;
    assert!(stuck["workers"]["oldest_due_since"].is_string(), "{stuck}");

    // A worker in another process claims it: the api process sees it through the job table.
    let _worker = worker(&db, &[]);
    let up = until_workers(&api, "up").await;
    assert!(up["workers"]["last_claim_at"].is_string(), "{up}");
    assert!(up["process"]["scheduler"].is_null(), "{up}");
}

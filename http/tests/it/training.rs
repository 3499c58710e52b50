//! The training-jobs API over HTTP with the real training, ingest and cache actors, a fresh
//! database and Redis prefix per test, and no worker: job changes a worker would make are
//! driven with SQL plus a publish of `view.event()`, as the contract says. Covers queueing and
//! the one-active-job rule, keyset pagination, cancellation, the Server-Sent Events stream
//! (replay after `Last-Event-ID`, live events, gaps, end after a final status), the old web
//! client's routes, the job cache, and a cross-user matrix over every route.

use std::collections::HashSet;
use std::future::poll_fn;
use std::pin::Pin;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::test;
use actix_web::web::Bytes;
use scale_actors::cache::service::Get;
use scale_actors::events::JobEvent;
use scale_actors::jobs::JobStatus;
use scale_actors::training::service::GetJob;
use scale_http::AppState;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{
    bearer, execute, expect, fixture, multipart, problem, scalar, send, user, TestApp,
};

const JOBS: &str = "/api/v1/training/jobs";

fn id_of(job: &Value) -> Uuid {
    Uuid::parse_str(job["id"].as_str().or(job["job_id"].as_str()).unwrap()).unwrap()
}

/// `POST /training/jobs` as `token`, expecting `status`.
async fn create<S, B>(app: &S, token: &str, kind: &str, status: u16) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let body = Some(json!({ "kind": kind }));
    expect(app, Method::POST, JOBS, token, body, status).await
}

/// A worker's change of job `id`, committed with SQL and published like a worker does.
async fn worker_sets(db: &TestDatabase, state: &AppState, user: Uuid, id: Uuid, set: &str) {
    execute(
        db,
        &format!("UPDATE training_jobs SET {set} WHERE id = '{id}'"),
    )
    .await;
    let view = state
        .training
        .ask(GetJob { user, id })
        .await
        .unwrap()
        .unwrap();
    state.events.publish(view.event()).await;
}

const CLAIM: &str = "status = 'processing', lease_owner = 'w1', \
    lease_until = now() + interval '1 minute', attempts = 1, started_at = now()";

fn step(n: u32) -> String {
    format!(
        "step = {n}, total = 4, progress = {}, message = 'step {n}'",
        f64::from(n) / 4.0
    )
}

#[actix_rt::test]
async fn one_active_job_per_kind() {
    let db = TestDatabase::migrated();
    let (_, app) = TestApp::new(&db).start().await;
    let (me, token) = user();

    let res = send(
        &app,
        Method::POST,
        JOBS,
        Some(&token),
        Some(json!({"kind": "categorizer"})),
    )
    .await;
    assert_eq!(res.status().as_u16(), 202);
    let first: Value = test::read_body_json(res).await;
    assert_eq!(first["status"], "pending");
    assert_eq!(first["kind"], "categorizer");
    assert_eq!(first["user_id"], me.to_string());
    assert_eq!(first["event_seq"], 1);
    assert_eq!(first["max_attempts"], 3);

    let res = send(
        &app,
        Method::POST,
        JOBS,
        Some(&token),
        Some(json!({"kind": "categorizer"})),
    )
    .await;
    let body = problem(res, 409, "job_active").await;
    assert_eq!(body["job_id"], first["id"]);

    let other = create(&app, &token, "forecaster", 202).await;
    assert_ne!(other["id"], first["id"]);
    let limited = Some(json!({"kind": "forecaster", "max_attempts": 1}));
    let (_, someone) = user();
    let job = expect(&app, Method::POST, JOBS, &someone, limited, 202).await;
    assert_eq!(job["max_attempts"], 1);

    // Once the first is cancelled, a new job of its kind may be queued.
    let cancel = format!("{JOBS}/{}/cancel", first["id"].as_str().unwrap());
    expect(&app, Method::POST, &cancel, &token, None, 200).await;
    let second = create(&app, &token, "categorizer", 202).await;
    assert_ne!(second["id"], first["id"]);

    for (body, code) in [
        (json!({"kind": "translator"}), "validation"),
        (json!({"kind": "Categorizer"}), "validation"),
        (json!({}), "validation"),
        (
            json!({"kind": "forecaster", "max_attempts": 0}),
            "validation",
        ),
        (
            json!({"kind": "forecaster", "max_attempts": 11}),
            "validation",
        ),
        (json!({"kind": "forecaster", "priority": 1}), "validation"),
    ] {
        let res = send(&app, Method::POST, JOBS, Some(&token), Some(body)).await;
        problem(res, 422, code).await;
    }
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(JOBS)
            .insert_header(bearer(&token))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{\"kind\":")
            .to_request(),
    )
    .await;
    problem(res, 400, "malformed_json").await;
    let res = send(
        &app,
        Method::POST,
        JOBS,
        None,
        Some(json!({"kind": "forecaster"})),
    )
    .await;
    assert_eq!(res.status().as_u16(), 401);
}

#[actix_rt::test]
async fn list_is_keyset_paginated_and_stable() {
    let db = TestDatabase::migrated();
    let (_, app) = TestApp::new(&db).start().await;
    let (me, token) = user();
    // 25 finished jobs, three per minute (same created_at: the id breaks the tie).
    execute(&db, &format!("INSERT INTO users (id) VALUES ('{me}')")).await;
    execute(
        &db,
        &format!(
            "INSERT INTO training_jobs (user_id, kind, status, created_at) \
             SELECT '{me}', CASE WHEN g % 5 = 0 THEN 'forecaster' ELSE 'categorizer' END, \
                    CASE WHEN g % 2 = 0 THEN 'failed' ELSE 'completed' END, \
                    date_trunc('minute', now()) - (g / 3) * interval '1 minute' \
             FROM generate_series(1, 25) g"
        ),
    )
    .await;
    let expected: Vec<String> = scalar(
        &db,
        &format!(
            "(SELECT string_agg(id::text, ',' ORDER BY created_at DESC, id DESC) \
              FROM training_jobs WHERE user_id = '{me}')"
        ),
    )
    .await
    .split(',')
    .map(str::to_owned)
    .collect();

    let mut seen = Vec::new();
    let mut path = format!("{JOBS}?limit=10");
    loop {
        let page = expect(&app, Method::GET, &path, &token, None, 200).await;
        seen.extend(
            page["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_str().unwrap().to_owned()),
        );
        if seen.len() == 10 {
            // A job queued mid-traversal is newer than the cursor: later pages do not shift.
            create(&app, &token, "categorizer", 202).await;
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{JOBS}?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    let all = expect(&app, Method::GET, JOBS, &token, None, 200).await;
    assert_eq!(all["jobs"].as_array().unwrap().len(), 20);
    assert_eq!(all["jobs"][0]["status"], "pending");
    let forecasters = expect(
        &app,
        Method::GET,
        &format!("{JOBS}?kind=forecaster&status=failed&limit=100"),
        &token,
        None,
        200,
    )
    .await;
    let jobs = forecasters["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2); // g = 10, 20
    assert!(jobs
        .iter()
        .all(|j| j["kind"] == "forecaster" && j["status"] == "failed"));
    assert_eq!(forecasters["next_cursor"], Value::Null);

    for (query, status, code) in [
        ("cursor=garbage", 400, "invalid_cursor"),
        ("limit=0", 422, "validation"),
        ("limit=101", 422, "validation"),
        ("status=done", 422, "validation"),
        ("kind=all", 422, "validation"),
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{JOBS}?{query}"),
            Some(&token),
            None,
        )
        .await;
        problem(res, status, code).await;
    }
}

#[actix_rt::test]
async fn cancel_pending_running_and_finished_jobs() {
    let db = TestDatabase::migrated();
    let (state, app) = TestApp::new(&db).start().await;
    let (me, token) = user();
    let mut bus = state.events.subscribe();

    let job = create(&app, &token, "categorizer", 202).await;
    let id = id_of(&job);
    assert_eq!(bus.recv().await.unwrap().seq, 1);
    let cancel = format!("{JOBS}/{id}/cancel");
    let cancelled = expect(&app, Method::POST, &cancel, &token, None, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["finished_at"].is_string());
    assert_eq!(cancelled["event_seq"], 2);
    let event = bus.recv().await.unwrap();
    assert_eq!(
        (event.job_id, event.user_id, event.seq, event.status),
        (id, me, 2, JobStatus::Cancelled)
    );
    let logged = format!("(SELECT count(*) FROM training_job_events WHERE job_id = '{id}')");
    assert_eq!(scalar(&db, &logged).await, "2");
    let res = send(&app, Method::POST, &cancel, Some(&token), None).await;
    problem(res, 409, "job_finished").await;

    // A running job is cancelled directly; the worker notices through its fenced writes.
    let running = id_of(&create(&app, &token, "forecaster", 202).await);
    worker_sets(&db, &state, me, running, CLAIM).await;
    let path = format!("{JOBS}/{running}/cancel");
    let cancelled = expect(&app, Method::POST, &path, &token, None, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    let fenced = format!(
        "(SELECT count(*) FROM training_jobs WHERE id = '{running}' \
          AND status = 'processing' AND lease_owner = 'w1')"
    );
    assert_eq!(scalar(&db, &fenced).await, "0");

    let done = id_of(&create(&app, &token, "categorizer", 202).await);
    execute(
        &db,
        &format!("UPDATE training_jobs SET status = 'completed' WHERE id = '{done}'"),
    )
    .await;
    let res = send(
        &app,
        Method::POST,
        &format!("{JOBS}/{done}/cancel"),
        Some(&token),
        None,
    )
    .await;
    problem(res, 409, "job_finished").await;
}

/// One parsed SSE event.
#[derive(Debug)]
struct Frame {
    id: i64,
    event: String,
    data: Value,
}

/// Reads SSE events from a streaming response body.
struct SseReader<B> {
    body: Pin<Box<B>>,
    buffer: String,
}

impl<B: MessageBody> SseReader<B> {
    fn new(res: ServiceResponse<B>) -> Self {
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/event-stream"
        );
        Self {
            body: Box::pin(res.into_body()),
            buffer: String::new(),
        }
    }

    async fn chunk(&mut self) -> Option<Bytes> {
        let next = poll_fn(|cx| self.body.as_mut().poll_next(cx));
        tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .expect("no SSE data within 10 s")
            .map(|chunk| chunk.map_err(Into::into).unwrap())
    }

    /// The next event (comments skipped); `None` once the stream ended.
    async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut frame = Frame {
                    id: -1,
                    event: String::new(),
                    data: Value::Null,
                };
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        frame.id = v.parse().unwrap();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        frame.event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        frame.data = serde_json::from_str(v).unwrap();
                    }
                }
                if frame.id >= 0 {
                    return Some(frame);
                }
                continue;
            }
            let chunk = self.chunk().await?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[actix_rt::test]
async fn event_stream_replays_follows_and_ends() {
    let db = TestDatabase::migrated();
    let (state, app) = TestApp::new(&db).start().await;
    let (me, token) = user();
    let id = id_of(&create(&app, &token, "categorizer", 202).await);
    worker_sets(&db, &state, me, id, CLAIM).await; // seq 2
    worker_sets(&db, &state, me, id, &step(1)).await; // seq 3
    worker_sets(&db, &state, me, id, &step(2)).await; // seq 4
    let events = format!("{JOBS}/{id}/events");

    let req = test::TestRequest::get()
        .uri(&events)
        .insert_header(bearer(&token))
        .insert_header(("Last-Event-ID", "2"))
        .to_request();
    let mut stream = SseReader::new(test::call_service(&app, req).await);
    for seq in [3, 4] {
        let frame = stream.next().await.unwrap();
        assert_eq!((frame.id, frame.event.as_str()), (seq, "progress"));
        assert_eq!(frame.data["seq"], seq);
        assert_eq!(frame.data["job_id"], id.to_string());
        assert_eq!(frame.data["step"], seq - 2);
        assert_eq!(frame.data.get("user_id"), None);
    }

    // Live: an event only the bus carries arrives; duplicates and other jobs' events do not.
    let current = state
        .training
        .ask(GetJob { user: me, id })
        .await
        .unwrap()
        .unwrap()
        .event();
    let foreign = JobEvent {
        job_id: Uuid::new_v4(),
        seq: 5,
        ..current.clone()
    };
    state.events.publish(foreign).await;
    state.events.publish(current.clone()).await;
    let live = JobEvent {
        seq: 5,
        message: "live only".into(),
        ..current
    };
    state.events.publish(live).await;
    let frame = stream.next().await.unwrap();
    assert_eq!(
        (frame.id, frame.data["message"].as_str()),
        (5, Some("live only"))
    );

    // A gap (6 committed but never published): the stream catches up from the log, in order,
    // and ends after the final status.
    execute(
        &db,
        &format!("UPDATE training_jobs SET {} WHERE id = '{id}'", step(3)),
    )
    .await; // seq 5 in the log
    execute(
        &db,
        &format!("UPDATE training_jobs SET {} WHERE id = '{id}'", step(4)),
    )
    .await; // seq 6, unpublished
    worker_sets(
        &db,
        &state,
        me,
        id,
        "status = 'completed', progress = 1, message = 'done', finished_at = now(), \
         metrics = '{\"accuracy\": 0.9}'",
    )
    .await; // seq 7
    let frame = stream.next().await.unwrap();
    assert_eq!((frame.id, frame.data["step"].as_u64()), (6, Some(4)));
    let frame = stream.next().await.unwrap();
    assert_eq!((frame.id, frame.event.as_str()), (7, "completed"));
    assert_eq!(frame.data["metrics"]["accuracy"], 0.9);
    assert!(
        stream.next().await.is_none(),
        "the stream ends after a final status"
    );

    // Full replay from the log (query parameter form), then the end.
    let res = test::call_service(
        &app,
        crate::common::get(&format!("{events}?last_event_id=0"), Some(&token)),
    )
    .await;
    let mut stream = SseReader::new(res);
    let mut names = Vec::new();
    while let Some(frame) = stream.next().await {
        assert_eq!(frame.id, names.len() as i64 + 1);
        names.push(frame.event);
    }
    assert_eq!(
        names,
        [
            "pending",
            "processing",
            "progress",
            "progress",
            "progress",
            "progress",
            "completed"
        ]
    );

    // Nothing left to send: 204 tells EventSource to stop reconnecting.
    let req = test::TestRequest::get()
        .uri(&events)
        .insert_header(bearer(&token))
        .insert_header(("Last-Event-ID", "7"))
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status().as_u16(), 204);
    for bad in ["x", "-1", "1.5"] {
        let req = test::TestRequest::get()
            .uri(&events)
            .insert_header(bearer(&token))
            .insert_header(("Last-Event-ID", bad))
            .to_request();
        problem(
            test::call_service(&app, req).await,
            400,
            "invalid_last_event_id",
        )
        .await;
    }
}

#[actix_rt::test]
async fn old_client_routes_keep_their_shapes() {
    let db = TestDatabase::migrated();
    let (_, app) = TestApp::new(&db).start().await;
    let (_, token) = user();
    let latest = "/api/v1/training/latest";
    assert_eq!(
        expect(&app, Method::GET, latest, &token, None, 200).await,
        Value::Null
    );

    let train = "/api/v1/training/train";
    let body = Some(json!({"epochs": 5, "batch_size": 32}));
    let queued = expect(&app, Method::POST, train, &token, body, 202).await;
    assert_eq!(queued["status"], "pending");
    let job_id = queued["job_id"].as_str().unwrap().to_owned();
    // The old flow never conflicts: the active job is reused.
    let again = expect(&app, Method::POST, train, &token, Some(json!({})), 202).await;
    assert_eq!(again["job_id"], job_id.as_str());
    let res = send(
        &app,
        Method::POST,
        train,
        Some(&token),
        Some(json!({"epochs": 0})),
    )
    .await;
    problem(res, 422, "validation").await;

    let status = expect(
        &app,
        Method::GET,
        &format!("/api/v1/training/status/{job_id}"),
        &token,
        None,
        200,
    )
    .await;
    let keys: HashSet<&str> = status
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        HashSet::from([
            "id",
            "status",
            "model_type",
            "metrics",
            "created_at",
            "updated_at",
            "progress",
            "error"
        ])
    );
    assert_eq!(status["id"], job_id.as_str());
    assert_eq!(status["model_type"], "categorizer");
    assert_eq!(status["status"], "pending");
    assert_eq!(
        expect(&app, Method::GET, latest, &token, None, 200).await,
        status
    );

    // Upload: the file is imported like /ingest/import, then the (active) job is returned.
    let csv = fixture("generic_signed_amount.csv");
    let upload = |fields: &[(&str, Option<&str>, &[u8])]| {
        let (content_type, body) = multipart(fields);
        test::TestRequest::post()
            .uri("/api/v1/training/upload")
            .insert_header(bearer(&token))
            .insert_header((header::CONTENT_TYPE, content_type))
            .set_payload(body)
            .to_request()
    };
    let res = test::call_service(&app, upload(&[("file", Some("g.csv"), &csv)])).await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["job_id"], job_id.as_str());
    assert_eq!(body["status"], "pending");
    assert!(body["message"].is_string());
    let stored = scalar(&db, "(SELECT count(*) FROM transactions)").await;
    assert_eq!(body["transaction_count"].to_string(), stored);
    assert_ne!(stored, "0");
    // Same errors as the import route.
    let res = test::call_service(&app, upload(&[("file", Some("g.csv"), &csv)])).await;
    problem(res, 409, "file_already_imported").await;
    let res = test::call_service(&app, upload(&[("note", None, b"x")])).await;
    problem(res, 422, "validation").await;

    // A new user's upload queues a fresh job.
    let (_, other) = user();
    let (content_type, payload) = multipart(&[("file", Some("g.csv"), &csv)]);
    let req = test::TestRequest::post()
        .uri("/api/v1/training/upload")
        .insert_header(bearer(&other))
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(payload)
        .to_request();
    let body: Value = test::read_body_json(test::call_service(&app, req).await).await;
    assert_ne!(body["job_id"], job_id.as_str());
    assert_eq!(body["status"], "pending");
}

#[actix_rt::test]
async fn job_reads_go_through_the_cache() {
    let db = TestDatabase::migrated();
    let (state, app) = TestApp::new(&db).start().await;
    let (me, token) = user();
    let id = id_of(&create(&app, &token, "categorizer", 202).await);
    let path = format!("{JOBS}/{id}");
    let job = expect(&app, Method::GET, &path, &token, None, 200).await;
    let cached = state
        .cache
        .ask(Get {
            key: format!("job:{id}"),
        })
        .await
        .unwrap()
        .value
        .expect("the job is cached");
    let cached: Value = serde_json::from_str(&cached).unwrap();
    assert_eq!(cached, job);
    assert_eq!(cached["user_id"], me.to_string());

    // A change made here replaces the entry at once.
    expect(
        &app,
        Method::POST,
        &format!("{path}/cancel"),
        &token,
        None,
        200,
    )
    .await;
    let job = expect(&app, Method::GET, &path, &token, None, 200).await;
    assert_eq!(job["status"], "cancelled");
    let status = format!("/api/v1/training/status/{id}");
    let old = expect(&app, Method::GET, &status, &token, None, 200).await;
    assert_eq!(old["status"], "cancelled");

    // A worker elsewhere does not touch the cache: its change shows once the entry expires.
    let job = id_of(&create(&app, &token, "forecaster", 202).await);
    let path = format!("{JOBS}/{job}");
    expect(&app, Method::GET, &path, &token, None, 200).await;
    execute(
        &db,
        &format!("UPDATE training_jobs SET status = 'failed', error = 'x' WHERE id = '{job}'"),
    )
    .await;
    let deadline = Instant::now() + scale_http::routes::training::JOB_CACHE_TTL * 4;
    loop {
        let body = expect(&app, Method::GET, &path, &token, None, 200).await;
        if body["status"] == "failed" {
            break;
        }
        assert_eq!(body["status"], "pending");
        assert!(Instant::now() < deadline, "stale after the TTL");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Deleting all data drops the cached statuses too: the jobs are gone at once.
    expect(&app, Method::GET, &path, &token, None, 200).await;
    let accounts_data = "/api/v1/accounts/data";
    expect(&app, Method::DELETE, accounts_data, &token, None, 204).await;
    for gone in [id, job] {
        let key = format!("job:{gone}");
        assert_eq!(state.cache.ask(Get { key }).await.unwrap().value, None);
        let path = format!("{JOBS}/{gone}");
        expect(&app, Method::GET, &path, &token, None, 404).await;
    }
}

#[actix_rt::test]
async fn another_users_jobs_are_not_found_anywhere() {
    let db = TestDatabase::migrated();
    let (state, app) = TestApp::new(&db).start().await;
    let (owner, owner_token) = user();
    let (_, intruder) = user();
    let id = id_of(&create(&app, &owner_token, "categorizer", 202).await);
    worker_sets(&db, &state, owner, id, CLAIM).await;
    // Cached for the owner first: the intruder must not be served the cached entry.
    expect(
        &app,
        Method::GET,
        &format!("{JOBS}/{id}"),
        &owner_token,
        None,
        200,
    )
    .await;

    let missing = Uuid::new_v4();
    for job in [id, missing] {
        for (method, path) in [
            (Method::GET, format!("{JOBS}/{job}")),
            (Method::POST, format!("{JOBS}/{job}/cancel")),
            (Method::GET, format!("{JOBS}/{job}/events")),
            (Method::GET, format!("/api/v1/training/status/{job}")),
        ] {
            let res = send(&app, method.clone(), &path, Some(&intruder), None).await;
            let body = problem(res, 404, "not_found").await;
            assert!(
                !body.to_string().contains(&owner.to_string()),
                "{method} {path} leaked"
            );
        }
    }
    for path in [
        format!("{JOBS}/not-a-uuid"),
        "/api/v1/training/status/42".to_owned(),
    ] {
        let res = send(&app, Method::GET, &path, Some(&intruder), None).await;
        problem(res, 404, "not_found").await;
    }
    let list = expect(&app, Method::GET, JOBS, &intruder, None, 200).await;
    assert_eq!(list, json!({"jobs": [], "next_cursor": null}));
    let latest = "/api/v1/training/latest";
    assert_eq!(
        expect(&app, Method::GET, latest, &intruder, None, 200).await,
        Value::Null
    );
    // The intruder may queue their own job of the same kind; the owner's is untouched.
    create(&app, &intruder, "categorizer", 202).await;
    let status = format!("(SELECT status FROM training_jobs WHERE id = '{id}')");
    assert_eq!(scalar(&db, &status).await, "processing");
    for route in [JOBS, latest] {
        let res = send(&app, Method::GET, route, None, None).await;
        assert_eq!(res.status().as_u16(), 401);
    }
}

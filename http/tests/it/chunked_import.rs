//! Chunked JSON imports over HTTP (`POST /ingest/import` with `chunk: {index, count}`): the
//! chunks of one upload accepted concurrently and in any order, the file imported only once its
//! last chunk is stored, a chunk sent again stored once, disagreeing chunks refused, uploads
//! kept per user, hostile chunk fields answered with problems, one import-tier charge per
//! upload that no invented chunk dodges, and two processes sharing the database and Redis.

use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::test;
use futures_util::future::join_all;
use scale_actors::redis_pool;
use scale_http::rate_limit::{Limit, X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING};
use scale_http::{RateLimiter, RateLimits};
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{
    bearer, problem, redis_count, scalar, unique_prefix, user, TestApp, REDIS_URL,
};
use crate::ingest::uploaded_files;

/// A client's hash of a file nobody uploaded before.
fn new_file_hash() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The rows of a new file in `count` chunks of `per` rows, every row distinct (also from every
/// other file's).
fn file_chunks(count: usize, per: usize) -> Vec<Value> {
    let first = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let file = Uuid::new_v4().simple();
    (0..count)
        .map(|chunk| {
            (0..per)
                .map(|row| {
                    let i = chunk * per + row;
                    let date = first + chrono::Days::new(i as u64);
                    json!({
                        "transaction_date": date.format("%Y-%m-%d").to_string(),
                        "amount": -((i + 1) as f64),
                        "description": format!("UPI/DR/{i}/SHOP {file} {i}"),
                    })
                })
                .collect()
        })
        .collect()
}

/// Chunk `index` of `count` of the file hashed `hash`, holding `rows`.
fn chunk(hash: &str, rows: &Value, index: u32, count: u32) -> Value {
    json!({
        "filename": "statement.csv",
        "file_hash": hash,
        "transactions": rows,
        "chunk": {"index": index, "count": count},
    })
}

/// `POST /ingest/import{query}` of the JSON `body` as `token`.
fn import(token: &str, query: &str, body: &Value) -> actix_http::Request {
    test::TestRequest::post()
        .uri(&format!("/api/v1/ingest/import{query}"))
        .insert_header(bearer(token))
        .set_json(body)
        .to_request()
}

/// Status and JSON body of an answer.
async fn answer(res: ServiceResponse<impl MessageBody>) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, test::read_body_json(res).await)
}

/// Sends `requests` all at once; their answers, in order.
async fn all_at_once<S, B>(app: &S, requests: Vec<actix_http::Request>) -> Vec<(u16, Value)>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let responses = join_all(requests.into_iter().map(|req| test::call_service(app, req))).await;
    join_all(responses.into_iter().map(answer)).await
}

/// The caller's upload of the file hashed `hash`, as `GET /ingest/uploaded-files` lists it.
async fn upload_of<S, B>(app: &S, token: &str, hash: &str) -> Value
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let files = uploaded_files(app, token).await;
    let mut found = files
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file_hash"] == hash);
    let upload = found.next().cloned().unwrap_or_else(|| panic!("{files}"));
    assert!(found.next().is_none(), "one upload per file: {files}");
    upload
}

/// Asserts that the chunk answers in `answers` all stored their rows into one upload of
/// `count` chunks, and that exactly the last to be counted completed it; returns its id.
fn one_upload_completed_by_the_last(answers: &[(u16, Value)], per: usize, count: u32) -> Value {
    for (status, body) in answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body["inserted"], per, "{body}");
        assert_eq!(body["chunks_expected"], count, "{body}");
    }
    let ids: BTreeSet<String> = answers
        .iter()
        .map(|(_, body)| body["uploaded_file_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let mut received: Vec<u64> = answers
        .iter()
        .map(|(_, body)| body["chunks_received"].as_u64().unwrap())
        .collect();
    received.sort_unstable();
    assert_eq!(received, (1..=u64::from(count)).collect::<Vec<_>>());
    for (_, body) in answers {
        let last = body["chunks_received"] == count;
        let status = if last { "complete" } else { "in_progress" };
        assert_eq!(body["status"], status, "{body}");
    }
    answers[0].1["uploaded_file_id"].clone()
}

#[actix_rt::test]
async fn chunks_posted_at_once_are_all_accepted_and_the_file_is_imported_after_the_last() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let hash = new_file_hash();
    let rows = file_chunks(3, 40);
    // The web client's pattern: three chunks in flight at once.
    let requests = (0..3u32)
        .map(|i| import(&token, "", &chunk(&hash, &rows[i as usize], i, 3)))
        .collect();
    let answers = all_at_once(&app, requests).await;
    let id = one_upload_completed_by_the_last(&answers, 40, 3);
    let upload = upload_of(&app, &token, &hash).await;
    assert_eq!(upload["id"], id);
    assert_eq!(upload["status"], "complete");
    assert_eq!(
        (&upload["chunks_received"], &upload["chunks_expected"]),
        (&json!(3), &json!(3))
    );
    assert_eq!(
        (&upload["row_count"], &upload["inserted"]),
        (&json!(120), &json!(120))
    );
    assert!(upload["completed_at"].is_string());
    assert_eq!(
        scalar(&db, "(SELECT count(*) FROM transactions)").await,
        "120"
    );

    // The file is imported: sending it again, chunked or whole, is the usual 409.
    let again = import(&token, "", &chunk(&hash, &rows[0], 0, 3));
    let refused = problem(
        test::call_service(&app, again).await,
        409,
        "file_already_imported",
    )
    .await;
    assert_eq!(refused["uploaded_file_id"], id);
    let whole = json!({"file_hash": hash, "transactions": rows[0]});
    let res = test::call_service(&app, import(&token, "", &whole)).await;
    problem(res, 409, "file_already_imported").await;

    // Forced, the upload starts over: a new round that counts its own chunks.
    let forced = import(&token, "?force=true", &chunk(&hash, &rows[1], 1, 3));
    let (status, body) = answer(test::call_service(&app, forced).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["inserted"], &body["skipped_duplicates"]),
        (&json!(0), &json!(40))
    );
    assert_eq!(
        (&body["status"], &body["chunks_received"]),
        (&json!("in_progress"), &json!(1))
    );
    assert_eq!(body["uploaded_file_id"], id);
    assert_eq!(
        upload_of(&app, &token, &hash).await["status"],
        "in_progress"
    );
    // Other rows under that index are refused, unless forced: then the upload starts over again.
    let other = chunk(&hash, &rows[2], 1, 3);
    let res = test::call_service(&app, import(&token, "", &other)).await;
    problem(res, 409, "chunk_mismatch").await;
    let res = test::call_service(&app, import(&token, "?force=true", &other)).await;
    let (status, body) = answer(res).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["status"], &body["chunks_received"]),
        (&json!("in_progress"), &json!(1))
    );
    let upload = upload_of(&app, &token, &hash).await;
    assert_eq!(
        (&upload["chunks_received"], &upload["row_count"]),
        (&json!(1), &json!(40))
    );
}

#[actix_rt::test]
async fn a_chunk_sent_again_is_stored_once_and_a_disagreeing_one_is_refused() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let hash = new_file_hash();
    let rows = file_chunks(2, 30);
    let send = |query: &str, body: Value| test::call_service(&app, import(&token, query, &body));

    let (status, first) = answer(send("", chunk(&hash, &rows[0], 0, 2)).await).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (&first["inserted"], &first["status"]),
        (&json!(30), &json!("in_progress"))
    );
    let counts = |upload: &Value| {
        [
            "status",
            "chunks_received",
            "chunks_expected",
            "row_count",
            "inserted",
        ]
        .map(|field| upload[field].clone())
    };
    let open = [
        json!("in_progress"),
        json!(1),
        json!(2),
        json!(30),
        json!(30),
    ];
    let upload = upload_of(&app, &token, &hash).await;
    assert_eq!(counts(&upload), open);
    assert!(upload["completed_at"].is_null());

    // A retry (its answer was lost, say): accepted, nothing stored or counted twice.
    let (status, retried) = answer(send("", chunk(&hash, &rows[0], 0, 2)).await).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(
        (&retried["inserted"], &retried["skipped_duplicates"]),
        (&json!(0), &json!(30))
    );
    assert_eq!(
        (&retried["chunks_received"], &retried["uploaded_file_id"]),
        (&json!(1), &first["uploaded_file_id"])
    );
    assert_eq!(counts(&upload_of(&app, &token, &hash).await), open);

    // Other rows under a stored index, or another chunk count: refused, nothing stored.
    let res = send("", chunk(&hash, &rows[1], 0, 2)).await;
    let body = problem(res, 409, "chunk_mismatch").await;
    assert_eq!(body["uploaded_file_id"], first["uploaded_file_id"]);
    assert!(body["detail"].as_str().unwrap().contains("other rows"));
    let body = problem(
        send("", chunk(&hash, &rows[1], 1, 3)).await,
        409,
        "chunk_mismatch",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("has 2 chunks"),
        "{body}"
    );
    // So is the whole file while its chunked upload is open.
    let whole = json!({"file_hash": hash, "filename": "statement.csv", "transactions": rows[1]});
    let body = problem(send("", whole).await, 409, "upload_in_progress").await;
    assert_eq!(
        (&body["chunks_received"], &body["chunks_expected"]),
        (&json!(1), &json!(2))
    );
    assert_eq!(counts(&upload_of(&app, &token, &hash).await), open);
    assert_eq!(
        scalar(&db, "(SELECT count(*) FROM transactions)").await,
        "30"
    );

    // The last chunk completes the upload.
    let (status, last) = answer(send("", chunk(&hash, &rows[1], 1, 2)).await).await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(
        (&last["status"], &last["chunks_received"]),
        (&json!("complete"), &json!(2))
    );
    let done = [json!("complete"), json!(2), json!(2), json!(60), json!(60)];
    assert_eq!(counts(&upload_of(&app, &token, &hash).await), done);
    // Sent again now, it is the file sent again: 409, with the upload that holds it.
    let body = problem(
        send("", chunk(&hash, &rows[1], 1, 2)).await,
        409,
        "file_already_imported",
    )
    .await;
    assert_eq!(body["uploaded_file_id"], first["uploaded_file_id"]);
}

#[actix_rt::test]
async fn chunked_uploads_are_per_user() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let ((alice_id, alice), (bob_id, bob)) = (user(), user());
    let hash = new_file_hash();
    let rows = file_chunks(2, 10);
    let send = |token: &str, index: u32| {
        test::call_service(
            &app,
            import(token, "", &chunk(&hash, &rows[index as usize], index, 2)),
        )
    };
    let (status, alices) = answer(send(&alice, 0).await).await;
    assert_eq!(status, 200, "{alices}");
    // Bob sends the chunk Alice's upload misses, under her file's hash: it opens his own.
    let (status, bobs) = answer(send(&bob, 1).await).await;
    assert_eq!(status, 200, "{bobs}");
    assert_ne!(bobs["uploaded_file_id"], alices["uploaded_file_id"]);
    assert_eq!(
        (&bobs["status"], &bobs["chunks_received"]),
        (&json!("in_progress"), &json!(1))
    );
    let (status, bobs) = answer(send(&bob, 0).await).await;
    assert_eq!((status, &bobs["status"]), (200, &json!("complete")));
    // Alice's upload is still open, and each sees only their own.
    let upload = upload_of(&app, &alice, &hash).await;
    assert_eq!(
        (&upload["status"], &upload["chunks_received"]),
        (&json!("in_progress"), &json!(1))
    );
    for (token, id) in [(&alice, &alices), (&bob, &bobs)] {
        let files = uploaded_files(&app, token).await;
        assert_eq!(files.as_array().unwrap().len(), 1);
        assert_eq!(files[0]["id"], id["uploaded_file_id"]);
    }
    let count =
        |user: Uuid| format!("(SELECT count(*) FROM transactions WHERE user_id = '{user}')");
    assert_eq!(scalar(&db, &count(alice_id)).await, "10");
    assert_eq!(scalar(&db, &count(bob_id)).await, "20");
    let (status, alices) = answer(send(&alice, 1).await).await;
    assert_eq!((status, &alices["status"]), (200, &json!("complete")));
}

#[actix_rt::test]
async fn hostile_chunk_fields_are_4xx_problems_and_store_nothing() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let hash = new_file_hash();
    let rows = file_chunks(1, 2).remove(0);
    let with_chunk = |chunk: Value| json!({"filename": "s.csv", "file_hash": hash, "transactions": rows, "chunk": chunk});
    let mut cases: Vec<(String, u16, &str)> = [
        json!({"index": -1, "count": 2}),
        json!({"index": 0, "count": -3}),
        json!({"index": 1e20, "count": 2}),
        json!({"index": 0, "count": 4_294_967_296u64}),
        json!({"index": 4_294_967_295u32, "count": 4_294_967_295u32}),
        json!({"index": 0, "count": 0}),
        json!({"index": 0, "count": 401}),
        json!({"index": 2, "count": 2}),
        json!({"index": "0", "count": 2}),
        json!({"index": 0}),
        json!("0/2"),
        json!({"index": 0.5, "count": 2}),
    ]
    .into_iter()
    .map(|c| (with_chunk(c).to_string(), 422, "validation"))
    .collect();
    let good = json!({"index": 0, "count": 2});
    for (field, value, status, code) in [
        ("file_hash", Value::Null, 422, "validation"),
        (
            "file_hash",
            json!(format!("\0{}", &hash[1..])),
            422,
            "validation",
        ),
        ("file_hash", json!("x".repeat(64)), 422, "validation"),
        ("filename", Value::Null, 422, "validation"),
        ("filename", json!("s\0.csv"), 422, "validation"),
        ("filename", json!("x".repeat(256)), 422, "validation"),
        ("transactions", json!([]), 422, "validation"),
        ("transactions", json!("rows"), 400, "unreadable_file"),
    ] {
        let mut body = with_chunk(good.clone());
        match value {
            Value::Null => body.as_object_mut().unwrap().remove(field),
            value => body
                .as_object_mut()
                .unwrap()
                .insert(field.to_owned(), value),
        };
        cases.push((body.to_string(), status, code));
    }
    let huge = format!(
        r#"{{"filename":"s.csv","file_hash":"{hash}","transactions":{rows},"chunk":{{"index":99999999999999999999999,"count":2}}}}"#
    );
    cases.push((huge, 422, "validation"));
    cases.push((
        r#"{"chunk": {"index": 0,"#.to_owned(),
        400,
        "malformed_json",
    ));
    for (body, status, code) in cases {
        let req = test::TestRequest::post()
            .uri("/api/v1/ingest/import")
            .insert_header(bearer(&token))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body.clone())
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status().as_u16(), status, "{body}");
        problem(res, status, code).await;
    }
    let anonymous = test::TestRequest::post()
        .uri("/api/v1/ingest/import")
        .set_json(with_chunk(good))
        .to_request();
    problem(
        test::call_service(&app, anonymous).await,
        401,
        "missing_credentials",
    )
    .await;
    assert_eq!(uploaded_files(&app, &token).await, json!([]));
    assert_eq!(
        scalar(&db, "(SELECT count(*) FROM transactions)").await,
        "0"
    );
}

#[actix_rt::test]
async fn a_chunked_upload_is_charged_once_and_no_invented_chunk_dodges_the_limit() {
    let db = TestDatabase::create();
    let minute = Duration::from_secs(60);
    let limits = RateLimits {
        import: Limit {
            max: 2,
            window: minute,
        },
        ..RateLimits::uniform(1_000, minute)
    };
    let prefix = unique_prefix();
    let limiter = RateLimiter::new(
        Some(REDIS_URL),
        prefix.clone(),
        limits,
        Duration::from_secs(2),
    );
    let app = TestApp::new(&db)
        .with_rate_limiter(limiter.unwrap())
        .service()
        .await;
    let (id, token) = user();
    let key = format!("{prefix}rl:import:user:{id}");
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    let send = |query: &str, body: &Value| test::call_service(&app, import(&token, query, body));

    // One upload of four chunks, two in flight at a time: one charge, made by the chunk that
    // opened it (the only answer with the limit's headers).
    let first = new_file_hash();
    let rows = file_chunks(4, 5);
    let mut charged = 0;
    for pair in [[0u32, 1], [2, 3]] {
        let responses =
            join_all(pair.map(|i| send("", &chunk(&first, &rows[i as usize], i, 4)))).await;
        for res in responses {
            assert_eq!(res.status().as_u16(), 200);
            if let Some(limit) = res.headers().get(X_RATELIMIT_LIMIT) {
                assert_eq!(limit, "2");
                assert_eq!(res.headers().get(X_RATELIMIT_REMAINING).unwrap(), "1");
                charged += 1;
            }
        }
    }
    assert_eq!(charged, 1);
    assert_eq!(redis_count(&redis, &key).await, 1);

    // A second upload, left open after its first chunk: the second charge.
    let second = new_file_hash();
    let rows = file_chunks(3, 5);
    assert_eq!(
        send("", &chunk(&second, &rows[0], 0, 3))
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(redis_count(&redis, &key).await, 2);

    // Over the limit now: no chunk opens an upload, whatever numbers it makes up; none claims
    // the open upload with another count or other rows, forced or not; no file comes whole.
    let third = new_file_hash();
    let whole = json!({"transactions": rows[1]});
    for (query, body) in [
        ("", chunk(&third, &rows[1], 1, 3)),
        ("", chunk(&third, &rows[1], 0, 1)),
        ("?force=true", chunk(&second, &rows[1], 1, 2)),
        ("?force=true", chunk(&second, &rows[2], 0, 3)),
        ("", chunk(&second, &rows[1], 1, 2)),
        ("", whole),
    ] {
        let res = send(query, &body).await;
        assert!(res.headers().contains_key(header::RETRY_AFTER));
        problem(res, 429, "rate_limited").await;
    }
    // The open upload still takes its remaining chunks, free.
    for i in [1u32, 2] {
        let res = send("", &chunk(&second, &rows[i as usize], i, 3)).await;
        assert!(!res.headers().contains_key(X_RATELIMIT_LIMIT));
        let (status, body) = answer(res).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(redis_count(&redis, &key).await, 2);
    let files = uploaded_files(&app, &token).await;
    let files = files.as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f["status"] == "complete"), "{files:?}");
    assert_eq!(
        scalar(&db, "(SELECT count(*) FROM transactions)").await,
        "35"
    );
}

#[actix_rt::test]
async fn two_processes_store_one_upload_posted_to_both_at_once_with_one_charge() {
    let db = TestDatabase::create();
    let minute = Duration::from_secs(60);
    let limits = RateLimits {
        import: Limit {
            max: 5,
            window: minute,
        },
        ..RateLimits::uniform(1_000, minute)
    };
    // Two app instances, each with its own actors, pools and limiter, sharing the database
    // and the limiter's Redis prefix: two processes.
    let prefix = unique_prefix();
    let process = || {
        let limiter = RateLimiter::new(
            Some(REDIS_URL),
            prefix.clone(),
            limits,
            Duration::from_secs(2),
        );
        TestApp::new(&db)
            .with_rate_limiter(limiter.unwrap())
            .service()
    };
    let apps = [process().await, process().await];
    let (id, token) = user();
    let key = format!("{prefix}rl:import:user:{id}");
    let redis = redis_pool::connect(REDIS_URL, Duration::from_secs(2)).unwrap();
    for round in 1..=2u64 {
        let hash = new_file_hash();
        let rows = file_chunks(6, 20);
        let requests = (0..6u32).map(|i| {
            let req = import(&token, "", &chunk(&hash, &rows[i as usize], i, 6));
            test::call_service(&apps[i as usize % 2], req)
        });
        let responses = join_all(requests).await;
        let answers = join_all(responses.into_iter().map(answer)).await;
        one_upload_completed_by_the_last(&answers, 20, 6);
        assert_eq!(redis_count(&redis, &key).await, round, "round {round}");
        let upload = upload_of(&apps[1], &token, &hash).await;
        assert_eq!(
            (&upload["status"], &upload["inserted"]),
            (&json!("complete"), &json!(120))
        );
    }
    assert_eq!(
        scalar(&db, "(SELECT count(*) FROM transactions)").await,
        "240"
    );
}

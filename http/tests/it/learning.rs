//! Learning from corrections over HTTP: feedback in both shapes answers `user` on the very next
//! classification, a category set by hand carries over to similar rows (sign rule, corrections
//! upserted, manual rows kept), every `CATEGORIZER_RETRAIN_AFTER` corrections queue exactly one
//! job, and no user's corrections reach another user.

use actix_web::http::Method;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::common::{execute, expect, import_rows, problem, scalar, send, user, TestApp};

const CLASSIFY: &str = "/api/v1/categorization/classify";
const BATCH: &str = "/api/v1/categorization/classify/batch";
const FEEDBACK: &str = "/api/v1/categorization/feedback";
const TRANSACTIONS: &str = "/api/v1/accounts/transactions";

async fn classify<S, B>(app: &S, token: &str, description: &str) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let body = json!({"description": description, "amount": -120.0});
    expect(app, Method::POST, CLASSIFY, token, Some(body), 200).await
}

#[actix_rt::test]
async fn feedback_in_both_shapes_applies_at_once_to_its_author_only() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let ((_, alice), (_, bob)) = (user(), user());
    let text = "SWIGGY INSTAMART 1234567";
    assert_eq!(classify(&app, &alice, text).await["source"], "rule");
    let body = json!({"corrections": {
        text: "Groceries",
        "Office": ["STAPLES WORKSPACE 99887766", "staples  workspace 11223344"],
    }});
    let answer = expect(&app, Method::POST, FEEDBACK, &alice, Some(body), 200).await;
    assert_eq!(answer["status"], "ok");
    assert_eq!(answer["updated_categories"], json!(["Groceries", "Office"]));
    assert_eq!(answer["training_job_id"], Value::Null);

    // The very next classification, normalised the same way, is the user's.
    let again = classify(&app, &alice, "swiggy instamart 7654321").await;
    assert_eq!(
        (again["category"].clone(), again["source"].clone()),
        (json!("Groceries"), json!("user"))
    );
    let batch = expect(
        &app,
        Method::POST,
        BATCH,
        &alice,
        Some(json!({"descriptions": ["STAPLES WORKSPACE 55555555", text]})),
        200,
    )
    .await;
    assert_eq!(batch["predictions"][0]["category"], "Office");
    assert_eq!(batch["predictions"][1]["source"], "user");

    // Another user never sees them.
    let other = classify(&app, &bob, text).await;
    assert_eq!(other["source"], "rule");
    assert_ne!(other["category"], "Groceries");
}

#[actix_rt::test]
async fn bad_feedback_is_a_problem() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let cases = [
        (json!({"corrections": {}}), 400, "bad_request"),
        (json!({"corrections": {"x": "  "}}), 400, "bad_request"),
        (json!({"corrections": {"x": 5}}), 422, "validation"),
        (
            json!({"corrections": {"a\u{0}b": "Food"}}),
            422,
            "validation",
        ),
        (
            json!({"corrections": {"x": "F".repeat(101)}}),
            422,
            "validation",
        ),
        (json!({"corrections": []}), 422, "validation"),
        (json!({}), 422, "validation"),
    ];
    for (body, status, code) in cases {
        let res = send(
            &app,
            Method::POST,
            FEEDBACK,
            Some(&token),
            Some(body.clone()),
        )
        .await;
        problem(res, status, code).await;
    }
    let many: serde_json::Map<String, Value> = (0..5_001)
        .map(|i| (format!("SHOP {i}"), json!("Shopping")))
        .collect();
    let res = send(
        &app,
        Method::POST,
        FEEDBACK,
        Some(&token),
        Some(json!({"corrections": many})),
    )
    .await;
    problem(res, 413, "payload_too_large").await;
    let res = send(
        &app,
        Method::POST,
        FEEDBACK,
        None,
        Some(json!({"corrections": {"a": "b"}})),
    )
    .await;
    assert_eq!(res.status().as_u16(), 401);
}

/// Imports `rows` (`(date, description, amount)`) for `token`; returns `(amount, id)` of each.
async fn import<S, B>(app: &S, token: &str, rows: &[(&str, &str, &str)]) -> Vec<(String, String)>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let transactions: Vec<Value> = rows
        .iter()
        .map(|(date, description, amount)| {
            json!({"date": date, "description": description, "amount": amount})
        })
        .collect();
    import_rows(app, token, transactions).await;
    let list = expect(
        app,
        Method::GET,
        &format!("{TRANSACTIONS}?limit=100"),
        token,
        None,
        200,
    )
    .await;
    list["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["amount"].to_string().trim_matches('"').to_owned(),
                t["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn id_of<'a>(ids: &'a [(String, String)], amount: &str) -> &'a str {
    match ids
        .iter()
        .find(|(a, _)| a.parse::<f64>() == amount.parse::<f64>())
    {
        Some((_, id)) => id,
        None => panic!("no transaction of {amount} in {ids:?}"),
    }
}

#[actix_rt::test]
async fn a_category_set_by_hand_carries_over_to_similar_rows_but_not_manual_ones() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let ((alice_id, alice), (_, bob)) = (user(), user());
    let ids = import(
        &app,
        &alice,
        &[
            ("2025-01-02", "ACME REFUND CREDIT", "-400"),
            ("2025-01-09", "acme refund credit", "-250"),
            ("2025-01-16", "ACME REFUND CREDIT", "-90"),
            ("2025-01-20", "SWIGGY ORDER", "-300"),
        ],
    )
    .await;
    let (first, second, third) = (id_of(&ids, "-400"), id_of(&ids, "-250"), id_of(&ids, "-90"));
    // The third was set by hand before: apply_to_similar leaves it.
    expect(
        &app,
        Method::PATCH,
        &format!("{TRANSACTIONS}/{third}"),
        &alice,
        Some(json!({"category": "Shopping"})),
        200,
    )
    .await;

    let path = format!("/api/v1/categorization/transactions/{first}/category");
    // Another user cannot touch it.
    let res = send(
        &app,
        Method::PATCH,
        &path,
        Some(&bob),
        Some(json!({"category": "Income", "apply_to_similar": true})),
    )
    .await;
    problem(res, 404, "not_found").await;

    let answer = expect(
        &app,
        Method::PATCH,
        &path,
        &alice,
        Some(json!({"category": "Income", "apply_to_similar": true})),
        200,
    )
    .await;
    let mut updated: Vec<&str> = answer["updated_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(updated.remove(0), first);
    assert_eq!(updated, [second]);
    assert_eq!(answer["updated_categories"], json!(["Income"]));
    for (id, amount, category) in [
        (first, "400.00", "Income"),
        (second, "250.00", "Income"),
        (third, "-90.00", "Shopping"),
    ] {
        let row = expect(
            &app,
            Method::GET,
            &format!("{TRANSACTIONS}/{id}"),
            &alice,
            None,
            200,
        )
        .await;
        assert_eq!(
            (
                row["category"].as_str().unwrap(),
                row["category_source"].as_str().unwrap()
            ),
            (category, "manual"),
            "{id}"
        );
        assert_eq!(
            scalar(
                &db,
                &format!("(SELECT amount FROM transactions WHERE id = '{id}')")
            )
            .await,
            amount
        );
    }
    // One correction per corrected row, upserted.
    assert_eq!(
        scalar(
            &db,
            &format!("(SELECT count(*) FROM training_corrections WHERE user_id = '{alice_id}')")
        )
        .await,
        "3"
    );
    expect(
        &app,
        Method::PATCH,
        &path,
        &alice,
        Some(json!({"category": "Salary"})),
        200,
    )
    .await;
    assert_eq!(
        scalar(
            &db,
            &format!("(SELECT count(*) FROM training_corrections WHERE user_id = '{alice_id}')")
        )
        .await,
        "3"
    );
    // Leaving Income flips the sign back.
    assert_eq!(
        scalar(
            &db,
            &format!("(SELECT amount FROM transactions WHERE id = '{first}')")
        )
        .await,
        "-400.00"
    );
    // The correction applies to classification at once.
    assert_eq!(
        classify(&app, &alice, "ACME REFUND CREDIT").await["category"],
        "Salary"
    );

    for (body, status, code) in [
        (json!({"category": ""}), 422, "validation"),
        (json!({"category": "a\u{0}"}), 422, "validation"),
        (json!({"category": "x".repeat(101)}), 422, "validation"),
        (json!({"apply_to_similar": true}), 422, "validation"),
        (
            json!({"category": "Food", "apply_to_similar": "yes"}),
            422,
            "validation",
        ),
    ] {
        problem(
            send(&app, Method::PATCH, &path, Some(&alice), Some(body)).await,
            status,
            code,
        )
        .await;
    }
    let missing = format!(
        "/api/v1/categorization/transactions/{}/category",
        uuid::Uuid::new_v4()
    );
    problem(
        send(
            &app,
            Method::PATCH,
            &missing,
            Some(&alice),
            Some(json!({"category": "Food"})),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let res = send(
        &app,
        Method::PATCH,
        "/api/v1/categorization/transactions/not-a-uuid/category",
        Some(&alice),
        Some(json!({"category": "Food"})),
    )
    .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[actix_rt::test]
async fn every_tenth_correction_queues_exactly_one_job() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (alice_id, alice) = user();
    let count = format!("(SELECT count(*) FROM training_jobs WHERE user_id = '{alice_id}')");
    let jobs = || scalar(&db, &count);
    let nine: serde_json::Map<String, Value> = (0..9)
        .map(|i| (format!("SHOP NUMBER {i}"), json!("Shopping")))
        .collect();
    let answer = expect(
        &app,
        Method::POST,
        FEEDBACK,
        &alice,
        Some(json!({"corrections": nine})),
        200,
    )
    .await;
    assert_eq!(answer["training_job_id"], Value::Null);
    assert_eq!(jobs().await, "0");
    // The tenth, sent five times at once: one job, whoever gets there.
    let tenth = || {
        send(
            &app,
            Method::POST,
            FEEDBACK,
            Some(&alice),
            Some(json!({"corrections": {"SHOP TEN": "Shopping"}})),
        )
    };
    let answers = futures_util::future::join_all((0..5).map(|_| tenth())).await;
    let mut queued = std::collections::BTreeSet::new();
    for res in answers {
        assert_eq!(res.status().as_u16(), 200);
        let body: Value = actix_web::test::read_body_json(res).await;
        // A correction counted after another request queued the job finds nothing new since
        // it and answers null (the job, reading corrections when it runs, still learns it).
        if let Some(id) = body["training_job_id"].as_str() {
            queued.insert(id.to_owned());
        }
    }
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(jobs().await, "1");
    // Corrections after the job was queued start counting again.
    execute(
        &db,
        &format!("UPDATE training_jobs SET status = 'completed' WHERE user_id = '{alice_id}'"),
    )
    .await;
    let answer = expect(
        &app,
        Method::POST,
        FEEDBACK,
        &alice,
        Some(json!({"corrections": {"SHOP ELEVEN": "Shopping"}})),
        200,
    )
    .await;
    assert_eq!(answer["training_job_id"], Value::Null);
    assert_eq!(jobs().await, "1");
}

#[actix_rt::test]
async fn the_list_filters_by_what_decided_the_category_and_review() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let ((_, alice), (_, bob)) = (user(), user());
    let rows = [
        (
            "2025-01-02",
            "UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym",
            "-300",
        ),
        ("2025-01-03", "42", "-15"),
    ];
    import(&app, &alice, &rows).await;
    import(&app, &bob, &rows).await;
    let descriptions = |query: &'static str| {
        let (app, alice) = (&app, &alice);
        async move {
            let page = expect(
                app,
                Method::GET,
                &format!("{TRANSACTIONS}?{query}"),
                alice,
                None,
                200,
            )
            .await;
            page["transactions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["description"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(descriptions("needs_review=true").await, ["42"]);
    assert_eq!(descriptions("category_source=fallback").await, ["42"]);
    assert_eq!(
        descriptions("category_source=RULE&needs_review=false").await,
        [rows[0].1]
    );
    assert!(descriptions("category_source=manual").await.is_empty());
    for query in [
        "needs_review=maybe",
        "category_source=robot",
        "category_source=%00",
    ] {
        let res = send(
            &app,
            Method::GET,
            &format!("{TRANSACTIONS}?{query}"),
            Some(&alice),
            None,
        )
        .await;
        problem(res, 422, "validation").await;
    }
}

#[actix_rt::test]
async fn an_import_applies_its_users_corrections_first() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let ((_, alice), (_, bob)) = (user(), user());
    let body = json!({"corrections": {"KAVERI TEXTILE MILLS 11223344": "Clothing"}});
    expect(&app, Method::POST, FEEDBACK, &alice, Some(body), 200).await;
    let rows = [("2025-02-01", "KAVERI TEXTILE MILLS 99887766", "-2100")];
    for (token, want) in [(&alice, ("Clothing", "user")), (&bob, ("", ""))] {
        import(&app, token, &rows).await;
        let page = expect(&app, Method::GET, TRANSACTIONS, token, None, 200).await;
        let row = &page["transactions"][0];
        let got = (
            row["category"].as_str().unwrap(),
            row["category_source"].as_str().unwrap(),
        );
        if token == &alice {
            assert_eq!(got, want);
        } else {
            assert_ne!(got.1, "user", "another user's correction applied: {row}");
        }
    }
}

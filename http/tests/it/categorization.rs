//! Classification over HTTP: one narration, a batch in order, the legacy map, and every bad
//! body a problem (empty, over the cap, NUL bytes, over-long text, mismatched amounts, missing
//! fields, no token). Classification uses no user data yet, so two users get the same answers.

use actix_web::http::Method;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::common::{expect, problem, send, user, TestApp};

const CLASSIFY: &str = "/api/v1/categorization/classify";
const BATCH: &str = "/api/v1/categorization/classify/batch";
const MAP: &str = "/api/v1/categorization/classify/map";

#[actix_rt::test]
async fn one_narration_gets_a_category_with_what_decided_it() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let body = json!({"description": "UPI/DR/412345678901/SWIGGY/YESB/swiggy@ybl/Paym", "use_latest_model": true});
    let answer = expect(&app, Method::POST, CLASSIFY, &token, Some(body), 200).await;
    assert_eq!(answer["category"], "Food");
    assert_eq!(answer["source"], "rule");
    assert_eq!(answer["confidence"], 1.0);
    assert_eq!(answer["model_used"], "scale-cat-v2");
    assert_eq!(answer["needs_review"], false);
    // A salary needs a credit: the amount decides.
    let salary = |amount: f64| json!({"description": "NEFT CR-HDFC0000240-ACME TECHNOLOGIES PVT LTD-SALARY MAY", "amount": amount});
    let credit = expect(
        &app,
        Method::POST,
        CLASSIFY,
        &token,
        Some(salary(85_000.0)),
        200,
    )
    .await;
    assert_eq!(credit["category"], "Salary");
    let debit = expect(
        &app,
        Method::POST,
        CLASSIFY,
        &token,
        Some(salary(-85_000.0)),
        200,
    )
    .await;
    assert_ne!(debit["category"], "Salary");
}

#[actix_rt::test]
async fn a_batch_keeps_its_order_and_the_map_leaves_out_what_has_no_category() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let (first, second) = (user().1, user().1);
    let descriptions = json!([
        "NETFLIX.COM SUBSCRIPTION",
        "UBER INDIA SYSTEMS PVT LTD",
        "NETFLIX.COM SUBSCRIPTION",
        "zzqx"
    ]);
    let body = json!({"descriptions": descriptions});
    let answers = expect(&app, Method::POST, BATCH, &first, Some(body.clone()), 200).await;
    let categories: Vec<&Value> = answers["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["category"])
        .collect();
    assert_eq!(
        categories[..3],
        [
            &json!("Entertainment"),
            &json!("Transport"),
            &json!("Entertainment")
        ]
    );
    assert_eq!(answers["predictions"].as_array().unwrap().len(), 4);
    // No user data is involved yet: another user gets the same answers.
    let again = expect(&app, Method::POST, BATCH, &second, Some(body), 200).await;
    assert_eq!(again, answers);
    let map = expect(
        &app,
        Method::POST,
        MAP,
        &first,
        Some(json!({"descriptions": descriptions})),
        200,
    )
    .await;
    assert_eq!(map["NETFLIX.COM SUBSCRIPTION"], "Entertainment");
    assert_eq!(map["UBER INDIA SYSTEMS PVT LTD"], "Transport");
    let uncategorized = answers["predictions"][3]["category"] == "Uncategorized";
    assert_eq!(map.get("zzqx").is_none(), uncategorized);
}

#[actix_rt::test]
async fn bad_bodies_are_problems() {
    let db = TestDatabase::create();
    let app = TestApp::new(&db).service().await;
    let token = user().1;
    let many: Vec<String> = (0..5_001).map(|i| format!("shop {i}")).collect();
    let cases = [
        (BATCH, json!({"descriptions": []}), 400, "bad_request"),
        (MAP, json!({"descriptions": []}), 400, "bad_request"),
        (
            BATCH,
            json!({"descriptions": many}),
            413,
            "payload_too_large",
        ),
        (
            BATCH,
            json!({"descriptions": ["ok", "nul\u{0}"]}),
            422,
            "validation",
        ),
        (
            CLASSIFY,
            json!({"description": "nul\u{0}"}),
            422,
            "validation",
        ),
        (
            CLASSIFY,
            json!({"description": "x".repeat(1_001)}),
            422,
            "validation",
        ),
        (
            BATCH,
            json!({"descriptions": ["a", "b"], "amounts": [1.0]}),
            422,
            "validation",
        ),
        (BATCH, json!({"descriptions": "swiggy"}), 422, "validation"),
        (CLASSIFY, json!({}), 422, "validation"),
        (CLASSIFY, json!({"description": 12}), 422, "validation"),
    ];
    for (path, body, status, code) in cases {
        problem(
            send(&app, Method::POST, path, Some(&token), Some(body)).await,
            status,
            code,
        )
        .await;
    }
    for path in [CLASSIFY, BATCH, MAP] {
        let res = send(
            &app,
            Method::POST,
            path,
            None,
            Some(json!({"description": "x"})),
        )
        .await;
        problem(res, 401, "missing_credentials").await;
    }
}

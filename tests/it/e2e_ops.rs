//! End-to-end, in a real browser: the ops dashboard (`/ops`) of the real binary in headless
//! Chromium (Debian's `chromium` and `chromium-driver`, installed by `scripts/test.sh`). It logs
//! in with an admin token, lists every actor, crashes one with its button and sees the restart
//! count change without a reload; a screenshot is left in `target/test-artefacts/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::browser::{Browser, Installed};
use crate::common::{admin_token, Server};

/// How soon a crash must show on the page.
const VISIBLE_WITHIN: Duration = Duration::from_secs(2);

/// Where the screenshot goes.
fn artefact(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-artefacts")
        .join(name)
}

/// The actor names the dashboard's table lists, in order.
async fn listed(browser: &Browser) -> Vec<String> {
    let names = browser
        .run(
            "return [...document.querySelectorAll('#actors tbody tr')]\
                .map((row) => row.dataset.actor);",
            json!([]),
        )
        .await;
    serde_json::from_value(names).unwrap()
}

/// The restart count the page shows for `actor`.
async fn restarts_shown(browser: &Browser, actor: &str) -> Option<String> {
    let text = browser
        .run(
            "const row = document.querySelector(`tr[data-actor=\"${arguments[0]}\"]`);\
             return row ? row.querySelector('td.restarts').textContent : null;",
            json!([actor]),
        )
        .await;
    text.as_str().map(str::to_owned)
}

#[tokio::test]
async fn the_dashboard_lists_every_actor_and_shows_a_crash_live() {
    let Some(installed) = Installed::find() else {
        eprintln!(
            "SKIPPED the_dashboard_lists_every_actor_and_shows_a_crash_live: chromium and \
             chromedriver are not installed (apt-get install -y chromium chromium-driver, as \
             scripts/test.sh does)"
        );
        return;
    };
    let db = TestDatabase::create();
    let server = Server::start(&db.url(), &[("CHAOS_ENABLED", "true")]);
    let admin = admin_token();
    let res = server.get_as(&admin, "/ops/actors").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let mut actors: Vec<String> = body["actors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    actors.sort();
    assert!(actors.contains(&"analytics".to_owned()), "{actors:?}");

    let profile = std::env::temp_dir().join(format!("scale-ops-chromium-{}", uuid::Uuid::new_v4()));
    let browser = Browser::start(&installed, &profile).await;
    let origin = server.base.trim_end_matches("/api/v1");
    browser.open(&format!("{origin}/ops")).await;
    browser.type_into("#token", &admin).await;
    browser.click("#login-button").await;

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut shown = listed(&browser).await;
        shown.sort();
        if shown == actors {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the page lists {shown:?}, the registry {actors:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kept = browser
        .run(
            "window.__notReloaded = true;\
             return [sessionStorage.getItem('scale-ops-token'), location.href];",
            json!([]),
        )
        .await;
    assert_eq!(
        kept[0],
        admin.as_str(),
        "the token is kept in sessionStorage"
    );
    assert!(
        !kept[1].as_str().unwrap().contains(&admin),
        "a token in the URL"
    );
    assert_eq!(
        restarts_shown(&browser, "analytics").await.as_deref(),
        Some("0")
    );

    browser
        .click("tr[data-actor=\"analytics\"] button.crash")
        .await;
    browser.accept_dialog().await;
    let crashed_at = Instant::now();
    loop {
        if restarts_shown(&browser, "analytics").await.as_deref() == Some("1") {
            break;
        }
        if crashed_at.elapsed() > VISIBLE_WITHIN {
            browser
                .screenshot(&artefact("ops-dashboard-failed.png"))
                .await;
            panic!(
                "the page still shows {:?} restarts after {VISIBLE_WITHIN:?}",
                restarts_shown(&browser, "analytics").await
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let same_page = browser
        .run("return window.__notReloaded === true;", json!([]))
        .await;
    assert_eq!(same_page, true, "the page was reloaded");
    let problems = browser
        .run(
            "return document.getElementById('problems').textContent;",
            json!([]),
        )
        .await;
    assert!(
        problems
            .as_str()
            .unwrap()
            .contains("actor analytics restarted"),
        "{problems}"
    );
    browser.screenshot(&artefact("ops-dashboard.png")).await;
    let png = std::fs::read(artefact("ops-dashboard.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG screenshot");
    drop(browser);
    let _ = std::fs::remove_dir_all(profile);
}

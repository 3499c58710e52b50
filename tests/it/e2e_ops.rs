//! End-to-end, in real browsers: the ops dashboard (`/ops`) of the real binary in headless
//! Chromium (Debian's `chromium` and `chromium-driver`) and headless Firefox (Debian's
//! `firefox-esr`), both installed by `scripts/test.sh`. One scenario runs in each: it logs in
//! with an admin token, lists every actor, crashes one with its button and sees the restart
//! count change without a reload, then starts a chaos scenario from the chaos panel and sees it
//! run and end; a screenshot per browser is left in `target/test-artefacts/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use scale_schema::testing::TestDatabase;
use serde_json::{json, Value};

use crate::browser::{Browser, Kind};
use crate::common::{admin_token, Server};

/// How soon a crash must show on the page.
const VISIBLE_WITHIN: Duration = Duration::from_secs(2);

/// Where the screenshot `kind` takes goes: `ops-dashboard{-firefox}{suffix}.png`.
fn artefact(kind: Kind, suffix: &str) -> PathBuf {
    let browser = match kind {
        Kind::Chromium => String::new(),
        Kind::Firefox => format!("-{}", kind.name()),
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-artefacts")
        .join(format!("ops-dashboard{browser}{suffix}.png"))
}

/// The actor names the dashboard's table lists, in order.
async fn listed(browser: &mut Browser) -> Vec<String> {
    let names = browser
        .run(
            "return [...document.querySelectorAll('#actors tbody tr')]\
                .map((row) => row.dataset.actor);",
            json!([]),
        )
        .await;
    serde_json::from_value(names).unwrap()
}

/// The text of the element with id `id`.
async fn text_of(browser: &mut Browser, id: &str) -> String {
    let text = browser
        .run(
            "return document.getElementById(arguments[0]).textContent;",
            json!([id]),
        )
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// Waits until the element with id `id` says something `check` accepts.
async fn shows(browser: &mut Browser, id: &str, within: Duration, check: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + within;
    loop {
        let text = text_of(browser, id).await;
        if check(&text) {
            return;
        }
        assert!(Instant::now() < deadline, "#{id} still says {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The restart count the page shows for `actor`.
async fn restarts_shown(browser: &mut Browser, actor: &str) -> Option<String> {
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
async fn the_dashboard_lists_every_actor_and_shows_a_crash_live_in_chromium() {
    scenario(Kind::Chromium).await;
}

#[tokio::test]
async fn the_dashboard_lists_every_actor_and_shows_a_crash_live_in_firefox() {
    scenario(Kind::Firefox).await;
}

/// The scenario in `kind`; skips, saying so, when that browser is not installed.
async fn scenario(kind: Kind) {
    let mut browser = match Browser::start(kind).await {
        Ok(browser) => browser,
        Err(missing) => {
            eprintln!(
                "SKIPPED the_dashboard_lists_every_actor_and_shows_a_crash_live_in_{}: {missing} \
                 is not installed (scripts/test.sh installs it)",
                kind.name()
            );
            return;
        }
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

    let origin = server.base.trim_end_matches("/api/v1");
    browser.open(&format!("{origin}/ops")).await;
    browser.type_into("#token", &admin).await;
    browser.click("#login-button").await;

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut shown = listed(&mut browser).await;
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
        restarts_shown(&mut browser, "analytics").await.as_deref(),
        Some("0")
    );

    browser
        .click("tr[data-actor=\"analytics\"] button.crash")
        .await;
    browser.accept_dialog().await;
    let crashed_at = Instant::now();
    loop {
        if restarts_shown(&mut browser, "analytics").await.as_deref() == Some("1") {
            break;
        }
        if crashed_at.elapsed() > VISIBLE_WITHIN {
            browser.screenshot(&artefact(kind, "-failed")).await;
            panic!(
                "the page still shows {:?} restarts after {VISIBLE_WITHIN:?}",
                restarts_shown(&mut browser, "analytics").await
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let same_page = browser
        .run("return window.__notReloaded === true;", json!([]))
        .await;
    assert_eq!(same_page, true, "the page was reloaded");
    let problems = text_of(&mut browser, "problems").await;
    assert!(problems.contains("actor analytics restarted"), "{problems}");
    browser.screenshot(&artefact(kind, "")).await;

    // The chaos panel starts a scenario through the same route, and shows it run and end.
    browser
        .click("tr[data-scenario=\"smoke\"] button.start")
        .await;
    shows(&mut browser, "chaos-state", VISIBLE_WITHIN * 2, |t| {
        t == "running smoke"
    })
    .await;
    browser.screenshot(&artefact(kind, "-chaos")).await;
    shows(&mut browser, "chaos-run", Duration::from_secs(15), |t| {
        t.starts_with("last run: smoke completed")
    })
    .await;
    let res = server.get_as(&admin, "/ops/chaos").await;
    let chaos: Value = res.json().await.unwrap();
    assert_eq!(chaos["last"]["ended"], "completed", "{chaos}");
}

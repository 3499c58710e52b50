//! `GET /ops`: the operators' live actor-health dashboard, one HTML page with its stylesheet
//! and script embedded in the binary (no build step, no CDN). The page holds no data: it asks
//! for an admin token, keeps it in `sessionStorage` and reads `GET /api/v1/ops/stream` with it
//! in the `Authorization` header, so the page itself can be public while everything it shows
//! is admin only.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

/// The page's policy: its own script, stylesheet and API only; no inline code, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

const HTML: &str = include_str!("dashboard.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// The page's description (public: it holds no data).
#[derive(OpenApi)]
#[openapi(paths(page, script, style))]
pub struct Api;

/// Registers the page and its two assets (outside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ops").get(page))
        .service(web::resource("/ops/dashboard.js").get(script))
        .service(web::resource("/ops/dashboard.css").get(style));
}

/// `GET /ops`: the dashboard page.
#[utoipa::path(get, path = "/ops", tag = "ops", security(()),
    responses((status = 200, description = "The dashboard page.", content_type = "text/html", body = String)))]
async fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", HTML)
}

/// `GET /ops/dashboard.js`: the page's script.
#[utoipa::path(get, path = "/ops/dashboard.js", tag = "ops", security(()),
    responses((status = 200, description = "The page's script.", content_type = "text/javascript", body = String)))]
async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /ops/dashboard.css`: the page's stylesheet.
#[utoipa::path(get, path = "/ops/dashboard.css", tag = "ops", security(()),
    responses((status = 200, description = "The page's stylesheet.", content_type = "text/css", body = String)))]
async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

//! `GET /ops`: the operators' live actor-health dashboard, one HTML page with its stylesheet
//! and script embedded in the binary (no build step, no CDN). The page holds no data: it asks
//! for an admin token, keeps it in `sessionStorage` and reads `GET /api/v1/ops/stream` with it
//! in the `Authorization` header, so the page itself can be public while everything it shows
//! is admin only.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The page's policy: its own script, stylesheet and API only; no inline code, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

const HTML: &str = include_str!("dashboard.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// Registers the page and its two assets (outside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ops").get(|| asset("text/html; charset=utf-8", HTML)))
        .service(
            web::resource("/ops/dashboard.js")
                .get(|| asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .service(
            web::resource("/ops/dashboard.css").get(|| asset("text/css; charset=utf-8", STYLE)),
        );
}

async fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of every route (see [`crate::openapi`]),
//! built once from the route modules' descriptions and served without authentication.

use std::sync::OnceLock;

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpResponse};
use utoipa::openapi::OpenApi as Document;
use utoipa::OpenApi;

/// The document route's own description.
#[derive(OpenApi)]
#[openapi(paths(openapi_json))]
pub struct Api;

/// The whole document, built once.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| crate::openapi::build(super::openapi()))
}

/// The document as served.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| serde_json::to_string(document()).unwrap_or_default())
}

/// `GET /api/v1/openapi.json`: the document (no authentication).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "docs",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(document_json())
}

/// Registers `GET /openapi.json` (under `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/openapi.json").get(openapi_json));
}

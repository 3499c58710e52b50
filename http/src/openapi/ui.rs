//! Swagger UI at `/docs/` (outside `/api/v1`), its files embedded in the binary (the
//! `vendored` build of `utoipa-swagger-ui`), reading [`DOCUMENT_PATH`]. It is the document's
//! viewer, not part of the API, so the document does not describe it.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::DOCUMENT_PATH;

/// Where Swagger UI is served.
pub const UI_PATH: &str = "/docs";
/// Swagger UI's policy: its own scripts and styles (it sets inline styles and data-URI images)
/// and this API only; no framing.
pub const UI_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// Registers Swagger UI at `/docs/` with its own [`UI_CSP`], and `/docs` redirecting there (its
/// page loads its files by relative paths).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let ui = SwaggerUi::new("/{_:.*}").config(Config::new([DOCUMENT_PATH]));
    cfg.service(web::resource(UI_PATH).to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/docs/"))
            .finish()
    }))
    .service(
        web::scope(UI_PATH)
            .wrap(DefaultHeaders::new().add((header::CONTENT_SECURITY_POLICY, UI_CSP)))
            .service(ui),
    );
}

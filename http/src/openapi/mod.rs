//! The OpenAPI 3.1 document of every route, generated from the handlers' `#[utoipa::path]`
//! annotations (each route module has an `Api` listing its handlers and a `PROBLEMS` table of
//! the codes its routes answer beyond the ones every route of its kind shares), assembled by
//! [`build`] and finished by [`problems`] (every problem response with its codes from the
//! catalogue, rate-limit headers); `routes::document` serves it at `GET /api/v1/openapi.json`
//! and Swagger UI ([`ui`]) reads it at `/docs`. The WebSocket and
//! Server-Sent Events messages are schemas in the same document, named by their routes.

pub mod forms;
pub mod problems;
pub mod ui;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

use crate::problem::Code;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
/// The name of the bearer JWT security scheme.
pub const BEARER: &str = "bearer";
/// The role an admin-only operation lists in its security requirement (OpenAPI 3.1 allows role
/// names for non-OAuth schemes).
pub const ADMIN_ROLE: &str = "admin";
/// A route module's extra problem codes: `(operation id, codes)`.
pub type Problems = &'static [(&'static str, &'static [Code])];

/// The document's frame: information and the bearer scheme (required by every operation that
/// does not say otherwise).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "SCALE API",
        description = "The SCALE personal-finance backend. Every error is an RFC 7807 \
            `application/problem+json` body with a stable `code` (each operation lists its codes \
            per status, also as `x-problem-codes`). Users authenticate with a bearer JWT; \
            `/api/v1/ops/*` needs the `admin` role. Rate-limited operations answer with \
            `X-RateLimit-Limit` and `X-RateLimit-Remaining` (and `Retry-After` on 429). Lists \
            page with an opaque `cursor` taken from the previous page's `next_cursor`. The \
            WebSocket `GET /api/v1/ws/jobs` and the Server-Sent Events streams name the schemas \
            of their messages in their descriptions.",
        license(name = "UNLICENSED")
    ),
    security(("bearer" = [])),
    modifiers(&BearerScheme)
)]
struct Frame;

/// Adds the bearer JWT scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Document) {
        let scheme = Http::builder()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "HS256 or RS256 JWT whose `sub` is the user id; `role: admin` for `/ops`.",
            ))
            .build();
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The document of `parts` (each route module's description with its `PROBLEMS`), finished by
/// [`problems::describe`].
pub fn build(parts: Vec<(Document, Problems)>) -> Document {
    let mut doc = Frame::openapi();
    let mut extra = Vec::new();
    for (part, problems) in parts {
        doc.merge(part);
        extra.extend_from_slice(problems);
    }
    problems::describe(&mut doc, &extra);
    doc
}

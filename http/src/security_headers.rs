//! Security headers set on every response (including problems for caught panics): no MIME
//! sniffing, no framing, no referrer, no powerful browser features, a deny-all CSP for API
//! responses (a page that needs more, like `/ops`, sets its own narrower one, which is kept),
//! HSTS in production only, and no `Server` header.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::problem::ApiError;

/// `Strict-Transport-Security`, sent only when HSTS is enabled (production).
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The headers every response carries.
pub const ALWAYS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
];

/// The security headers to send, HSTS included when `hsts`.
fn headers(hsts: bool) -> impl Iterator<Item = (HeaderName, HeaderValue)> {
    let hsts = hsts.then_some((header::STRICT_TRANSPORT_SECURITY, HSTS));
    ALWAYS
        .into_iter()
        .chain(hsts)
        .map(|(name, value)| (name, HeaderValue::from_static(value)))
}

/// Sets the security headers on a response's headers and removes `Server`. A
/// `Content-Security-Policy` the handler set is kept.
pub fn apply(map: &mut HeaderMap, hsts: bool) {
    map.remove(header::SERVER);
    for (name, value) in headers(hsts) {
        if name == header::CONTENT_SECURITY_POLICY && map.contains_key(&name) {
            continue;
        }
        map.insert(name, value);
    }
}

/// Adds the security headers to an error that renders its own response.
pub fn apply_to_error(api: ApiError, hsts: bool) -> ApiError {
    headers(hsts).fold(api, |api, (name, value)| api.with_header(name, value))
}

//! The outermost middleware: gives every request an id (accepted from `X-Request-ID` when sane,
//! else generated), runs it inside a tracing span carrying that id, catches panics, rewrites every
//! error response as problem+json, and adds `X-Request-ID`, `X-Response-Time` and the security
//! headers (see [`crate::security_headers`]). It also writes the access-log line and counts the
//! request in the HTTP metrics, both under the matched route template. When Sentry is enabled,
//! [`tag_sentry_scope`] tags each request's Sentry scope with its id and route.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{ready, Ready};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use scale_monitoring::metrics::{names, status_class};
use tracing::Instrument;

use crate::auth::AuthUser;
use crate::problem::ApiError;
use crate::security_headers;

/// The request-id header, read and echoed.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// How long the server took, e.g. `1.234ms`.
pub const RESPONSE_TIME: HeaderName = HeaderName::from_static("x-response-time");
/// The `route` label of a request no route matched (never the raw path: it is unbounded).
pub const UNMATCHED_ROUTE: &str = "unmatched";
/// The `route` label of a request that failed before its route could be read.
pub const UNKNOWN_ROUTE: &str = "unknown";

/// The id of the current request, in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The middleware factory; wrap it last so it is outermost.
pub struct RequestContext {
    hsts: bool,
}

impl RequestContext {
    /// The middleware; `hsts` adds `Strict-Transport-Security` to every response (production).
    pub fn new(hsts: bool) -> Self {
        Self { hsts }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestContext
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = RequestContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestContextService {
            service: Rc::new(service),
            hsts: self.hsts,
        }))
    }
}

/// The middleware service built by [`RequestContext`].
pub struct RequestContextService<S> {
    service: Rc<S>,
    hsts: bool,
}

impl<S, B> Service<ServiceRequest> for RequestContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let request_id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| is_acceptable_id(id))
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        req.extensions_mut().insert(RequestId(request_id.clone()));
        let method = req.method().to_string();
        let path = req.path().to_owned();
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %method,
            path = %path,
            user_id = tracing::field::Empty,
        );
        let service = self.service.clone();
        let hsts = self.hsts;
        let handled = async move { service.call(req).await };
        Box::pin(
            async move {
                match AssertUnwindSafe(handled).catch_unwind().await {
                    Ok(Ok(res)) => {
                        let mut response = as_problem(res.map_into_boxed_body(), &request_id);
                        finish(&mut response, &request_id, started);
                        security_headers::apply(response.headers_mut(), hsts);
                        Ok(response)
                    }
                    // No request to answer with: return an error that renders itself.
                    Ok(Err(err)) => {
                        let api = err.as_error::<ApiError>().cloned().unwrap_or_else(|| {
                            ApiError::from_status(
                                err.as_response_error().status_code(),
                                Some(err.to_string()),
                            )
                        });
                        let api = security_headers::apply_to_error(api, hsts);
                        Err(unanswered(api, &method, &path, &request_id, started))
                    }
                    Err(payload) => {
                        let reason = payload
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        // Sentry's panic hook has reported it, with its stack trace.
                        tracing::error!(panic = %reason, sentry_breadcrumb = true, "handler panicked");
                        let api = security_headers::apply_to_error(ApiError::internal(), hsts);
                        Err(unanswered(api, &method, &path, &request_id, started))
                    }
                }
            }
            .instrument(span),
        )
    }
}

/// Tags the request's Sentry scope with `request_id` and `route` (the matched template); the
/// caller's `user_id` is added when authenticated (see [`AuthUser::remember`]). Wrap it inside
/// `sentry_actix::Sentry`, which makes that scope, and only when Sentry is enabled.
pub async fn tag_sentry_scope(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
    let route = req.match_pattern();
    sentry::configure_scope(|scope| {
        if let Some(request_id) = request_id {
            scale_monitoring::tag_request(scope, "request_id", &request_id);
        }
        scale_monitoring::tag_request(scope, "route", route.as_deref().unwrap_or(UNMATCHED_ROUTE));
    });
    next.call(req).await
}

/// Turns an error with no response into one that renders the full problem and headers itself.
fn unanswered(
    api: ApiError,
    method: &str,
    path: &str,
    request_id: &str,
    started: Instant,
) -> Error {
    let elapsed = started.elapsed();
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let status = api.status.as_u16();
    // The request went with the error, and with it the route it matched.
    record(method, UNKNOWN_ROUTE, status, elapsed);
    tracing::error!(
        request_id,
        method,
        path,
        route = UNKNOWN_ROUTE,
        status,
        duration_ms,
        sentry_breadcrumb = true,
        "request failed"
    );
    let mut api = api.for_request(path, request_id);
    if let Ok(value) = HeaderValue::from_str(request_id) {
        api = api.with_header(REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{duration_ms:.3}ms")) {
        api = api.with_header(RESPONSE_TIME, value);
    }
    api.into()
}

/// Accepts client ids of 1–128 characters from `[A-Za-z0-9._:-]`; anything else is replaced.
fn is_acceptable_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Rewrites a 4xx/5xx response as problem+json, keeping its headers (e.g. `Allow`).
fn as_problem(res: ServiceResponse<BoxBody>, request_id: &str) -> ServiceResponse<BoxBody> {
    if !res.status().is_client_error() && !res.status().is_server_error() {
        return res;
    }
    let (req, response) = res.into_parts();
    let api = match response.error() {
        Some(err) => err
            .as_error::<ApiError>()
            .cloned()
            .unwrap_or_else(|| ApiError::from_status(response.status(), Some(err.to_string()))),
        None => ApiError::from_status(response.status(), None),
    };
    let mut problem = api.to_response(req.path(), request_id);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !problem.headers().contains_key(name)
        {
            problem.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, problem)
}

/// Adds the id and timing headers and writes the access-log line.
fn finish(res: &mut ServiceResponse<BoxBody>, request_id: &str, started: Instant) {
    let elapsed = started.elapsed();
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("{duration_ms:.3}ms")) {
        headers.insert(RESPONSE_TIME, value);
    }
    let req = res.request();
    let user_id = user_of(req);
    let status = res.status().as_u16();
    let route = req.match_pattern();
    let route = route.as_deref().unwrap_or(UNMATCHED_ROUTE);
    record(req.method().as_str(), route, status, elapsed);
    if res.status().is_server_error() {
        // Sentry's middleware captures the error itself, with the request's tags.
        tracing::error!(request_id, user_id, method = %req.method(), path = req.path(), route, status, duration_ms, sentry_breadcrumb = true, "request failed");
    } else {
        tracing::info!(request_id, user_id, method = %req.method(), path = req.path(), route, status, duration_ms, "request completed");
    }
}

/// The request counter and duration histogram of one method, route template and status class.
struct RequestSeries {
    method: String,
    class: &'static str,
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

thread_local! {
    /// Each worker's series, by route template: resolved from the recorder once, so a request
    /// pays no label allocation or registry lookup. Bounded by routes × methods × classes.
    static SERIES: RefCell<HashMap<String, Vec<RequestSeries>>> = RefCell::new(HashMap::new());
}

/// Counts the request and its duration under its method, route template and status class.
fn record(method: &str, route: &str, status: u16, elapsed: Duration) {
    let class = status_class(status);
    SERIES.with_borrow_mut(|series| {
        if !series.contains_key(route) {
            series.insert(route.to_owned(), Vec::new());
        }
        let Some(by_route) = series.get_mut(route) else {
            return;
        };
        let index = match by_route
            .iter()
            .position(|s| s.class == class && s.method == method)
        {
            Some(index) => index,
            None => {
                let labels = [
                    ("method", method.to_owned()),
                    ("route", route.to_owned()),
                    ("status", class.to_owned()),
                ];
                by_route.push(RequestSeries {
                    method: method.to_owned(),
                    class,
                    requests: metrics::counter!(names::HTTP_REQUESTS, &labels),
                    duration: metrics::histogram!(names::HTTP_DURATION, &labels),
                });
                by_route.len() - 1
            }
        };
        let series = &by_route[index];
        series.requests.increment(1);
        series.duration.record(elapsed.as_secs_f64());
    });
}

fn user_of(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<AuthUser>().map(|u| u.id.to_string())
}

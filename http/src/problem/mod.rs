//! RFC 7807 problem details. Handlers fail with [`ApiError`]; the request-context middleware
//! turns every 4xx/5xx response (ours, actix's, or a caught panic) into
//! `application/problem+json` carrying `instance`, `request_id` and a stable `code` from the
//! catalogue in [`codes`]; [`mapping`] turns every domain's error into a problem.

pub mod codes;
pub mod mapping;

pub use codes::Code;

use actix_web::body::BoxBody;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};

/// `Retry-After` (seconds) of a `database_unavailable` answer.
pub const DATABASE_RETRY_AFTER_SECS: u32 = 2;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered as problem+json: HTTP status, stable machine `code`, human `detail`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {detail}", code.as_str())]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code clients can branch on.
    pub code: Code,
    /// What went wrong, for people.
    pub detail: String,
    extras: Option<Box<Extras>>,
}

/// The rarely used parts of an [`ApiError`], boxed to keep `Result<_, ApiError>` small.
#[derive(Debug, Clone, Default)]
struct Extras {
    extensions: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
    request: Option<(String, String)>,
}

impl ApiError {
    /// An error with the given status, code and detail. The status must be the one the code's
    /// catalogue entry gives (checked in debug builds, so every test checks the catalogue).
    pub fn new(status: StatusCode, code: Code, detail: impl Into<String>) -> Self {
        debug_assert!(
            code.status().is_none_or(|s| s == status.as_u16()),
            "{} answered with {status}, the catalogue says {:?}",
            code.as_str(),
            code.status()
        );
        Self {
            status,
            code,
            detail: detail.into(),
            extras: None,
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: Code, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401 with `code` and a `WWW-Authenticate: Bearer` challenge.
    pub fn unauthorized(code: Code, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, Code::Forbidden, detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::NotFound, detail)
    }

    /// 500 `internal_error`; the cause belongs in logs, never in the body.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::InternalError,
            "An unexpected error occurred",
        )
    }

    /// Adds a member to the problem object (RFC 7807 extension).
    pub fn with_extension(mut self, key: &str, value: Value) -> Self {
        self.extras().extensions.insert(key.to_owned(), value);
        self
    }

    /// Adds a response header (e.g. `Retry-After`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extras().headers.push((name, value));
        self
    }

    /// Binds the error to a request (`instance` path and id) for when it must be answered
    /// without the request at hand (a caught panic).
    pub fn for_request(mut self, instance: &str, request_id: &str) -> Self {
        self.extras().request = Some((instance.to_owned(), request_id.to_owned()));
        self
    }

    fn extras(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// The error for a status that carries no [`ApiError`] (actix's own 404/405/413…). Server
    /// errors never expose `cause`.
    pub fn from_status(status: StatusCode, cause: Option<String>) -> Self {
        let code = match status.as_u16() {
            400 => Code::BadRequest,
            401 => Code::Unauthorized,
            403 => Code::Forbidden,
            404 => Code::NotFound,
            405 => Code::MethodNotAllowed,
            408 => Code::RequestTimeout,
            409 => Code::Conflict,
            413 => Code::PayloadTooLarge,
            415 => Code::UnsupportedMediaType,
            422 => Code::Validation,
            429 => Code::RateLimited,
            503 => Code::ServiceUnavailable,
            504 => Code::GatewayTimeout,
            _ if status.is_server_error() => {
                return Self::new(status, Code::InternalError, "An unexpected error occurred")
            }
            _ => Code::ClientError,
        };
        let detail = cause
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
        Self::new(status, code, detail)
    }

    /// The problem document for a request to `instance` with id `request_id`.
    pub fn problem(&self, instance: &str, request_id: &str) -> Value {
        let mut body = Map::new();
        body.insert(
            "type".into(),
            format!("urn:scale:problem:{}", self.code.as_str()).into(),
        );
        body.insert(
            "title".into(),
            self.status.canonical_reason().unwrap_or("Error").into(),
        );
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.clone().into());
        body.insert("instance".into(), instance.into());
        body.insert("request_id".into(), request_id.into());
        body.insert("code".into(), self.code.as_str().into());
        for (key, value) in self.extras.iter().flat_map(|e| &e.extensions) {
            body.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(body)
    }

    /// The complete response for this error.
    pub fn to_response(&self, instance: &str, request_id: &str) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(self.status);
        response.content_type(PROBLEM_JSON);
        for (name, value) in self.extras.iter().flat_map(|e| &e.headers) {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(self.problem(instance, request_id).to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// Uses the request bound by [`ApiError::for_request`]; otherwise the request-context
    /// middleware rewrites the body with `instance` and `request_id`.
    fn error_response(&self) -> HttpResponse<BoxBody> {
        let (instance, request_id) = self
            .extras
            .as_ref()
            .and_then(|e| e.request.clone())
            .unwrap_or_default();
        self.to_response(&instance, &request_id)
    }
}

/// Problem details for an error body payload (`web::Json`).
pub fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                err.to_string(),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "Expected a body with Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::Validation,
            e.to_string(),
        ),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(Code::MalformedJson, format!("Malformed JSON: {e}"))
        }
        _ => ApiError::bad_request(Code::BadRequest, err.to_string()),
    };
    api.into()
}

/// Problem details for a query string that does not fit the handler.
pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    invalid_query(err).into()
}

/// 400 `invalid_query`: the query string does not fit (for handlers that read it themselves).
pub fn invalid_query(err: QueryPayloadError) -> ApiError {
    ApiError::bad_request(Code::InvalidQuery, err.to_string())
}

/// Problem details for a path segment that does not fit the handler (e.g. a bad UUID).
pub fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("No such resource: {err}")).into()
}

/// Serialises any value as a JSON problem extension.
pub fn extension<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

//! Every stable `code` the API answers with, in problem+json bodies and in WebSocket `error`
//! messages. A code exists only here, so the catalogue is complete by construction, and a test
//! fails when one is missing from `docs/api.md`.

/// Declares [`Code`] and its catalogue from one list of `Variant => "text" (status): "meaning"`,
/// where the status is the HTTP status the code is answered with, or `-` for codes that are never
/// an HTTP answer (WebSocket messages) or answer with several (`client_error`).
macro_rules! codes {
    (@status -) => { None };
    (@status $status:literal) => { Some($status) };
    ($($variant:ident => $text:literal ($($status:tt)+): $meaning:literal,)*) => {
        /// A stable snake_case error code clients can branch on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $meaning] $variant,)*
        }

        impl Code {
            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as clients see it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The HTTP status every answer with this code has; `None` for WebSocket-only codes
            /// and `client_error` (any other 4xx).
            pub fn status(self) -> Option<u16> {
                match self {
                    $(Code::$variant => codes!(@status $($status)+),)*
                }
            }

            /// What the code means, for people.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)*
                }
            }
        }
    };
}

codes! {
    // Requests and their bodies.
    BadRequest => "bad_request" (400): "The request is malformed.",
    MalformedMultipart => "malformed_multipart" (400): "The multipart body cannot be read.",
    Validation => "validation" (422): "A parameter or body field is out of range or malformed.",
    MalformedJson => "malformed_json" (400): "The body is not the JSON the route expects.",
    InvalidQuery => "invalid_query" (400): "The query string cannot be read.",
    InvalidLastEventId => "invalid_last_event_id" (400): "`Last-Event-ID` is not an event number.",
    InvalidCursor => "invalid_cursor" (400): "The pagination cursor was not issued by us or was altered.",
    NotFound => "not_found" (404): "No such route, or no such row for the caller.",
    MethodNotAllowed => "method_not_allowed" (405): "The route does not accept this method.",
    RequestTimeout => "request_timeout" (408): "The request took too long to arrive.",
    Conflict => "conflict" (409): "The request conflicts with the current state.",
    PayloadTooLarge => "payload_too_large" (413): "The body is over its size limit.",
    UnsupportedMediaType => "unsupported_media_type" (415): "The body's content type is not accepted.",
    ClientError => "client_error" (-): "Any other 4xx answer.",
    // Authentication and authorisation.
    Unauthorized => "unauthorized" (401): "Authentication is required.",
    MissingCredentials => "missing_credentials" (401): "No `Authorization: Bearer` header.",
    MissingToken => "missing_token" (401): "The bearer token is empty.",
    MalformedToken => "malformed_token" (401): "The bearer token is not a JWT.",
    TokenExpired => "token_expired" (401): "The bearer token has expired.",
    InvalidSignature => "invalid_signature" (401): "The bearer token's signature is invalid.",
    UnknownKey => "unknown_key" (401): "The bearer token was signed by an unknown key.",
    UnsupportedAlgorithm => "unsupported_algorithm" (401): "The bearer token's algorithm is refused.",
    InvalidClaims => "invalid_claims" (401): "The bearer token's claims are missing or invalid.",
    Forbidden => "forbidden" (403): "The caller may not do this (e.g. not an admin).",
    RateLimited => "rate_limited" (429): "Too many requests in the window; see `Retry-After`.",
    // Ingestion.
    UnsupportedFileType => "unsupported_file_type" (400): "The file's extension is not accepted.",
    FileTooLarge => "file_too_large" (413): "The file is over a size or row limit.",
    PasswordRequired => "password_required" (400): "The workbook is encrypted: send its password.",
    InvalidPassword => "invalid_password" (400): "The password does not open the workbook.",
    UnsupportedEncryption => "unsupported_encryption" (400): "The workbook's encryption is not supported.",
    UnreadableFile => "unreadable_file" (400): "The file is corrupt, truncated or not what its name says.",
    NoHeaderRow => "no_header_row" (400): "No row names a date, a description and an amount.",
    FileAlreadyImported => "file_already_imported" (409): "This exact file was imported before.",
    UploadInProgress => "upload_in_progress" (409): "A chunked upload of this file is still open.",
    ChunkMismatch => "chunk_mismatch" (409): "The chunk disagrees with its open upload (count or rows).",
    UploadRestarted => "upload_restarted" (409): "The upload was started over meanwhile; send the request again.",
    // Accounts and training.
    EmailTaken => "email_taken" (409): "The e-mail address belongs to another user.",
    JobActive => "job_active" (409): "An active job of this kind already exists.",
    JobFinished => "job_finished" (409): "The job has already finished.",
    // Forecasting.
    ForecastTimeout => "forecast_timeout" (503): "Fitting the forecast on request took too long; see `Retry-After`.",
    // The service's own state.
    InternalError => "internal_error" (500): "An unexpected error (the cause is logged).",
    DatabaseUnavailable => "database_unavailable" (503): "Postgres cannot be reached; see `Retry-After`.",
    ServiceUnavailable => "service_unavailable" (503): "Any other 503 answer.",
    GatewayTimeout => "gateway_timeout" (504): "Any other 504 answer.",
    NotReady => "not_ready" (503): "Readiness: Postgres is down or an actor escalated.",
    ActorCrashed => "actor_crashed" (500): "The actor panicked handling the request; it restarts.",
    ActorEscalated => "actor_escalated" (503): "The actor restarted too often and is stopped.",
    ActorTimeout => "actor_timeout" (504): "The actor did not answer in time.",
    ActorUnavailable => "actor_unavailable" (503): "The actor's mailbox is closed.",
    // WebSocket messages (`{"type":"error","code":…}`).
    WebsocketUpgradeRequired => "websocket_upgrade_required" (400): "The route needs a WebSocket upgrade.",
    AuthRequired => "auth_required" (-): "The WebSocket must authenticate first.",
    UserMismatch => "user_mismatch" (-): "A re-authentication named another user.",
    InvalidMessage => "invalid_message" (-): "The WebSocket message cannot be read.",
    TooManySubscriptions => "too_many_subscriptions" (-): "The connection watches too many jobs.",
    JobNotFound => "job_not_found" (-): "No such job of the caller's.",
    Unavailable => "unavailable" (-): "The job cannot be checked right now; retry.",
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
        }
    }

    #[test]
    fn every_code_is_documented_in_the_api_reference() {
        let docs = include_str!("../../../docs/api.md");
        let missing: Vec<&str> = Code::ALL
            .iter()
            .map(|code| code.as_str())
            .filter(|text| !docs.contains(&format!("`{text}`")))
            .collect();
        assert!(missing.is_empty(), "not in docs/api.md: {missing:?}");
    }
}

//! Every stable `code` the API answers with, in problem+json bodies and in WebSocket `error`
//! messages. A code exists only here, so the catalogue is complete by construction, and a test
//! fails when one is missing from `docs/api.md`.

/// Declares [`Code`] and its catalogue from one list of `Variant => "text": "meaning"`.
macro_rules! codes {
    ($($variant:ident => $text:literal: $meaning:literal,)*) => {
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
        }
    };
}

codes! {
    // Requests and their bodies.
    BadRequest => "bad_request": "The request is malformed.",
    MalformedMultipart => "malformed_multipart": "The multipart body cannot be read.",
    Validation => "validation": "A parameter or body field is out of range or malformed.",
    MalformedJson => "malformed_json": "The body is not the JSON the route expects.",
    InvalidQuery => "invalid_query": "The query string cannot be read.",
    InvalidLastEventId => "invalid_last_event_id": "`Last-Event-ID` is not an event number.",
    InvalidCursor => "invalid_cursor": "The pagination cursor was not issued by us or was altered.",
    NotFound => "not_found": "No such route, or no such row for the caller.",
    MethodNotAllowed => "method_not_allowed": "The route does not accept this method.",
    RequestTimeout => "request_timeout": "The request took too long to arrive.",
    Conflict => "conflict": "The request conflicts with the current state.",
    PayloadTooLarge => "payload_too_large": "The body is over its size limit.",
    UnsupportedMediaType => "unsupported_media_type": "The body's content type is not accepted.",
    ClientError => "client_error": "Any other 4xx answer.",
    // Authentication and authorisation.
    Unauthorized => "unauthorized": "Authentication is required.",
    MissingCredentials => "missing_credentials": "No `Authorization: Bearer` header.",
    MissingToken => "missing_token": "The bearer token is empty.",
    MalformedToken => "malformed_token": "The bearer token is not a JWT.",
    TokenExpired => "token_expired": "The bearer token has expired.",
    InvalidSignature => "invalid_signature": "The bearer token's signature is invalid.",
    UnknownKey => "unknown_key": "The bearer token was signed by an unknown key.",
    UnsupportedAlgorithm => "unsupported_algorithm": "The bearer token's algorithm is refused.",
    InvalidClaims => "invalid_claims": "The bearer token's claims are missing or invalid.",
    Forbidden => "forbidden": "The caller may not do this (e.g. not an admin).",
    RateLimited => "rate_limited": "Too many requests in the window; see `Retry-After`.",
    // Ingestion.
    UnsupportedFileType => "unsupported_file_type": "The file's extension is not accepted.",
    FileTooLarge => "file_too_large": "The file is over a size or row limit.",
    PasswordRequired => "password_required": "The workbook is encrypted: send its password.",
    InvalidPassword => "invalid_password": "The password does not open the workbook.",
    UnsupportedEncryption => "unsupported_encryption": "The workbook's encryption is not supported.",
    UnreadableFile => "unreadable_file": "The file is corrupt, truncated or not what its name says.",
    NoHeaderRow => "no_header_row": "No row names a date, a description and an amount.",
    FileAlreadyImported => "file_already_imported": "This exact file was imported before.",
    UploadInProgress => "upload_in_progress": "A chunked upload of this file is still open.",
    ChunkMismatch => "chunk_mismatch": "The chunk disagrees with its open upload (count or rows).",
    UploadRestarted => "upload_restarted": "The upload was started over meanwhile; send the request again.",
    // Accounts and training.
    EmailTaken => "email_taken": "The e-mail address belongs to another user.",
    JobActive => "job_active": "An active job of this kind already exists.",
    JobFinished => "job_finished": "The job has already finished.",
    // Forecasting.
    ForecastTimeout => "forecast_timeout": "Fitting the forecast on request took too long; see `Retry-After`.",
    // The service's own state.
    InternalError => "internal_error": "An unexpected error (the cause is logged).",
    DatabaseUnavailable => "database_unavailable": "Postgres cannot be reached; see `Retry-After`.",
    ServiceUnavailable => "service_unavailable": "Any other 503 answer.",
    GatewayTimeout => "gateway_timeout": "Any other 504 answer.",
    NotReady => "not_ready": "Readiness: Postgres is down or an actor escalated.",
    ActorCrashed => "actor_crashed": "The actor panicked handling the request; it restarts.",
    ActorEscalated => "actor_escalated": "The actor restarted too often and is stopped.",
    ActorTimeout => "actor_timeout": "The actor did not answer in time.",
    ActorUnavailable => "actor_unavailable": "The actor's mailbox is closed.",
    // WebSocket messages (`{"type":"error","code":…}`).
    WebsocketUpgradeRequired => "websocket_upgrade_required": "The route needs a WebSocket upgrade.",
    AuthRequired => "auth_required": "The WebSocket must authenticate first.",
    UserMismatch => "user_mismatch": "A re-authentication named another user.",
    InvalidMessage => "invalid_message": "The WebSocket message cannot be read.",
    TooManySubscriptions => "too_many_subscriptions": "The connection watches too many jobs.",
    JobNotFound => "job_not_found": "No such job of the caller's.",
    Unavailable => "unavailable": "The job cannot be checked right now; retry.",
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

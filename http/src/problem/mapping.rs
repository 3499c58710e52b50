//! The one place where a domain's error becomes a problem: the failures every domain shares
//! ([`CoreError`]) map the same way everywhere, each domain adds its own, and a database
//! failure's cause goes to the logs (and Sentry) with its whole chain, never to the client.

use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use scale_actors::accounts::AccountsError;
use scale_actors::categorization::discovery::DiscoveryError;
use scale_actors::error::CoreError;
use scale_actors::forecasting::service::ForecastError;
use scale_actors::ingest::IngestError;
use scale_actors::training::TrainingError;
use scale_schema::DbFailure;
use scale_statements::error::StatementError;
use scale_statements::text::TextError;
use scale_supervision::ActorError;
use serde_json::json;

use super::{ApiError, Code, DATABASE_RETRY_AFTER_SECS};

/// `Retry-After` of a forecast that could not be fitted in time.
const FORECAST_RETRY_AFTER_SECS: u32 = 5;

impl ApiError {
    /// 422 `validation`.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, Code::Validation, detail)
    }

    /// 503 `database_unavailable` with `Retry-After`: Postgres cannot be reached right now.
    pub fn database_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::DatabaseUnavailable,
            "The database is unavailable; retry later",
        )
        .with_header(RETRY_AFTER, HeaderValue::from(DATABASE_RETRY_AFTER_SECS))
    }

    /// The answer to a failed database operation of `domain`: 503 `database_unavailable` when
    /// Postgres could not be reached, else 500 (the cause is logged, never shown).
    pub fn from_db(domain: &str, failure: &DbFailure) -> Self {
        // The failure's message carries its cause. Recorded as an error value instead, Sentry's
        // tracing layer would capture a stack trace on every call: hundreds of milliseconds
        // per request while Postgres is down (the e2e outage test catches it).
        if failure.is_unavailable() {
            tracing::warn!(%failure, domain, "database unavailable");
            Self::database_unavailable()
        } else {
            tracing::error!(%failure, domain, "database error");
            Self::internal()
        }
    }

    /// A failure every domain shares, from `domain`.
    fn core(domain: &str, err: CoreError) -> Self {
        let detail = err.to_string();
        match err {
            CoreError::NotFound(_) => Self::not_found(detail),
            CoreError::Validation(_) => Self::validation(detail),
            CoreError::InvalidCursor(_) => Self::bad_request(Code::InvalidCursor, detail),
            CoreError::Database(failure) => Self::from_db(domain, &failure),
        }
    }
}

/// A failed actor call: a crash is a 500, an escalated or closed actor 503, a timeout 504.
impl From<ActorError> for ApiError {
    fn from(err: ActorError) -> Self {
        let (status, code) = match &err {
            ActorError::Panicked { .. } => (StatusCode::INTERNAL_SERVER_ERROR, Code::ActorCrashed),
            ActorError::Escalated { .. } => (StatusCode::SERVICE_UNAVAILABLE, Code::ActorEscalated),
            ActorError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, Code::ActorTimeout),
            ActorError::Unavailable { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, Code::ActorUnavailable)
            }
        };
        ApiError::new(status, code, err.to_string())
    }
}

impl From<TextError> for ApiError {
    fn from(err: TextError) -> Self {
        ApiError::validation(err.to_string())
    }
}

/// Analytics fails only with the shared failures.
impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        ApiError::core("analytics", err)
    }
}

impl From<AccountsError> for ApiError {
    fn from(err: AccountsError) -> Self {
        match err {
            AccountsError::Core(core) => ApiError::core("accounts", core),
            AccountsError::EmailTaken => {
                ApiError::new(StatusCode::CONFLICT, Code::EmailTaken, err.to_string())
            }
        }
    }
}

impl From<TrainingError> for ApiError {
    fn from(err: TrainingError) -> Self {
        let detail = err.to_string();
        match err {
            TrainingError::Core(core) => ApiError::core("training", core),
            TrainingError::Conflict(id) => {
                ApiError::new(StatusCode::CONFLICT, Code::JobActive, detail)
                    .with_extension("job_id", json!(id))
            }
            TrainingError::Finished => {
                ApiError::new(StatusCode::CONFLICT, Code::JobFinished, detail)
            }
        }
    }
}

impl From<DiscoveryError> for ApiError {
    fn from(err: DiscoveryError) -> Self {
        match err {
            DiscoveryError::Core(core) => ApiError::core("categorization", core),
            DiscoveryError::NoDescriptions
            | DiscoveryError::NothingToReview
            | DiscoveryError::TooFew(_) => ApiError::bad_request(Code::BadRequest, err.to_string()),
        }
    }
}

impl From<ForecastError> for ApiError {
    fn from(err: ForecastError) -> Self {
        let detail = err.to_string();
        match err {
            ForecastError::Core(core) => ApiError::core("forecasting", core),
            ForecastError::TimedOut => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::ForecastTimeout,
                detail,
            )
            .with_header(RETRY_AFTER, HeaderValue::from(FORECAST_RETRY_AFTER_SECS)),
            ForecastError::Failed(_) => {
                tracing::error!(%detail, "forecast failed");
                ApiError::internal()
            }
        }
    }
}

impl From<StatementError> for ApiError {
    fn from(err: StatementError) -> Self {
        let detail = err.to_string();
        let code = match err {
            StatementError::UnsupportedFileType(_) => Code::UnsupportedFileType,
            StatementError::TooLarge(_) => {
                return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, Code::FileTooLarge, detail)
            }
            StatementError::PasswordRequired => Code::PasswordRequired,
            StatementError::InvalidPassword => Code::InvalidPassword,
            StatementError::UnsupportedEncryption(_) => Code::UnsupportedEncryption,
            StatementError::Unreadable(_) => Code::UnreadableFile,
            StatementError::NoHeaderRow => Code::NoHeaderRow,
            StatementError::Validation(_) => return ApiError::validation(detail),
        };
        ApiError::bad_request(code, detail)
    }
}

impl From<IngestError> for ApiError {
    fn from(err: IngestError) -> Self {
        let detail = err.to_string();
        match err {
            IngestError::Core(core) => ApiError::core("ingest", core),
            IngestError::Statement(err) => err.into(),
            IngestError::FileAlreadyImported { uploaded_file_id } => ApiError::new(
                StatusCode::CONFLICT,
                Code::FileAlreadyImported,
                format!("{detail}; repeat with ?force=true to import it again"),
            )
            .with_extension("uploaded_file_id", json!(uploaded_file_id)),
            IngestError::UploadInProgress {
                uploaded_file_id,
                chunks_received,
                chunks_expected,
            } => ApiError::new(
                StatusCode::CONFLICT,
                Code::UploadInProgress,
                format!(
                    "{detail}; send the remaining chunks, or repeat with ?force=true to import \
                     the file whole"
                ),
            )
            .with_extension("uploaded_file_id", json!(uploaded_file_id))
            .with_extension("chunks_received", json!(chunks_received))
            .with_extension("chunks_expected", json!(chunks_expected)),
            IngestError::ChunkMismatch {
                uploaded_file_id, ..
            } => ApiError::new(StatusCode::CONFLICT, Code::ChunkMismatch, detail)
                .with_extension("uploaded_file_id", json!(uploaded_file_id)),
            IngestError::UploadRestarted => {
                ApiError::new(StatusCode::CONFLICT, Code::UploadRestarted, detail)
            }
            // The import route answers this with its own charge's 429 and headers.
            IngestError::NotAdmitted => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, Code::RateLimited, detail)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use scale_schema::failure::Cause;

    use super::*;

    #[test]
    fn an_unreachable_database_is_503_with_retry_after_and_a_failed_query_500() {
        let down = ApiError::from_db("test", &DbFailure::Unavailable(Cause::message("refused")));
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.code, Code::DatabaseUnavailable);
        let response = down.error_response();
        assert_eq!(response.headers().get(RETRY_AFTER).unwrap(), "2");
        let failed = ApiError::from_db("test", &DbFailure::query("syntax error"));
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!failed.detail.contains("syntax"));
    }

    #[test]
    fn the_shared_failures_map_the_same_way_in_every_domain() {
        let cases = [
            (CoreError::NotFound("job"), 404, Code::NotFound),
            (CoreError::invalid("bad"), 422, Code::Validation),
            (
                CoreError::InvalidCursor("x".into()),
                400,
                Code::InvalidCursor,
            ),
            (
                CoreError::Database(DbFailure::query("boom")),
                500,
                Code::InternalError,
            ),
        ];
        for (core, status, code) in cases {
            for err in [
                ApiError::from(core.clone()),
                ApiError::from(AccountsError::Core(core.clone())),
                ApiError::from(TrainingError::Core(core.clone())),
                ApiError::from(IngestError::Core(core.clone())),
            ] {
                assert_eq!((err.status.as_u16(), err.code), (status, code), "{core:?}");
            }
        }
    }
}
